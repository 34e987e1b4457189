//! Registering a batch: the reservation, the order, the models and their jobs,
//! all in one transaction or not at all; and cancelling what has not started.

use mannequin_domain::credits::LedgerKind;
use mannequin_domain::ids::{AccountId, BatchId, ModelId, OrderId, ReservationId};
use mannequin_domain::{Credits, ModelStatus};

use super::db::{Bind, Bytes, Int, Text};
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
                tx.execute(lock, &[Text(b.account_id.as_str()), Text(&idem.key)])
                    .await?;
            }
            let seen = tx
                .fetch_one(
                    "SELECT request_hash, batch_id FROM idempotency_keys
                     WHERE account_id = $1 AND key = $2",
                    &[Text(b.account_id.as_str()), Text(&idem.key)],
                    |c| Ok((c.bytes()?, BatchId::trusted(c.text()?))),
                )
                .await?;
            if let Some((hash, batch_id)) = seen {
                if hash != idem.request_hash {
                    return Err(RegisterError::IdempotencyKeyReused);
                }
                return Ok(replay(&mut tx, batch_id).await?);
            }
        }
        // A plain read first: an unknown account, or one that plainly cannot
        // pay, is answered without writing anything.
        match available(&mut tx, &b.account_id).await? {
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
            return Err(match available(&mut tx, &b.account_id).await? {
                Some(available) => RegisterError::InsufficientCredits {
                    required,
                    available,
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
        account: &AccountId,
        target: &CancelTarget,
        now: i64,
    ) -> StoreResult<Option<Vec<CancelledModel>>> {
        let (column, id) = match target {
            CancelTarget::Model(id) => ("id", id.as_str()),
            CancelTarget::Batch(id) => ("batch_id", id.as_str()),
        };
        let mut tx = self.begin().await?;
        let models = tx
            .fetch(
                &format!(
                    "SELECT m.id, m.price, b.correlation_id
                     FROM models m JOIN batches b ON b.id = m.batch_id
                     WHERE m.account_id = $1 AND m.{column} = $2 ORDER BY m.position"
                ),
                &[Text(account.as_str()), Text(id)],
                |c| {
                    Ok((
                        ModelId::trusted(c.text()?),
                        Credits::new(c.int()?),
                        c.text()?,
                    ))
                },
            )
            .await?;
        if models.is_empty() {
            return Ok(None);
        }
        // Settling refuses models a worker has started: only PENDING may be cancelled.
        let items: Vec<ToSettle<'_>> = models
            .iter()
            .map(|(model_id, _, correlation_id)| ToSettle {
                model_id,
                reason: Some("cancelled by the client"),
                images: None,
                correlation_id,
                generation: None,
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

/// The account's available credits, `None` for an unknown account.
async fn available(tx: &mut Tx, account: &AccountId) -> StoreResult<Option<Credits>> {
    tx.fetch_one(
        "SELECT available FROM accounts WHERE id = $1",
        &[Text(account.as_str())],
        |c| Ok(Credits::new(c.int()?)),
    )
    .await
}

/// The registration a repeated idempotency key returns: the first call's.
async fn replay(tx: &mut Tx, batch_id: BatchId) -> StoreResult<Registration> {
    let (order_id, reservation_id, credits_reserved) = tx
        .fetch_one(
            "SELECT b.order_id, r.id, r.amount
             FROM batches b JOIN reservations r ON r.batch_id = b.id
             WHERE b.id = $1",
            &[Text(batch_id.as_str())],
            |c| {
                Ok((
                    OrderId::trusted(c.text()?),
                    ReservationId::trusted(c.text()?),
                    Credits::new(c.int()?),
                ))
            },
        )
        .await?
        .ok_or_else(|| StoreError::internal(format!("no reservation for {batch_id}")))?;
    let model_ids = tx
        .fetch(
            "SELECT id FROM models WHERE batch_id = $1 ORDER BY position",
            &[Text(batch_id.as_str())],
            |c| Ok(ModelId::trusted(c.text()?)),
        )
        .await?;
    Ok(Registration {
        batch_id,
        order_id,
        reservation_id,
        model_ids,
        credits_reserved,
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
    let (account, batch) = (b.account_id.as_str(), b.batch_id.as_str());
    tx.execute(
        "INSERT INTO batches (id, account_id, order_id, preferences, count, correlation_id,
             created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            Text(batch),
            Text(account),
            Text(b.order_id.as_str()),
            Text(&b.preferences),
            Int(i64::from(count)),
            Text(&b.correlation_id),
            Int(now),
        ],
    )
    .await?;
    tx.execute(
        "INSERT INTO reservations (id, account_id, batch_id, amount, deadline, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            Text(b.reservation_id.as_str()),
            Text(account),
            Text(batch),
            Int(required.get()),
            Int(b.deadline),
            Int(now),
        ],
    )
    .await?;
    // One multi-row INSERT each for models and jobs: 20 rows is well under
    // SQLite's limit on bound parameters.
    let names: Vec<String> = b.models.iter().map(|m| m.idea.name()).collect();
    let ideas = b
        .models
        .iter()
        .map(|m| serde_json::to_string(&m.idea))
        .collect::<Result<Vec<String>, _>>()?;
    let mut binds: Vec<Bind<'_>> = Vec::with_capacity(b.models.len() * 11);
    for (position, m) in b.models.iter().enumerate() {
        binds.extend([
            Text(m.id.as_str()),
            Text(account),
            Text(batch),
            Text(b.reservation_id.as_str()),
            Int(position as i64),
            Text(&names[position]),
            Text(&ideas[position]),
            Int(b.price_per_model.get()),
            Text(ModelStatus::Pending.as_str()),
            Int(now),
            Int(now),
        ]);
    }
    tx.execute(
        &format!(
            "INSERT INTO models (id, account_id, batch_id, reservation_id, position, name, idea,
                 price, status, created_at, updated_at)
             VALUES {}",
            values_rows("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", b.models.len())
        ),
        &binds,
    )
    .await?;
    let max_attempts = i64::from(b.max_attempts);
    let mut binds: Vec<Bind<'_>> = Vec::with_capacity(b.models.len() * 8);
    for m in &b.models {
        binds.extend([
            Text(m.job_id.as_str()),
            Text(m.id.as_str()),
            Text(&b.correlation_id),
            Text(JobState::Queued.as_str()),
            Int(max_attempts),
            Int(now),
            Int(now),
            Int(now),
        ]);
    }
    tx.execute(
        &format!(
            "INSERT INTO jobs (id, model_id, correlation_id, state, max_attempts, run_at,
                 created_at, updated_at)
             VALUES {}",
            values_rows("(?, ?, ?, ?, ?, ?, ?, ?)", b.models.len())
        ),
        &binds,
    )
    .await?;
    if let Some(idem) = &b.idempotency {
        tx.execute(
            "INSERT INTO idempotency_keys (account_id, key, request_hash, batch_id, created_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                Text(account),
                Text(&idem.key),
                Bytes(&idem.request_hash),
                Text(batch),
                Int(now),
            ],
        )
        .await?;
    }
    Ok(())
}
