//! What the store reads and writes, as types: ids, amounts and statuses are
//! never bare strings or numbers past this border.

use mannequin_domain::credits::Balances;
use mannequin_domain::ids::{AccountId, AssetId, BatchId, JobId, OrderId, ReservationId};
use mannequin_domain::request::Cursor;
use mannequin_domain::{AssetIdea, AssetKind, Credits, ModelStatus, StatusFilter, Voting};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountSummary {
    pub account_id: AccountId,
    pub name: String,
    #[serde(flatten)]
    pub balances: Balances,
    /// When an operator disabled the account (its keys are refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<String>,
}

/// A key as an operator sees it: never its secret.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeySummary {
    pub key_id: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// What a stored key says about itself; the caller checks the secret and times.
#[derive(Debug, Clone)]
pub struct KeyRecord {
    pub key_id: String,
    pub account_id: AccountId,
    pub secret_hash: Vec<u8>,
    pub scopes: String,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewKey {
    pub key_id: String,
    pub account_id: AccountId,
    pub secret_hash: Vec<u8>,
    pub scopes: String,
    pub expires_at: Option<i64>,
}

/// One asset of a batch to register, with its job; its id's kind is its
/// idea's.
#[derive(Debug, Clone)]
pub struct NewModel {
    pub id: AssetId,
    pub job_id: JobId,
    /// The contract's `name`, distinct within the batch.
    pub name: String,
    pub idea: AssetIdea,
}

/// Everything one register-ideas call writes, with its ids already chosen.
#[derive(Debug, Clone)]
pub struct NewBatch {
    pub account_id: AccountId,
    pub batch_id: BatchId,
    pub order_id: OrderId,
    pub reservation_id: ReservationId,
    pub preferences: String,
    pub correlation_id: String,
    /// The price of each of its assets.
    pub price_per_model: Credits,
    /// When the reservation closes, failing and refunding what is unfinished.
    pub deadline: i64,
    pub max_attempts: u32,
    /// In order.
    pub models: Vec<NewModel>,
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
    pub batch_id: BatchId,
    pub order_id: OrderId,
    pub reservation_id: ReservationId,
    pub model_ids: Vec<AssetId>,
    pub credits_reserved: Credits,
    pub replayed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("insufficient credits: {required} required, {available} available")]
    InsufficientCredits {
        required: Credits,
        available: Credits,
    },
    #[error("unknown account")]
    UnknownAccount,
    /// The idempotency key was used before with a different request.
    #[error("the idempotency key was used with a different request")]
    IdempotencyKeyReused,
    #[error(transparent)]
    Store(#[from] super::StoreError),
}

/// What a client cancels: one model, or every model of a batch.
#[derive(Debug, Clone)]
pub enum CancelTarget {
    Model(AssetId),
    Batch(BatchId),
}

/// A model a cancel refunded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelledModel {
    pub id: AssetId,
    pub price: Credits,
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Only assets of this kind.
    pub kind: AssetKind,
    pub filter: StatusFilter,
    pub batch_id: Option<BatchId>,
    /// Only pictures made from this product.
    pub product_id: Option<mannequin_domain::ids::ProductId>,
    /// Only models in this status (the console's filter).
    pub status: Option<ModelStatus>,
    /// Only models with this vote (the console's filter).
    pub voting: Option<Voting>,
    /// Only those whose name, prompt or order text holds every one of these
    /// words: LIKE patterns, as [`super::search_words`] makes them (the
    /// console's search).
    pub words: Vec<String>,
    pub cursor: Option<Cursor>,
    pub limit: u32,
}

/// A model as the list shows it.
#[derive(Debug, Clone)]
pub struct ModelRow {
    pub id: AssetId,
    pub batch_id: BatchId,
    pub name: String,
    pub status: ModelStatus,
    pub voting: Voting,
    pub thumb_key: Option<String>,
    pub image_key: Option<String>,
    pub failure_reason: Option<String>,
    pub created_at: i64,
    pub prompt: Option<String>,
    pub seed: Option<i64>,
    pub generator: Option<String>,
    pub generator_notes: Option<String>,
    /// What a picture was made from: the product, the model, the set.
    pub made_from: [Option<String>; 3],
}

