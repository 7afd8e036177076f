//! A synthetic CI history with a fixed seed, run through the same path a server would
//! take: per-run totals → infrastructure exclusions → rollups at ingest → ranking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashSet;

use valine_ci::flaky::{
    self, Classification, FlakyCandidate, InfraPolicy, Observation, Rollup, build_rollups,
    infrastructure_failures, rank, run_totals,
};
use valine_ci::junit::Status;

/// xorshift64*: tiny, deterministic, good enough to scatter failures.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 1.0 < p
    }
}

const RUNS: usize = 80;
const INFRA_RUN: usize = 37;

/// (suite, test, observation) in ingestion order.
fn history() -> Vec<(String, String, Observation)> {
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut out = Vec::new();
    for run in 0..RUNS {
        // Every commit is built twice (push + merge queue), so same-commit evidence exists.
        let commit = format!("c{:03}", run / 2);
        let run_id = format!("run-{run:03}");
        let mut add = |test: &str, status: Status, retries: u32| {
            out.push((
                "synthetic".to_owned(),
                test.to_owned(),
                Observation {
                    run_id: run_id.clone(),
                    commit_sha: Some(commit.clone()),
                    status,
                    retries,
                    duration_ms: 100 + (run as u64 % 7),
                    run_at: 1_700_000_000_000 + run as i64 * 60_000,
                },
            ));
        };
        if run == INFRA_RUN {
            // The runner lost its database: everything fails in this run.
            for i in 0..20 {
                add(&format!("stable_{i:02}"), Status::Error, 0);
            }
            for t in [
                "flaky_30",
                "flaky_50",
                "flaky_retry",
                "broken",
                "streak_long",
            ] {
                add(t, Status::Failed, 0);
            }
            continue;
        }
        for i in 0..20 {
            add(&format!("stable_{i:02}"), Status::Passed, 0);
        }
        let f30 = rng.chance(0.3);
        add(
            "flaky_30",
            if f30 { Status::Failed } else { Status::Passed },
            0,
        );
        let f50 = rng.chance(0.5);
        add(
            "flaky_50",
            if f50 { Status::Failed } else { Status::Passed },
            0,
        );
        // Passes, but every so often only on Surefire's rerun.
        let retried = rng.chance(0.15);
        add("flaky_retry", Status::Passed, u32::from(retried));
        add("broken", Status::Failed, 0);
        // Green for 70 % of the history, then red for good (a real regression).
        let red = run >= RUNS * 7 / 10;
        add(
            "streak_long",
            if red { Status::Failed } else { Status::Passed },
            0,
        );
        // A new test that ran in 10 runs: 7 green, 3 red, one flip. The regression lands
        // on a commit boundary (runs 76 and 77 share a commit), as real ones do.
        if (RUNS - 11..RUNS - 1).contains(&run) {
            let red = run >= RUNS - 4;
            add(
                "streak_short",
                if red { Status::Failed } else { Status::Passed },
                0,
            );
        }
        if rng.chance(0.5) {
            add("sometimes_skipped", Status::Skipped, 0);
        } else {
            add("sometimes_skipped", Status::Passed, 0);
        }
    }
    out
}

fn excluded(h: &[(String, String, Observation)]) -> HashSet<String> {
    let totals = run_totals(h.iter().map(|(_, _, o)| (o.run_id.as_str(), o.status)));
    infrastructure_failures(totals, &InfraPolicy::default())
}

fn candidates(
    h: &[(String, String, Observation)],
    excluded: &HashSet<String>,
) -> Vec<FlakyCandidate> {
    build_rollups(
        h.iter().map(|(s, t, o)| (s.as_str(), t.as_str(), o)),
        excluded,
    )
    .iter()
    .map(Rollup::to_candidate)
    .collect()
}

fn find<'a>(c: &'a [FlakyCandidate], name: &str) -> &'a FlakyCandidate {
    c.iter()
        .find(|c| c.test_name == name)
        .unwrap_or_else(|| panic!("{name} missing"))
}

