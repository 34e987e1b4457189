//! Wiring: opens the store, bootstraps, starts the API and the worker, and
//! shuts them down. Tests start the real app from here on port 0.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mannequin_domain::ids::AccountId;
use mannequin_domain::{AssetKind, Credits};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::blob::BlobStore;
use crate::blob::local::LocalDisk;
use crate::blob::s3::{S3, S3Settings};
use crate::blob::signing::MediaSigner;
use crate::clock::{new_id, now_ms};
use crate::config::{BlobStoreKind, DbArgs, QueueKind, ServeArgs};
use crate::error::BoxError;
use crate::generator::GeneratorKind;
use crate::generator::{self, Generator, Prompting};
use crate::http::{self, ApiSettings, AppState};
use crate::keys::{self, Scope};
use crate::metrics::Metrics;
use crate::operations::Orders;
use crate::queue::JobSource;
use crate::queue::db::DatabaseQueue;
use crate::queue::nats::{NatsQueue, NatsSettings};
use crate::store::Store;
use crate::webhooks::{self, Dispatcher};
use crate::worker::{Worker, WorkerConfig};

/// Opens the database named by `db` (SQLite by default, PostgreSQL for a
/// `postgres://` URL) and applies migrations.
pub async fn open_store(db: &DbArgs) -> Result<Arc<Store>, BoxError> {
    let url = db.database_url();
    if url.starts_with("sqlite:") && db.database_url.is_none() {
        std::fs::create_dir_all(&db.data_dir)?;
    }
    // SQLite reads with a few connections; PostgreSQL with the pool the
    // operator sized.
    let connections = if url.starts_with("sqlite:") {
        4
    } else {
        db.db_connections
    };
    let fail = |e: crate::store::StoreError| {
        format!("cannot open {}: {}", redact(&url), crate::error::Report(&e))
    };
    let store = Store::open(&url, connections).await.map_err(fail)?;
    store.migrate().await.map_err(fail)?;
    Ok(Arc::new(store))
}

/// A URL with any password replaced, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// What the starter bootstrap created.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    pub account_id: AccountId,
    pub api_key: crate::SecretString,
    pub credits: i64,
}

/// A running service. Dropping it does not stop it; call [`Running::stop`].
pub struct Running {
    pub addr: SocketAddr,
    /// The operator listener's address (`/metrics`, `/healthz`, `/readyz`).
    pub metrics_addr: Option<SocketAddr>,
    pub store: Arc<Store>,
    /// The worker, when this process runs one (or was asked to build a paused one).
    pub worker: Option<Arc<Worker>>,
    /// The webhook dispatcher, wherever a worker is.
    pub dispatcher: Option<Arc<Dispatcher>>,
    /// The starter account, when this start created it.
    pub bootstrap: Option<Bootstrap>,
    shutdown: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    operator: Option<JoinHandle<()>>,
    worker_task: Option<JoinHandle<()>>,
    dispatcher_task: Option<JoinHandle<()>>,
    housekeeping: Option<JoinHandle<()>>,
    relay: Option<JoinHandle<()>>,
}

impl Running {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Asks everything to stop: no new jobs are taken, jobs in progress finish or
    /// are handed back, open requests complete.
    pub fn begin_shutdown(&self) {
        let _ = self.shutdown.send(true);
    }

    /// Stops and waits until the API and the worker have finished.
    pub async fn stop(mut self) {
        self.begin_shutdown();
        self.wait().await;
    }

    /// Waits until the service has stopped (after a signal or `begin_shutdown`).
    pub async fn wait(&mut self) {
        for s in [self.server.take(), self.operator.take()]
            .into_iter()
            .flatten()
        {
            let _ = s.await;
        }
        if let Some(w) = self.worker_task.take() {
            let _ = w.await;
        }
        if let Some(d) = self.dispatcher_task.take() {
            let _ = d.await;
        }
        if let Some(h) = self.housekeeping.take() {
            let _ = h.await;
        }
        if let Some(r) = self.relay.take() {
            let _ = r.await;
        }
        self.store.close().await;
    }
}

/// Options that tests and embedders may set beyond the command line.
#[derive(Default)]
pub struct Overrides {
    /// Use this generator instead of the built-in one.
    pub generator: Option<Arc<dyn Generator>>,
    /// Use this listener instead of binding `--listen`.
    pub listener: Option<TcpListener>,
    /// Use this listener instead of binding `--metrics-listen`.
    pub metrics_listener: Option<TcpListener>,
    /// Build the worker (for `run_ready`) but do not start its loop, nor the
    /// NATS relay (`run_ready` relays).
    pub worker_paused: bool,
}

