//! `POST /webhooks/hubspot/{connection}`: a signed batch of up to 100 events.

use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::DateTime;
use crm_hubspot::webhook::{self, Verifier};

use crate::WebState;
use crate::error::{ApiError, ApiResult};
use handoff_config::connections::CrmSettings;
use handoff_store::inbound::{EventSource, NewInboundEvent};

pub async fn receive(
    State(state): State<WebState>,
    Path(name): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let connection = super::connection(&state, &name, "hubspot")?;
    let CrmSettings::Hubspot(settings) = &connection.crm else {
        return Err(ApiError::NotFound(format!("no hubspot connection named `{name}`")));
    };
    let Some(secret) = settings.client_secret.clone() else {
        tracing::warn!(connection = %name, "a HubSpot webhook arrived but the connection has no client_secret to verify it");
        return Err(ApiError::Unauthorized("webhooks are not configured for this connection".into()));
    };

    // HubSpot signs the URL it called: our public base URL plus the path and query as
    // received (a reverse proxy may have changed the host we see).
    let path_and_query = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    let called = format!("{}{path_and_query}", state.config.server.base_url.as_str().trim_end_matches('/'));
    let verifier = Verifier::new(secret).accept_legacy(settings.accept_legacy_signatures);
    verifier.verify("POST", &called, &headers, &body, SystemTime::now()).map_err(|e| {
        tracing::info!(connection = %name, error = %e, "refused a HubSpot webhook");
        ApiError::Unauthorized(format!("signature check failed: {e}"))
    })?;

    let events = webhook::parse_batch(&body).map_err(|e| ApiError::BadRequest(format!("malformed webhook body: {e}")))?;
    if let Some(portal) = settings.portal_id
        && let Some(stranger) = events.iter().find(|e| e.portal_id != portal)
    {
        return Err(ApiError::Unauthorized(format!(
            "event for HubSpot account {} sent to the connection for account {portal}",
            stranger.portal_id
        )));
    }
    let batch: Vec<NewInboundEvent> = events
        .iter()
        .filter_map(|e| {
            let Some(record) = e.record_id() else {
                // Nothing to resolve, but no reason to refuse (and so lose) the rest of the batch.
                tracing::info!(connection = %name, event = %e.subscription_type, "ignoring a HubSpot event that names no record");
                return None;
            };
            Some((e, record))
        })
        .map(|(e, record)| NewInboundEvent {
            connection: name.clone(),
            source: EventSource::Webhook,
            dedupe_key: e.dedupe_key(),
            event_type: e.subscription_type.clone(),
            object_type: e.object_type().to_owned(),
            external_id: record.to_string(),
            occurred_at: DateTime::from_timestamp_millis(e.occurred_at),
            payload: serde_json::to_value(e).unwrap_or_default(),
        })
        .collect();
    let recorded = state.store.record_inbound_events(&batch).await?;
    state.health.webhook_received(&name).await;
    tracing::debug!(connection = %name, new = recorded.new, duplicates = recorded.duplicates, "stored HubSpot events");
    Ok(StatusCode::NO_CONTENT)
}
