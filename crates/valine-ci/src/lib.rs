//! Delivery intelligence for Valine: JUnit parsing, flaky-test scoring, PR risk and
//! webhook signature checks.
//!
//! A pure library: no I/O, no async, no global state. The server adapts it to HTTP and
//! storage.
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