/// Starts `serve` (API + optional worker) or, with `api = false`, only the worker.
pub async fn start(args: &ServeArgs, api: bool, overrides: Overrides) -> Result<Running, BoxError> {
    crate::install_crypto();
    // Everything that can refuse the settings comes before the bootstrap, which
    // shows its key only once.
    let run_worker = !api || !args.api.no_worker;
    let generator = if run_worker || overrides.worker_paused {
        Some(match overrides.generator.clone() {
            Some(g) => g,
            None => generator(args)?,
        })
    } else {
        None
    };
    let listener = match (api, overrides.listener) {
        (false, _) => None,
        (true, Some(l)) => Some(l),
        (true, None) => Some(TcpListener::bind(args.api.listen).await.map_err(|e| {
            let addr = args.api.listen;
            match e.kind() {
                std::io::ErrorKind::AddrInUse => {
                    format!("--listen {addr}: address already in use")
                }
                std::io::ErrorKind::AddrNotAvailable => {
                    format!("--listen {addr}: no such address on this machine")
                }
                std::io::ErrorKind::PermissionDenied => {
                    format!("--listen {addr}: permission denied (ports below 1024 need privileges)")
                }
                _ => format!("--listen {addr}: {e}"),
            }
        })?),
    };
    let operator_listener = match (overrides.metrics_listener, args.operator_addr(api)) {
        (Some(l), _) => Some(l),
        (None, None) => None,
        (None, Some(addr)) => Some(TcpListener::bind(addr).await.map_err(|e| {
            format!("cannot listen on {addr} for /metrics (--metrics-listen; `off` for none): {e}")
        })?),
    };
    let metrics_addr = operator_listener
        .as_ref()
        .map(TcpListener::local_addr)
        .transpose()?;
    let metrics = Arc::new(Metrics::default());
    let limiter = Arc::new(match (&args.api.redis_url, api) {
        (Some(url), true) => {
            http::auth::RateLimiter::shared(
                args.api.rate_limit,
                args.api.rate_burst,
                url,
                metrics.redis_limit(),
            )
            .await?
        }
        _ => http::auth::RateLimiter::new(args.api.rate_limit, args.api.rate_burst),
    });
    let store = open_store(&args.db).await?;
    let bootstrap = if args.api.no_bootstrap || !api {
        None
    } else {
        bootstrap(store.as_ref(), args.api.starter_credits).await?
    };
    let addr = match &listener {
        Some(l) => l.local_addr()?,
        None => args.api.listen,
    };
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_string();
    if addr.ip().is_unspecified() && args.public_url.is_none() {
        warn!("listening on {addr} without --public-url: image URLs will name {public_url}");
    }
    let bucket_urls = args.blob_store == BlobStoreKind::S3 && args.s3_public_url.is_some();
    if !api && args.public_url.is_none() && !bucket_urls {
        warn!(
            "a worker without --public-url names images in webhook payloads under {public_url}; \
             give it the API processes' MANNEQUIN_PUBLIC_URL"
        );
    }
    let media_url = format!("{public_url}/media");
    let media_signer = args
        .media_signing_key
        .as_ref()
        .map(|key| MediaSigner::new(crate::ExposeSecret::expose_secret(key), args.media_url_ttl));
    let blobs: Arc<dyn BlobStore> = match args.blob_store {
        BlobStoreKind::Local => Arc::new(LocalDisk::new(
            args.db.data_dir.join("media"),
            &media_url,
            media_signer.clone(),
        )),
        BlobStoreKind::S3 => Arc::new(S3::new(
            &s3_settings(args)?,
            &media_url,
            media_signer.clone(),
        )?),
    };
    let lease = Duration::from_millis(args.lease_ms);
    let wake = Arc::new(Notify::new());
    let (shutdown, shutdown_rx) = watch::channel(false);
    let nats = match args.queue {
        QueueKind::Database => None,
        QueueKind::Nats => Some(Arc::new(
            NatsQueue::connect(
                NatsSettings {
                    url: args.nats_url.clone(),
                    stream: args.nats_stream.clone(),
                    ack_wait: lease,
                    max_attempts: args.max_attempts,
                    window: args.nats_window,
                    account_cap: args.account_max_in_flight,
                },
                store.clone(),
                metrics.clone(),
            )
            .await?,
        )),
    };
    let source: Arc<dyn JobSource> = match &nats {
        Some(q) => q.clone(),
        None => Arc::new(DatabaseQueue::new(
            store.clone(),
            wake.clone(),
            args.account_max_in_flight,
        )),
    };

    let worker = generator.map(|generator| {
        Arc::new(Worker::new(
            store.clone(),
            source,
            blobs.clone(),
            generator,
            prompting(args),
            metrics.clone(),
            WorkerConfig {
                concurrency: concurrency(args),
                generation_timeout: Duration::from_secs(args.generator_timeout_secs),
                lease,
                retry_base: Duration::from_millis(args.retry_base_ms),
                ..WorkerConfig::default()
            },
        ))
    });
    // With NATS, every process relays the outbox; this process's registrations
    // wake its relay at once. A paused worker's process leaves relaying to
    // `Worker::run_ready`, so tests see every step happen when they ask.
    let relay = nats.as_ref().filter(|_| !overrides.worker_paused).map(|q| {
        tokio::spawn(crate::queue::relay::relay(
            q.clone(),
            wake.clone(),
            shutdown_rx.clone(),
        ))
    });
    let worker_task = match (&worker, run_worker && !overrides.worker_paused) {
        (Some(w), true) => Some(tokio::spawn(w.clone().run(shutdown_rx.clone()))),
        _ => None,
    };
    // Every process that runs a worker delivers webhooks too, unless told not to.
    let dispatcher = match &worker {
        Some(_) if !args.no_webhook_delivery => Some(Arc::new(Dispatcher::new(
            store.clone(),
            blobs.clone(),
            metrics.clone(),
            webhooks::Settings {
                allow_private: args.webhook_allow_private,
                timeout: Duration::from_secs(args.webhook_timeout_secs),
                schedule: args.webhook_retry_schedule.clone(),
                disable_after: args.webhook_disable_after,
                endpoint_concurrency: usize::try_from(args.webhook_endpoint_concurrency)
                    .unwrap_or(4),
                ..webhooks::Settings::default()
            },
        )?)),
        _ => None,
    };
    let dispatcher_task = dispatcher
        .as_ref()
        .filter(|_| run_worker && !overrides.worker_paused)
        .map(|d| tokio::spawn(d.clone().run(shutdown_rx.clone())));
    let housekeeping = tokio::spawn(crate::housekeeping::run(
        store.clone(),
        lease,
        shutdown_rx.clone(),
    ));

    let state = AppState {
        store: store.clone(),
        blobs,
        metrics: metrics.clone(),
        limiter: limiter.clone(),
        rate_policy: limiter.policy().map(Arc::from),
        openapi: Arc::from(http::openapi_document(&public_url)),
        orders: Arc::new(Orders::new(
            store.clone(),
            metrics.clone(),
            Arc::new(crate::planner::Planner::new(&args.api.planner.settings())?),
            crate::batch::Terms {
                prices: {
                    let model = args.api.credits_per_model;
                    [
                        model,
                        args.api.credits_per_scenery.unwrap_or(model),
                        args.api.credits_per_photo_shoot.unwrap_or(model),
                        args.api.credits_per_packshot.unwrap_or(model),
                    ]
                    .map(Credits::new)
                },
                max_attempts: args.max_attempts,
                reservation_ttl: Duration::from_secs(args.api.reservation_ttl_secs),
            },
            wake,
        )),
        settings: Arc::new(ApiSettings {
            nats_outbox: args.queue == QueueKind::Nats,
            cors_origins: args.api.cors_origins.clone(),
            webhook_allow_private: args.webhook_allow_private,
            public_url: public_url.clone(),
            metrics_token: args.metrics_token.clone(),
            max_products: args.api.max_products,
            credits: args.api.credits_hint(),
        }),
        serve_media: true,
        media_signer,
        worker_paused: worker.as_ref().map(|w| w.paused()),
        worker_queue: nats.clone().filter(|_| worker.is_some()),
    };
    let limits = args.connections.limits();
    // The operator listener: `/metrics`, `/healthz`, `/readyz`, for an API
    // process and for a worker alike.
    let operator = operator_listener.map(|l| {
        if let Some(addr) = metrics_addr {
            info!(%addr, "operator listener: /metrics, /healthz, /readyz");
        }
        tokio::spawn(http::server::serve(
            l,
            http::operator_router(state.clone()),
            limits,
            shutdown_rx.clone(),
        ))
    });
    let server = listener.map(|listener| {
        info!(%addr, %public_url, "listening");
        tokio::spawn(http::server::serve(
            listener,
            http::router(state),
            limits,
            shutdown_rx.clone(),
        ))
    });

    Ok(Running {
        addr,
        metrics_addr,
        store,
        worker,
        dispatcher,
        bootstrap,
        shutdown,
        server,
        operator,
        worker_task,
        dispatcher_task,
        housekeeping: Some(housekeeping),
        relay,
    })
}

