//! Batches: one register-ideas call's models and credits, its overall status,
//! and the live events of its models.

use mannequin_domain::{AssetKind, Credits, ModelStatus};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Time, Url};
use crate::blob::BlobStore;
use crate::store::{BatchDetail, ModelChange};

/// Where a batch stands, from its models' statuses.
///
/// While a model is PENDING or PROCESSING: `PENDING` when none has started
/// yet (cancelled ones aside), else `PROCESSING`. Once every model is
/// terminal: `DONE` when every model is DONE, `CANCELLED` when every one was
/// cancelled, `PARTIAL` when some are DONE and the others FAILED or
/// CANCELLED, `FAILED` when none is DONE and at least one FAILED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum BatchStatus {
    Pending,
    Processing,
    Done,
    Partial,
    Failed,
    Cancelled,
}

impl BatchStatus {
    pub fn of(s: &Statuses) -> BatchStatus {
        let total = s.pending + s.processing + s.done + s.failed + s.cancelled;
        if s.pending + s.processing > 0 {
            if s.processing + s.done + s.failed == 0 {
                BatchStatus::Pending
            } else {
                BatchStatus::Processing
            }
        } else if s.done == total {
            BatchStatus::Done
        } else if s.cancelled == total {
            BatchStatus::Cancelled
        } else if s.done > 0 {
            BatchStatus::Partial
        } else {
            BatchStatus::Failed
        }
    }
}

/// A batch's models per status; every status is present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "UPPERCASE")]
pub struct Statuses {
    pub pending: u64,
    pub processing: u64,
    pub done: u64,
    pub failed: u64,
    pub cancelled: u64,
}

impl Statuses {
    fn add(&mut self, status: ModelStatus, n: u64) {
        *match status {
            ModelStatus::Pending => &mut self.pending,
            ModelStatus::Processing => &mut self.processing,
            ModelStatus::Done => &mut self.done,
            ModelStatus::Failed => &mut self.failed,
            ModelStatus::Cancelled => &mut self.cancelled,
        } += n;
    }
}

/// One register-ideas call (ours): its models per status and its credits.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "batch_01j9zq3k5v8m2c4x6b7n9p0r1a",
    "kind": "model",
    "orderId": "order_01j9zq3k5v8m2c4x6b7n9p0r1b",
    "reservationId": "res_01j9zq3k5v8m2c4x6b7n9p0r1c",
    "preferences": "young female model, athletic build, natural makeup, for sportswear",
    "count": 2,
    "status": "PARTIAL",
    "statuses": {"PENDING": 0, "PROCESSING": 0, "DONE": 1, "FAILED": 1, "CANCELLED": 0},
    "creditsReserved": 20,
    "creditsConsumed": 10,
    "creditsRefunded": 10,
    "createdAt": "2026-03-20T14:00:00.000Z",
    "finishedAt": "2026-03-20T14:00:41.512Z",
    "correlationId": "01j9zq3k5v8m2c4x6b7n9p0r1d"
}))]
pub struct Batch {
    pub id: String,
    /// What the batch made.
    pub kind: AssetKind,
    pub order_id: String,
    pub reservation_id: String,
    pub preferences: String,
    pub count: u32,
    pub status: BatchStatus,
    pub statuses: Statuses,
    #[schema(value_type = i64)]
    pub credits_reserved: Credits,
    #[schema(value_type = i64)]
    pub credits_consumed: Credits,
    #[schema(value_type = i64)]
    pub credits_refunded: Credits,
    pub created_at: Time,
    /// When the last model reached its terminal status, once every model has.
    #[schema(required)]
    pub finished_at: Option<Time>,
    /// The register-ideas request's correlation id.
    pub correlation_id: String,
}

