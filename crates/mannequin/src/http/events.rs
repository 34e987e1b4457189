//! Live events of a batch (ours): `GET /api/external/batches/{id}/events` as
//! Server-Sent Events. On connecting, the client gets every model's state,
//! then one event per status change, whichever process made it (the database
//! is read, so a worker anywhere is seen by an API process anywhere), then
//! `batch.completed` with the batch's counts and credits, and the stream ends.
//!
//! An event's id is the time of the change (ms). A client that reconnects
//! with `Last-Event-ID` gets every model changed since a little before it:
//! events are states, not deltas, so one seen twice changes nothing, and none
//! is lost to clocks that differ between processes by less than the margin.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use mannequin_domain::ModelStatus;
use mannequin_domain::ids::{AccountId, AssetId, BatchId, kind};
use mannequin_domain::request::parse_path_id;
use tokio::sync::mpsc;
use tracing::warn;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::error::Report;
use crate::keys::Scope;
use crate::store::{BatchKey, ModelChange};
use crate::views::batches::{Batch, ModelEvent};

/// How often a stream looks for changes.
const POLL: Duration = Duration::from_millis(250);
/// How far before the last event a resumed stream looks again.
const MARGIN_MS: i64 = 5_000;

fn model_event(state: &AppState, c: &ModelChange) -> Event {
    let event = ModelEvent::new(state.blobs.as_ref(), c);
    Event::default()
        .id(c.updated_at.to_string())
        .event(event.name())
        .data(serde_json::to_string(&event).unwrap_or_default())
}

/// Live events of a batch as Server-Sent Events (ours). Needs content.read.
///
/// Every model's state first, then one event per status change
/// (`model.pending`, `model.processing`, `model.completed`, `model.failed`,
/// `model.cancelled`; data: a ModelEvent), then `batch.completed` (data: the
/// Batch) and the end of the stream. Each event's id is the change's time in
/// ms: send it back as Last-Event-ID to resume from a little before it.
#[utoipa::path(get, path = "/api/external/batches/{id}/events", tag = "Batches", operation_id = "batchEvents",
    params(
        ("id" = String, Path, pattern = "^batch_[A-Za-z0-9_]{1,58}$"),
        ("Last-Event-ID" = Option<String>, Header, nullable = false,
            description = "The id of the last event received: the stream resumes from a little before it."),
    ),
    responses(
        (status = 200, description = "The event stream (text/event-stream): `event:` names the event, `data:` holds its JSON (a ModelEvent, or the Batch for batch.completed), `id:` the change's time in ms.",
            content_type = "text/event-stream", body = String,
            example = json!("id: 1774015221003\nevent: model.completed\ndata: {\"id\":\"model_01j9zq3k5v8m2c4x6b7n9p0r1s\",\"status\":\"DONE\",\"thumbnail\":\"https://mannequin.example/media/models/model_01j9zq3k5v8m2c4x6b7n9p0r1s.thumb.jpg\",\"image\":\"https://mannequin.example/media/models/model_01j9zq3k5v8m2c4x6b7n9p0r1s.png\",\"failureReason\":null,\"updatedAt\":\"2026-03-20T14:00:21.003Z\"}\n\n")),
        (status = 404, description = "No such batch in this account.", body = crate::views::error::Error),
    ))]
pub async fn batch_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    caller.require(Scope::Read)?;
    let batch = parse_path_id::<kind::Batch>(&id)?;
    let account = caller.account_id().clone();
    // 404 before the stream starts for a batch that is not the account's.
    state
        .store
        .batch_detail(&account, &BatchKey::Batch(batch.clone()))
        .await?
        .ok_or(ApiError::NotFound)?;
    let since = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map_or(0, |ms| ms.saturating_sub(MARGIN_MS).max(0));
    let (tx, rx) = mpsc::channel::<Event>(64);
    tokio::spawn(follow(state, account, batch, since, tx));
    let stream =
        futures_util::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) },
        );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Sends the batch's changes from `since` until every model is terminal (or
/// the client is gone), then `batch.completed`.
async fn follow(
    state: AppState,
    account: AccountId,
    batch: BatchId,
    mut since: i64,
    tx: mpsc::Sender<Event>,
) {
    let mut sent: HashMap<AssetId, ModelStatus> = HashMap::new();
    loop {
        // Each look reaches back a margin: a change another process committed
        // with a slightly earlier clock is still seen (`sent` drops repeats).
        let from = since.saturating_sub(MARGIN_MS);
        let changes = match state.store.batch_changes(&account, &batch, from).await {
            Ok(c) => c,
            Err(e) => {
                warn!(error = %Report(&e), "live events could not read the batch; trying again");
                tokio::time::sleep(POLL * 4).await;
                continue;
            }
        };
        for change in &changes {
            since = since.max(change.updated_at);
            if sent.get(&change.id) == Some(&change.status) {
                continue;
            }
            sent.insert(change.id.clone(), change.status);
            if tx.send(model_event(&state, change)).await.is_err() {
                return;
            }
        }
        // Done when every model is terminal: the batch's own counts say so.
        match state
            .store
            .batch_detail(&account, &BatchKey::Batch(batch.clone()))
            .await
        {
            Ok(Some(detail)) if detail.finished_at.is_some() => {
                // Whatever finished since the last look, then the end.
                let from = since.saturating_sub(MARGIN_MS);
                if let Ok(last) = state.store.batch_changes(&account, &batch, from).await {
                    for change in last {
                        if sent.get(&change.id) != Some(&change.status) {
                            sent.insert(change.id.clone(), change.status);
                            let _ = tx.send(model_event(&state, &change)).await;
                        }
                    }
                }
                let id = detail.finished_at.unwrap_or(since).to_string();
                let body = serde_json::to_string(&Batch::from(detail)).unwrap_or_default();
                let _ = tx
                    .send(Event::default().id(id).event("batch.completed").data(body))
                    .await;
                return;
            }
            Ok(_) => {}
            Err(e) => warn!(error = %Report(&e), "live events could not read the batch"),
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = tx.closed() => return,
        }
    }
}
