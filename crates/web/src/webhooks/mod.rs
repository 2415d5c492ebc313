//! Webhook intake: HubSpot webhooks and Salesforce Outbound Messages.
//!
//! The contract with the CRM: an event is verified, committed to the database, and
//! only then acknowledged. Anything refused (bad signature, stale or future timestamp,
//! malformed body, oversized body, unknown connection) stores nothing, and the CRM
//! retries or gives up as it does for any failure.

mod hubspot;
mod salesforce;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;

use crate::WebState;
use handoff_config::ConnectionConfig;
use handoff_config::connections::CrmSettings;

use super::error::ApiError;

/// HubSpot sends at most 100 events per request, a few hundred bytes each; Salesforce
/// at most 100 notifications. 1 MiB is generous for both and bounds what an
/// unauthenticated sender can make us buffer before the signature is checked.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/webhooks/hubspot/{connection}", post(hubspot::receive))
        .route("/webhooks/salesforce/{connection}/{secret}", post(salesforce::receive))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// The named connection, if it is of the CRM the URL says; otherwise 404, whichever way
/// the name is wrong, so the response does not reveal which connections exist.
fn connection<'a>(state: &'a WebState, name: &str, crm: &str) -> Result<&'a ConnectionConfig, ApiError> {
    state
        .config
        .connection(name)
        .filter(|c| {
            c.crm_name() == crm
                && matches!(
                    (&c.crm, crm),
                    (CrmSettings::Hubspot(_), "hubspot") | (CrmSettings::Salesforce(_), "salesforce")
                )
        })
        .ok_or_else(|| ApiError::NotFound(format!("no {crm} connection named `{name}`")))
}
