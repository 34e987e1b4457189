//! The API key extractor: header to account and scopes, then the rate limit.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
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
        state.limiter.check(principal.account_id.as_str())?;
        Ok(Caller(principal))
    }
}

/// A rate limit per account: `rate` requests a second on average, bursts of up
/// to `burst` (the generic cell rate algorithm of `governor`, keyed by account).
/// A rate of 0 turns limiting off.
pub struct RateLimiter {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
}

impl RateLimiter {
    pub fn new(rate: f64, burst: f64) -> RateLimiter {
        let limiter = (rate > 0.0 && rate.is_finite()).then(|| {
            let period = Duration::from_secs_f64(1.0 / rate).max(Duration::from_nanos(1));
            let burst = NonZeroU32::new(burst.clamp(1.0, f64::from(u32::MAX)) as u32)
                .unwrap_or(NonZeroU32::MIN);
            let quota = Quota::with_period(period)
                .expect("a positive period")
                .allow_burst(burst);
            governor::RateLimiter::keyed(quota)
        });
        RateLimiter { limiter }
    }

    pub fn check(&self, account: &str) -> Result<(), ApiError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter
            .check_key(&account.to_string())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                ApiError::RateLimited {
                    retry_after_secs: wait.as_secs_f64().ceil() as u64,
                }
            })
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
            Err(ApiError::RateLimited { retry_after_secs }) => assert!(retry_after_secs >= 1),
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(l.check("b").is_ok(), "another account has its own bucket");
        assert!(RateLimiter::new(0.0, 1.0).check("a").is_ok());
    }
}
