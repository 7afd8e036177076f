//! Shared application state handed to every handler.

use std::sync::Arc;

use valine_store::Store;

use crate::config::Settings;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    /// The OpenAPI document, serialised once at start.
    pub openapi_json: Arc<String>,
}
