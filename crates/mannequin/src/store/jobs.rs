//! Jobs and their leases: claiming ready jobs (the database queue), starting
//! jobs a queue delivered (NATS), extending, handing back and retrying.

use std::collections::HashMap;

use mannequin_domain::ids::{AccountId, AssetId, JobId};
use mannequin_domain::{AssetIdea, Credits};

use super::db::{Bind, Columns, Int, Text};
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
    model_id: AssetId,
    correlation_id: String,
    attempts: u32,
    max_attempts: u32,
    deliveries: u32,
}

fn count(c: &mut dyn Columns) -> StoreResult<u32> {
    Ok(u32::try_from(c.int()?).unwrap_or(u32::MAX))
}

/// A row of [`JOB_COLUMNS`].
fn job_row(c: &mut dyn Columns) -> StoreResult<JobRow> {
    Ok(JobRow {
        job_id: JobId::trusted(c.text()?),
        model_id: AssetId::trusted(c.text()?),
        correlation_id: c.text()?,
        attempts: count(c)?,
        max_attempts: count(c)?,
        deliveries: count(c)?,
    })
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
        "UPDATE models SET status = $1, updated_at = $2, started_at = COALESCE(started_at, $2)
         WHERE id IN ({}) AND status IN ({})
         RETURNING id, account_id, idea, price,
             (SELECT preferences FROM batches WHERE batches.id = models.batch_id), name",
        placeholders(3, jobs.len()),
        super::settle::unsettled()
    );
    let mut binds = vec![
        Text(mannequin_domain::ModelStatus::Processing.as_str()),
        Int(now),
    ];
    binds.extend(jobs.iter().map(|j| Text(j.model_id.as_str())));
    let mut models: HashMap<String, Begun> = tx
        .fetch(&sql, &binds, |c| {
            let id = AssetId::trusted(c.text()?);
            let begun = begun(&id, c)?;
            Ok((id.into_string(), begun))
        })
        .await?
        .into_iter()
        .collect();
    let closed: Vec<&JobRow> = jobs
        .iter()
        .filter(|j| !models.contains_key(j.model_id.as_str()))
        .collect();
    close_jobs(tx, &closed).await?;
    Ok(jobs
        .into_iter()
        .map(|job| {
            models
                .remove(job.model_id.as_str())
                .map(|begun| claimed(job, begun))
        })
        .collect())
}

/// What a claim reads of a job's model: its account, idea, price, its
/// batch's preferences and its name.
type Begun = (AccountId, AssetIdea, Credits, String, String);

/// Reads [`Begun`]'s columns, in its order, for the model `id`.
fn begun(id: &AssetId, c: &mut dyn Columns) -> StoreResult<Begun> {
    let account = AccountId::trusted(c.text()?);
    let idea = super::values::idea(id, &c.text()?)?;
    Ok((account, idea, Credits::new(c.int()?), c.text()?, c.text()?))
}

fn claimed(job: JobRow, (account_id, idea, price, preferences, name): Begun) -> ClaimedJob {
    ClaimedJob {
        job_id: job.job_id,
        model_id: job.model_id,
        account_id,
        correlation_id: job.correlation_id,
        attempts: job.attempts,
        max_attempts: job.max_attempts,
        deliveries: job.deliveries,
        price,
        idea,
        preferences,
        name,
    }
}

