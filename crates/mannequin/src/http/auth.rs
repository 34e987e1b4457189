//! The API key extractor: header to account and scopes, then the rate limit.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{DefaultKeyedRateLimiter, Quota};
use mannequin_domain::ids::{AccountId, ApiKey};
use prometheus_client::metrics::counter::Counter as MetricCounter;
use prometheus_client::metrics::gauge::Gauge;

use super::AppState;
use super::error::ApiError;
use crate::clock::now_ms;
use crate::error::BoxError;
use crate::keys::{self, Principal, Scope};

/// An authenticated caller.
pub struct Caller(pub Principal);

impl Caller {
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.0.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::MissingScope(scope))
        }
    }

    pub fn account_id(&self) -> &AccountId {
        &self.0.account_id
    }
}

/// The presented key: `X-Api-Key` wins over `Authorization: Bearer`.
fn presented(parts: &Parts) -> Option<&str> {
    if let Some(v) = parts.headers.get("x-api-key") {
        return v.to_str().ok().map(str::trim);
    }
    let auth = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = auth.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let raw = presented(parts).ok_or(ApiError::Unauthorized)?;
        let key = ApiKey::parse(raw).ok_or(ApiError::Unauthorized)?;
        let record = state
            .store
            .find_key(key.key_id)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let principal =
            keys::verify(&record, key.secret, now_ms()).ok_or(ApiError::Unauthorized)?;
        let checked = state.limiter.check(principal.account_id.as_str()).await;
        if let Some(slot) = parts.extensions.get::<RateSlot>() {
            let seen = match &checked {
                Ok(seen) => *seen,
                Err(refused) => refused.seen,
            };
            *slot.0.lock().unwrap_or_else(|p| p.into_inner()) = seen;
        }
        checked.map_err(|refused| ApiError::RateLimited {
            retry_after_secs: refused.retry_after_secs,
        })?;
        Ok(Caller(principal))
    }
}

/// What the last check of a request's account saw, for the `RateLimit`
/// header: the burst left and the seconds until it is whole again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSeen {
    pub remaining: u32,
    pub reset_secs: u64,
}

/// A refused request: when to retry, and what the check saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub retry_after_secs: u64,
    pub seen: Option<RateSeen>,
}

/// Where the envelope finds what the key extractor's rate check saw, to
/// answer with the `RateLimit` header.
#[derive(Clone, Default)]
pub struct RateSlot(pub Arc<Mutex<Option<RateSeen>>>);

impl RateSlot {
    pub fn seen(&self) -> Option<RateSeen> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

type Keyed = DefaultKeyedRateLimiter<String, StateInformationMiddleware>;

/// Where the limit is counted.
enum Counter {
    /// Limiting is off.
    Off,
    /// In this process.
    Local(Keyed),
    /// In Redis, shared by every API process that uses it.
    Shared(SharedLimit),
}

/// A rate limit per account: `rate` requests a second on average, bursts of up
/// to `burst`, by the generic cell rate algorithm: in this process
/// (`governor`, keyed by account), or in Redis for all processes at once. A
/// rate of 0 turns limiting off.
pub struct RateLimiter {
    counter: Counter,
    rate: f64,
    burst: u32,
}

impl RateLimiter {
    /// A limit counted in this process.
    pub fn new(rate: f64, burst: f64) -> RateLimiter {
        let burst = NonZeroU32::new(burst.clamp(1.0, f64::from(u32::MAX)) as u32)
            .unwrap_or(NonZeroU32::MIN);
        let on = rate > 0.0 && rate.is_finite();
        let counter = if on {
            let period = Duration::from_secs_f64(1.0 / rate).max(Duration::from_nanos(1));
            let quota = Quota::with_period(period)
                .expect("a positive period")
                .allow_burst(burst);
            Counter::Local(
                governor::RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            )
        } else {
            Counter::Off
        };
        RateLimiter {
            counter,
            rate,
            burst: burst.get(),
        }
    }

    /// A limit counted in the Redis at `url`, shared by every process using
    /// it; `metrics` counts its failures and says when it is bypassed.
    pub async fn shared(
        rate: f64,
        burst: f64,
        url: &str,
        metrics: (MetricCounter, Gauge),
    ) -> Result<RateLimiter, BoxError> {
        let mut limiter = RateLimiter::new(rate, burst);
        let counter = std::mem::replace(&mut limiter.counter, Counter::Off);
        limiter.counter = match counter {
            Counter::Local(own) => Counter::Shared(SharedLimit::connect(url, own, metrics).await?),
            other => other,
        };
        Ok(limiter)
    }

