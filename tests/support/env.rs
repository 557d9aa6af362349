//! The local stand-ins the test command starts. Tests that need one and do not find it fail
//! with a clear message (they never pass silently), unless explicitly told to skip.

/// DynamoDB Local's URL from `DYNAMODB_ENDPOINT`; `None` only when `LEENKIES_SKIP_DYNAMODB=1`.
pub fn dynamodb_endpoint() -> Option<String> {
    required(
        "DYNAMODB_ENDPOINT",
        "LEENKIES_SKIP_DYNAMODB",
        "DynamoDB Local (./infra/test.sh starts it)",
    )
}

/// moto's SES v2 URL from `SES_ENDPOINT`; `None` only when `LEENKIES_SKIP_MOTO=1`.
pub fn ses_endpoint() -> Option<String> {
    required(
        "SES_ENDPOINT",
        "LEENKIES_SKIP_MOTO",
        "moto's SES v2 server (./infra/test.sh starts it)",
    )
}

/// moto's S3 URL for the export jobs: `S3_ENDPOINT` (the test command starts a moto of its own
/// for it, so multipart objects never reach the SES moto the email tests read back), else the
/// SES moto.
pub fn s3_endpoint() -> Option<String> {
    match std::env::var("S3_ENDPOINT") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => ses_endpoint(),
    }
}

fn required(var: &str, skip: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var(skip).as_deref() == Ok("1") => None,
        _ => panic!("{var} is not set: this test needs {what}; set {skip}=1 to skip it knowingly"),
    }
}

/// A table name no other test uses.
pub fn unique_table(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        nanos % 1_000_000_000_000
    )
}
