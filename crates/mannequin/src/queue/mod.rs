//! How jobs reach workers, behind one seam: [`JobSource`].
//!
//! [`db::DatabaseQueue`] claims jobs straight from the jobs table under a lease
//! (the embedded default, and PostgreSQL with `SKIP LOCKED`).
//! [`nats::NatsQueue`] pulls them from a NATS JetStream work queue that the
//! [`relay`] feeds from the same table (a transactional outbox). Either way the
//! database stays the source of truth: a job taken from a queue runs under a
//! database lease, and its model settles in the database.

pub mod db;
pub mod nats;
pub mod relay;

use std::time::Duration;

use async_trait::async_trait;

use crate::store::{ClaimedJob, StoreError};

/// Why a queue could not hand out or take back work. The worker logs it and
/// tries again later; no job is lost (the database holds them all).
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("NATS: {0}")]
    Nats(String),
}

impl QueueError {
    pub(crate) fn nats(e: impl std::fmt::Display) -> QueueError {
        QueueError::Nats(e.to_string())
    }
}

/// A source of jobs for a worker.
#[async_trait]
pub trait JobSource: Send + Sync + 'static {
    /// Takes up to `max` jobs, each started in the database under `worker`'s
    /// lease until `lease_until`. When none is ready it waits up to `wait` for
    /// one, and may return empty.
    async fn take(
        &self,
        worker: &str,
        max: usize,
        wait: Duration,
        lease_until: i64,
    ) -> Result<Vec<Taken>, QueueError>;

    /// Makes every committed job visible to [`JobSource::take`] (NATS: relays
    /// the outbox once). Tests drive the queue with it.
    async fn flush(&self) -> Result<(), QueueError> {
        Ok(())
    }

    /// How long a job handed back with no delay may take to be ready again.
    fn redelivery_latency(&self) -> Duration {
        Duration::ZERO
    }
}

/// A job a worker took, and what tells its queue how it went.
pub struct Taken {
    pub job: ClaimedJob,
    pub ticket: Box<dyn Ticket>,
}

/// A queue's handle on one taken job. The database lease is kept by the
/// worker's heartbeat; a ticket speaks to the queue itself.
#[async_trait]
pub trait Ticket: Send + Sync {
    /// Whether no delivery follows this one, so that a retryable failure must
    /// fail the model now.
    fn is_last(&self) -> bool;
    /// The job is settled (or nothing is left to do): done with it.
    async fn ack(&self);
    /// The job is to run again after `delay` (its retry is recorded).
    async fn retry_later(&self, delay: Duration);
    /// Work goes on: the queue must not hand the job to anyone else yet.
    async fn progress(&self);
}
