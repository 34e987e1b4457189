//! The NATS JetStream queue, for workers on many machines.
//!
//! The [`super::relay`] publishes committed jobs to a work-queue stream; workers
//! pull from one durable consumer, start each pulled job in the database under
//! a lease, report progress while it runs, and acknowledge the message only
//! after the model's settling transaction commits.
//!
//! NATS may be down when a process starts or at any time later: API requests
//! never wait for it, the relay keeps the jobs in the outbox until it is back,
//! and the stream and consumer are created (idempotently) on first use.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::{self, RetentionPolicy, StorageType};
use async_nats::jetstream::{self, AckKind, Message};
use async_trait::async_trait;
use futures_util::StreamExt;
use mannequin_domain::ids::JobId;
use tokio::sync::Mutex;
use tracing::{debug, info, warn};

use super::{JobSource, QueueError, Taken, Ticket};
use crate::clock::now_ms;
use crate::metrics::{JobOutcome, Metrics};
use crate::store::{CRASH_ALLOWANCE, Store, Unpublished};

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
    /// Jobs in the stream that no worker has started, at most: the rest wait
    /// in the outbox, in fair order.
    pub window: u32,
    /// Jobs of one account in flight (running, or in the stream), at most;
    /// 0: no cap.
    pub account_cap: u32,
}

pub struct NatsQueue {
    client: async_nats::Client,
    js: jetstream::Context,
    settings: NatsSettings,
    subject: String,
    consumer: Mutex<Option<PullConsumer>>,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
}

/// One delivery of a job.
struct Delivery {
    job_id: Option<JobId>,
    /// 1 for the first delivery.
    delivered: i64,
    message: Message,
}

impl NatsQueue {
    /// Connects without depending on NATS: if it is down, the client keeps
    /// trying in the background and every call fails until it is back.
    pub async fn connect(
        settings: NatsSettings,
        store: Arc<Store>,
        metrics: Arc<Metrics>,
    ) -> Result<NatsQueue, QueueError> {
        crate::install_crypto();
        let client = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .name("mannequin")
            .connect(settings.url.as_str())
            .await
            .map_err(QueueError::nats)?;
        // Up to half a second for the first connection, so that a process
        // whose NATS is up is ready when it starts; one whose NATS is down
        // starts all the same and says so on `/readyz`.
        let _ = tokio::time::timeout(Duration::from_millis(500), client.flush()).await;
        let mut js = jetstream::new(client.clone());
        js.set_timeout(Duration::from_secs(5));
        Ok(NatsQueue {
            client,
            js,
            subject: format!("{}.jobs", settings.stream),
            settings,
            consumer: Mutex::new(None),
            store,
            metrics,
        })
    }