    /// Counts one request in this process's own limit.
    fn check_local(&self, limiter: &Keyed, account: &str) -> Result<Option<RateSeen>, Refused> {
        match limiter.check_key(&account.to_string()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Ok(Some(RateSeen {
                    remaining,
                    reset_secs: self.secs_for(self.burst.saturating_sub(remaining)),
                }))
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(Refused {
                    retry_after_secs: (wait.as_secs_f64().ceil() as u64).max(1),
                    seen: Some(RateSeen {
                        remaining: 0,
                        reset_secs: self.secs_for(self.burst),
                    }),
                })
            }
        }
    }

    /// Seconds for `n` requests' worth of quota to come back.
    fn secs_for(&self, n: u32) -> u64 {
        (f64::from(n) / self.rate).ceil() as u64
    }

    /// `RateLimit-Policy`, per the IETF draft: the burst as the quota and the
    /// seconds it takes to refill as the window. `None` when limiting is off.
    pub fn policy(&self) -> Option<String> {
        match self.counter {
            Counter::Off => None,
            _ => Some(format!(
                "\"account\";q={};w={}",
                self.burst,
                self.secs_for(self.burst).max(1)
            )),
        }
    }

    /// `RateLimit` for what a check saw.
    pub fn header(seen: RateSeen) -> String {
        format!("\"account\";r={};t={}", seen.remaining, seen.reset_secs)
    }

    /// Counts one request of `account`: what is left, or when to retry.
    pub async fn check(&self, account: &str) -> Result<Option<RateSeen>, Refused> {
        match &self.counter {
            Counter::Off => Ok(None),
            Counter::Local(limiter) => self.check_local(limiter, account),
            Counter::Shared(shared) => {
                if shared.bypassed() {
                    return self.check_local(&shared.own, account);
                }
                match shared.check(account, self.rate, self.burst).await {
                    Some(answer) => answer,
                    None => self.check_local(&shared.own, account),
                }
            }
        }
    }
}

