//! The database queue: workers claim ready jobs from the jobs table under a
//! lease. Expired leases are claimed before the backlog, so a dead worker's
//! jobs come back first; the API wakes an in-process worker when it queues work.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::{JobSource, QueueError, Taken, Ticket};
use crate::clock::now_ms;
use crate::store::{CRASH_ALLOWANCE, Store};

pub struct DatabaseQueue {
    store: Arc<Store>,
    /// Notified when this process queues work.
    wake: Arc<Notify>,
    /// Jobs of one account running at once, at most (0: no cap).
    account_cap: u32,
}

impl DatabaseQueue {
    pub fn new(store: Arc<Store>, wake: Arc<Notify>, account_cap: u32) -> DatabaseQueue {
        DatabaseQueue {
            store,
            wake,
            account_cap,
        }
    }
}

#[async_trait]
impl JobSource for DatabaseQueue {
    async fn take(
        &self,
        worker: &str,
        max: usize,
        wait: Duration,
        lease_until: i64,
    ) -> Result<Vec<Taken>, QueueError> {
        let max = u32::try_from(max).unwrap_or(u32::MAX);
        let mut jobs = self
            .store
            .claim_jobs_capped(worker, max, now_ms(), lease_until, self.account_cap)
            .await?;
        if jobs.is_empty() && !wait.is_zero() {
            // Woken by this process's registrations; other processes' and
            // retries that come due are found on the next round.
            let _ = tokio::time::timeout(wait, self.wake.notified()).await;
            jobs = self
                .store
                .claim_jobs_capped(worker, max, now_ms(), lease_until, self.account_cap)
                .await?;
        }
        Ok(jobs
            .into_iter()
            .map(|job| {
                let last = job.deliveries >= job.max_attempts.saturating_add(CRASH_ALLOWANCE);
                Taken {
                    job,
                    ticket: Box::new(Lease { last }),
                }
            })
            .collect())
    }
}

/// A claimed job needs nothing from the queue: settling and retrying are
/// written to the job row itself, and an abandoned lease simply runs out.
struct Lease {
    last: bool,
}

#[async_trait]
impl Ticket for Lease {
    fn is_last(&self) -> bool {
        self.last
    }

    async fn ack(&self) {}

    async fn retry_later(&self, _delay: Duration) {}

    async fn progress(&self) {}
}
