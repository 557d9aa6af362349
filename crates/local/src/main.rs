//! `leenkies-local`: the whole system (every Lambda's work) in one process on one machine (contract section 6).

use clap::Parser;
use leenkies_local::{backfill_cmd, cli, send_event, serve, token_cmd};

/// mimalloc rather than glibc's malloc: allocation was about a fifth of the CPU per webhook
/// delivery under load (docs/performance.md, section 2).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    leenkies_adapters::telemetry::init_json_logging();
    let cli = cli::Cli::parse();
    let result = match cli.command {
        Some(cli::Command::SendEvent(args)) => send_event::run(&cli.server, args).await,
        Some(cli::Command::Backfill(args)) => backfill_cmd::run(&cli.server, args).await,
        Some(cli::Command::Token(args)) => token_cmd::run(&cli.server, args),
        None => serve::run(cli.server, cli.demo).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("leenkies-local: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
