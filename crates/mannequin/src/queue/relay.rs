//! The relay: publishes the outbox (committed, unpublished jobs) to NATS and
//! records what was published. Every process runs one; rows a relay took are
//! held from the others for a while, so they do not publish the same rows.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tracing::{info, warn};

use super::nats::NatsQueue;

/// How often a relay whose window is full looks again.
const WINDOW_POLL: Duration = Duration::from_millis(20);

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
        let delay = match queue.relay_once().await {
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
