//! HubSpot's errors as the seam's: what is worth a retry, a new token, or a report.

use crm_hubspot::Error as HsError;
use crm_hubspot::objects::BatchError;

use crate::crm::CrmError;

pub(super) fn map_error_ref(e: &HsError) -> CrmError {
    match e {
        HsError::DailyLimit(_) | HsError::RateLimited { .. } => CrmError::RateLimited(e.to_string()),
        HsError::Unauthorized(_) | HsError::Token(crm_http::TokenError::Rejected(_)) => CrmError::Unauthorized(e.to_string()),
        HsError::Token(_) | HsError::Server { .. } | HsError::Timeout | HsError::Transport(_) => CrmError::Unavailable(e.to_string()),
        other => CrmError::Rejected(other.to_string()),
    }
}

pub(super) fn map_error(e: HsError) -> CrmError {
    map_error_ref(&e)
}

/// The message of a refusal, which fails the rows it was for; any other error (rate
/// limit, outage, token) fails the call.
pub(super) fn refusal(e: HsError) -> Result<String, CrmError> {
    match map_error(e) {
        CrmError::Rejected(m) => Ok(m),
        other => Err(other),
    }
}

/// The error a batch answered for row `id` (batch errors name their rows in `context`).
pub(super) fn error_for<'a>(errors: &'a [BatchError], id: &str) -> Option<&'a BatchError> {
    errors.iter().find(|e| e.context.values().flatten().any(|v| v == id))
}
