//! Registrations of one account, grouped on PostgreSQL. Every registration of
//! an account updates the account's row, which stays locked until its
//! transaction commits, so an account's registrations take turns however many
//! arrive at once. While one of this process's calls for an account runs,
//! the next registrations for it wait in the account's lane; the next call
//! makes them all, in arrival order, in one transaction and one commit
//! (`mannequin_register_many`, migration 8). A registration arriving alone is
//! one call as before; under load the turns are taken per group, not per
//! registration.
//!
//! Each lane is run by a task of its own, so a caller that stops waiting (a
//! client that hung up) stops no one else's registration.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

use super::db::{Pools, Text};
use super::{StoreError, StoreResult};

/// What `mannequin_register` answers for one registration: the outcome, the
/// batch and request hash an idempotency key names, the credits available.
pub(super) type Answer = (String, Option<String>, Option<Vec<u8>>, Option<i64>);

/// Most registrations in one call: each is a few statements with the
/// account's row held, which settles of the account wait for.
const GROUP_MAX: usize = 16;

struct Waiting {
    /// The registration's arguments, a JSON object.
    item: String,
    reply: oneshot::Sender<StoreResult<Answer>>,
}

/// The accounts with a call running, and what waits behind it.
#[derive(Default)]
pub(super) struct Lanes {
    waiting: Mutex<HashMap<String, VecDeque<Waiting>>>,
}

impl Lanes {
    /// Registers `item` (the arguments of `mannequin_register` as a JSON
    /// object) for `account`, with whatever else waits for it.
    pub(super) async fn register(
        self: &Arc<Self>,
        pools: &Arc<Pools>,
        account: &str,
        item: String,
    ) -> StoreResult<Answer> {
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
            match waiting.get_mut(account) {
                Some(lane) => {
                    lane.push_back(Waiting { item, reply });
                    false
                }
                None => {
                    waiting.insert(
                        account.to_string(),
                        VecDeque::from([Waiting { item, reply }]),
                    );
                    true
                }
            }
        };
        if start {
            tokio::spawn(self.clone().run(pools.clone(), account.to_string()));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::internal("the registration lane stopped")))
    }

    /// Makes the account's waiting registrations, a group at a time, until
    /// none waits; then the lane closes.
    async fn run(self: Arc<Self>, pools: Arc<Pools>, account: String) {
        loop {
            let group: Vec<Waiting> = {
                let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
                let Some(lane) = waiting.get_mut(&account) else {
                    return;
                };
                if lane.is_empty() {
                    waiting.remove(&account);
                    return;
                }
                let n = lane.len().min(GROUP_MAX);
                lane.drain(..n).collect()
            };
            let items: Vec<&str> = group.iter().map(|w| w.item.as_str()).collect();
            let answers = call(&pools, &items).await;
            match answers {
                Ok(answers) if answers.len() == group.len() => {
                    for (w, a) in group.into_iter().zip(answers) {
                        let _ = w.reply.send(Ok(a));
                    }
                }
                Ok(answers) => {
                    let e = StoreError::internal(format!(
                        "mannequin_register_many answered {} of {} registrations",
                        answers.len(),
                        group.len()
                    ));
                    for w in group {
                        let _ = w.reply.send(Err(e.clone()));
                    }
                }
                Err(e) => {
                    for w in group {
                        let _ = w.reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }
}

/// One call of `mannequin_register_many` for `items`, in order.
async fn call(pools: &Pools, items: &[&str]) -> StoreResult<Vec<Answer>> {
    let mut array = String::with_capacity(items.iter().map(|i| i.len() + 1).sum::<usize>() + 2);
    array.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            array.push(',');
        }
        array.push_str(item);
    }
    array.push(']');
    pools
        .fetch(
            "SELECT outcome, seen_batch, seen_hash, available
             FROM mannequin_register_many(CAST($1 AS JSON))",
            &[Text(&array)],
            |c| Ok((c.text()?, c.opt_text()?, c.opt_bytes()?, c.opt_int()?)),
        )
        .await
}
