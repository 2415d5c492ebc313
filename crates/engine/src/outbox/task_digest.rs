//! Rendering a console task email at delivery (see [`crate::task_digests`]): the
//! tasks are read as they stand now, so one completed since the click is not listed,
//! and nothing is sent to someone removed from the project meanwhile.

use handoff_domain::outbox::TaskDigestScope;
use handoff_domain::people::{MembershipStatus, UserKind};
use handoff_domain::{Email, ProjectId, UserId};
use handoff_mail::{DigestKind, DigestTask, OutgoingEmail, TaskDigestEmail, render_task_digest};
use handoff_store::Store;

use crate::task_digests::listed;

/// Whom a task email is for.
#[derive(Clone, Copy)]
pub(super) struct Recipient<'a> {
    pub project: ProjectId,
    pub user: UserId,
    pub email: &'a Email,
}

/// The email, or `None` when there is nothing to send any more (the person left the
/// project, customers can no longer see it, or every listed task is done). Err carries
/// the message and whether retrying is pointless.
pub(super) async fn render(
    store: &Store,
    base_url: &url::Url,
    product_name: &str,
    to: &Recipient<'_>,
    scope: &TaskDigestScope,
    sent_by: Option<UserId>,
) -> Result<Option<OutgoingEmail>, (String, bool)> {
    let Recipient { project, user, email } = *to;
    let transient = |e: handoff_store::StoreError| (e.to_string(), false);
    let Some(details) = store.project_details(project).await.map_err(transient)? else {
        return Ok(None);
    };
    if !details.project.status.visible_to_customers() {
        return Ok(None);
    }
    let members = store.project_members(project).await.map_err(transient)?;
    let Some((_, person)) = members
        .iter()
        .find(|(m, u)| u.id == user && m.status == MembershipStatus::Active && m.role.fits(UserKind::Customer))
    else {
        return Ok(None);
    };
    let phase_name = |id| {
        details
            .phases
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.name.clone())
            .unwrap_or_default()
    };
    let wanted = |key: &str, phase_key: &str| match scope {
        TaskDigestScope::AllOpen => true,
        TaskDigestScope::Phase { phase } => phase == phase_key,
        TaskDigestScope::Reminder { task } => task == key,
    };
    let link = |path: String| base_url.join(&path).map(String::from).map_err(|e| (e.to_string(), true));
    let mut tasks = Vec::new();
    for phase in &details.phases {
        for task in details.tasks_in(phase) {
            if listed(task.visibility, task.status) && wanted(task.key.as_str(), phase.key.as_str()) {
                tasks.push(DigestTask {
                    title: task.title.clone(),
                    phase: phase_name(task.phase_id),
                    due: task.due_date.map(|d| d.format("%-d %B %Y").to_string()),
                    url: link(format!("/projects/{project}/tasks/{}", task.key))?,
                });
            }
        }
    }
    if tasks.is_empty() {
        return Ok(None);
    }
    let kind = match scope {
        TaskDigestScope::AllOpen => DigestKind::AllOpen,
        TaskDigestScope::Phase { phase } => {
            let name = details
                .phases
                .iter()
                .find(|p| p.key.as_str() == phase)
                .map_or_else(|| phase.clone(), |p| p.name.clone());
            DigestKind::Phase(name)
        }
        TaskDigestScope::Reminder { .. } => DigestKind::Reminder,
    };
    let sender = match sent_by {
        Some(id) => store.user(id).await.map_err(transient)?.map(|u| u.display_name()),
        None => None,
    };
    let message = TaskDigestEmail {
        to: email.clone(),
        to_name: Some(person.display_name()),
        product_name: product_name.to_owned(),
        project_name: details.project.name.clone(),
        sender_name: sender,
        kind,
        tasks,
        project_url: link(format!("/projects/{project}"))?,
    };
    render_task_digest(&message).map(Some).map_err(|e| (e.to_string(), true))
}
