//! What clients read one at a time: a model with everything known about it, a
//! batch (or its order) with its counts and credits, and the account's ledger.
//! Each read is one snapshot, and only ever of the caller's account.

use std::collections::BTreeMap;

use mannequin_domain::credits::LedgerKind;
use mannequin_domain::ids::{AccountId, AssetId, BatchId, OrderId, ReservationId};
use mannequin_domain::{AssetIdea, AssetKind, Credits, ModelStatus};

use super::db::{Columns, Int, Text};
use super::listing::model_row;
use super::{Store, StoreError, StoreResult};
use crate::store::ModelRow;

/// A model with everything known about it.
#[derive(Debug, Clone)]
pub struct ModelDetail {
    pub row: ModelRow,
    pub order_id: OrderId,
    pub preferences: String,
    pub idea: AssetIdea,
    /// Generation attempts made: the failed ones, and the one running or done.
    pub attempts: u32,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

/// Which batch to read: by its id or by its order's.
#[derive(Debug, Clone)]
pub enum BatchKey {
    Batch(BatchId),
    Order(OrderId),
}

/// A batch with its models' counts and its credits.
#[derive(Debug, Clone)]
pub struct BatchDetail {
    pub id: BatchId,
    /// What its assets are (every asset of a batch is of one kind).
    pub kind: AssetKind,
    pub order_id: OrderId,
    pub reservation_id: ReservationId,
    pub preferences: String,
    pub count: u32,
    pub correlation_id: String,
    pub created_at: i64,
    /// Models per status; every status is present.
    pub statuses: BTreeMap<&'static str, u64>,
    pub credits_reserved: Credits,
    pub credits_consumed: Credits,
    pub credits_refunded: Credits,
    /// When the last model reached its terminal status, once all have.
    pub finished_at: Option<i64>,
}

/// One ledger entry as the account sees it.
#[derive(Debug, Clone)]
pub struct LedgerEntry {
    pub id: i64,
    pub kind: LedgerKind,
    pub amount: Credits,
    pub model_id: Option<AssetId>,
    pub reservation_id: Option<ReservationId>,
    pub batch_id: Option<BatchId>,
    pub correlation_id: Option<String>,
    pub note: Option<String>,
    pub created_at: i64,
}

/// A model's state as of its last change, for live events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelChange {
    pub id: AssetId,
    pub status: ModelStatus,
    pub thumb_key: Option<String>,
    pub image_key: Option<String>,
    pub failure_reason: Option<String>,
    pub updated_at: i64,
}

fn opt_count(c: &mut dyn Columns) -> StoreResult<u32> {
    Ok(u32::try_from(c.int()?).unwrap_or(0))
}

impl Store {
    /// The account's model `id` with everything known about it; `None` when
    /// the account has no such model.
    pub async fn model_detail(
        &self,
        account: &AccountId,
        id: &AssetId,
    ) -> StoreResult<Option<ModelDetail>> {
        let rows = self
            .pools
            .fetch(
                "SELECT m.id, m.batch_id, m.name, m.status, m.voting, m.thumb_key, m.image_key,
                     m.failure_reason, m.created_at, m.prompt, m.seed, m.generator,
                     m.generator_notes, m.product_id, m.input_model_id, m.input_set_id,
                     b.order_id, b.preferences, m.idea, COALESCE(j.attempts, 0),
                     m.started_at, m.finished_at
                 FROM models m
                 JOIN batches b ON b.id = m.batch_id
                 LEFT JOIN jobs j ON j.model_id = m.id
                 WHERE m.account_id = $1 AND m.id = $2",
                &[Text(account.as_str()), Text(id.as_str())],
                |c| {
                    let row = model_row(c)?;
                    let order_id = OrderId::trusted(c.text()?);
                    let preferences = c.text()?;
                    let idea = super::values::idea(&row.id, &c.text()?)?;
                    let failed = opt_count(c)?;
                    let running_or_done =
                        matches!(row.status, ModelStatus::Processing | ModelStatus::Done);
                    Ok(ModelDetail {
                        attempts: failed + u32::from(running_or_done),
                        row,
                        order_id,
                        preferences,
                        idea,
                        started_at: c.opt_int()?,
                        finished_at: c.opt_int()?,
                    })
                },
            )
            .await?;
        Ok(rows.into_iter().next())
    }

