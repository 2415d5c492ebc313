//! What staff change on a project's tasks, from the console or the JSON API: a task's
//! status (completing it the one way every channel does, reopening it), its assignee
//! (one task, or several at once), its due date, comments shared with the customer and
//! internal notes. As in [`super::tasks`], each change is one transaction holding the
//! rule checks, the change, its activity entry and the CRM writebacks it queues.
//!
//! The customer's "take an unassigned task" rule is [`Engine::assign_task`]; staff give
//! any open task to anyone who can work on it, which is a different rule.

use chrono::NaiveDate;
use serde::Serialize;

use handoff_domain::people::Actor;
use handoff_domain::writeback::{EventContext, WritebackEvent};
use handoff_domain::{ProjectId, ProjectStatus, TaskStatus, UserId, Visibility};
use handoff_store::{AssigneeStanding, StaffTaskState, Tx};

use super::Engine;
use super::error::{EngineError, EngineResult, Refusal};
use super::tasks::{Completion, complete_in, record};

/// How many tasks one bulk reassignment may name: a project page's worth, and a bound
/// on one transaction's size.
pub const MAX_BULK_TASKS: usize = 500;

/// A double-submitted comment (same author, task, list and text) within this many
/// seconds of the first is the same comment.
const DUPLICATE_COMMENT_SECONDS: i64 = 120;

/// What a staff change did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Changed,
    /// The task already was so; nothing changed and no activity was written (a form
    /// sent twice does nothing twice).
    Unchanged,
}

impl Outcome {
    pub fn changed(self) -> bool {
        self == Outcome::Changed
    }
}

/// A status as staff may set it: `pending`, `in_progress` or `completed` (Blocked is
/// derived from dependencies, never set).
pub fn parse_task_status(text: &str) -> Result<TaskStatus, Refusal> {
    match text.trim() {
        "pending" => Ok(TaskStatus::Pending),
        "in_progress" => Ok(TaskStatus::InProgress),
        "completed" => Ok(TaskStatus::Completed),
        other => Err(Refusal::UnknownTaskStatus { given: other.to_owned() }),
    }
}

/// A due date as typed (`YYYY-MM-DD`, what a date input sends); empty clears it.
pub fn parse_due_date(text: &str) -> Result<Option<NaiveDate>, Refusal> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    // Ten characters: chrono alone would take a five-digit year, always a typo here.
    let bad = || Refusal::BadDueDate { given: text.to_owned() };
    if text.len() != 10 {
        return Err(bad());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map(Some).map_err(|_| bad())
}

/// An assignee as sent (a user id); empty means no one.
pub fn parse_assignee(text: &str) -> Result<Option<UserId>, Refusal> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| Refusal::UnknownAssignee { given: text.to_owned() })
}

