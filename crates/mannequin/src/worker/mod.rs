//! The worker: takes jobs from its [`JobSource`], generates and stores the
//! images, and settles each model in one transaction.
//!
//! Whatever the queue, a taken job runs under a database lease that the
//! worker's heartbeat extends while work is in progress, and the queue hears
//! of progress too, so the jobs of a worker that dies come back to others soon
//! after. A retryable failure backs off exponentially with jitter; the last
//! attempt (or the last delivery the queue allows) fails the model and refunds
//! it. The queue is told the outcome only after it is recorded.
//!
//! A generator that reports a misconfiguration (bad credentials, an unknown
//! model, a server that is not there) pauses the worker: it takes no jobs,
//! says why in its log and on `/readyz`, puts back what it held untried, and
//! checks the generator again with growing pauses until it answers.

mod process;
mod settle;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use crate::blob::BlobStore;
use crate::clock::{self, now_ms};
use crate::error::Report;
use crate::generator::{GenerateError, Generator, Prompting, Reason};
use crate::inputs::Inputs;
use crate::metrics::Metrics;
use crate::queue::{JobSource, Taken};
use crate::store::Store;
use process::Verdict;
use settle::Settler;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Models generated at once.
    pub concurrency: u32,
    /// How long a claim holds before another worker may take the job.
    pub lease: Duration,
    /// How long to wait for work before looking again.
    pub poll: Duration,
    /// First retry delay; doubled per attempt, with jitter, capped at 5 minutes.
    pub retry_base: Duration,
    /// How long SIGTERM waits for jobs in progress before handing them back.
    pub grace: Duration,
    /// How long one model's generation may take, waiting included.
    pub generation_timeout: Duration,
    /// The first pause after a misconfiguration; doubled while it lasts, up
    /// to 5 minutes.
    pub misconfigured_pause: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 2,
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(500),
            retry_base: Duration::from_secs(1),
            grace: Duration::from_secs(20),
            generation_timeout: Duration::from_secs(300),
            misconfigured_pause: Duration::from_secs(5),
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

pub struct Worker {
    pub id: String,
    source: Arc<dyn JobSource>,
    settler: Settler,
    /// Turns true when shutdown's grace is over: jobs still running hand their
    /// deliveries back at once.
    hand_back: watch::Sender<bool>,
    store: Arc<Store>,
    blobs: Arc<dyn BlobStore>,
    generator: Arc<dyn Generator>,
    generator_name: String,
    /// The images pictures made from a product are made from, prepared once.
    inputs: Inputs,
    prompting: Prompting,
    /// Why the generator cannot work, while the worker is paused for it.
    paused: watch::Sender<Option<String>>,
    /// Misconfigurations seen in a row: each doubles the next pause.
    misconfigured: AtomicU32,
    metrics: Arc<Metrics>,
    config: WorkerConfig,
}

