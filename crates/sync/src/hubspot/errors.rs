//! HubSpot's errors as the seam's: what is worth a retry, a new token, or a report.

use crm_hubspot::Error as HsError;

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
