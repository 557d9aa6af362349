//! Composes every function in one process: one axum router (webhook + orders API + health),
//! the embedded or DynamoDB store, the outbox mailer, and the change pump feeding fulfillment.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::response::Redirect;
use axum::routing::get;
use axum::Router;
use fulfillment::{Fulfiller, FulfillmentConfig};
use leenkies_adapters::dynamodb::exports::DynamoExports;
use leenkies_adapters::dynamodb::ops::DynamoOps;
use leenkies_adapters::dynamodb::{setup, store::DynamoStore, stream::StreamReader};
use leenkies_adapters::exports::folder::FolderSink;
use leenkies_adapters::mail::outbox::OutboxMailer;
use leenkies_adapters::stripe::StripeProfiles;
use leenkies_domain::delivery::MessageIndex;
use leenkies_domain::export::ExportJobs;
use leenkies_domain::memory_store::MemoryStore;
use leenkies_domain::ops::OpsStore;
use leenkies_domain::ports::{OrderStore, StoreProfiles};
use leenkies_domain::tokens::DownloadKey;
use orders_api::{HealthConfig, OperatorClaim};
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

/// Runs until Ctrl-C or SIGTERM; with `demo`, first fills the store with the sample store
/// ([`crate::demo`]) and prints its sign-in address.
pub async fn run(args: ServerArgs, demo: bool) -> Result<(), String> {
    let settings = Settings::from_env(args.keys_file.as_deref())?;
    // The demo signs its events and its sign-in token with the keys the runner verifies with.
    let keys = if demo {
        Some(crate::settings::ResolvedKeys::resolve(
            args.keys_file.as_deref(),
        )?)
    } else {
        None
    };
    let running = start(args, settings).await?;
    if let Some(keys) = &keys {
        let base = format!("http://{}", running.addr);
        let secret = keys
            .first_webhook_secret()
            .ok_or("demo: no webhook secret to sign the sample events with")?;
        let seeded = crate::demo::seed(
            &base,
            secret,
            running.store.as_ref(),
            leenkies_domain::clock::now_secs(),
        )
        .await?;
        tracing::info!(
            events = seeded.events,
            bounced = seeded.bounced,
            "demo store filled"
        );
    }
    println!("listening on http://{}", running.addr);
    if !running.addr.ip().is_loopback() {
        println!(
            "note: listening beyond this machine ({}): POST {} answers only loopback peers (403 otherwise); the dashboard, the API and download links are reachable by whoever reaches this address",
            running.addr,
            crate::ses_events::PATH
        );
    }
    if let Some(keys) = &keys {
        // Asked for: the sample store's sign-in address (a day's token for acct_demo).
        let claims = crate::token_cmd::runner_claims(crate::demo::DEMO_SELLER, 24 * 3600);
        let token = crate::token_cmd::mint(&keys.jwt_secret, &claims)?;
        println!(
            "demo store ({} orders of {}): sign in at {}",
            crate::demo::ORDERS,
            crate::demo::DEMO_SELLER,
            crate::token_cmd::sign_in_address(&running.addr.to_string(), &token)
        );
    } else {
        // The address only: a token is printed by `leenkies-local token` on request, never in
        // a log.
        println!(
            "dashboard: http://{}/dashboard (sign in: leenkies-local token --seller acct_…)",
            running.addr
        );
    }
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

    #[allow(clippy::type_complexity)]
    let (
        store,
        ops,
        changes,
        messages,
        jobs,
        job_writes,
        seller_settings,
        due_index,
        seller_notices,
    ): (
        Arc<dyn OrderStore>,
        Arc<dyn OpsStore>,
        ChangeSource,
        Arc<dyn MessageIndex>,
        Arc<dyn ExportJobs>,
        Option<tokio::sync::mpsc::UnboundedReceiver<leenkies_domain::export::ExportJob>>,
        Arc<dyn leenkies_domain::seller_settings::SettingsStore>,
        Arc<dyn leenkies_domain::sweep::DueOrders>,
        Arc<dyn leenkies_domain::notify::failure_pattern::SellerNotices>,
    ) = if args.uses_dynamodb() {
        let client = setup::client(args.dynamodb_endpoint.as_deref()).await;
        setup::ensure_table(&client, &args.table)
            .await
            .map_err(|e| format!("cannot prepare table {}: {e}", args.table))?;
        let streams = setup::streams_client(args.dynamodb_endpoint.as_deref()).await;
        let reader = StreamReader::open(&client, streams, &args.table)
            .await
            .map_err(|e| format!("cannot read the stream of {}: {e}", args.table))?;
        let dynamo = Arc::new(DynamoStore::new(client.clone(), args.table.clone()));
        (
            dynamo.clone(),
            Arc::new(DynamoOps::new(client.clone(), args.table.clone())),
            ChangeSource::Stream(Box::new(reader)),
            dynamo.clone(),
            Arc::new(DynamoExports::new(client.clone(), args.table.clone())),
            None,
            Arc::new(leenkies_adapters::dynamodb::settings::DynamoSettings::new(
                client.clone(),
                args.table.clone(),
            )),
            dynamo,
            Arc::new(
                leenkies_adapters::dynamodb::seller_notices::DynamoSellerNotices::new(
                    client,
                    args.table.clone(),
                ),
            ),
        )
    } else {
        let memory = Arc::new(MemoryStore::new());
        let feed = memory.subscribe();
        let job_writes = memory.subscribe_exports();
        (
            memory.clone(),
            memory.clone(),
            ChangeSource::Memory(feed),
            memory.clone(),
            memory.clone(),
            Some(job_writes),
            memory.clone(),
            memory.clone(),
            memory,
        )
    };

    let download_key = DownloadKey::new(settings.download_key.clone().into_bytes());
    let mailer = Arc::new(OutboxMailer::new(args.outbox.clone()));
    // The store's name and support email (contract section 10), from Stripe when a key is set.
    // One cache serves the first email and resends here; in AWS each function keeps its own.
    let profiles: Option<Arc<dyn StoreProfiles>> = match &settings.stripe {
        Some(stripe) => Some(Arc::new(
            StripeProfiles::new(stripe).map_err(|e| format!("Stripe client: {e}"))?,
        )),
        None => None,
    };
    let resend = orders_api::routes::resend::ResendConfig {
        mailer: mailer.clone(),
        messages: messages.clone(),
        public_base_url: public_base_url.clone(),
        profiles: profiles.clone(),
        lease_secs: 60,
    };
    let mut fulfiller = Fulfiller::new(
        store.clone(),
        mailer,
        FulfillmentConfig {
            public_base_url,
            download_key: download_key.clone(),
            max_attempts: settings.fulfillment_max_attempts,
            lease_secs: settings.fulfillment_lease_secs,
        },
    )
    .with_messages(messages.clone())
    .with_settings(seller_settings.clone())
    .with_seller_notices(seller_notices);
    if let Some(profiles) = profiles {
        fulfiller = fulfiller.with_profiles(profiles);
    }
    let fulfiller = Arc::new(fulfiller);
    // Export jobs: the worker runs off the job writes, into the exports folder.
    let local_exports = crate::exports::LocalExports {
        orders: store.clone(),
        jobs: jobs.clone(),
        sink: Arc::new(FolderSink::new(args.exports_dir.clone())),
        part_bytes: settings.export_part_bytes,
    };
    let export_link_key = orders_api::config::derive_cursor_key(
        format!("exports:{}", settings.download_key).as_bytes(),
    );
    let export_pump =
        job_writes.map(|writes| tokio::spawn(crate::exports::pump(writes, local_exports.clone())));
    let export_sweep = tokio::spawn(crate::exports::sweep_forever(args.exports_dir.clone()));
    let pump = tokio::spawn(pump::run_with_exports(
        changes,
        fulfiller,
        Some(local_exports),
    ));

    let webhook = stripe_webhook::router(
        WebhookState::new(
            store.clone(),
            WebhookConfig::new(settings.webhook_secrets.clone(), settings.webhook.livemode),
        )
        .with_ops(ops.clone()),
    );
    // One verification path for sellers and operators: the orders API's `Auth`.
    let auth = orders_api::Auth::LocalHs256 {
        secret: settings.jwt_secret.clone(),
        seller_claim: settings.api.seller_claim.clone(),
        issuer: settings.jwt_issuer.clone(),
        audiences: settings.jwt_audiences.clone(),
    };
    let mut api_state = orders_api::ApiState::new(
        store.clone(),
        auth,
        download_key,
        // Its own key, derived: the JWT secret itself never doubles as the cursor MAC key.
        orders_api::config::derive_cursor_key(settings.jwt_secret.as_bytes()),
        orders_api::ProductFiles::LocalDir(args.products_dir.clone()),
    )
    .with_resend(resend)
    .with_health(HealthConfig {
        ops,
        claim: OperatorClaim::from_setting(settings.api.operator_claim.as_deref()),
        policy: settings.api.stale_policy,
        watched: settings.api.watched,
    })
    .with_settings(seller_settings.clone())
    .with_exports(orders_api::routes::exports::ExportsConfig {
        jobs,
        links: orders_api::routes::exports::ExportLinks::Local {
            base_url: settings.public_base_url.clone().unwrap_or_default(),
            key: export_link_key.clone(),
        },
        link_secs: 900,
    })
    // The dashboard's OAuth sign-in reads the same DASHBOARD_OAUTH_* variables as in AWS.
    .with_dashboard(
        orders_api::dashboard::config::DashboardConfig::from_env().map_err(|e| e.to_string())?,
    );
    let mut refunder: Option<Arc<dyn leenkies_domain::ports::Refunder>> = None;
    if let Some(stripe) = settings.stripe.clone() {
        let disputes = Arc::new(
            leenkies_adapters::stripe::StripeDisputes::new(stripe)
                .map_err(|e| format!("Stripe client: {e}"))?,
        );
        refunder = Some(disputes.clone());
        api_state = api_state.with_disputes(disputes);
    }
    // The sweep (contract sections 9.3 and 12): drafts and automatic submissions of dispute
    // evidence, and early fraud warnings refunded by the seller's rule,
    // every SWEEP_INTERVAL_SECONDS, as the reconcile schedule runs it in AWS.
    let sweeper = leenkies_domain::sweep::Sweeper {
        store: store.clone(),
        index: due_index,
        settings: seller_settings.clone(),
        filer: api_state.disputes.clone(),
        refunder,
    };
    let sweep = tokio::spawn(sweep_loop(sweeper, settings.sweep_interval_secs));
    let api = orders_api::router(api_state);
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        // The seller's way in (contract section 6).
        .route("/", get(|| async { Redirect::temporary("/dashboard") }))
        .merge(webhook)
        .merge(api)
        .merge(crate::exports::router(crate::exports::Links {
            dir: args.exports_dir.clone(),
            key: export_link_key,
        }))
        .merge(crate::ses_events::router(
            fulfillment::ses_events::SesEvents::new(store.clone(), messages.clone()),
        ));

    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let limits = settings.http;
    let server = tokio::spawn(async move {
        crate::http_server::serve(listener, app, limits, async {
            let _ = stopped.await;
        })
        .await;
        pump.abort();
        export_sweep.abort();
        sweep.abort();
        if let Some(export_pump) = export_pump {
            export_pump.abort();
        }
    });
    Ok(Running {
        addr,
        store,
        shutdown,
        server,
    })
}

/// Runs the sweep every `interval_secs` with the system clock, as long as the runner runs.
async fn sweep_loop(sweeper: leenkies_domain::sweep::Sweeper, interval_secs: u64) {
    use leenkies_domain::clock::{Clock, SystemClock};
    // The first run comes one period after start, not at once: a runner restarted on a table that
    // holds open disputes must not race a seller who is about to act on them (and the period is
    // short by default).
    let period = std::time::Duration::from_secs(interval_secs);
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(error) = sweeper.run(SystemClock.now()).await {
            tracing::warn!(job = "sweep", %error, "sweep stopped; the next one runs on time");
        }
    }
}
