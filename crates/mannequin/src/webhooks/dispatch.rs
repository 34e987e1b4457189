//! The dispatcher: every worker process runs one. It takes due deliveries
//! from the database (each by one process at a time, for the length of a
//! lease), fixes each event's body the first time it is sent, signs it, posts
//! it, and records the attempt with what follows: done, due again after the
//! schedule's next wait with jitter, or given up; an endpoint that has failed
//! every attempt for `disable_after` is disabled.
//!
//! Attempts run side by side, at most `endpoint_concurrency` to one endpoint
//! and [`IN_FLIGHT`] in all, endpoints and accounts taking turns; each is
//! recorded as soon as it ends (with the others that ended meanwhile, in one
//! transaction), and new ones start as places free up. An endpoint that
//! hangs so holds only its own places, never another's deliveries, and a
//! process killed mid-delivery sends again only what was in flight.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::try_join_all;
use futures_util::stream::{FuturesUnordered, StreamExt};
use mannequin_domain::ids::{AssetId, BatchId, EventId};
use serde_json::{Value, json};
use tokio::sync::watch;
use tracing::{info, warn};

use super::{Settings, address, retry_delay, sign};
use crate::blob::BlobStore;
use crate::clock::{now_ms, random_unit};
use crate::error::Report;
use crate::metrics::Metrics;
use crate::store::{BatchKey, Due, EndpointState, EventType, Outcome, Store, StoreResult};
use crate::views::batches::Batch;
use crate::views::models::ModelDetailView;
use crate::views::webhooks::Delivery;

/// Attempts one process has under way at once, all endpoints together.
const IN_FLIGHT: usize = 256;

/// Deliveries taken in one claim.
const PER_CLAIM: u32 = 64;

/// An attempt under way: its delivery and, once it ends, its outcome.
type Attempting<'a> = Pin<Box<dyn Future<Output = (Due, Outcome)> + Send + 'a>>;

/// What one dispatcher has under way: the attempts, and how many go to
/// each endpoint.
struct Flight<'a> {
    attempts: FuturesUnordered<Attempting<'a>>,
    per_endpoint: HashMap<mannequin_domain::ids::EndpointId, u32>,
}

/// The most of an endpoint's error answer kept in the attempt's record.
const ERROR_SNIPPET: usize = 200;

pub struct Dispatcher {
    store: Arc<Store>,
    blobs: Arc<dyn BlobStore>,
    metrics: Arc<Metrics>,
    client: reqwest::Client,
    settings: Settings,
}

