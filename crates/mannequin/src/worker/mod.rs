//! The worker: takes jobs, generates and stores the images, and settles each
//! model in one transaction.
//!
//! Jobs come from the database (claimed under a lease) or from NATS JetStream
//! (pulled from a durable consumer, then started in the database under the
//! same lease). Leases are short and extended while work is in progress, and
//! NATS hears of progress as well, so the jobs of a worker that dies come back
//! to others soon after. A retryable failure backs off exponentially with
//! jitter; the last attempt (or the last delivery NATS allows) fails the model
//! and refunds it. A NATS message is acknowledged only after the settling
//! transaction has committed.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tracing::{Instrument, debug, error, info, info_span, warn};

use crate::blob::BlobStore;
use crate::clock::{self, now_ms};
use crate::generator::{GenerateError, Generator};
use crate::metrics::{JobOutcome, Metrics};
use crate::queue::{self, Delivery, NatsQueue};
use crate::store::{ClaimedJob, Completion, Settled, Store, StoreResult};
use mannequin_domain::ModelStatus;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Models generated at once.
    pub concurrency: u32,
    /// How long a claim holds before another worker may take the job.
    pub lease: Duration,
    /// How often to look for work when nothing wakes the worker.
    pub poll: Duration,
    /// First retry delay; doubled per attempt, with jitter, capped at 5 minutes.
    pub retry_base: Duration,
    /// How long SIGTERM waits for jobs in progress before handing them back.
    pub grace: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 2,
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(500),
            retry_base: Duration::from_secs(1),
            grace: Duration::from_secs(20),
        }
    }
}

/// Delay before retry number `attempt` (1 for the first retry): `base × 2^(attempt-1)`,
/// capped, then scaled by a jitter factor in `[0.5, 1.0)` from `unit` in `[0, 1)`.
pub fn backoff(base: Duration, attempt: u32, unit: f64) -> Duration {
    const CAP: Duration = Duration::from_secs(300);
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    exp.min(CAP).mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
}

/// Where a model's images are stored: `models/<shard>/<model id>.png` and
/// `….thumb.jpg`, the shard being the id's last two characters (random), so a
/// directory on local disk holds about 1/1296 of the images and storing a
/// model creates no directory once its shard exists. Keys hold the model id:
/// the bytes under one never change.
pub fn image_keys(model_id: &str) -> (String, String) {
    let shard = model_id
        .get(model_id.len().saturating_sub(2)..)
        .unwrap_or("00");
    (
        format!("models/{shard}/{model_id}.png"),
        format!("models/{shard}/{model_id}.thumb.jpg"),
    )
}

/// How long an `Idempotency-Key` is remembered: a day.
pub const IDEMPOTENCY_TTL_MS: i64 = 24 * 3600 * 1000;

/// How often housekeeping runs.
pub const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(5);

/// Closes reservations past their deadline (failing and refunding their
/// unfinished models) and forgets idempotency keys older than a day.
pub async fn sweep(store: &dyn Store) {
    match store.expire_reservations(now_ms()).await {
        Ok(0) => {}
        Ok(n) => info!(models = n, "reservations past their deadline closed"),
        Err(e) => warn!(error = %e, "could not close expired reservations"),
    }
    if let Err(e) = store
        .prune_idempotency_keys(now_ms() - IDEMPOTENCY_TTL_MS)
        .await
    {
        warn!(error = %e, "could not prune idempotency keys");
    }
}

/// Runs [`sweep`] every [`HOUSEKEEPING_EVERY`] until `shutdown`. Every process
/// runs it, API and worker alike, so that credits are never held past a deadline
/// even while no worker runs; several at once are safe, each sweep being one
/// transaction.
pub async fn housekeeping(store: Arc<dyn Store>, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(HOUSEKEEPING_EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => sweep(store.as_ref()).await,
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
        }
    }
}

/// Where a worker's jobs come from.
#[derive(Clone)]
pub enum Source {
    /// Claimed from the jobs table; the API wakes the worker through the
    /// `Notify` when it registers a batch.
    Database(Arc<Notify>),
    /// Pulled from NATS JetStream.
    Nats(Arc<NatsQueue>),
}

/// What becomes of a delivery once its job has been worked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Settled (or nothing left to do): acknowledge.
    Settled,
    /// Retry after this delay.
    RetryIn(Duration),
    /// The result could not be recorded: deliver again soon.
    Unrecorded,
}