impl Engine {
    /// Sets the status of `key`: `completed` completes it as every channel does (its
    /// dependencies must be done; writebacks for the task, its phase and the progress);
    /// `pending` or `in_progress` on a completed task reopens it (`task.reopened`, and
    /// a progress writeback when the progress moved); between the two open statuses it
    /// is `task.status_changed`. Setting the status a task has changes nothing.
    pub async fn set_task_status(
        &self,
        project: ProjectId,
        key: &str,
        to: TaskStatus,
        actor: Actor,
        source: &str,
    ) -> EngineResult<Outcome> {
        let mut tx = self.store.begin().await?;
        let outcome = if to == TaskStatus::Completed {
            match complete_in(&mut tx, project, key, actor, source).await? {
                Completion::Completed => Outcome::Changed,
                Completion::AlreadyCompleted => Outcome::Unchanged,
            }
        } else {
            set_open_status(&mut tx, project, key, to, actor, source).await?
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Gives the open task `key` to `assignee` — any staff member who is not revoked,
    /// or an active customer admin or member of this project (customers only on tasks
    /// they can see) — or to no one. A `task.reassigned` entry records it.
    pub async fn reassign_task(
        &self,
        project: ProjectId,
        key: &str,
        assignee: Option<UserId>,
        actor: Actor,
        source: &str,
    ) -> EngineResult<Outcome> {
        let mut tx = self.store.begin().await?;
        let outcome = reassign_in(&mut tx, project, key, assignee, actor, source).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// [`Engine::reassign_task`] for several tasks in one transaction: all of them or
    /// none. The refusal names the first task that could not be reassigned. One
    /// activity entry per task that changed; returns how many did.
    pub async fn reassign_tasks(
        &self,
        project: ProjectId,
        keys: &[String],
        assignee: Option<UserId>,
        actor: Actor,
        source: &str,
    ) -> EngineResult<usize> {
        let mut unique: Vec<&str> = Vec::with_capacity(keys.len());
        for key in keys.iter().map(|k| k.trim()).filter(|k| !k.is_empty()) {
            if !unique.contains(&key) {
                unique.push(key);
            }
        }
        if unique.is_empty() {
            return Err(Refusal::NoTasksChosen.into());
        }
        if unique.len() > MAX_BULK_TASKS {
            return Err(Refusal::TooManyTasks { max: MAX_BULK_TASKS }.into());
        }
        let mut tx = self.store.begin().await?;
        if tx.project_status(project).await?.is_none() {
            return Err(EngineError::not_found("project", project));
        }
        let mut changed = 0;
        for key in unique {
            match reassign_in(&mut tx, project, key, assignee, actor.clone(), source).await {
                Ok(outcome) => changed += usize::from(outcome.changed()),
                // Dropping `tx` rolls back the tasks reassigned before this one.
                Err(e) => return Err(in_bulk(key, e)),
            }
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Sets or clears (`None`) the due date of `key`, with a `task.due_date_changed`
    /// entry.
    pub async fn set_task_due_date(
        &self,
        project: ProjectId,
        key: &str,
        due: Option<NaiveDate>,
        actor: Actor,
        source: &str,
    ) -> EngineResult<Outcome> {
        let mut tx = self.store.begin().await?;
        let task = changeable(&mut tx, project, key).await?;
        if task.due_date == due {
            return Ok(Outcome::Unchanged);
        }
        tx.set_task_due_date(task.id, due).await?;
        let details = serde_json::json!({ "task": key, "from": task.due_date, "to": due });
        record(&mut tx, project, actor, "task.due_date_changed", source, details).await?;
        tx.commit().await?;
        Ok(Outcome::Changed)
    }

    /// Adds a comment from staff to `key`: shared with the customer (`task.commented`,
    /// only on tasks customers can see) or an internal note (`internal`;
    /// `task.noted`), which customers never see. The same text sent again at once by
    /// the same person is the same comment: its id is returned and nothing is added.
    pub async fn staff_comment(
        &self,
        project: ProjectId,
        key: &str,
        body: &str,
        internal: bool,
        actor: Actor,
        source: &str,
    ) -> EngineResult<uuid::Uuid> {
        let what = if internal { "an internal note" } else { "a comment" };
        let body = handoff_domain::form::long_text(body, what).map_err(Refusal::BadComment)?;
        let mut tx = self.store.begin().await?;
        let task = changeable(&mut tx, project, key).await?;
        if !internal && task.visibility == Visibility::Internal {
            return Err(Refusal::SharedCommentOnInternalTask { task: key.to_owned() }.into());
        }
        let author = actor.user();
        if let Some((id, last, at)) = tx.latest_comment_by(task.id, author, internal).await?
            && last == body
            && (chrono::Utc::now() - at).num_seconds() < DUPLICATE_COMMENT_SECONDS
        {
            return Ok(id);
        }
        let id = tx.insert_staff_comment(project, task.id, author, &body, internal).await?;
        let (action, field) = if internal {
            ("task.noted", "note")
        } else {
            ("task.commented", "comment")
        };
        record(
            &mut tx,
            project,
            actor,
            action,
            source,
            serde_json::json!({ "task": key, field: id }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }
}

/// The task `key` as a staff change needs it, refusing changes to an archived
/// project's tasks. Not found when the project or the task does not exist.
async fn changeable(tx: &mut Tx, project: ProjectId, key: &str) -> EngineResult<StaffTaskState> {
    let Some(task) = tx.staff_task_state(project, key).await? else {
        if tx.project_status(project).await?.is_none() {
            return Err(EngineError::not_found("project", project));
        }
        return Err(EngineError::not_found("task", format!("`{key}` in project {project}")));
    };
    if task.project_status == ProjectStatus::Archived {
        return Err(Refusal::ProjectArchived.into());
    }
    Ok(task)
}

/// Sets `pending` or `in_progress` on `key` (reopening it when it was completed).
async fn set_open_status(tx: &mut Tx, project: ProjectId, key: &str, to: TaskStatus, actor: Actor, source: &str) -> EngineResult<Outcome> {
    if !matches!(to, TaskStatus::Pending | TaskStatus::InProgress) {
        return Err(Refusal::UnknownTaskStatus {
            given: to.as_str().to_owned(),
        }
        .into());
    }
    let task = changeable(tx, project, key).await?;
    if task.status == to {
        return Ok(Outcome::Unchanged);
    }
    if to == TaskStatus::InProgress {
        let waits_for = tx.open_dependencies(task.id).await?;
        if !waits_for.is_empty() {
            return Err(Refusal::Blocked {
                task: key.to_owned(),
                waits_for,
            }
            .into());
        }
    }
    if task.status != TaskStatus::Completed {
        tx.set_open_task_status(project, task.id, to).await?;
        let details = serde_json::json!({ "task": key, "from": task.status, "to": to });
        record(tx, project, actor, "task.status_changed", source, details).await?;
        return Ok(Outcome::Changed);
    }
    // A completed (or converted) project is one whose work is done: it is made active
    // again first, so a reopened task never sits in a project that says it is finished.
    if matches!(task.project_status, ProjectStatus::Completed | ProjectStatus::Converted) {
        return Err(Refusal::ReopenInClosedProject {
            status: task.project_status,
        }
        .into());
    }
    let before = tx.writeback_snapshot(project).await?.map(|s| s.progress);
    tx.set_open_task_status(project, task.id, to).await?;
    record(
        tx,
        project,
        actor.clone(),
        "task.reopened",
        source,
        serde_json::json!({ "task": key, "to": to }),
    )
    .await?;
    let after = tx.writeback_snapshot(project).await?;
    if before != after.as_ref().map(|s| s.progress) {
        let context = EventContext {
            task_title: Some(task.title),
            phase_name: None,
            actor: actor.user(),
        };
        tx.queue_writebacks(project, &[(WritebackEvent::ProgressChanged, context)], after)
            .await?;
    }
    Ok(Outcome::Changed)
}

/// [`Engine::reassign_task`] inside the caller's transaction.
async fn reassign_in(
    tx: &mut Tx,
    project: ProjectId,
    key: &str,
    assignee: Option<UserId>,
    actor: Actor,
    source: &str,
) -> EngineResult<Outcome> {
    let task = changeable(tx, project, key).await?;
    if task.assignee == assignee {
        return Ok(Outcome::Unchanged);
    }
    if task.status == TaskStatus::Completed {
        return Err(Refusal::ReassignCompleted { task: key.to_owned() }.into());
    }
    if let Some(user) = assignee {
        let Some((name, standing)) = tx.assignee_standing(project, user).await? else {
            return Err(Refusal::UnknownAssignee { given: user.to_string() }.into());
        };
        match standing {
            AssigneeStanding::Staff => {}
            AssigneeStanding::RevokedStaff => return Err(Refusal::AssigneeRevoked { name }.into()),
            AssigneeStanding::NotOnProject => return Err(Refusal::AssigneeNotOnProject { name }.into()),
            AssigneeStanding::Teammate if task.visibility == Visibility::Internal => {
                return Err(Refusal::InternalTaskForCustomer { task: key.to_owned() }.into());
            }
            AssigneeStanding::Teammate => {}
        }
    }
    tx.set_task_assignee(task.id, assignee).await?;
    let details = serde_json::json!({ "task": key, "from": task.assignee, "to": assignee });
    record(tx, project, actor, "task.reassigned", source, details).await?;
    Ok(Outcome::Changed)
}

/// A refusal (or a task not found) in a bulk reassignment, naming the task.
fn in_bulk(key: &str, error: EngineError) -> EngineError {
    let reason = match &error {
        EngineError::Refused(r) => r.to_string(),
        EngineError::Store(handoff_store::StoreError::NotFound { what: "task", .. }) => "there is no such task in this project".to_owned(),
        EngineError::Store(_) => return error,
    };
    Refusal::BulkReassign {
        task: key.to_owned(),
        reason,
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_dates_are_iso_dates_or_empty() {
        assert_eq!(
            parse_due_date(" 2027-01-31 "),
            Ok(Some(NaiveDate::from_ymd_opt(2027, 1, 31).unwrap_or_default()))
        );
        assert_eq!(parse_due_date(""), Ok(None));
        for bad in ["2027-02-30", "31/01/2027", "tomorrow", "20270-01-01", "2027-1-31"] {
            assert!(matches!(parse_due_date(bad), Err(Refusal::BadDueDate { .. })), "{bad}");
        }
    }

    #[test]
    fn staff_set_the_three_stored_statuses_and_never_blocked() {
        assert_eq!(parse_task_status("completed"), Ok(TaskStatus::Completed));
        assert_eq!(parse_task_status("in_progress"), Ok(TaskStatus::InProgress));
        assert!(parse_task_status("blocked").is_err());
    }

    #[test]
    fn an_assignee_is_a_user_id_or_no_one() {
        assert_eq!(parse_assignee(""), Ok(None));
        assert!(matches!(parse_assignee("dana"), Err(Refusal::UnknownAssignee { .. })));
    }
}
