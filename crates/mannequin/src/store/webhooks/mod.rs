//! Webhooks in the database: an account's endpoints (here), the events
//! settling writes for them in its own transaction (`events`: so a crash can
//! neither lose nor invent one), and one delivery per event and endpoint with
//! every attempt (`deliveries`).
//!
//! A delivery is leased by moving its `next_at` past the lease: whichever
//! dispatcher claims it sends it, and if that process dies the delivery is
//! due again once the lease has passed. Each event and endpoint therefore has
//! one sender at a time, and at least one until it is delivered or given up.

mod deliveries;
mod events;

pub(super) use events::{SettledModel, record_events};

use mannequin_domain::ids::{AccountId, EndpointId, EventId};
use mannequin_domain::{AssetKind, ModelStatus};

use super::db::{Int, Text};
use super::{Store, StoreResult};
use crate::clock::new_id;

/// How an asset ended, as its events name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ending {
    Completed,
    Failed,
    Cancelled,
}

impl Ending {
    pub const ALL: [Ending; 3] = [Ending::Completed, Ending::Failed, Ending::Cancelled];

    /// How an asset reaching `status` ended; `None` while it runs.
    pub fn of(status: ModelStatus) -> Option<Ending> {
        match status {
            ModelStatus::Done => Some(Ending::Completed),
            ModelStatus::Failed => Some(Ending::Failed),
            ModelStatus::Cancelled => Some(Ending::Cancelled),
            ModelStatus::Pending | ModelStatus::Processing => None,
        }
    }
}

/// What a webhook can announce: an asset of a kind ending
/// (`model.completed`, `scenery.failed`: the names its kind declares), or a
/// batch's end. Each kind has its own family, so an endpoint subscribed to
/// models hears of nothing else; a kind declared is a family here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventType {
    Asset(AssetKind, Ending),
    BatchCompleted,
}

impl EventType {
    /// Every event: each kind's endings in the order declared, then the
    /// batch's end.
    pub fn all() -> Vec<EventType> {
        AssetKind::ALL
            .iter()
            .flat_map(|kind| Ending::ALL.map(|e| EventType::Asset(*kind, e)))
            .chain([EventType::BatchCompleted])
            .collect()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Asset(kind, ending) => kind.declaration().events[ending as usize],
            EventType::BatchCompleted => "batch.completed",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::all().into_iter().find(|t| t.as_str() == s)
    }

    /// The event an asset of `kind` reaching `status` causes.
    pub(super) fn for_asset(kind: AssetKind, status: ModelStatus) -> Option<EventType> {
        Ending::of(status).map(|e| EventType::Asset(kind, e))
    }
}

impl serde::Serialize for EventType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl utoipa::PartialSchema for EventType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let names: Vec<&str> = EventType::all()
            .into_iter()
            .map(EventType::as_str)
            .collect();
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("What a webhook announces."))
            .enum_values(Some(names))
            .into()
    }
}

impl utoipa::ToSchema for EventType {}

/// An endpoint as its owner sees it (never its secret, after creation).
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: EndpointId,
    pub url: String,
    /// The events it receives; empty: all.
    pub events: Vec<EventType>,
    pub created_at: i64,
    pub failing_since: Option<i64>,
    pub disabled_at: Option<i64>,
    pub disabled_reason: Option<String>,
}

/// The stored form of an event list: comma-separated, empty for all.
fn events_text(events: &[EventType]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) fn subscribed(events: &str, event: EventType) -> bool {
    events.is_empty() || events.split(',').any(|e| e == event.as_str())
}

const ENDPOINT_COLUMNS: &str =
    "id, url, events, created_at, failing_since, disabled_at, disabled_reason";

fn endpoint_row(c: &mut dyn super::db::Columns) -> StoreResult<Endpoint> {
    Ok(Endpoint {
        id: EndpointId::trusted(c.text()?),
        url: c.text()?,
        events: c.text()?.split(',').filter_map(EventType::parse).collect(),
        created_at: c.int()?,
        failing_since: c.opt_int()?,
        disabled_at: c.opt_int()?,
        disabled_reason: c.opt_text()?,
    })
}

/// One attempt to deliver an event to an endpoint, as recorded.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub id: i64,
    pub event_id: EventId,
    pub event_type: String,
    /// 1 for the first attempt of this event at this endpoint.
    pub attempt: u32,
    /// The endpoint's answer, when it answered.
    pub status_code: Option<u16>,
    /// Why it did not count as delivered, when it did not.
    pub error: Option<String>,
    pub duration_ms: i64,
    pub attempted_at: i64,
}

/// A delivery a dispatcher has taken: what to send where.
#[derive(Debug, Clone)]
pub struct Due {
    pub delivery_id: i64,
    /// This attempt's number, from 1.
    pub attempt: u32,
    pub event_id: EventId,
    pub event_type: EventType,
    pub subject_id: String,
    pub account_id: AccountId,
    /// The body, once an earlier attempt fixed it.
    pub payload: Option<String>,
    pub created_at: i64,
    pub endpoint_id: EndpointId,
    pub url: String,
    pub secret: crate::SecretString,
}

