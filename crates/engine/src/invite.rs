//! Invitation links: a 256-bit random token, of which the database keeps only the
//! SHA-256. The token itself is sealed (AES-256-GCM, bound to the invitation id) into
//! the outbox row that emails it, so a crash between commit and send loses nothing and
//! a stolen database copy holds no usable link.
//!
//! The link is `{base_url}/invite/{token}`: opening it shows a confirmation page whose
//! button (a POST) signs in, so mail scanners that follow links do not burn it (#6).

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};

use handoff_domain::plan::NewInvitation;
use handoff_store::sealed::{SealError, Sealer};

/// How long an invitation link works unless configured otherwise.
pub const DEFAULT_VALIDITY: Duration = Duration::days(7);

/// The hash stored for a token: lowercase hex SHA-256.
pub fn token_hash(token: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a link signs in to: a customer's invitation to the portal, or a staff member's
/// emailed sign-in to the console. Each seals its token for its own purpose, so one
/// kind's sealed token never opens as the other's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    Invitation,
    ConsoleSignIn,
}

impl LinkKind {
    fn purpose(self, id: uuid::Uuid) -> String {
        match self {
            LinkKind::Invitation => format!("invitation:{id}"),
            LinkKind::ConsoleSignIn => format!("console-link:{id}"),
        }
    }
}

fn purpose(id: uuid::Uuid) -> String {
    LinkKind::Invitation.purpose(id)
}

/// A fresh invitation expiring `validity` after `now`.
pub fn new_invitation(sealer: &Sealer, now: DateTime<Utc>, validity: Duration) -> Result<NewInvitation, SealError> {
    new_link(LinkKind::Invitation, sealer, now, validity)
}

/// A fresh link of `kind` expiring `validity` after `now`.
pub fn new_link(kind: LinkKind, sealer: &Sealer, now: DateTime<Utc>, validity: Duration) -> Result<NewInvitation, SealError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).map_err(|_| SealError::Seal("no randomness"))?;
    let token = SecretString::from(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
    let id = uuid::Uuid::now_v7();
    Ok(NewInvitation {
        id,
        token_hash: token_hash(token.expose_secret()),
        sealed_token: sealer.seal(&kind.purpose(id), &token)?,
        expires_at: now + validity,
    })
}

/// The token of an invitation, from its outbox row, for the email.
pub fn unseal_token(sealer: &Sealer, id: uuid::Uuid, sealed: &str) -> Result<SecretString, SealError> {
    sealer.open(&purpose(id), sealed)
}

/// The token of a link of `kind`, from its outbox row.
pub fn unseal_link(kind: LinkKind, sealer: &Sealer, id: uuid::Uuid, sealed: &str) -> Result<SecretString, SealError> {
    sealer.open(&kind.purpose(id), sealed)
}

/// The console sign-in link sent by email: its page asks to confirm, like an invitation's.
pub fn console_link_url(base_url: &url::Url, token: &SecretString) -> String {
    format!("{}/console/link/{}", base_url.as_str().trim_end_matches('/'), token.expose_secret())
}

/// The sign-in link sent by email.
pub fn sign_in_url(base_url: &url::Url, token: &SecretString) -> String {
    format!("{}/invite/{}", base_url.as_str().trim_end_matches('/'), token.expose_secret())
}

#[cfg(test)]
mod tests {
    use super::*;
    use handoff_config::Config;

    fn sealer() -> Sealer {
        let env = [(
            "HANDOFF_MASTER_KEY".to_owned(),
            "dGVzdC1vbmx5LW1hc3Rlci1rZXktMzItYnl0ZXMhISE=".to_owned(),
        )];
        Sealer::new(Config::load(None, env).unwrap().config.secrets.master_key.as_ref()).unwrap()
    }

    #[test]
    fn a_token_is_256_random_bits_stored_only_as_its_hash_and_sealed() {
        let s = sealer();
        let now = Utc::now();
        let inv = new_invitation(&s, now, DEFAULT_VALIDITY).unwrap();
        let token = unseal_token(&s, inv.id, &inv.sealed_token).unwrap();
        assert_eq!(token.expose_secret().len(), 43, "32 bytes, base64url without padding");
        assert_eq!(token_hash(token.expose_secret()), inv.token_hash);
        assert!(!inv.sealed_token.contains(token.expose_secret()));
        assert_eq!(inv.expires_at, now + DEFAULT_VALIDITY);
        let other = new_invitation(&s, now, DEFAULT_VALIDITY).unwrap();
        assert_ne!(other.token_hash, inv.token_hash);
    }

    #[test]
    fn a_sealed_token_opens_only_for_its_own_invitation() {
        let s = sealer();
        let a = new_invitation(&s, Utc::now(), DEFAULT_VALIDITY).unwrap();
        let b = new_invitation(&s, Utc::now(), DEFAULT_VALIDITY).unwrap();
        assert!(unseal_token(&s, b.id, &a.sealed_token).is_err());
    }

    #[test]
    fn the_link_points_at_the_confirmation_page() {
        let url = sign_in_url(&"https://onboard.example.com/".parse().unwrap(), &SecretString::from("abc"));
        assert_eq!(url, "https://onboard.example.com/invite/abc");
    }
}
