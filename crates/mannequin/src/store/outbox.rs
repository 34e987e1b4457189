//! The outbox: with the NATS queue, committed jobs wait here until a relay has
//! handed them to the stream.

use mannequin_domain::ids::JobId;
use sqlx::{AssertSqlSafe, Row};

use super::{Store, StoreResult, placeholders};

/// A queued job not yet handed to the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpublished {
    pub job_id: JobId,
    /// How often a worker took it before: more than 0 when housekeeping put it
    /// back after its worker was lost, so it needs a message id of its own.
    pub deliveries: u32,
}

impl Store {
    /// Takes up to `max` queued jobs not yet published, oldest first, for
    /// `until` (another relay skips them until then).
    pub async fn claim_outbox(
        &self,
        max: u32,
        now: i64,
        until: i64,
    ) -> StoreResult<Vec<Unpublished>> {
        let mut tx = self.begin().await?;
        let rows = sqlx::query(self.dialect.claim_outbox)
            .bind(until)
            .bind(now)
            .bind(i64::from(max))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| {
                Ok(Unpublished {
                    job_id: JobId::trusted(r.try_get(0)?),
                    deliveries: u32::try_from(r.try_get::<i64, _>(1)?).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    /// Records that the queue holds these jobs.
    pub async fn mark_published(&self, job_ids: &[JobId], now: i64) -> StoreResult<()> {
        if job_ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for chunk in job_ids.chunks(500) {
            let sql = format!(
                "UPDATE jobs SET published_at = $1, relay_until = NULL WHERE id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(now);
            for id in chunk {
                q = q.bind(id.as_str());
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
