//! Webhooks in the database: an account's endpoints, the events settling
//! writes for them in its own transaction (so a crash can neither lose nor
//! invent one), one delivery per event and endpoint, and every attempt.
//!
//! A delivery is leased by moving its `next_at` past the lease: whichever
//! dispatcher claims it sends it, and if that process dies the delivery is
//! due again once the lease has passed. Each event and endpoint therefore has
//! one sender at a time, and at least one until it is delivered or given up.

use std::collections::BTreeSet;

use mannequin_domain::ModelStatus;
use mannequin_domain::ids::{AccountId, BatchId, EndpointId, EventId, ModelId};

use super::db::{Bind, Int, OptInt, OptText, Text};
use super::{Store, StoreResult, Tx, placeholders, settle, values_rows};
use crate::clock::new_id;

/// What a webhook can announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventType {
    ModelCompleted,
    ModelFailed,
    ModelCancelled,
    BatchCompleted,
}

impl EventType {
    pub const ALL: [EventType; 4] = [
        EventType::ModelCompleted,
        EventType::ModelFailed,
        EventType::ModelCancelled,
        EventType::BatchCompleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ModelCompleted => "model.completed",
            EventType::ModelFailed => "model.failed",
            EventType::ModelCancelled => "model.cancelled",
            EventType::BatchCompleted => "batch.completed",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The event a model reaching `status` causes.
    fn for_model(status: ModelStatus) -> Option<EventType> {
        match status {
            ModelStatus::Done => Some(EventType::ModelCompleted),
            ModelStatus::Failed => Some(EventType::ModelFailed),
            ModelStatus::Cancelled => Some(EventType::ModelCancelled),
            _ => None,
        }
    }
}

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

fn subscribed(events: &str, event: EventType) -> bool {
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
    pub secret: String,
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

/// A settled model, as [`record_events`] needs it.
pub(super) struct SettledModel<'a> {
    pub account: &'a AccountId,
    pub batch: &'a BatchId,
    pub model: &'a ModelId,
}

/// Writes, in the settling transaction `tx`, the events that models settling
/// to `outcome` cause for the accounts' enabled endpoints subscribed to them:
/// one per model, and `batch.completed` for each batch this transaction
/// finished, with one delivery per event and endpoint.
///
/// A batch's last two models settling at once on PostgreSQL both update its
/// reservation row first ([`settle::settle_many`] does), so the second waits
/// for the first to commit and then counts its model as settled: exactly one
/// of them sees the batch finished, and the unique `(type, subject_id)` makes
/// a second `batch.completed` impossible anyway.
pub(super) async fn record_events(
    tx: &mut Tx,
    outcome: ModelStatus,
    settled: &[SettledModel<'_>],
    now: i64,
) -> StoreResult<()> {
    let Some(model_event) = EventType::for_model(outcome) else {
        return Ok(());
    };
    let accounts: BTreeSet<&AccountId> = settled.iter().map(|s| s.account).collect();
    if accounts.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT id, account_id, events FROM webhook_endpoints
         WHERE disabled_at IS NULL AND account_id IN ({})",
        placeholders(1, accounts.len())
    );
    let binds: Vec<Bind<'_>> = accounts.iter().map(|a| Text(a.as_str())).collect();
    let endpoints = tx
        .fetch(&sql, &binds, |c| {
            Ok((
                EndpointId::trusted(c.text()?),
                AccountId::trusted(c.text()?),
                c.text()?,
            ))
        })
        .await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let wanting = |account: &AccountId, event: EventType| -> Vec<&EndpointId> {
        endpoints
            .iter()
            .filter(|(_, a, events)| a == account && subscribed(events, event))
            .map(|(id, ..)| id)
            .collect()
    };

    // (event id, account, type, subject, endpoints)
    let mut events: Vec<(EventId, &AccountId, EventType, &str, Vec<&EndpointId>)> = Vec::new();
    for s in settled {
        let to = wanting(s.account, model_event);
        if !to.is_empty() {
            events.push((new_id(), s.account, model_event, s.model.as_str(), to));
        }
    }
    for chunk in events.chunks(200) {
        let sql = format!(
            "INSERT INTO webhook_events (id, account_id, type, subject_id, created_at) VALUES {}",
            values_rows("(?, ?, ?, ?, ?)", chunk.len())
        );
        let mut binds = Vec::with_capacity(chunk.len() * 5);
        for (id, account, event, subject, _) in chunk {
            binds.extend([
                Text(id.as_str()),
                Text(account.as_str()),
                Text(event.as_str()),
                Text(subject),
                Int(now),
            ]);
        }
        tx.execute(&sql, &binds).await?;
    }

    let batches: BTreeSet<(&BatchId, &AccountId)> = settled
        .iter()
        .map(|s| (s.batch, s.account))
        .filter(|(_, account)| !wanting(account, EventType::BatchCompleted).is_empty())
        .collect();
    let open = format!(
        "SELECT COUNT(*) FROM models WHERE batch_id = $1 AND status IN ({})",
        settle::unsettled()
    );
    let mut finished = Vec::new();
    for (batch, account) in batches {
        let left = tx
            .fetch_one(&open, &[Text(batch.as_str())], |c| c.int())
            .await?
            .unwrap_or(0);
        if left > 0 {
            continue;
        }
        let id: EventId = new_id();
        let inserted = tx
            .fetch_one(
                "INSERT INTO webhook_events (id, account_id, type, subject_id, created_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (type, subject_id) DO NOTHING RETURNING id",
                &[
                    Text(id.as_str()),
                    Text(account.as_str()),
                    Text(EventType::BatchCompleted.as_str()),
                    Text(batch.as_str()),
                    Int(now),
                ],
                |c| c.text(),
            )
            .await?;
        if inserted.is_some() {
            let to = wanting(account, EventType::BatchCompleted);
            finished.push((id, account, EventType::BatchCompleted, batch.as_str(), to));
        }
    }

    let deliveries: Vec<(&EventId, &EndpointId)> = events
        .iter()
        .chain(&finished)
        .flat_map(|(id, .., to)| to.iter().map(move |e| (id, *e)))
        .collect();
    for chunk in deliveries.chunks(200) {
        let sql = format!(
            "INSERT INTO webhook_deliveries (event_id, endpoint_id, state, next_at, created_at)
             VALUES {}",
            values_rows("(?, ?, 'pending', ?, ?)", chunk.len())
        );
        let mut binds = Vec::with_capacity(chunk.len() * 4);
        for (event, endpoint) in chunk {
            binds.extend([
                Text(event.as_str()),
                Text(endpoint.as_str()),
                Int(now),
                Int(now),
            ]);
        }
        tx.execute(&sql, &binds).await?;
    }
    Ok(())
}

impl Store {
    /// Adds an endpoint unless the account has `max` already; `None` then.
    pub async fn create_endpoint(
        &self,
        account: &AccountId,
        url: &str,
        events: &[EventType],
        secret: &str,
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
                Text(secret),
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

    /// The endpoint's attempts, newest first, older than attempt `before`.
    pub async fn attempts(
        &self,
        endpoint: &EndpointId,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<Attempt>> {
        self.pools
            .fetch_fresh(
                "SELECT id, event_id, event_type, attempt, status_code, error, duration_ms,
                     attempted_at
                 FROM webhook_attempts WHERE endpoint_id = $1 AND id < $2
                 ORDER BY id DESC LIMIT $3",
                &[
                    Text(endpoint.as_str()),
                    Int(before.unwrap_or(i64::MAX)),
                    Int(i64::from(limit)),
                ],
                |c| {
                    Ok(Attempt {
                        id: c.int()?,
                        event_id: EventId::trusted(c.text()?),
                        event_type: c.text()?,
                        attempt: u32::try_from(c.int()?).unwrap_or(u32::MAX),
                        status_code: c.opt_int()?.and_then(|s| u16::try_from(s).ok()),
                        error: c.opt_text()?,
                        duration_ms: c.int()?,
                        attempted_at: c.int()?,
                    })
                },
            )
            .await
    }

    /// Takes up to `max` due deliveries until `lease_until`.
    pub async fn claim_deliveries(
        &self,
        max: u32,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<Vec<Due>> {
        let mut tx = self.begin().await?;
        let claimed = tx
            .fetch(
                self.dialect.claim_deliveries,
                &[Int(lease_until), Int(now), Int(i64::from(max))],
                |c| c.int(),
            )
            .await?;
        if claimed.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT d.id, d.attempts, e.id, e.type, e.subject_id, e.account_id, e.payload,
                 e.created_at, w.id, w.url, w.secret
             FROM webhook_deliveries d
             JOIN webhook_events e ON e.id = d.event_id
             JOIN webhook_endpoints w ON w.id = d.endpoint_id
             WHERE d.id IN ({})",
            placeholders(1, claimed.len())
        );
        let binds: Vec<Bind<'_>> = claimed.iter().map(|id| Int(*id)).collect();
        let due = tx
            .fetch(&sql, &binds, |c| {
                let delivery_id = c.int()?;
                let attempt = u32::try_from(c.int()?).unwrap_or(u32::MAX);
                let event_id = EventId::trusted(c.text()?);
                let kind = c.text()?;
                Ok(Due {
                    delivery_id,
                    attempt,
                    event_id,
                    event_type: EventType::parse(&kind).ok_or_else(|| {
                        super::StoreError::internal(format!("unknown event type {kind}"))
                    })?,
                    subject_id: c.text()?,
                    account_id: AccountId::trusted(c.text()?),
                    payload: c.opt_text()?,
                    created_at: c.int()?,
                    endpoint_id: EndpointId::trusted(c.text()?),
                    url: c.text()?,
                    secret: c.text()?,
                })
            })
            .await?;
        tx.commit().await?;
        Ok(due)
    }

    /// Fixes the bodies of events the first time they are sent, in one
    /// transaction, and returns the body each will always be sent with: the
    /// one given, or the one another dispatcher fixed first.
    pub async fn fix_payloads(&self, bodies: &[(&EventId, &str)]) -> StoreResult<Vec<String>> {
        if bodies.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin().await?;
        let mut fixed = Vec::with_capacity(bodies.len());
        for (event, payload) in bodies {
            let kept = tx
                .fetch_one(
                    "UPDATE webhook_events SET payload = COALESCE(payload, $1) WHERE id = $2
                     RETURNING payload",
                    &[Text(payload), Text(event.as_str())],
                    |c| c.opt_text(),
                )
                .await?
                .flatten();
            fixed.push(kept.unwrap_or_else(|| payload.to_string()));
        }
        tx.commit().await?;
        Ok(fixed)
    }

    /// Records attempts, in one transaction, and what follows from each (see
    /// [`finish`]); one endpoint state per attempt, in order.
    pub async fn finish_deliveries(
        &self,
        attempts: &[(&Due, &Outcome)],
        disable_after_ms: i64,
        now: i64,
    ) -> StoreResult<Vec<EndpointState>> {
        if attempts.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin().await?;
        let mut states = Vec::with_capacity(attempts.len());
        for (due, outcome) in attempts {
            states.push(finish(&mut tx, due, outcome, disable_after_ms, now).await?);
        }
        tx.commit().await?;
        Ok(states)
    }

    /// Forgets attempts, finished deliveries and their events from before
    /// `before`; returns how many rows went.
    pub async fn prune_webhooks(&self, before: i64) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let mut n = 0;
        for sql in [
            "DELETE FROM webhook_attempts WHERE id IN (
                 SELECT id FROM webhook_attempts WHERE attempted_at < $1 LIMIT 1000)",
            "DELETE FROM webhook_deliveries WHERE id IN (
                 SELECT id FROM webhook_deliveries
                 WHERE state <> 'pending' AND finished_at < $1 LIMIT 1000)",
            "DELETE FROM webhook_events WHERE id IN (
                 SELECT e.id FROM webhook_events e
                 WHERE e.created_at < $1
                   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)
                 LIMIT 1000)",
        ] {
            n += tx.execute(sql, &[Int(before)]).await?;
        }
        tx.commit().await?;
        Ok(n)
    }
}

