//! Delivery intelligence for Valine: JUnit parsing, flaky-test scoring, PR risk and
//! webhook signature checks.
//!
//! A pure library: no I/O, no async, no global state, no panics on any input. The server
//! adapts it to HTTP and storage:
//!
//! * [`junit`] — `parse(&[u8]) -> Result<Vec<TestResult>, JunitError>`: one result per
//!   `<testcase>`, Surefire reruns, capped by [`junit::Limits`]; malformed XML reports the
//!   byte offset, line and column.
//! * [`flaky`] — [`flaky::Rollup`] per test, maintained at ingest (`push`, `merge`,
//!   serde for storage), scored by `to_candidate()` and ordered by [`flaky::rank`];
//!   [`flaky::infrastructure_failures`] finds runs to exclude. The score formula is in the
//!   module docs.
//! * [`pr_risk`] — [`pr_risk::analyze`] turns a file list (or GitHub's totals) into a
//!   0–100 [`pr_risk::RiskReport`] with components and reasons.
//! * [`signature`] — [`signature::verify_github_signature`] for `X-Hub-Signature-256`.
//!
//! # PR risk formula
//!
//! Lockfiles (`Cargo.lock`, `package-lock.json`, `yarn.lock`, `pnpm-lock.yaml`,
//! `poetry.lock`, `go.sum`, …) and generated files (`*.min.js`, `dist/`, `vendor/`,
//! `*.pb.go`, `*_generated.*`, …) are excluded unless sensitive; documentation counts a
//! quarter in size and file count. Each component is rounded to whole points:
//!
//! | component | points | rule |
//! | --- | ---: | --- |
//! | `changeSize` | 0–25 | `25 · min(1, log10(1 + lines) / log10(2001))` |
//! | `fileCount` | 0–10 | `10 · min(1, log10(1 + files) / log10(51))` |
//! | `spread` | 0–10 | `2.5 · (top-level areas − 1)`, capped |
//! | `sensitivePaths` | 0–30 | 20 for the first sensitive path, +5 per further one |
//! | `schemaChanges` | 0–20 | 15 for any schema/migration file, +5 if an existing migration is modified or deleted |
//! | `ciChanges` | 0–10 | 10 for any CI/workflow file |
//! | `testCoverage` | 0–10 | `10 · min(1, log10(1 + code) / log10(501)) · (1 − min(1, 2·tests / code))` (changed lines) |
//!
//! `score = min(100, Σ points)`; `level`: low < 30 ≤ medium < 60 ≤ high < 80 ≤ critical;
//! `reasons` = the details of the three largest non-zero components. Adding a sensitive
//! file never lowers the score (property-tested). Full rules: [`pr_risk`].
//!
//! # Flakiness score
//!
//! `0.40·R + 0.40·D + 0.20·B·R`, halved for broken tests, where `R = min(1, flipRate /
//! (2p(1−p)))` (do failures look random?), `D = 1 − 0.5^max(mixedOutcomeCommits,
//! retryPasses)` (direct proof) and `B = 1 − |2p − 1|` (closeness to 50 %). Details and
//! the streak guarantee: [`flaky`].
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod flaky;
pub mod glob;
pub mod junit;
pub mod pr_risk;
pub mod signature;

pub use flaky::{Classification, FlakyCandidate, Observation, Rollup, rank};
pub use junit::{JunitError, Limits, Status, TestResult};
pub use pr_risk::{FileChange, PrInput, RiskLevel, RiskReport, SensitivePaths};
pub use signature::{SignatureError, verify_github_signature};
