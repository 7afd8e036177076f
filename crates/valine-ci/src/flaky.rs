//! Flaky-test detection over each test's ordered history, batch or incremental.
//!
//! # Counting
//!
//! A test's history is its results in run (ingestion) order. Skipped results count in
//! neither rate; `failedRuns` includes `error`; `totalRuns = passedRuns + failedRuns`.
//! Results from infrastructure-failure runs ([`infrastructure_failures`]) are left out
//! entirely, so one broken runner does not make every test look flaky.
//!
//! # Classification, strongest evidence first
//!
//! 1. **flaky** — the same commit both passed and failed (`mixedOutcomeCommits > 0`), or a
//!    result passed on a retry inside its run (`retryPasses > 0`: a passed result with
//!    `retries > 0`, or a pass directly after a failure of the same run id);
//! 2. **flaky** — flip rate (outcome changes ÷ (runs − 1), in run order) ≥ 0.1 with a
//!    failure rate inside the seed's 20–60 % band;
//! 3. **broken** — failing ≥ 80 % (and no rule above applies): reported only on request;
//! 4. otherwise **stable**: not a candidate.
//!
//! # Score (`flakinessScore`, 0–1)
//!
//! With `p` the failure fraction and `n = totalRuns`:
//!
//! ```text
//! randomness R = min(1, flipRate / (2·p·(1−p)))     (0 when p is 0 or 1, or n < 2)
//! direct     D = 1 − 0.5^max(mixedOutcomeCommits, retryPasses)
//! balance    B = 1 − |2p − 1|
//! score      = 0.40·R + 0.40·D + 0.20·B·R            (× 0.5 when classified broken)
//! ```
//!
//! rounded to 3 decimals. `2p(1−p)` is the flip rate expected when failures strike
//! independently at rate `p`, so `R` asks "does this test fail *at random*?": a true
//! flake sits near 1, while a test that went green → red once and stayed red scores
//! `R = 1/((n−1)·2p(1−p))` — 0.26 for 30 % failing over 10 runs. Balance (the seed's
//! "closest to 50 %") only counts as far as the failures look random (`B·R`), so a long
//! red streak gains nothing from sitting near 50 %. Direct evidence (same commit, retry
//! pass) is proof, so one instance alone is worth 0.20.
//!
//! Guarantee (tested): with `n ≥ 10` (the API's default `minRuns`), a listed single-flip
//! history — one red streak after green, or green after red — scores below 0.20, so it
//! never ranks
//! above a test with same-commit or retry evidence; a random 30 % flake without direct
//! evidence scores ≈ 0.52. Below 10 runs one flip is indistinguishable from chance.
//! Broken tests are halved so that, when listed, they trail flakes with similar
//! statistics. Ties are broken by closeness of the failure rate to 50 %, then by suite
//! and name, so rankings are deterministic.
//!
//! # Incremental use
//!
//! A server keeps one [`Rollup`] per test (or per test and day, merged for a window),
//! updated with [`Rollup::push`] at ingest; [`Rollup::merge`] appends a later rollup;
//! [`Rollup::to_candidate`] scores it in O(1) apart from the commit map. Rollups are
//! stored in a compact text form ([`Rollup::encode`], module `codec`). Commit shas and run
//! ids are kept as 64-bit FNV-1a hashes, so a rollup grows by one hash per distinct
//! commit, whatever the sha length.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::junit::Status;

mod codec;
pub use codec::DecodeError;

/// One stored result of one test, as the detector needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    pub run_id: String,
    pub commit_sha: Option<String>,
    pub status: Status,
    pub retries: u32,
    pub duration_ms: u64,
    /// Epoch milliseconds.
    pub run_at: i64,
}

impl Observation {
    /// The observation for a parsed JUnit case in run `run_id`.
    pub fn from_result(
        result: &crate::junit::TestResult,
        run_id: impl Into<String>,
        commit_sha: Option<String>,
        run_at: i64,
    ) -> Self {
        Observation {
            run_id: run_id.into(),
            commit_sha,
            status: result.status,
            retries: result.retries,
            duration_ms: result.duration_ms,
            run_at,
        }
    }
}

