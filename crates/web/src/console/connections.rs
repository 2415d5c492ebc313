//! `/console/admin/connections`: every CRM connection with what an admin needs to know
//! about it — account, how it authenticates, health, API usage against the CRM's
//! limits, the webhook URL to paste into the CRM, the poll interval — and what they can
//! do: **connect** an account in the browser (connections whose tokens come from a
//! person's consent), **test** it with one cheap read, **disconnect** it (tokens revoked
//! at the CRM, then forgotten). Connections come from the configuration files and are
//! shown read-only; connecting stores tokens, never settings.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::pages::{Section, render};
use super::session::{Admin, AdminForm, Staff};
use super::sign_in::{OAUTH_VALIDITY, oauth_cookie, redirect_uri, verifier_purpose};
use crate::WebState;
use crate::csrf::NoFields;
use crate::page_error::{PageError, PageResult};
use handoff_config::ConnectionConfig;
use handoff_domain::connection_health::ConnectionHealth;
use handoff_domain::people::{Actor, NewActivity};
use handoff_engine::invite::token_hash;
use handoff_store::OAuthRequest;
use handoff_sync::connect::{ConnectError, ConnectFlow};
use handoff_sync::tokens::{TokenState, save_connected_token, stored_token_state};

/// The purpose of an OAuth request made to connect an account.
pub(super) const PURPOSE: &str = "connect";
const PAGE: &str = "/console/admin/connections";
/// The activity source of admin changes made here.
const SOURCE: &str = "console";

#[derive(Serialize)]
struct Card {
    name: String,
    crm: &'static str,
    account: Option<String>,
    auth: &'static str,
    /// `ok`, `failing`, `waiting` (not polled yet) or `disconnected`.
    status: &'static str,
    status_text: String,
    last_webhook: String,
    last_poll: String,
    last_error: Option<String>,
    usage: Option<Usage>,
    burst: &'static str,
    webhook_url: String,
    webhook_note: &'static str,
    poll_every: String,
    can_connect: bool,
    connected: bool,
}

#[derive(Serialize)]
struct Usage {
    text: String,
    percent: u64,
}

/// What one action just did, above the cards.
#[derive(Serialize)]
struct Notice {
    ok: bool,
    text: String,
}

#[derive(Serialize)]
struct ConnectionsPage {
    connections: Vec<Card>,
    notice: Option<Notice>,
}

/// Disconnecting asks to be sure.
#[derive(Debug, Deserialize)]
pub(super) struct DisconnectForm {
    confirm: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    done: Option<String>,
    connection: Option<String>,
}

/// `GET /console/admin/connections`.
pub(super) async fn page(State(state): State<WebState>, Admin(me): Admin, Query(q): Query<Done>) -> PageResult<Response> {
    // Only fixed words and a configured connection's name reach the page from the URL.
    let named = q.connection.as_deref().and_then(|c| find(&state, c));
    let notice = match (q.done.as_deref(), named) {
        (Some("connected"), Some(c)) => Some(Notice {
            ok: true,
            text: format!(
                "Connected: {} uses the account you approved from now on, on every node within a few seconds.",
                c.name
            ),
        }),
        (Some("disconnected"), Some(c)) => Some(Notice {
            ok: true,
            text: format!(
                "Disconnected: the tokens of {} were revoked at the CRM and forgotten. Syncing stops until it is connected again.",
                c.name
            ),
        }),
        _ => None,
    };
    show(&state, &me, notice, StatusCode::OK).await
}

async fn show(state: &WebState, me: &Staff, notice: Option<Notice>, status: StatusCode) -> PageResult<Response> {
    let health = state.store.connection_health().await?;
    let mut connections = Vec::with_capacity(state.config.connections.len());
    for c in &state.config.connections {
        let h = health
            .iter()
            .find(|(n, _)| n == &c.name)
            .map(|(_, h)| h.clone())
            .unwrap_or_default();
        connections.push(card(state, c, &h).await?);
    }
    let body = ConnectionsPage { connections, notice };
    let mut response = render(
        state,
        "console/connections.html",
        "Connections",
        Some(me),
        Section::Connections,
        &body,
    )?;
    *response.status_mut() = status;
    Ok(response)
}

