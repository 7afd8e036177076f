//! Internal tooling for platform engineers (SPEC §9–§11, §16): API keys, PR risk
//! intelligence, flaky-test detection and the rollout statistics. Domain logic only; the
//! routes under `routes::internal` adapt it to HTTP and the store persists it. The pure
//! scoring lives in the `valine-ci` crate.

pub mod api_keys;
pub mod journey;
pub mod metrics;
pub mod pr_intel;
pub mod schema;
pub mod stats;
pub mod tests;

use valine_store::Store;
use valine_store::security_events::NewSecurityEvent;

/// Records an internal write in the audit log under the acting key's name. Best effort:
/// the write itself has already been committed, so a failed audit insert is logged, not
/// turned into an error the client would retry.
pub async fn audit(store: &Store, actor: &str, event_type: &str, metadata: serde_json::Value) {
    let metadata = metadata.to_string();
    let recorded = store
        .record_event(&NewSecurityEvent {
            user_id: None,
            event_type,
            at: valine_store::now_ms(),
            ip_address: None,
            user_agent: None,
            actor: Some(actor),
            metadata: &metadata,
        })
        .await;
    if let Err(e) = recorded {
        tracing::error!(error = %e, event_type, "could not record internal audit event");
    }
}
