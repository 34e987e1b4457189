//! One job, start to finish: build the prompt, generate, store the images,
//! settle, or retry or fail with a reason the customer may read while the full
//! cause goes to the log. A misconfigured generator pauses the worker and
//! puts the job back untried.

use std::time::Duration;

use mannequin_domain::ModelStatus;
use tokio::sync::OwnedSemaphorePermit;
use tracing::{Instrument, debug, error, info, info_span, warn};

use super::{Worker, backoff};
use crate::blob::image_keys;
use crate::clock::{self, now_ms};
use crate::error::Report;
use crate::generator::{GenerateError, Made, Reason, Request};
use crate::metrics::JobOutcome;
use crate::store::{ClaimedJob, Generation, Settled};

/// What becomes of a job's delivery once it has been worked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Settled (or nothing left to do): acknowledge.
    Settled,
    /// Retry after this delay.
    RetryIn(Duration),
    /// The result could not be recorded: deliver again soon.
    Unrecorded,
}

/// The seed of a model: its idea's, or, for an idea stored before ideas had
/// seeds, one derived from the model id (FNV-1a), stable across retries.
fn seed(job: &ClaimedJob) -> u32 {
    if job.idea.seed() != 0 {
        return job.idea.seed();
    }
    let h = job.model_id.as_str().bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    h.max(1)
}

impl Worker {
    /// Generates, stores and settles one job. `last` is true when no delivery
    /// follows this one, so a retryable failure fails the model now. `slot`
    /// (a place among the generations at once) is given back as soon as the
    /// generator has answered: storing and recording do not load it.
    pub(super) async fn process(
        &self,
        job: ClaimedJob,
        last: bool,
        slot: Option<OwnedSemaphorePermit>,
    ) -> Verdict {
        let span = info_span!(
            "job",
            correlation_id = %job.correlation_id,
            model_id = %job.model_id,
            attempt = job.attempts + 1
        );
        async {
            let asked = self.prompting.ask(&job.preferences, &job.idea);
            let mut generation = Generation {
                prompt: asked.prompt,
                seed: seed(&job),
                generator: self.generator.name_for(job.idea.kind()),
                notes: None,
            };
            debug!(prompt = %generation.prompt, seed = generation.seed, "generating");
            let timeout = self.config.generation_timeout;
            let started = std::time::Instant::now();
            let made = match tokio::time::timeout(timeout, async {
                // A picture made from a product: its images, prepared once
                // and shared by the batch.
                let inputs = match (job.idea.picture(), self.generator.intake(job.idea.kind())) {
                    (None, _) => Vec::new(),
                    (Some(picture), Some(intake)) => {
                        self.inputs.gather(&job.account_id, picture, intake).await?
                    }
                    (Some(_), None) => {
                        return Err(GenerateError::misconfigured(
                            "the generator takes no input images",
                            format!("{} cannot make {}", generation.generator, job.idea.kind()),
                        ));
                    }
                };
                let request = Request {
                    model_id: &job.model_id,
                    name: &job.name,
                    idea: &job.idea,
                    preferences: &job.preferences,
                    prompt: &generation.prompt,
                    negative_prompt: &asked.negative,
                    seed: generation.seed,
                    width: asked.width,
                    height: asked.height,
                    inputs: &inputs,
                };
                self.generator.generate(&request).await
            })
            .await
            {
                Ok(made) => made,
                Err(_) => Err(GenerateError::Retryable(
                    format!("the image server took longer than {}s", timeout.as_secs()).into(),
                )),
            };
            drop(slot);
            let result = match &made {
                Ok(_) => "ok",
                Err(GenerateError::Retryable(_) | GenerateError::RetryAfter(..)) => "retry",
                Err(GenerateError::Fatal(_)) => "fail",
                Err(GenerateError::Misconfigured(_)) => "misconfigured",
            };
            self.metrics.generation(result, started.elapsed());
            if made.is_ok() {
                self.generator_works();
            }
            let (outcome, verdict) = match made {
                Ok(made) => {
                    // What the reading did not understand, then what the
                    // generator could not follow.
                    let notes: Vec<String> = asked
                        .note
                        .clone()
                        .into_iter()
                        .chain(made.notes.clone())
                        .collect();
                    generation.notes = (!notes.is_empty()).then(|| notes.join("; "));
                    self.store_images(&job, made, &generation, last).await
                }
                Err(GenerateError::Retryable(reason)) => {
                    self.retry_or_fail(&job, &reason, Duration::ZERO, &generation, last)
                        .await
                }
                Err(GenerateError::RetryAfter(reason, after)) => {
                    self.retry_or_fail(&job, &reason, after, &generation, last)
                        .await
                }
                Err(GenerateError::Fatal(reason)) => self.fail(&job, &reason, &generation).await,
                Err(GenerateError::Misconfigured(reason)) => self.put_back(&job, &reason).await,
            };
            self.metrics.job(outcome);
            verdict
        }
        .instrument(span)
        .await
    }

