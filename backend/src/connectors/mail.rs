//! Outgoing mail over SMTP (`lettre`, rustls): password-reset links today, the inbox's email
//! channel later. Configured by `MAVERICK_SMTP_URL` and `MAVERICK_MAIL_FROM`
//! (`platform::config::MailSettings`); without them there is no mailer and callers say so.

use lettre::{
    message::{header::ContentType, Mailbox},
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

use crate::platform::config::MailSettings;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("MAVERICK_SMTP_URL is not a usable SMTP URL ({0}): use smtps://user:pass@host:465 or smtp://user:pass@host:587?tls=required")]
    BadUrl(String),
    #[error("MAVERICK_SMTP_URL sends a password without TLS to {0}: use smtps://…:465 or add ?tls=required (plain smtp:// is for a relay on this machine)")]
    PlainPassword(String),
    #[error("MAVERICK_MAIL_FROM {0:?} is not a mail address: use e.g. \"Maverick <noreply@agency.com>\"")]
    BadFrom(String),
    #[error("{0:?} is not a mail address")]
    BadRecipient(String),
    #[error("the SMTP server did not take the message: {0}. Check MAVERICK_SMTP_URL (host, port, user, password) and that the server accepts MAVERICK_MAIL_FROM as sender")]
    Send(String),
}

/// One SMTP transport (it pools its connections); cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mailer(from: {})", self.from)
    }
}

impl Mailer {
    /// The configured mailer, or `None` when `MAVERICK_SMTP_URL` is not set.
    pub fn from_settings(settings: &MailSettings) -> Result<Option<Mailer>, MailError> {
        let Some(url) = settings.smtp_url.as_deref() else { return Ok(None) };
        let parsed = url::Url::parse(url).map_err(|e| MailError::BadUrl(e.to_string()))?;
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let tls = parsed.scheme() == "smtps" || parsed.query_pairs().any(|(k, v)| k == "tls" && v == "required");
        let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !tls && !parsed.password().unwrap_or_default().is_empty() && !loopback {
            return Err(MailError::PlainPassword(host));
        }
        let from_raw = settings.from.as_deref().unwrap_or_default();
        let from: Mailbox = from_raw.parse().map_err(|_| MailError::BadFrom(from_raw.to_owned()))?;
        // lettre's own error text may quote the URL: never pass it on.
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| MailError::BadUrl("lettre could not read it".into()))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        Ok(Some(Mailer { transport, from }))
    }

    /// Sends a plain-text message to one recipient.
    pub async fn send_text(&self, to: &str, subject: &str, body: String) -> Result<(), MailError> {
        let to: Mailbox = to.parse().map_err(|_| MailError::BadRecipient(to.to_owned()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| MailError::Send(e.to_string()))?;
        self.transport.send(message).await.map_err(|e| MailError::Send(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str, from: &str) -> MailSettings {
        MailSettings { smtp_url: Some(url.into()), from: Some(from.into()) }
    }

    #[tokio::test]
    async fn settings_that_cannot_work_are_refused_with_what_to_fix() {
        assert!(Mailer::from_settings(&MailSettings::default()).unwrap().is_none(), "no SMTP: no mailer");
        let from = "Maverick <noreply@agency.test>";
        for ok in ["smtps://u:p@mail.example:465", "smtp://u:p@mail.example:587?tls=required", "smtp://u:p@127.0.0.1:25", "smtp://relay.example:25"] {
            assert!(Mailer::from_settings(&settings(ok, from)).unwrap().is_some(), "{ok}");
        }
        let err = Mailer::from_settings(&settings("smtp://u:secret@mail.example:587", from)).unwrap_err().to_string();
        assert!(err.contains("without TLS") && err.contains("?tls=required") && !err.contains("secret"), "{err}");
        let err = Mailer::from_settings(&settings("smtps://u:p@mail.example", "not an address")).unwrap_err().to_string();
        assert!(err.contains("MAVERICK_MAIL_FROM"), "{err}");
    }
}
