//! The API key extractor: header to account and scopes, then the rate limit.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{DefaultKeyedRateLimiter, Quota};
use mannequin_domain::ids::{AccountId, ApiKey};

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

    /// A limit counted in the Redis at `url`, shared by every process using it.
    pub async fn shared(rate: f64, burst: f64, url: &str) -> Result<RateLimiter, BoxError> {
        let mut limiter = RateLimiter::new(rate, burst);
        if matches!(limiter.counter, Counter::Local(_)) {
            limiter.counter = Counter::Shared(SharedLimit::connect(url).await?);
        }
        Ok(limiter)
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
            Counter::Local(limiter) => match limiter.check_key(&account.to_string()) {
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
            },
            Counter::Shared(shared) => shared.check(account, self.rate, self.burst).await,
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

/// A connection to the Redis that holds the shared limits.
pub struct SharedLimit {
    redis: redis::aio::ConnectionManager,
    script: redis::Script,
    /// When Redis last failed to answer was logged (ms), to log once in a while.
    warned_at: std::sync::atomic::AtomicI64,
}

impl SharedLimit {
    async fn connect(url: &str) -> Result<SharedLimit, BoxError> {
        let client = redis::Client::open(url)
            .map_err(|e| format!("MANNEQUIN_REDIS_URL is not a Redis URL: {e}"))?;
        let redis = tokio::time::timeout(Duration::from_secs(5), client.get_connection_manager())
            .await
            .map_err(|_| "Redis (MANNEQUIN_REDIS_URL) did not answer within 5 s")?
            .map_err(|e| format!("Redis (MANNEQUIN_REDIS_URL) is unreachable: {e}"))?;
        Ok(SharedLimit {
            redis,
            script: redis::Script::new(GCRA),
            warned_at: std::sync::atomic::AtomicI64::new(0),
        })
    }

    /// One request counted in Redis. Should Redis not answer, the request
    /// passes (the limit protects the service; it is not what anyone pays
    /// for) and the failure is logged every 10 s at most.
    async fn check(
        &self,
        account: &str,
        rate: f64,
        burst: u32,
    ) -> Result<Option<RateSeen>, Refused> {
        let interval_us = (1_000_000.0 / rate).max(1.0).round() as i64;
        let mut redis = self.redis.clone();
        let answer: Result<(i64, i64, i64, i64), _> = tokio::time::timeout(
            Duration::from_millis(500),
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
            Ok((1, _, remaining, whole_in)) => Ok(Some(RateSeen {
                remaining: u32::try_from(remaining).unwrap_or(0),
                reset_secs: secs(whole_in),
            })),
            Ok((_, wait, _, whole_in)) => Err(Refused {
                retry_after_secs: secs(wait).max(1),
                seen: Some(RateSeen {
                    remaining: 0,
                    reset_secs: secs(whole_in),
                }),
            }),
            Err(e) => {
                let now = now_ms();
                let last = self.warned_at.load(std::sync::atomic::Ordering::Relaxed);
                if now - last > 10_000 {
                    self.warned_at
                        .store(now, std::sync::atomic::Ordering::Relaxed);
                    tracing::warn!(error = %e, "Redis did not count a request; letting requests through");
                }
                Ok(None)
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