/// The cell rate algorithm in one Lua script, on Redis's own clock, so that
/// every process agrees: the key holds the account's theoretical arrival
/// time in microseconds. Returns `{allowed, wait_us, remaining, whole_in_us}`.
const GCRA: &str = r"
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local tolerance = interval * burst
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if now < allow_at then
  return {0, allow_at - now, 0, tat - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return {1, 0, math.floor((now + tolerance - new_tat) / interval), new_tat - now}
";

/// How long a request waits for Redis before its limit is counted here.
const REDIS_WAIT: Duration = Duration::from_millis(250);

/// How long Redis is left alone after it failed: meanwhile this process
/// counts its own limits, and one probe in the background tries Redis again.
const REDIS_PAUSE_MS: i64 = 5_000;

/// A connection to the Redis that holds the shared limits, and this
/// process's own limit for while it fails.
pub struct SharedLimit {
    redis: redis::aio::ConnectionManager,
    script: redis::Script,
    own: Keyed,
    /// Until when (ms) Redis is bypassed after a failure; 0 when it is not.
    bypass_until: Arc<AtomicI64>,
    /// A probe of Redis is under way.
    probing: Arc<AtomicBool>,
    /// When a failure was last logged (ms): once a minute at most.
    warned_at: AtomicI64,
    errors: MetricCounter,
    bypassed: Gauge,
}

impl SharedLimit {
    async fn connect(
        url: &str,
        own: Keyed,
        (errors, bypassed): (MetricCounter, Gauge),
    ) -> Result<SharedLimit, BoxError> {
        let client = redis::Client::open(url)
            .map_err(|e| format!("MANNEQUIN_REDIS_URL is not a Redis URL: {e}"))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1);
        let redis = tokio::time::timeout(
            Duration::from_secs(5),
            client.get_connection_manager_with_config(config),
        )
        .await
        .map_err(|_| "Redis (MANNEQUIN_REDIS_URL) did not answer within 5 s")?
        .map_err(|e| format!("Redis (MANNEQUIN_REDIS_URL) is unreachable: {e}"))?;
        Ok(SharedLimit {
            redis,
            script: redis::Script::new(GCRA),
            own,
            bypass_until: Arc::new(AtomicI64::new(0)),
            probing: Arc::new(AtomicBool::new(false)),
            warned_at: AtomicI64::new(i64::MIN),
            errors,
            bypassed,
        })
    }

    /// Whether requests skip Redis now. When the pause after a failure is
    /// over, one probe runs in the background and requests keep skipping
    /// Redis until it answers: no request waits on a Redis that is down.
    fn bypassed(&self) -> bool {
        let until = self.bypass_until.load(Ordering::Relaxed);
        if until == 0 {
            return false;
        }
        if now_ms() >= until && !self.probing.swap(true, Ordering::AcqRel) {
            let mut redis = self.redis.clone();
            let (until, probing, bypassed) = (
                self.bypass_until.clone(),
                self.probing.clone(),
                self.bypassed.clone(),
            );
            tokio::spawn(async move {
                let ping = tokio::time::timeout(
                    REDIS_WAIT * 4,
                    redis::cmd("PING").query_async::<String>(&mut redis),
                )
                .await;
                if matches!(ping, Ok(Ok(_))) {
                    until.store(0, Ordering::Relaxed);
                    bypassed.set(0);
                    tracing::info!("Redis answers again: rate limits are shared again");
                } else {
                    until.store(now_ms() + REDIS_PAUSE_MS, Ordering::Relaxed);
                }
                probing.store(false, Ordering::Release);
            });
        }
        true
    }

    /// One request counted in Redis; `None` when Redis failed or did not
    /// answer in time, and then it is bypassed for a while (the limit
    /// protects the service; it is not what anyone pays for, so requests
    /// pass under this process's own limit).
    async fn check(
        &self,
        account: &str,
        rate: f64,
        burst: u32,
    ) -> Option<Result<Option<RateSeen>, Refused>> {
        let interval_us = (1_000_000.0 / rate).max(1.0).round() as i64;
        let mut redis = self.redis.clone();
        let answer: Result<(i64, i64, i64, i64), _> = tokio::time::timeout(
            REDIS_WAIT,
            self.script
                .key(format!("mannequin:ratelimit:{account}"))
                .arg(interval_us)
                .arg(burst)
                .invoke_async(&mut redis),
        )
        .await
        .unwrap_or_else(|_| Err(redis::RedisError::from((redis::ErrorKind::Io, "timed out"))));
        let secs = |us: i64| (us.max(0) as u64).div_ceil(1_000_000);
        match answer {
            Ok((1, _, remaining, whole_in)) => Some(Ok(Some(RateSeen {
                remaining: u32::try_from(remaining).unwrap_or(0),
                reset_secs: secs(whole_in),
            }))),
            Ok((_, wait, _, whole_in)) => Some(Err(Refused {
                retry_after_secs: secs(wait).max(1),
                seen: Some(RateSeen {
                    remaining: 0,
                    reset_secs: secs(whole_in),
                }),
            })),
            Err(e) => {
                let now = now_ms();
                self.errors.inc();
                self.bypassed.set(1);
                self.bypass_until
                    .store(now + REDIS_PAUSE_MS, Ordering::Relaxed);
                let last = self.warned_at.load(Ordering::Relaxed);
                if now.saturating_sub(last) >= 60_000 {
                    self.warned_at.store(now, Ordering::Relaxed);
                    tracing::warn!(error = %e, "Redis did not count a request: each process counts its own rate limits until it answers (logged once a minute)");
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bucket_allows_the_burst_then_refuses_per_account() {
        let l = RateLimiter::new(0.001, 3.0);
        for _ in 0..3 {
            assert!(l.check("a").await.is_ok());
        }
        match l.check("a").await {
            Err(r) => {
                assert!(r.retry_after_secs >= 1);
                assert_eq!(r.seen.map(|s| s.remaining), Some(0));
            }
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(
            l.check("b").await.is_ok(),
            "another account has its own bucket"
        );
        assert_eq!(RateLimiter::new(0.0, 1.0).check("a").await, Ok(None));
        assert_eq!(RateLimiter::new(0.0, 1.0).policy(), None);
    }

    #[tokio::test]
    async fn the_headers_say_the_burst_what_is_left_and_when_it_is_whole() {
        let l = RateLimiter::new(50.0, 100.0);
        assert_eq!(l.policy().as_deref(), Some("\"account\";q=100;w=2"));
        let seen = l.check("a").await.unwrap().unwrap();
        assert_eq!(
            seen,
            RateSeen {
                remaining: 99,
                reset_secs: 1
            }
        );
        assert_eq!(RateLimiter::header(seen), "\"account\";r=99;t=1");
    }
}
