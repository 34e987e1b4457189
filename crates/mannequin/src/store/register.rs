//! Registering a batch: the reservation, the order, the models and their jobs,
//! all in one transaction or not at all; and cancelling what has not started.

use mannequin_domain::credits::LedgerKind;
use mannequin_domain::ids::{BatchId, ModelId, OrderId, ReservationId};
use mannequin_domain::{Credits, ModelStatus};
use sqlx::{AssertSqlSafe, Row};

use super::ledger::{self, Entry};
use super::settle::{self, ToSettle};
use super::{
    CancelTarget, CancelledModel, JobState, NewBatch, RegisterError, Registration, Settled, Store,
    StoreError, StoreResult, Tx, values_rows,
};

impl Store {
    /// Reserves the batch's price and writes the order, batch, reservation,
    /// ledger entry, models and jobs in one transaction, or nothing. With an
    /// idempotency key already used for the same request, returns the first
    /// call's batch and writes nothing.
    ///
    /// # Errors
    /// `InsufficientCredits` and `UnknownAccount` leave no trace;
    /// `IdempotencyKeyReused` when the key came with a different request.
    pub async fn register_batch(
        &self,
        b: &NewBatch,
        now: i64,
    ) -> Result<Registration, RegisterError> {
        let count = u32::try_from(b.models.len())
            .map_err(|_| StoreError::internal("too many models in one batch"))?;
        let required = b
            .price_per_model
            .times(count)
            .ok_or_else(|| StoreError::internal("the batch's price overflows"))?;
        let mut tx = self.begin().await?;
        if let Some(idem) = &b.idempotency {
            if let Some(lock) = self.dialect.lock_idempotency_key {
                sqlx::query(lock)
                    .bind(b.account_id.as_str())
                    .bind(idem.key.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            let seen = sqlx::query(
                "SELECT request_hash, batch_id FROM idempotency_keys
                 WHERE account_id = $1 AND key = $2",
            )
            .bind(b.account_id.as_str())
            .bind(idem.key.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = seen {
                let hash: Vec<u8> = row.try_get(0)?;
                if hash != idem.request_hash {
                    return Err(RegisterError::IdempotencyKeyReused);
                }
                let batch_id = BatchId::trusted(row.try_get(1)?);
                return Ok(replay(&mut tx, batch_id).await?);
            }
        }
        // A plain read first: an unknown account, or one that plainly cannot
        // pay, is answered without writing anything.
        let available: Option<i64> =
            sqlx::query_scalar("SELECT available FROM accounts WHERE id = $1")
                .bind(b.account_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        match available.map(Credits::new) {
            None => return Err(RegisterError::UnknownAccount),
            Some(available) if available < required => {
                return Err(RegisterError::InsufficientCredits {
                    required,
                    available,
                });
            }
            Some(_) => {}
        }
        insert_batch(&mut tx, b, count, required, now).await?;
        // The conditional reserve comes last, so the account row (which every
        // request and settle of this account updates) is locked only from here
        // to the commit. Not enough credits: everything above rolls back.
        let entry = Entry {
            account_id: &b.account_id,
            kind: LedgerKind::Reserve,
            amount: required,
            reservation_id: Some(&b.reservation_id),
            model_id: None,
            correlation_id: Some(&b.correlation_id),
            note: None,
        };
        if !ledger::record(&mut tx, entry, now).await? {
            let available: Option<i64> =
                sqlx::query_scalar("SELECT available FROM accounts WHERE id = $1")
                    .bind(b.account_id.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(match available {
                Some(a) => RegisterError::InsufficientCredits {
                    required,
                    available: Credits::new(a),
                },
                None => RegisterError::UnknownAccount,
            });
        }
        tx.commit().await?;
        Ok(Registration {
            batch_id: b.batch_id.clone(),
            order_id: b.order_id.clone(),
            reservation_id: b.reservation_id.clone(),
            model_ids: b.models.iter().map(|m| m.id.clone()).collect(),
            credits_reserved: required,
            replayed: false,
        })
    }

    /// Cancels the target's models that no worker has started (`PENDING`),
    /// refunding each, in one transaction. Returns the models it cancelled, or
    /// `None` when the target is not the account's.
    pub async fn cancel_pending(
        &self,
        account: &mannequin_domain::ids::AccountId,
        target: &CancelTarget,
        now: i64,
    ) -> StoreResult<Option<Vec<CancelledModel>>> {
        let (column, id) = match target {
            CancelTarget::Model(id) => ("id", id.as_str()),
            CancelTarget::Batch(id) => ("batch_id", id.as_str()),
        };
        let mut tx = self.begin().await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT m.id, m.price, b.correlation_id FROM models m JOIN batches b ON b.id = m.batch_id
             WHERE m.account_id = $1 AND m.{column} = $2 ORDER BY m.position"
        )))
        .bind(account.as_str())
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut models = Vec::with_capacity(rows.len());
        for r in &rows {
            models.push((
                ModelId::trusted(r.try_get(0)?),
                Credits::new(r.try_get(1)?),
                r.try_get::<String, _>(2)?,
            ));
        }
        // Settling refuses models a worker has started: only PENDING may be cancelled.
        let items: Vec<ToSettle<'_>> = models
            .iter()
            .map(|(model_id, _, correlation_id)| ToSettle {
                model_id,
                reason: Some("cancelled by the client"),
                images: None,
                correlation_id,
            })
            .collect();
        let settled = settle::settle_many(&mut tx, ModelStatus::Cancelled, &items, now).await?;
        tx.commit().await?;
        Ok(Some(
            models
                .into_iter()
                .zip(settled)
                .filter(|(_, s)| *s == Settled::Now)
                .map(|((id, price, _), _)| CancelledModel { id, price })
                .collect(),
        ))
    }
}

/// The registration a repeated idempotency key returns: the first call's.
async fn replay(tx: &mut Tx, batch_id: BatchId) -> StoreResult<Registration> {
    let row = sqlx::query(
        "SELECT b.order_id, r.id, r.amount FROM batches b JOIN reservations r ON r.batch_id = b.id
         WHERE b.id = $1",
    )
    .bind(batch_id.as_str())
    .fetch_one(&mut **tx)
    .await?;
    let model_ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM models WHERE batch_id = $1 ORDER BY position")
            .bind(batch_id.as_str())
            .fetch_all(&mut **tx)
            .await?;
    Ok(Registration {
        order_id: OrderId::trusted(row.try_get(0)?),
        reservation_id: ReservationId::trusted(row.try_get(1)?),
        credits_reserved: Credits::new(row.try_get(2)?),
        model_ids: model_ids.into_iter().map(ModelId::trusted).collect(),
        batch_id,
        replayed: true,
    })
}

/// Writes the batch, its reservation, models, jobs and idempotency key.
async fn insert_batch(
    tx: &mut Tx,
    b: &NewBatch,
    count: u32,
    required: Credits,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO batches (id, account_id, order_id, preferences, count, correlation_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(b.batch_id.as_str())
    .bind(b.account_id.as_str())
    .bind(b.order_id.as_str())
    .bind(b.preferences.as_str())
    .bind(i64::from(count))
    .bind(b.correlation_id.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO reservations (id, account_id, batch_id, amount, deadline, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(b.reservation_id.as_str())
    .bind(b.account_id.as_str())
    .bind(b.batch_id.as_str())
    .bind(required.get())
    .bind(b.deadline)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    // One multi-row INSERT each for models and jobs: 20 rows is well under
    // SQLite's limit on bound parameters.
    let model_sql = format!(
        "INSERT INTO models (id, account_id, batch_id, reservation_id, position, name, idea,
             price, status, created_at, updated_at)
         VALUES {}",
        values_rows("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", b.models.len())
    );
    let mut q = sqlx::query(AssertSqlSafe(model_sql));
    for (position, m) in b.models.iter().enumerate() {
        q = q
            .bind(m.id.as_str())
            .bind(b.account_id.as_str())
            .bind(b.batch_id.as_str())
            .bind(b.reservation_id.as_str())
            .bind(position as i64)
            .bind(m.idea.name())
            .bind(serde_json::to_string(&m.idea)?)
            .bind(b.price_per_model.get())
            .bind(ModelStatus::Pending.as_str())
            .bind(now)
            .bind(now);
    }
    q.execute(&mut **tx).await?;
    let job_sql = format!(
        "INSERT INTO jobs (id, model_id, correlation_id, state, max_attempts, run_at,
             created_at, updated_at)
         VALUES {}",
        values_rows("(?, ?, ?, ?, ?, ?, ?, ?)", b.models.len())
    );
    let mut q = sqlx::query(AssertSqlSafe(job_sql));
    for m in &b.models {
        q = q
            .bind(m.job_id.as_str())
            .bind(m.id.as_str())
            .bind(b.correlation_id.as_str())
            .bind(JobState::Queued.as_str())
            .bind(i64::from(b.max_attempts))
            .bind(now)
            .bind(now)
            .bind(now);
    }
    q.execute(&mut **tx).await?;
    if let Some(idem) = &b.idempotency {
        sqlx::query(
            "INSERT INTO idempotency_keys (account_id, key, request_hash, batch_id, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(b.account_id.as_str())
        .bind(idem.key.as_str())
        .bind(idem.request_hash.as_slice())
        .bind(b.batch_id.as_str())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
