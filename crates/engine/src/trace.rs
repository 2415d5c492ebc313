//! The trace of a CRM record: "why did (or didn't) this deal get a project?". Every
//! change the hub received (webhook or poll, when, what changed), each workflow's
//! decision on it (and which condition failed, with the value it saw), what applying
//! it did, the projects made from the record with their invitations, and the
//! writebacks to the record with the CRM's answer. `handoff trace` prints it; the
//! console's Trace page shows it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use handoff_store::{Store, StoreError, TraceRows, TracedChange, TracedDecision, TracedInvitation, TracedWriteback, Verdict};

/// At most this many changes (the newest) and writebacks are traced; the trace says
/// how many more are stored.
pub const TRACE_LIMIT: u32 = 1000;

/// A field value longer than this is cut in the trace (a long description).
const VALUE_CHARS: usize = 80;

#[derive(Clone, Debug, Serialize)]
pub struct RecordTrace {
    pub connection: String,
    pub record_id: String,
    /// Oldest first.
    pub changes: Vec<ChangeTrace>,
    /// How many changes are stored; more than `changes.len()` when the trace was cut.
    pub changes_stored: i64,
    pub projects: Vec<ProjectTrace>,
    /// Oldest first.
    pub writebacks: Vec<WritebackTrace>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ChangeTrace {
    pub object: String,
    /// `webhook`, `poll` or `backfill`.
    pub source: String,
    pub received_at: DateTime<Utc>,
    /// The CRM's modification stamp.
    pub modified_at: DateTime<Utc>,
    /// The first 12 hex digits of the content fingerprint.
    pub fingerprint: String,
    /// `pending` (the engine has not handled it yet), `processed` or `failed`.
    pub status: String,
    pub error: Option<String>,
    /// Fields that differ from the change before it (none for the first one traced).
    pub fields_changed: Vec<FieldChange>,
    /// Whether this is the first change the trace holds, so there is nothing to
    /// compare it with (`fields` then lists what it held).
    pub first: bool,
    pub deleted: bool,
    pub decisions: Vec<DecisionTrace>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct DecisionTrace {
    pub workflow: String,
    pub verdict: Verdict,
    /// In words: "fired", "kept its project in step", "did not fire", "failed".
    pub verdict_text: &'static str,
    pub reason: Option<String>,
    pub project_id: Option<String>,
    pub project_created: bool,
    /// `email (role)` per member, as applying the plan changed them.
    pub members_added: Vec<String>,
    pub members_changed: Vec<String>,
    pub members_removed: Vec<String>,
    /// Invitations emailed now, and those waiting for the project to become Active.
    pub invited: Vec<String>,
    pub waiting: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProjectTrace {
    pub workflow: String,
    pub project_id: String,
    pub name: String,
    pub status: &'static str,
    pub linked_at: DateTime<Utc>,
    pub invitations: Vec<InvitationTrace>,
}

#[derive(Clone, Debug, Serialize)]
pub struct InvitationTrace {
    pub email: String,
    pub created_at: DateTime<Utc>,
    /// `used`, `revoked`, `expired`, `sent` or `waiting` (not emailed yet).
    pub state: &'static str,
    /// When it reached that state (`expired`: when it ran out; `waiting`: created).
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize)]
pub struct WritebackTrace {
    /// `status_changed`, `task_completed`, …
    pub event: String,
    pub workflow: String,
    pub project_id: String,
    pub detail: Option<String>,
    pub queued_at: DateTime<Utc>,
    /// `delivered`, `retrying`, `waiting` or `gave up`.
    pub state: &'static str,
    /// The CRM's answer: "accepted", or its own message.
    pub answer: Option<String>,
    pub attempts: i32,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The trace of record `record_id` on `connection`, as stored now.
pub async fn trace_record(store: &Store, connection: &str, record_id: &str, now: DateTime<Utc>) -> Result<RecordTrace, StoreError> {
    let rows = store.record_trace(connection, record_id, TRACE_LIMIT).await?;
    Ok(assemble(connection, record_id, rows, now))
}

fn assemble(connection: &str, record_id: &str, rows: TraceRows, now: DateTime<Utc>) -> RecordTrace {
    let TraceRows {
        changes,
        changes_stored,
        decisions,
        projects,
        invitations,
        writebacks,
    } = rows;
    let mut decisions = decisions.into_iter().peekable();
    let mut traced = Vec::with_capacity(changes.len());
    let mut before: Option<&TracedChange> = None;
    for change in &changes {
        let mut own = Vec::new();
        // Both are ordered by change id: the decisions of this change come next.
        while let Some(d) = decisions.next_if(|d| d.change_id <= change.id) {
            if d.change_id == change.id {
                own.push(decision(d));
            }
        }
        traced.push(change_trace(change, before, own));
        before = Some(change);
    }
    let projects = projects
        .into_iter()
        .map(|p| {
            let id = p.project_id.as_uuid();
            ProjectTrace {
                workflow: p.workflow,
                project_id: p.project_id.to_string(),
                name: p.name,
                status: p.status.as_str(),
                linked_at: p.linked_at,
                invitations: invitations
                    .iter()
                    .filter(|i| i.project_id == id)
                    .map(|i| invitation(i, now))
                    .collect(),
            }
        })
        .collect();
    RecordTrace {
        connection: connection.to_owned(),
        record_id: record_id.to_owned(),
        changes: traced,
        changes_stored,
        projects,
        writebacks: writebacks.iter().map(writeback).collect(),
    }
}

fn change_trace(change: &TracedChange, before: Option<&TracedChange>, decisions: Vec<DecisionTrace>) -> ChangeTrace {
    let now = &change.change.0;
    let fields_changed = match before {
        Some(b) => fields_changed(&b.change.0.fields, &now.fields),
        None => Vec::new(),
    };
    ChangeTrace {
        object: change.object.clone(),
        source: change.source.clone(),
        received_at: change.received_at,
        modified_at: change.modified_at,
        fingerprint: change.fingerprint.chars().take(12).collect(),
        status: change.status.clone(),
        error: change.last_error.clone(),
        fields_changed,
        first: before.is_none(),
        deleted: now.deleted,
        decisions,
    }
}

/// The fields whose value differs between two states, by name.
fn fields_changed(before: &serde_json::Map<String, Value>, after: &serde_json::Map<String, Value>) -> Vec<FieldChange> {
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|n| before.get(*n) != after.get(*n))
        .map(|n| FieldChange {
            field: n.clone(),
            before: shown(before.get(n)),
            after: shown(after.get(n)),
        })
        .collect()
}

fn shown(value: Option<&Value>) -> String {
    let text = match value {
        None | Some(Value::Null) => return "empty".into(),
        Some(Value::String(s)) if s.is_empty() => return "empty".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    if text.chars().count() > VALUE_CHARS {
        let cut: String = text.chars().take(VALUE_CHARS).collect();
        format!("{cut}…")
    } else {
        text
    }
}

fn decision(d: TracedDecision) -> DecisionTrace {
    let outcome = d.outcome.unwrap_or(Value::Null);
    let members = |key: &str| -> Vec<String> {
        outcome
            .get(key)
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|m| {
                        let who = m
                            .get("email")
                            .and_then(Value::as_str)
                            .or_else(|| m.get("crm_contact").and_then(Value::as_str))
                            .unwrap_or("someone");
                        match m.get("role").and_then(Value::as_str) {
                            Some(role) => format!("{who} ({})", role.replace('_', " ")),
                            None => who.to_owned(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let emails = |key: &str| -> Vec<String> {
        outcome
            .get(key)
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default()
    };
    DecisionTrace {
        verdict_text: match d.verdict {
            Verdict::Fires => "fired",
            Verdict::Keeps => "kept its project in step",
            Verdict::Skips => "did not fire",
            Verdict::Fails => "failed",
        },
        workflow: d.workflow,
        verdict: d.verdict,
        reason: d.reason,
        project_id: d.project_id.map(|p| p.to_string()),
        project_created: outcome.get("created").and_then(Value::as_bool).unwrap_or(false),
        members_added: members("members_added"),
        members_changed: members("members_changed"),
        members_removed: members("members_removed"),
        invited: emails("invited"),
        waiting: emails("waiting"),
    }
}

fn invitation(i: &TracedInvitation, now: DateTime<Utc>) -> InvitationTrace {
    let (state, at) = if let Some(at) = i.used_at {
        ("used", at)
    } else if let Some(at) = i.revoked_at {
        ("revoked", at)
    } else if i.expires_at <= now {
        ("expired", i.expires_at)
    } else if let Some(at) = i.sent_at {
        ("sent", at)
    } else {
        ("waiting", i.created_at)
    };
    InvitationTrace {
        email: i.email.clone(),
        created_at: i.created_at,
        state,
        at,
    }
}

fn writeback(w: &TracedWriteback) -> WritebackTrace {
    let text = |key: &str| w.payload.0.get(key).and_then(Value::as_str).map(str::to_owned);
    let detail = match (text("task_title"), text("phase_name")) {
        (Some(task), _) => Some(format!("task “{task}”")),
        (None, Some(phase)) => Some(format!("phase “{phase}”")),
        (None, None) => None,
    };
    let (state, answer) = match w.status.as_str() {
        "done" => ("delivered", Some("accepted".to_owned())),
        "dead" => ("gave up", w.last_error.clone()),
        _ if w.last_error.is_some() => ("retrying", w.last_error.clone()),
        _ => ("waiting", None),
    };
    WritebackTrace {
        event: text("event").unwrap_or_default(),
        workflow: text("workflow").unwrap_or_default(),
        project_id: text("project_id").unwrap_or_default(),
        detail,
        queued_at: w.created_at,
        state,
        answer,
        attempts: w.attempts,
        delivered_at: w.done_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_fields_whose_value_differs_are_listed_with_both_values() {
        let before = json!({"StageName": "Negotiation", "Amount": 5000, "Name": "Acme"});
        let after = json!({"StageName": "Closed Won", "Amount": 5000, "Name": "Acme", "Type": "New"});
        let changed = fields_changed(before.as_object().unwrap(), after.as_object().unwrap());
        assert_eq!(
            changed,
            [
                FieldChange {
                    field: "StageName".into(),
                    before: "Negotiation".into(),
                    after: "Closed Won".into()
                },
                FieldChange {
                    field: "Type".into(),
                    before: "empty".into(),
                    after: "New".into()
                },
            ]
        );
    }

    #[test]
    fn long_values_are_cut() {
        let long = Value::String("x".repeat(200));
        assert_eq!(shown(Some(&long)).chars().count(), VALUE_CHARS + 1);
        assert_eq!(shown(Some(&json!(12))), "12");
        assert_eq!(shown(None), "empty");
    }
}
