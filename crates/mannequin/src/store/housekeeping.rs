//! Housekeeping: what must happen even when no worker runs. Reservations close
//! at their deadline, jobs whose worker was lost go back to the queue (or fail
//! when they have been lost too often), and idempotency keys are forgotten.

use mannequin_domain::ModelStatus;
use mannequin_domain::ids::{JobId, ModelId, ReservationId};
use sqlx::{AssertSqlSafe, Row};

use super::jobs::CRASH_ALLOWANCE;
use super::settle::{self, ToSettle};
use super::{JobState, Settled, Store, StoreResult};

/// Most reservations, or lost jobs, one pass handles.
const PER_PASS: i64 = 100;

/// What a customer reads on a model whose worker was lost too often.
pub const LOST_TOO_OFTEN: &str = "the worker making this model stopped too often";

impl Store {
    /// Closes reservations whose deadline passed: their unfinished models become
    /// FAILED ("timed out") and are refunded. Returns how many models it failed.
    pub async fn expire_reservations(&self, now: i64) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let expired: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM reservations WHERE closed_at IS NULL AND deadline <= $1 LIMIT $2",
        )
        .bind(now)
        .bind(PER_PASS)
        .fetch_all(&mut *tx)
        .await?;
        let mut failed = 0;
        for reservation in expired.into_iter().map(ReservationId::trusted) {
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT m.id, b.correlation_id FROM models m JOIN batches b ON b.id = m.batch_id
                 WHERE m.reservation_id = $1 AND m.status IN ({})",
                settle::unsettled()
            )))
            .bind(reservation.as_str())
            .fetch_all(&mut *tx)
            .await?;
            let mut open = Vec::with_capacity(rows.len());
            for r in &rows {
                open.push((ModelId::trusted(r.try_get(0)?), r.try_get::<String, _>(1)?));
            }
            let items: Vec<ToSettle<'_>> = open
                .iter()
                .map(|(model_id, correlation_id)| ToSettle {
                    model_id,
                    reason: Some("timed out"),
                    images: None,
                    correlation_id,
                })
                .collect();
            let settled = settle::settle_many(&mut tx, ModelStatus::Failed, &items, now).await?;
            failed += settled.iter().filter(|s| **s == Settled::Now).count() as u64;
            sqlx::query(
                "UPDATE reservations SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL",
            )
            .bind(now)
            .bind(reservation.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(failed)
    }

    /// Takes care of jobs whose lease ran out more than `grace` ago, whatever
    /// the queue: a worker died holding them and no one took them over (NATS
    /// delivers a message a bounded number of times, and a message can be lost
    /// with its stream). A job that has deliveries left goes back to the queue
    /// (and, with NATS, to the outbox, to be published again); one whose
    /// deliveries are used up fails and is refunded. Returns `(requeued,
    /// failed)`.
    pub async fn recover_lost_jobs(&self, now: i64, grace_ms: i64) -> StoreResult<(u64, u64)> {
        let running = JobState::Running.as_str();
        let mut tx = self.begin().await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT j.id, j.model_id, j.correlation_id, j.deliveries, j.max_attempts
             FROM jobs j WHERE j.state = '{running}' AND j.lease_expires_at <= $1
             ORDER BY j.lease_expires_at LIMIT $2"
        )))
        .bind(now - grace_ms)
        .bind(PER_PASS)
        .fetch_all(&mut *tx)
        .await?;
        let mut requeue = Vec::new();
        let mut abandon = Vec::new();
        for r in &rows {
            let job = JobId::trusted(r.try_get(0)?);
            let model = ModelId::trusted(r.try_get(1)?);
            let correlation_id: String = r.try_get(2)?;
            let deliveries: i64 = r.try_get(3)?;
            let max_attempts: i64 = r.try_get(4)?;
            if deliveries < max_attempts + i64::from(CRASH_ALLOWANCE) {
                requeue.push(job);
            } else {
                abandon.push((model, correlation_id));
            }
        }
        for job in &requeue {
            sqlx::query(AssertSqlSafe(format!(
                "UPDATE jobs SET state = $1, lease_owner = NULL, lease_expires_at = NULL,
                     run_at = $2, published_at = NULL, relay_until = NULL, updated_at = $2
                 WHERE id = $3 AND state = '{running}'"
            )))
            .bind(JobState::Queued.as_str())
            .bind(now)
            .bind(job.as_str())
            .execute(&mut *tx)
            .await?;
        }
        let items: Vec<ToSettle<'_>> = abandon
            .iter()
            .map(|(model_id, correlation_id)| ToSettle {
                model_id,
                reason: Some(LOST_TOO_OFTEN),
                images: None,
                correlation_id,
            })
            .collect();
        let settled = settle::settle_many(&mut tx, ModelStatus::Failed, &items, now).await?;
        // A model settled otherwise meanwhile only needs its job closed.
        for ((model, _), s) in abandon.iter().zip(&settled) {
            if let Settled::Already(status) = s {
                sqlx::query(
                    "UPDATE jobs SET state = $1, lease_owner = NULL, lease_expires_at = NULL
                     WHERE model_id = $2",
                )
                .bind(JobState::settled(*status).as_str())
                .bind(model.as_str())
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        let failed = settled.iter().filter(|s| **s == Settled::Now).count() as u64;
        Ok((requeue.len() as u64, failed))
    }

    /// Forgets idempotency keys created before `before`; returns how many.
    pub async fn prune_idempotency_keys(&self, before: i64) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let r = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected())
    }
}
