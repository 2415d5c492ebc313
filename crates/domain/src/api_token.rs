//! API tokens for the JSON API (`/api/v1`): their names, their format, and the hash
//! that is all the database keeps.
//!
//! A token is `hnd_` followed by 43 characters of base64url: 32 random bytes (256 bits).
//! The prefix makes a leaked token recognizable (secret scanners, logs); the database
//! keeps the lowercase hex SHA-256 of the whole token and its first 8 characters
//! (`hnd_` + 4) so an operator can tell tokens apart in `handoff api-token list`.
//!
//! Tokens are looked up by their hash through a unique index, never compared byte by
//! byte, so no constant-time comparison is needed: timing can at most reveal how a
//! guess's *hash* relates to stored hashes, and finding a token with a given hash
//! prefix is as hard as inverting SHA-256. 256 random bits make guessing hopeless, so
//! a fast unsalted hash is enough (slow password hashes guard low-entropy secrets).

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use uuid::Uuid;

/// What every token starts with.
pub const TOKEN_PREFIX: &str = "hnd_";
/// How many random bytes a token carries.
pub const TOKEN_BYTES: usize = 32;
/// The token's length: the prefix and 43 base64url characters (no padding).
const TOKEN_LEN: usize = 4 + 43;
/// How many leading characters of a token are stored to tell tokens apart.
const SHOWN_LEN: usize = 8;

/// A freshly made token: the secret (shown to the operator once) and what is stored.
pub struct NewApiToken {
    pub token: SecretString,
    /// Lowercase hex SHA-256 of the token.
    pub hash: String,
    /// The token's first characters, e.g. `hnd_ab12`.
    pub prefix: String,
}

/// The operating system's random number generator failed.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the system's random number generator is unavailable")]
pub struct NoRandomness;

impl NewApiToken {
    /// A fresh token from the operating system's random number generator.
    pub fn generate() -> Result<Self, NoRandomness> {
        use ring::rand::SecureRandom;
        let mut random = [0u8; TOKEN_BYTES];
        ring::rand::SystemRandom::new().fill(&mut random).map_err(|_| NoRandomness)?;
        Ok(Self::from_random(&random))
    }

    /// A token made of `random` (which must come from a cryptographic RNG).
    pub fn from_random(random: &[u8; TOKEN_BYTES]) -> Self {
        let token = format!("{TOKEN_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random));
        let hash = token_hash(&token);
        let prefix = token[..SHOWN_LEN].to_owned();
        Self {
            token: SecretString::from(token),
            hash,
            prefix,
        }
    }
}

impl fmt::Debug for NewApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewApiToken").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

/// The stored form of a token: lowercase hex SHA-256.
pub fn token_hash(token: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `presented` has the shape of a token; anything else is refused without
/// asking the database.
pub fn is_well_formed(presented: &SecretString) -> bool {
    let s = presented.expose_secret();
    s.len() == TOKEN_LEN
        && s.starts_with(TOKEN_PREFIX)
        && s[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The operator's label for a token (`zapier`, `billing-sync`). It names the token in
/// the activity trail (`api:<name>`), so it is unique among all tokens ever made,
/// revoked ones included, and limited to characters that read well there.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ApiTokenName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiTokenNameError {
    #[error("an API token needs a name")]
    Empty,
    #[error("`{0}` is longer than 64 characters")]
    TooLong(String),
    #[error("`{0}` may contain only letters, digits, `.`, `-` and `_`, and must start with a letter or digit")]
    BadCharacters(String),
}

impl ApiTokenName {
    pub fn parse(s: &str) -> Result<Self, ApiTokenNameError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ApiTokenNameError::Empty);
        }
        if s.chars().count() > 64 {
            return Err(ApiTokenNameError::TooLong(s.to_owned()));
        }
        let first_ok = s.starts_with(|c: char| c.is_ascii_alphanumeric());
        let rest_ok = s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !(first_ok && rest_ok) {
            return Err(ApiTokenNameError::BadCharacters(s.to_owned()));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApiTokenName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ApiTokenName {
    type Err = ApiTokenNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A stored token as operators see it: never the token, never its hash.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// The activity trail's `source` for what this token does.
    pub fn activity_source(&self) -> String {
        format!("api:{}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_the_prefix_and_43_base64url_characters_stored_as_its_sha256() {
        let t = NewApiToken::from_random(&[0xfb; TOKEN_BYTES]);
        let s = t.token.expose_secret();
        assert_eq!(s.len(), 47);
        assert!(s.starts_with("hnd_-"), "base64url, not base64: {s}");
        assert!(is_well_formed(&t.token));
        assert_eq!(t.prefix, &s[..8]);
        assert_eq!(t.hash, token_hash(s));
        assert_eq!(t.hash.len(), 64);
        assert!(!format!("{t:?}").contains(s), "Debug does not reveal the token");
    }

    #[test]
    fn generated_tokens_differ() {
        let (a, b) = (NewApiToken::generate().unwrap(), NewApiToken::generate().unwrap());
        assert_ne!(a.token.expose_secret(), b.token.expose_secret());
        assert!(is_well_formed(&a.token));
    }

    #[test]
    fn the_hash_is_the_known_sha256() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn malformed_tokens_are_recognized_without_a_lookup() {
        let good = NewApiToken::from_random(&[7; TOKEN_BYTES]).token;
        let s = good.expose_secret();
        for bad in [
            String::new(),
            s[..46].to_owned(),
            format!("{s}x"),
            s.replacen("hnd_", "xyz_", 1),
            format!("hnd_{}", "=".repeat(43)),
        ] {
            assert!(!is_well_formed(&SecretString::from(bad.clone())), "{bad}");
        }
    }

    #[test]
    fn names_are_trimmed_and_restricted() {
        assert_eq!(ApiTokenName::parse(" zapier ").unwrap().as_str(), "zapier");
        assert!(ApiTokenName::parse("billing-sync.v2_1").is_ok());
        assert_eq!(ApiTokenName::parse("  "), Err(ApiTokenNameError::Empty));
        assert!(matches!(ApiTokenName::parse("two words"), Err(ApiTokenNameError::BadCharacters(_))));
        assert!(matches!(ApiTokenName::parse("-x"), Err(ApiTokenNameError::BadCharacters(_))));
        assert!(matches!(ApiTokenName::parse(&"a".repeat(65)), Err(ApiTokenNameError::TooLong(_))));
    }
}