/// The bucket settings, with `--blob-store s3`.
fn s3_settings(args: &ServeArgs) -> Result<S3Settings, BoxError> {
    Ok(S3Settings {
        bucket: args
            .s3_bucket
            .clone()
            .ok_or("--blob-store s3 needs --s3-bucket (MANNEQUIN_S3_BUCKET)")?,
        endpoint: args.s3_endpoint.clone(),
        region: args.s3_region.clone(),
        path_style: args.s3_path_style,
        public_url: args.s3_public_url.clone(),
    })
}

/// The generator of each kind the settings name, with its settings
/// checked: refused when a kind's cannot make it.
fn generator(args: &ServeArgs) -> Result<Arc<dyn Generator>, BoxError> {
    let none = crate::config::KindGenerator {
        generator: None,
        url: None,
        model: None,
        comfyui_workflow: None,
        replicate_image_inputs: None,
    };
    let general = one_generator(args, &none, "MANNEQUIN_GENERATOR_API_KEY")?;
    let mut generators = Vec::with_capacity(AssetKind::ALL.len());
    for (kind, own) in AssetKind::ALL.into_iter().zip(args.kind_generators()) {
        let key_var = format!(
            "MANNEQUIN_{}_GENERATOR_API_KEY",
            generator::flag(kind).to_uppercase().replace('-', "_")
        );
        generators.push(if own.is_set() || env_secret(&key_var).is_some() {
            one_generator(args, &own, &key_var).map_err(|e| {
                format!(
                    "the generator of {}: {e}",
                    kind.declaration().title.to_lowercase()
                )
            })?
        } else {
            general.clone()
        });
    }
    let by_kind = generator::ByKind { generators };
    if let Some(why) = by_kind.refusal() {
        return Err(why.into());
    }
    Ok(Arc::new(by_kind))
}

