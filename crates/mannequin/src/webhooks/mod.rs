//! Webhooks, signed per the Standard Webhooks specification
//! (<https://www.standardwebhooks.com>): the endpoint URL rules, the secret,
//! the signature, the retry schedule, and the [`Dispatcher`] every worker
//! process runs to deliver what settling wrote to the outbox.

pub mod address;
mod dispatch;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub use dispatch::Dispatcher;

/// The most endpoints one account may have.
pub const MAX_ENDPOINTS: u32 = 20;

/// The longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// How deliveries are made.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Whether endpoints may be loopback, private or link-local addresses.
    pub allow_private: bool,
    /// How long one attempt may take, connecting included.
    pub timeout: Duration,
    /// The waits between attempts: one attempt, then one per entry.
    pub schedule: Vec<Duration>,
    /// How long an endpoint may fail every attempt before it is disabled.
    pub disable_after: Duration,
    /// How often each process looks for due deliveries.
    pub poll: Duration,
    /// Attempts one process sends one endpoint at once.
    pub endpoint_concurrency: usize,
}

/// The Standard Webhooks schedule: at once, then after 5 seconds, 5 minutes,
/// 30 minutes, 2 hours, 5 hours, 10 hours and 10 hours: eight attempts over
/// about 27 hours.
pub const DEFAULT_SCHEDULE: &str = "5s,5m,30m,2h,5h,10h,10h";

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            allow_private: false,
            timeout: Duration::from_secs(10),
            schedule: parse_schedule(DEFAULT_SCHEDULE).expect("the default schedule parses"),
            disable_after: Duration::from_secs(5 * 24 * 3600),
            poll: Duration::from_millis(500),
            endpoint_concurrency: 4,
        }
    }
}

/// Reads a duration: a whole number and a unit, `ms`, `s`, `m`, `h` or `d`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("'{s}' needs a unit: ms, s, m, h or d"))?;
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("'{s}' is not a number followed by a unit"))?;
    let ms = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("'{s}': the unit must be ms, s, m, h or d")),
    };
    n.checked_mul(ms)
        .filter(|ms| *ms <= 366 * 86_400_000)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("'{s}' is longer than a year"))
}

/// Reads a retry schedule: comma-separated durations, at most 20.
pub fn parse_schedule(s: &str) -> Result<Vec<Duration>, String> {
    if s.trim().is_empty() {
        return Ok(Vec::new());
    }
    let schedule = s
        .split(',')
        .map(parse_duration)
        .collect::<Result<Vec<_>, _>>()?;
    if schedule.len() > 20 {
        return Err("at most 20 retries".into());
    }
    Ok(schedule)
}

/// The wait before attempt `attempt + 1` after attempt `attempt` (from 1)
/// failed, with ±20% jitter from `unit` in `[0, 1)`; `None` when the schedule
/// is used up.
pub fn retry_delay(schedule: &[Duration], attempt: u32, unit: f64) -> Option<Duration> {
    let base = schedule.get(usize::try_from(attempt).ok()?.checked_sub(1)?)?;
    Some(base.mul_f64(0.8 + 0.4 * unit))
}

/// A new signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> crate::SecretString {
    let mut key = [0u8; 32];
    crate::clock::random_bytes(&mut key);
    format!("whsec_{}", STANDARD.encode(key)).into()
}