/// A finished model waiting to be recorded, and who waits for the result.
type Finished = (
    ClaimedJob,
    String,
    String,
    oneshot::Sender<StoreResult<Settled>>,
);

/// Most models recorded in one transaction.
const SETTLE_BATCH: usize = 128;

/// Records finished models in groups: whatever finishes while one settling
/// transaction commits goes into the next, so under load many models share a
/// commit and each account row is updated once per group.
fn spawn_settler(store: Arc<dyn Store>) -> mpsc::Sender<Finished> {
    let (tx, mut rx) = mpsc::channel::<Finished>(SETTLE_BATCH * 4);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(SETTLE_BATCH);
        while rx.recv_many(&mut batch, SETTLE_BATCH).await > 0 {
            let done: Vec<Completion<'_>> = batch
                .iter()
                .map(|(job, image_key, thumb_key, _)| Completion {
                    job,
                    image_key,
                    thumb_key,
                })
                .collect();
            let result = store.complete_models(&done, now_ms()).await;
            drop(done);
            for (i, (_, _, _, reply)) in batch.drain(..).enumerate() {
                let _ = reply.send(match &result {
                    Ok(settled) => Ok(settled[i]),
                    Err(e) => Err(e.clone()),
                });
            }
        }
    });
    tx
}

pub struct Worker {
    pub id: String,
    settler: mpsc::Sender<Finished>,
    source: Source,
    /// Turns true when shutdown's grace is over: jobs still running hand their
    /// deliveries back at once.
    hand_back: watch::Sender<bool>,
    store: Arc<dyn Store>,
    blobs: Arc<dyn BlobStore>,
    generator: Arc<dyn Generator>,
    metrics: Arc<Metrics>,
    config: WorkerConfig,
}

impl Worker {
    pub fn new(
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        generator: Arc<dyn Generator>,
        metrics: Arc<Metrics>,
        config: WorkerConfig,
        source: Source,
    ) -> Worker {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
        Worker {
            id: format!(
                "{host}-{}-{}",
                std::process::id(),
                clock::random_string(mannequin_domain::ids::LOWER36, 6)
            ),
            source,
            hand_back: watch::channel(false).0,
            settler: spawn_settler(store.clone()),
            store,
            blobs,
            generator,
            metrics,
            config,
        }
    }

    fn lease_until(&self) -> i64 {
        now_ms() + self.config.lease.as_millis() as i64
    }

