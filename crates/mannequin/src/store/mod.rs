//! What the service needs from a database, as one trait.
//!
//! [`sqlite::SqliteStore`] is the embedded default; [`postgres::PgStore`] is for
//! running many processes against one database. Every method that moves credits
//! does so in one transaction with the status change that causes it, and a model
//! row's status is the guard that makes settling idempotent: a transition that finds
//! the row already terminal changes nothing.

pub mod audit;
pub mod postgres;
mod sql;
pub mod sqlite;

use async_trait::async_trait;
use mannequin_domain::{Credits, Idea, ModelStatus, StatusFilter, Voting, request::Cursor};
use serde::Serialize;

/// A store failure. `Unavailable` is a dependency that may come back (503);
/// `Internal` is a bug or corruption (500). Neither message reaches a client.
#[derive(Debug, Clone)]
pub enum StoreError {
    Unavailable(String),
    Internal(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Unavailable(m) => write!(f, "database unavailable: {m}"),
            StoreError::Internal(m) => write!(f, "database error: {m}"),
        }
    }
}

impl std::error::Error for StoreError {}

pub type StoreResult<T> = Result<T, StoreError>;

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// Balances of one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub available: i64,
    pub reserved: i64,
    pub consumed: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountSummary {
    pub account_id: String,
    pub name: String,
    pub available: i64,
    pub reserved: i64,
    pub consumed: i64,
}

/// What a stored key says about itself; the caller checks the secret and times.
#[derive(Debug, Clone)]
pub struct KeyRecord {
    pub key_id: String,
    pub account_id: String,
    pub secret_hash: Vec<u8>,
    pub scopes: String,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewKey {
    pub key_id: String,
    pub account_id: String,
    pub secret_hash: Vec<u8>,
    pub scopes: String,
    pub expires_at: Option<i64>,
}

/// Everything one register-ideas call writes, with its ids already chosen.
#[derive(Debug, Clone)]
pub struct NewBatch {
    pub account_id: String,
    pub batch_id: String,
    pub order_id: String,
    pub reservation_id: String,
    pub preferences: String,
    pub correlation_id: String,
    pub price_per_model: Credits,
    pub deadline: i64,
    pub max_attempts: u32,
    /// `(model id, job id, idea)` per model, in order.
    pub models: Vec<(String, String, Idea)>,
    /// The client's `Idempotency-Key` and a hash of what it asked for.
    pub idempotency: Option<Idempotency>,
}

#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub request_hash: Vec<u8>,
}

/// What a register call holds: the batch it created now, or, for a repeated
/// `Idempotency-Key`, the batch the first call created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub batch_id: String,
    pub order_id: String,
    pub reservation_id: String,
    pub model_ids: Vec<String>,
    pub credits_reserved: i64,
    pub replayed: bool,
}

#[derive(Debug)]
pub enum RegisterError {
    InsufficientCredits {
        required: Credits,
        available: Credits,
    },
    UnknownAccount,
    /// The idempotency key was used before with a different request.
    IdempotencyKeyReused,
    Store(StoreError),
}

impl From<StoreError> for RegisterError {
    fn from(e: StoreError) -> Self {
        RegisterError::Store(e)
    }
}

/// What a client cancels: one model, or every model of a batch.
#[derive(Debug, Clone)]
pub enum CancelTarget {
    Model(String),
    Batch(String),
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filter: StatusFilter,
    pub batch_id: Option<String>,
    pub cursor: Option<Cursor>,
    pub limit: u32,
}

/// A model as the list shows it.
#[derive(Debug, Clone)]
pub struct ModelRow {
    pub id: String,
    pub batch_id: String,
    pub name: String,
    pub status: ModelStatus,
    pub voting: Voting,
    pub thumb_key: Option<String>,
    pub image_key: Option<String>,
    pub failure_reason: Option<String>,
    pub created_at: i64,
}

/// A job a worker holds under a lease.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub job_id: String,
    pub model_id: String,
    pub account_id: String,
    pub correlation_id: String,
    /// Failed attempts so far (a crash is not an attempt; the deadline bounds those).
    pub attempts: u32,
    pub max_attempts: u32,
    /// The model's price, consumed or refunded when it settles.
    pub price: i64,
    pub idea: Idea,
}

/// A job row as a claim returns it, before its model is read.
struct JobRow {
    job_id: String,
    model_id: String,
    correlation_id: String,
    attempts: i64,
    max_attempts: i64,
}