/// Totals of one run, to decide whether the run itself failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunTotals {
    /// Passed + failed + error results (skipped excluded).
    pub total: u64,
    /// Failed + error results.
    pub failed: u64,
}

impl RunTotals {
    pub fn record(&mut self, status: Status) {
        if status != Status::Skipped {
            self.total += 1;
            if status.is_failure() {
                self.failed += 1;
            }
        }
    }

    pub fn is_infrastructure_failure(&self, policy: &InfraPolicy) -> bool {
        self.total >= policy.min_tests
            && self.total > 0
            && (self.failed as f64) >= policy.failure_ratio * (self.total as f64)
    }
}

/// When a run counts as an infrastructure failure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InfraPolicy {
    /// Share of a run's tests that must fail (the contract's 80 %).
    pub failure_ratio: f64,
    /// Runs with fewer non-skipped tests are never excluded: with one or two tests, "most
    /// tests failed" says nothing about the infrastructure, and excluding such runs would
    /// hide a genuinely broken test forever.
    pub min_tests: u64,
}

impl Default for InfraPolicy {
    fn default() -> Self {
        InfraPolicy {
            failure_ratio: 0.8,
            min_tests: 5,
        }
    }
}

/// The run ids to exclude, given per-run totals.
pub fn infrastructure_failures<I, S>(runs: I, policy: &InfraPolicy) -> HashSet<String>
where
    I: IntoIterator<Item = (S, RunTotals)>,
    S: Into<String>,
{
    runs.into_iter()
        .filter(|(_, t)| t.is_infrastructure_failure(policy))
        .map(|(id, _)| id.into())
        .collect()
}

/// Per-run totals from `(run_id, status)` pairs (e.g. one ingested batch).
pub fn run_totals<'a, I>(results: I) -> HashMap<String, RunTotals>
where
    I: IntoIterator<Item = (&'a str, Status)>,
{
    let mut out: HashMap<String, RunTotals> = HashMap::new();
    for (run, status) in results {
        out.entry(run.to_owned()).or_default().record(status);
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Classification {
    Flaky,
    Broken,
    Stable,
}

/// One test's assessment; the seed's fields plus the evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlakyCandidate {
    pub suite: String,
    pub test_name: String,
    pub total_runs: u64,
    pub failed_runs: u64,
    pub passed_runs: u64,
    /// Percent, one decimal.
    pub failure_rate: f64,
    /// Milliseconds, mean over passed and failed results.
    pub avg_duration: u64,
    /// RFC 3339 UTC time of the most recent result (skipped included).
    pub last_run: Option<String>,
    /// The same instant in epoch milliseconds.
    pub last_run_at: Option<i64>,
    pub is_flaky: bool,
    pub flakiness_score: f64,
    /// Three decimals.
    pub flip_rate: f64,
    pub mixed_outcome_commits: u64,
    pub retry_passes: u64,
    pub classification: Classification,
    pub evidence: Vec<String>,
}

/// 64-bit FNV-1a: stable across processes and versions, unlike `DefaultHasher`, so stored
/// rollups stay valid.
fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

const COMMIT_PASSED: u8 = 1;
const COMMIT_FAILED: u8 = 2;
const COMMIT_MIXED: u8 = COMMIT_PASSED | COMMIT_FAILED;

/// The first or last counted result of a rollup, kept so merges can see across the seam.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Edge {
    failed: bool,
    run: u64,
    /// A pass already counted as a retry-pass on its own (`retries > 0`).
    retried: bool,
}

/// Incremental per-test aggregate. `push` in run order; `merge` a later rollup.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollup {
    pub suite: String,
    pub test_name: String,
    pub passed: u64,
    /// Failed plus error.
    pub failed: u64,
    /// Error results (a subset of `failed`).
    pub errors: u64,
    pub skipped: u64,
    pub flips: u64,
    pub retry_passes: u64,
    pub mixed_commits: u64,
    pub duration_sum_ms: u64,
    pub last_run_at: Option<i64>,
    first: Option<Edge>,
    last: Option<Edge>,
    /// Commit hash → outcome bits (1 passed, 2 failed).
    commits: BTreeMap<u64, u8>,
}

