//! Planning a register-ideas call: everything the store will write, with its
//! ids, ideas, price and deadline chosen here, outside the handler.

use std::time::Duration;

use mannequin_domain::ids::{AccountId, BatchId};
use mannequin_domain::{AssetKind, Count, Credits, Wish};
use sha2::{Digest, Sha256};

use crate::clock::{new_asset_id, new_id};
use crate::planner::Planned;
use crate::store::{Idempotency, NewBatch, NewModel};

/// The service's terms for a batch.
#[derive(Debug, Clone)]
pub struct Terms {
    /// The price of one asset, per kind, in [`AssetKind::ALL`]'s order.
    pub prices: [Credits; AssetKind::ALL.len()],
    pub max_attempts: u32,
    /// How long the reservation may stay open before unfinished models fail.
    pub reservation_ttl: Duration,
}

impl Terms {
    /// The price of one asset of `kind`.
    pub fn price(&self, kind: AssetKind) -> Credits {
        self.prices[kind as usize]
    }
}

/// What one register-ideas call asks for.
#[derive(Debug, Clone)]
pub struct Order<'a> {
    pub kind: AssetKind,
    pub account: &'a AccountId,
    pub wish: &'a Wish,
    pub count: Count,
    pub correlation_id: &'a str,
    pub idempotency_key: Option<String>,
}

/// The batch `batch_id` to register for `order` at `now`: the planned ideas
/// and names, a model and a job per idea, and the request's hash for its
/// idempotency key (the same text, or config, and count hash alike).
pub fn plan(
    order: Order<'_>,
    terms: &Terms,
    now: i64,
    batch_id: BatchId,
    planned: Planned,
) -> NewBatch {
    let text = order.wish.text();
    let fingerprint = order.wish.fingerprint();
    let Planned { ideas, names, .. } = planned;
    let idempotency = order.idempotency_key.map(|key| {
        let mut h = Sha256::new();
        // The kind, so the same text ordered as two kinds differs (a model's
        // hash is as it was before kinds, so keys stored then still replay).
        if order.kind != AssetKind::Model {
            h.update(order.kind.declaration().collection.as_bytes());
        }
        h.update(order.count.get().to_be_bytes());
        h.update(fingerprint.as_bytes());
        Idempotency {
            key,
            request_hash: h.finalize().to_vec(),
        }
    });
    let ttl = i64::try_from(terms.reservation_ttl.as_millis()).unwrap_or(i64::MAX);
    NewBatch {
        account_id: order.account.clone(),
        batch_id,
        order_id: new_id(),
        reservation_id: new_id(),
        preferences: text.to_string(),
        correlation_id: order.correlation_id.to_string(),
        price_per_model: terms.price(order.kind),
        deadline: now.saturating_add(ttl),
        max_attempts: terms.max_attempts,
        models: ideas
            .into_iter()
            .zip(names)
            .map(|(idea, name)| NewModel {
                id: new_asset_id(idea.kind()),
                job_id: new_id(),
                name,
                idea,
            })
            .collect(),
        idempotency,
    }
}
