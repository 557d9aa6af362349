//! `leenkies-local send-event FILE…`: signs each file's exact bytes with the configured webhook
//! secret and posts it, like `stripe trigger` against a local endpoint.

use leenkies_domain::clock::now_secs;
use leenkies_domain::stripe::signature::sign;

use crate::cli::SendEventArgs;
use crate::settings::first_webhook_secret;

pub async fn run(args: SendEventArgs) -> Result<(), String> {
    let secret = first_webhook_secret();
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
