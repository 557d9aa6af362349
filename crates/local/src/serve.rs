//! Composes the three functions in one process: one axum router (webhook + orders API + health),
//! the embedded or DynamoDB store, the outbox mailer, and the change pump feeding fulfillment.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use fulfillment::{Fulfiller, FulfillmentConfig};
use leenkies_adapters::dynamodb::ops::DynamoOps;
use leenkies_adapters::dynamodb::{setup, store::DynamoStore, stream::StreamReader};
use leenkies_adapters::mail::outbox::OutboxMailer;
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::ops::staleness::StalePolicy;
use leenkies_domain::ops::OpsStore;
use leenkies_domain::ports::OrderStore;
use leenkies_domain::tokens::DownloadKey;
use orders_api::{health_router, OperatorClaim};
use stripe_webhook::{WebhookConfig, WebhookState};
use tokio::net::TcpListener;

use crate::cli::ServerArgs;
use crate::pump::{self, ChangeSource};
use crate::settings::Settings;

/// A started runner: where it listens, and the handle that stops it.
pub struct Running {
    pub addr: SocketAddr,
    pub store: Arc<dyn OrderStore>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
}

impl Running {
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.server.await;
    }

    pub async fn wait(self) {
        let _ = self.server.await;
    }
}

/// Runs until Ctrl-C or SIGTERM.
pub async fn run(args: ServerArgs) -> Result<(), String> {
    let settings = Settings::from_env()?;
    let running = start(args, settings).await?;
    println!("listening on http://{}", running.addr);
    let stop = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .map_err(|e| e.to_string())?;
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        Ok::<(), String>(())
    };
    stop.await?;
    running.stop().await;
    Ok(())
}

/// Binds, builds every dependency once, and starts serving in the background.
pub async fn start(args: ServerArgs, settings: Settings) -> Result<Running, String> {
    let listener = TcpListener::bind(&args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;

    let public_base_url = settings
        .public_base_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));

    let (store, ops, changes): (Arc<dyn OrderStore>, Arc<dyn OpsStore>, ChangeSource) =
        if args.uses_dynamodb() {
            let client = setup::client(args.dynamodb_endpoint.as_deref()).await;
            setup::ensure_table(&client, &args.table)
                .await
                .map_err(|e| format!("cannot prepare table {}: {e}", args.table))?;
            let streams = setup::streams_client(args.dynamodb_endpoint.as_deref()).await;
            let reader = StreamReader::open(&client, streams, &args.table)
                .await
                .map_err(|e| format!("cannot read the stream of {}: {e}", args.table))?;
            (
                Arc::new(DynamoStore::new(client.clone(), args.table.clone())),
                Arc::new(DynamoOps::new(client, args.table.clone())),
                ChangeSource::Stream(Box::new(reader)),
            )
        } else {
            let memory = Arc::new(MemoryStore::new());
            let feed = memory.subscribe();
            (memory.clone(), memory, ChangeSource::Memory(feed))
        };

    let download_key = DownloadKey::new(settings.download_key.clone().into_bytes());
    let mailer = Arc::new(OutboxMailer::new(args.outbox.clone()));
    let fulfiller = Arc::new(Fulfiller::new(
        store.clone(),
        mailer,
        FulfillmentConfig {
            public_base_url,
            download_key: download_key.clone(),
            max_attempts: settings.fulfillment_max_attempts,
            lease_secs: settings.fulfillment_lease_secs,
        },
    ));
    let pump = tokio::spawn(pump::run(changes, fulfiller));

    let webhook = stripe_webhook::router(
        WebhookState::new(
            store.clone(),
            WebhookConfig::new(settings.webhook_secrets.clone(), settings.livemode),
        )
        .with_ops(ops.clone()),
    );
    // One verification path for sellers and operators: the orders API's `Auth`.
    let auth = orders_api::Auth::LocalHs256 {
        secret: settings.jwt_secret.clone(),
        seller_claim: settings.seller_claim.clone(),
    };
    let health = health_router(
        ops,
        auth.clone(),
        OperatorClaim::from_env(),
        StalePolicy::from_env(),
        settings.watched,
    );
    let api = orders_api::router(orders_api::ApiState::new(
        store.clone(),
        auth,
        download_key,
        // Its own key, derived: the JWT secret itself never doubles as the cursor MAC key.
        orders_api::config::derive_cursor_key(settings.jwt_secret.as_bytes()),
        orders_api::ProductFiles::LocalDir(args.products_dir.clone()),
    ));
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(webhook)
        .merge(health)
        .merge(api);

    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let serve = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(error) = serve.await {
            tracing::error!(%error, "server stopped");
        }
        pump.abort();
    });
    Ok(Running {
        addr,
        store,
        shutdown,
        server,
    })
}
