//! The events a settlement causes, written in its transaction, with one
//! delivery per event and subscribed endpoint.

use std::collections::BTreeSet;

use mannequin_domain::ModelStatus;
use mannequin_domain::ids::{AccountId, AssetId, BatchId, EndpointId, EventId};

use super::super::db::{Bind, Int, Text};
use super::super::{StoreResult, Tx, placeholders, settle, values_rows};
use super::{Ending, EventType, subscribed};
use crate::clock::new_id;

/// A settled model, as [`record_events`] needs it.
pub(in crate::store) struct SettledModel<'a> {
    pub account: &'a AccountId,
    pub batch: &'a BatchId,
    pub model: &'a AssetId,
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
pub(in crate::store) async fn record_events(
    tx: &mut Tx,
    outcome: ModelStatus,
    settled: &[SettledModel<'_>],
    now: i64,
) -> StoreResult<()> {
    if Ending::of(outcome).is_none() {
        return Ok(());
    }
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
        let Some(event) = EventType::for_asset(s.model.kind(), outcome) else {
            continue;
        };
        let to = wanting(s.account, event);
        if !to.is_empty() {
            events.push((new_id(), s.account, event, s.model.as_str(), to));
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