impl Rollup {
    pub fn new(suite: impl Into<String>, test_name: impl Into<String>) -> Self {
        Rollup {
            suite: suite.into(),
            test_name: test_name.into(),
            ..Rollup::default()
        }
    }

    /// The last result's status was a failure (skips ignored); `None` before any.
    pub fn last_failed(&self) -> Option<bool> {
        self.last.map(|e| e.failed)
    }

    /// Distinct commits seen with a pass or a failure.
    pub fn commit_count(&self) -> usize {
        self.commits.len()
    }

    /// Adds the next result in run order. Callers skip results of excluded runs.
    pub fn push(&mut self, obs: &Observation) {
        self.last_run_at = Some(self.last_run_at.map_or(obs.run_at, |t| t.max(obs.run_at)));
        if obs.status == Status::Skipped {
            self.skipped += 1;
            return;
        }
        let failed = obs.status.is_failure();
        if failed {
            self.failed += 1;
            if obs.status == Status::Error {
                self.errors += 1;
            }
        } else {
            self.passed += 1;
        }
        self.duration_sum_ms = self.duration_sum_ms.saturating_add(obs.duration_ms);

        let run = fnv1a(&obs.run_id);
        let retried = !failed && obs.retries > 0;
        let edge = Edge {
            failed,
            run,
            retried,
        };
        if let Some(prev) = self.last {
            if prev.failed != failed {
                self.flips += 1;
            }
            if !retried && prev.failed && !failed && prev.run == run {
                self.retry_passes += 1;
            }
        }
        if retried {
            self.retry_passes += 1;
        }
        self.first.get_or_insert(edge);
        self.last = Some(edge);

        if let Some(sha) = obs.commit_sha.as_deref().filter(|s| !s.is_empty()) {
            let bit = if failed { COMMIT_FAILED } else { COMMIT_PASSED };
            self.add_commit_bits(fnv1a(sha), bit);
        }
    }

    fn add_commit_bits(&mut self, commit: u64, bits: u8) {
        let entry = self.commits.entry(commit).or_insert(0);
        let before = *entry;
        *entry |= bits;
        if before != COMMIT_MIXED && *entry == COMMIT_MIXED {
            self.mixed_commits += 1;
        }
    }

