//! The server's Prometheus registry. One per `App` (not a process global), so several
//! servers in one test process keep separate counts.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
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

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_duration: HistogramFamily,
    pub auth_events: Family<TypeLabel, Counter>,
    pub session_revocations: Family<ReasonLabel, Counter>,
    /// Internal tooling series (PR intelligence, flaky tests).
    pub internal: crate::internal::metrics::InternalMetrics,
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
        let internal = crate::internal::metrics::InternalMetrics::register(&mut registry);
        Metrics {
            registry,
            http_requests,
            http_duration,
            auth_events,
            session_revocations,
            internal,
        }
    }

    pub fn auth_event(&self, event: crate::auth::events::EventType) {
        self.auth_events
            .get_or_create(&TypeLabel {
                r#type: event.as_str().to_string(),
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

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