    /// Runs until `shutdown` turns true, then finishes or hands back its jobs.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        info!(worker = %self.id, concurrency = self.config.concurrency, "worker started");
        let concurrency = self.config.concurrency.max(1);
        let slots = Arc::new(Semaphore::new(concurrency as usize));
        // The heartbeat runs until every job in progress has finished or been
        // handed back, shutdown grace included, so no lease runs out under a
        // job that is still being worked on.
        let heartbeat = {
            let me = self.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(me.config.lease / 3);
                loop {
                    tick.tick().await;
                    if let Err(e) = me.store.extend_leases(&me.id, me.lease_until()).await {
                        warn!(error = %e, "could not extend leases");
                    }
                }
            })
        };
        loop {
            if *shutdown.borrow() {
                break;
            }
            let permit = tokio::select! {
                p = slots.clone().acquire_owned() => p.expect("semaphore is never closed"),
                _ = shutdown.changed() => break,
            };
            let free = slots.available_permits() as u32 + 1;
            let wake = match &self.source {
                Source::Database(wake) => wake,
                Source::Nats(q) => {
                    let mut permits = vec![permit];
                    while permits.len() < free as usize {
                        match slots.clone().try_acquire_owned() {
                            Ok(p) => permits.push(p),
                            Err(_) => break,
                        }
                    }
                    if let Err(e) = self.pull_round(q, permits).await {
                        warn!(error = %e, "could not pull jobs from NATS");
                        tokio::select! {
                            _ = tokio::time::sleep(self.config.poll) => {}
                            _ = shutdown.changed() => {}
                        }
                    }
                    continue;
                }
            };
            match self
                .store
                .claim_jobs(&self.id, free, now_ms(), self.lease_until())
                .await
            {
                Ok(jobs) if jobs.is_empty() => {
                    drop(permit);
                    tokio::select! {
                        _ = wake.notified() => {}
                        _ = tokio::time::sleep(self.config.poll) => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Ok(jobs) => {
                    let mut first = Some(permit);
                    for job in jobs {
                        let p: OwnedSemaphorePermit = match first.take() {
                            Some(p) => p,
                            None => slots
                                .clone()
                                .try_acquire_owned()
                                .expect("claimed no more than free slots"),
                        };
                        let me = self.clone();
                        tokio::spawn(async move {
                            me.process(job, false).await;
                            drop(p);
                        });
                    }
                }
                Err(e) => {
                    drop(permit);
                    warn!(error = %e, "could not claim jobs");
                    tokio::select! {
                        _ = tokio::time::sleep(self.config.poll) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        }
        info!(worker = %self.id, "worker stopping: finishing jobs in progress");
        let all = tokio::time::timeout(self.config.grace, slots.acquire_many(concurrency)).await;
        heartbeat.abort();
        if all.is_err() {
            let _ = self.hand_back.send(true);
            match self.store.release_jobs(&self.id, now_ms()).await {
                Ok(n) => info!(jobs = n, "handed back jobs still in progress"),
                Err(e) => warn!(error = %e, "could not hand back jobs; their leases will run out"),
            }
        }
        info!(worker = %self.id, "worker stopped");
    }

    /// Claims and processes ready jobs until none is left; returns how many it
    /// processed. Tests drive the queue with this instead of waiting.
    pub async fn run_ready(self: &Arc<Self>) -> u64 {
        if let Source::Nats(q) = &self.source {
            return self.run_ready_nats(q).await;
        }
        let mut n = 0;
        loop {
            let jobs = match self
                .store
                .claim_jobs(
                    &self.id,
                    self.config.concurrency.max(1),
                    now_ms(),
                    self.lease_until(),
                )
                .await
            {
                Ok(j) => j,
                Err(e) => {
                    warn!(error = %e, "could not claim jobs");
                    return n;
                }
            };
            if jobs.is_empty() {
                return n;
            }
            let mut set = JoinSet::new();
            for job in jobs {
                let me = self.clone();
                set.spawn(async move { me.process(job, false).await });
                n += 1;
            }
            while set.join_next().await.is_some() {}
        }
    }

    /// [`Worker::run_ready`] on NATS: relays the outbox, then works on what
    /// the consumer holds, until it holds nothing. A job handed back for an
    /// immediate retry comes back asynchronously, so after a round that worked
    /// on something the next pull waits briefly for it.
    async fn run_ready_nats(self: &Arc<Self>, q: &Arc<NatsQueue>) -> u64 {
        let mut n = 0;
        let mut wait = Duration::ZERO;
        loop {
            if let Err(e) = queue::relay_once(self.store.as_ref(), q).await {
                warn!(error = %e, "could not relay the outbox");
                return n;
            }
            let mut got = Vec::new();
            let max = self.config.concurrency.max(1) as usize;
            if let Err(e) = q.pull(max, wait, |d| got.push(d)).await {
                warn!(error = %e, "could not pull jobs from NATS");
                return n;
            }
            if got.is_empty() {
                if wait.is_zero() && n > 0 {
                    wait = Duration::from_millis(300);
                    continue;
                }
                return n;
            }
            wait = Duration::ZERO;
            let mut set = JoinSet::new();
            for d in got {
                let me = self.clone();
                set.spawn(async move { me.deliver(d).await });
            }
            while let Some(worked) = set.join_next().await {
                n += u64::from(worked.unwrap_or(false));
            }
        }
    }

    /// One pull from NATS for up to `permits.len()` jobs. What the consumer
    /// holds now comes as one batch, started in one transaction; when it holds
    /// nothing, the pull waits for work and starts each job as it arrives.
    async fn pull_round(
        self: &Arc<Self>,
        q: &NatsQueue,
        mut permits: Vec<OwnedSemaphorePermit>,
    ) -> Result<(), queue::QueueError> {
        let mut got = Vec::new();
        q.pull(permits.len(), Duration::ZERO, |d| got.push(d))
            .await?;
        if !got.is_empty() {
            self.start_batch(got, &mut permits).await;
            return Ok(());
        }
        q.pull(permits.len(), self.config.poll, |d| {
            let p = permits.pop().expect("pulled no more than free slots");
            let me = self.clone();
            tokio::spawn(async move {
                me.deliver(d).await;
                drop(p);
            });
        })
        .await
        .map(|_| ())
    }

    /// Starts a batch of deliveries in one transaction and works on each with
    /// one of `permits`.
    async fn start_batch(
        self: &Arc<Self>,
        got: Vec<Delivery>,
        permits: &mut Vec<OwnedSemaphorePermit>,
    ) {
        let ids: Vec<String> = got.iter().map(|d| d.job_id.clone()).collect();
        let started = self
            .store
            .start_jobs(&ids, &self.id, now_ms(), self.lease_until())
            .await;
        for (i, d) in got.into_iter().enumerate() {
            let p = permits.pop().expect("pulled no more than free slots");
            let job = match &started {
                Ok(jobs) => Ok(jobs[i].clone()),
                Err(e) => Err(e.clone()),
            };
            let me = self.clone();
            tokio::spawn(async move {
                me.work_on(d, job).await;
                drop(p);
            });
        }
    }

    /// Works on one NATS delivery: starts its job in the database, reports
    /// progress while it runs, and acknowledges or hands it back after the
    /// outcome is recorded. Returns whether a job was worked on (not only
    /// acknowledged as settled already).
    async fn deliver(self: Arc<Self>, d: Delivery) -> bool {
        let started = self
            .store
            .start_job(&d.job_id, &self.id, now_ms(), self.lease_until())
            .await;
        self.work_on(d, started).await
    }

    /// [`Worker::deliver`] once the job's start is known.
    async fn work_on(
        self: Arc<Self>,
        d: Delivery,
        started: StoreResult<Option<ClaimedJob>>,
    ) -> bool {
        let Source::Nats(q) = &self.source else {
            return false;
        };
        let job = match started {
            Ok(Some(job)) => job,
            Ok(None) => {
                debug!(job_id = %d.job_id, "job already settled; acknowledging");
                self.metrics.job(JobOutcome::Duplicate);
                d.ack().await;
                return false;
            }
            Err(e) => {
                warn!(error = %e, job_id = %d.job_id, "could not start the job");
                d.nak(self.config.retry_base.max(Duration::from_millis(500)))
                    .await;
                return false;
            }
        };
        let last = d.is_last(q.max_deliver());
        let work = self.process(job, last);
        tokio::pin!(work);
        let mut hand_back = self.hand_back.subscribe();
        let handed_back = async move {
            let _ = hand_back.wait_for(|h| *h).await.is_ok();
        };
        tokio::pin!(handed_back);
        let mut progress = tokio::time::interval(self.config.lease / 3);
        progress.tick().await;
        let verdict = loop {
            tokio::select! {
                v = &mut work => break Some(v),
                _ = progress.tick() => d.progress().await,
                _ = &mut handed_back => break None,
            }
        };
        match verdict {
            Some(Verdict::Settled) => d.ack().await,
            Some(Verdict::RetryIn(delay)) => d.nak(delay).await,
            Some(Verdict::Unrecorded) => d.nak(self.config.retry_base).await,
            None => d.nak(Duration::ZERO).await,
        }
        true
    }

    /// Generates, stores and settles one job. `last` is true when no delivery
    /// follows this one, so a retryable failure fails the model now.
    async fn process(&self, job: ClaimedJob, last: bool) -> Verdict {
        let span = info_span!(
            "job",
            correlation_id = %job.correlation_id,
            model_id = %job.model_id,
            attempt = job.attempts + 1
        );
        async {
            debug!("generating");
            let result = self.generator.generate(&job.idea).await;
            let (outcome, verdict) = match result {
                Ok(images) => {
                    let (full_key, thumb_key) = image_keys(&job.model_id);
                    let stored = async {
                        self.blobs
                            .put(&full_key, images.full_png, "image/png")
                            .await?;
                        self.blobs
                            .put(&thumb_key, images.thumb_jpeg, "image/jpeg")
                            .await
                    }
                    .await;
                    match stored {
                        Ok(()) => self.complete(&job, &full_key, &thumb_key, last).await,
                        Err(e) => self.retry_or_fail(&job, &e.to_string(), last).await,
                    }
                }
                Err(GenerateError::Retryable(msg)) => self.retry_or_fail(&job, &msg, last).await,
                Err(GenerateError::Fatal(msg)) => self.fail(&job, &msg).await,
            };
            self.metrics.job(outcome);
            verdict
        }
        .instrument(span)
        .await
    }

    async fn complete(
        &self,
        job: &ClaimedJob,
        full_key: &str,
        thumb_key: &str,
        last: bool,
    ) -> (JobOutcome, Verdict) {
        let (reply, result) = oneshot::channel();
        let finished = (
            job.clone(),
            full_key.to_string(),
            thumb_key.to_string(),
            reply,
        );
        let settled = match self.settler.send(finished).await {
            Ok(()) => result.await.unwrap_or_else(|_| {
                Err(crate::store::StoreError::Internal("settler stopped".into()))
            }),
            Err(_) => {
                self.store
                    .complete_model(job, full_key, thumb_key, now_ms())
                    .await
            }
        };
        match settled {
            Ok(Settled::Now) => {
                self.metrics.credits_consumed(job.price);
                info!(credits = job.price, "model done");
                (JobOutcome::Done, Verdict::Settled)
            }
            Ok(Settled::Already(ModelStatus::Done)) => {
                info!("model was already done; nothing changed");
                (JobOutcome::Duplicate, Verdict::Settled)
            }
            Ok(Settled::Already(status)) => {
                // Failed or cancelled meanwhile (deadline, client): the images
                // just stored belong to no finished model.
                info!(
                    status = status.as_str(),
                    "model was settled meanwhile; removing its images"
                );
                for key in [full_key, thumb_key] {
                    if let Err(e) = self.blobs.delete(key).await {
                        warn!(error = %e, key, "could not remove an unused image");
                    }
                }
                (JobOutcome::Duplicate, Verdict::Settled)
            }
            Err(e) => {
                // The images are stored; the settling transaction did not commit.
                // The lease runs out and the job comes back: nothing is lost.
                error!(error = %e, "could not record the finished model");
                self.retry_or_fail(job, "could not record the result", last)
                    .await
            }
        }
    }

    async fn fail(&self, job: &ClaimedJob, reason: &str) -> (JobOutcome, Verdict) {
        match self.store.fail_model(job, reason, now_ms()).await {
            Ok(Settled::Now) => {
                self.metrics.credits_refunded(job.price);
                warn!(reason, credits = job.price, "model failed and was refunded");
                (JobOutcome::Failed, Verdict::Settled)
            }
            Ok(Settled::Already(_)) => (JobOutcome::Duplicate, Verdict::Settled),
            Err(e) => {
                error!(error = %e, "could not record the failed model; its lease will run out");
                (JobOutcome::Retried, Verdict::Unrecorded)
            }
        }
    }

    async fn retry_or_fail(
        &self,
        job: &ClaimedJob,
        reason: &str,
        last: bool,
    ) -> (JobOutcome, Verdict) {
        let attempt = job.attempts + 1;
        if attempt >= job.max_attempts || last {
            return self.fail(job, reason).await;
        }
        let delay = backoff(self.config.retry_base, attempt, clock::random_unit());
        let run_at = now_ms() + delay.as_millis() as i64;
        let verdict = match self
            .store
            .retry_job(job, &self.id, reason, run_at, now_ms())
            .await
        {
            Ok(()) => {
                warn!(
                    reason,
                    retry_in_ms = delay.as_millis() as u64,
                    "attempt failed; will retry"
                );
                Verdict::RetryIn(delay)
            }
            Err(e) => {
                error!(error = %e, "could not schedule the retry; the lease will run out");
                Verdict::Unrecorded
            }
        };
        (JobOutcome::Retried, verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_keys_are_sharded_by_the_ids_tail() {
        let (full, thumb) = image_keys("model_01m8h0219szfj6vwfj8ypxrhen");
        assert_eq!(full, "models/en/model_01m8h0219szfj6vwfj8ypxrhen.png");
        assert_eq!(
            thumb,
            "models/en/model_01m8h0219szfj6vwfj8ypxrhen.thumb.jpg"
        );
        assert!(crate::blob::valid_key(&full) && crate::blob::valid_key(&thumb));
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let base = Duration::from_secs(1);
        assert_eq!(backoff(base, 1, 0.0), Duration::from_millis(500));
        assert_eq!(backoff(base, 1, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(base, 3, 0.0), Duration::from_secs(2));
        assert_eq!(backoff(base, 30, 1.0), Duration::from_secs(300));
        let a = backoff(base, 2, 0.25);
        assert!(a >= Duration::from_secs(1) && a < Duration::from_secs(2));
    }
}
