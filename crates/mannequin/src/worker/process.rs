//! One job, start to finish: generate, store the images, settle, or retry or
//! fail with a reason the customer may read while the full cause goes to the log.

use std::time::Duration;

use mannequin_domain::ModelStatus;
use tracing::{Instrument, debug, error, info, info_span, warn};

use super::{Worker, backoff};
use crate::blob::image_keys;
use crate::clock::{self, now_ms};
use crate::error::Report;
use crate::generator::{GenerateError, Reason};
use crate::metrics::JobOutcome;
use crate::store::{ClaimedJob, Settled};

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

impl Worker {
    /// Generates, stores and settles one job. `last` is true when no delivery
    /// follows this one, so a retryable failure fails the model now.
    pub(super) async fn process(&self, job: ClaimedJob, last: bool) -> Verdict {
        let span = info_span!(
            "job",
            correlation_id = %job.correlation_id,
            model_id = %job.model_id,
            attempt = job.attempts + 1
        );
        async {
            debug!("generating");
            let (outcome, verdict) = match self.generator.generate(&job.idea).await {
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
                        Err(e) => {
                            let reason = Reason::new("image storage unavailable", Report(&e));
                            self.retry_or_fail(&job, &reason, last).await
                        }
                    }
                }
                Err(GenerateError::Retryable(reason)) => {
                    self.retry_or_fail(&job, &reason, last).await
                }
                Err(GenerateError::Fatal(reason)) => self.fail(&job, &reason).await,
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
        match self.settler.complete(job, full_key, thumb_key).await {
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
                self.retry_or_fail(job, &reason, last).await
            }
        }
    }

    async fn fail(&self, job: &ClaimedJob, reason: &Reason) -> (JobOutcome, Verdict) {
        match self.store.fail_model(job, &reason.public, now_ms()).await {
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

    async fn retry_or_fail(
        &self,
        job: &ClaimedJob,
        reason: &Reason,
        last: bool,
    ) -> (JobOutcome, Verdict) {
        let attempt = job.attempts + 1;
        if attempt >= job.max_attempts || last {
            return self.fail(job, reason).await;
        }
        let delay = backoff(self.config.retry_base, attempt, clock::random_unit());
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
}
