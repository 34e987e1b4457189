//! The images a picture made from a product is made from: the product's
//! stored photo, the chosen model's and scenery's pictures. Each is read,
//! scaled to what the backend takes and encoded once, then shared by every
//! picture that names it (a batch's twenty pictures, and the next batch of
//! the same product), so a 20 MB photo is decoded once, not per picture.
//!
//! The records never change once they can be named (a product's photo is
//! stored before it is listed; a model or scenery is named only when DONE),
//! so what is kept stays true; it is kept by the account, the id and the
//! size, the newest [`KEEP`] of them.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use mannequin_domain::ideas::shoot::PictureIdea;
use mannequin_domain::ids::{AccountId, AssetId, ProductId};
use tokio::sync::{OnceCell, Semaphore};

use crate::blob::BlobStore;
use crate::generator::{GenerateError, Input, Intake, Role};
use crate::store::Store;

/// Prepared images kept, at most (each a few hundred kilobytes).
pub const KEEP: usize = 64;

type Key = (String, String, u32);
type Cell = Arc<OnceCell<Arc<Input>>>;

/// The prepared input images of a worker process.
pub struct Inputs {
    store: Arc<Store>,
    blobs: Arc<dyn BlobStore>,
    metrics: Arc<crate::metrics::Metrics>,
    kept: Mutex<Kept>,
    /// Decoding large photos is CPU and memory: one per core at once.
    decoding: Semaphore,
}

#[derive(Default)]
struct Kept {
    cells: HashMap<Key, Cell>,
    order: VecDeque<Key>,
}

impl Inputs {
    pub fn new(
        store: Arc<Store>,
        blobs: Arc<dyn BlobStore>,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Inputs {
        Inputs {
            store,
            blobs,
            metrics,
            kept: Mutex::new(Kept::default()),
            decoding: Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
        }
    }

    /// The images `idea` is made from that `intake` takes, product first.
    pub async fn gather(
        &self,
        account: &AccountId,
        idea: &PictureIdea,
        intake: Intake,
    ) -> Result<Vec<Arc<Input>>, GenerateError> {
        let c = &idea.config;
        let mut out = Vec::new();
        for role in Role::ALL {
            if !intake.roles.contains(role) {
                continue;
            }
            let id = match role {
                Role::Product => Some(&c.product.id),
                Role::Model => c.model.as_ref().map(|m| &m.id),
                Role::Scenery => c.scenery.as_ref().map(|s| &s.id),
            };
            if let Some(id) = id {
                out.push(self.one(account, role, id, intake.max_side).await?);
            }
        }
        Ok(out)
    }

    /// One input, prepared now or kept from before.
    async fn one(
        &self,
        account: &AccountId,
        role: Role,
        id: &str,
        max_side: u32,
    ) -> Result<Arc<Input>, GenerateError> {
        let key: Key = (account.as_str().to_string(), id.to_string(), max_side);
        let cell = {
            let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
            match kept.cells.get(&key) {
                Some(cell) => cell.clone(),
                None => {
                    let cell: Cell = Arc::default();
                    kept.cells.insert(key.clone(), cell.clone());
                    kept.order.push_back(key.clone());
                    while kept.order.len() > KEEP {
                        if let Some(old) = kept.order.pop_front() {
                            kept.cells.remove(&old);
                        }
                    }
                    cell
                }
            }
        };
        let made = cell
            .get_or_try_init(|| self.prepare(account, role, id, max_side))
            .await
            .cloned();
        if made.is_err() {
            // A failure is not kept: the next try reads again.
            let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
            if kept.cells.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                kept.cells.remove(&key);
                kept.order.retain(|k| k != &key);
            }
        }
        made
    }

    async fn prepare(
        &self,
        account: &AccountId,
        role: Role,
        id: &str,
        max_side: u32,
    ) -> Result<Arc<Input>, GenerateError> {
        let gone = || {
            GenerateError::fatal(
                format!("the {} it is made from is no longer stored", role.as_str()),
                format!("{id} has no image"),
            )
        };
        let store_failed = |e| GenerateError::retryable("the database did not answer", e);
        let key = match role {
            Role::Product => {
                let id = ProductId::parse(id).ok_or_else(gone)?;
                self.store
                    .product(account, &id)
                    .await
                    .map_err(store_failed)?
                    .map(|p| p.image_key)
            }
            Role::Model | Role::Scenery => {
                let id = AssetId::parse(id).ok_or_else(gone)?;
                self.store
                    .model_detail(account, &id)
                    .await
                    .map_err(store_failed)?
                    .and_then(|d| d.row.image_key)
            }
        }
        .ok_or_else(gone)?;
        let bytes = self
            .blobs
            .get(&key)
            .await
            .map_err(|e| GenerateError::retryable("the image store did not answer", e))?
            .ok_or_else(gone)?;
        let _turn = self
            .decoding
            .acquire()
            .await
            .map_err(|e| GenerateError::retryable("the image decoder stopped", e))?;
        let prepared =
            tokio::task::spawn_blocking(move || mannequin_render::prepare(&bytes, max_side))
                .await
                .map_err(|e| GenerateError::retryable("the image decoder crashed", e))?
                .map_err(|e| {
                    GenerateError::fatal(
                        format!("the {}'s image could not be read", role.as_str()),
                        e,
                    )
                })?;
        self.metrics.input_prepared();
        Ok(Arc::new(Input {
            role,
            bytes: prepared.bytes.into(),
            content_type: prepared.content_type,
        }))
    }
}