async fn card(state: &WebState, c: &ConnectionConfig, h: &ConnectionHealth) -> PageResult<Card> {
    let flow = ConnectFlow::for_connection(c);
    let token = match (handoff_sync::adapters::stores_tokens(c), state.engine.sealer()) {
        (false, _) => None,
        (true, None) => Some(TokenState::Unreadable),
        (true, Some(sealer)) => Some(stored_token_state(&state.store, sealer, &c.name).await?),
    };
    let connected = token == Some(TokenState::Readable);
    let (status, status_text) = match (&flow, token) {
        (Some(_), Some(TokenState::Absent)) => ("disconnected", "Not connected: connect an account to start syncing".to_owned()),
        (_, Some(TokenState::Unreadable)) => (
            "failing",
            "Its stored token cannot be read with this server’s master key (HANDOFF_MASTER_KEY)".to_owned(),
        ),
        _ if h.failing => ("failing", "Failing".to_owned()),
        _ if h.last_poll_at.is_none() => ("waiting", "Not polled yet".to_owned()),
        _ => ("ok", "Working".to_owned()),
    };
    let base = state.config.server.base_url.as_str().trim_end_matches('/');
    let (webhook_url, webhook_note) = match c.crm {
        handoff_config::connections::CrmSettings::Hubspot(_) => (
            format!("{base}/webhooks/hubspot/{}", c.name),
            "The target URL of the HubSpot app’s webhook subscriptions.",
        ),
        handoff_config::connections::CrmSettings::Salesforce(_) => (
            format!("{base}/webhooks/salesforce/{}/••••••••", c.name),
            "The endpoint URL of the Outbound Message; its last segment is the connection’s webhook_secret, kept in the configuration and never shown here.",
        ),
    };
    let usage = match (h.budget.used, h.budget.limit) {
        (Some(used), Some(limit)) if limit > 0 => Some(Usage {
            text: format!("{used} of {limit} daily API requests used"),
            percent: (used.saturating_mul(100) / limit).min(100),
        }),
        _ => None,
    };
    Ok(Card {
        name: c.name.clone(),
        crm: label(c),
        account: c.account_id(),
        auth: c.auth_flow(),
        status,
        status_text,
        last_webhook: when(h.last_webhook_at),
        last_poll: when(h.last_poll_at),
        last_error: h.last_error.as_ref().map(|e| format!("{e} ({})", when(h.last_error_at))),
        usage,
        burst: handoff_sync::adapters::burst_limit(c),
        webhook_url,
        webhook_note,
        poll_every: every(c.poll_interval),
        can_connect: flow.is_some(),
        connected,
    })
}

fn label(c: &ConnectionConfig) -> &'static str {
    match c.crm {
        handoff_config::connections::CrmSettings::Salesforce(_) => "Salesforce",
        handoff_config::connections::CrmSettings::Hubspot(_) => "HubSpot",
    }
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "never".to_owned(), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

fn every(d: std::time::Duration) -> String {
    match d.as_secs() {
        s if s % 3600 == 0 && s > 0 => format!("every {} h", s / 3600),
        s if s % 60 == 0 && s > 0 => format!("every {} min", s / 60),
        s => format!("every {s} s"),
    }
}

fn find<'a>(state: &'a WebState, name: &str) -> Option<&'a ConnectionConfig> {
    state.config.connections.iter().find(|c| c.name == name)
}

