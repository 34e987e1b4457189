//! The API key extractor: header to account and scopes, then the rate limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
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

/// A token bucket per account: `rate` requests a second on average, bursts of
/// up to `burst`. A rate of 0 turns limiting off.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(rate: f64, burst: f64) -> RateLimiter {
        RateLimiter {
            rate,
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn check(&self, account: &str) -> Result<(), ApiError> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = buckets
            .entry(account.to_string())
            .or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - *tokens) / self.rate;
            Err(ApiError::RateLimited {
                retry_after_secs: wait.ceil() as u64,
            })
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
            Err(ApiError::RateLimited { retry_after_secs }) => assert!(retry_after_secs >= 1),
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(l.check("b").is_ok(), "another account has its own bucket");
        assert!(RateLimiter::new(0.0, 1.0).check("a").is_ok());
    }
}
