//! Activity: the audit trail of one project (its Activity tab) and of all of them
//! (`/console/activity`) — who, what (a sentence per action), when and from where —
//! filtered by type, searched on the server (the store's full-text index) and paged
//! by keyset (`?before=<id>`).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::pages::{Section, render};
use super::project_frame::{self, ProjectFrame, ProjectTab};
use super::session::Staff;
use crate::WebState;
use crate::page_error::{PageError, PageResult};
use handoff_domain::ProjectId;
use handoff_store::{TrailEntry, TrailQuery, search_words};

const PAGE_SIZE: u32 = 50;

/// The types the filter offers (an entry's type is its action before the dot).
pub(crate) const TYPES: &[(&str, &str)] = &[
    ("task", "Tasks"),
    ("file", "Documents"),
    ("project", "Project"),
    ("member", "Members"),
    ("invitation", "Invitations"),
    ("portal", "Portal sign-ins"),
    ("profile", "Profiles"),
    ("staff", "Staff"),
];

/// A type as the filter takes it: lower-case letters and underscores, or the query
/// is refused (nothing else could name one).
pub(crate) fn parse_type(raw: Option<&str>) -> Result<Option<String>, String> {
    match raw.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) if t.len() <= 40 && t.chars().all(|c| c.is_ascii_lowercase() || c == '_') => Ok(Some(t.to_owned())),
        Some(t) => Err(format!("`{t}` is not an activity type.")),
    }
}

/// `?type=task&q=words&before=<id>`
#[derive(Debug, Default, Deserialize)]
pub(super) struct TrailParams {
    #[serde(rename = "type")]
    kind: Option<String>,
    q: Option<String>,
    before: Option<String>,
}

/// `GET /console/activity`: every project's trail.
pub(super) async fn global(State(state): State<WebState>, me: Staff, Query(params): Query<TrailParams>) -> PageResult<Response> {
    show(&state, &me, None, &params).await
}

/// `GET /console/projects/{id}/activity`: the project's Activity tab.
pub(super) async fn project_tab(
    State(state): State<WebState>,
    me: Staff,
    Path(id): Path<String>,
    Query(params): Query<TrailParams>,
) -> PageResult<Response> {
    let (details, frame) = project_frame::load(&state, &id, ProjectTab::Activity).await?;
    show(&state, &me, Some((details.project.id, frame)), &params).await
}

#[derive(Serialize)]
struct TypeOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Serialize)]
struct EntryView {
    id: i64,
    who: String,
    what: String,
    at: String,
    channel: &'static str,
    project_name: Option<String>,
    project_href: Option<String>,
}

#[derive(Serialize)]
struct ActivityPage {
    frame: Option<ProjectFrame>,
    base: String,
    types: Vec<TypeOption>,
    q: String,
    entries: Vec<EntryView>,
    next_href: Option<String>,
    filtered: bool,
}

async fn show(state: &WebState, me: &Staff, project: Option<(ProjectId, ProjectFrame)>, params: &TrailParams) -> PageResult<Response> {
    let kind = parse_type(params.kind.as_deref()).map_err(PageError::BadRequest)?;
    let before = match params.before.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        None => None,
        Some(b) => Some(
            b.parse::<i64>()
                .map_err(|_| PageError::BadRequest("`before` is not an entry id.".into()))?,
        ),
    };
    let q = params.q.as_deref().unwrap_or_default().trim().to_owned();
    let (project_id, frame) = project.unzip();
    let page = state
        .store
        .activity_trail(&TrailQuery {
            project: project_id,
            kind: kind.clone(),
            words: search_words(&q),
            before,
            limit: PAGE_SIZE,
        })
        .await?;
    let base = match &frame {
        Some(f) => format!("{}/activity", f.href),
        None => "/console/activity".to_owned(),
    };
    let next_href = page.next_before.map(|b| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(k) = &kind {
            query.append_pair("type", k);
        }
        if !q.is_empty() {
            query.append_pair("q", &q);
        }
        query.append_pair("before", &b.to_string());
        format!("{base}?{}", query.finish())
    });
    let global = frame.is_none();
    let body = ActivityPage {
        types: TYPES
            .iter()
            .map(|(value, label)| TypeOption {
                value,
                label,
                selected: kind.as_deref() == Some(*value),
            })
            .collect(),
        entries: page
            .entries
            .into_iter()
            .map(|e| EntryView {
                id: e.id,
                who: who(&e),
                what: sentence(&e),
                at: e.at.format("%Y-%m-%d %H:%M UTC").to_string(),
                channel: channel(&e.source),
                project_href: global.then(|| e.project_id.map(|p| format!("/console/projects/{p}"))).flatten(),
                project_name: e.project_name.filter(|_| global),
            })
            .collect(),
        filtered: kind.is_some() || !q.is_empty(),
        q,
        next_href,
        base,
        frame,
    };
    let title = match &body.frame {
        Some(f) => format!("Activity · {}", f.name),
        None => "Activity".to_owned(),
    };
    render(state, "console/activity.html", &title, Some(me), Section::Activity, &body)
}

/// Who did it: the person's name, or handoff itself (a workflow, a schedule, an API
/// token: the channel says which).
pub(crate) fn who(e: &TrailEntry) -> String {
    e.actor_name.clone().unwrap_or_else(|| "handoff".to_owned())
}

