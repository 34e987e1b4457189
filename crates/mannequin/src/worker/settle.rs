//! Records finished models in groups: whatever finishes while one settling
//! transaction commits goes into the next, so under load many models share a
//! commit and each account row is updated once per group.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::clock::now_ms;
use crate::store::{ClaimedJob, Completion, Generation, Settled, Store, StoreError, StoreResult};

/// Most models recorded in one transaction.
pub(super) const GROUP: usize = 128;

/// A finished model waiting to be recorded, and who waits for the result.
struct Finished {
    job: ClaimedJob,
    image_key: String,
    thumb_key: String,
    generation: Generation,
    reply: oneshot::Sender<StoreResult<Settled>>,
}

/// The grouping settler of one worker.
pub struct Settler {
    queue: mpsc::Sender<Finished>,
    store: Arc<Store>,
}

impl Settler {
    /// Starts the task that records groups.
    pub fn spawn(store: Arc<Store>) -> Settler {
        let (queue, mut rx) = mpsc::channel::<Finished>(GROUP * 4);
        let settling = store.clone();
        tokio::spawn(async move {
            let mut group = Vec::with_capacity(GROUP);
            while rx.recv_many(&mut group, GROUP).await > 0 {
                let done: Vec<Completion<'_>> = group
                    .iter()
                    .map(|f: &Finished| Completion {
                        job: &f.job,
                        image_key: &f.image_key,
                        thumb_key: &f.thumb_key,
                        generation: Some(&f.generation),
                    })
                    .collect();
                let result = settling.complete_models(&done, now_ms()).await;
                drop(done);
                for (i, f) in group.drain(..).enumerate() {
                    let _ = f.reply.send(match &result {
                        Ok(settled) => Ok(settled[i]),
                        Err(e) => Err(e.clone()),
                    });
                }
            }
        });
        Settler { queue, store }
    }

    /// Marks the job's model DONE with its images and what was asked of the
    /// generator, and consumes its price, together with whatever else
    /// finishes meanwhile.
    pub async fn complete(
        &self,
        job: &ClaimedJob,
        image_key: &str,
        thumb_key: &str,
        generation: &Generation,
    ) -> StoreResult<Settled> {
        let (reply, result) = oneshot::channel();
        let finished = Finished {
            job: job.clone(),
            image_key: image_key.to_string(),
            thumb_key: thumb_key.to_string(),
            generation: generation.clone(),
            reply,
        };
        match self.queue.send(finished).await {
            Ok(()) => result
                .await
                .unwrap_or_else(|_| Err(StoreError::internal("the settler stopped"))),
            // The settling task is gone (the runtime is shutting down): record
            // this one alone.
            Err(_) => {
                let done = [Completion {
                    job,
                    image_key,
                    thumb_key,
                    generation: Some(generation),
                }];
                let settled = self.store.complete_models(&done, now_ms()).await?;
                Ok(settled[0])
            }
        }
    }
}
