//! `POST /webhooks/salesforce/{connection}/{secret}`: an Outbound Message (SOAP).
//! Outbound Messages carry no signature; the secret path segment, the organization id
//! and TLS are what authenticate them (<https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging.htm>).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use crm_salesforce::outbound;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use crate::WebState;
use crate::error::{ApiError, ApiResult};
use handoff_config::connections::CrmSettings;
use handoff_store::inbound::{EventSource, NewInboundEvent};

pub async fn receive(State(state): State<WebState>, Path((name, secret)): Path<(String, String)>, body: Bytes) -> ApiResult<Response> {
    let connection = super::connection(&state, &name, "salesforce")?;
    let CrmSettings::Salesforce(settings) = &connection.crm else {
        return Err(ApiError::NotFound(format!("no salesforce connection named `{name}`")));
    };
    let expected = settings.webhook_secret.expose_secret().as_bytes();
    if !bool::from(expected.ct_eq(secret.as_bytes())) {
        tracing::info!(connection = %name, "refused an Outbound Message with a wrong secret path");
        return Err(ApiError::Unauthorized("unknown webhook secret".into()));
    }
    let message = outbound::parse(&body).map_err(|e| ApiError::BadRequest(format!("malformed Outbound Message: {e}")))?;
    if message.organization_id != settings.organization_id {
        tracing::warn!(connection = %name, organization = %message.organization_id, "refused an Outbound Message from another org");
        return Err(ApiError::Unauthorized("the Outbound Message is from another organization".into()));
    }
    let batch: Vec<NewInboundEvent> = message
        .notifications
        .iter()
        .zip(message.dedupe_keys())
        .map(|(n, dedupe_key)| NewInboundEvent {
            connection: name.clone(),
            source: EventSource::Webhook,
            // Salesforce's notification id is the same on every redelivery; a message
            // repeating one id keeps each different change (see `dedupe_keys`).
            dedupe_key,
            event_type: "outbound_message".into(),
            object_type: n.sobject.object_type.clone(),
            external_id: n.sobject.id.clone(),
            occurred_at: n
                .sobject
                .fields
                .get("SystemModstamp")
                .and_then(|v| v.as_deref())
                .and_then(parse_salesforce_time),
            // The session id, if Salesforce sent one, is a credential: it is not stored.
            payload: serde_json::json!({
                "notification_id": n.id,
                "action_id": message.action_id,
                "object_type": n.sobject.object_type,
                "id": n.sobject.id,
                "fields": n.sobject.fields,
            }),
        })
        .collect();
    state.store.record_inbound_events(&batch).await?;
    state.health.webhook_received(&name).await;
    Ok(([(CONTENT_TYPE, outbound::CONTENT_TYPE)], outbound::ack(true)).into_response())
}

/// Salesforce writes `2026-11-23T10:15:00.000Z` in SOAP and `…+0000` in REST.
fn parse_salesforce_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .or_else(|_| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}
