//! Settling: a model reaches its terminal status and its price is consumed or
//! refunded, in the same transaction. The model's status is the guard against
//! settling twice: only a status the domain's status machine allows to become
//! the outcome is changed. The webhook events a settlement causes are written
//! in the same transaction.

use std::collections::{BTreeMap, HashMap};

use super::db::{Bind, Int, OptInt, OptText, Text};
use super::ledger::{self, Entry};
use super::webhooks::{self, SettledModel};
use super::{
    ClaimedJob, Completion, Generation, JobState, Settled, Store, StoreError, StoreResult, Tx,
    placeholders, values_rows,
};
use mannequin_domain::credits::LedgerKind;
use mannequin_domain::ids::{AccountId, AssetId, BatchId, ReservationId};
use mannequin_domain::{Credits, ModelStatus};

/// One model to settle.
pub(super) struct ToSettle<'a> {
    pub model_id: &'a AssetId,
    /// Why it failed or was cancelled; `None` when done.
    pub reason: Option<&'a str>,
    /// `(image key, thumbnail key)` when done.
    pub images: Option<(&'a str, &'a str)>,
    pub correlation_id: &'a str,
    /// What the generator was asked, when a worker settles the model.
    pub generation: Option<&'a Generation>,
}

/// Statuses as an SQL list: `'PENDING', 'PROCESSING'`.
fn sql_list(statuses: impl Iterator<Item = ModelStatus>) -> String {
    statuses
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statuses a model may settle to `outcome` from, taken from the domain's
/// status machine, as an SQL list.
fn settles_from(outcome: ModelStatus) -> String {
    sql_list(
        ModelStatus::ALL
            .into_iter()
            .filter(|s| s.can_become(outcome)),
    )
}

/// The statuses of models not settled yet (`'PENDING', 'PROCESSING'`), as an
/// SQL list.
pub(super) fn unsettled() -> String {
    sql_list(ModelStatus::ALL.into_iter().filter(|s| !s.is_terminal()))
}

/// Amounts per reservation and per account, in id order (the lock order).
#[derive(Default)]
struct Sums {
    reservations: BTreeMap<ReservationId, Credits>,
    accounts: BTreeMap<AccountId, Credits>,
}

impl Sums {
    fn add(
        &mut self,
        account: &AccountId,
        reservation: &ReservationId,
        amount: Credits,
    ) -> StoreResult<()> {
        let overflow = || StoreError::internal("settled credits overflow");
        let r = self.reservations.entry(reservation.clone()).or_default();
        *r = r.checked_add(amount).ok_or_else(overflow)?;
        let a = self.accounts.entry(account.clone()).or_default();
        *a = a.checked_add(amount).ok_or_else(overflow)?;
        Ok(())
    }
}

/// Models moved by one statement: ten values each.
const MODELS_PER_UPDATE: usize = 200;

/// What a moved model's row says: whose it is, under which reservation, for
/// how much, in which batch.
type Moved = (AccountId, ReservationId, Credits, BatchId);

/// Moves the models `chunk` picks from `items` to `outcome`, in one
/// statement, where their status allows it; returns the moved ones by id.
async fn update_models(
    tx: &mut Tx,
    outcome: ModelStatus,
    items: &[ToSettle<'_>],
    chunk: &[usize],
    now: i64,
) -> StoreResult<Vec<(String, Moved)>> {
    let sql = format!(
        "WITH v (id, reason, image, thumb, prompt, seed, generator, notes) AS (VALUES {})
         UPDATE models SET status = '{}', failure_reason = v.reason, image_key = v.image,
             thumb_key = v.thumb, updated_at = ${now}, finished_at = ${now},
             prompt = COALESCE(v.prompt, models.prompt), seed = COALESCE(v.seed, models.seed),
             generator = COALESCE(v.generator, models.generator),
             generator_notes = COALESCE(v.notes, models.generator_notes)
         FROM v WHERE models.id = v.id AND models.status IN ({})
         RETURNING models.id, models.account_id, models.reservation_id, models.price, models.batch_id",
        values_rows("(?, ?, ?, ?, ?, ?, ?, ?)", chunk.len()),
        outcome.as_str(),
        settles_from(outcome),
        now = chunk.len() * 8 + 1,
    );
    let mut binds = Vec::with_capacity(chunk.len() * 8 + 1);
    for &i in chunk {
        let item = &items[i];
        let generation = item.generation;
        binds.extend([
            Text(item.model_id.as_str()),
            OptText(item.reason),
            OptText(item.images.map(|k| k.0)),
            OptText(item.images.map(|k| k.1)),
            OptText(generation.map(|g| g.prompt.as_str())),
            OptInt(generation.map(|g| i64::from(g.seed))),
            OptText(generation.map(|g| g.generator.as_str())),
            OptText(generation.and_then(|g| g.notes.as_deref())),
        ]);
    }
    binds.push(Int(now));
    tx.fetch(&sql, &binds, |c| {
        let id = c.text()?;
        let moved = (
            AccountId::trusted(c.text()?),
            ReservationId::trusted(c.text()?),
            Credits::new(c.int()?),
            BatchId::trusted(c.text()?),
        );
        Ok((id, moved))
    })
    .await
}

/// Closes the open (queued or running) jobs of the models `ids` with the job
/// state that matches the models' `outcome`.
async fn close_open_jobs(
    tx: &mut Tx,
    ids: &[&str],
    outcome: ModelStatus,
    now: i64,
) -> StoreResult<()> {
    for chunk in ids.chunks(500) {
        let sql = format!(
            "UPDATE jobs SET state = $1, lease_owner = NULL, lease_expires_at = NULL,
                 updated_at = $2
             WHERE model_id IN ({}) AND state IN ('{}', '{}')",
            placeholders(3, chunk.len()),
            JobState::Queued.as_str(),
            JobState::Running.as_str(),
        );
        let mut binds = vec![Text(JobState::settled(outcome).as_str()), Int(now)];
        binds.extend(chunk.iter().map(|id| Text(id)));
        tx.execute(&sql, &binds).await?;
    }
    Ok(())
}

/// Moves models to the terminal status `outcome` and settles their prices, in
/// `tx`; returns one result per item, in order.
///
/// Locks are taken in one order everywhere: jobs, models (one statement, listed
/// by id; whoever holds their jobs holds them), reservations (by id), then
/// accounts (by id) last, each once per transaction with the summed amount.
/// Concurrent settles and claims therefore do not deadlock, and
/// the hot account row is held only from its update to the commit.
pub(super) async fn settle_many(
    tx: &mut Tx,
    outcome: ModelStatus,
    items: &[ToSettle<'_>],
    now: i64,
) -> StoreResult<Vec<Settled>> {
    debug_assert!(outcome.is_terminal());
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| items[i].model_id);
    // The models' jobs are taken first, as claims take them (job, then
    // model): a claim skips a job being settled instead of deadlocking with
    // the settle. When every open status may become the outcome (DONE,
    // FAILED), taking them is closing them, in one statement: a settled
    // model's job was closed by the transaction that settled it, so the open
    // jobs are exactly those of the models moved below. A cancel moves only
    // PENDING models: it locks the jobs, and closes those of the models it
    // moved afterwards.
    let closes_first = ModelStatus::ALL
        .into_iter()
        .filter(|s| !s.is_terminal())
        .all(|s| s.can_become(outcome));
    let ids: Vec<&str> = order.iter().map(|&i| items[i].model_id.as_str()).collect();
    if closes_first {
        close_open_jobs(tx, &ids, outcome, now).await?;
    } else {
        for chunk in ids.chunks(500) {
            let sql = format!(
                "UPDATE jobs SET updated_at = updated_at WHERE model_id IN ({})",
                placeholders(1, chunk.len())
            );
            let binds: Vec<Bind<'_>> = chunk.iter().map(|id| Text(id)).collect();
            tx.execute(&sql, &binds).await?;
        }
    }
    let mut moved: HashMap<String, Moved> = HashMap::new();
    for chunk in order.chunks(MODELS_PER_UPDATE) {
        moved.extend(update_models(tx, outcome, items, chunk, now).await?);
    }
    let mut results = vec![Settled::Now; items.len()];
    let mut sums = Sums::default();
    let mut settled = Vec::new();
    for i in order {
        let item = &items[i];
        let Some((account, reservation, price, batch)) = moved.remove(item.model_id.as_str())
        else {
            let status = tx
                .fetch_one(
                    "SELECT status FROM models WHERE id = $1",
                    &[Text(item.model_id.as_str())],
                    |c| c.text(),
                )
                .await?;
            let status = status
                .as_deref()
                .and_then(ModelStatus::parse)
                .ok_or_else(|| StoreError::internal(format!("no model {}", item.model_id)))?;
            results[i] = Settled::Already(status);
            continue;
        };
        sums.add(&account, &reservation, price)?;
        settled.push((account, reservation, price, i, batch));
    }
    if settled.is_empty() {
        return Ok(results);
    }
    let kind = if outcome == ModelStatus::Done {
        LedgerKind::Consume
    } else {
        LedgerKind::Refund
    };
    let entries: Vec<Entry<'_>> = settled
        .iter()
        .map(|(account, reservation, price, i, _)| Entry {
            account_id: account,
            kind,
            amount: *price,
            reservation_id: Some(reservation),
            model_id: Some(items[*i].model_id),
            correlation_id: Some(items[*i].correlation_id),
            note: items[*i].reason,
        })
        .collect();
    ledger::append(tx, &entries, now).await?;
    if !closes_first {
        let moved: Vec<&str> = settled
            .iter()
            .map(|(_, _, _, i, _)| items[*i].model_id.as_str())
            .collect();
        close_open_jobs(tx, &moved, outcome, now).await?;
    }
    let column = match kind {
        LedgerKind::Consume => "consumed",
        _ => "refunded",
    };
    let reservation_sql = format!(
        "UPDATE reservations SET {column} = {column} + $1,
             closed_at = CASE WHEN consumed + refunded + $1 = amount THEN $3 ELSE closed_at END
         WHERE id = $2"
    );
    for (reservation, amount) in &sums.reservations {
        tx.execute(
            &reservation_sql,
            &[Int(amount.get()), Text(reservation.as_str()), Int(now)],
        )
        .await?;
    }
    for (account, amount) in &sums.accounts {
        if !ledger::move_balances(tx, account, kind, *amount).await? {
            return Err(StoreError::internal(format!(
                "settling would make {account}'s balances negative"
            )));
        }
    }
    // After the reservations' rows are held: see `record_events`.
    let models: Vec<SettledModel<'_>> = settled
        .iter()
        .map(|(account, _, _, i, batch)| SettledModel {
            account,
            batch,
            model: items[*i].model_id,
        })
        .collect();
    webhooks::record_events(tx, outcome, &models, now).await?;
    Ok(results)
}

/// [`settle_many`] for one model.
pub(super) async fn settle(
    tx: &mut Tx,
    outcome: ModelStatus,
    item: ToSettle<'_>,
    now: i64,
) -> StoreResult<Settled> {
    Ok(settle_many(tx, outcome, &[item], now).await?[0])
}

impl Store {
    /// Marks the models DONE with their images and consumes their prices, in
    /// one transaction; one result per model, in order.
    pub async fn complete_models(
        &self,
        done: &[Completion<'_>],
        now: i64,
    ) -> StoreResult<Vec<Settled>> {
        if done.is_empty() {
            return Ok(Vec::new());
        }
        let items: Vec<ToSettle<'_>> = done
            .iter()
            .map(|c| ToSettle {
                model_id: &c.job.model_id,
                reason: None,
                images: Some((c.image_key, c.thumb_key)),
                correlation_id: &c.job.correlation_id,
                generation: c.generation,
            })
            .collect();
        let mut tx = self.begin().await?;
        let settled = settle_many(&mut tx, ModelStatus::Done, &items, now).await?;
        tx.commit().await?;
        Ok(settled)
    }

    /// [`Store::complete_models`] for one model.
    pub async fn complete_model(
        &self,
        job: &ClaimedJob,
        image_key: &str,
        thumb_key: &str,
        now: i64,
    ) -> StoreResult<Settled> {
        let done = [Completion {
            job,
            image_key,
            thumb_key,
            generation: None,
        }];
        Ok(self.complete_models(&done, now).await?[0])
    }

    /// Marks the model FAILED with `reason` (what the customer sees) and
    /// refunds its price; `generation` records what was asked, if anything.
    pub async fn fail_model(
        &self,
        job: &ClaimedJob,
        reason: &str,
        generation: Option<&Generation>,
        now: i64,
    ) -> StoreResult<Settled> {
        let mut tx = self.begin().await?;
        tx.execute(
            "UPDATE jobs SET last_error = $1, attempts = attempts + 1 WHERE id = $2",
            &[Text(reason), Text(job.job_id.as_str())],
        )
        .await?;
        let item = ToSettle {
            model_id: &job.model_id,
            reason: Some(reason),
            images: None,
            correlation_id: &job.correlation_id,
            generation,
        };
        let s = settle(&mut tx, ModelStatus::Failed, item, now).await?;
        tx.commit().await?;
        Ok(s)
    }
}