/// What became of one attempt.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub delivered: bool,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
    /// When to try again after a failure; `None`: give up.
    pub retry_at: Option<i64>,
}

/// What [`Store::finish_delivery`] did to the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointState {
    Healthy,
    Failing,
    /// This failure disabled it.
    Disabled,
}

impl Store {
    /// Adds an endpoint unless the account has `max` already; `None` then.
    pub async fn create_endpoint(
        &self,
        account: &AccountId,
        url: &str,
        events: &[EventType],
        secret: &crate::SecretString,
        max: u32,
        now: i64,
    ) -> StoreResult<Option<Endpoint>> {
        let mut tx = self.begin().await?;
        // The account row serializes creations, so the limit holds.
        tx.execute(
            "UPDATE accounts SET name = name WHERE id = $1",
            &[Text(account.as_str())],
        )
        .await?;
        let n = tx
            .fetch_one(
                "SELECT COUNT(*) FROM webhook_endpoints WHERE account_id = $1",
                &[Text(account.as_str())],
                |c| c.int(),
            )
            .await?
            .unwrap_or(0);
        if n >= i64::from(max) {
            tx.rollback().await?;
            return Ok(None);
        }
        let id: EndpointId = new_id();
        tx.execute(
            "INSERT INTO webhook_endpoints (id, account_id, url, events, secret, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                Text(id.as_str()),
                Text(account.as_str()),
                Text(url),
                Text(&events_text(events)),
                Text(crate::ExposeSecret::expose_secret(secret)),
                Int(now),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Some(Endpoint {
            id,
            url: url.to_string(),
            events: events.to_vec(),
            created_at: now,
            failing_since: None,
            disabled_at: None,
            disabled_reason: None,
        }))
    }

    /// The account's endpoints, oldest first.
    pub async fn endpoints(&self, account: &AccountId) -> StoreResult<Vec<Endpoint>> {
        self.pools
            .fetch_fresh(
                &format!(
                    "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints
                     WHERE account_id = $1 ORDER BY id"
                ),
                &[Text(account.as_str())],
                endpoint_row,
            )
            .await
    }

    /// One of the account's endpoints.
    pub async fn endpoint(
        &self,
        account: &AccountId,
        id: &EndpointId,
    ) -> StoreResult<Option<Endpoint>> {
        Ok(self
            .pools
            .fetch_fresh(
                &format!(
                    "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints
                     WHERE id = $1 AND account_id = $2"
                ),
                &[Text(id.as_str()), Text(account.as_str())],
                endpoint_row,
            )
            .await?
            .pop())
    }

    /// Removes the account's endpoint with its deliveries and attempts;
    /// `false` when it has no such endpoint.
    pub async fn delete_endpoint(&self, account: &AccountId, id: &EndpointId) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let owned = tx
            .fetch_one(
                "SELECT id FROM webhook_endpoints WHERE id = $1 AND account_id = $2",
                &[Text(id.as_str()), Text(account.as_str())],
                |c| c.text(),
            )
            .await?
            .is_some();
        if owned {
            for sql in [
                "DELETE FROM webhook_attempts WHERE endpoint_id = $1",
                "DELETE FROM webhook_deliveries WHERE endpoint_id = $1",
                "DELETE FROM webhook_endpoints WHERE id = $1",
            ] {
                tx.execute(sql, &[Text(id.as_str())]).await?;
            }
        }
        tx.commit().await?;
        Ok(owned)
    }

    /// Enables a disabled endpoint again; its failures are forgotten.
    pub async fn enable_endpoint(
        &self,
        account: &AccountId,
        id: &EndpointId,
    ) -> StoreResult<Option<Endpoint>> {
        let mut tx = self.begin().await?;
        tx.execute(
            "UPDATE webhook_endpoints
             SET disabled_at = NULL, disabled_reason = NULL, failing_since = NULL
             WHERE id = $1 AND account_id = $2",
            &[Text(id.as_str()), Text(account.as_str())],
        )
        .await?;
        tx.commit().await?;
        self.endpoint(account, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_without_a_list_receives_every_event() {
        let model = |e| EventType::Asset(AssetKind::Model, e);
        let all = EventType::all();
        assert_eq!(all.len(), AssetKind::ALL.len() * 3 + 1);
        for e in all {
            assert!(subscribed("", e));
            assert_eq!(EventType::parse(e.as_str()), Some(e));
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
        assert_eq!(model(Ending::Failed).as_str(), "model.failed");
        assert_eq!(
            EventType::Asset(AssetKind::Scenery, Ending::Cancelled).as_str(),
            "scenery.cancelled"
        );
        let list = events_text(&[EventType::BatchCompleted, model(Ending::Failed)]);
        assert!(subscribed(&list, EventType::BatchCompleted));
        assert!(subscribed(&list, model(Ending::Failed)));
        assert!(!subscribed(&list, model(Ending::Completed)));
        assert!(!subscribed("model.completedx", model(Ending::Completed)));
    }
}
