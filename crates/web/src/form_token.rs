//! A session's form token: an HMAC of a fixed label keyed with the session's secret
//! id, so it needs no storage and changes with every sign-in. The session puts it in
//! every page's forms; [`super::csrf`] checks it on every state-changing request.

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

const LABEL: &[u8] = b"handoff portal form token v1";

/// The form token of the session whose secret id is `session_secret`.
pub fn token_for(session_secret: &SecretString) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, session_secret.expose_secret().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(ring::hmac::sign(&key, LABEL).as_ref())
}

/// Whether `presented` is the session's token, compared in constant time.
pub fn verify(session_secret: &SecretString, presented: &str) -> bool {
    let expected = token_for(session_secret);
    expected.len() == presented.len() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_belongs_to_one_session() {
        let a = SecretString::from("session-a");
        let b = SecretString::from("session-b");
        let token = token_for(&a);
        assert_eq!(token.len(), 43);
        assert!(verify(&a, &token));
        assert!(!verify(&b, &token));
        assert!(!verify(&a, ""));
        assert!(!verify(&a, &token[..42]));
    }
}