impl JobRow {
    fn claimed(self, account_id: String, price: i64, idea: &str) -> StoreResult<ClaimedJob> {
        Ok(ClaimedJob {
            job_id: self.job_id,
            model_id: self.model_id,
            account_id,
            correlation_id: self.correlation_id,
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            max_attempts: u32::try_from(self.max_attempts).unwrap_or(u32::MAX),
            price,
            idea: serde_json::from_str::<Idea>(idea).map_err(internal)?,
        })
    }
}

/// A finished model to record: its job and where its images are.
#[derive(Debug, Clone, Copy)]
pub struct Completion<'a> {
    pub job: &'a ClaimedJob,
    pub image_key: &'a str,
    pub thumb_key: &'a str,
}

/// One model to settle, inside a store.
struct ToSettle<'a> {
    model_id: &'a str,
    reason: Option<&'a str>,
    keys: Option<(&'a str, &'a str)>,
    correlation_id: &'a str,
}

/// Amounts per reservation and per account, in id order (the lock order).
#[derive(Default)]
struct Sums {
    reservations: std::collections::BTreeMap<String, i64>,
    accounts: std::collections::BTreeMap<String, i64>,
}

impl Sums {
    fn add(&mut self, account_id: &str, reservation_id: &str, amount: i64) {
        *self
            .reservations
            .entry(reservation_id.to_string())
            .or_default() += amount;
        *self.accounts.entry(account_id.to_string()).or_default() += amount;
    }
}

/// The result of settling a model: whether this call changed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// The model moved to its terminal status and its credits were settled now.
    Now,
    /// The model was already terminal, with this status; nothing changed.
    Already(ModelStatus),
}

/// Live figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueStats {
    pub queued: i64,
    pub running: i64,
    /// Queued jobs the relay has not handed to NATS yet (the outbox); with the
    /// database queue, every queued job.
    pub unpublished: i64,
    pub credits_reserved: i64,
}

/// A broken invariant found by the audit.
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    pub rule: &'static str,
    pub subject: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditReport {
    pub ok: bool,
    pub accounts: i64,
    pub reservations: i64,
    pub models: i64,
    pub ledger_entries: i64,
    pub violations: Vec<Violation>,
}

/// The statuses a model may settle to `outcome` from, as an SQL list
/// (`'PENDING', 'PROCESSING'`), taken from the domain's status machine.
fn settle_from(outcome: ModelStatus) -> String {
    ModelStatus::ALL
        .into_iter()
        .filter(|s| s.can_become(outcome))
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `rows` copies of `template`, comma-separated, with each `?` numbered `$1`,
/// `$2`, … in order: the VALUES list of a multi-row INSERT.
fn numbered(template: &str, rows: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    for row in 0..rows {
        if row > 0 {
            out.push_str(", ");
        }
        for c in template.chars() {
            if c == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
            } else {
                out.push(c);
            }
        }
    }
    out
}

