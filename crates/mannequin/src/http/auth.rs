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
        let checked = state.limiter.check(principal.account_id.as_str());
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

/// A rate limit per account: `rate` requests a second on average, bursts of up
/// to `burst` (the generic cell rate algorithm of `governor`, keyed by account).
/// A rate of 0 turns limiting off.
pub struct RateLimiter {
    limiter: Option<Keyed>,
    rate: f64,
    burst: u32,
}

impl RateLimiter {
    pub fn new(rate: f64, burst: f64) -> RateLimiter {
        let burst = NonZeroU32::new(burst.clamp(1.0, f64::from(u32::MAX)) as u32)
            .unwrap_or(NonZeroU32::MIN);
        let limiter = (rate > 0.0 && rate.is_finite()).then(|| {
            let period = Duration::from_secs_f64(1.0 / rate).max(Duration::from_nanos(1));
            let quota = Quota::with_period(period)
                .expect("a positive period")
                .allow_burst(burst);
            governor::RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>()
        });
        RateLimiter {
            limiter,
            rate,
            burst: burst.get(),
        }
    }

    /// Seconds for `n` requests' worth of quota to come back.
    fn secs_for(&self, n: u32) -> u64 {
        (f64::from(n) / self.rate).ceil() as u64
    }

    /// `RateLimit-Policy`, per the IETF draft: the burst as the quota and the
    /// seconds it takes to refill as the window. `None` when limiting is off.
    pub fn policy(&self) -> Option<String> {
        self.limiter.as_ref().map(|_| {
            format!(
                "\"account\";q={};w={}",
                self.burst,
                self.secs_for(self.burst).max(1)
            )
        })
    }

    /// `RateLimit` for what a check saw.
    pub fn header(seen: RateSeen) -> String {
        format!("\"account\";r={};t={}", seen.remaining, seen.reset_secs)
    }

    /// Counts one request of `account`: what is left, or when to retry.
    pub fn check(&self, account: &str) -> Result<Option<RateSeen>, Refused> {
        let Some(limiter) = &self.limiter else {
            return Ok(None);
        };
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_the_burst_then_refuses_per_account() {
        let l = RateLimiter::new(0.001, 3.0);
        for _ in 0..3 {
            assert!(l.check("a").is_ok());
        }
        match l.check("a") {
            Err(r) => {
                assert!(r.retry_after_secs >= 1);
                assert_eq!(r.seen.map(|s| s.remaining), Some(0));
            }
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(l.check("b").is_ok(), "another account has its own bucket");
        assert_eq!(RateLimiter::new(0.0, 1.0).check("a"), Ok(None));
        assert_eq!(RateLimiter::new(0.0, 1.0).policy(), None);
    }

    #[test]
    fn the_headers_say_the_burst_what_is_left_and_when_it_is_whole() {
        let l = RateLimiter::new(50.0, 100.0);
        assert_eq!(l.policy().as_deref(), Some("\"account\";q=100;w=2"));
        let seen = l.check("a").unwrap().unwrap();
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
