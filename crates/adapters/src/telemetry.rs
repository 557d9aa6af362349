//! Structured JSON logs for every binary: one line per event, level from `RUST_LOG`.

/// Installs the JSON subscriber once; later calls are no-ops (tests may call it repeatedly).
pub fn init_json_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(true)
        .with_ansi(false)
        .try_init();
}
