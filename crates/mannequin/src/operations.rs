//! What can be done to an account, once: registering an order, cancelling,
//! voting, disabling and enabling an account, granting credits. The API's
//! handlers, the console's forms and the admin commands call these (the
//! terminal client calls the API); each edge checks who is asking and turns
//! the outcome into its own answer (JSON, a page, a line of JSON), and
//! nothing here knows which edge called.
//!
//! [`Orders`] needs what planning and queueing need (the planner, the terms,
//! the worker's wake-up); [`Accounts`] only the store, so an admin command
//! builds one without starting a service.

use std::sync::Arc;

use mannequin_domain::credits::Balances;
use mannequin_domain::ids::{AccountId, AssetId, BatchId};
use mannequin_domain::{Credits, Voting};
use tokio::sync::Notify;
use tracing::info;

use crate::batch::{Order, Terms};
use crate::clock::now_ms;
use crate::metrics::Metrics;
use crate::planner::Planner;
use crate::store::{
    CancelTarget, CancelledModel, RegisterError, Registration, Store, StoreError, StoreResult,
};

/// Orders and what follows them: register, cancel, vote.
pub struct Orders {
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    planner: Arc<Planner>,
    terms: Terms,
    /// Wakes an in-process worker (or the outbox relay) when jobs are queued.
    wake: Arc<Notify>,
}

/// What a cancel did: the models cancelled and the credits given back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancellation {
    pub models: Vec<CancelledModel>,
    pub refunded: Credits,
}

impl Cancellation {
    fn of(models: Vec<CancelledModel>) -> StoreResult<Cancellation> {
        let refunded = Credits::sum(models.iter().map(|m| m.price))
            .ok_or_else(|| StoreError::internal("refunds overflow"))?;
        Ok(Cancellation { models, refunded })
    }
}

impl Orders {
    pub fn new(
        store: Arc<Store>,
        metrics: Arc<Metrics>,
        planner: Arc<Planner>,
        terms: Terms,
        wake: Arc<Notify>,
    ) -> Orders {
        Orders {
            store,
            metrics,
            planner,
            terms,
            wake,
        }
    }

    /// The terms every order is priced and run by.
    pub fn terms(&self) -> &Terms {
        &self.terms
    }

    /// Plans and registers an order in one transaction; then, unless it
    /// replayed an earlier call with the same idempotency key, counts the
    /// credits reserved and wakes the worker or relay.
    pub async fn register(&self, order: Order<'_>) -> Result<Registration, RegisterError> {
        let now = now_ms();
        let count = order.count.get();
        let batch_id: BatchId = crate::clock::new_id();
        let seed = mannequin_domain::ideas::seed(batch_id.as_str(), &order.wish.fingerprint());
        let planned = self.planner.plan(order.kind, order.wish, count, seed).await;
        let planned_by = planned.by.clone();
        let batch = crate::batch::plan(order, &self.terms, now, batch_id, planned);
        let registration = self.store.register_batch(&batch, now).await?;
        if registration.replayed {
            info!(batch_id = %registration.batch_id, "idempotent replay: nothing created");
        } else {
            self.metrics.credits_reserved(registration.credits_reserved);
            self.wake.notify_one();
            info!(batch_id = %registration.batch_id, count, credits = %registration.credits_reserved, planner = %planned_by, "ideas registered");
        }
        Ok(registration)
    }

    /// Cancels the account's PENDING models of `target` and refunds them;
    /// `None` when the account has no such model or batch.
    pub async fn cancel(
        &self,
        account: &AccountId,
        target: CancelTarget,
    ) -> StoreResult<Option<Cancellation>> {
        let Some(cancelled) = self
            .store
            .cancel_pending(account, &target, now_ms())
            .await?
        else {
            return Ok(None);
        };
        let cancellation = Cancellation::of(cancelled)?;
        self.metrics.credits_refunded(cancellation.refunded);
        info!(?target, models = cancellation.models.len(), credits = %cancellation.refunded, "cancelled");
        Ok(Some(cancellation))
    }

    /// Sets the account's vote on a model; `false` when the account has no
    /// such model.
    pub async fn vote(
        &self,
        account: &AccountId,
        model: &AssetId,
        voting: Voting,
    ) -> StoreResult<bool> {
        let found = self
            .store
            .set_voting(account, model, voting, now_ms())
            .await?;
        if found {
            info!(model_id = %model, ?voting, "voted");
        }
        Ok(found)
    }
}

/// The operator's side of an account: disable, enable, grant credits.
pub struct Accounts {
    store: Arc<Store>,
    metrics: Arc<Metrics>,
}

/// What disabling an account did to its queued work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disabled {
    pub cancellation: Cancellation,
}

impl Accounts {
    pub fn new(store: Arc<Store>, metrics: Arc<Metrics>) -> Accounts {
        Accounts { store, metrics }
    }

    /// Disables the account: its keys stop working and every PENDING model is
    /// cancelled and refunded. Servers keep a key they read for up to
    /// `KEY_TTL`; this waits twice that before cancelling, so no server takes
    /// new work for the account after the cancel has run. `None` when there
    /// is no such account.
    pub async fn disable(&self, account: &AccountId) -> StoreResult<Option<Disabled>> {
        if !self
            .store
            .set_account_disabled(account, Some(now_ms()))
            .await?
        {
            return Ok(None);
        }
        tokio::time::sleep(crate::store::KEY_TTL * 2).await;
        let cancelled = self
            .store
            .cancel_all_pending(account, "the account was disabled", now_ms())
            .await?;
        let cancellation = Cancellation::of(cancelled)?;
        self.metrics.credits_refunded(cancellation.refunded);
        info!(account_id = %account, models = cancellation.models.len(), credits = %cancellation.refunded, "account disabled");
        Ok(Some(Disabled { cancellation }))
    }

    /// Lets the account's keys work again; `false` when there is no such
    /// account.
    pub async fn enable(&self, account: &AccountId) -> StoreResult<bool> {
        let found = self.store.set_account_disabled(account, None).await?;
        if found {
            info!(account_id = %account, "account enabled");
        }
        Ok(found)
    }

    /// Adds `amount` (or, negative, takes it away) to the account's available
    /// credits, with a ledger entry; `None` when that would leave the account
    /// with fewer than none available.
    pub async fn grant(
        &self,
        account: &AccountId,
        amount: Credits,
    ) -> StoreResult<Option<Balances>> {
        let balances = self
            .store
            .grant_credits(account, amount, "admin grant", now_ms())
            .await?;
        if balances.is_some() {
            info!(account_id = %account, credits = %amount, "credits granted");
        }
        Ok(balances)
    }
}
