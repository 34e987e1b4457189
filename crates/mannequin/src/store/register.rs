//! Registering a batch: the reservation, the order, the models and their jobs,
//! all in one transaction or not at all; and cancelling what has not started.

use mannequin_domain::credits::{Balances, LedgerKind};
use mannequin_domain::ids::{AccountId, AssetId, BatchId, OrderId, ReservationId};
use mannequin_domain::{Credits, ModelStatus};

use super::db::{Bind, Bytes, Int, OptText, Text};
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
        if self.dialect.register_in_one_call {
            return self.register_in_one_call(b, required, now).await;
        }
        let mut tx = self.begin().await?;
        if let Some(idem) = &b.idempotency {
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
        Ok(registered(b, required))
    }

    /// [`Store::register_batch`] on PostgreSQL: one call of
    /// `mannequin_register` (migration 6), one round trip, with the account
    /// row locked only from the reserve to the commit; registrations of the
    /// account that wait meanwhile are made together (see `lanes`). A call
    /// that raced another for the idempotency key or the credits wrote
    /// nothing and is made again; it then finds the other's batch, or what is
    /// left.
    async fn register_in_one_call(
        &self,
        b: &NewBatch,
        required: Credits,
        now: i64,
    ) -> Result<Registration, RegisterError> {
        let models: Vec<serde_json::Value> = b
            .models
            .iter()
            .map(|m| {
                Ok(serde_json::json!({
                    "id": m.id.as_str(),
                    "job": m.job_id.as_str(),
                    "name": m.name,
                    "idea": serde_json::to_string(&m.idea)?,
                    "product": made_from(m)[0],
                    "model": made_from(m)[1],
                    "set": made_from(m)[2],
                }))
            })
            .collect::<Result<_, serde_json::Error>>()
            .map_err(StoreError::from)?;
        let d = Balances::delta(LedgerKind::Reserve, required)
            .ok_or_else(|| StoreError::internal("the batch's price overflows"))?;
        let (idem_key, idem_hash) = match &b.idempotency {
            Some(i) => (Some(i.key.as_str()), crate::hex(&i.request_hash)),
            None => (None, String::new()),
        };
        // The arguments of `mannequin_register`, by the names
        // `mannequin_register_many` reads them.
        let item = serde_json::json!({
            "account": b.account_id.as_str(),
            "batch": b.batch_id.as_str(),
            "order": b.order_id.as_str(),
            "reservation": b.reservation_id.as_str(),
            "preferences": b.preferences,
            "correlation": b.correlation_id,
            "required": required.get(),
            "deadline": b.deadline,
            "price": b.price_per_model.get(),
            "maxAttempts": b.max_attempts,
            "models": models,
            "idemKey": idem_key,
            "idemHash": idem_hash,
            "modelStatus": ModelStatus::Pending.as_str(),
            "jobState": JobState::Queued.as_str(),
            "ledgerKind": LedgerKind::Reserve.as_str(),
            "dAvailable": d.available.get(),
            "dReserved": d.reserved.get(),
            "dConsumed": d.consumed.get(),
            "now": now,
        })
        .to_string();
        let mut tries = 0;
        let (outcome, seen_batch, seen_hash, available) = loop {
            let answer = self
                .lanes
                .register(&self.pools, b.account_id.as_str(), item.clone())
                .await;
            match answer {
                Err(e) if tries < 5 && raced(&e) => tries += 1,
                other => break other?,
            }
        };
        match (outcome.as_str(), seen_batch, seen_hash, available) {
            ("registered", ..) => Ok(registered(b, required)),
            ("seen", Some(batch), Some(hash), _) => {
                if Some(hash.as_slice())
                    != b.idempotency.as_ref().map(|i| i.request_hash.as_slice())
                {
                    return Err(RegisterError::IdempotencyKeyReused);
                }
                let mut tx = self.pools.snapshot().await?;
                let replayed = replay(&mut tx, BatchId::trusted(batch)).await?;
                tx.rollback().await?;
                Ok(replayed)
            }
            ("unknown", ..) => Err(RegisterError::UnknownAccount),
            ("insufficient", _, _, Some(available)) => Err(RegisterError::InsufficientCredits {
                required,
                available: Credits::new(available),
            }),
            (other, ..) => {
                Err(StoreError::internal(format!("mannequin_register said {other}")).into())
            }
        }
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
        let sql = format!(
            "SELECT m.id, m.price, b.correlation_id
             FROM models m JOIN batches b ON b.id = m.batch_id
             WHERE m.account_id = $1 AND m.{column} = $2 ORDER BY m.position"
        );
        let cancelled = self
            .cancel_where(
                &sql,
                &[Text(account.as_str()), Text(id)],
                "cancelled by the client",
                now,
            )
            .await?;
        Ok(cancelled)
    }

    /// Cancels every model of the account that no worker has started, with
    /// `reason`, refunding each, in one transaction.
    pub async fn cancel_all_pending(
        &self,
        account: &AccountId,
        reason: &str,
        now: i64,
    ) -> StoreResult<Vec<CancelledModel>> {
        let sql = format!(
            "SELECT m.id, m.price, b.correlation_id
             FROM models m JOIN batches b ON b.id = m.batch_id
             WHERE m.account_id = $1 AND m.status = '{}' ORDER BY m.created_at, m.position",
            ModelStatus::Pending.as_str()
        );
        let cancelled = self
            .cancel_where(&sql, &[Text(account.as_str())], reason, now)
            .await?;
        Ok(cancelled.unwrap_or_default())
    }

    /// Cancels the models `sql` selects (id, price, correlation id) that are
    /// still PENDING; `None` when it selects none.
    async fn cancel_where(
        &self,
        sql: &str,
        params: &[super::db::Bind<'_>],
        reason: &str,
        now: i64,
    ) -> StoreResult<Option<Vec<CancelledModel>>> {
        let mut tx = self.begin().await?;
        let models = tx
            .fetch(sql, params, |c| {
                Ok((
                    AssetId::trusted(c.text()?),
                    Credits::new(c.int()?),
                    c.text()?,
                ))
            })
            .await?;
        if models.is_empty() {
            return Ok(None);
        }
        // Settling refuses models a worker has started: only PENDING may be cancelled.
        let items: Vec<ToSettle<'_>> = models
            .iter()
            .map(|(model_id, _, correlation_id)| ToSettle {
                model_id,
                reason: Some(reason),
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

/// What a registration that wrote `b` returns.
fn registered(b: &NewBatch, required: Credits) -> Registration {
    Registration {
        batch_id: b.batch_id.clone(),
        order_id: b.order_id.clone(),
        reservation_id: b.reservation_id.clone(),
        model_ids: b.models.iter().map(|m| m.id.clone()).collect(),
        credits_reserved: required,
        replayed: false,
    }
}

/// What a picture is made from (its product, the model and the set it is
/// photographed in), as the list shows them; nothing for what is made from
/// words.
fn made_from(m: &super::NewModel) -> [Option<&str>; 3] {
    m.idea.picture().map_or([None; 3], |p| p.made_from())
}

/// Whether `e` is `mannequin_register` saying another call raced this one.
fn raced(e: &StoreError) -> bool {
    let StoreError::Internal(cause) = e else {
        return false;
    };
    match cause.downcast_ref::<sqlx::Error>() {
        Some(sqlx::Error::Database(d)) => {
            d.code().as_deref() == Some("P0001") && d.message() == "mannequin: raced"
        }
        _ => false,
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
            |c| Ok(AssetId::trusted(c.text()?)),
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

/// The fair tag at the head of the queue: the first queued job's that may
/// run at `$1`. The state is written as the queue's index (`jobs_fair`) writes
/// it, so that even a plan made without the values (SQLite's plans with bound
/// values) reads that index instead of every job ever registered. On
/// PostgreSQL `mannequin_queue_head` (migration 12) holds the same statement,
/// planned with scans of the whole table and sorts off, so that a plan a
/// session made while the queue was short still walks the index once it is
/// long; a test checks both.
pub const QUEUE_HEAD: &str =
    "SELECT fair_at FROM jobs WHERE state = 'queued' AND run_at <= $1 ORDER BY fair_at LIMIT 1";

/// The first fair tag of a registration of `account` (start-time fair
/// queuing): not before the account's own next tag, nor before the tag at
/// the head of the queue (the highest handed out, when nothing is queued).
/// Claims take jobs by tag, so accounts with work queued take turns.
async fn fair_start(tx: &mut Tx, account: &str, now: i64) -> StoreResult<i64> {
    let (own, head, highest) = tx
        .fetch_one(
            &format!(
                "SELECT queue_tag, ({QUEUE_HEAD}), (SELECT MAX(queue_tag) FROM accounts)
                 FROM accounts WHERE id = $2"
            ),
            &[Int(now), Text(account)],
            |c| Ok((c.int()?, c.opt_int()?, c.opt_int()?)),
        )
        .await?
        .unwrap_or_default();
    Ok(own.max(head.or(highest).unwrap_or(0)))
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
    let names: Vec<&str> = b.models.iter().map(|m| m.name.as_str()).collect();
    let ideas = b
        .models
        .iter()
        .map(|m| serde_json::to_string(&m.idea))
        .collect::<Result<Vec<String>, _>>()?;
    let mut binds: Vec<Bind<'_>> = Vec::with_capacity(b.models.len() * 14);
    for (position, m) in b.models.iter().enumerate() {
        binds.extend([
            Text(m.id.as_str()),
            Text(account),
            Text(batch),
            Text(b.reservation_id.as_str()),
            Int(position as i64),
            Text(names[position]),
            Text(&ideas[position]),
            Int(b.price_per_model.get()),
            Text(ModelStatus::Pending.as_str()),
            Int(now),
            Int(now),
            OptText(made_from(m)[0]),
            OptText(made_from(m)[1]),
            OptText(made_from(m)[2]),
        ]);
    }
    tx.execute(
        &format!(
            "INSERT INTO models (id, account_id, batch_id, reservation_id, position, name, idea,
                 price, status, created_at, updated_at, product_id, input_model_id,
                 input_set_id)
             VALUES {}",
            values_rows("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", b.models.len())
        ),
        &binds,
    )
    .await?;
    let max_attempts = i64::from(b.max_attempts);
    let start = fair_start(tx, account, now).await?;
    let mut binds: Vec<Bind<'_>> = Vec::with_capacity(b.models.len() * 10);
    for (i, m) in b.models.iter().enumerate() {
        binds.extend([
            Text(m.job_id.as_str()),
            Text(m.id.as_str()),
            Text(&b.correlation_id),
            Text(JobState::Queued.as_str()),
            Int(max_attempts),
            Int(now),
            Int(now),
            Int(now),
            Int(start + i as i64),
            Text(account),
        ]);
    }
    tx.execute(
        &format!(
            "INSERT INTO jobs (id, model_id, correlation_id, state, max_attempts, run_at,
                 created_at, updated_at, fair_at, account_id)
             VALUES {}",
            values_rows("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", b.models.len())
        ),
        &binds,
    )
    .await?;
    tx.execute(
        "UPDATE accounts SET queue_tag = $1 WHERE id = $2 AND queue_tag < $1",
        &[Int(start + b.models.len() as i64), Text(account)],
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