#[test]
fn infrastructure_run_is_detected_and_excluded() {
    let h = history();
    let ex = excluded(&h);
    assert_eq!(ex, HashSet::from([format!("run-{INFRA_RUN:03}")]));

    let with = candidates(&h, &ex);
    for i in 0..20 {
        let c = find(&with, &format!("stable_{i:02}"));
        assert_eq!(c.classification, Classification::Stable, "{c:?}");
        assert_eq!(c.total_runs as usize, RUNS - 1);
    }
    // The guard matters: counting the outage would flag every stable test, because its
    // commit was also built green in the sibling run.
    let without = candidates(&h, &HashSet::new());
    let falsely_flaky = without
        .iter()
        .filter(|c| c.test_name.starts_with("stable_") && c.is_flaky)
        .count();
    assert_eq!(falsely_flaky, 20);
}

#[test]
fn true_flakes_are_found_with_evidence() {
    let h = history();
    let c = candidates(&h, &excluded(&h));
    for name in ["flaky_30", "flaky_50"] {
        let f = find(&c, name);
        assert_eq!(f.classification, Classification::Flaky, "{f:?}");
        assert!(f.is_flaky);
        assert!(f.mixed_outcome_commits > 0, "{f:?}");
        assert!(
            f.evidence.iter().any(|e| e.contains("same commit")),
            "{f:?}"
        );
    }
    let r = find(&c, "flaky_retry");
    assert_eq!(r.classification, Classification::Flaky, "{r:?}");
    assert_eq!(r.failed_runs, 0);
    assert!(r.retry_passes > 0);
    let s = find(&c, "sometimes_skipped");
    assert_eq!(
        s.classification,
        Classification::Stable,
        "skips are neither pass nor fail: {s:?}"
    );
    assert_eq!(s.failed_runs, 0);
}

#[test]
fn always_failing_is_broken_not_flaky() {
    let h = history();
    let c = candidates(&h, &excluded(&h));
    let b = find(&c, "broken");
    assert_eq!(b.classification, Classification::Broken);
    assert!(!b.is_flaky);
    assert_eq!(b.failure_rate, 100.0);

    let hidden = rank(c.clone(), false, 5, 100);
    assert!(
        hidden
            .flaky_candidates
            .iter()
            .all(|c| c.test_name != "broken")
    );
    let shown = rank(c, true, 5, 100);
    assert!(
        shown
            .flaky_candidates
            .iter()
            .any(|c| c.test_name == "broken")
    );
    assert_eq!(shown.total_candidates, hidden.total_candidates + 1);
}

#[test]
fn red_streaks_never_outrank_true_flakes() {
    let h = history();
    let c = candidates(&h, &excluded(&h));
    let long = find(&c, "streak_long");
    assert_eq!(long.failure_rate, 30.4, "{long:?}");
    assert_eq!(
        long.classification,
        Classification::Stable,
        "one flip in 79 runs is a regression: {long:?}"
    );
    // Ten runs, one flip: the flip rate (1/9) passes rule 2's threshold, so it is listed,
    // but its score must stay under every real flake.
    let short = find(&c, "streak_short");
    assert_eq!(short.classification, Classification::Flaky, "{short:?}");

    let ranking = rank(c.clone(), true, 5, 100);
    let position = |name: &str| {
        ranking
            .flaky_candidates
            .iter()
            .position(|c| c.test_name == name)
    };
    let short_at = position("streak_short").unwrap();
    for flake in ["flaky_30", "flaky_50", "flaky_retry"] {
        let at = position(flake).unwrap();
        assert!(
            at < short_at,
            "{flake} at {at} should rank above streak_short at {short_at}: {:#?}",
            ranking.flaky_candidates
        );
    }
    assert!(position("streak_long").is_none());

    // The same holds for a long streak scored directly, wherever a flake sits.
    let long_score = long.flakiness_score;
    for flake in ["flaky_30", "flaky_50", "flaky_retry"] {
        assert!(find(&c, flake).flakiness_score > long_score);
    }
}

#[test]
fn incremental_rollup_equals_batch() {
    let h = history();
    let ex = excluded(&h);
    let rolled = candidates(&h, &ex);
    for r in &rolled {
        let own: Vec<Observation> = h
            .iter()
            .filter(|(_, t, _)| *t == r.test_name)
            .map(|(_, _, o)| o.clone())
            .collect();
        assert_eq!(
            &flaky::analyze_history("synthetic", &r.test_name, &own, &ex),
            r
        );
    }
}
