//! Flags and environment of `leenkies-local`, exactly as contract section 6 names them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "leenkies-local",
    about = "Runs the Leenkies orders backend on one machine"
)]
pub struct Cli {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Fill the store at start with a realistic sample store (seller acct_demo: dozens of orders
    /// over weeks in every state) through the signed webhook, and print its sign-in address.
    #[arg(long)]
    pub demo: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    Memory,
    Dynamodb,
}

#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:3000", global = true)]
    pub addr: String,
    /// Embedded in-memory store, or DynamoDB.
    #[arg(long, value_enum, default_value = "memory", global = true)]
    pub store: StoreKind,
    /// DynamoDB endpoint (e.g. DynamoDB Local); implies --store dynamodb; creates the table.
    #[arg(long, global = true)]
    pub dynamodb_endpoint: Option<String>,
    /// Table name.
    #[arg(
        long,
        env = "ORDERS_TABLE",
        default_value = leenkies_adapters::config::DEFAULT_ORDERS_TABLE,
        global = true
    )]
    pub table: String,
    /// Every email sent is written here as `<unix_ms>-<order_id>.eml`.
    #[arg(long, default_value = "./outbox", global = true)]
    pub outbox: PathBuf,
    /// Finished export jobs are written here as `<seller>/<id>.csv` (`POST /orders/exports`).
    #[arg(long, default_value = "./exports", global = true)]
    pub exports_dir: PathBuf,
    /// Product files served by download links: `<dir>/<seller>/<product>` or `<dir>/<product>`.
    #[arg(long, global = true)]
    pub products_dir: Option<PathBuf>,
    /// The runner's keys (webhook secret, seller-token key, download-link key) when the
    /// environment does not give them: random, made at the first start, kept here. Default:
    /// `leenkies/local-keys.json` under `$XDG_CONFIG_HOME` (else `~/.config`).
    #[arg(long, env = "LEENKIES_KEYS_FILE", global = true)]
    pub keys_file: Option<PathBuf>,
}

impl ServerArgs {
    pub fn uses_dynamodb(&self) -> bool {
        self.dynamodb_endpoint.is_some() || self.store == StoreKind::Dynamodb
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Signs a Stripe event file with the webhook secret and posts it, like `stripe trigger`.
    SendEvent(SendEventArgs),
    /// Replays Stripe's Events API into the store through the webhook's code path.
    Backfill(BackfillArgs),
    /// Prints a seller token (line 1) and the dashboard's sign-in address (line 2). Local use only.
    Token(TokenArgs),
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The seller: the connected Stripe account id (`acct_…`), or `platform`.
    #[arg(long)]
    pub seller: String,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = DEFAULT_TTL_SECS)]
    pub ttl: u64,
}

#[derive(Debug, Args)]
pub struct SendEventArgs {
    /// Event JSON files, posted in order, byte for byte.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Where the runner listens.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    pub url: String,
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// Replay events created at or after this time (RFC 3339).
    #[arg(long)]
    pub since: String,
    /// Only this connected account (default: every seller in the table).
    #[arg(long)]
    pub account: Option<String>,
}

/// One hour, as the contract says.
pub const DEFAULT_TTL_SECS: u64 = 3600;
