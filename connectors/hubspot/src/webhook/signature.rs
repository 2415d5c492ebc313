//! The three signature schemes of HubSpot's request validation (<https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation>) and a verifier that prefers v3.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{SIGNATURE_HEADER, SIGNATURE_V3_HEADER, SIGNATURE_VERSION_HEADER, SignatureError, SignatureVersion, TIMESTAMP_HEADER};

/// HubSpot's replay window for v3 signatures: older requests are refused.
pub const MAX_AGE: Duration = Duration::from_millis(300_000);

/// Default tolerance for timestamps ahead of our clock: future timestamps are refused
/// beyond this small allowance (PROTOCOLS B7 asks to refuse them), not at the first
/// millisecond. Why an allowance at all: HubSpot's clock and ours are each only as good
/// as their NTP, and a request stamped a few seconds "ahead" is an ordinary delivery
/// from a slightly faster clock; refusing it would bounce genuine events into HubSpot's
/// retry queue. Why a small one: the timestamp is signed, so only the secret's holder
/// can set it, and a request dated ahead stays replayable for the 5-minute window plus
/// this much; 30 s keeps that close to the window HubSpot documents.
const DEFAULT_FUTURE_SKEW: Duration = Duration::from_secs(30);

/// v1: `hex(SHA-256(secret + body))`, for webhook-API events.
pub fn sign_v1(client_secret: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(client_secret.as_bytes());
    hash.update(body);
    hex(&hash.finalize())
}

/// v2: `hex(SHA-256(secret + METHOD + URI + body))`, for workflow webhooks and CRM cards.
/// The URI is used exactly as given.
pub fn sign_v2(client_secret: &str, method: &str, uri: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [client_secret.as_bytes(), method.as_bytes(), uri.as_bytes(), body] {
        hash.update(part);
    }
    hex(&hash.finalize())
}