    /// The account's batch ids, newest first, older than `before`.
    pub async fn batch_ids(
        &self,
        account: &AccountId,
        before: Option<&BatchId>,
        limit: u32,
    ) -> StoreResult<Vec<BatchId>> {
        // Ids are `batch_` and a ULID: they sort by creation time.
        let map = |c: &mut dyn Columns| Ok(BatchId::trusted(c.text()?));
        match before {
            Some(b) => {
                self.pools
                    .fetch(
                        "SELECT id FROM batches WHERE account_id = $1 AND id < $2
                         ORDER BY id DESC LIMIT $3",
                        &[
                            Text(account.as_str()),
                            Text(b.as_str()),
                            Int(i64::from(limit)),
                        ],
                        map,
                    )
                    .await
            }
            None => {
                self.pools
                    .fetch(
                        "SELECT id FROM batches WHERE account_id = $1 ORDER BY id DESC LIMIT $2",
                        &[Text(account.as_str()), Int(i64::from(limit))],
                        map,
                    )
                    .await
            }
        }
    }

    /// The account's batch (by its id or its order's), with its counts and
    /// credits, read in one snapshot; `None` when the account has no such batch.
    pub async fn batch_detail(
        &self,
        account: &AccountId,
        key: &BatchKey,
    ) -> StoreResult<Option<BatchDetail>> {
        let (column, value) = match key {
            BatchKey::Batch(id) => ("b.id", id.as_str()),
            BatchKey::Order(id) => ("b.order_id", id.as_str()),
        };
        let mut tx = self.pools.snapshot().await?;
        let batch = tx
            .fetch_one(
                &format!(
                    "SELECT b.id, b.order_id, r.id, b.preferences, b.count, b.correlation_id,
                         b.created_at, r.amount, r.consumed, r.refunded,
                         (SELECT m.id FROM models m WHERE m.batch_id = b.id LIMIT 1)
                     FROM batches b JOIN reservations r ON r.batch_id = b.id
                     WHERE b.account_id = $1 AND {column} = $2"
                ),
                &[Text(account.as_str()), Text(value)],
                |c| {
                    Ok(BatchDetail {
                        id: BatchId::trusted(c.text()?),
                        order_id: OrderId::trusted(c.text()?),
                        reservation_id: ReservationId::trusted(c.text()?),
                        preferences: c.text()?,
                        count: opt_count(c)?,
                        correlation_id: c.text()?,
                        created_at: c.int()?,
                        credits_reserved: Credits::new(c.int()?),
                        credits_consumed: Credits::new(c.int()?),
                        credits_refunded: Credits::new(c.int()?),
                        kind: c
                            .opt_text()?
                            .and_then(|id| AssetKind::of_id(&id))
                            .unwrap_or(AssetKind::Model),
                        statuses: ModelStatus::ALL.iter().map(|s| (s.as_str(), 0)).collect(),
                        finished_at: None,
                    })
                },
            )
            .await?;
        let Some(mut batch) = batch else {
            tx.rollback().await?;
            return Ok(None);
        };
        let groups = tx
            .fetch(
                "SELECT status, COUNT(*), MAX(COALESCE(finished_at, updated_at))
                 FROM models WHERE batch_id = $1 GROUP BY status",
                &[Text(batch.id.as_str())],
                |c| Ok((c.text()?, c.int()?, c.opt_int()?)),
            )
            .await?;
        tx.rollback().await?;
        let mut last = None;
        let mut open = false;
        for (status, n, at) in groups {
            let status = ModelStatus::parse(&status)
                .ok_or_else(|| StoreError::internal(format!("unknown status {status}")))?;
            batch
                .statuses
                .insert(status.as_str(), u64::try_from(n).unwrap_or(0));
            if status.is_terminal() {
                last = last.max(at);
            } else {
                open = true;
            }
        }
        batch.finished_at = if open { None } else { last };
        Ok(Some(batch))
    }

