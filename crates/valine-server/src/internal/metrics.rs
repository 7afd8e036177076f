//! Prometheus series of the internal tooling (SPEC §16, phases 4 and 5). Registered into
//! the App's registry by `metrics::Metrics::new`. Counters count what this instance saw;
//! the flaky/broken gauges reflect the database and are refreshed after ingestion and on
//! `GET /internal/stats`.

use std::sync::atomic::AtomicBool;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LevelLabel {
    pub level: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RejectLabel {
    pub reason: String,
}

pub struct InternalMetrics {
    pub pr_analyses: Family<LevelLabel, Counter>,
    pub pr_signature_rejections: Family<RejectLabel, Counter>,
    pub test_results_ingested: Counter,
    pub test_batches_ingested: Counter,
    pub test_batches_failed: Counter,
    pub flaky_tests: Gauge,
    pub broken_tests: Gauge,
    /// Set while a gauge refresh is queued, so a burst of ingests costs one refresh.
    pub refresh_pending: AtomicBool,
}

impl InternalMetrics {
    pub fn register(registry: &mut Registry) -> InternalMetrics {
        let pr_analyses = Family::<LevelLabel, Counter>::default();
        registry.register(
            "pr_intel_analyses",
            "PR analyses stored, by risk level (phase 4)",
            pr_analyses.clone(),
        );
        let pr_signature_rejections = Family::<RejectLabel, Counter>::default();
        registry.register(
            "pr_intel_signature_rejections",
            "PR ingests refused for a missing, malformed or wrong signature",
            pr_signature_rejections.clone(),
        );
        let test_results_ingested = Counter::default();
        registry.register(
            "test_results_ingested",
            "Test results stored (phase 5)",
            test_results_ingested.clone(),
        );
        let test_batches_ingested = Counter::default();
        registry.register(
            "test_ingest_batches",
            "Test ingest batches accepted (phase 5)",
            test_batches_ingested.clone(),
        );
        let test_batches_failed = Counter::default();
        registry.register(
            "test_ingest_batches_failed",
            "Test ingest batches refused or failed; nothing of them was stored (phase 5)",
            test_batches_failed.clone(),
        );
        let flaky_tests = Gauge::default();
        registry.register(
            "flaky_tests_current",
            "Tests currently classified flaky (default window and minRuns) (phase 5)",
            flaky_tests.clone(),
        );
        let broken_tests = Gauge::default();
        registry.register(
            "broken_tests_current",
            "Tests currently classified broken (default window and minRuns) (phase 5)",
            broken_tests.clone(),
        );
        InternalMetrics {
            pr_analyses,
            pr_signature_rejections,
            test_results_ingested,
            test_batches_ingested,
            test_batches_failed,
            flaky_tests,
            broken_tests,
            refresh_pending: AtomicBool::new(false),
        }
    }

    pub fn pr_analysed(&self, level: &str) {
        self.pr_analyses
            .get_or_create(&LevelLabel {
                level: level.to_string(),
            })
            .inc();
    }

    pub fn signature_rejected(&self, reason: &str) {
        self.pr_signature_rejections
            .get_or_create(&RejectLabel {
                reason: reason.to_string(),
            })
            .inc();
    }
}
