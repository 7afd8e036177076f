//! HTTP plumbing shared by every route: layers and extractors.

pub mod api_key;
pub mod auth;
pub mod client;
pub mod errors;
pub mod extract;
pub mod headers;
pub mod metrics;
pub mod request_id;
