//! Secrets read once at start-up: from AWS Secrets Manager in AWS (an ARN in the environment),
//! from plain environment variables on one machine. Never per request, never logged.

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret {name} could not be read: {reason}")]
    Unreadable { name: String, reason: String },
    #[error("secret {0} is not set")]
    Missing(String),
}

/// The Stripe signing secret document: `{"current": "whsec_…", "previous": "whsec_…"}`. While a
/// secret is rolled (Stripe keeps the old one up to 24 h) both are accepted.
#[derive(Debug, Default, Deserialize)]
pub struct RotatingSecret {
    #[serde(default)]
    pub current: String,
    #[serde(default)]
    pub previous: String,
}

impl RotatingSecret {
    pub fn active(&self) -> Vec<String> {
        [&self.current, &self.previous]
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().to_owned())
            .collect()
    }
}

/// Reads a secret's string value from Secrets Manager.
pub async fn secret_string(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<String, SecretError> {
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| SecretError::Unreadable {
            name: arn.to_owned(),
            reason: aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
        })?;
    out.secret_string()
        .map(str::to_owned)
        .ok_or_else(|| SecretError::Missing(arn.to_owned()))
}

/// A secret from `<NAME>_ARN` (Secrets Manager) if set, else from `<NAME>` itself.
/// JSON documents with `current`/`previous` yield both; a plain string yields itself.
pub async fn from_env_or_secrets_manager(
    config: &aws_config::SdkConfig,
    name: &str,
) -> Result<Vec<String>, SecretError> {
    use crate::config::{ProcessEnv, Source};
    let raw = match ProcessEnv.get(&format!("{name}_ARN")) {
        Some(arn) if !arn.is_empty() => {
            secret_string(&aws_sdk_secretsmanager::Client::new(config), &arn).await?
        }
        _ => ProcessEnv
            .get(name)
            .ok_or_else(|| SecretError::Missing(name.to_owned()))?,
    };
    parse_secret(name, &raw)
}

/// A JSON document yields its active values (and none is an error: a placeholder never becomes
/// a key); anything else is a comma-separated list.
pub fn parse_secret(name: &str, raw: &str) -> Result<Vec<String>, SecretError> {
    let values = if raw.trim_start().starts_with('{') {
        serde_json::from_str::<RotatingSecret>(raw)
            .map_err(|e| SecretError::Unreadable {
                name: name.to_owned(),
                reason: format!("not a {{\"current\", \"previous\"}} document: {e}"),
            })?
            .active()
    } else {
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    if values.is_empty() {
        return Err(SecretError::Missing(name.to_owned()));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_rotation_document_when_read_then_both_secrets_are_active() {
        let doc: RotatingSecret =
            serde_json::from_str(r#"{"current":"whsec_new","previous":"whsec_old"}"#).unwrap();
        assert_eq!(doc.active(), vec!["whsec_new", "whsec_old"]);
        let doc: RotatingSecret =
            serde_json::from_str(r#"{"current":"whsec_new","previous":""}"#).unwrap();
        assert_eq!(doc.active(), vec!["whsec_new"]);
    }

    #[test]
    fn given_a_document_with_no_active_value_when_parsed_then_an_error_not_a_key() {
        assert!(parse_secret("S", r#"{"current":"","previous":""}"#).is_err());
        assert!(parse_secret("S", r#"{"current": 5}"#).is_err());
        assert!(parse_secret("S", " , ").is_err());
        assert_eq!(parse_secret("S", "a, b").unwrap(), vec!["a", "b"]);
    }
}
