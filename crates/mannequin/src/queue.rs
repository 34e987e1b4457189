//! The NATS JetStream queue, for workers on many machines.
//!
//! The database stays the source of truth: register-ideas writes each job in
//! the batch's transaction (the outbox), and the [`relay`] publishes unpublished
//! jobs to a work-queue stream with the job id as `Nats-Msg-Id`, so a relay that
//! dies between publishing and recording it publishes again harmlessly (the
//! stream drops the duplicate; past its window the worker finds the job settled
//! and only acknowledges it). Workers pull from one durable consumer and
//! acknowledge a message only after the model's settling transaction commits.
//!
//! NATS may be down when a process starts or at any time later: API requests
//! never wait for it, the relay keeps the jobs in the outbox until it is back,
//! and the stream and consumer are created (idempotently) on first use.

use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::{self, RetentionPolicy, StorageType};
use async_nats::jetstream::{self, AckKind, Message};
use futures_util::StreamExt;
use std::sync::Arc;
use tokio::sync::{Mutex, Notify, watch};
use tracing::{info, warn};

use crate::clock::now_ms;
use crate::store::Store;

/// Deliveries a job gets beyond its attempts: a worker killed mid-job, or one
/// that handed it back on shutdown, costs a delivery but not an attempt.
pub const CRASH_ALLOWANCE: i64 = 5;

/// How the stream and consumer are set up.
#[derive(Debug, Clone)]
pub struct NatsSettings {
    pub url: String,
    /// Stream name; subjects are `<stream>.jobs`, the consumer `<stream>-workers`.
    pub stream: String,
    /// How long a delivery may go without progress before NATS redelivers it.
    pub ack_wait: Duration,
    /// Attempts per job (the database counts them); deliveries are capped at
    /// this plus [`CRASH_ALLOWANCE`].
    pub max_attempts: u32,
}

#[derive(Debug)]
pub struct QueueError(pub String);

impl std::fmt::Display for QueueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "queue: {}", self.0)
    }
}

impl std::error::Error for QueueError {}

fn qerr(e: impl std::fmt::Display) -> QueueError {
    QueueError(e.to_string())
}

pub struct NatsQueue {
    js: jetstream::Context,
    settings: NatsSettings,
    subject: String,
    consumer: Mutex<Option<PullConsumer>>,
}

/// One delivery of a job.
pub struct Delivery {
    pub job_id: String,
    /// 1 for the first delivery.
    pub delivered: i64,
    pub message: Message,
}

impl NatsQueue {
    /// Connects without waiting for NATS: if it is down, the client keeps
    /// trying in the background and every call fails until it is back.
    pub async fn connect(settings: NatsSettings) -> Result<NatsQueue, QueueError> {
        crate::install_crypto();
        let client = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .name("mannequin")
            .connect(settings.url.as_str())
            .await
            .map_err(qerr)?;
        let mut js = jetstream::new(client);
        js.set_timeout(Duration::from_secs(5));
        Ok(NatsQueue {
            js,
            subject: format!("{}.jobs", settings.stream),
            settings,
            consumer: Mutex::new(None),
        })
    }

    pub fn max_deliver(&self) -> i64 {
        i64::from(self.settings.max_attempts.max(1)) + CRASH_ALLOWANCE
    }