/// The `webhook-signature` header for message `id` sent at `timestamp`
/// (seconds) with `body`: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` under the secret's key.
pub fn sign(secret: &crate::SecretString, id: &str, timestamp: i64, body: &str) -> String {
    let secret = crate::ExposeSecret::expose_secret(secret);
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    let key = STANDARD
        .decode(encoded)
        .unwrap_or_else(|_| encoded.as_bytes().to_vec());
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Checks an endpoint URL: ASCII (a URI, as the API description says; an
/// international domain name is written in its punycode form), absolute
/// `http`/`https`, no credentials or fragment, at most [`MAX_URL_LEN`]
/// characters, and (unless `allow_private`) not naming an address webhooks
/// may not reach. Returns the URL as it will be called.
pub fn check_url(raw: &str, allow_private: bool) -> Result<String, String> {
    if raw.len() > MAX_URL_LEN {
        return Err(format!(
            "'url' is too long: at most {MAX_URL_LEN} characters."
        ));
    }
    if !raw.is_ascii() {
        return Err("'url' must be ASCII: percent-encode the path and write an international domain name in its punycode form (xn--…).".into());
    }
    let url = reqwest::Url::parse(raw.trim())
        .map_err(|e| format!("'url' is not an absolute URL ({e})."))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("'url' must be an http or https URL.".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("'url' must not hold credentials; use a secret path or query instead.".into());
    }
    if url.fragment().is_some() {
        return Err("'url' must not have a fragment.".into());
    }
    let host = url.host_str().ok_or("'url' must name a host.")?.to_string();
    if !allow_private && let Some(why) = address::refused_host(&host) {
        return Err(format!("'url' names {why}, which webhooks may not reach."));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_reference_implementation() {
        // The `standardwebhooks` library signs this message with this secret so.
        assert_eq!(
            sign(
                &"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_are_fresh_32_byte_keys() {
        use crate::ExposeSecret;
        let a = new_secret();
        let key = STANDARD
            .decode(a.expose_secret().strip_prefix("whsec_").unwrap())
            .unwrap();
        assert_eq!(key.len(), 32);
        assert_ne!(a.expose_secret(), new_secret().expose_secret());
    }

    #[test]
    fn the_schedule_reads_units_and_spreads_retries() {
        let s = parse_schedule(DEFAULT_SCHEDULE).unwrap();
        assert_eq!(s.len(), 7);
        let total: Duration = s.iter().sum();
        assert_eq!(
            total,
            Duration::from_secs(5 + 300 + 1800 + (2 + 5 + 10 + 10) * 3600)
        );
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(2 * 86_400)));
        for bad in ["5", "s", "5x", "-1s", "400d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(retry_delay(&s, 1, 0.5), Some(Duration::from_secs(5)));
        assert_eq!(retry_delay(&s, 2, 0.0), Some(Duration::from_secs(240)));
        assert_eq!(
            retry_delay(&s, 2, 0.999_999).map(|d| d.as_secs()),
            Some(359)
        );
        assert_eq!(retry_delay(&s, 8, 0.5), None);
        assert_eq!(retry_delay(&s, 0, 0.5), None);
        assert_eq!(parse_schedule(""), Ok(Vec::new()));
    }

    #[test]
    fn endpoint_urls_are_checked() {
        assert_eq!(
            check_url("https://hooks.example.com/in?k=1", false).as_deref(),
            Ok("https://hooks.example.com/in?k=1")
        );
        for bad in [
            "hooks.example.com/in",
            "ftp://hooks.example.com/",
            "https://user:pw@hooks.example.com/",
            "https://hooks.example.com/#x",
            "https://127.0.0.1:8080/",
            "http://[::1]/",
            "http://localhost:3000/",
            "http://169.254.169.254/latest/meta-data",
            "http://10.1.2.3/",
            // Spellings of 127.0.0.1 that URL parsers read as that address.
            "http://2130706433/",
            "http://0x7f.1/",
            "http://127.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://[0:0:0:0:0:0:0:1]/",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_url("http://127.0.0.1:8080/hook", true).is_ok());
        // A URI is ASCII: an international name goes in its punycode form.
        assert!(check_url("https://bücher.example/hook", false).is_err());
        assert!(check_url("https://hooks.example/café", false).is_err());
        assert_eq!(
            check_url("https://xn--bcher-kva.example/caf%C3%A9", false).as_deref(),
            Ok("https://xn--bcher-kva.example/caf%C3%A9")
        );
        assert!(
            check_url(
                &format!("https://a.example/{}", "x".repeat(MAX_URL_LEN)),
                true
            )
            .is_err()
        );
    }
}