    /// The models of the account's batch changed at or after `since` (ms),
    /// oldest change first.
    pub async fn batch_changes(
        &self,
        account: &AccountId,
        batch: &BatchId,
        since: i64,
    ) -> StoreResult<Vec<ModelChange>> {
        self.pools
            .fetch(
                "SELECT id, status, thumb_key, image_key, failure_reason, updated_at
                 FROM models WHERE batch_id = $1 AND account_id = $2 AND updated_at >= $3
                 ORDER BY updated_at, id",
                &[Text(batch.as_str()), Text(account.as_str()), Int(since)],
                |c| {
                    let id = AssetId::trusted(c.text()?);
                    let status = c.text()?;
                    Ok(ModelChange {
                        id,
                        status: ModelStatus::parse(&status).ok_or_else(|| {
                            StoreError::internal(format!("unknown status {status}"))
                        })?,
                        thumb_key: c.opt_text()?,
                        image_key: c.opt_text()?,
                        failure_reason: c.opt_text()?,
                        updated_at: c.int()?,
                    })
                },
            )
            .await
    }

    /// The account's ledger as the console shows it: newest first, up to
    /// `limit` entries older than `before`, of one `kind` or all, each with
    /// the credits available once it was written (the running balance over
    /// every entry of the account, whichever are shown). Each entry's effect
    /// is [`LedgerKind::effect`]'s, written into the sum.
    pub async fn ledger_with_balance(
        &self,
        account: &AccountId,
        before: Option<i64>,
        kind: Option<LedgerKind>,
        limit: u32,
    ) -> StoreResult<Vec<(LedgerEntry, Credits)>> {
        let cases: String = LedgerKind::ALL
            .iter()
            .filter(|k| k.effect().available != 0)
            .map(|k| {
                let sign = if k.effect().available < 0 { "-" } else { "" };
                format!(" WHEN '{}' THEN {sign}l.amount", k.as_str())
            })
            .collect();
        let sql = format!(
            "SELECT id, kind, amount, model_id, reservation_id, batch_id, correlation_id, note,
                 created_at, available_after
             FROM (SELECT l.id, l.kind, l.amount, l.model_id, l.reservation_id, r.batch_id,
                       l.correlation_id, l.note, l.created_at,
                       CAST(SUM(CASE l.kind{cases} ELSE 0 END) OVER (ORDER BY l.id) AS BIGINT)
                           AS available_after
                   FROM ledger l LEFT JOIN reservations r ON r.id = l.reservation_id
                   WHERE l.account_id = $1) x
             WHERE x.id < $2 AND ($3 = '' OR x.kind = $3)
             ORDER BY x.id DESC LIMIT $4"
        );
        self.pools
            .fetch(
                &sql,
                &[
                    Text(account.as_str()),
                    Int(before.unwrap_or(i64::MAX)),
                    Text(kind.map_or("", LedgerKind::as_str)),
                    Int(i64::from(limit)),
                ],
                |c| {
                    let entry = ledger_entry(c)?;
                    Ok((entry, Credits::new(c.int()?)))
                },
            )
            .await
    }

    /// The account's ledger, newest first: up to `limit` entries older than
    /// the entry `before` (an entry id, from the previous page).
    pub async fn ledger_page(
        &self,
        account: &AccountId,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<LedgerEntry>> {
        self.pools
            .fetch(
                "SELECT l.id, l.kind, l.amount, l.model_id, l.reservation_id, r.batch_id,
                     l.correlation_id, l.note, l.created_at
                 FROM ledger l LEFT JOIN reservations r ON r.id = l.reservation_id
                 WHERE l.account_id = $1 AND l.id < $2
                 ORDER BY l.id DESC LIMIT $3",
                &[
                    Text(account.as_str()),
                    Int(before.unwrap_or(i64::MAX)),
                    Int(i64::from(limit)),
                ],
                ledger_entry,
            )
            .await
    }
}

/// A ledger entry from its columns: id, kind, amount, model, reservation,
/// batch, correlation id, note, time.
fn ledger_entry(c: &mut dyn Columns) -> StoreResult<LedgerEntry> {
    let id = c.int()?;
    let kind = c.text()?;
    Ok(LedgerEntry {
        id,
        kind: LedgerKind::parse(&kind)
            .ok_or_else(|| StoreError::internal(format!("unknown kind {kind}")))?,
        amount: Credits::new(c.int()?),
        model_id: c.opt_text()?.map(AssetId::trusted),
        reservation_id: c.opt_text()?.map(ReservationId::trusted),
        batch_id: c.opt_text()?.map(BatchId::trusted),
        correlation_id: c.opt_text()?,
        note: c.opt_text()?,
        created_at: c.int()?,
    })
}