/// A variable's secret, when it is set and not empty.
fn env_secret(name: &str) -> Option<crate::SecretString> {
    std::env::var(name)
        .ok()
        .filter(|k| !k.is_empty())
        .map(Into::into)
}

/// One generator: a kind's own settings, each unset one the general one's
/// when it is the general backend (another backend keeps its own defaults:
/// its URL, model and key are not the general backend's).
fn one_generator(
    args: &ServeArgs,
    own: &crate::config::KindGenerator<'_>,
    key_var: &str,
) -> Result<Arc<dyn Generator>, BoxError> {
    let kind = own.generator.unwrap_or(args.generator);
    let inherit = kind == args.generator;
    let general = |v: &Option<String>| if inherit { v.clone() } else { None };
    crate::generator::build(&generator::Settings {
        kind,
        url: own
            .url
            .map(str::to_string)
            .or_else(|| general(&args.generator_url)),
        model: own
            .model
            .map(str::to_string)
            .or_else(|| general(&args.generator_model)),
        api_key: env_secret(key_var).or_else(|| {
            inherit
                .then(|| env_secret("MANNEQUIN_GENERATOR_API_KEY"))
                .flatten()
        }),
        comfyui_workflow: own
            .comfyui_workflow
            .map(std::path::Path::to_path_buf)
            .or_else(|| args.comfyui_workflow.clone().filter(|_| inherit)),
        replicate_inputs: own
            .replicate_image_inputs
            .or(args.replicate_image_inputs.as_ref().filter(|_| inherit))
            .cloned()
            .unwrap_or_default(),
        timeout: Duration::from_secs(args.generator_timeout_secs),
        delay: Duration::from_millis(args.generator_delay_ms),
        category: args.default_product_category,
    })
}

/// How prompts are made and what size is asked for.
fn prompting(args: &ServeArgs) -> Prompting {
    let (width, height) = args
        .image_size
        .unwrap_or_else(|| generator::default_size(args.generator));
    Prompting {
        template: args.prompt_template.clone().unwrap_or_default(),
        negative: args.negative_prompt.clone(),
        width,
        height,
    }
}

/// Generations in flight per worker process.
fn concurrency(args: &ServeArgs) -> u32 {
    args.generator_concurrency
        .or(args.worker_concurrency)
        .unwrap_or(match args.generator {
            GeneratorKind::Builtin | GeneratorKind::Noop => {
                std::thread::available_parallelism().map_or(2, |n| n.get() as u32)
            }
            _ => 8,
        })
}

/// Creates the starter account and its key when the database holds no account.
async fn bootstrap(store: &Store, credits: i64) -> Result<Option<Bootstrap>, BoxError> {
    let account_id: AccountId = new_id();
    let minted = keys::mint(&account_id, &Scope::ALL, None);
    let created = store
        .create_first_account(
            &account_id,
            "starter",
            Credits::new(credits),
            &minted.record,
            now_ms(),
        )
        .await?;
    Ok(created.then_some(Bootstrap {
        account_id,
        api_key: minted.api_key,
        credits,
    }))
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is
/// called, not when it is first awaited, so a signal that arrives while the
/// service is still starting is not lost (nor does it kill the process).
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
