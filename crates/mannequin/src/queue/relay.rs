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
            Ok(pass) => {
                if away && queue.ensure().await.is_ok() {
                    away = false;
                    info!("NATS is reachable; relaying the outbox");
                }
                if pass.published > 0 && !*shutdown.borrow() {
                    continue;
                }
                // A full window empties as workers start jobs, in this
                // process or others: look again soon.
                if pass.window_full {
                    WINDOW_POLL
                } else {
                    Duration::from_secs(1)
                }
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

/// What one relay pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub published: usize,
    /// The stream holds the window's worth of jobs not started yet.
    pub window_full: bool,
}

/// How long a published job that no worker started counts in the window;
/// after that housekeeping publishes it again.
pub const STALE_AFTER_MS: i64 = 10 * 60_000;

/// How often a relay whose window is full looks again.
const WINDOW_POLL: Duration = Duration::from_millis(20);

/// One pass: takes what fits in the window of the outbox (in fair order),
/// publishes it, records what was published.
pub async fn relay_once(queue: &NatsQueue) -> Result<Pass, QueueError> {
    let store = queue.store();
    // A job published long ago and still not started has most likely lost
    // its message (a stream purged or recreated): it stops holding the window.
    let since = now_ms() - STALE_AFTER_MS;
    let waiting = store.published_waiting(since).await?;
    let room = u64::from(queue.window()).saturating_sub(waiting);
    if room == 0 {
        return Ok(Pass {
            published: 0,
            window_full: true,
        });
    }
    let now = now_ms();
    let jobs = store
        .claim_outbox_capped(
            room.min(u64::from(RELAY_BATCH)) as u32,
            now,
            now + RELAY_HOLD_MS,
            queue.account_cap(),
            since,
        )
        .await?;
    if jobs.is_empty() {
        return Ok(Pass {
            published: 0,
            window_full: false,
        });
    }
    let published = queue.publish(&jobs).await?;
    store.mark_published(&published, now_ms()).await?;
    Ok(Pass {
        published: published.len(),
        window_full: published.len() as u64 >= room,
    })
}
