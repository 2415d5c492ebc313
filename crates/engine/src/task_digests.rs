//! Staff email customer members their open tasks from the console or the API: all of
//! them, one phase's, or a reminder for one task. The emails go through the outbox,
//! keyed by the sending form's one-time nonce (or the API's `Idempotency-Key`), so a
//! double click or a retried request queues nothing the second time.

use serde::Serialize;

use handoff_domain::outbox::TaskDigestScope;
use handoff_domain::people::{Actor, UserKind};
use handoff_domain::{Email, ProjectId, TaskStatus, UserId, Visibility};

use super::Engine;
use super::error::{EngineError, EngineResult, Refusal};
use super::tasks::record;

/// What to send, to whom, once.
#[derive(Clone, Debug)]
pub struct TaskDigestRequest {
    pub scope: TaskDigestScope,
    pub recipients: Vec<UserId>,
    /// One per form shown (or API request): 8 to 64 letters, digits or dashes.
    pub nonce: String,
}

/// What sending did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TaskDigestOutcome {
    /// `emails` queued (one per recipient), listing `tasks` open tasks today.
    Queued { emails: u64, tasks: usize },
    /// Emails were queued with this nonce before: nothing was queued again.
    AlreadySent,
}

/// Whether `nonce` is a usable one-time code.
pub fn valid_nonce(nonce: &str) -> bool {
    (8..=64).contains(&nonce.len()) && nonce.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

impl Engine {
    /// Queues one email per recipient listing the scope's open tasks customers can see,
    /// with an `email.tasks_sent` entry, in one transaction. Every recipient must be an
    /// active customer member and the scope must have something open; otherwise nothing
    /// is queued.
    pub async fn send_task_digest(
        &self,
        project: ProjectId,
        request: &TaskDigestRequest,
        actor: Actor,
        source: &str,
    ) -> EngineResult<TaskDigestOutcome> {
        if !valid_nonce(&request.nonce) {
            return Err(Refusal::BadNonce.into());
        }
        if request.recipients.is_empty() {
            return Err(Refusal::NoRecipients.into());
        }
        let mut tx = self.store.begin().await?;
        let status = tx
            .project_status(project)
            .await?
            .ok_or_else(|| EngineError::not_found("project", project))?;
        if tx.task_digest_nonce_used(project, &request.nonce).await? {
            return Ok(TaskDigestOutcome::AlreadySent);
        }
        if !status.visible_to_customers() {
            return Err(Refusal::HiddenFromCustomers { status }.into());
        }
        let mut recipients: Vec<(UserId, Email)> = Vec::with_capacity(request.recipients.len());
        for user in &request.recipients {
            match tx.active_member_contact(project, *user).await? {
                Some((role, email)) if role.fits(UserKind::Customer) => {
                    if !recipients.iter().any(|(u, _)| u == user) {
                        recipients.push((*user, email));
                    }
                }
                _ => return Err(Refusal::NotACustomerMember.into()),
            }
        }
        let open = tx.open_customer_tasks(project).await?;
        let tasks = match &request.scope {
            TaskDigestScope::AllOpen => open.len(),
            TaskDigestScope::Phase { phase } => {
                if !tx.phase_exists(project, phase).await? {
                    return Err(Refusal::UnknownPhase { phase: phase.clone() }.into());
                }
                open.iter().filter(|(_, p)| p == phase).count()
            }
            TaskDigestScope::Reminder { task } => {
                let state = tx
                    .task_state(project, task)
                    .await?
                    .ok_or_else(|| EngineError::not_found("task", task))?;
                let listed = open.iter().any(|(t, _)| t == task);
                if state.status == TaskStatus::Completed || !listed {
                    return Err(Refusal::TaskNotOpenForCustomers { task: task.clone() }.into());
                }
                1
            }
        };
        if tasks == 0 {
            return Err(Refusal::NothingOpen.into());
        }
        let emails = tx
            .queue_task_digests(project, &request.nonce, &recipients, &request.scope, actor.user())
            .await?;
        if emails == 0 {
            // A concurrent request with the same nonce queued them first.
            return Ok(TaskDigestOutcome::AlreadySent);
        }
        let details = serde_json::json!({
            "scope": request.scope.as_str(), "which": request.scope, "tasks": tasks,
            "recipients": recipients.iter().map(|(u, e)| serde_json::json!({ "user": u, "email": e })).collect::<Vec<_>>(),
        });
        record(&mut tx, project, actor, "email.tasks_sent", source, details).await?;
        tx.commit().await?;
        Ok(TaskDigestOutcome::Queued { emails, tasks })
    }
}

/// Whether a task belongs in a customer's task email (open and visible to them).
pub(crate) fn listed(visibility: Visibility, status: TaskStatus) -> bool {
    visibility == Visibility::Customer && status != TaskStatus::Completed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_8_to_64_letters_digits_or_dashes() {
        assert!(valid_nonce("0193f2a4-7c1e-7d55-a1c2-3f9a1b2c3d4e"));
        assert!(valid_nonce("abcdefgh"));
        for bad in ["", "short", "has space in it", "under_score", "per%cent-percent", &"x".repeat(65)] {
            assert!(!valid_nonce(bad), "{bad}");
        }
    }
}