/// Records an attempt and what follows from it: the delivery is done, due
/// again at `retry_at`, or given up; the endpoint is healthy again, or
/// failing, and disabled once it has failed for `disable_after_ms` without
/// a success in between (its pending deliveries are given up then).
async fn finish(
    tx: &mut Tx,
    due: &Due,
    outcome: &Outcome,
    disable_after_ms: i64,
    now: i64,
) -> StoreResult<EndpointState> {
    let endpoint = due.endpoint_id.as_str();
    let (state, next_at) = match (outcome.delivered, outcome.retry_at) {
        (true, _) => ("delivered", now),
        (false, Some(at)) => ("pending", at),
        (false, None) => ("failed", now),
    };
    tx.execute(
        "UPDATE webhook_deliveries
         SET state = $1, next_at = $2,
             finished_at = CASE WHEN $1 = 'pending' THEN NULL ELSE $3 END
         WHERE id = $4 AND state = 'pending'",
        &[Text(state), Int(next_at), Int(now), Int(due.delivery_id)],
    )
    .await?;
    tx.execute(
        "INSERT INTO webhook_attempts (endpoint_id, event_id, event_type, attempt,
             status_code, error, duration_ms, attempted_at)
         SELECT id, $2, $3, $4, $5, $6, $7, $8 FROM webhook_endpoints WHERE id = $1",
        &[
            Text(endpoint),
            Text(due.event_id.as_str()),
            Text(due.event_type.as_str()),
            Int(i64::from(due.attempt)),
            OptInt(outcome.status_code.map(i64::from)),
            OptText(outcome.error.as_deref()),
            Int(outcome.duration_ms),
            Int(now),
        ],
    )
    .await?;
    let result = if outcome.delivered {
        tx.execute(
            "UPDATE webhook_endpoints SET failing_since = NULL
             WHERE id = $1 AND failing_since IS NOT NULL",
            &[Text(endpoint)],
        )
        .await?;
        EndpointState::Healthy
    } else {
        let since = tx
            .fetch_one(
                "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $1)
                 WHERE id = $2 AND disabled_at IS NULL RETURNING failing_since",
                &[Int(now), Text(endpoint)],
                |c| c.int(),
            )
            .await?;
        match since {
            Some(since) if now - since >= disable_after_ms => {
                let reason = format!(
                    "disabled: every delivery failed for {} (since {}); last: {}",
                    span(now - since),
                    mannequin_domain::time::format_millis(since),
                    outcome.error.as_deref().unwrap_or("failed"),
                );
                tx.execute(
                    "UPDATE webhook_endpoints SET disabled_at = $1, disabled_reason = $2
                     WHERE id = $3",
                    &[Int(now), Text(&reason), Text(endpoint)],
                )
                .await?;
                tx.execute(
                    "UPDATE webhook_deliveries SET state = 'failed', finished_at = $1
                     WHERE endpoint_id = $2 AND state = 'pending'",
                    &[Int(now), Text(endpoint)],
                )
                .await?;
                EndpointState::Disabled
            }
            _ => EndpointState::Failing,
        }
    };
    Ok(result)
}