/// `GET /console/admin/connections/{name}/connect`: off to the CRM's consent page. A
/// link, not a form, for the reason given at the sign-in buttons (`form-action 'self'`
/// would hold the redirect to the CRM); starting a flow changes nothing until the CRM
/// sends this same browser and admin back.
pub(super) async fn start(State(state): State<WebState>, Admin(_me): Admin, Path(name): Path<String>) -> PageResult<Response> {
    let connection = find(&state, &name).ok_or(PageError::NotFound)?;
    let flow = ConnectFlow::for_connection(connection).ok_or_else(|| {
        PageError::Refused(format!(
            "Connection {name} authenticates with {} from the configuration; there is no account to connect in the browser.",
            connection.auth_flow()
        ))
    })?;
    let sealer = state.engine.sealer().ok_or_else(|| {
        PageError::Refused(
            "Connecting a CRM account needs a master key (HANDOFF_MASTER_KEY) on this server: tokens are kept encrypted.".into(),
        )
    })?;
    let start = flow
        .start(&redirect_uri(&state))
        .map_err(|e| PageError::Internal(anyhow::anyhow!("starting to connect {name}: {e}")))?;
    let sealed_verifier = match &start.pkce_verifier {
        Some(verifier) => Some(
            sealer
                .seal(&verifier_purpose(start.state.expose_secret()), verifier)
                .map_err(|e| PageError::Internal(e.into()))?,
        ),
        None => None,
    };
    let request = OAuthRequest {
        purpose: PURPOSE.into(),
        connection: name,
        sealed_verifier,
        next: None,
        expires_at: Utc::now() + OAUTH_VALIDITY,
    };
    state
        .store
        .save_oauth_request(&token_hash(start.state.expose_secret()), &request)
        .await?;
    let mut response = Redirect::to(start.url.as_str()).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, oauth_cookie(&state, Some(&start.state))?);
    Ok(response)
}

/// The callback of a connect request (`sign_in::callback` hands it on): the CRM's
/// answer, a code with its state or the CRM's reason for refusing. Only an admin who is
/// signed in here finishes it; the tokens are stored with their activity entry.
pub(super) async fn finish_connect(
    state: &WebState,
    me: Option<Staff>,
    request: &OAuthRequest,
    answer: Result<(SecretString, &str), String>,
) -> PageResult<Response> {
    let Some(me) = me.filter(Staff::is_admin) else {
        return Err(PageError::NotAllowed("Only a signed-in admin can connect a CRM account.".into()));
    };
    let refused = |text: String| connect_refused(state, me.clone(), text);
    let Some(connection) = find(state, &request.connection) else {
        return refused(format!("There is no connection named {} any more.", request.connection)).await;
    };
    let Some(flow) = ConnectFlow::for_connection(connection) else {
        return refused(format!("Connection {} can no longer be connected in the browser.", connection.name)).await;
    };
    let (code, oauth_state) = match answer {
        Ok(answer) => answer,
        Err(why) => return refused(format!("{} did not connect {}: {why}.", flow.label(), connection.name)).await,
    };
    let Some(sealer) = state.engine.sealer() else {
        return refused("This server has no master key (HANDOFF_MASTER_KEY) to keep the tokens with.".into()).await;
    };
    let verifier = match &request.sealed_verifier {
        Some(sealed) => match sealer.open(&verifier_purpose(oauth_state), sealed) {
            Ok(v) => Some(v),
            Err(_) => return refused("This server can no longer read the request. Please connect again.".into()).await,
        },
        None => None,
    };
    let connected = match flow.finish(&redirect_uri(state), &code, verifier.as_ref()).await {
        Ok(connected) => connected,
        Err(e) => {
            tracing::info!(connection = %connection.name, error = %e, "connecting a CRM account failed");
            return refused(format!("Connecting {} failed: {e}.", connection.name)).await;
        }
    };
    let before = stored_token_state(&state.store, sealer, &connection.name).await?;
    let entry = NewActivity {
        project_id: None,
        actor: Actor::User(me.id()),
        action: "connection.connected".into(),
        source: SOURCE.into(),
        // Who connected what; never the tokens.
        details: serde_json::json!({
            "connection": connection.name,
            "crm": flow.label(),
            "account": connected.account,
            "crm_user": connected.user,
            "before": if before == TokenState::Readable { "connected" } else { "not connected" },
            "after": "connected",
        }),
    };
    if let Err(e) = save_connected_token(&state.store, sealer, &connection.name, &connected.token, &entry).await {
        return Err(PageError::Internal(anyhow::anyhow!(
            "storing the tokens of {}: {e}",
            connection.name
        )));
    }
    tracing::info!(connection = %connection.name, account = %connected.account, "an admin connected a CRM account");
    let mut response = Redirect::to(&format!("{PAGE}?done=connected&connection={}", connection.name)).into_response();
    response.headers_mut().append(header::SET_COOKIE, oauth_cookie(state, None)?);
    Ok(response)
}