impl Worker {
    pub fn new(
        store: Arc<Store>,
        source: Arc<dyn JobSource>,
        blobs: Arc<dyn BlobStore>,
        generator: Arc<dyn Generator>,
        prompting: Prompting,
        metrics: Arc<Metrics>,
        config: WorkerConfig,
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
            settler: Settler::spawn(store.clone()),
            inputs: Inputs::new(store.clone(), blobs.clone(), metrics.clone()),
            store,
            blobs,
            generator_name: generator.name(),
            generator,
            prompting,
            paused: watch::channel(None).0,
            misconfigured: AtomicU32::new(0),
            metrics,
            config,
        }
    }

    /// Why the worker is paused (the generator is misconfigured), or `None`
    /// while it takes jobs; for `/readyz`.
    pub fn paused(&self) -> watch::Receiver<Option<String>> {
        self.paused.subscribe()
    }

    /// Stops taking jobs because the generator cannot work as configured.
    /// Many jobs in flight may report it at once: the pause grows only when
    /// the worker was not paused yet, or a check while paused fails again.
    fn pause_generator(&self, reason: &Reason) {
        let was = self.paused.send_replace(Some(reason.public.clone()));
        self.metrics.generator_paused(true);
        if was.is_none() {
            self.misconfigured.fetch_add(1, Ordering::SeqCst);
            error!(
                generator = %self.generator_name,
                reason = %reason,
                "the generator is misconfigured: taking no jobs until it works"
            );
        }
    }

    /// A generation went through: whatever was wrong is fixed.
    fn generator_works(&self) {
        self.misconfigured.store(0, Ordering::SeqCst);
    }

    /// How long to wait before checking a misconfigured generator again.
    fn pause_length(&self) -> Duration {
        let n = self.misconfigured.load(Ordering::SeqCst).clamp(1, 16);
        self.config
            .misconfigured_pause
            .saturating_mul(1 << (n - 1))
            .min(Duration::from_secs(300))
    }

    /// Asks the generator whether it works as configured; pauses the worker
    /// when it does not and resumes it when it does. Returns whether the
    /// worker takes jobs now.
    pub async fn check_generator(&self) -> bool {
        match self.generator.check().await {
            Err(GenerateError::Misconfigured(reason)) => {
                if self.paused.borrow().is_some() {
                    self.misconfigured.fetch_add(1, Ordering::SeqCst);
                }
                self.pause_generator(&reason);
                false
            }
            Ok(()) | Err(_) => {
                self.metrics.generator_paused(false);
                if self.paused.send_replace(None).is_some() {
                    info!(generator = %self.generator_name, "the generator answers again: taking jobs");
                }
                true
            }
        }
    }

    /// Checks the generator at start and, while the worker is paused, again
    /// after each (growing) pause.
    async fn watch_generator(self: Arc<Self>) {
        self.check_generator().await;
        let mut paused = self.paused.subscribe();
        loop {
            if paused.wait_for(Option::is_some).await.is_err() {
                return;
            }
            tokio::time::sleep(self.pause_length()).await;
            self.check_generator().await;
        }
    }

    fn lease_until(&self) -> i64 {
        now_ms() + i64::try_from(self.config.lease.as_millis()).unwrap_or(i64::MAX)
    }

    /// Runs until `shutdown` turns true, then finishes or hands back its jobs.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        info!(
            worker = %self.id,
            generator = %self.generator_name,
            concurrency = self.config.concurrency,
            "worker started"
        );
        let concurrency = self.config.concurrency;
        let watcher = tokio::spawn(self.clone().watch_generator());
        let mut paused = self.paused.subscribe();
        // A slot is a generation at once; a job gives it back when the
        // generator answers and is held, storing its images and waiting for
        // its group to be recorded, under a permit of `held` until it ends.
        let slots = Arc::new(Semaphore::new(concurrency as usize));
        let held_max = concurrency + settle::GROUP as u32;
        let held = Arc::new(Semaphore::new(held_max as usize));
        // The heartbeat runs until every job in progress has finished or been
        // handed back, shutdown grace included, so no lease runs out under a
        // job that is still being worked on.
        let heartbeat = {
            let me = self.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(me.config.lease / 3);
                loop {
                    tick.tick().await;
                    match me.store.extend_leases(&me.id, me.lease_until()).await {
                        Ok(n) => me.metrics.leases_extended(n),
                        Err(e) => warn!(error = %Report(&e), "could not extend leases"),
                    }
                }
            })
        };
        loop {
            if *shutdown.borrow() {
                break;
            }
            if paused.borrow().is_some() {
                tokio::select! {
                    _ = paused.wait_for(Option::is_none) => {}
                    _ = shutdown.changed() => break,
                }
                continue;
            }
            let first = tokio::select! {
                p = both(&slots, &held) => p,
                _ = shutdown.changed() => break,
            };
            let mut permits = vec![first];
            while let (Ok(slot), Ok(hold)) = (
                slots.clone().try_acquire_owned(),
                held.clone().try_acquire_owned(),
            ) {
                permits.push((slot, hold));
            }
            let taken = self
                .source
                .take(
                    &self.id,
                    permits.len(),
                    self.config.poll,
                    self.lease_until(),
                )
                .await;
            match taken {
                Ok(taken) => {
                    for t in taken {
                        let (slot, hold) = permits.pop().expect("took no more than free slots");
                        let me = self.clone();
                        let metrics = me.metrics.clone();
                        metrics.jobs_in_flight(1);
                        tokio::spawn(async move {
                            me.work(t, Some(slot)).await;
                            metrics.jobs_in_flight(-1);
                            drop(hold);
                        });
                    }
                    // Let the jobs just spawned start before counting free
                    // slots again: otherwise each claim finds the previous
                    // claim's jobs still holding their slots, and a fast
                    // generator's claims settle at half the slots each.
                    tokio::task::yield_now().await;
                }
                Err(e) => {
                    drop(permits);
                    warn!(error = %Report(&e), "could not take jobs");
                    tokio::select! {
                        _ = tokio::time::sleep(self.config.poll) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        }
        info!(worker = %self.id, "worker stopping: finishing jobs in progress");
        let all = tokio::time::timeout(self.config.grace, held.acquire_many(held_max)).await;
        heartbeat.abort();
        watcher.abort();
        if all.is_err() {
            let _ = self.hand_back.send(true);
            match self.store.release_jobs(&self.id, now_ms()).await {
                Ok(n) => info!(jobs = n, "handed back jobs still in progress"),
                Err(e) => {
                    warn!(error = %Report(&e), "could not hand back jobs; their leases will run out")
                }
            }
        }
        info!(worker = %self.id, "worker stopped");
    }

    /// Takes and works on ready jobs until none is left; returns how many it
    /// worked on. Tests drive the queue with this instead of waiting.
    pub async fn run_ready(self: &Arc<Self>) -> u64 {
        let mut n = 0;
        let mut wait = Duration::ZERO;
        loop {
            if self.paused.borrow().is_some() {
                return n;
            }
            if let Err(e) = self.source.flush().await {
                warn!(error = %Report(&e), "could not make queued jobs ready");
                return n;
            }
            let max = self.config.concurrency as usize;
            let taken = match self
                .source
                .take(&self.id, max, wait, self.lease_until())
                .await
            {
                Ok(taken) => taken,
                Err(e) => {
                    warn!(error = %Report(&e), "could not take jobs");
                    return n;
                }
            };
            if taken.is_empty() {
                // A job handed back for an immediate retry (by this call or
                // an earlier one) may come back asynchronously: look once more.
                let latency = self.source.redelivery_latency();
                if wait.is_zero() && !latency.is_zero() {
                    wait = latency;
                    continue;
                }
                return n;
            }
            wait = Duration::ZERO;
            let mut set = JoinSet::new();
            for t in taken {
                let me = self.clone();
                set.spawn(async move { me.work(t, None).await });
                n += 1;
            }
            while set.join_next().await.is_some() {}
        }
    }

    /// Works on one taken job: reports progress to its queue while it runs,
    /// and tells the queue the outcome once it is recorded.
    async fn work(self: Arc<Self>, taken: Taken, slot: Option<OwnedSemaphorePermit>) {
        let Taken { job, ticket } = taken;
        let work = self.process(job, ticket.is_last(), slot);
        tokio::pin!(work);
        let mut hand_back = self.hand_back.subscribe();
        let handed_back = async move {
            let _ = hand_back.wait_for(|h| *h).await.is_ok();
        };
        tokio::pin!(handed_back);
        // The first report is due a third of a lease from now. (An interval's
        // immediate first tick would cost every job a wait for the timer's
        // next millisecond.)
        let every = self.config.lease / 3;
        let mut progress = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        let verdict = loop {
            tokio::select! {
                v = &mut work => break Some(v),
                _ = progress.tick() => ticket.progress().await,
                _ = &mut handed_back => break None,
            }
        };
        match verdict {
            Some(Verdict::Settled) => ticket.ack().await,
            Some(Verdict::RetryIn(delay)) => ticket.retry_later(delay).await,
            Some(Verdict::Unrecorded) => ticket.retry_later(self.config.retry_base).await,
            None => ticket.retry_later(Duration::ZERO).await,
        }
    }
}

/// A slot and a permit to hold a job, waited for in that order.
async fn both(
    slots: &Arc<Semaphore>,
    held: &Arc<Semaphore>,
) -> (OwnedSemaphorePermit, OwnedSemaphorePermit) {
    let slot = slots.clone().acquire_owned().await;
    let hold = held.clone().acquire_owned().await;
    (
        slot.expect("semaphore is never closed"),
        hold.expect("semaphore is never closed"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
