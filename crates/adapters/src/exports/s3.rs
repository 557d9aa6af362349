//! The exports bucket: one S3 multipart upload per job, under `<seller>/<id>.csv` (the template
//! grants the worker put / abort / list-parts on that bucket's objects only).
//!
//! Errors S3 answers as the caller's fault (no such bucket or upload, access denied, a part too
//! small) are [`SinkError::Refused`]: the job fails and the upload is aborted. Throttling,
//! network errors and 5xx are [`SinkError::Transient`]: the step is retried from the last
//! recorded part.

use async_trait::async_trait;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use leenkies_domain::export::{ExportSink, SinkError, UploadedPart};

#[derive(Debug, Clone)]
pub struct S3Sink {
    client: Client,
    bucket: String,
}

/// The S3 client of a function: the SDK's configuration, path-style addressing when asked
/// (`S3_FORCE_PATH_STYLE`, for a stand-in on one host).
pub fn client(sdk: &aws_config::SdkConfig, force_path_style: bool) -> Client {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(force_path_style)
        .build();
    Client::from_conf(config)
}

impl S3Sink {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }
}

fn classify<E, R>(e: SdkError<E, R>) -> SinkError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    let status = match &e {
        SdkError::ServiceError(s) => Some(format!("{:?}", s.raw())),
        _ => None,
    };
    let code = e.code().unwrap_or_default().to_owned();
    let text = DisplayErrorContext(&e).to_string();
    let transient = matches!(e, SdkError::TimeoutError(_) | SdkError::DispatchFailure(_))
        || matches!(
            code.as_str(),
            "SlowDown" | "InternalError" | "ServiceUnavailable" | "RequestTimeout" | "Throttling"
        )
        || status.is_some_and(|s| s.contains("status: 5"));
    if transient {
        SinkError::Transient(text)
    } else {
        SinkError::Refused(text)
    }
}

#[async_trait]
impl ExportSink for S3Sink {
    async fn start(&self, key: &str) -> Result<String, SinkError> {
        let out = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type("text/csv; charset=utf-8")
            .content_disposition("attachment; filename=\"orders.csv\"")
            .send()
            .await
            .map_err(classify)?;
        out.upload_id
            .ok_or_else(|| SinkError::Refused("S3 answered no upload id".into()))
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u32,
        _offset: u64,
        bytes: Vec<u8>,
    ) -> Result<String, SinkError> {
        let number =
            i32::try_from(number).map_err(|_| SinkError::Refused("too many parts".into()))?;
        let out = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(classify)?;
        out.e_tag
            .ok_or_else(|| SinkError::Refused("S3 answered no ETag".into()))
    }

    async fn complete(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[UploadedPart],
    ) -> Result<(), SinkError> {
        let mut done = CompletedMultipartUpload::builder();
        for part in parts {
            done = done.parts(
                CompletedPart::builder()
                    .part_number(part.number as i32)
                    .e_tag(&part.etag)
                    .build(),
            );
        }
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(done.build())
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn abort(&self, key: &str, upload_id: &str) -> Result<(), SinkError> {
        self.client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}
