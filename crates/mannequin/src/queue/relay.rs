//! The relay: publishes the outbox (committed, unpublished jobs) to NATS and
//! records what was published. Every process runs one; rows a relay took are
//! held from the others for a while, so they do not publish the same rows.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tracing::{info, warn};

use super::QueueError;
use super::nats::NatsQueue;
use crate::clock::now_ms;

/// How many outbox rows one relay pass takes.
const RELAY_BATCH: u32 = 500;

/// How long a relay holds the rows it took: if it dies mid-pass, another relay
/// publishes them after this.
const RELAY_HOLD_MS: i64 = 10_000;

/// Publishes the outbox until `shutdown`: woken by `wake` when this process
/// registers a batch, and every second for the jobs of other processes or of a
/// time NATS was down.
pub async fn relay(queue: Arc<NatsQueue>, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
    // The stream and consumer are created at start-up; if NATS is not
    // reachable yet, the first pass that finds it creates them. Being away is
    // logged once, and so is coming back.
    let mut away = match queue.ensure().await {
        Ok(()) => false,
        Err(e) => {
            warn!(error = %e, "NATS is not reachable yet; new jobs wait in the outbox");
            true
        }
    };
    loop {
        let delay = match relay_once(&queue).await {
            Ok(n) => {
                if away && queue.ensure().await.is_ok() {
                    away = false;
                    info!("NATS is reachable; relaying the outbox");
                }
                if n > 0 && !*shutdown.borrow() {
                    continue;
                }
                Duration::from_secs(1)
            }
            Err(e) => {
                if !away {
                    warn!(error = %e, "cannot relay jobs to NATS; they wait in the outbox");
                    away = true;
                }
                Duration::from_secs(2)
            }
        };
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
    }
}

/// One pass: takes a batch of the outbox, publishes it, records what was
/// published. Returns how many were published.
pub async fn relay_once(queue: &NatsQueue) -> Result<usize, QueueError> {
    let store = queue.store();
    let now = now_ms();
    let jobs = store
        .claim_outbox(RELAY_BATCH, now, now + RELAY_HOLD_MS)
        .await?;
    if jobs.is_empty() {
        return Ok(0);
    }
    let published = queue.publish(&jobs).await?;
    store.mark_published(&published, now_ms()).await?;
    Ok(published.len())
}