impl From<BatchDetail> for Batch {
    fn from(b: BatchDetail) -> Batch {
        let mut statuses = Statuses::default();
        for (name, n) in &b.statuses {
            if let Some(status) = ModelStatus::parse(name) {
                statuses.add(status, *n);
            }
        }
        Batch {
            id: b.id.as_str().to_string(),
            kind: b.kind,
            order_id: b.order_id.as_str().to_string(),
            reservation_id: b.reservation_id.as_str().to_string(),
            preferences: b.preferences,
            count: b.count,
            status: BatchStatus::of(&statuses),
            statuses,
            credits_reserved: b.credits_reserved,
            credits_consumed: b.credits_consumed,
            credits_refunded: b.credits_refunded,
            created_at: Time(b.created_at),
            finished_at: b.finished_at.map(Time),
            correlation_id: b.correlation_id,
        }
    }
}

/// A model's state in a batch's live events (ours).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "model_01j9zq3k5v8m2c4x6b7n9p0r1s",
    "status": "DONE",
    "thumbnail": "https://mannequin.example/media/models/model_01j9zq3k5v8m2c4x6b7n9p0r1s.thumb.jpg",
    "image": "https://mannequin.example/media/models/model_01j9zq3k5v8m2c4x6b7n9p0r1s.png",
    "failureReason": null,
    "updatedAt": "2026-03-20T14:00:21.003Z"
}))]
pub struct ModelEvent<'a> {
    #[schema(value_type = String)]
    pub id: &'a mannequin_domain::ids::AssetId,
    pub status: ModelStatus,
    #[schema(required)]
    pub thumbnail: Option<Url<'a>>,
    #[schema(required)]
    pub image: Option<Url<'a>>,
    #[schema(required)]
    pub failure_reason: Option<&'a str>,
    pub updated_at: Time,
}

impl<'a> ModelEvent<'a> {
    pub fn new(blobs: &'a dyn BlobStore, c: &'a ModelChange) -> ModelEvent<'a> {
        ModelEvent {
            id: &c.id,
            status: c.status,
            thumbnail: Url::of(blobs, c.thumb_key.as_deref()),
            image: Url::of(blobs, c.image_key.as_deref()),
            failure_reason: c.failure_reason.as_deref(),
            updated_at: Time(c.updated_at),
        }
    }

    /// The event's name in the stream: the asset's kind and what happened
    /// (`model.completed`, `scenery.processing`).
    pub fn name(&self) -> String {
        let what = match self.status {
            ModelStatus::Pending => "pending",
            ModelStatus::Processing => "processing",
            ModelStatus::Done => "completed",
            ModelStatus::Failed => "failed",
            ModelStatus::Cancelled => "cancelled",
        };
        let kind = self.id.kind();
        format!("{kind}.{what}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(pending: u64, processing: u64, done: u64, failed: u64, cancelled: u64) -> BatchStatus {
        BatchStatus::of(&Statuses {
            pending,
            processing,
            done,
            failed,
            cancelled,
        })
    }

    #[test]
    fn a_batch_status_follows_its_models() {
        use BatchStatus::*;
        assert_eq!(of(3, 0, 0, 0, 0), Pending);
        assert_eq!(
            of(2, 0, 0, 0, 1),
            Pending,
            "a cancelled model starts nothing"
        );
        assert_eq!(of(2, 1, 0, 0, 0), Processing);
        assert_eq!(
            of(1, 0, 1, 0, 0),
            Processing,
            "one done, one still to start"
        );
        assert_eq!(of(1, 0, 0, 1, 0), Processing);
        assert_eq!(of(0, 0, 3, 0, 0), Done);
        assert_eq!(of(0, 0, 2, 1, 0), Partial);
        assert_eq!(of(0, 0, 2, 0, 1), Partial);
        assert_eq!(of(0, 0, 0, 2, 1), Failed);
        assert_eq!(of(0, 0, 0, 3, 0), Failed);
        assert_eq!(of(0, 0, 0, 0, 3), Cancelled);
    }

    #[test]
    fn a_status_is_written_as_its_name() {
        for (s, name) in [
            (BatchStatus::Pending, "PENDING"),
            (BatchStatus::Processing, "PROCESSING"),
            (BatchStatus::Done, "DONE"),
            (BatchStatus::Partial, "PARTIAL"),
            (BatchStatus::Failed, "FAILED"),
            (BatchStatus::Cancelled, "CANCELLED"),
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), name);
        }
    }
}
