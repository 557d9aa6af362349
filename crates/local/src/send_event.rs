//! `leenkies-local send-event FILE…`: signs each file's exact bytes with the runner's webhook
//! secret (`STRIPE_WEBHOOK_SECRET`, else the keys file the runner reads) and posts it, like
//! `stripe trigger` against a local endpoint.

use leenkies_domain::clock::now_secs;
use leenkies_domain::stripe::signature::sign;

use crate::cli::{SendEventArgs, ServerArgs};
use crate::settings::ResolvedKeys;

pub async fn run(server: &ServerArgs, args: SendEventArgs) -> Result<(), String> {
    let keys = ResolvedKeys::resolve(server.keys_file.as_deref())?;
    if let Some(notice) = keys.notice() {
        eprintln!("{notice}");
    }
    let secret = keys
        .first_webhook_secret()
        .ok_or("STRIPE_WEBHOOK_SECRET holds no secret")?
        .to_owned();
    let client = reqwest::Client::new();
    let url = format!("{}/webhooks/stripe", args.url.trim_end_matches('/'));
    for file in &args.files {
        let body = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let response = client
            .post(&url)
            .header("content-type", "application/json")
            .header("stripe-signature", sign(&secret, now_secs(), &body))
            .body(body)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        println!("{} {} {}", file.display(), status.as_u16(), text);
        if !status.is_success() {
            return Err(format!("{} was answered {status}", file.display()));
        }
    }
    Ok(())
}
