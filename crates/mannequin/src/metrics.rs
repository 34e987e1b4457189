//! Counters and histograms for `/metrics`, through `prometheus-client`, in the
//! OpenMetrics text format Prometheus reads.
//!
//! Kept per application instance (a registry of its own, not a global
//! recorder), so that several apps in one test process count separately. Queue
//! depth and reserved credits are read from the database at scrape time, so
//! every process reports the truth.

use std::sync::Mutex;
use std::time::Duration;

use mannequin_domain::Credits;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use crate::store::QueueStats;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Upper bounds of the generation-time buckets, in seconds: from a no-op to
/// an image server's minutes.
const GENERATION_BUCKETS: [f64; 12] = [
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// Job outcomes a worker reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    Done,
    Failed,
    Retried,
    /// Settled already by someone else (a redelivery): nothing changed.
    Duplicate,
    /// Put back untried: the generator is misconfigured.
    PutBack,
}

impl JobOutcome {
    fn label(self) -> &'static str {
        match self {
            JobOutcome::Done => "done",
            JobOutcome::Failed => "failed",
            JobOutcome::Retried => "retried",
            JobOutcome::Duplicate => "duplicate",
            JobOutcome::PutBack => "put_back",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GenerationLabels {
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MovementLabels {
    movement: &'static str,
}

/// A gauge that is left out of a scrape while its value is unknown.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NoLabels {}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

type HistogramFamily = Family<RequestLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    jobs: Family<OutcomeLabels, Counter>,
    credits: Family<MovementLabels, Counter>,
    /// Read from the database at scrape time; empty when it did not answer.
    queue_depth: Family<StateLabels, Gauge>,
    outbox_depth: Family<NoLabels, Gauge>,
    credits_reserved: Family<NoLabels, Gauge>,
    generation: Family<GenerationLabels, Histogram, fn() -> Histogram>,
    generator_paused: Gauge,
    jobs_in_flight: Gauge,
    leases_extended: Counter,
    inputs_prepared: Counter,
    webhooks: Family<OutcomeLabels, Counter>,
    /// Failures of the Redis that holds the shared rate limits, and whether
    /// this process counts its own limits meanwhile.
    redis_errors: Counter,
    redis_bypassed: Gauge,
    /// One scrape at a time sets the database gauges and encodes them.
    scrape: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: HistogramFamily =
            Family::new_with_constructor(|| Histogram::new(BUCKETS.iter().copied()));
        let jobs = Family::<OutcomeLabels, Counter>::default();
        let credits = Family::<MovementLabels, Counter>::default();
        let queue_depth = Family::<StateLabels, Gauge>::default();
        let outbox_depth = Family::<NoLabels, Gauge>::default();
        let credits_reserved = Family::<NoLabels, Gauge>::default();
        let generation: Family<GenerationLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(GENERATION_BUCKETS.iter().copied()));
        let generator_paused = Gauge::default();
        let jobs_in_flight = Gauge::default();
        let leases_extended = Counter::default();
        let inputs_prepared = Counter::default();
        let webhooks = Family::<OutcomeLabels, Counter>::default();
        let redis_errors = Counter::default();
        let redis_bypassed = Gauge::default();
        registry.register(
            "mannequin_rate_limit_redis_errors",
            "Requests whose rate limit the shared Redis did not count (it failed or did not answer in time)",
            redis_errors.clone(),
        );
        registry.register(
            "mannequin_rate_limit_redis_bypassed",
            "1 while this process counts rate limits itself because the shared Redis failed",
            redis_bypassed.clone(),
        );
        registry.register(
            "mannequin_jobs_in_flight",
            "Jobs this process's worker holds: taken and not yet finished",
            jobs_in_flight.clone(),
        );
        registry.register(
            "mannequin_lease_extensions",
            "Job leases this process's worker extended (one per job per heartbeat)",
            leases_extended.clone(),
        );
        registry.register(
            "mannequin_input_images_prepared",
            "Input images (products, models, sceneries) this process's worker read and prepared for a generator; each is prepared once and shared by the pictures made from it",
            inputs_prepared.clone(),
        );
        registry.register(
            "mannequin_webhook_attempts",
            "Webhook deliveries this process attempted, by outcome (delivered, retry, gave_up)",
            webhooks.clone(),
        );
        registry.register_with_unit(
            "mannequin_generation_duration",
            "Time one generation took in this process's worker, by result (ok, retry, fail, misconfigured)",
            Unit::Seconds,
            generation.clone(),
        );
        registry.register(
            "mannequin_worker_paused",
            "1 while this process's worker takes no jobs because its generator is misconfigured",
            generator_paused.clone(),
        );
        registry.register(
            "mannequin_http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register_with_unit(
            "mannequin_http_request_duration",
            "HTTP request latency",
            Unit::Seconds,
            latency.clone(),
        );
        registry.register(
            "mannequin_jobs",
            "Jobs finished by this process, by outcome",
            jobs.clone(),
        );
        registry.register(
            "mannequin_credits",
            "Credits moved by this process, by movement",
            credits.clone(),
        );
        registry.register(
            "mannequin_queue_depth",
            "Jobs waiting or running, across all processes",
            queue_depth.clone(),
        );
        registry.register(
            "mannequin_outbox_depth",
            "Jobs registered but not yet handed to NATS",
            outbox_depth.clone(),
        );
        registry.register(
            "mannequin_credits_reserved",
            "Credits currently held by open reservations",
            credits_reserved.clone(),
        );
        registry.register(
            "mannequin_build",
            "The running build",
            Info::new(vec![(
                "version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            )]),
        );
        registry.register_collector(Box::new(ProcessCollector));
        Metrics {
            registry,
            requests,
            latency,
            jobs,
            credits,
            queue_depth,
            outbox_depth,
            credits_reserved,
            generation,
            generator_paused,
            jobs_in_flight,
            leases_extended,
            inputs_prepared,
            webhooks,
            redis_errors,
            redis_bypassed,
            scrape: Mutex::new(()),
        }
    }

    /// The shared rate limit's failure counter and bypass gauge, for the
    /// limiter to update.
    pub fn redis_limit(&self) -> (Counter, Gauge) {
        (self.redis_errors.clone(), self.redis_bypassed.clone())
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let labels = RequestLabels {
            method: method.to_string(),
            route: route.to_string(),
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    pub fn job(&self, outcome: JobOutcome) {
        self.jobs
            .get_or_create(&OutcomeLabels {
                outcome: outcome.label(),
            })
            .inc();
    }

    /// One generation and how it ended: `ok`, `retry`, `fail` or `misconfigured`.
    pub fn generation(&self, result: &'static str, took: Duration) {
        self.generation
            .get_or_create(&GenerationLabels { result })
            .observe(took.as_secs_f64());
    }

    /// One webhook attempt and what followed: `delivered`, `retry` or `gave_up`.
    pub fn webhook_attempt(&self, outcome: &'static str) {
        self.webhooks
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// A job was taken (`+1`) or finished, handed back or put back (`-1`).
    pub fn jobs_in_flight(&self, change: i64) {
        self.jobs_in_flight.inc_by(change);
    }

    /// An input image was read and prepared (not taken from those kept).
    pub fn input_prepared(&self) {
        self.inputs_prepared.inc();
    }

    /// A heartbeat extended `n` jobs' leases.
    pub fn leases_extended(&self, n: u64) {
        self.leases_extended.inc_by(n);
    }

    pub fn generator_paused(&self, paused: bool) {
        self.generator_paused.set(i64::from(paused));
    }

    fn moved(&self, movement: &'static str, n: Credits) {
        self.credits
            .get_or_create(&MovementLabels { movement })
            .inc_by(u64::try_from(n.get()).unwrap_or(0));
    }

    pub fn credits_reserved(&self, n: Credits) {
        self.moved("reserved", n);
    }

    pub fn credits_consumed(&self, n: Credits) {
        self.moved("consumed", n);
    }

    pub fn credits_refunded(&self, n: Credits) {
        self.moved("refunded", n);
    }

    /// The whole exposition. `stats` is `None` when the database did not
    /// answer (its gauges are left out); `outbox` adds the NATS outbox's depth.
    pub fn render(&self, stats: Option<QueueStats>, outbox: bool) -> String {
        let _scrape = self.scrape.lock().unwrap_or_else(|p| p.into_inner());
        self.queue_depth.clear();
        self.outbox_depth.clear();
        self.credits_reserved.clear();
        if let Some(s) = stats {
            for (state, n) in [("queued", s.queued), ("running", s.running)] {
                self.queue_depth
                    .get_or_create(&StateLabels { state })
                    .set(n);
            }
            if outbox {
                self.outbox_depth
                    .get_or_create(&NoLabels {})
                    .set(s.unpublished);
            }
            self.credits_reserved
                .get_or_create(&NoLabels {})
                .set(s.credits_reserved.get());
        }
        let mut out = String::with_capacity(4096);
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
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
            ),
            "{text}"
        );
        let bucket = |le: &str, n: u32| {
            format!(
                r#"mannequin_http_request_duration_seconds_bucket{{le="{le}",method="GET",route="/x",status="200"}} {n}"#
            )
        };
        assert!(text.contains(&bucket("0.0025", 0)), "{text}");
        assert!(text.contains(&bucket("0.005", 1)), "{text}");
        assert!(text.contains(&bucket("0.5", 2)));
        assert!(text.contains(&bucket("+Inf", 2)));
        assert!(text.ends_with("# EOF\n"), "one OpenMetrics exposition");
        assert!(
            !text.contains("mannequin_queue_depth{"),
            "no database, no gauge"
        );
    }

    #[test]
    fn database_gauges_follow_the_last_scrape() {
        let m = Metrics::default();
        let stats = QueueStats {
            queued: 3,
            running: 1,
            unpublished: 2,
            credits_reserved: Credits::new(40),
        };
        let text = m.render(Some(stats), true);
        assert!(
            text.contains(r#"mannequin_queue_depth{state="queued"} 3"#),
            "{text}"
        );
        assert!(text.contains("mannequin_outbox_depth 2"), "{text}");
        assert!(text.contains("mannequin_credits_reserved 40"), "{text}");
        let text = m.render(Some(stats), false);
        assert!(!text.contains("mannequin_outbox_depth 2"), "{text}");
    }
}

/// The process's own figures, read from `/proc/self` at each scrape under the
/// names Prometheus' client libraries use: CPU time, resident memory, open
/// and allowed file descriptors, start time. Nothing where `/proc` is not.
#[derive(Debug)]
struct ProcessCollector;

/// Clock ticks per second in `/proc/<pid>/stat` (`USER_HZ`, fixed at 100 in
/// Linux's interface to user space).
const TICKS: f64 = 100.0;

/// What `/proc/self` tells.
#[derive(Debug, Default, PartialEq)]
struct ProcessFigures {
    cpu_seconds: f64,
    resident_bytes: i64,
    start_time_seconds: f64,
    open_fds: i64,
    max_fds: i64,
}

impl ProcessFigures {
    /// Reads `/proc/self`; `None` where it cannot be read.
    fn read() -> Option<ProcessFigures> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let uptime_base = std::fs::read_to_string("/proc/stat").ok()?;
        let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
        let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as i64;
        Self::parse(&stat, &status, &uptime_base, &limits, open_fds)
    }

    fn parse(
        stat: &str,
        status: &str,
        proc_stat: &str,
        limits: &str,
        open_fds: i64,
    ) -> Option<ProcessFigures> {
        // The fields after the command's name, which is in parentheses and
        // may hold spaces: the state is field 3, utime 14, stime 15,
        // starttime 22.
        let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
        let field = |n: usize| fields.get(n - 3)?.parse::<f64>().ok();
        let boot: f64 = proc_stat
            .lines()
            .find_map(|l| l.strip_prefix("btime "))?
            .trim()
            .parse()
            .ok()?;
        let resident_kb: i64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        let max_fds = limits
            .lines()
            .find_map(|l| l.strip_prefix("Max open files"))?
            .split_whitespace()
            .next()?
            .parse()
            .unwrap_or(i64::MAX);
        Some(ProcessFigures {
            cpu_seconds: (field(14)? + field(15)?) / TICKS,
            resident_bytes: resident_kb * 1024,
            start_time_seconds: boot + field(22)? / TICKS,
            open_fds,
            max_fds,
        })
    }
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(p) = ProcessFigures::read() else {
            return Ok(());
        };
        let cpu = ConstCounter::new(p.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu",
            "User and system CPU time spent",
            Some(&Unit::Seconds),
            cpu.metric_type(),
        )?)?;
        let gauges = [
            (
                "process_resident_memory",
                "Resident memory size",
                Some(Unit::Bytes),
                p.resident_bytes as f64,
            ),
            (
                "process_start_time",
                "Start time of the process since the Unix epoch",
                Some(Unit::Seconds),
                p.start_time_seconds,
            ),
            (
                "process_open_fds",
                "Open file descriptors",
                None,
                p.open_fds as f64,
            ),
            (
                "process_max_fds",
                "The most file descriptors the process may open",
                None,
                p.max_fds as f64,
            ),
        ];
        for (name, help, unit, value) in gauges {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(
                name,
                help,
                unit.as_ref(),
                gauge.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod process_tests {
    use super::ProcessFigures;

    #[test]
    fn proc_files_are_read_by_field() {
        let stat = "4242 (tokio rt (x)) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 75 0 0 20 0 \
                    9 0 123400 1000000 5000 18446744073709551615";
        let status = "Name:\tmannequin\nVmRSS:\t   20480 kB\nThreads:\t9\n";
        let proc_stat = "cpu  1 2 3\nbtime 1764400000\nprocesses 10\n";
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(
            ProcessFigures::parse(stat, status, proc_stat, limits, 17),
            Some(ProcessFigures {
                cpu_seconds: 3.25,
                resident_bytes: 20480 * 1024,
                start_time_seconds: 1764400000.0 + 1234.0,
                open_fds: 17,
                max_fds: 1024,
            })
        );
        assert_eq!(
            ProcessFigures::parse("garbage", status, proc_stat, limits, 1),
            None
        );
    }

    #[test]
    fn this_process_can_be_read() {
        let p = ProcessFigures::read().expect("/proc/self on Linux");
        assert!(p.resident_bytes > 0 && p.open_fds > 0 && p.max_fds >= p.open_fds);
        assert!(p.start_time_seconds > 1.0e9);
    }
}