    /// The stream and the durable consumer, created if missing. Several
    /// processes may do this at once; an existing one is used as it is.
    async fn consumer(&self) -> Result<PullConsumer, QueueError> {
        let mut cached = self.consumer.lock().await;
        if let Some(c) = cached.as_ref() {
            return Ok(c.clone());
        }
        let stream = self
            .js
            .get_or_create_stream(stream::Config {
                name: self.settings.stream.clone(),
                subjects: vec![self.subject.clone()],
                retention: RetentionPolicy::WorkQueue,
                storage: StorageType::File,
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await
            .map_err(qerr)?;
        let durable = format!("{}-workers", self.settings.stream);
        let consumer: PullConsumer = stream
            .get_or_create_consumer(
                &durable,
                pull::Config {
                    durable_name: Some(durable.clone()),
                    ack_policy: AckPolicy::Explicit,
                    ack_wait: self.settings.ack_wait,
                    max_deliver: self.max_deliver(),
                    max_ack_pending: 20_000,
                    filter_subject: self.subject.clone(),
                    ..Default::default()
                },
            )
            .await
            .map_err(qerr)?;
        info!(stream = %self.settings.stream, consumer = %durable, "NATS stream and consumer ready");
        *cached = Some(consumer.clone());
        Ok(consumer)
    }

    /// Makes sure the stream and consumer exist.
    pub async fn ensure(&self) -> Result<(), QueueError> {
        self.consumer().await.map(|_| ())
    }

    /// Publishes each job (payload and `Nats-Msg-Id`: its id) and returns those
    /// the stream acknowledged.
    pub async fn publish(&self, job_ids: &[String]) -> Result<Vec<String>, QueueError> {
        self.ensure().await?;
        let mut pending = Vec::with_capacity(job_ids.len());
        for id in job_ids {
            let msg = PublishMessage::build()
                .payload(id.clone().into())
                .message_id(id);
            match self.js.send_publish(self.subject.clone(), msg).await {
                Ok(ack) => pending.push((id, ack)),
                Err(e) => {
                    warn!(error = %e, "publish failed");
                    break;
                }
            }
        }
        let mut published = Vec::with_capacity(pending.len());
        let mut last_error = None;
        for (id, ack) in pending {
            match ack.await {
                Ok(_) => published.push(id.clone()),
                Err(e) => last_error = Some(e),
            }
        }
        match (published.is_empty(), last_error) {
            (true, Some(e)) if !job_ids.is_empty() => Err(qerr(e)),
            _ => Ok(published),
        }
    }

    /// Pulls up to `max` deliveries, handing each to `each` as it arrives, for
    /// at most `wait` (or, with `wait` zero, only what is there now).
    pub async fn pull(
        &self,
        max: usize,
        wait: Duration,
        mut each: impl FnMut(Delivery),
    ) -> Result<usize, QueueError> {
        let consumer = self.consumer().await?;
        let mut batch = if wait.is_zero() {
            consumer
                .fetch()
                .max_messages(max)
                .messages()
                .await
                .map_err(qerr)?
        } else {
            consumer
                .batch()
                .max_messages(max)
                .expires(wait)
                .messages()
                .await
                .map_err(qerr)?
        };
        let mut n = 0;
        while let Some(next) = batch.next().await {
            let message = next.map_err(qerr)?;
            let delivered = message.info().map(|i| i.delivered).unwrap_or(1);
            let job_id = String::from_utf8_lossy(&message.payload).into_owned();
            each(Delivery {
                job_id,
                delivered,
                message,
            });
            n += 1;
        }
        Ok(n)
    }
}

impl Delivery {
    pub fn is_last(&self, max_deliver: i64) -> bool {
        self.delivered >= max_deliver
    }

    /// Acknowledges: the job is settled, or nothing is left to do for it.
    pub async fn ack(&self) {
        if let Err(e) = self.message.ack().await {
            // The settling transaction committed; a redelivery finds the job
            // settled and only acknowledges it.
            warn!(error = %e, job_id = %self.job_id, "could not acknowledge");
        }
    }

    /// Asks for redelivery after `delay`.
    pub async fn nak(&self, delay: Duration) {
        if let Err(e) = self.message.ack_with(AckKind::Nak(Some(delay))).await {
            warn!(error = %e, job_id = %self.job_id, "could not hand the job back; NATS redelivers it after the ack wait");
        }
    }

    /// Tells NATS the work goes on, resetting its ack wait.
    pub async fn progress(&self) {
        let _ = self.message.ack_with(AckKind::Progress).await;
    }
}

/// Publishes the outbox until `shutdown`: woken by `wake` when this process
/// registers a batch, and every second for the jobs of other processes or of a
/// time NATS was down.
pub async fn relay(
    store: Arc<dyn Store>,
    queue: Arc<NatsQueue>,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
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
        let delay = match relay_once(store.as_ref(), &queue).await {
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

/// How many outbox rows one relay pass takes.
const RELAY_BATCH: u32 = 500;

/// How long a relay holds the rows it took: if it dies mid-pass, another relay
/// publishes them after this.
const RELAY_HOLD_MS: i64 = 10_000;

/// One pass: takes a batch of the outbox, publishes it, records what was
/// published. Returns how many were published.
pub async fn relay_once(store: &dyn Store, queue: &NatsQueue) -> Result<usize, QueueError> {
    let now = now_ms();
    let ids = store
        .claim_outbox(RELAY_BATCH, now, now + RELAY_HOLD_MS)
        .await
        .map_err(qerr)?;
    if ids.is_empty() {
        return Ok(0);
    }
    let published = queue.publish(&ids).await?;
    store
        .mark_published(&published, now_ms())
        .await
        .map_err(qerr)?;
    Ok(published.len())
}
