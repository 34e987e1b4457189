//! Housekeeping, run by every process (API and worker alike), so that credits
//! are never held past a deadline and no job is forgotten even while no worker
//! runs. Several processes at once are safe: each step is one transaction.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tracing::{info, warn};

use crate::clock::now_ms;
use crate::error::Report;
use crate::store::{Recovered, Store};

/// How long an `Idempotency-Key` is remembered: a day.
pub const IDEMPOTENCY_TTL_MS: i64 = 24 * 3600 * 1000;

/// How long webhook attempts, and events delivered or given up, are kept: 30 days.
pub const WEBHOOK_HISTORY_MS: i64 = 30 * 24 * 3600 * 1000;

/// How often housekeeping runs.
pub const EVERY: Duration = Duration::from_secs(5);

/// Closes reservations past their deadline (failing and refunding their
/// unfinished models), takes up jobs whose worker was lost (a lease that ran
/// out more than `lease` ago), forgets idempotency keys older than a day and
/// webhook history older than 30 days, and console sessions that are over.
pub async fn sweep(store: &Store, lease: Duration) {
    match store.expire_reservations(now_ms()).await {
        Ok(0) => {}
        Ok(n) => info!(models = n, "reservations past their deadline closed"),
        Err(e) => warn!(error = %Report(&e), "could not close expired reservations"),
    }
    let grace = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    match store.recover_lost_jobs(now_ms(), grace).await {
        Ok(r) if r == Recovered::default() => {}
        Ok(Recovered { requeued, failed }) => {
            info!(
                requeued,
                failed, "jobs whose worker was lost taken up again"
            )
        }
        Err(e) => warn!(error = %Report(&e), "could not take up lost jobs"),
    }
    match store
        .republish_stale(now_ms() - crate::queue::nats::STALE_AFTER_MS)
        .await
    {
        Ok(0) => {}
        Ok(n) => info!(
            jobs = n,
            "jobs published long ago and never started go out again"
        ),
        Err(e) => warn!(error = %Report(&e), "could not put stale published jobs back"),
    }
    if let Err(e) = store
        .prune_idempotency_keys(now_ms() - IDEMPOTENCY_TTL_MS)
        .await
    {
        warn!(error = %Report(&e), "could not prune idempotency keys");
    }
    if let Err(e) = store.prune_webhooks(now_ms() - WEBHOOK_HISTORY_MS).await {
        warn!(error = %Report(&e), "could not prune webhook history");
    }
    if let Err(e) = store.prune_sessions(now_ms()).await {
        warn!(error = %Report(&e), "could not prune console sessions");
    }
}

/// Runs [`sweep`] every [`EVERY`] until `shutdown`.
pub async fn run(store: Arc<Store>, lease: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => sweep(&store, lease).await,
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
        }
    }
}
