//! Counters and histograms for `/metrics`, in the Prometheus text format.
//!
//! Kept per application instance (not a global recorder), so that several apps
//! in one test process count separately. Queue depth and reserved credits are
//! read from the database at scrape time, so every process reports the truth.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mannequin_domain::Credits;

use crate::store::QueueStats;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Job outcomes a worker reports.
#[derive(Debug, Clone, Copy)]
pub enum JobOutcome {
    Done,
    Failed,
    Retried,
    /// Settled already by someone else (a redelivery): nothing changed.
    Duplicate,
}

#[derive(Default)]
pub struct Metrics {
    http: Mutex<BTreeMap<(String, String, u16), Histogram>>,
    jobs_done: AtomicU64,
    jobs_failed: AtomicU64,
    jobs_retried: AtomicU64,
    jobs_duplicate: AtomicU64,
    credits_reserved: AtomicU64,
    credits_consumed: AtomicU64,
    credits_refunded: AtomicU64,
}

impl Metrics {
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let mut map = self.http.lock().unwrap_or_else(|p| p.into_inner());
        let h = map
            .entry((method.to_string(), route.to_string(), status))
            .or_default();
        h.count += 1;
        h.sum += secs;
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                h.counts[i] += 1;
            }
        }
    }

    pub fn job(&self, outcome: JobOutcome) {
        let c = match outcome {
            JobOutcome::Done => &self.jobs_done,
            JobOutcome::Failed => &self.jobs_failed,
            JobOutcome::Retried => &self.jobs_retried,
            JobOutcome::Duplicate => &self.jobs_duplicate,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn credits_reserved(&self, n: Credits) {
        self.credits_reserved
            .fetch_add(u64::try_from(n.get()).unwrap_or(0), Ordering::Relaxed);
    }

    pub fn credits_consumed(&self, n: Credits) {
        self.credits_consumed
            .fetch_add(u64::try_from(n.get()).unwrap_or(0), Ordering::Relaxed);
    }

    pub fn credits_refunded(&self, n: Credits) {
        self.credits_refunded
            .fetch_add(u64::try_from(n.get()).unwrap_or(0), Ordering::Relaxed);
    }

    /// The whole exposition; `stats` is `None` when the database did not answer.
    /// The metrics as Prometheus text; `outbox` adds the NATS outbox's depth.
    pub fn render(&self, stats: Option<QueueStats>, outbox: bool) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP mannequin_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE mannequin_http_requests_total counter\n");
        let map = self.http.lock().unwrap_or_else(|p| p.into_inner());
        for ((method, route, status), h) in map.iter() {
            let _ = writeln!(
                out,
                "mannequin_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                h.count
            );
        }
        out.push_str("# HELP mannequin_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE mannequin_http_request_duration_seconds histogram\n");
        for ((method, route, status), h) in map.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "mannequin_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "mannequin_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "mannequin_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "mannequin_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        drop(map);
        out.push_str("# HELP mannequin_jobs_total Jobs finished by this process, by outcome.\n");
        out.push_str("# TYPE mannequin_jobs_total counter\n");
        for (name, c) in [
            ("done", &self.jobs_done),
            ("failed", &self.jobs_failed),
            ("retried", &self.jobs_retried),
            ("duplicate", &self.jobs_duplicate),
        ] {
            let _ = writeln!(
                out,
                "mannequin_jobs_total{{outcome=\"{name}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        out.push_str(
            "# HELP mannequin_credits_total Credits moved by this process, by movement.\n",
        );
        out.push_str("# TYPE mannequin_credits_total counter\n");
        for (name, c) in [
            ("reserved", &self.credits_reserved),
            ("consumed", &self.credits_consumed),
            ("refunded", &self.credits_refunded),
        ] {
            let _ = writeln!(
                out,
                "mannequin_credits_total{{movement=\"{name}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        if let Some(s) = stats {
            out.push_str(
                "# HELP mannequin_queue_depth Jobs waiting or running, across all processes.\n",
            );
            out.push_str("# TYPE mannequin_queue_depth gauge\n");
            let _ = writeln!(
                out,
                "mannequin_queue_depth{{state=\"queued\"}} {}",
                s.queued
            );
            let _ = writeln!(
                out,
                "mannequin_queue_depth{{state=\"running\"}} {}",
                s.running
            );
            if outbox {
                out.push_str(
                    "# HELP mannequin_outbox_depth Jobs registered but not yet handed to NATS.\n",
                );
                out.push_str("# TYPE mannequin_outbox_depth gauge\n");
                let _ = writeln!(out, "mannequin_outbox_depth {}", s.unpublished);
            }
            out.push_str(
                "# HELP mannequin_credits_reserved Credits currently held by open reservations.\n",
            );
            out.push_str("# TYPE mannequin_credits_reserved gauge\n");
            let _ = writeln!(out, "mannequin_credits_reserved {}", s.credits_reserved);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.observe_request("GET", "/x", 200, Duration::from_millis(3));
        m.observe_request("GET", "/x", 200, Duration::from_millis(300));
        let text = m.render(None, false);
        assert!(
            text.contains(
                r#"mannequin_http_requests_total{method="GET",route="/x",status="200"} 2"#
            )
        );
        assert!(text.contains(r#"le="0.005"} 1"#));
        assert!(text.contains(r#"le="0.5"} 2"#));
        assert!(text.contains(r#"le="+Inf"} 2"#));
    }
}