/// The connections page with why connecting did not happen.
async fn connect_refused(state: &WebState, me: Staff, text: String) -> PageResult<Response> {
    let mut page = show(state, &me, Some(Notice { ok: false, text }), StatusCode::BAD_REQUEST).await?;
    page.headers_mut().append(header::SET_COOKIE, oauth_cookie(state, None)?);
    Ok(page)
}

/// `POST /console/admin/connections/{name}/test`: one cheap read through the same
/// adapter the sync uses, and the CRM's own words when it fails.
pub(super) async fn test(
    State(state): State<WebState>,
    Path(name): Path<String>,
    AdminForm { who: Admin(me), .. }: AdminForm<NoFields>,
) -> PageResult<Response> {
    let connection = find(&state, &name).ok_or(PageError::NotFound)?;
    let crm = state.crms.get(&connection.name).ok_or(PageError::NotFound)?;
    let notice = match crm.check_access().await {
        Ok(read) => Notice {
            ok: true,
            text: format!("{} works: {read}.", connection.name),
        },
        Err(e) => Notice {
            ok: false,
            text: format!("{} does not work: {e}.", connection.name),
        },
    };
    show(&state, &me, Some(notice), StatusCode::OK).await
}

/// `POST /console/admin/connections/{name}/disconnect`: revoke at the CRM, then forget.
/// When the CRM cannot be reached nothing changes (see `ConnectFlow::revoke_stored`).
pub(super) async fn disconnect(
    State(state): State<WebState>,
    Path(name): Path<String>,
    AdminForm { who: Admin(me), form }: AdminForm<DisconnectForm>,
) -> PageResult<Response> {
    let connection = find(&state, &name).ok_or(PageError::NotFound)?;
    if form.confirm.as_deref() != Some("yes") {
        let text = format!("Nothing was changed: tick the box to confirm that {name}’s tokens are to be revoked.");
        return show(&state, &me, Some(Notice { ok: false, text }), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let flow = ConnectFlow::for_connection(connection)
        .ok_or_else(|| PageError::Refused(format!("Connection {name} has no connected account to disconnect.")))?;
    let sealer = state
        .engine
        .sealer()
        .ok_or_else(|| PageError::Refused("This server has no master key (HANDOFF_MASTER_KEY) to read the tokens with.".into()))?;
    if stored_token_state(&state.store, sealer, &name).await? == TokenState::Absent {
        let text = format!("{name} is not connected: there is nothing to disconnect.");
        return show(&state, &me, Some(Notice { ok: false, text }), StatusCode::CONFLICT).await;
    }
    let revoked = match flow.revoke_stored(&state.store, sealer).await {
        Ok(revoked) => revoked,
        Err(ConnectError::Store(e)) => return Err(e.into()),
        Err(e) => {
            let text = format!("{name} was not disconnected: {e}. Its tokens are kept, so they can still be revoked; try again.");
            return show(&state, &me, Some(Notice { ok: false, text }), StatusCode::BAD_GATEWAY).await;
        }
    };
    let entry = NewActivity {
        project_id: None,
        actor: Actor::User(me.id()),
        action: "connection.disconnected".into(),
        source: SOURCE.into(),
        details: serde_json::json!({
            "connection": connection.name,
            "crm": flow.label(),
            "revoked_at_crm": revoked,
            "before": "connected",
            "after": "not connected",
        }),
    };
    state.store.forget_connection_token(&connection.name, &entry).await?;
    tracing::info!(connection = %connection.name, revoked, "an admin disconnected a CRM connection");
    Ok(Redirect::to(&format!("{PAGE}?done=disconnected&connection={}", connection.name)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_intervals_read_in_their_largest_whole_unit() {
        assert_eq!(every(std::time::Duration::from_secs(300)), "every 5 min");
        assert_eq!(every(std::time::Duration::from_secs(7200)), "every 2 h");
        assert_eq!(every(std::time::Duration::from_secs(45)), "every 45 s");
    }
}
