//! Prometheus series of the internal tooling (SPEC §16, phases 4, 5 and 7). Registered into
//! the App's registry by `metrics::Metrics::new`. Counters count what this instance saw;
//! the flaky/broken gauges reflect the database and are refreshed after ingestion and on
//! `GET /internal/stats`.

use std::sync::atomic::AtomicBool;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LevelLabel {
    pub level: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RejectLabel {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JourneyLabel {
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StepLabel {
    pub step: String,
    pub status: String,
}

fn step_histogram() -> Histogram {
    // 1 ms … ~33 s: a cached read up to a step at its deadline.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

type StepHistograms = Family<StepLabel, Histogram, fn() -> Histogram>;

pub struct InternalMetrics {
    pub pr_analyses: Family<LevelLabel, Counter>,
    pub pr_signature_rejections: Family<RejectLabel, Counter>,
    pub test_results_ingested: Counter,
    pub test_batches_ingested: Counter,
    pub test_batches_failed: Counter,
    pub flaky_tests: Gauge,
    pub broken_tests: Gauge,
    /// Journey runs by outcome, `passed` or `failed` (phase 7).
    pub journey_runs: Family<JourneyLabel, Counter>,
    /// Passed runs ÷ runs, all stored runs (every instance's), 0–1 (phase 7).
    pub journey_success_rate: Gauge<f64, std::sync::atomic::AtomicU64>,
    /// Step durations by step and outcome (phase 7); skipped steps are not observed.
    pub journey_step_duration: StepHistograms,
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
        let journey_runs = Family::<JourneyLabel, Counter>::default();
        registry.register(
            "journey_runs",
            "Synthetic journey runs by outcome: passed, failed (phase 7)",
            journey_runs.clone(),
        );
        let journey_success_rate = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "journey_success_rate",
            "Passed synthetic journey runs / all stored runs (phase 7)",
            journey_success_rate.clone(),
        );
        let journey_step_duration: StepHistograms =
            Family::new_with_constructor(step_histogram as fn() -> Histogram);
        registry.register(
            "journey_step_duration_seconds",
            "Synthetic journey step durations by step and outcome (phase 7)",
            journey_step_duration.clone(),
        );
        InternalMetrics {
            journey_runs,
            journey_success_rate,
            journey_step_duration,
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
