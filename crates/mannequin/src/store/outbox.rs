//! The outbox: with the NATS queue, committed jobs wait here until a relay has
//! handed them to the stream.

use mannequin_domain::ids::JobId;

use super::db::{Bind, Int, Text};
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
    /// Puts back in the outbox the jobs published at or before `before` that
    /// no worker has started: their messages were most likely lost (a stream
    /// purged or recreated). Published again, a message that was not lost
    /// after all only makes a second delivery, which finds its job started or
    /// settled and is acknowledged. Returns how many.
    pub async fn republish_stale(&self, before: i64) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE jobs SET published_at = NULL, relay_until = NULL
                 WHERE state = 'queued' AND published_at IS NOT NULL AND published_at <= $1",
                &[Int(before)],
            )
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Jobs handed to the queue since `since` that no worker has started yet.
    pub async fn published_waiting(&self, since: i64) -> StoreResult<u64> {
        let n = self
            .pools
            .fetch_fresh(
                "SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND published_at > $1",
                &[Int(since)],
                |c| c.int(),
            )
            .await?;
        Ok(n.first().copied().unwrap_or(0).max(0) as u64)
    }

    /// Takes up to `max` queued jobs not yet published, in fair order, for
    /// `until` (another relay skips them until then).
    pub async fn claim_outbox(
        &self,
        max: u32,
        now: i64,
        until: i64,
    ) -> StoreResult<Vec<Unpublished>> {
        self.claim_outbox_capped(max, now, until, 0, 0).await
    }

    /// [`Store::claim_outbox`], leaving alone the jobs of accounts that have
    /// `cap` jobs in flight already: running, or published since `since` and
    /// not started (0: no cap).
    pub async fn claim_outbox_capped(
        &self,
        max: u32,
        now: i64,
        until: i64,
        cap: u32,
        since: i64,
    ) -> StoreResult<Vec<Unpublished>> {
        let mut binds = vec![Int(until), Int(now), Int(i64::from(max))];
        let sql = if cap == 0 {
            self.dialect.claim_outbox
        } else {
            binds.extend([Int(i64::from(cap)), Int(since)]);
            self.dialect.claim_outbox_capped
        };
        let mut tx = self.begin().await?;
        let jobs = tx
            .fetch(sql, &binds, |c| {
                Ok(Unpublished {
                    job_id: JobId::trusted(c.text()?),
                    deliveries: u32::try_from(c.int()?).unwrap_or(u32::MAX),
                })
            })
            .await?;
        tx.commit().await?;
        Ok(jobs)
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
            let mut binds: Vec<Bind<'_>> = vec![Int(now)];
            binds.extend(chunk.iter().map(|id| Text(id.as_str())));
            tx.execute(&sql, &binds).await?;
        }
        tx.commit().await
    }
}