    async fn store_images(
        &self,
        job: &ClaimedJob,
        made: Made,
        generation: &Generation,
        last: bool,
    ) -> (JobOutcome, Verdict) {
        let (full_key, thumb_key) = image_keys(&job.model_id, made.extension);
        let stored = self
            .blobs
            .put_all(vec![
                (&full_key, made.image, made.content_type),
                (&thumb_key, made.thumb_jpeg, "image/jpeg"),
            ])
            .await;
        match stored {
            Ok(()) => {
                self.complete(job, &full_key, &thumb_key, generation, last)
                    .await
            }
            Err(e) => {
                let reason = Reason::new("image storage unavailable", Report(&e));
                self.retry_or_fail(job, &reason, Duration::ZERO, generation, last)
                    .await
            }
        }
    }

    async fn complete(
        &self,
        job: &ClaimedJob,
        full_key: &str,
        thumb_key: &str,
        generation: &Generation,
        last: bool,
    ) -> (JobOutcome, Verdict) {
        match self
            .settler
            .complete(job, full_key, thumb_key, generation)
            .await
        {
            Ok(Settled::Now) => {
                self.metrics.credits_consumed(job.price);
                info!(credits = %job.price, "model done");
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
                let reason = Reason::new("could not record the result", Report(&e));
                self.retry_or_fail(job, &reason, Duration::ZERO, generation, last)
                    .await
            }
        }
    }

    async fn fail(
        &self,
        job: &ClaimedJob,
        reason: &Reason,
        generation: &Generation,
    ) -> (JobOutcome, Verdict) {
        match self
            .store
            .fail_model(job, &reason.public, Some(generation), now_ms())
            .await
        {
            Ok(Settled::Now) => {
                self.metrics.credits_refunded(job.price);
                warn!(reason = %reason, credits = %job.price, "model failed and was refunded");
                (JobOutcome::Failed, Verdict::Settled)
            }
            Ok(Settled::Already(_)) => (JobOutcome::Duplicate, Verdict::Settled),
            Err(e) => {
                error!(error = %Report(&e), "could not record the failed model; its lease will run out");
                (JobOutcome::Retried, Verdict::Unrecorded)
            }
        }
    }

    /// Retries after the exponential backoff, or after `at_least` when the
    /// server asked for longer; the last attempt fails the model.
    async fn retry_or_fail(
        &self,
        job: &ClaimedJob,
        reason: &Reason,
        at_least: Duration,
        generation: &Generation,
        last: bool,
    ) -> (JobOutcome, Verdict) {
        let attempt = job.attempts + 1;
        if attempt >= job.max_attempts || last {
            return self.fail(job, reason, generation).await;
        }
        let delay = backoff(self.config.retry_base, attempt, clock::random_unit()).max(at_least);
        let run_at = now_ms() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
        let verdict = match self
            .store
            .retry_job(job, &self.id, &reason.public, run_at, now_ms())
            .await
        {
            Ok(()) => {
                warn!(
                    reason = %reason,
                    retry_in_ms = delay.as_millis() as u64,
                    "attempt failed; will retry"
                );
                Verdict::RetryIn(delay)
            }
            Err(e) => {
                error!(error = %Report(&e), "could not schedule the retry; the lease will run out");
                Verdict::Unrecorded
            }
        };
        (JobOutcome::Retried, verdict)
    }

    /// The generator cannot work as configured: pause the worker and put the
    /// job back untried (no attempt counted), for a worker that can.
    async fn put_back(&self, job: &ClaimedJob, reason: &Reason) -> (JobOutcome, Verdict) {
        self.pause_generator(reason);
        match self
            .store
            .put_back_job(job, &self.id, now_ms(), now_ms())
            .await
        {
            Ok(()) => (JobOutcome::PutBack, Verdict::RetryIn(Duration::ZERO)),
            Err(e) => {
                error!(error = %Report(&e), "could not put the job back; its lease will run out");
                (JobOutcome::PutBack, Verdict::Unrecorded)
            }
        }
    }
}
