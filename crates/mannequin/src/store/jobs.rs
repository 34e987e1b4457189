//! Jobs and their leases: claiming ready jobs (the database queue), starting
//! jobs a queue delivered (NATS), extending, handing back and retrying.

use std::collections::HashMap;

use mannequin_domain::ids::{AccountId, JobId, ModelId};
use mannequin_domain::{Credits, Idea, ModelStatus};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::dialect::JOB_COLUMNS;
use super::{ClaimedJob, JobState, Store, StoreResult, Tx, placeholders};

/// Deliveries a job gets beyond its attempts: a worker killed mid-job, or one
/// that handed it back on shutdown, costs a delivery but not an attempt. A job
/// whose deliveries reach `max_attempts + CRASH_ALLOWANCE` is not handed out
/// again; housekeeping fails and refunds it. The dialects' claim statements
/// state the same bound.
pub const CRASH_ALLOWANCE: u32 = 5;

/// A job row as a claim returns it, before its model is read.
struct JobRow {
    job_id: JobId,
    model_id: ModelId,
    correlation_id: String,
    attempts: u32,
    max_attempts: u32,
    deliveries: u32,
}

fn count(r: &AnyRow, i: usize) -> Result<u32, sqlx::Error> {
    Ok(u32::try_from(r.try_get::<i64, _>(i)?).unwrap_or(u32::MAX))
}

/// The rows of a statement that returns [`JOB_COLUMNS`].
fn job_rows(rows: &[AnyRow]) -> StoreResult<Vec<JobRow>> {
    rows.iter()
        .map(|r| {
            Ok(JobRow {
                job_id: JobId::trusted(r.try_get(0)?),
                model_id: ModelId::trusted(r.try_get(1)?),
                correlation_id: r.try_get(2)?,
                attempts: count(r, 3)?,
                max_attempts: count(r, 4)?,
                deliveries: count(r, 5)?,
            })
        })
        .collect()
}

