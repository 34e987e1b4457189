//! What the store reads and writes, as types: ids, amounts and statuses are
//! never bare strings or numbers past this border.

use mannequin_domain::credits::Balances;
use mannequin_domain::ids::{AccountId, BatchId, JobId, ModelId, OrderId, ReservationId};
use mannequin_domain::request::Cursor;
use mannequin_domain::{Credits, Idea, ModelStatus, StatusFilter, Voting};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountSummary {
    pub account_id: AccountId,
    pub name: String,
    #[serde(flatten)]
    pub balances: Balances,
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

/// One model of a batch to register, with its job.
#[derive(Debug, Clone)]
pub struct NewModel {
    pub id: ModelId,
    pub job_id: JobId,
    pub idea: Idea,
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
    pub model_ids: Vec<ModelId>,
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
    Model(ModelId),
    Batch(BatchId),
}

/// A model a cancel refunded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelledModel {
    pub id: ModelId,
    pub price: Credits,
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filter: StatusFilter,
    pub batch_id: Option<BatchId>,
    /// Only models in this status (the console's filter).
    pub status: Option<ModelStatus>,
    /// Only models with this vote (the console's filter).
    pub voting: Option<Voting>,
    pub cursor: Option<Cursor>,
    pub limit: u32,
}

/// A model as the list shows it.
#[derive(Debug, Clone)]
pub struct ModelRow {
    pub id: ModelId,
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
    pub model_id: ModelId,
    pub account_id: AccountId,
    pub correlation_id: String,
    /// Failed attempts so far (a crash is not an attempt; deliveries bound those).
    pub attempts: u32,
    pub max_attempts: u32,
    /// Times the job was handed to a worker, this time included.
    pub deliveries: u32,
    /// The model's price, consumed or refunded when it settles.
    pub price: Credits,
    pub idea: Idea,
    /// The batch's preferences text, as the customer wrote it.
    pub preferences: String,
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
