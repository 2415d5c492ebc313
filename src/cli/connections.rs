//! `handoff connections`: the configured CRM connections and their health.

use std::process::ExitCode;

use chrono::{DateTime, Utc};

use crate::app::AppState;

fn ago(t: Option<DateTime<Utc>>) -> String {
    match t {
        None => "never".into(),
        Some(t) => {
            let secs = (Utc::now() - t).num_seconds().max(0);
            match secs {
                0..60 => format!("{secs} s ago"),
                60..3600 => format!("{} min ago", secs / 60),
                _ => format!("{} h ago", secs / 3600),
            }
        }
    }
}

pub async fn run(state: AppState) -> anyhow::Result<ExitCode> {
    if state.config.connections.is_empty() {
        println!("no CRM connections are configured (add a [connections.<name>] table; see README)");
        return Ok(ExitCode::SUCCESS);
    }
    let health = state.store.connection_health().await?;
    let sealer = handoff_store::sealed::Sealer::new(state.config.secrets.master_key.as_ref()).ok();
    println!(
        "{:<20} {:<11} {:<9} {:<14} {:<14} {:<17} LAST ERROR",
        "CONNECTION", "CRM", "STATE", "LAST WEBHOOK", "LAST POLL", "API BUDGET"
    );
    for c in &state.config.connections {
        let h = health
            .iter()
            .find(|(name, _)| name == &c.name)
            .map(|(_, h)| h.clone())
            .unwrap_or_default();
        let status = if h.failing {
            "failing"
        } else if h.last_poll_at.is_some() {
            "ok"
        } else {
            "not polled"
        };
        let budget = match (h.budget.used, h.budget.limit) {
            (Some(used), Some(limit)) => format!("{used}/{limit} used"),
            _ => "unknown".into(),
        };
        let error = h
            .last_error
            .map(|e| format!("{} ({})", e, ago(h.last_error_at)))
            .unwrap_or_default();
        println!(
            "{:<20} {:<11} {:<9} {:<14} {:<14} {:<17} {error}",
            c.name,
            c.crm_name(),
            status,
            ago(h.last_webhook_at),
            ago(h.last_poll_at),
            budget
        );
        if let Some(note) = token_note(&state, sealer.as_ref(), c).await? {
            println!("  {note}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A line about the connection's stored token when it needs saying: one this master
/// key cannot decrypt is treated as absent, and what happens next depends on the flow.
async fn token_note(
    state: &AppState,
    sealer: Option<&handoff_store::sealed::Sealer>,
    c: &handoff_config::ConnectionConfig,
) -> anyhow::Result<Option<String>> {
    use handoff_sync::tokens::{TokenState, stored_token_state};
    if !handoff_sync::adapters::stores_tokens(c) {
        return Ok(None);
    }
    let Some(sealer) = sealer else {
        return Ok(Some(format!("{}: HANDOFF_MASTER_KEY is not set; its token cannot be read", c.name)));
    };
    if stored_token_state(&state.store, sealer, &c.name).await? != TokenState::Unreadable {
        return Ok(None);
    }
    let next = match handoff_sync::adapters::refresh_token_flow(c) {
        None => "a new one is fetched with the configured credentials on next use",
        Some(true) => "a new one is fetched with the configured refresh token on next use; if that is refused, reconnect the account",
        Some(false) => "its refresh token is lost with it: the connection needs reconnecting",
    };
    Ok(Some(format!(
        "{}: the stored token cannot be decrypted with this master key (was HANDOFF_MASTER_KEY changed?); {next}",
        c.name
    )))
}