/// A span of milliseconds in words: `5 days`, `3 hours`, `12 minutes`.
fn span(ms: i64) -> String {
    let (n, unit) = match ms {
        ms if ms >= 2 * 86_400_000 => (ms / 86_400_000, "days"),
        ms if ms >= 2 * 3_600_000 => (ms / 3_600_000, "hours"),
        ms if ms >= 2 * 60_000 => (ms / 60_000, "minutes"),
        ms => (ms / 1000, "seconds"),
    };
    format!("{n} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_without_a_list_receives_every_event() {
        for e in EventType::ALL {
            assert!(subscribed("", e));
            assert_eq!(EventType::parse(e.as_str()), Some(e));
        }
        let list = events_text(&[EventType::BatchCompleted, EventType::ModelFailed]);
        assert!(subscribed(&list, EventType::BatchCompleted));
        assert!(subscribed(&list, EventType::ModelFailed));
        assert!(!subscribed(&list, EventType::ModelCompleted));
        assert!(!subscribed("model.completedx", EventType::ModelCompleted));
    }

    #[test]
    fn spans_read_in_the_largest_fitting_unit() {
        assert_eq!(span(5 * 86_400_000 + 5), "5 days");
        assert_eq!(span(30 * 3_600_000), "30 hours");
        assert_eq!(span(90_000), "90 seconds");
    }
}
