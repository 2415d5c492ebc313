//! HubSpot webhooks: request signatures (<https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation>) and event batches
//! (<https://developers.hubspot.com/docs/guides/api/app-management/webhooks>).
//!
//! Verify first, with the raw body bytes exactly as received, then parse:
//!
//! ```no_run
//! # fn handle(method: &str, uri: &str, headers: &http::HeaderMap, body: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//! use crm_hubspot::webhook::{Verifier, parse_batch};
//! let verifier = Verifier::new("client-secret".to_owned().into());
//! verifier.verify(method, uri, headers, body, std::time::SystemTime::now())?;
//! for event in parse_batch(body)? {
//!     println!("{} {}", event.dedupe_key(), event.subscription_type);
//! }
//! # Ok(()) }
//! ```

mod event;
mod signature;
#[cfg(test)]
mod tests;

pub use event::{Event, MAX_EVENTS_PER_BATCH, ParseError, parse_batch};
pub use signature::{MAX_AGE, Verifier, decode_uri, sign_v1, sign_v2, sign_v3};

/// The v3 signature: base64 HMAC-SHA256.
pub const SIGNATURE_V3_HEADER: &str = "x-hubspot-signature-v3";
/// Milliseconds since the epoch, as a decimal string; part of the v3 signature.
pub const TIMESTAMP_HEADER: &str = "x-hubspot-request-timestamp";
/// The v1 / v2 signature: hex SHA-256.
pub const SIGNATURE_HEADER: &str = "x-hubspot-signature";
/// `v1` or `v2`, saying how [`SIGNATURE_HEADER`] was computed.
pub const SIGNATURE_VERSION_HEADER: &str = "x-hubspot-signature-version";

/// Why a request's signature was not accepted. None of these reveal the expected value.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error("missing header {0}")]
    Missing(&'static str),
    #[error("malformed signature header: {0}")]
    Malformed(String),
    #[error("request timestamp is {age_ms} ms old, more than the allowed 5 minutes")]
    Stale { age_ms: u64 },
    #[error("request timestamp is {ahead_ms} ms in the future, more than the allowed clock skew")]
    FromTheFuture { ahead_ms: u64 },
    #[error("signature does not match")]
    Mismatch,
    #[error("v1/v2 signatures are not accepted by this verifier")]
    LegacyNotAllowed,
}

/// Which signature scheme a verified request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureVersion {
    V1,
    V2,
    V3,
}
