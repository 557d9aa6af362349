//! The local runner's export sink: the file `<folder>/<key>` (`<seller>/<id>.csv`), written part
//! by part at the offset the job recorded. A part uploaded again (a resumed job) first truncates
//! the file to that offset, so whatever a crash left after the last recorded part is dropped and
//! no row is doubled.

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use leenkies_domain::export::{ExportSink, SinkError, UploadedPart};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
pub struct FolderSink {
    dir: PathBuf,
}

impl FolderSink {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The file of a key (keys are `<seller>/<id>.csv`, built by the domain from checked ids).
    pub fn path_of(&self, key: &str) -> PathBuf {
        self.dir.join(key)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn io(e: std::io::Error) -> SinkError {
    // A full or read-only disk does not heal by retrying this step: the job fails clearly.
    SinkError::Refused(e.to_string())
}

#[async_trait]
impl ExportSink for FolderSink {
    async fn start(&self, key: &str) -> Result<String, SinkError> {
        let path = self.path_of(key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::File::create(&path).map_err(io)?;
        Ok(format!("local:{key}"))
    }

    async fn upload_part(
        &self,
        key: &str,
        _upload_id: &str,
        _number: u32,
        offset: u64,
        bytes: Vec<u8>,
    ) -> Result<String, SinkError> {
        let path = self.path_of(key);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(|e| SinkError::Refused(format!("the upload is gone: {e}")))?;
        file.set_len(offset).map_err(io)?;
        file.seek(SeekFrom::Start(offset)).map_err(io)?;
        file.write_all(&bytes).map_err(io)?;
        file.sync_data().map_err(io)?;
        Ok(hex::encode(&Sha256::digest(&bytes)[..16]))
    }

    async fn complete(
        &self,
        _key: &str,
        _upload_id: &str,
        _parts: &[UploadedPart],
    ) -> Result<(), SinkError> {
        Ok(())
    }

    async fn abort(&self, key: &str, _upload_id: &str) -> Result<(), SinkError> {
        match std::fs::remove_file(self.path_of(key)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(e)),
        }
    }
}