/// Closes claimed jobs whose models were settled meanwhile.
async fn close_jobs(tx: &mut Tx, jobs: &[&JobRow]) -> StoreResult<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE jobs SET state = $1, lease_owner = NULL WHERE id IN ({})",
        placeholders(2, jobs.len())
    );
    let mut binds = vec![Text(JobState::Done.as_str())];
    binds.extend(jobs.iter().map(|j| Text(j.job_id.as_str())));
    tx.execute(&sql, &binds).await?;
    Ok(())
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
        self.claim_jobs_capped(worker, max, now, lease_until, 0)
            .await
    }

    /// [`Store::claim_jobs`], leaving alone the jobs of accounts that have
    /// `cap` running already (`--account-max-in-flight`; 0: no cap). Jobs of
    /// a lost worker come back whatever the cap.
    pub async fn claim_jobs_capped(
        &self,
        worker: &str,
        max: u32,
        now: i64,
        lease_until: i64,
        cap: u32,
    ) -> StoreResult<Vec<ClaimedJob>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let mut binds = vec![
            Text(worker),
            Int(lease_until),
            Int(now),
            Int(i64::from(max)),
        ];
        let sql = if cap == 0 {
            self.dialect.claim_jobs
        } else {
            binds.push(Int(i64::from(cap)));
            self.dialect.claim_jobs_capped
        };
        if self.dialect.claim_in_one_statement {
            return self.claim_in_one_statement(sql, &binds).await;
        }
        let mut tx = self.begin().await?;
        let rows = tx.fetch(sql, &binds, job_row).await?;
        let started = begin_models(&mut tx, rows, now).await?;
        tx.commit().await?;
        Ok(started.into_iter().flatten().collect())
    }

    /// [`Store::claim_jobs`] on PostgreSQL: the claim and the models' move to
    /// PROCESSING in one statement, one round trip (a worker's claims are one
    /// after the other: their round trips bound its rate). A job whose model
    /// was settled meanwhile is closed by a second statement.
    ///
    /// The statement commits without waiting for the disk
    /// (`synchronous_commit` off for its own transaction): a claim is a lease,
    /// not money. Should the database crash before writing it, the job is
    /// queued again and its model PENDING, and the job runs again; a settle's
    /// commit waits for the disk and makes every claim before it durable.
    async fn claim_in_one_statement(
        &self,
        claim: &str,
        binds: &[Bind<'_>],
    ) -> StoreResult<Vec<ClaimedJob>> {
        let sql = format!(
            "WITH claimed AS ({claim}),
             begun AS (
                 UPDATE models SET status = '{processing}', updated_at = $3,
                     started_at = COALESCE(started_at, $3)
                 FROM claimed WHERE models.id = claimed.model_id AND models.status IN ({unsettled})
                 RETURNING models.id, models.account_id, models.idea, models.price,
                     (SELECT preferences FROM batches WHERE batches.id = models.batch_id) AS preferences,
                     models.name)
             SELECT claimed.id, claimed.model_id, claimed.correlation_id, claimed.attempts,
                 claimed.max_attempts, claimed.deliveries,
                 begun.id, begun.account_id, begun.idea, begun.price, begun.preferences, begun.name
             FROM claimed LEFT JOIN begun ON begun.id = claimed.model_id
             CROSS JOIN (SELECT set_config('synchronous_commit', 'off', true)) AS lease_only",
            processing = mannequin_domain::ModelStatus::Processing.as_str(),
            unsettled = super::settle::unsettled(),
        );
        let rows = self
            .pools
            .fetch_fresh(&sql, binds, |c| {
                let job = job_row(c)?;
                // No model begun: its columns are null.
                if c.opt_text()?.is_none() {
                    return Ok(Err(job));
                }
                let begun = begun(&job.model_id, c)?;
                Ok(Ok(claimed(job, begun)))
            })
            .await?;
        let mut begun = Vec::with_capacity(rows.len());
        let mut closed = Vec::new();
        for row in rows {
            match row {
                Ok(job) => begun.push(job),
                Err(job) => closed.push(job),
            }
        }
        if !closed.is_empty() {
            let mut tx = self.begin().await?;
            close_jobs(&mut tx, &closed.iter().collect::<Vec<_>>()).await?;
            tx.commit().await?;
        }
        Ok(begun)
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
        let mut binds = vec![
            Text(JobState::Running.as_str()),
            Text(worker),
            Int(lease_until),
            Int(now),
            Text(JobState::Queued.as_str()),
            Text(JobState::Running.as_str()),
        ];
        binds.extend(job_ids.iter().map(|id| Text(id.as_str())));
        let mut tx = self.begin().await?;
        let rows = tx.fetch(&sql, &binds, job_row).await?;
        let begun = begin_models(&mut tx, rows, now).await?;
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
        let n = tx
            .execute(
                &format!(
                    "UPDATE jobs SET lease_expires_at = $1 WHERE lease_owner = $2 AND state = '{}'",
                    JobState::Running.as_str()
                ),
                &[Int(lease_until), Text(worker)],
            )
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Gives back the jobs `worker` holds so another worker can take them now.
    pub async fn release_jobs(&self, worker: &str, now: i64) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                &format!(
                    "UPDATE jobs SET state = $1, lease_owner = NULL, lease_expires_at = NULL,
                         run_at = $2, updated_at = $2
                     WHERE lease_owner = $3 AND state = '{}'",
                    JobState::Running.as_str()
                ),
                &[Text(JobState::Queued.as_str()), Int(now), Text(worker)],
            )
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Puts a job back for `run_at` without counting an attempt or a delivery:
    /// the worker did not try it (its generator is misconfigured).
    pub async fn put_back_job(
        &self,
        job: &ClaimedJob,
        worker: &str,
        run_at: i64,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            "UPDATE jobs SET state = $1, run_at = $2, lease_owner = NULL, lease_expires_at = NULL,
                 deliveries = CASE WHEN deliveries > 0 THEN deliveries - 1 ELSE 0 END,
                 updated_at = $3
             WHERE id = $4 AND lease_owner = $5 AND state = $6",
            &[
                Text(JobState::Queued.as_str()),
                Int(run_at),
                Int(now),
                Text(job.job_id.as_str()),
                Text(worker),
                Text(JobState::Running.as_str()),
            ],
        )
        .await?;
        tx.commit().await
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
        tx.execute(
            "UPDATE jobs SET state = $1, attempts = attempts + 1, last_error = $2, run_at = $3,
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = $4
             WHERE id = $5 AND lease_owner = $6 AND state = $7",
            &[
                Text(JobState::Queued.as_str()),
                Text(error),
                Int(run_at),
                Int(now),
                Text(job.job_id.as_str()),
                Text(worker),
                Text(JobState::Running.as_str()),
            ],
        )
        .await?;
        tx.commit().await
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