/// Where a change came from, as staff call it.
pub(crate) fn channel(source: &str) -> &'static str {
    match source.split(':').next().unwrap_or_default() {
        "portal" => "Portal",
        "console" => "Console",
        "api" => "API",
        "crm" => "CRM",
        "cli" => "CLI",
        _ => "Other",
    }
}

/// What happened, as a sentence that follows the actor's name ("completed Sign the
/// contract"). Actions without a sentence of their own read as their words.
pub(crate) fn sentence(e: &TrailEntry) -> String {
    let text = |key: &str| e.details.get(key).and_then(serde_json::Value::as_str).map(str::to_owned);
    let task = e.task_title.clone().or_else(|| text("task")).unwrap_or_else(|| "a task".to_owned());
    let file = text("name").unwrap_or_else(|| "a file".to_owned());
    let role = text("role").map(|r| r.replace('_', " "));
    match e.action.as_str() {
        "task.completed" => format!("completed {task}"),
        "task.reopened" => format!("reopened {task}"),
        "task.form_submitted" => format!("submitted the form of {task}"),
        "task.answered" => format!("answered {task}"),
        "task.approved" => format!("approved {task}"),
        "task.changes_requested" => format!("asked for changes on {task}"),
        "task.file_uploaded" => format!("uploaded {file} to {task}"),
        "task.commented" => format!("commented on {task}"),
        "task.assigned" => format!("assigned {task}"),
        "file.approved" => format!("approved {file} on {task}"),
        "file.rejected" => match text("note") {
            Some(note) => format!("rejected {file} on {task}: “{note}”"),
            None => format!("rejected {file} on {task}"),
        },
        "project.created" => match text("name") {
            Some(name) => format!("created the project {name}"),
            None => "created the project".to_owned(),
        },
        "project.status_changed" => match (text("from"), text("to")) {
            (Some(from), Some(to)) => format!("moved the project from {from} to {to}"),
            _ => "changed the project's status".to_owned(),
        },
        "project.custom_field_changed" => format!("changed {}", text("field").unwrap_or_else(|| "a field".into())),
        "member.added" => format!("added a {}", role.unwrap_or_else(|| "member".into())),
        "member.invited" => format!("invited a {}", role.unwrap_or_else(|| "teammate".into())),
        "member.reactivated" => "brought a member back".to_owned(),
        "member.role_changed" => "changed a member's role".to_owned(),
        "member.deactivated" => "removed a member".to_owned(),
        "member.removed_in_crm" => "saw a member removed in the CRM".to_owned(),
        "invitation.reissued" => "sent a fresh invitation link".to_owned(),
        "invitation.requested" => "asked for a fresh sign-in link".to_owned(),
        "invitation.revoked" => "revoked an invitation link".to_owned(),
        "portal.signed_in" => "signed in to the portal".to_owned(),
        "profile.updated" => "updated their profile".to_owned(),
        "profile.picture_changed" => "changed their picture".to_owned(),
        "profile.picture_removed" => "removed their picture".to_owned(),
        "connection.connected" => match (text("connection"), text("account")) {
            (Some(c), Some(a)) => format!("connected the CRM account {a} to connection {c}"),
            (Some(c), None) => format!("connected a CRM account to connection {c}"),
            _ => "connected a CRM account".to_owned(),
        },
        "connection.disconnected" => match text("connection") {
            Some(c) => format!("disconnected connection {c} (its tokens revoked at the CRM)"),
            None => "disconnected a CRM connection".to_owned(),
        },
        other => other.replace(['.', '_'], " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use handoff_domain::people::Actor;

    fn entry(action: &str, details: serde_json::Value, task_title: Option<&str>) -> TrailEntry {
        TrailEntry {
            id: 1,
            at: chrono::Utc::now(),
            project_id: None,
            project_name: None,
            actor: Actor::System,
            actor_name: None,
            action: action.into(),
            source: "console".into(),
            details,
            task_title: task_title.map(str::to_owned),
        }
    }

    #[test]
    fn entries_read_as_sentences_with_the_task_title() {
        let e = entry("task.completed", serde_json::json!({ "task": "sign" }), Some("Sign the contract"));
        assert_eq!(sentence(&e), "completed Sign the contract");
        let e = entry(
            "file.rejected",
            serde_json::json!({ "task": "sign", "name": "scan.pdf", "note": "Too blurry" }),
            None,
        );
        assert_eq!(sentence(&e), "rejected scan.pdf on sign: “Too blurry”");
        assert_eq!(
            sentence(&entry("email.reminder_sent", serde_json::json!({}), None)),
            "email reminder sent"
        );
    }

    #[test]
    fn sources_name_their_channel_and_types_are_words() {
        assert_eq!(channel("api:nightly"), "API");
        assert_eq!(channel("crm:salesforce"), "CRM");
        assert_eq!(channel("portal"), "Portal");
        assert_eq!(parse_type(Some("task")), Ok(Some("task".into())));
        assert_eq!(parse_type(Some(" ")), Ok(None));
        assert!(parse_type(Some("task' OR 1=1")).is_err());
    }
}