/// v3: `base64(HMAC-SHA256(secret, METHOD + URI + body + timestamp))`, where `uri` is
/// first passed through [`decode_uri`] and `timestamp_ms` is the header's literal text.
pub fn sign_v3(client_secret: &str, method: &str, uri: &str, body: &[u8], timestamp_ms: &str) -> String {
    let uri = decode_uri(uri);
    // HMAC takes keys of any length, so this never fails; an empty fallback keeps the
    // function total without a panic path.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(client_secret.as_bytes()) else {
        return String::new();
    };
    for part in [method.as_bytes(), uri.as_bytes(), body, timestamp_ms.as_bytes()] {
        mac.update(part);
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Decodes exactly the escapes HubSpot's request-validation docs list (`%3A` → `:`,
/// `%2F` → `/`, `%3F` → `?`, `%40` → `@`, `%21` → `!`, `%24` → `$`, `%27` → `'`,
/// `%28` → `(`, `%29` → `)`, `%2A` → `*`, `%2C` → `,`, `%3B` → `;`) and leaves every other
/// byte alone, so `%20` or `%26` stay encoded. Hex digits match in either case, since
/// RFC 3986 makes `%3a` and `%3A` the same escape.
pub fn decode_uri(uri: &str) -> String {
    let bytes = uri.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(decoded) = bytes.get(i + 1..i + 3).and_then(decodable)
        {
            out.push(decoded);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    // Only ASCII bytes were replaced by ASCII bytes, so the input's UTF-8 is intact.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn decodable(pair: &[u8]) -> Option<u8> {
    let upper = [pair[0].to_ascii_uppercase(), pair[1].to_ascii_uppercase()];
    Some(match &upper {
        b"3A" => b':',
        b"2F" => b'/',
        b"3F" => b'?',
        b"40" => b'@',
        b"21" => b'!',
        b"24" => b'$',
        b"27" => b'\'',
        b"28" => b'(',
        b"29" => b')',
        b"2A" => b'*',
        b"2C" => b',',
        b"3B" => b';',
        _ => return None,
    })
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn same(expected: &str, given: &[u8]) -> bool {
    bool::from(expected.as_bytes().ct_eq(given))
}

/// Checks HubSpot request signatures with an app's client secret.
///
/// v3 is always accepted and preferred when its header is present. v1 and v2 carry no
/// timestamp, so a captured request can be replayed forever; they are refused unless
/// [`Verifier::accept_legacy`] turns them on.
#[derive(Clone)]
pub struct Verifier {
    client_secret: SecretString,
    max_age: Duration,
    future_skew: Duration,
    accept_legacy: bool,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("client_secret", &"[redacted]")
            .field("max_age", &self.max_age)
            .field("future_skew", &self.future_skew)
            .field("accept_legacy", &self.accept_legacy)
            .finish()
    }
}

impl Verifier {
    pub fn new(client_secret: SecretString) -> Self {
        Self {
            client_secret,
            max_age: MAX_AGE,
            future_skew: DEFAULT_FUTURE_SKEW,
            accept_legacy: false,
        }
    }

    /// Also accept v1 and v2 signatures (only when the app's subscriptions need them).
    pub fn accept_legacy(mut self, yes: bool) -> Self {
        self.accept_legacy = yes;
        self
    }

    /// How far ahead of `now` a v3 timestamp may be (default 30 s).
    pub fn with_future_skew(mut self, skew: Duration) -> Self {
        self.future_skew = skew;
        self
    }

    /// Verifies one request. `uri` is the full URL as received
    /// (`scheme://host/path?query`); `body` the raw bytes, before any JSON parsing.
    pub fn verify(
        &self,
        method: &str,
        uri: &str,
        headers: &http::HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<SignatureVersion, SignatureError> {
        if let Some(signature) = headers.get(SIGNATURE_V3_HEADER) {
            return self.verify_v3(method, uri, headers, body, signature.as_bytes(), now);
        }
        let Some(signature) = headers.get(SIGNATURE_HEADER) else {
            return Err(SignatureError::Missing(SIGNATURE_V3_HEADER));
        };
        if !self.accept_legacy {
            return Err(SignatureError::LegacyNotAllowed);
        }
        let version = header_str(headers, SIGNATURE_VERSION_HEADER)?;
        let secret = self.client_secret.expose_secret();
        let (version, expected) = match version.trim().to_ascii_lowercase().as_str() {
            "v1" => (SignatureVersion::V1, sign_v1(secret, body)),
            "v2" => (SignatureVersion::V2, sign_v2(secret, method, uri, body)),
            other => return Err(SignatureError::Malformed(format!("unknown signature version {other:?}"))),
        };
        // Hex may arrive in either case; the comparison is over the lowercased form.
        if same(&expected, signature.as_bytes().to_ascii_lowercase().as_slice()) {
            Ok(version)
        } else {
            Err(SignatureError::Mismatch)
        }
    }

    fn verify_v3(
        &self,
        method: &str,
        uri: &str,
        headers: &http::HeaderMap,
        body: &[u8],
        signature: &[u8],
        now: SystemTime,
    ) -> Result<SignatureVersion, SignatureError> {
        let timestamp = header_str(headers, TIMESTAMP_HEADER)?;
        // Decimal digits only: `u64::from_str` would also take a leading `+`, and the
        // header is signed as its literal text, so a second spelling of one instant
        // must not verify.
        let malformed = || SignatureError::Malformed(format!("{TIMESTAMP_HEADER} is not a number of milliseconds"));
        if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
        let sent_ms: u64 = timestamp.parse().map_err(|_| malformed())?;
        self.check_window(sent_ms, now)?;
        let expected = sign_v3(self.client_secret.expose_secret(), method, uri, body, timestamp);
        if same(&expected, signature) {
            Ok(SignatureVersion::V3)
        } else {
            Err(SignatureError::Mismatch)
        }
    }

    fn check_window(&self, sent_ms: u64, now: SystemTime) -> Result<(), SignatureError> {
        let now_ms = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        if sent_ms > now_ms {
            let ahead_ms = sent_ms - now_ms;
            if u128::from(ahead_ms) > self.future_skew.as_millis() {
                return Err(SignatureError::FromTheFuture { ahead_ms });
            }
        } else {
            let age_ms = now_ms - sent_ms;
            if u128::from(age_ms) > self.max_age.as_millis() {
                return Err(SignatureError::Stale { age_ms });
            }
        }
        Ok(())
    }
}

fn header_str<'h>(headers: &'h http::HeaderMap, name: &'static str) -> Result<&'h str, SignatureError> {
    let value = headers.get(name).ok_or(SignatureError::Missing(name))?;
    value
        .to_str()
        .map_err(|_| SignatureError::Malformed(format!("{name} is not ASCII")))
}