    /// Appends `later` (whose results all come after this rollup's). Associative, so
    /// per-day rollups can be folded into any window.
    pub fn merge(&mut self, later: &Rollup) {
        if self.suite.is_empty() && self.test_name.is_empty() {
            self.suite.clone_from(&later.suite);
            self.test_name.clone_from(&later.test_name);
        }
        self.passed += later.passed;
        self.failed += later.failed;
        self.errors += later.errors;
        self.skipped += later.skipped;
        self.flips += later.flips;
        self.retry_passes += later.retry_passes;
        self.duration_sum_ms = self.duration_sum_ms.saturating_add(later.duration_sum_ms);
        self.last_run_at = match (self.last_run_at, later.last_run_at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if let (Some(a), Some(b)) = (self.last, later.first) {
            if a.failed != b.failed {
                self.flips += 1;
            }
            if !b.retried && a.failed && !b.failed && a.run == b.run {
                self.retry_passes += 1;
            }
        }
        if self.first.is_none() {
            self.first = later.first;
        }
        if later.last.is_some() {
            self.last = later.last;
        }
        for (&commit, &bits) in &later.commits {
            self.add_commit_bits(commit, bits);
        }
    }

    pub fn to_candidate(&self) -> FlakyCandidate {
        assess(
            &self.suite,
            &self.test_name,
            &Stats {
                passed: self.passed,
                failed: self.failed,
                flips: self.flips,
                retry_passes: self.retry_passes,
                mixed_commits: self.mixed_commits,
                duration_sum_ms: self.duration_sum_ms,
                last_run_at: self.last_run_at,
            },
        )
    }
}

/// Builds rollups for many tests from results in run order, dropping excluded runs.
/// Tests appear in the order first seen.
pub fn build_rollups<'a, I>(results: I, excluded_runs: &HashSet<String>) -> Vec<Rollup>
where
    I: IntoIterator<Item = (&'a str, &'a str, &'a Observation)>,
{
    let mut index: HashMap<(&'a str, &'a str), usize> = HashMap::new();
    let mut rollups: Vec<Rollup> = Vec::new();
    for (suite, name, obs) in results {
        if excluded_runs.contains(&obs.run_id) {
            continue;
        }
        let i = *index.entry((suite, name)).or_insert_with(|| {
            rollups.push(Rollup::new(suite, name));
            rollups.len() - 1
        });
        if let Some(r) = rollups.get_mut(i) {
            r.push(obs);
        }
    }
    rollups
}

/// Batch analysis of one test's whole history (the reference the rollup must agree with).
pub fn analyze_history(
    suite: &str,
    test_name: &str,
    history: &[Observation],
    excluded_runs: &HashSet<String>,
) -> FlakyCandidate {
    let kept: Vec<&Observation> = history
        .iter()
        .filter(|o| !excluded_runs.contains(&o.run_id))
        .collect();
    let last_run_at = kept.iter().map(|o| o.run_at).max();
    let counted: Vec<&Observation> = kept
        .into_iter()
        .filter(|o| o.status != Status::Skipped)
        .collect();
    let failed = counted.iter().filter(|o| o.status.is_failure()).count() as u64;
    let passed = counted.len() as u64 - failed;
    let flips = counted
        .windows(2)
        .filter(|w| matches!(w, [a, b] if a.status.is_failure() != b.status.is_failure()))
        .count() as u64;
    let own_retry_passes = counted
        .iter()
        .filter(|o| !o.status.is_failure() && o.retries > 0)
        .count() as u64;
    let same_run_recoveries = counted
        .windows(2)
        .filter(|w| {
            matches!(w, [a, b] if a.status.is_failure() && !b.status.is_failure()
                && b.retries == 0 && a.run_id == b.run_id)
        })
        .count() as u64;
    let mut per_commit: HashMap<&str, (bool, bool)> = HashMap::new();
    for o in &counted {
        if let Some(sha) = o.commit_sha.as_deref().filter(|s| !s.is_empty()) {
            let e = per_commit.entry(sha).or_default();
            if o.status.is_failure() {
                e.1 = true;
            } else {
                e.0 = true;
            }
        }
    }
    let mixed_commits = per_commit.values().filter(|(p, f)| *p && *f).count() as u64;
    let duration_sum_ms = counted
        .iter()
        .fold(0u64, |acc, o| acc.saturating_add(o.duration_ms));
    assess(
        suite,
        test_name,
        &Stats {
            passed,
            failed,
            flips,
            retry_passes: own_retry_passes + same_run_recoveries,
            mixed_commits,
            duration_sum_ms,
            last_run_at,
        },
    )
}

struct Stats {
    passed: u64,
    failed: u64,
    flips: u64,
    retry_passes: u64,
    mixed_commits: u64,
    duration_sum_ms: u64,
    last_run_at: Option<i64>,
}

const FLIP_RATE_THRESHOLD: f64 = 0.1;
const FLAKY_BAND: (f64, f64) = (20.0, 60.0);
const BROKEN_AT: f64 = 80.0;

fn round_to(value: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (value * factor).round() / factor
}

fn assess(suite: &str, test_name: &str, s: &Stats) -> FlakyCandidate {
    let total = s.passed + s.failed;
    let p = if total == 0 {
        0.0
    } else {
        s.failed as f64 / total as f64
    };
    let failure_rate = round_to(p * 100.0, 1);
    let flip_rate = if total < 2 {
        0.0
    } else {
        s.flips as f64 / (total - 1) as f64
    };

    let mut evidence = Vec::new();
    if s.mixed_commits > 0 {
        evidence.push(format!(
            "passed and failed on the same commit ({} commit{})",
            s.mixed_commits,
            if s.mixed_commits == 1 { "" } else { "s" }
        ));
    }
    if s.retry_passes > 0 {
        evidence.push(format!(
            "passed on a retry after failing in the same run ({} time{})",
            s.retry_passes,
            if s.retry_passes == 1 { "" } else { "s" }
        ));
    }
    let direct = s.mixed_commits > 0 || s.retry_passes > 0;
    let in_band = (FLAKY_BAND.0..=FLAKY_BAND.1).contains(&failure_rate);
    let flippy = flip_rate >= FLIP_RATE_THRESHOLD && in_band;
    if flip_rate >= FLIP_RATE_THRESHOLD {
        evidence.push(format!(
            "outcome flipped {} times in {total} runs (flip rate {:.2}) at a {failure_rate:.1}% failure rate",
            s.flips, flip_rate
        ));
    }
    let classification = if direct || flippy {
        Classification::Flaky
    } else if total > 0 && failure_rate >= BROKEN_AT {
        evidence.push(format!(
            "fails {failure_rate:.1}% of {total} runs: broken, not flaky"
        ));
        Classification::Broken
    } else {
        Classification::Stable
    };

    let randomness = if total >= 2 && p > 0.0 && p < 1.0 {
        (flip_rate / (2.0 * p * (1.0 - p))).min(1.0)
    } else {
        0.0
    };
    let strongest = s.mixed_commits.max(s.retry_passes).min(64) as i32;
    let direct_score = 1.0 - 0.5f64.powi(strongest);
    let balance = 1.0 - (2.0 * p - 1.0).abs();
    let mut score = 0.40 * randomness + 0.40 * direct_score + 0.20 * balance * randomness;
    if classification == Classification::Broken {
        score *= 0.5;
    }
    let score = score.clamp(0.0, 1.0);

    FlakyCandidate {
        suite: suite.to_owned(),
        test_name: test_name.to_owned(),
        total_runs: total,
        failed_runs: s.failed,
        passed_runs: s.passed,
        failure_rate,
        avg_duration: if total == 0 {
            0
        } else {
            (s.duration_sum_ms as f64 / total as f64).round() as u64
        },
        last_run: s.last_run_at.map(format_rfc3339_ms),
        last_run_at: s.last_run_at,
        is_flaky: classification == Classification::Flaky,
        flakiness_score: round_to(score, 3),
        flip_rate: round_to(flip_rate, 3),
        mixed_outcome_commits: s.mixed_commits,
        retry_passes: s.retry_passes,
        classification,
        evidence,
    }
}

/// The ranked page and how many candidates qualified before the limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ranking {
    pub flaky_candidates: Vec<FlakyCandidate>,
    pub total_candidates: usize,
}

/// Orders best candidate first: score, then closeness to 50 % failure, then name.
pub fn compare(a: &FlakyCandidate, b: &FlakyCandidate) -> std::cmp::Ordering {
    b.flakiness_score
        .total_cmp(&a.flakiness_score)
        .then_with(|| {
            (a.failure_rate - 50.0)
                .abs()
                .total_cmp(&(b.failure_rate - 50.0).abs())
        })
        .then_with(|| a.suite.cmp(&b.suite))
        .then_with(|| a.test_name.cmp(&b.test_name))
}

/// Keeps flaky tests (and broken ones when asked) with at least `min_runs` counted runs,
/// best first, at most `limit`. Selection is O(n) plus O(limit · log limit) sorting.
pub fn rank<I>(candidates: I, include_broken: bool, min_runs: u64, limit: usize) -> Ranking
where
    I: IntoIterator<Item = FlakyCandidate>,
{
    let mut kept: Vec<FlakyCandidate> = candidates
        .into_iter()
        .filter(|c| c.total_runs >= min_runs)
        .filter(|c| match c.classification {
            Classification::Flaky => true,
            Classification::Broken => include_broken,
            Classification::Stable => false,
        })
        .collect();
    let total_candidates = kept.len();
    if limit == 0 {
        kept.clear();
    } else if kept.len() > limit {
        kept.select_nth_unstable_by(limit - 1, compare);
        kept.truncate(limit);
    }
    kept.sort_by(compare);
    Ranking {
        flaky_candidates: kept,
        total_candidates,
    }
}

/// Epoch milliseconds → `YYYY-MM-DDTHH:MM:SS.mmmZ` (proleptic Gregorian, UTC).
pub fn format_rfc3339_ms(epoch_ms: i64) -> String {
    let days = epoch_ms.div_euclid(86_400_000);
    let ms_of_day = epoch_ms.rem_euclid(86_400_000);
    // Civil-from-days (H. Hinnant's algorithm), in i64 so no input overflows.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn obs(run: &str, commit: &str, status: Status) -> Observation {
        Observation {
            run_id: run.into(),
            commit_sha: Some(commit.into()),
            status,
            retries: 0,
            duration_ms: 10,
            run_at: 0,
        }
    }

