//! HTTP plumbing shared by every route: layers and extractors.

pub mod api_key;
pub mod auth;
pub mod client;
pub mod csrf;
pub mod errors;
pub mod extract;
pub mod headers;
pub mod metrics;
pub mod rate_limit;
pub mod request_id;
pub mod verified;
