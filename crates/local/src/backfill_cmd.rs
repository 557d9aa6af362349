//! `leenkies-local backfill --since <RFC 3339> [--account acct_…]`: replays Stripe's Events API
//! into the DynamoDB store through the webhook's code path, then prints a summary and exits.
//!
//! It needs `--dynamodb-endpoint`: the embedded store lives only inside a running `leenkies-local`
//! process, so there would be nothing to backfill into. The Stripe key is `STRIPE_API_KEY`
//! (`STRIPE_API_BASE` overrides `https://api.stripe.com`). Progress is stored per account in the
//! table: an interrupted backfill resumes where it stopped when run again.

use std::sync::Arc;

use leenkies_adapters::dynamodb::ops::DynamoOps;
use leenkies_adapters::dynamodb::{ensure_table, setup, DynamoStore};
use leenkies_adapters::metrics::Metrics;
use leenkies_domain::clock::{now_secs, parse_rfc3339};
use leenkies_domain::ingest::IngestDeps;
use leenkies_domain::ops::OpsStore;
use reconcile::backfill::{Backfill, BackfillOptions, BackfillRequest};

use crate::cli::{BackfillArgs, ServerArgs};

pub async fn run(server: &ServerArgs, args: BackfillArgs) -> Result<(), String> {
    let Some(endpoint) = server.dynamodb_endpoint.as_deref() else {
        return Err(
            "backfill needs --dynamodb-endpoint: the embedded store lives only inside a \
                    running leenkies-local process, so there is nothing to backfill into"
                .to_owned(),
        );
    };
    let since = parse_rfc3339(&args.since).ok_or_else(|| {
        format!(
            "--since {:?} is not an RFC 3339 time (e.g. 2026-05-08T00:00:00Z)",
            args.since
        )
    })?;
    let sdk = setup::sdk_config(Some(endpoint)).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    ensure_table(&client, &server.table)
        .await
        .map_err(|e| format!("table {}: {e}", server.table))?;
    let store = Arc::new(DynamoStore::new(client.clone(), server.table.clone()));
    let ops = DynamoOps::new(client, server.table.clone());
    // EMF lines are for CloudWatch; on a terminal the summary says the same.
    let (metrics, _) = Metrics::capture("leenkies-local");
    let api = reconcile::config::stripe_api(&sdk, metrics.clone())
        .await
        .map_err(|e| e.to_string())?;
    let mode = leenkies_adapters::config::Env::process()
        .stripe_livemode()
        .map_err(|e| e.to_string())?;
    // Events read from Stripe's API over TLS with our key need no webhook signature.
    let ingest = IngestDeps::new(store, mode);
    if args.account.is_none()
        && ops
            .list_sellers()
            .await
            .map_err(|e| e.to_string())?
            .is_empty()
    {
        return Err("no seller is known in this table yet: name one with --account acct_…".into());
    }
    let summary = Backfill {
        api: &api,
        ingest: &ingest,
        ops: &ops,
        metrics: &metrics,
        options: BackfillOptions::default(),
        now: now_secs(),
    }
    .run(&BackfillRequest {
        since,
        account: args.account,
    })
    .await
    .map_err(|e| e.to_string())?;
    for a in &summary.accounts {
        println!(
            "{}: {} page(s), {} event(s), {} applied, {} already known, {} ignored{}",
            a.account,
            a.pages,
            a.events_read,
            a.applied,
            a.duplicates,
            a.ignored,
            a.error
                .as_deref()
                .map(|e| format!(", stopped: {e}"))
                .unwrap_or_default(),
        );
    }
    println!("{}", summary.line());
    if summary.failed() {
        Err("some accounts stopped early; run the same command again to resume".into())
    } else {
        Ok(())
    }
}