    /// Whether the connection to NATS is up now.
    pub fn connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    pub fn max_deliver(&self) -> i64 {
        i64::from(self.settings.max_attempts.max(1)) + i64::from(CRASH_ALLOWANCE)
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Jobs the stream may hold that no worker has started.
    pub(crate) fn window(&self) -> u32 {
        self.settings.window
    }

    /// Jobs of one account in flight, at most (0: no cap).
    pub(crate) fn account_cap(&self) -> u32 {
        self.settings.account_cap
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
            .map_err(QueueError::nats)?;
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
            .map_err(QueueError::nats)?;
        info!(stream = %self.settings.stream, consumer = %durable, "NATS stream and consumer ready");
        *cached = Some(consumer.clone());
        Ok(consumer)
    }

    /// Makes sure the stream and consumer exist.
    pub async fn ensure(&self) -> Result<(), QueueError> {
        self.consumer().await.map(|_| ())
    }

    /// Publishes each job and returns those the stream acknowledged. The
    /// payload is the job id; the `Nats-Msg-Id` is the job id too, so a relay
    /// that dies between publishing and recording it publishes again harmlessly
    /// (the stream drops the duplicate; past its window the worker finds the
    /// job settled and only acknowledges it). A job housekeeping put back after
    /// its worker was lost gets a message id of its own, or the stream would
    /// drop it as a duplicate of its first publication.
    pub async fn publish(&self, jobs: &[Unpublished]) -> Result<Vec<JobId>, QueueError> {
        self.ensure().await?;
        let mut pending = Vec::with_capacity(jobs.len());
        for job in jobs {
            let id = job.job_id.as_str();
            let message_id = match job.deliveries {
                0 => id.to_string(),
                n => format!("{id}.{n}"),
            };
            let msg = PublishMessage::build()
                .payload(id.to_string().into())
                .message_id(message_id);
            match self.js.send_publish(self.subject.clone(), msg).await {
                Ok(ack) => pending.push((&job.job_id, ack)),
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
            (true, Some(e)) if !jobs.is_empty() => Err(QueueError::nats(e)),
            _ => Ok(published),
        }
    }

    /// Pulls up to `max` deliveries: what the consumer holds now, or, with a
    /// `wait` and nothing there, the first one to arrive within it.
    async fn pull(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>, QueueError> {
        let consumer = self.consumer().await?;
        let mut got = Vec::new();
        let mut batch = consumer
            .fetch()
            .max_messages(max)
            .messages()
            .await
            .map_err(QueueError::nats)?;
        while let Some(next) = batch.next().await {
            got.push(delivery(next.map_err(QueueError::nats)?));
        }
        if got.is_empty() && !wait.is_zero() {
            // One message at most: the rest of a waiting pull would sit in a
            // dropped subscription until NATS redelivers it.
            let mut batch = consumer
                .batch()
                .max_messages(1)
                .expires(wait)
                .messages()
                .await
                .map_err(QueueError::nats)?;
            while let Some(next) = batch.next().await {
                got.push(delivery(next.map_err(QueueError::nats)?));
            }
        }
        Ok(got)
    }
}

fn delivery(message: Message) -> Delivery {
    let delivered = message.info().map(|i| i.delivered).unwrap_or(1);
    let job_id = std::str::from_utf8(&message.payload)
        .ok()
        .and_then(JobId::parse);
    Delivery {
        job_id,
        delivered,
        message,
    }
}

#[async_trait]
impl JobSource for NatsQueue {
    /// Pulls deliveries and starts their jobs in one transaction. A delivery
    /// whose job is settled already (a redelivery after the commit) is only
    /// acknowledged; one whose start fails is handed back for later.
    async fn take(
        &self,
        worker: &str,
        max: usize,
        wait: Duration,
        lease_until: i64,
    ) -> Result<Vec<Taken>, QueueError> {
        let got = self.pull(max, wait).await?;
        if got.is_empty() {
            return Ok(Vec::new());
        }
        let (known, unknown): (Vec<Delivery>, Vec<Delivery>) =
            got.into_iter().partition(|d| d.job_id.is_some());
        for d in unknown {
            warn!("a message that names no job; acknowledging it");
            ack(&d.message).await;
        }
        let ids: Vec<JobId> = known.iter().filter_map(|d| d.job_id.clone()).collect();
        let started = match self
            .store
            .start_jobs(&ids, worker, now_ms(), lease_until)
            .await
        {
            Ok(started) => started,
            Err(e) => {
                for d in &known {
                    nak(&d.message, Duration::from_millis(500)).await;
                }
                return Err(e.into());
            }
        };
        let max_deliver = self.max_deliver();
        let mut taken = Vec::with_capacity(known.len());
        for (d, job) in known.into_iter().zip(started) {
            match job {
                Some(job) => taken.push(Taken {
                    job,
                    ticket: Box::new(NatsTicket {
                        last: d.delivered >= max_deliver,
                        message: d.message,
                    }),
                }),
                None => {
                    debug!(job_id = ?d.job_id, "job already settled; acknowledging");
                    self.metrics.job(JobOutcome::Duplicate);
                    ack(&d.message).await;
                }
            }
        }
        Ok(taken)
    }

    async fn flush(&self) -> Result<(), QueueError> {
        self.relay_once().await.map(|_| ())
    }

    /// A negative acknowledgement reaches the stream asynchronously.
    fn redelivery_latency(&self) -> Duration {
        Duration::from_millis(300)
    }
}

struct NatsTicket {
    message: Message,
    last: bool,
}

async fn ack(message: &Message) {
    if let Err(e) = message.ack().await {
        // The settling transaction committed; a redelivery finds the job
        // settled and only acknowledges it.
        warn!(error = %e, "could not acknowledge");
    }
}

async fn nak(message: &Message, delay: Duration) {
    if let Err(e) = message.ack_with(AckKind::Nak(Some(delay))).await {
        warn!(error = %e, "could not hand the job back; NATS redelivers it after the ack wait");
    }
}

#[async_trait]
impl Ticket for NatsTicket {
    fn is_last(&self) -> bool {
        self.last
    }

    async fn ack(&self) {
        ack(&self.message).await
    }

    async fn retry_later(&self, delay: Duration) {
        nak(&self.message, delay).await
    }

    /// Resets the message's ack wait.
    async fn progress(&self) {
        let _ = self.message.ack_with(AckKind::Progress).await;
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

/// How many outbox rows one relay pass takes.
const RELAY_BATCH: u32 = 500;

/// How long a relay holds the rows it took: if it dies mid-pass, another relay
/// publishes them after this.
const RELAY_HOLD_MS: i64 = 10_000;

impl NatsQueue {
    /// One relay pass: takes what fits in the window of the outbox (in fair
    /// order), publishes it, records what was published.
    pub async fn relay_once(&self) -> Result<Pass, QueueError> {
        let store = self.store();
        // A job published long ago and still not started has most likely lost
        // its message (a stream purged or recreated): it stops holding the window.
        let since = now_ms() - STALE_AFTER_MS;
        let waiting = store.published_waiting(since).await?;
        let room = u64::from(self.window()).saturating_sub(waiting);
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
                self.account_cap(),
                since,
            )
            .await?;
        if jobs.is_empty() {
            return Ok(Pass {
                published: 0,
                window_full: false,
            });
        }
        let published = self.publish(&jobs).await?;
        store.mark_published(&published, now_ms()).await?;
        Ok(Pass {
            published: published.len(),
            window_full: published.len() as u64 >= room,
        })
    }
}
