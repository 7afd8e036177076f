//! SMTP delivery with lettre (STARTTLS by default; implicit TLS or plain on request).

use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{MailError, OutgoingMail, SendFuture, Transport};
use crate::config::{Settings, SmtpTls};

pub struct SmtpTransport {
    inner: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpTransport {
    pub fn new(settings: &Settings) -> anyhow::Result<SmtpTransport> {
        let host = settings
            .smtp_host
            .clone()
            .ok_or_else(|| anyhow::anyhow!("SMTP_HOST is required when EMAIL_ENABLED=true"))?;
        let mut builder = match settings.smtp_tls {
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host)?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&host)?,
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host),
        }
        .port(settings.smtp_port)
        .timeout(Some(Duration::from_secs(20)));
        if let (Some(user), Some(pass)) = (&settings.smtp_user, &settings.smtp_pass) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                String::from_utf8_lossy(pass.expose()).into_owned(),
            ));
        }
        Ok(SmtpTransport {
            inner: builder.build(),
        })
    }
}

impl Transport for SmtpTransport {
    fn send<'a>(&'a self, message: &'a Message, _mail: &'a OutgoingMail) -> SendFuture<'a> {
        Box::pin(async move {
            match self.inner.send(message.clone()).await {
                Ok(_) => Ok(()),
                Err(e) if e.is_permanent() => Err(MailError::Permanent(e.to_string())),
                Err(e) => Err(MailError::Transient(e.to_string())),
            }
        })
    }

    fn name(&self) -> &'static str {
        "smtp"
    }
}
