//! Outgoing mail: templates, transports behind one trait (SMTP via lettre, or `.eml`
//! files), and the outbox worker that delivers with retries.

pub mod file;
pub mod smtp;
pub mod templates;
pub mod worker;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use lettre::Message;
use lettre::message::{Mailbox, MultiPart, header::MessageId};

use crate::config::Settings;

/// A message ready to send: one row of the outbox.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Worth retrying (server down, timeout, 4xx reply).
    #[error("transient: {0}")]
    Transient(String),
    /// Retrying cannot help (bad address, 5xx rejection of the recipient).
    #[error("permanent: {0}")]
    Permanent(String),
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), MailError>> + Send + 'a>>;

/// Where mail goes.
pub trait Transport: Send + Sync {
    fn send<'a>(&'a self, message: &'a Message, mail: &'a OutgoingMail) -> SendFuture<'a>;
    fn name(&self) -> &'static str;
}

/// Builds the RFC 5322 message (text + HTML alternatives) for `mail`.
pub fn build_message(from: &str, mail: &OutgoingMail) -> Result<Message, MailError> {
    let from: Mailbox = from
        .parse()
        .map_err(|e| MailError::Permanent(format!("bad FROM_EMAIL: {e}")))?;
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|e| MailError::Permanent(format!("bad recipient address: {e}")))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject.clone())
        .header(MessageId::from(format!("<{}@valine>", mail.id)))
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|e| MailError::Permanent(format!("cannot build message: {e}")))
}

/// The transport the settings ask for.
pub fn transport(settings: &Settings) -> anyhow::Result<Arc<dyn Transport>> {
    if settings.email_enabled {
        Ok(Arc::new(smtp::SmtpTransport::new(settings)?))
    } else {
        Ok(Arc::new(file::FileTransport::new(
            settings.mail_outbox_dir.clone(),
        )))
    }
}