/// Moves the jobs' models to PROCESSING, in one statement, and reads what the
/// worker needs. A model settled meanwhile (deadline, cancel) closes its job
/// instead and gives `None`. One result per job, in order.
async fn begin_models(
    tx: &mut Tx,
    jobs: Vec<JobRow>,
    now: i64,
) -> StoreResult<Vec<Option<ClaimedJob>>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "UPDATE models SET status = $1, updated_at = $2
         WHERE id IN ({}) AND status IN ({})
         RETURNING id, account_id, idea, price",
        placeholders(3, jobs.len()),
        super::settle::unsettled()
    );
    let mut q = sqlx::query(AssertSqlSafe(sql))
        .bind(ModelStatus::Processing.as_str())
        .bind(now);
    for job in &jobs {
        q = q.bind(job.model_id.as_str());
    }
    let mut models = HashMap::new();
    for r in q.fetch_all(&mut **tx).await? {
        let id: String = r.try_get(0)?;
        let account = AccountId::trusted(r.try_get(1)?);
        let idea: Idea = serde_json::from_str(&r.try_get::<String, _>(2)?)?;
        let price = Credits::new(r.try_get(3)?);
        models.insert(id, (account, idea, price));
    }
    let closed: Vec<&JobRow> = jobs
        .iter()
        .filter(|j| !models.contains_key(j.model_id.as_str()))
        .collect();
    if !closed.is_empty() {
        let sql = format!(
            "UPDATE jobs SET state = $1, lease_owner = NULL WHERE id IN ({})",
            placeholders(2, closed.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(JobState::Done.as_str());
        for job in closed {
            q = q.bind(job.job_id.as_str());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(jobs
        .into_iter()
        .map(|job| {
            models
                .remove(job.model_id.as_str())
                .map(|(account_id, idea, price)| ClaimedJob {
                    job_id: job.job_id,
                    model_id: job.model_id,
                    account_id,
                    correlation_id: job.correlation_id,
                    attempts: job.attempts,
                    max_attempts: job.max_attempts,
                    deliveries: job.deliveries,
                    price,
                    idea,
                })
        })
        .collect())
}

impl Store {
    /// Claims up to `max` ready jobs (queued and due, or leased and expired) for
    /// `worker` until `lease_until`, moving their models to PROCESSING.
    pub async fn claim_jobs(
        &self,
        worker: &str,
        max: u32,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<Vec<ClaimedJob>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let mut tx = self.begin().await?;
        let rows = sqlx::query(self.dialect.claim_jobs)
            .bind(worker)
            .bind(lease_until)
            .bind(now)
            .bind(i64::from(max))
            .fetch_all(&mut *tx)
            .await?;
        let started = begin_models(&mut tx, job_rows(&rows)?, now).await?;
        tx.commit().await?;
        Ok(started.into_iter().flatten().collect())
    }

    /// Starts jobs a queue delivered (the NATS queue), in one transaction: each
    /// runs under `worker`'s lease and its model becomes PROCESSING. `None` for
    /// a job that is unknown or already finished, so its delivery is only
    /// acknowledged. A job another worker held is taken over: the queue
    /// redelivers only what its holder stopped reporting progress on.
    pub async fn start_jobs(
        &self,
        job_ids: &[JobId],
        worker: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<Vec<Option<ClaimedJob>>> {
        if job_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "UPDATE jobs SET state = $1, lease_owner = $2, lease_expires_at = $3,
                 deliveries = deliveries + 1, updated_at = $4
             WHERE id IN ({}) AND state IN ($5, $6)
             RETURNING {JOB_COLUMNS}",
            placeholders(7, job_ids.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql))
            .bind(JobState::Running.as_str())
            .bind(worker)
            .bind(lease_until)
            .bind(now)
            .bind(JobState::Queued.as_str())
            .bind(JobState::Running.as_str());
        for id in job_ids {
            q = q.bind(id.as_str());
        }
        let mut tx = self.begin().await?;
        let rows = q.fetch_all(&mut *tx).await?;
        let begun = begin_models(&mut tx, job_rows(&rows)?, now).await?;
        tx.commit().await?;
        let mut by_id: HashMap<JobId, ClaimedJob> = begun
            .into_iter()
            .flatten()
            .map(|j| (j.job_id.clone(), j))
            .collect();
        Ok(job_ids.iter().map(|id| by_id.remove(id)).collect())
    }

    /// Extends the leases `worker` holds; returns how many.
    pub async fn extend_leases(&self, worker: &str, lease_until: i64) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        // The state as a literal, so the partial index on running jobs serves it.
        let r = sqlx::query(AssertSqlSafe(format!(
            "UPDATE jobs SET lease_expires_at = $1 WHERE lease_owner = $2 AND state = '{}'",
            JobState::Running.as_str()
        )))
        .bind(lease_until)
        .bind(worker)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(r.rows_affected())
    }

    /// Gives back the jobs `worker` holds so another worker can take them now.
    pub async fn release_jobs(&self, worker: &str, now: i64) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let r = sqlx::query(AssertSqlSafe(format!(
            "UPDATE jobs SET state = $1, lease_owner = NULL, lease_expires_at = NULL,
                 run_at = $2, updated_at = $2
             WHERE lease_owner = $3 AND state = '{}'",
            JobState::Running.as_str()
        )))
        .bind(JobState::Queued.as_str())
        .bind(now)
        .bind(worker)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(r.rows_affected())
    }

    /// Counts a failed attempt and puts the job back for `run_at`.
    pub async fn retry_job(
        &self,
        job: &ClaimedJob,
        worker: &str,
        error: &str,
        run_at: i64,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE jobs SET state = $1, attempts = attempts + 1, last_error = $2, run_at = $3,
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = $4
             WHERE id = $5 AND lease_owner = $6 AND state = $7",
        )
        .bind(JobState::Queued.as_str())
        .bind(error)
        .bind(run_at)
        .bind(now)
        .bind(job.job_id.as_str())
        .bind(worker)
        .bind(JobState::Running.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claims_leave_jobs_past_their_crash_allowance() {
        for d in [
            &super::super::dialect::SQLITE,
            &super::super::dialect::POSTGRES,
        ] {
            let bound = format!("deliveries < max_attempts + {CRASH_ALLOWANCE}");
            assert!(d.claim_jobs.contains(&bound), "{}", d.name);
        }
    }
}
