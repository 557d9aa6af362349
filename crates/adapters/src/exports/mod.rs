//! Where export jobs write their CSV (`leenkies_domain::export::ExportSink`):
//!
//! - [`s3`]: an S3 multipart upload (AWS; moto in tests);
//! - [`folder`]: `<folder>/<seller>/<id>.csv` on disk, in the same parts (the local runner).

pub mod folder;
pub mod s3;
