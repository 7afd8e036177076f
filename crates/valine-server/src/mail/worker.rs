//! The outbox worker: leases due messages, delivers them, and reschedules failures with
//! exponential backoff (capped at `MAIL_RETRY_MAX_MS`, 30 s by default). Safe to run on
//! every instance: a message is leased by one worker at a time.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use valine_store::outbox::OutboxRow;

use super::{MailError, OutgoingMail, Transport, build_message};
use crate::state::AppState;

/// How long a claimed message is reserved for its worker. Longer than the SMTP timeout,
/// so a live worker never loses its lease mid-send.
const LEASE_MS: i64 = 120_000;
const BATCH: i64 = 16;

/// The delay before attempt `attempts + 1`.
pub fn backoff_ms(attempts: i64, base_ms: u64, max_ms: u64) -> i64 {
    let exp = u32::try_from(attempts.clamp(0, 30)).unwrap_or(30);
    let delay = base_ms.saturating_mul(1u64 << exp).min(max_ms);
    i64::try_from(delay).unwrap_or(i64::MAX)
}

pub async fn run(state: AppState, transport: Arc<dyn Transport>, mut stop: watch::Receiver<bool>) {
    let poll = Duration::from_millis(state.settings.mail_poll_interval_ms);
    tracing::info!(transport = transport.name(), "mail worker started");
    loop {
        let now = valine_store::now_ms();
        let claimed = match state.store.claim_due_mail(now, now + LEASE_MS, BATCH).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "mail worker could not claim messages");
                Vec::new()
            }
        };
        let full_batch = claimed.len() == usize::try_from(BATCH).unwrap_or(16);
        for row in claimed {
            deliver(&state, transport.as_ref(), row).await;
        }
        state.metrics.refresh_mail_depth(&state.store).await;
        if full_batch {
            continue;
        }
        tokio::select! {
            _ = state.mail_notify.notified() => {}
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
    }
    tracing::info!("mail worker stopped");
}

async fn deliver(state: &AppState, transport: &dyn Transport, row: OutboxRow) {
    let mail = OutgoingMail {
        id: row.id.clone(),
        to: row.recipient.clone(),
        subject: row.subject.clone(),
        text: row.text_body.clone(),
        html: row.html_body.clone(),
    };
    let result = match build_message(&state.settings.from_email, &mail) {
        Ok(message) => transport.send(&message, &mail).await,
        Err(e) => Err(e),
    };
    let s = &state.settings;
    let outcome = match result {
        Ok(()) => {
            tracing::info!(mail_id = %row.id, kind = %row.kind, "mail delivered");
            state.metrics.mail_sent.inc();
            state
                .store
                .mark_mail_sent(&row.id, valine_store::now_ms())
                .await
        }
        Err(MailError::Transient(e)) if row.attempts + 1 < i64::from(s.mail_max_attempts) => {
            let delay = backoff_ms(row.attempts, s.mail_retry_base_ms, s.mail_retry_max_ms);
            tracing::warn!(mail_id = %row.id, attempt = row.attempts + 1, retry_in_ms = delay, error = %e, "mail delivery failed; will retry");
            state.metrics.mail_retries.inc();
            state
                .store
                .mark_mail_retry(&row.id, valine_store::now_ms() + delay, &e)
                .await
        }
        Err(e) => {
            tracing::error!(mail_id = %row.id, error = %e, "mail delivery failed permanently");
            state.metrics.mail_failed.inc();
            state.store.mark_mail_failed(&row.id, &e.to_string()).await
        }
    };
    if let Err(e) = outcome {
        // The lease expires and another attempt happens; the message is not lost.
        tracing::error!(mail_id = %row.id, error = %e, "could not record mail outcome");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(super::backoff_ms(0, 1000, 30_000), 1000);
        assert_eq!(super::backoff_ms(1, 1000, 30_000), 2000);
        assert_eq!(super::backoff_ms(4, 1000, 30_000), 16_000);
        assert_eq!(super::backoff_ms(5, 1000, 30_000), 30_000);
        assert_eq!(super::backoff_ms(500, 1000, 30_000), 30_000);
        assert_eq!(super::backoff_ms(-3, 1000, 30_000), 1000);
    }
}