    fn candidate(history: &[Observation]) -> FlakyCandidate {
        analyze_history("s", "t", history, &HashSet::new())
    }

    #[test]
    fn rfc3339() {
        assert_eq!(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_rfc3339_ms(1_733_169_970_512),
            "2024-12-02T20:06:10.512Z"
        );
        assert_eq!(
            format_rfc3339_ms(951_782_400_000),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(format_rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
        let _ = format_rfc3339_ms(i64::MIN);
        let _ = format_rfc3339_ms(i64::MAX);
    }

    #[test]
    fn same_commit_pass_and_fail_is_flaky() {
        let h = [
            obs("r1", "c1", Status::Passed),
            obs("r2", "c1", Status::Failed),
            obs("r3", "c2", Status::Passed),
        ];
        let c = candidate(&h);
        assert_eq!(c.classification, Classification::Flaky);
        assert_eq!(c.mixed_outcome_commits, 1);
        assert!(c.evidence[0].contains("same commit"));
    }

    #[test]
    fn retry_pass_is_flaky_both_ways() {
        let mut retried = obs("r1", "c1", Status::Passed);
        retried.retries = 1;
        let c = candidate(&[obs("r0", "c0", Status::Passed), retried]);
        assert_eq!(
            (c.classification, c.retry_passes),
            (Classification::Flaky, 1)
        );
        // Attempts reported as separate results of one run.
        let c = candidate(&[
            obs("r1", "c1", Status::Failed),
            obs("r1", "c1", Status::Passed),
        ]);
        assert_eq!(c.retry_passes, 1);
        assert_eq!(c.classification, Classification::Flaky);
    }

    #[test]
    fn counting_rules() {
        let h = [
            obs("r1", "a", Status::Passed),
            obs("r2", "b", Status::Error),
            obs("r3", "c", Status::Skipped),
            obs("r4", "d", Status::Failed),
            obs("r5", "e", Status::Passed),
        ];
        let c = candidate(&h);
        assert_eq!((c.total_runs, c.failed_runs, c.passed_runs), (4, 2, 2));
        assert_eq!(c.failure_rate, 50.0);
        assert_eq!(c.flip_rate, 0.667);
        assert_eq!(c.classification, Classification::Flaky);
    }

    #[test]
    fn rule_two_band() {
        // Alternating but failing 75 %: flips, yet outside the 20–60 % band.
        let statuses = [true, true, true, false, true, true, true, false];
        let h: Vec<_> = statuses
            .iter()
            .enumerate()
            .map(|(i, f)| {
                obs(
                    &format!("r{i}"),
                    &format!("c{i}"),
                    if *f { Status::Failed } else { Status::Passed },
                )
            })
            .collect();
        let c = candidate(&h);
        assert_eq!(c.failure_rate, 75.0);
        assert_eq!(c.classification, Classification::Stable);
    }

    #[test]
    fn broken_and_infra() {
        let h: Vec<_> = (0..10)
            .map(|i| obs(&format!("r{i}"), &format!("c{i}"), Status::Failed))
            .collect();
        let c = candidate(&h);
        assert_eq!(c.classification, Classification::Broken);
        assert!(!c.is_flaky);
        assert_eq!(c.flakiness_score, 0.0);

        let totals = run_totals([
            ("a", Status::Failed),
            ("a", Status::Failed),
            ("a", Status::Failed),
            ("a", Status::Failed),
            ("a", Status::Passed),
            ("b", Status::Failed),
            ("c", Status::Failed),
            ("c", Status::Passed),
            ("c", Status::Passed),
            ("c", Status::Passed),
            ("c", Status::Skipped),
            ("c", Status::Passed),
        ]);
        let excluded = infrastructure_failures(totals, &InfraPolicy::default());
        // a: 4 of 5 failed → excluded; b: too small to judge; c: healthy.
        assert_eq!(excluded, HashSet::from(["a".to_owned()]));
    }

    #[test]
    fn rank_orders_and_limits() {
        let mk =
            |name: &str, score: f64, rate: f64, class: Classification, runs: u64| FlakyCandidate {
                suite: "s".into(),
                test_name: name.into(),
                total_runs: runs,
                failed_runs: 0,
                passed_runs: 0,
                failure_rate: rate,
                avg_duration: 0,
                last_run: None,
                last_run_at: None,
                is_flaky: class == Classification::Flaky,
                flakiness_score: score,
                flip_rate: 0.0,
                mixed_outcome_commits: 0,
                retry_passes: 0,
                classification: class,
                evidence: vec![],
            };
        let all = vec![
            mk("low", 0.2, 30.0, Classification::Flaky, 20),
            mk("tie-far", 0.5, 20.0, Classification::Flaky, 20),
            mk("tie-near", 0.5, 45.0, Classification::Flaky, 20),
            mk("top", 0.9, 10.0, Classification::Flaky, 20),
            mk("few-runs", 0.99, 50.0, Classification::Flaky, 3),
            mk("broken", 0.3, 95.0, Classification::Broken, 20),
            mk("stable", 0.0, 0.0, Classification::Stable, 20),
        ];
        let names = |r: &Ranking| {
            r.flaky_candidates
                .iter()
                .map(|c| c.test_name.clone())
                .collect::<Vec<_>>()
        };
        let r = rank(all.clone(), false, 10, 100);
        assert_eq!(names(&r), ["top", "tie-near", "tie-far", "low"]);
        assert_eq!(r.total_candidates, 4);
        let r = rank(all.clone(), true, 10, 2);
        assert_eq!(names(&r), ["top", "tie-near"]);
        assert_eq!(r.total_candidates, 5);
        let r = rank(all.clone(), true, 1, 100);
        assert_eq!(
            names(&r),
            ["few-runs", "top", "tie-near", "tie-far", "broken", "low"]
        );
        assert!(rank(all, true, 1, 0).flaky_candidates.is_empty());
    }

    #[test]
    fn candidate_wire_format() {
        let c = candidate(&[obs("r1", "c1", Status::Passed)]);
        let v = serde_json::to_value(&c).unwrap();
        for key in [
            "suite",
            "testName",
            "totalRuns",
            "failedRuns",
            "passedRuns",
            "failureRate",
            "avgDuration",
            "lastRun",
            "isFlaky",
            "flakinessScore",
            "flipRate",
            "mixedOutcomeCommits",
            "retryPasses",
            "classification",
            "evidence",
        ] {
            assert!(v.get(key).is_some(), "{key} missing in {v}");
        }
        assert_eq!(v["classification"], "stable");
        assert_eq!(v["lastRun"], "1970-01-01T00:00:00.000Z");
    }

    fn arb_obs() -> impl Strategy<Value = Observation> {
        (
            0u8..4,
            proptest::option::of(0u8..4),
            prop_oneof![
                Just(Status::Passed),
                Just(Status::Failed),
                Just(Status::Error),
                Just(Status::Skipped)
            ],
            prop_oneof![3 => Just(0u32), 1 => 1u32..3],
            0u64..5000,
            -1000i64..1000,
        )
            .prop_map(
                |(run, commit, status, retries, duration_ms, run_at)| Observation {
                    run_id: format!("run-{run}"),
                    commit_sha: commit.map(|c| format!("sha{c}")),
                    status,
                    retries,
                    duration_ms,
                    run_at,
                },
            )
    }

    proptest! {
        #[test]
        fn rollup_matches_batch_and_merge(history in proptest::collection::vec(arb_obs(), 0..60),
                                          cut1 in any::<proptest::sample::Index>(),
                                          cut2 in any::<proptest::sample::Index>()) {
            let mut whole = Rollup::new("s", "t");
            for o in &history { whole.push(o); }
            prop_assert_eq!(whole.to_candidate(), analyze_history("s", "t", &history, &HashSet::new()));

            // Three pieces merged either way round equal pushing one by one.
            let (mut a, mut b) = (cut1.index(history.len() + 1), cut2.index(history.len() + 1));
            if a > b { std::mem::swap(&mut a, &mut b); }
            let piece = |range: &[Observation]| {
                let mut r = Rollup::new("s", "t");
                for o in range { r.push(o); }
                r
            };
            let (p1, p2, p3) = (piece(&history[..a]), piece(&history[a..b]), piece(&history[b..]));
            let mut left = p1.clone();
            left.merge(&p2);
            left.merge(&p3);
            let mut right_tail = p2.clone();
            right_tail.merge(&p3);
            let mut right = p1;
            right.merge(&right_tail);
            prop_assert_eq!(&left, &whole);
            prop_assert_eq!(&right, &whole);

            // Storage round-trip keeps everything.
            let json = serde_json::to_string(&whole).unwrap();
            let back: Rollup = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, whole);
        }

        #[test]
        fn excluded_runs_are_ignored(history in proptest::collection::vec(arb_obs(), 0..40)) {
            let excluded = HashSet::from(["run-0".to_owned()]);
            let kept: Vec<_> = history.iter().filter(|o| o.run_id != "run-0").cloned().collect();
            let rollups = build_rollups(history.iter().map(|o| ("s", "t", o)), &excluded);
            let batch = analyze_history("s", "t", &history, &excluded);
            prop_assert_eq!(&batch, &analyze_history("s", "t", &kept, &HashSet::new()));
            match rollups.first() {
                Some(r) => prop_assert_eq!(r.to_candidate(), batch),
                None => prop_assert!(kept.is_empty()),
            }
        }

        #[test]
        fn single_flip_histories_stay_below_direct_evidence(n in 10usize..300, fails in 1usize..300, red_last in any::<bool>()) {
            let fails = fails.min(n - 1);
            let history: Vec<Observation> = (0..n)
                .map(|i| {
                    let red = if red_last { i >= n - fails } else { i < fails };
                    let mut o = obs(&format!("r{i}"), &format!("c{i}"), if red { Status::Failed } else { Status::Passed });
                    o.commit_sha = None;
                    o
                })
                .collect();
            let streak = candidate(&history);
            // Stable tests are never listed, so only listed ones must stay below.
            if streak.classification != Classification::Stable {
                prop_assert!(streak.flakiness_score < 0.2, "{:?}", streak);
            }
            prop_assert_eq!(streak.mixed_outcome_commits + streak.retry_passes, 0);
        }

        #[test]
        fn direct_evidence_scores_at_least_a_fifth(history in proptest::collection::vec(arb_obs(), 0..60)) {
            let c = candidate(&history);
            if c.mixed_outcome_commits > 0 || c.retry_passes > 0 {
                prop_assert!(c.is_flaky);
                prop_assert!(c.flakiness_score >= 0.2, "{:?}", c);
            }
        }

        #[test]
        fn score_in_range(history in proptest::collection::vec(arb_obs(), 0..60)) {
            let c = candidate(&history);
            prop_assert!((0.0..=1.0).contains(&c.flakiness_score));
            prop_assert!((0.0..=1.0).contains(&c.flip_rate));
            prop_assert_eq!(c.total_runs, c.passed_runs + c.failed_runs);
        }
    }
}