impl Dispatcher {
    pub fn new(
        store: Arc<Store>,
        blobs: Arc<dyn BlobStore>,
        metrics: Arc<Metrics>,
        settings: Settings,
    ) -> Result<Dispatcher, reqwest::Error> {
        let mut client = crate::http_client()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("mannequin-webhooks/", env!("CARGO_PKG_VERSION")));
        if !settings.allow_private {
            client = client.dns_resolver(address::GuardedResolver::shared());
        }
        Ok(Dispatcher {
            store,
            blobs,
            metrics,
            client: client.build()?,
            settings,
        })
    }

    /// How long a claimed delivery is this process's: an attempt's time with
    /// room to record it. A process that dies holding one leaves it due again
    /// after this.
    fn lease(&self) -> Duration {
        self.settings.timeout * 2 + Duration::from_secs(5)
    }

    /// Delivers until `shutdown`: takes due deliveries whenever there is room
    /// (looking every `poll` while nothing ends), records each attempt as it
    /// ends. Attempts under way finish, and are recorded, before it returns.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut flight = Flight {
            attempts: FuturesUnordered::new(),
            per_endpoint: HashMap::new(),
        };
        loop {
            if !*shutdown.borrow()
                && let Err(e) = self.fill(&mut flight).await
            {
                warn!(error = %Report(&e), "could not take webhook deliveries");
            }
            if *shutdown.borrow() && flight.attempts.is_empty() {
                break;
            }
            tokio::select! {
                Some(ended) = flight.attempts.next() => {
                    self.record(&mut flight, ended).await;
                }
                _ = tokio::time::sleep(self.settings.poll) => {}
                changed = shutdown.changed(), if !*shutdown.borrow() => {
                    if changed.is_err() {
                        // The sender is gone: stop as on shutdown.
                        break;
                    }
                }
            }
        }
    }

    /// One pass for tests and tools: takes what is due now (within the
    /// limits), attempts it, records each attempt as it ends, and returns
    /// how many it attempted. Should the database fail midway, what was
    /// taken stays leased and is due again after the lease.
    pub async fn deliver_due(&self) -> StoreResult<usize> {
        let mut flight = Flight {
            attempts: FuturesUnordered::new(),
            per_endpoint: HashMap::new(),
        };
        let n = self.fill(&mut flight).await?;
        while let Some(ended) = flight.attempts.next().await {
            self.record(&mut flight, ended).await;
        }
        Ok(n)
    }

    /// Takes due deliveries into the free places and starts them; returns
    /// how many it started.
    async fn fill<'a>(&'a self, flight: &mut Flight<'a>) -> StoreResult<usize> {
        let room = IN_FLIGHT.saturating_sub(flight.attempts.len());
        if room == 0 {
            return Ok(0);
        }
        let now = now_ms();
        let lease = i64::try_from(self.lease().as_millis()).unwrap_or(i64::MAX);
        let busy: Vec<(&mannequin_domain::ids::EndpointId, u32)> =
            flight.per_endpoint.iter().map(|(e, n)| (e, *n)).collect();
        let due = self
            .store
            .claim_deliveries(
                PER_CLAIM.min(u32::try_from(room).unwrap_or(u32::MAX)),
                u32::try_from(self.settings.endpoint_concurrency).unwrap_or(u32::MAX),
                &busy,
                now,
                now.saturating_add(lease),
            )
            .await?;
        if due.is_empty() {
            return Ok(0);
        }
        let bodies = self.bodies(&due).await?;
        let n = due.len();
        for d in due {
            *flight
                .per_endpoint
                .entry(d.endpoint_id.clone())
                .or_default() += 1;
            let body = bodies[&d.event_id].clone();
            flight.attempts.push(Box::pin(async move {
                let outcome = self.attempt(&d, &body).await;
                (d, outcome)
            }));
        }
        Ok(n)
    }

    /// Records an attempt that ended, with every other that has ended
    /// meanwhile, in one transaction; frees their places.
    async fn record<'a>(&'a self, flight: &mut Flight<'a>, first: (Due, Outcome)) {
        let mut ended = vec![first];
        while let Some(Some(more)) = flight.attempts.next().now_or_never() {
            ended.push(more);
        }
        for (d, _) in &ended {
            if let Some(n) = flight.per_endpoint.get_mut(&d.endpoint_id) {
                *n -= 1;
                if *n == 0 {
                    flight.per_endpoint.remove(&d.endpoint_id);
                }
            }
        }
        for (_, outcome) in &ended {
            self.metrics
                .webhook_attempt(match (outcome.delivered, outcome.retry_at) {
                    (true, _) => "delivered",
                    (false, Some(_)) => "retry",
                    (false, None) => "gave_up",
                });
        }
        let attempts: Vec<(&Due, &Outcome)> = ended.iter().map(|(d, o)| (d, o)).collect();
        let disable_after =
            i64::try_from(self.settings.disable_after.as_millis()).unwrap_or(i64::MAX);
        let states = match self
            .store
            .finish_deliveries(&attempts, disable_after, now_ms())
            .await
        {
            Ok(states) => states,
            Err(e) => {
                // Unrecorded: the deliveries are due again when their lease
                // runs out, and are sent again then.
                warn!(error = %Report(&e), attempts = attempts.len(), "could not record webhook attempts");
                return;
            }
        };
        for ((due, outcome), state) in attempts.iter().zip(states) {
            if state == EndpointState::Disabled {
                warn!(
                    endpoint = %due.endpoint_id.as_str(),
                    "webhook endpoint disabled: every delivery failed for too long"
                );
            } else if !outcome.delivered {
                info!(
                    endpoint = %due.endpoint_id.as_str(),
                    event = %due.event_id.as_str(),
                    attempt = due.attempt,
                    error = outcome.error.as_deref().unwrap_or(""),
                    retry = outcome.retry_at.is_some(),
                    "webhook delivery failed"
                );
            }
        }
    }

    /// Each event's body by event id: the one fixed when it was first sent,
    /// or, for events sent for the first time, rendered now and fixed.
    async fn bodies(&self, due: &[Due]) -> StoreResult<HashMap<EventId, String>> {
        let mut bodies = HashMap::new();
        let mut fresh: Vec<&Due> = Vec::new();
        for d in due {
            match &d.payload {
                Some(body) => {
                    bodies.insert(d.event_id.clone(), body.clone());
                }
                None if !fresh.iter().any(|f| f.event_id == d.event_id) => fresh.push(d),
                None => {}
            }
        }
        let rendered = try_join_all(fresh.iter().map(|d| self.render(d))).await?;
        let drafts: Vec<(&EventId, &str)> = fresh
            .iter()
            .zip(&rendered)
            .map(|(d, body)| (&d.event_id, body.as_str()))
            .collect();
        let fixed = self.store.fix_payloads(&drafts).await?;
        for (d, body) in fresh.iter().zip(fixed) {
            bodies.insert(d.event_id.clone(), body);
        }
        Ok(bodies)
    }

    /// The body an event is first sent with: `{"type", "timestamp", "data"}`,
    /// the data being the model or batch as the API shows it now.
    async fn render(&self, due: &Due) -> StoreResult<String> {
        let data = match due.event_type {
            EventType::BatchCompleted => self
                .store
                .batch_detail(
                    &due.account_id,
                    &BatchKey::Batch(BatchId::trusted(due.subject_id.clone())),
                )
                .await?
                .map(|b| serde_json::to_value(Batch::from(b))),
            _ => self
                .store
                .model_detail(&due.account_id, &AssetId::trusted(due.subject_id.clone()))
                .await?
                .map(|m| serde_json::to_value(ModelDetailView::new(self.blobs.as_ref(), &m))),
        };
        let data = match data {
            Some(Ok(v)) => v,
            _ => json!({ "id": due.subject_id }),
        };
        Ok(envelope(due.event_type, due.created_at, data))
    }

    /// Posts the signed body once and judges the answer.
    async fn attempt(&self, due: &Due, body: &str) -> Outcome {
        let started = Instant::now();
        let timestamp = now_ms() / 1000;
        let result = match self.target(&due.url) {
            Ok(url) => self
                .client
                .post(url)
                .header("content-type", "application/json")
                .header("webhook-id", due.event_id.as_str())
                .header("webhook-timestamp", timestamp.to_string())
                .header(
                    "webhook-signature",
                    sign(&due.secret, due.event_id.as_str(), timestamp, body),
                )
                .body(body.to_string())
                .send()
                .await
                .map_err(|e| self.describe(&e)),
            Err(why) => Err(why),
        };
        let (delivered, status_code, error) = match result {
            Ok(res) if res.status().is_success() => (true, Some(res.status().as_u16()), None),
            Ok(res) => {
                let status = res.status();
                let why = if status.is_redirection() {
                    let to = res
                        .headers()
                        .get("location")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("?");
                    format!("HTTP {status}: redirects are not followed (to {to})")
                } else {
                    let text = snippet(res).await;
                    if text.is_empty() {
                        format!("HTTP {status}")
                    } else {
                        format!("HTTP {status}: {text}")
                    }
                };
                (false, Some(status.as_u16()), Some(why))
            }
            Err(why) => (false, None, Some(why)),
        };
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let retry_at = (!delivered)
            .then(|| retry_delay(&self.settings.schedule, due.attempt, random_unit()))
            .flatten()
            .map(|d| now_ms() + i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2));
        Outcome {
            delivered,
            status_code,
            error,
            duration_ms,
            retry_at,
        }
    }

    /// The URL to call, unless its host may not be called as written (an
    /// address literal or a local name); names are checked again as they
    /// resolve.
    fn target(&self, raw: &str) -> Result<reqwest::Url, String> {
        let url = reqwest::Url::parse(raw).map_err(|e| format!("the URL does not parse: {e}"))?;
        if !self.settings.allow_private
            && let Some(host) = url.host_str()
            && let Some(why) = address::refused_host(host)
        {
            return Err(format!(
                "refused: {host} is {why}, which webhooks may not reach"
            ));
        }
        Ok(url)
    }

    /// A failed request in words, without the URL (it may hold a secret).
    fn describe(&self, e: &reqwest::Error) -> String {
        let mut source: Option<&dyn std::error::Error> = Some(e);
        while let Some(s) = source {
            if let Some(refused) = s.downcast_ref::<address::Refused>() {
                return refused.0.clone();
            }
            source = s.source();
        }
        if e.is_timeout() {
            format!("timed out after {} s", self.settings.timeout.as_secs_f64())
        } else if e.is_connect() {
            "could not connect".into()
        } else {
            "the request failed".into()
        }
    }
}

/// The body the specification recommends: `{"type", "timestamp", "data"}`.
pub fn envelope(event: EventType, created_at: i64, data: Value) -> String {
    serde_json::to_string(&Delivery {
        event,
        timestamp: crate::views::Time(created_at),
        data,
    })
    .unwrap_or_default()
}

/// The start of an error answer, on one line.
async fn snippet(res: reqwest::Response) -> String {
    let mut res = res;
    let mut bytes = Vec::new();
    while bytes.len() < ERROR_SNIPPET {
        match res.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(ERROR_SNIPPET)]);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
