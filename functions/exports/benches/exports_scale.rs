//! Export jobs at scale: 100,000 orders of one seller on DynamoDB Local, exported by the worker
//! (the same steps the exports Lambda runs, one per job write) in 5 MiB parts into a local
//! folder sink (the S3 sink differs only in where the bytes go; the reads, which cost, are the
//! same). Reports seed time, export time, read units the store consumed (DynamoDB Local's own
//! `ReturnConsumedCapacity`), parts, bytes, steps, and the process's peak RSS (`VmHWM`).
//!
//! `DYNAMODB_ENDPOINT=http://127.0.0.1:8000 cargo bench -p exports --bench exports_scale -- --bench [--orders 100000]`
//! Under `cargo test` (no `--bench` argument) it does nothing.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::Instant;

use leenkies_adapters::dynamodb::exports::DynamoExports;
use leenkies_adapters::dynamodb::{setup, DynamoStore};
use leenkies_adapters::exports::folder::FolderSink;
use leenkies_domain::export::{ExportJob, ExportJobs, MIN_PART_BYTES};
use leenkies_integration_tests::env::unique_table;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let orders_n: usize = args
        .iter()
        .position(|a| a == "--orders")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let endpoint = std::env::var("DYNAMODB_ENDPOINT").expect("DYNAMODB_ENDPOINT (DynamoDB Local)");
    let client = setup::client(Some(&endpoint)).await;
    let table = unique_table("export_scale");
    setup::ensure_table(&client, &table).await.expect("table");

    let t0 = Instant::now();
    support::seed(&client, &table, 0..orders_n).await;
    let seed_time = t0.elapsed();

    let orders = Arc::new(DynamoStore::new(client.clone(), table.clone()));
    let jobs = Arc::new(DynamoExports::new(client, table));
    let dir = tempfile::tempdir().expect("temp dir");
    let exporter = exports::Exporter {
        orders: orders.clone(),
        jobs: jobs.clone(),
        sink: Arc::new(FolderSink::new(dir.path())),
        part_bytes: MIN_PART_BYTES,
    };
    let job = ExportJob::new(support::SELLER, "bench1", Default::default(), 0);
    jobs.create_job(&job).await.expect("job");
    let before = orders.consumed();
    let t1 = Instant::now();
    let steps = support::drive(&exporter, jobs.as_ref(), support::SELLER, "bench1").await;
    let export_time = t1.elapsed();
    let used = orders.consumed().since(&before);
    let done = jobs
        .get_job(support::SELLER, "bench1")
        .await
        .expect("read")
        .expect("job");
    assert_eq!(done.rows, orders_n as u64, "every order exported once");
    println!("## export jobs ({orders_n} orders, DynamoDB Local, 5 MiB parts, folder sink)");
    println!("| measure | value |");
    println!("| --- | --- |");
    println!(
        "| seed ({orders_n} orders, BatchWriteItem, 8 in flight) | {:.1} s |",
        seed_time.as_secs_f64()
    );
    println!(
        "| export time (worker steps, one per job write) | {:.1} s |",
        export_time.as_secs_f64()
    );
    println!(
        "| rows / s | {:.0} |",
        orders_n as f64 / export_time.as_secs_f64()
    );
    println!(
        "| read units consumed (orders store) | {:.0} ({:.2} per 1k orders) |",
        used.read_units,
        used.read_units * 1000.0 / orders_n as f64
    );
    println!("| store requests | {} |", used.requests);
    println!("| steps | {steps} |");
    println!("| parts | {} |", done.parts());
    println!("| bytes | {} |", done.bytes);
    if let Some(kib) = peak_rss_kib() {
        println!(
            "| peak RSS of the process (VmHWM) | {:.1} MiB |",
            kib as f64 / 1024.0
        );
    }
}
