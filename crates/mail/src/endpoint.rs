//! Reading `HANDOFF_SMTP_URL` into where and how to connect.
//!
//! The rules, chosen so that a typo never sends a password in clear over a network:
//! - `smtps://host[:465]`: implicit TLS (the connection starts with a TLS handshake).
//! - `smtp://host[:587]`: STARTTLS is *required*; a server that does not offer it fails
//!   the send instead of receiving the message in clear.
//! - `smtp://` to a loopback host (`localhost`, 127.0.0.0/8, `::1`), or any host with
//!   `?tls=none`: plain SMTP. Meant for a local relay or a capture in development.
//! - `?tls=required` may be written out; other `tls` values are refused, in particular
//!   "opportunistic", which an attacker can downgrade.
//! - `user:password@` gives the AUTH credentials, percent-decoded.

use std::fmt;
use std::net::IpAddr;

use secrecy::{ExposeSecret, SecretString};

use super::MailError;

const SUBMISSION_PORT: u16 = 587;
const SUBMISSIONS_PORT: u16 = 465;
/// Plain SMTP defaults to port 25 only when it is explicitly plain.
const SMTP_PORT: u16 = 25;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// No TLS at all.
    Plain,
    /// Upgrade with STARTTLS, and fail if the server cannot.
    StartTls,
    /// TLS from the first byte (SMTPS).
    ImplicitTls,
}

/// A parsed SMTP URL. Its `Debug` shows the user name but never the password.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<(String, SecretString)>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    pub fn parse(url: &SecretString) -> Result<Self, MailError> {
        // url's parse errors describe the problem, never echo the input.
        let url = url::Url::parse(url.expose_secret().trim()).map_err(|e| MailError::InvalidUrl(e.to_string()))?;
        let (host, loopback) = match url.host() {
            // smtp: is not a "special" scheme to `url`, so IPv4 addresses arrive as names.
            Some(url::Host::Domain(name)) => {
                let loopback = name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
                (name.to_owned(), loopback)
            }
            Some(url::Host::Ipv4(ip)) => (ip.to_string(), IpAddr::V4(ip).is_loopback()),
            // Without brackets: this is handed to the resolver, not put in a URL.
            Some(url::Host::Ipv6(ip)) => (ip.to_string(), IpAddr::V6(ip).is_loopback()),
            None => return Err(MailError::InvalidUrl("it has no host".into())),
        };
        let tls = url.query_pairs().find(|(key, _)| key == "tls").map(|(_, value)| value);
        let security = match (url.scheme(), tls.as_deref()) {
            ("smtps", None | Some("required")) => Security::ImplicitTls,
            ("smtp", None) if loopback => Security::Plain,
            ("smtp", None | Some("required")) => Security::StartTls,
            ("smtp", Some("none")) => Security::Plain,
            ("smtp" | "smtps", Some(other)) => {
                return Err(MailError::InvalidUrl(format!(
                    "tls={other} is not supported (use tls=required or, for smtp://, tls=none)"
                )));
            }
            (scheme, _) => return Err(MailError::InvalidUrl(format!("the scheme must be smtp or smtps, not {scheme}"))),
        };
        let port = url.port().unwrap_or(match security {
            Security::Plain => SMTP_PORT,
            Security::StartTls => SUBMISSION_PORT,
            Security::ImplicitTls => SUBMISSIONS_PORT,
        });
        let credentials = if url.username().is_empty() {
            None
        } else {
            let user = decode(url.username(), "user name")?;
            let password = decode(url.password().unwrap_or_default(), "password")?;
            Some((user, SecretString::from(password)))
        };
        Ok(Self {
            host,
            port,
            security,
            credentials,
        })
    }
}

fn decode(raw: &str, what: &str) -> Result<String, MailError> {
    percent_decode(raw).ok_or_else(|| MailError::InvalidUrl(format!("the {what} is not valid percent-encoded UTF-8")))
}

/// `url` keeps user info percent-encoded; AUTH needs the real characters.
fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// For messages about the endpoint, e.g. in `Mailer`'s `Debug`.
impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Plain => "plain",
            Self::StartTls => "starttls",
            Self::ImplicitTls => "tls",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<Endpoint, MailError> {
        Endpoint::parse(&SecretString::from(url.to_owned()))
    }

    #[test]
    fn smtp_to_a_remote_host_requires_starttls_on_the_submission_port() {
        let e = parse("smtp://mail.example.com").unwrap();
        assert_eq!((e.security, e.port), (Security::StartTls, 587));
    }

    #[test]
    fn smtp_to_loopback_is_plain() {
        for url in ["smtp://127.0.0.1:1025", "smtp://localhost:1025", "smtp://[::1]:1025"] {
            let e = parse(url).unwrap();
            assert_eq!(e.security, Security::Plain, "{url}");
            assert_eq!(e.port, 1025);
        }
        assert_eq!(parse("smtp://[::1]:25").unwrap().host, "::1");
    }

    #[test]
    fn tls_none_makes_a_remote_host_plain_and_tls_required_a_loopback_one_starttls() {
        assert_eq!(parse("smtp://relay.internal?tls=none").unwrap().security, Security::Plain);
        assert_eq!(parse("smtp://127.0.0.1?tls=required").unwrap().security, Security::StartTls);
    }

    #[test]
    fn smtps_is_implicit_tls_on_port_465() {
        let e = parse("smtps://mail.example.com").unwrap();
        assert_eq!((e.security, e.port), (Security::ImplicitTls, 465));
        assert!(parse("smtps://mail.example.com?tls=none").is_err());
    }

    #[test]
    fn opportunistic_tls_and_other_schemes_are_refused() {
        assert!(parse("smtp://mail.example.com?tls=opportunistic").is_err());
        assert!(parse("http://mail.example.com").is_err());
    }

    #[test]
    fn credentials_are_percent_decoded() {
        let e = parse("smtp://me%40example.com:p%40ss%3Aw0rd@mail.example.com").unwrap();
        let (user, password) = e.credentials.unwrap();
        assert_eq!(user, "me@example.com");
        assert_eq!(password.expose_secret(), "p@ss:w0rd");
    }

    #[test]
    fn errors_and_debug_never_show_the_password() {
        let e = parse("smtp://me:hunter2@mail.example.com").unwrap();
        assert!(!format!("{e:?}").contains("hunter2"));
        let err = parse("smtp://me:hunter2@mail.example.com?tls=maybe").unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
        assert!(!format!("{err:?}").contains("hunter2"));
    }
}
