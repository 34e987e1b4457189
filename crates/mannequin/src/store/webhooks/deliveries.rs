//! Deliveries: claimed under a lease, their bodies fixed once, every attempt
//! recorded with what follows from it, and old history forgotten.

use mannequin_domain::ids::{AccountId, EndpointId, EventId};

use super::super::db::{Bind, Int, OptInt, OptText, Text};
use super::super::{Store, StoreError, StoreResult, Tx, placeholders};
use super::{Attempt, Due, EndpointState, EventType, Outcome};

impl Store {
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

    /// Takes up to `max` due deliveries until `lease_until`, in turns: at
    /// most `per_endpoint` of any endpoint less what `busy` says this process
    /// already has in flight to it, endpoints taking turns (an endpoint's
    /// first due delivery before anyone's second), and accounts taking turns
    /// among equals, the oldest first. An endpoint that hangs so holds only
    /// its own places.
    pub async fn claim_deliveries(
        &self,
        max: u32,
        per_endpoint: u32,
        busy: &[(&EndpointId, u32)],
        now: i64,
        lease_until: i64,
    ) -> StoreResult<Vec<Due>> {
        // What this process already sends each endpoint, as a CASE over binds.
        let mut room = format!("${}", 4);
        let mut binds: Vec<Bind<'_>> = vec![
            Int(lease_until),
            Int(now),
            Int(i64::from(max)),
            Int(i64::from(per_endpoint)),
        ];
        if !busy.is_empty() {
            let mut case = String::from(" - CASE d.endpoint_id");
            for (endpoint, n) in busy {
                let at = binds.len();
                case.push_str(&format!(" WHEN ${} THEN ${}", at + 1, at + 2));
                binds.push(Text(endpoint.as_str()));
                binds.push(Int(i64::from(*n)));
            }
            case.push_str(" ELSE 0 END");
            room.push_str(&case);
        }
        // The window ranks cannot lock rows (PostgreSQL refuses FOR UPDATE
        // beside them): the UPDATE checks each row is still due as it takes
        // it, so two dispatchers never take the same delivery.
        let sql = format!(
            "UPDATE webhook_deliveries SET next_at = $1, attempts = attempts + 1
             WHERE state = 'pending' AND next_at <= $2 AND id IN (
                 SELECT id FROM (
                     SELECT d.id, d.next_at,
                         ROW_NUMBER() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_at, d.id) AS turn,
                         ROW_NUMBER() OVER (PARTITION BY w.account_id ORDER BY d.next_at, d.id) AS account_turn,
                         {room} AS room
                     FROM webhook_deliveries d
                     JOIN webhook_endpoints w ON w.id = d.endpoint_id
                     WHERE d.state = 'pending' AND d.next_at <= $2
                 ) ranked
                 WHERE turn <= room
                 ORDER BY turn, account_turn, next_at, id
                 LIMIT $3)
             RETURNING id"
        );
        let mut tx = self.begin().await?;
        let claimed = tx.fetch(&sql, &binds, |c| c.int()).await?;
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
             WHERE d.id IN ({})
             ORDER BY d.id",
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
                        StoreError::internal(format!("unknown event type {kind}"))
                    })?,
                    subject_id: c.text()?,
                    account_id: AccountId::trusted(c.text()?),
                    payload: c.opt_text()?,
                    created_at: c.int()?,
                    endpoint_id: EndpointId::trusted(c.text()?),
                    url: c.text()?,
                    secret: c.text()?.into(),
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
    fn spans_read_in_the_largest_fitting_unit() {
        assert_eq!(span(5 * 86_400_000 + 5), "5 days");
        assert_eq!(span(30 * 3_600_000), "30 hours");
        assert_eq!(span(90_000), "90 seconds");
    }
}
