//! The server's Prometheus registry. One per `App` (not a process global), so several
//! servers in one test process keep separate counts.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~8 s: covers a cached session check and an Argon2 login alike.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TypeLabel {
    pub r#type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SeverityLabel {
    pub severity: String,
}

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_duration: HistogramFamily,
    pub auth_events: Family<TypeLabel, Counter>,
    pub session_revocations: Family<ReasonLabel, Counter>,
    /// Internal tooling series (PR intelligence, flaky tests).
    pub internal: crate::internal::metrics::InternalMetrics,
    pub mail_queue_depth: Gauge,
    pub mail_sent: Counter,
    pub mail_failed: Counter,
    pub mail_retries: Counter,
    pub unverified_write_blocks: Counter,
    pub resend_rate_limited: Counter,
    pub verification_rate: Gauge<f64, std::sync::atomic::AtomicU64>,
    pub verification_rate_7d: Gauge<f64, std::sync::atomic::AtomicU64>,
    pub sessions_per_user_mean: Gauge<f64, std::sync::atomic::AtomicU64>,
    pub sessions_per_user_p95: Gauge<f64, std::sync::atomic::AtomicU64>,
    pub two_factor_adoption: Gauge<f64, std::sync::atomic::AtomicU64>,
    pub rate_limit_hits: Family<TypeLabel, Counter>,
    pub rate_limit_fallbacks: Counter,
    pub csrf_rejections: Family<ReasonLabel, Counter>,
    pub csrf_check_duration: Histogram,
    /// Running total of CSRF check time (for the mean in `/internal/stats`).
    csrf_nanos: std::sync::atomic::AtomicU64,
    csrf_checks: std::sync::atomic::AtomicU64,
    /// Schema diffs run, by severity (phase 6).
    pub schema_diffs: Family<SeverityLabel, Counter>,
    /// Schema diffs refused because a schema did not parse or validate (phase 6).
    pub schema_diffs_invalid: Counter,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route template and status",
            http_requests.clone(),
        );
        let http_duration: HistogramFamily =
            Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method and route template",
            http_duration.clone(),
        );
        let auth_events = Family::<TypeLabel, Counter>::default();
        registry.register(
            "auth_events",
            "Account security events by type",
            auth_events.clone(),
        );
        let session_revocations = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "session_revocations",
            "Sessions revoked, by reason",
            session_revocations.clone(),
        );
        let mail_queue_depth = Gauge::default();
        registry.register(
            "mail_queue_depth",
            "Messages waiting in the outbox",
            mail_queue_depth.clone(),
        );
        let mail_sent = Counter::default();
        registry.register("mail_sent", "Messages delivered", mail_sent.clone());
        let mail_failed = Counter::default();
        registry.register("mail_failed", "Messages given up on", mail_failed.clone());
        let mail_retries = Counter::default();
        registry.register(
            "mail_retries",
            "Delivery attempts that failed and were rescheduled",
            mail_retries.clone(),
        );
        let unverified_write_blocks = Counter::default();
        registry.register(
            "unverified_write_blocks",
            "Content writes refused because the email is not verified (phase 1)",
            unverified_write_blocks.clone(),
        );
        let resend_rate_limited = Counter::default();
        registry.register(
            "verification_resend_rate_limited",
            "Verification resends refused by the rate limit (phase 1)",
            resend_rate_limited.clone(),
        );
        let verification_rate = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "email_verification_rate",
            "Verified accounts / registered accounts, all time (phase 1)",
            verification_rate.clone(),
        );
        let verification_rate_7d = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "email_verification_rate_7d",
            "Verified / registered among accounts created in the last 7 days (phase 1)",
            verification_rate_7d.clone(),
        );
        let internal = crate::internal::metrics::InternalMetrics::register(&mut registry);
        let schema_diffs = Family::<SeverityLabel, Counter>::default();
        registry.register(
            "schema_diffs",
            "Schema diffs run, by severity: low, medium, high (phase 6)",
            schema_diffs.clone(),
        );
        let schema_diffs_invalid = Counter::default();
        registry.register(
            "schema_diffs_invalid",
            "Schema diffs refused: a schema did not parse or validate (phase 6)",
            schema_diffs_invalid.clone(),
        );
        let sessions_per_user_mean = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "active_sessions_per_user_mean",
            "Mean live sessions per user with any (phase 2)",
            sessions_per_user_mean.clone(),
        );
        let sessions_per_user_p95 = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "active_sessions_per_user_p95",
            "95th percentile of live sessions per user (phase 2)",
            sessions_per_user_p95.clone(),
        );
        let two_factor_adoption = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "two_factor_adoption",
            "Users with 2FA / users with a verified email (phase 2)",
            two_factor_adoption.clone(),
        );
        let rate_limit_hits = Family::<TypeLabel, Counter>::default();
        registry.register(
            "rate_limit_hits",
            "Requests refused by a rate limit, by tier",
            rate_limit_hits.clone(),
        );
        let rate_limit_fallbacks = Counter::default();
        registry.register(
            "rate_limit_store_fallbacks",
            "Rate-limit checks that fell back to the in-process store because Redis failed",
            rate_limit_fallbacks.clone(),
        );
        let csrf_rejections = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "csrf_rejections",
            "Requests refused by the CSRF layer, by reason (phase 3)",
            csrf_rejections.clone(),
        );
        let csrf_check_duration = Histogram::new(exponential_buckets(0.000_005, 2.0, 16));
        registry.register(
            "csrf_check_duration_seconds",
            "Time spent in the CSRF check (phase 3)",
            csrf_check_duration.clone(),
        );
        Metrics {
            csrf_nanos: std::sync::atomic::AtomicU64::new(0),
            csrf_checks: std::sync::atomic::AtomicU64::new(0),
            rate_limit_hits,
            rate_limit_fallbacks,
            csrf_rejections,
            csrf_check_duration,
            sessions_per_user_mean,
            sessions_per_user_p95,
            two_factor_adoption,
            registry,
            http_requests,
            http_duration,
            auth_events,
            session_revocations,
            internal,
            mail_queue_depth,
            mail_sent,
            mail_failed,
            mail_retries,
            unverified_write_blocks,
            resend_rate_limited,
            verification_rate,
            verification_rate_7d,
            schema_diffs,
            schema_diffs_invalid,
        }
    }

    /// Counts one schema diff by its severity.
    pub fn schema_diff_run(&self, severity: &str) {
        self.schema_diffs
            .get_or_create(&SeverityLabel {
                severity: severity.to_string(),
            })
            .inc();
    }

    pub fn auth_event(&self, event: crate::auth::events::EventType) {
        self.auth_events
            .get_or_create(&TypeLabel {
                r#type: event.as_str().to_string(),
            })
            .inc();
    }

    pub fn rate_limited(&self, tier: &str) {
        self.rate_limit_hits
            .get_or_create(&TypeLabel {
                r#type: tier.to_string(),
            })
            .inc();
    }

    pub fn csrf_checked(&self, took: std::time::Duration) {
        use std::sync::atomic::Ordering::Relaxed;
        self.csrf_check_duration.observe(took.as_secs_f64());
        self.csrf_nanos
            .fetch_add(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX), Relaxed);
        self.csrf_checks.fetch_add(1, Relaxed);
    }

    /// (checks, mean check time in microseconds) since start.
    pub fn csrf_latency(&self) -> (u64, f64) {
        use std::sync::atomic::Ordering::Relaxed;
        let n = self.csrf_checks.load(Relaxed);
        let mean = if n == 0 {
            0.0
        } else {
            self.csrf_nanos.load(Relaxed) as f64 / n as f64 / 1000.0
        };
        (n, mean)
    }

    pub fn csrf_rejected_count(&self, reason: &str) -> u64 {
        self.csrf_rejections
            .get_or_create(&ReasonLabel {
                reason: reason.to_string(),
            })
            .get()
    }

    pub fn csrf_rejected(&self, reason: &str) {
        self.csrf_rejections
            .get_or_create(&ReasonLabel {
                reason: reason.to_string(),
            })
            .inc();
    }

    pub fn session_revoked(&self, reason: &str) {
        self.session_revocations
            .get_or_create(&ReasonLabel {
                reason: reason.to_string(),
            })
            .inc();
    }

    /// Re-reads the outbox depth from the store.
    pub async fn refresh_mail_depth(&self, store: &valine_store::Store) {
        if let Ok(n) = store.count_mail("pending").await {
            self.mail_queue_depth.set(n);
        }
    }

    /// Re-reads the database-derived gauges (called on scrape).
    pub async fn refresh_from_store(&self, store: &valine_store::Store) {
        self.refresh_mail_depth(store).await;
        let week_ago = valine_store::now_ms() - 7 * 24 * 3600 * 1000;
        let ratio = |(registered, verified): (i64, i64)| {
            if registered == 0 {
                0.0
            } else {
                verified as f64 / registered as f64
            }
        };
        if let Ok(c) = store.verification_counts(i64::MIN).await {
            self.verification_rate.set(ratio(c));
        }
        if let Ok(c) = store.verification_counts(week_ago).await {
            self.verification_rate_7d.set(ratio(c));
        }
        if let Ok((enabled, verified)) = store.two_factor_adoption().await {
            self.two_factor_adoption.set(ratio((verified, enabled)));
        }
        if let Ok(counts) = store.active_sessions_per_user(valine_store::now_ms()).await {
            let (mean, p95) = mean_p95(counts);
            self.sessions_per_user_mean.set(mean);
            self.sessions_per_user_p95.set(p95);
        }
    }

    /// Registers a metric owned by another module (auth, mail, …).
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Mean and nearest-rank 95th percentile of `values` (0 for none).
pub fn mean_p95(mut values: Vec<i64>) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    values.sort_unstable();
    let n = values.len();
    let mean = values.iter().sum::<i64>() as f64 / n as f64;
    let rank = ((0.95 * n as f64).ceil() as usize).clamp(1, n);
    let p95 = values.get(rank - 1).copied().unwrap_or(0) as f64;
    (mean, p95)
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn mean_and_p95() {
        assert_eq!(super::mean_p95(vec![]), (0.0, 0.0));
        assert_eq!(super::mean_p95(vec![2]), (2.0, 2.0));
        let (mean, p95) = super::mean_p95((1..=20).collect());
        assert_eq!(mean, 10.5);
        assert_eq!(p95, 19.0);
    }
}