/// A model as the list shows it, borrowing its text from where it was read:
/// what a page writes out without copying it first.
#[derive(Debug, Clone, Copy)]
pub struct ModelRef<'a> {
    pub id: &'a str,
    pub batch_id: &'a str,
    pub name: &'a str,
    pub status: ModelStatus,
    pub voting: Voting,
    pub thumb_key: Option<&'a str>,
    pub image_key: Option<&'a str>,
    pub failure_reason: Option<&'a str>,
    pub created_at: i64,
    pub prompt: Option<&'a str>,
    pub seed: Option<i64>,
    pub generator: Option<&'a str>,
    pub generator_notes: Option<&'a str>,
    /// What a picture was made from: the product, the model, the set.
    pub made_from: [Option<&'a str>; 3],
}

impl ModelRow {
    pub fn as_ref(&self) -> ModelRef<'_> {
        ModelRef {
            id: self.id.as_str(),
            batch_id: self.batch_id.as_str(),
            name: &self.name,
            status: self.status,
            voting: self.voting,
            thumb_key: self.thumb_key.as_deref(),
            image_key: self.image_key.as_deref(),
            failure_reason: self.failure_reason.as_deref(),
            created_at: self.created_at,
            prompt: self.prompt.as_deref(),
            seed: self.seed,
            generator: self.generator.as_deref(),
            generator_notes: self.generator_notes.as_deref(),
            made_from: self.made_from.each_ref().map(|s| s.as_deref()),
        }
    }
}

impl ModelRef<'_> {
    pub fn to_row(&self) -> ModelRow {
        let own = |s: Option<&str>| s.map(str::to_owned);
        ModelRow {
            id: AssetId::trusted(self.id.to_owned()),
            batch_id: BatchId::trusted(self.batch_id.to_owned()),
            name: self.name.to_owned(),
            status: self.status,
            voting: self.voting,
            thumb_key: own(self.thumb_key),
            image_key: own(self.image_key),
            failure_reason: own(self.failure_reason),
            created_at: self.created_at,
            prompt: own(self.prompt),
            seed: self.seed,
            generator: own(self.generator),
            generator_notes: own(self.generator_notes),
            made_from: self.made_from.map(own),
        }
    }
}

/// The state of a job row: the queue's view of a model's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for a worker (and, with NATS, for the relay).
    Queued,
    /// Held by a worker under a lease.
    Running,
    Done,
    Failed,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// The state of the job of a model settled to the terminal `status`.
    pub fn settled(status: ModelStatus) -> JobState {
        match status {
            ModelStatus::Done => JobState::Done,
            ModelStatus::Cancelled => JobState::Cancelled,
            _ => JobState::Failed,
        }
    }
}

/// A job a worker holds under a lease.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub job_id: JobId,
    pub model_id: AssetId,
    pub account_id: AccountId,
    pub correlation_id: String,
    /// Failed attempts so far (a crash is not an attempt; deliveries bound those).
    pub attempts: u32,
    pub max_attempts: u32,
    /// Times the job was handed to a worker, this time included.
    pub deliveries: u32,
    /// The model's price, consumed or refunded when it settles.
    pub price: Credits,
    pub idea: AssetIdea,
    /// The batch's preferences text, as the customer wrote it.
    pub preferences: String,
    /// The model's name, distinct within its batch.
    pub name: String,
}

/// What the generator was asked for a model, recorded when it settles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    pub prompt: String,
    pub seed: u32,
    /// Backend and model name, e.g. `openai/gpt-image-1`.
    pub generator: String,
    /// What the generator could not follow, for the customer to read.
    pub notes: Option<String>,
}

/// A finished model to record: its job and where its images are.
#[derive(Debug, Clone, Copy)]
pub struct Completion<'a> {
    pub job: &'a ClaimedJob,
    pub image_key: &'a str,
    pub thumb_key: &'a str,
    pub generation: Option<&'a Generation>,
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
    pub credits_reserved: Credits,
}

/// What one pass over lost jobs did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Jobs put back in the queue (and, with NATS, the outbox).
    pub requeued: u64,
    /// Jobs whose worker was lost too often, failed and refunded.
    pub failed: u64,
}
