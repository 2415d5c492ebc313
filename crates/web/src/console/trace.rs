//! `/console/admin/trace`: an admin traces a CRM record — "why did (or didn't) this
//! deal get a project?" — from the form's connection and record id (a GET, so a trace
//! can be bookmarked and shared). The trace itself is `engine::trace`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::pages::{Section, render};
use super::session::Admin;
use crate::WebState;
use crate::page_error::{PageError, PageResult};
use handoff_engine::trace::{RecordTrace, trace_record};
use handoff_store::Verdict;

/// A record id longer than this is not one (Salesforce's are 18, HubSpot's digits).
const RECORD_ID_CHARS: usize = 100;

/// `?connection=salesforce&record=006…`
#[derive(Debug, Default, Deserialize)]
pub(super) struct TraceParams {
    connection: Option<String>,
    record: Option<String>,
}

#[derive(Serialize)]
struct ConnectionOption {
    name: String,
    crm: &'static str,
    selected: bool,
}

/// The answer to the page's question, in one sentence, before the details.
#[derive(Serialize)]
struct Summary {
    /// `made`, `none` or `waiting`.
    kind: &'static str,
    text: String,
}

#[derive(Serialize)]
struct TracePage {
    connections: Vec<ConnectionOption>,
    record: String,
    /// A problem with the form, shown beside its field.
    connection_error: Option<String>,
    record_error: Option<String>,
    summary: Option<Summary>,
    /// The trace, its times as people read them.
    trace: Option<Value>,
    cut: bool,
}

/// `GET /console/admin/trace`.
pub(super) async fn page(State(state): State<WebState>, Admin(me): Admin, Query(params): Query<TraceParams>) -> PageResult<Response> {
    let connection = params.connection.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let record = params.record.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let configured = &state.config.connections;
    let mut body = TracePage {
        connections: configured
            .iter()
            .map(|c| ConnectionOption {
                name: c.name.clone(),
                crm: c.crm_name(),
                selected: Some(c.name.as_str()) == connection,
            })
            .collect(),
        record: record.clone(),
        connection_error: None,
        record_error: None,
        summary: None,
        trace: None,
        cut: false,
    };
    let asked = connection.is_some() || !record.is_empty();
    if asked {
        match connection {
            None => body.connection_error = Some("Choose the connection the record is in.".into()),
            Some(c) if !configured.iter().any(|k| k.name == c) => {
                body.connection_error = Some(format!("There is no connection named “{c}”."));
            }
            Some(_) => {}
        }
        if record.is_empty() {
            body.record_error = Some("Enter the record’s id in the CRM.".into());
        } else if record.chars().count() > RECORD_ID_CHARS || record.chars().any(char::is_control) {
            body.record_error = Some("That is not a CRM record id.".into());
        }
    }
    let status = if body.connection_error.is_some() || body.record_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    if let (true, StatusCode::OK, Some(connection)) = (asked, status, connection) {
        let trace = trace_record(&state.store, connection, &record, Utc::now()).await?;
        body.summary = Some(summary(&trace));
        body.cut = trace.changes_stored > trace.changes.len() as i64;
        body.trace = Some(readable_times(
            serde_json::to_value(&trace).map_err(|e| PageError::Internal(e.into()))?,
        ));
    }
    let title = if record.is_empty() {
        "Trace a CRM record".to_owned()
    } else {
        format!("Trace of {record}")
    };
    let mut response = render(&state, "console/trace.html", &title, Some(&me), Section::Admin, &body)?;
    *response.status_mut() = status;
    Ok(response.into_response())
}

/// Did the record get a project, and if not, why not (the newest decisions say).
fn summary(trace: &RecordTrace) -> Summary {
    if let Some(first) = trace.projects.first() {
        let more = match trace.projects.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        return Summary {
            kind: "made",
            text: format!(
                "This record has a project: “{}”{more}, from workflow {}.",
                first.name, first.workflow
            ),
        };
    }
    let Some(last) = trace.changes.last() else {
        return Summary {
            kind: "none",
            text: "The hub has received no change of this record. Check the id, the connection’s webhook \
                   subscription and its last poll; changes older than the trace retention are not kept."
                .into(),
        };
    };
    if last.status == "pending" {
        return Summary {
            kind: "waiting",
            text: "No project yet: the newest change is waiting for the engine.".into(),
        };
    }
    let reasons: Vec<String> = last
        .decisions
        .iter()
        .map(|d| match (&d.reason, d.verdict) {
            (Some(reason), Verdict::Skips | Verdict::Fails) => format!("workflow {} {}: {reason}", d.workflow, d.verdict_text),
            _ => format!("workflow {} {}", d.workflow, d.verdict_text),
        })
        .collect();
    Summary {
        kind: "none",
        text: if reasons.is_empty() {
            "No project: no workflow is triggered on this kind of record in this connection.".into()
        } else {
            format!("No project. On the newest change, {}.", reasons.join("; "))
        },
    }
}

/// Every timestamp in the trace (`at` and `…_at` fields, RFC 3339 in the JSON) as
/// people read it; `handoff trace --json` keeps RFC 3339 for scripts.
fn readable_times(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = match &v {
                        Value::String(s) if k == "at" || k.ends_with("_at") => match s.parse::<DateTime<Utc>>() {
                            Ok(t) => Value::String(t.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
                            Err(_) => v,
                        },
                        _ => readable_times(v),
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(readable_times).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_read_as_dates_and_other_strings_stay() {
        let shown = readable_times(json!({
            "received_at": "2026-12-04T18:03:11.123Z",
            "changes": [{"at": "2026-12-04T18:03:12Z", "status": "2026-12-04T18:03:12Z"}],
            "delivered_at": null,
        }));
        assert_eq!(shown["received_at"], "2026-12-04 18:03:11 UTC");
        assert_eq!(shown["changes"][0]["at"], "2026-12-04 18:03:12 UTC");
        assert_eq!(shown["changes"][0]["status"], "2026-12-04T18:03:12Z", "only time fields");
        assert_eq!(shown["delivered_at"], Value::Null);
    }
}
