//! HubSpot request signatures (HubSpot's "Validate requests" guide): v1, v2 and v3, plus a v3 verifier.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// How far a v3 timestamp may lag behind the clock.
pub const MAX_AGE_MS: i64 = 300_000;

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// v1: hex(SHA-256(secret + body)).
pub fn v1(secret: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(secret.as_bytes());
    h.update(body);
    hex(&h.finalize())
}

/// v2: hex(SHA-256(secret + method + uri + body)).
pub fn v2(secret: &str, method: &str, uri: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    for part in [secret.as_bytes(), method.as_bytes(), uri.as_bytes(), body] {
        h.update(part);
    }
    hex(&h.finalize())
}

/// v3: base64(HMAC-SHA-256(secret, method + uri + body + timestamp)), over the URI with
/// HubSpot's listed escapes decoded.
pub fn v3(secret: &str, method: &str, uri: &str, body: &[u8], timestamp: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail; an empty tag would only fail verification.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    for part in [method.as_bytes(), decode_uri(uri).as_bytes(), body, timestamp.as_bytes()] {
        mac.update(part);
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Decodes only the escapes HubSpot's docs list, leaving everything else as sent.
pub fn decode_uri(uri: &str) -> String {
    const ESCAPES: [(&str, &str); 12] = [
        ("%3A", ":"),
        ("%2F", "/"),
        ("%3F", "?"),
        ("%40", "@"),
        ("%21", "!"),
        ("%24", "$"),
        ("%27", "'"),
        ("%28", "("),
        ("%29", ")"),
        ("%2A", "*"),
        ("%2C", ","),
        ("%3B", ";"),
    ];
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        match ESCAPES
            .iter()
            .find(|(e, _)| tail.get(..3).is_some_and(|t| t.eq_ignore_ascii_case(e)))
        {
            Some((e, c)) => {
                out.push_str(c);
                rest = &tail[e.len()..];
            }
            None => {
                out.push('%');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("timestamp is not a number")]
    BadTimestamp,
    #[error("timestamp is more than five minutes old")]
    Stale,
    #[error("timestamp is in the future")]
    FromTheFuture,
    #[error("signature does not match")]
    Mismatch,
}

/// Checks a v3 signature: constant-time comparison, stale and future timestamps rejected.
pub fn verify_v3(
    secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp: &str,
    signature: &str,
    now_ms: i64,
) -> Result<(), SignatureError> {
    let ts: i64 = timestamp.trim().parse().map_err(|_| SignatureError::BadTimestamp)?;
    if now_ms.saturating_sub(ts) > MAX_AGE_MS {
        return Err(SignatureError::Stale);
    }
    // A little slack for clocks that disagree by a few seconds.
    if ts.saturating_sub(now_ms) > 5_000 {
        return Err(SignatureError::FromTheFuture);
    }
    let expected = v3(secret, method, uri, body, timestamp);
    let same_len = expected.len() == signature.len();
    let diff = expected.bytes().zip(signature.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if same_len && diff == 0 {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Known answers computed with @hubspot/api-client 14.0.1's Signature.getSignature (js/vectors.js).
    const SECRET: &str = "handoff-sandbox-secret";
    const BODY: &[u8] = br#"[{"eventId":1,"subscriptionType":"deal.creation","objectId":3000000001}]"#;
    const URI: &str = "https://hooks.example.com/hubspot?portal=2026001";

    #[test]
    fn v1_matches_the_sdk_vector() {
        assert_eq!(v1(SECRET, BODY), "991e7f0e66a151cd4843a3db458bda1c82840a5da822b07bf610e82104288991");
    }

    #[test]
    fn v2_matches_the_sdk_vector() {
        assert_eq!(
            v2(SECRET, "POST", URI, BODY),
            "cb967343e43aa35c3da3e1a4f8efa910a05ac47b15918204b8784d8e73558802"
        );
    }

    #[test]
    fn v3_matches_the_sdk_vector() {
        assert_eq!(
            v3(SECRET, "POST", URI, BODY, "1767603600000"),
            "YQhvOmnmune+3vfDTxsa7VRcureDru0SQVbNCHj2JXY="
        );
    }

    #[test]
    fn v3_verification_rejects_stale_future_and_tampered_requests() {
        let ts = "1767603600000";
        let sig = v3(SECRET, "POST", URI, BODY, ts);
        assert_eq!(verify_v3(SECRET, "POST", URI, BODY, ts, &sig, 1_767_603_600_000 + 1_000), Ok(()));
        assert_eq!(
            verify_v3(SECRET, "POST", URI, BODY, ts, &sig, 1_767_603_600_000 + 300_001),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify_v3(SECRET, "POST", URI, BODY, ts, &sig, 1_767_603_600_000 - 60_000),
            Err(SignatureError::FromTheFuture)
        );
        assert_eq!(
            verify_v3(SECRET, "POST", URI, b"[]", ts, &sig, 1_767_603_600_000),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn listed_escapes_are_decoded_and_others_kept() {
        assert_eq!(decode_uri("https://h/p%3Fa%3Ab%20c"), "https://h/p?a:b%20c");
    }
}