/// `$first, $first+1, …` for `n` values: an `IN (…)` list.
fn list(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The jobs table's state for a model settled to `outcome`.
fn job_state(outcome: ModelStatus) -> &'static str {
    match outcome {
        ModelStatus::Done => "done",
        ModelStatus::Cancelled => "cancelled",
        _ => "failed",
    }
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies pending migrations.
    async fn migrate(&self) -> StoreResult<()>;
    /// Answers when the database does.
    async fn ping(&self) -> StoreResult<()>;
    /// Closes the connections; every later call answers `Unavailable`.
    async fn close(&self);

    /// Creates an account, granting `credits` through the ledger.
    async fn create_account(
        &self,
        id: &str,
        name: &str,
        credits: Credits,
        now: i64,
    ) -> StoreResult<()>;
    /// Creates the account only if the database holds none yet; true if it did.
    async fn create_first_account(
        &self,
        id: &str,
        name: &str,
        credits: Credits,
        key: &NewKey,
        now: i64,
    ) -> StoreResult<bool>;
    async fn account_exists(&self, id: &str) -> StoreResult<bool>;
    /// Every account with its balance, oldest first.
    async fn list_accounts(&self) -> StoreResult<Vec<AccountSummary>>;
    /// Adds (or, negative, removes) available credits; `None` for an unknown account.
    /// A grant that would make `available` negative is refused with `Ok(None)`.
    async fn grant_credits(
        &self,
        account_id: &str,
        amount: Credits,
        note: &str,
        now: i64,
    ) -> StoreResult<Option<Balance>>;
    async fn balance(&self, account_id: &str) -> StoreResult<Option<Balance>>;

    async fn create_key(&self, key: &NewKey, now: i64) -> StoreResult<()>;
    async fn find_key(&self, key_id: &str) -> StoreResult<Option<KeyRecord>>;
    /// Revokes a key; false when there is no such key.
    async fn revoke_key(&self, key_id: &str, now: i64) -> StoreResult<bool>;

    /// Reserves credits and writes the order, batch, reservation, ledger entry,
    /// models and jobs in one transaction, or nothing. With an idempotency key
    /// already used for the same request, returns the first call's batch and
    /// writes nothing.
    async fn register_batch(
        &self,
        batch: &NewBatch,
        now: i64,
    ) -> Result<Registration, RegisterError>;
    /// Cancels the target's models that no worker has started (`PENDING`), refunding
    /// each. Returns the cancelled models with their prices, or `None` when the
    /// target is not the account's.
    async fn cancel_pending(
        &self,
        account_id: &str,
        target: &CancelTarget,
        now: i64,
    ) -> StoreResult<Option<Vec<(String, i64)>>>;
    /// Forgets idempotency keys created before `before`; returns how many.
    async fn prune_idempotency_keys(&self, before: i64) -> StoreResult<u64>;
    async fn list_models(&self, account_id: &str, query: &ListQuery) -> StoreResult<Vec<ModelRow>>;
    /// Sets a model's vote; false when the model is not the account's.
    async fn set_voting(
        &self,
        account_id: &str,
        model_id: &str,
        voting: Voting,
        now: i64,
    ) -> StoreResult<bool>;

    /// Claims up to `max` ready jobs (queued and due, or leased and expired) for
    /// `worker` until `lease_until`, moving their models to PROCESSING.
    async fn claim_jobs(
        &self,
        worker: &str,
        max: u32,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<Vec<ClaimedJob>>;
    /// Starts jobs a queue delivered (the NATS queue), in one transaction: each
    /// runs under `worker`'s lease and its model becomes PROCESSING. `None` for a
    /// job that is unknown or already finished, so its delivery is only
    /// acknowledged. A job another worker held is taken over: the queue
    /// redelivers only what its holder stopped reporting progress on.
    async fn start_jobs(
        &self,
        job_ids: &[String],
        worker: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<Vec<Option<ClaimedJob>>>;
    /// [`Store::start_jobs`] for one job.
    async fn start_job(
        &self,
        job_id: &str,
        worker: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<Option<ClaimedJob>> {
        let mut started = self
            .start_jobs(&[job_id.to_string()], worker, now, lease_until)
            .await?;
        Ok(started.pop().flatten())
    }
    /// The outbox: takes up to `max` queued jobs not yet published, oldest first,
    /// for `until` (another relay skips them until then), and returns their ids.
    async fn claim_outbox(&self, max: u32, now: i64, until: i64) -> StoreResult<Vec<String>>;
    /// Records that the queue holds these jobs.
    async fn mark_published(&self, job_ids: &[String], now: i64) -> StoreResult<()>;
    /// Extends the leases `worker` holds; returns how many.
    async fn extend_leases(&self, worker: &str, lease_until: i64) -> StoreResult<u64>;
    /// Gives back the jobs `worker` holds so another worker can take them now.
    async fn release_jobs(&self, worker: &str, now: i64) -> StoreResult<u64>;
    /// Marks the models DONE with their images and consumes their prices, in
    /// one transaction; one result per model, in order.
    async fn complete_models(&self, done: &[Completion<'_>], now: i64)
    -> StoreResult<Vec<Settled>>;
    /// [`Store::complete_models`] for one model.
    async fn complete_model(
        &self,
        job: &ClaimedJob,
        image_key: &str,
        thumb_key: &str,
        now: i64,
    ) -> StoreResult<Settled> {
        let done = [Completion {
            job,
            image_key,
            thumb_key,
        }];
        Ok(self.complete_models(&done, now).await?[0])
    }
    /// Marks the model FAILED with `reason` and refunds its price.
    async fn fail_model(&self, job: &ClaimedJob, reason: &str, now: i64) -> StoreResult<Settled>;
    /// Counts a failed attempt and puts the job back for `run_at`.
    async fn retry_job(
        &self,
        job: &ClaimedJob,
        worker: &str,
        error: &str,
        run_at: i64,
        now: i64,
    ) -> StoreResult<()>;
    /// Closes reservations whose deadline passed: their unfinished models become
    /// FAILED ("timed out") and are refunded. Returns how many models it failed.
    async fn expire_reservations(&self, now: i64) -> StoreResult<u64>;

    async fn queue_stats(&self) -> StoreResult<QueueStats>;
    /// Checks the credit invariants over the whole database.
    async fn audit(&self) -> StoreResult<AuditReport>;
}
