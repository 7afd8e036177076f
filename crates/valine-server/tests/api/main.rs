//! The one integration-test binary: real server on 127.0.0.1:0, real HTTP.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod accounts;
mod content;
mod csrf;
mod email;
mod flaky;
mod internal_keys;
mod journey;
mod media;
mod ops;
mod pr_intel;
mod rate_limits;
mod robustness;
mod schema;
mod secrets;
mod two_factor;
