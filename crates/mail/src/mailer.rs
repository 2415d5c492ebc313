//! The SMTP client: one connection per email, bounded by a timeout.

use std::fmt;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;

use super::endpoint::{Endpoint, Security};
use super::{MailError, OutgoingEmail};
use handoff_config::SmtpConfig;

/// Sends emails over SMTP as configured by `HANDOFF_SMTP_URL` and `smtp.from`; see
/// src/mail/endpoint.rs for how the URL picks TLS. Cheap to share behind an `Arc`.
///
/// No connection pool: lettre's pool starts a background task when it is built, which
/// would tie construction to a running runtime. A connection per email is fine for
/// invitations; pooling can come when volume asks for it.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    endpoint: Endpoint,
    timeout: Duration,
}

impl Mailer {
    /// Long enough for a slow relay with greylisting checks, short enough that a hung
    /// server does not hold an outbox worker.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

    /// Fails if email is not configured or the URL or From address is invalid.
    pub fn new(config: &SmtpConfig, timeout: Duration) -> Result<Self, MailError> {
        let url = config.url.as_ref().ok_or(MailError::NotConfigured)?;
        let endpoint = Endpoint::parse(url)?;
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::InvalidFrom {
                from: config.from.clone(),
                reason: e.to_string(),
            })?;
        // Our own call for the workspace's provider choice; lettre would otherwise pick
        // ring itself, which is the same, but this keeps one place deciding.
        crm_http::install_crypto_provider();

        let tls = |host: &str| TlsParameters::new(host.to_owned()).map_err(|e| MailError::Tls(e.to_string()));
        let security = match endpoint.security {
            Security::Plain => Tls::None,
            Security::StartTls => Tls::Required(tls(&endpoint.host)?),
            Security::ImplicitTls => Tls::Wrapper(tls(&endpoint.host)?),
        };
        // `builder_dangerous` only means "no TLS chosen yet": `tls` is set just below.
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(endpoint.host.clone())
            .port(endpoint.port)
            .tls(security)
            .timeout(Some(timeout))
            .hello_name(hello_name(&from));
        if let Some((user, password)) = &endpoint.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.expose_secret().to_owned()));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            endpoint,
            timeout,
        })
    }

    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// How the connection is protected, e.g. for `handoff check` to report.
    pub fn security(&self) -> Security {
        self.endpoint.security
    }

    /// Sends one email. `Ok` means the server accepted it (250 after DATA). On error,
    /// [`MailError::is_transient`] says whether a retry may succeed.
    pub async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        let message = email.to_message(&self.from)?;
        // lettre's timeout bounds each network step; this one bounds the whole exchange,
        // so a server that trickles replies cannot hold the caller forever.
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Err(_elapsed) => Err(MailError::Timeout(self.timeout)),
            Ok(Err(e)) => Err(MailError::from_smtp(&e, self.timeout)),
            Ok(Ok(_response)) => Ok(()),
        }
    }
}

/// lettre would say EHLO [127.0.0.1] without the `hostname` feature; the From domain
/// is the name this application sends as, which servers find more plausible.
fn hello_name(from: &Mailbox) -> ClientId {
    ClientId::Domain(from.email.domain().to_owned())
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Built by hand: lettre's transport would print its credentials.
        f.debug_struct("Mailer")
            .field("endpoint", &self.endpoint)
            .field("from", &self.from.to_string())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "smtp {}:{} ({})", self.endpoint.host, self.endpoint.port, self.endpoint.security)
    }
}
