//! Housekeeping: what must happen even when no worker runs. Reservations close
//! at their deadline, jobs whose worker was lost go back to the queue (or fail
//! when they have been lost too often), and idempotency keys are forgotten.

use mannequin_domain::ModelStatus;
use mannequin_domain::ids::{AssetId, JobId, ReservationId};

use super::db::{Int, Text};
use super::jobs::CRASH_ALLOWANCE;
use super::settle::{self, ToSettle};
use super::{JobState, Recovered, Settled, Store, StoreResult};

/// Most reservations, or lost jobs, one pass handles.
const PER_PASS: i64 = 100;

/// What a customer reads on a model whose worker was lost too often.
pub const LOST_TOO_OFTEN: &str = "the worker making this model stopped too often";

impl Store {
    /// Closes reservations whose deadline passed: their unfinished models become
    /// FAILED ("timed out") and are refunded. Returns how many models it failed.
    pub async fn expire_reservations(&self, now: i64) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let expired = tx
            .fetch(
                "SELECT id, batch_id FROM reservations
                 WHERE closed_at IS NULL AND deadline <= $1 LIMIT $2",
                &[Int(now), Int(PER_PASS)],
                |c| Ok((ReservationId::trusted(c.text()?), c.text()?)),
            )
            .await?;
        let open_models = format!(
            "SELECT m.id, b.correlation_id FROM models m JOIN batches b ON b.id = m.batch_id
             WHERE m.batch_id = $1 AND m.reservation_id = $2 AND m.status IN ({})",
            settle::unsettled()
        );
        let mut failed = 0;
        for (reservation, batch) in expired {
            let binds = [Text(&batch), Text(reservation.as_str())];
            let open = tx
                .fetch(&open_models, &binds, |c| {
                    Ok((AssetId::trusted(c.text()?), c.text()?))
                })
                .await?;
            let items: Vec<ToSettle<'_>> = open
                .iter()
                .map(|(model_id, correlation_id)| ToSettle {
                    model_id,
                    reason: Some("timed out"),
                    images: None,
                    correlation_id,
                    generation: None,
                })
                .collect();
            let settled = settle::settle_many(&mut tx, ModelStatus::Failed, &items, now).await?;
            failed += settled.iter().filter(|s| **s == Settled::Now).count() as u64;
            tx.execute(
                "UPDATE reservations SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL",
                &[Int(now), Text(reservation.as_str())],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(failed)
    }

    /// Takes care of jobs whose lease ran out more than `grace_ms` ago,
    /// whatever the queue: a worker died holding them and no one took them
    /// over (NATS delivers a message a bounded number of times, and a message
    /// can be lost with its stream). A job that has deliveries left goes back to
    /// the queue (and, with NATS, to the outbox, to be published again); one
    /// whose deliveries are used up fails and is refunded.
    pub async fn recover_lost_jobs(&self, now: i64, grace_ms: i64) -> StoreResult<Recovered> {
        // The state as a literal, so the partial index on running jobs serves it.
        let running = JobState::Running.as_str();
        let mut tx = self.begin().await?;
        let lost = tx
            .fetch(
                &format!(
                    "SELECT id, model_id, correlation_id, deliveries, max_attempts
                     FROM jobs WHERE state = '{running}' AND lease_expires_at <= $1
                     ORDER BY lease_expires_at LIMIT $2"
                ),
                &[Int(now.saturating_sub(grace_ms)), Int(PER_PASS)],
                |c| {
                    Ok((
                        JobId::trusted(c.text()?),
                        AssetId::trusted(c.text()?),
                        c.text()?,
                        c.int()?,
                        c.int()?,
                    ))
                },
            )
            .await?;
        let (requeue, abandon): (Vec<_>, Vec<_>) =
            lost.into_iter()
                .partition(|(_, _, _, deliveries, max_attempts)| {
                    *deliveries < max_attempts + i64::from(CRASH_ALLOWANCE)
                });
        let back = format!(
            "UPDATE jobs SET state = $1, lease_owner = NULL, lease_expires_at = NULL,
                 run_at = $2, published_at = NULL, relay_until = NULL, updated_at = $2
             WHERE id = $3 AND state = '{running}'"
        );
        for (job, ..) in &requeue {
            tx.execute(
                &back,
                &[
                    Text(JobState::Queued.as_str()),
                    Int(now),
                    Text(job.as_str()),
                ],
            )
            .await?;
        }
        let items: Vec<ToSettle<'_>> = abandon
            .iter()
            .map(|(_, model_id, correlation_id, ..)| ToSettle {
                model_id,
                reason: Some(LOST_TOO_OFTEN),
                images: None,
                correlation_id,
                generation: None,
            })
            .collect();
        let settled = settle::settle_many(&mut tx, ModelStatus::Failed, &items, now).await?;
        // A model settled otherwise meanwhile only needs its job closed.
        for ((_, model, ..), s) in abandon.iter().zip(&settled) {
            if let Settled::Already(status) = s {
                tx.execute(
                    "UPDATE jobs SET state = $1, lease_owner = NULL, lease_expires_at = NULL
                     WHERE model_id = $2",
                    &[
                        Text(JobState::settled(*status).as_str()),
                        Text(model.as_str()),
                    ],
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(Recovered {
            requeued: requeue.len() as u64,
            failed: settled.iter().filter(|s| **s == Settled::Now).count() as u64,
        })
    }

    /// Forgets idempotency keys created before `before`; returns how many.
    pub async fn prune_idempotency_keys(&self, before: i64) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "DELETE FROM idempotency_keys WHERE created_at < $1",
                &[Int(before)],
            )
            .await?;
        tx.commit().await?;
        Ok(n)
    }
}
