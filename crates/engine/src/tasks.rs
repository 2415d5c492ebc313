//! Changing a project from anywhere (CLI, JSON API, portal, console): the one entry
//! point per change, so every channel records the same activity, queues the same CRM
//! writebacks and sends the same invitations. Each change is one transaction: the
//! rules read what they need through it, and the change is made in it, so no
//! concurrent change can slip between the check and the write.

use handoff_domain::form::Submission;
use handoff_domain::people::{Actor, NewActivity};
use handoff_domain::writeback::{EventContext, WritebackEvent};
use handoff_domain::{ProjectId, ProjectStatus, TaskStatus, UserId};
use handoff_store::{InvitationKey, NewTaskFile, TaskState, Tx};

use super::Engine;
use super::error::{EngineError, EngineResult, Refusal};

/// What completing a task did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completion {
    Completed,
    /// It was already completed; nothing changed and no activity was written.
    AlreadyCompleted,
}

impl Engine {
    /// Completes `key` in `project` as `actor`; `source` names the channel in the
    /// activity log (`cli`, `api`, `portal`). Completing a completed task changes
    /// nothing, so a retried request is harmless.
    pub async fn complete_task(&self, project: ProjectId, key: &str, actor: Actor, source: &str) -> EngineResult<Completion> {
        let mut tx = self.store.begin().await?;
        let done = complete_in(&mut tx, project, key, actor, source).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Hands in a form's answers, a question's answer or an approval decision on `key`
    /// and, unless changes were requested, completes the task: one transaction with the
    /// submission, the completion, their activity and the writebacks. A completed task
    /// takes no more submissions; a blocked one takes none (nothing is kept). Returns
    /// whether it completed.
    pub async fn submit_task(
        &self,
        project: ProjectId,
        key: &str,
        actor: Actor,
        source: &str,
        submission: &Submission,
    ) -> EngineResult<bool> {
        let mut tx = self.store.begin().await?;
        let task = changeable_task(&mut tx, project, key).await?;
        if task.status == TaskStatus::Completed {
            return Err(Refusal::TaskCompleted.into());
        }
        let id = tx.insert_submission(project, task.id, submission, actor.user()).await?;
        let action = match submission {
            Submission::Form(_) => "task.form_submitted",
            Submission::Question(_) => "task.answered",
            Submission::Approval { approved: true, .. } => "task.approved",
            Submission::Approval { approved: false, .. } => "task.changes_requested",
        };
        record(
            &mut tx,
            project,
            actor.clone(),
            action,
            source,
            serde_json::json!({ "task": key, "submission": id }),
        )
        .await?;
        let completes = submission.completes();
        if completes {
            complete_in(&mut tx, project, key, actor, source).await?;
        }
        tx.commit().await?;
        Ok(completes)
    }

    /// Records a file already stored on disk as an upload to `key`, with a
    /// `task.file_uploaded` entry. Files are taken until the task is completed, at most
    /// `max_files` of them.
    pub async fn add_task_file(
        &self,
        project: ProjectId,
        key: &str,
        actor: Actor,
        source: &str,
        file: &NewTaskFile,
        max_files: u32,
    ) -> EngineResult<uuid::Uuid> {
        let mut tx = self.store.begin().await?;
        let task = changeable_task(&mut tx, project, key).await?;
        if task.status == TaskStatus::Completed {
            return Err(Refusal::NoFilesAfterCompletion.into());
        }
        if tx.task_file_count(task.id).await? >= u64::from(max_files) {
            return Err(Refusal::TooManyFiles { max: max_files }.into());
        }
        let id = tx.insert_task_file(project, task.id, file, actor.user()).await?;
        let details =
            serde_json::json!({ "task": key, "file": id, "name": file.original_name, "size": file.size_bytes, "type": file.content_type });
        record(&mut tx, project, actor, "task.file_uploaded", source, details).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adds a comment to `key`, with a `task.commented` entry.
    pub async fn comment_on_task(&self, project: ProjectId, key: &str, actor: Actor, source: &str, body: &str) -> EngineResult<uuid::Uuid> {
        let mut tx = self.store.begin().await?;
        let task = changeable_task(&mut tx, project, key).await?;
        let id = tx.insert_task_comment(project, task.id, actor.user(), body).await?;
        record(
            &mut tx,
            project,
            actor,
            "task.commented",
            source,
            serde_json::json!({ "task": key, "comment": id }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Assigns the unassigned, open task `key` to `assignee`, who must be an active
    /// customer admin or member of the project; a `task.assigned` entry records it. Two
    /// people assigning at once: the first wins, the second is refused.
    pub async fn assign_task(&self, project: ProjectId, key: &str, assignee: UserId, actor: Actor, source: &str) -> EngineResult<()> {
        let mut tx = self.store.begin().await?;
        let task = changeable_task(&mut tx, project, key).await?;
        if task.status == TaskStatus::Completed {
            return Err(Refusal::TaskCompleted.into());
        }
        if task.assignee.is_some() {
            return Err(Refusal::AlreadyTaken.into());
        }
        if !tx.is_customer_teammate(project, assignee).await? {
            return Err(Refusal::NotATeammate.into());
        }
        if !tx.assign_if_unassigned(task.id, assignee).await? {
            return Err(Refusal::AlreadyTaken.into());
        }
        let details = serde_json::json!({ "task": key, "assignee": assignee });
        record(&mut tx, project, actor, "task.assigned", source, details).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves a project through its lifecycle, refusing the transitions the domain does
    /// not allow and completing a project while any of its tasks is open
    /// ([`super::lifecycle::check`]). When it becomes visible to customers, the members
    /// whose invitation waited for that (invite `now` in a Draft, or `when_active`) are
    /// invited; without a master key they keep waiting (and are invited by a later
    /// activation or resend).
    pub async fn set_project_status(
        &self,
        project: ProjectId,
        to: ProjectStatus,
        actor: Actor,
        source: &str,
    ) -> EngineResult<ProjectStatus> {
        let mut tx = self.store.begin().await?;
        let current = tx
            .project_status(project)
            .await?
            .ok_or_else(|| EngineError::not_found("project", project))?;
        let open = if to == ProjectStatus::Completed {
            tx.open_task_count(project).await?
        } else {
            0
        };
        super::lifecycle::check(current, to, open)?;
        tx.set_project_status(project, to).await?;
        let details = serde_json::json!({ "from": current, "to": to });
        record(&mut tx, project, actor.clone(), "project.status_changed", source, details).await?;
        let context = EventContext {
            actor: actor.user(),
            ..EventContext::default()
        };
        tx.queue_writebacks(project, &[(WritebackEvent::StatusChanged, context)], None)
            .await?;
        if to.visible_to_customers() && !current.visible_to_customers() {
            let awaiting = tx.members_awaiting_invitation(project).await?;
            if !awaiting.is_empty() {
                let now = chrono::Utc::now();
                let links: Vec<_> = awaiting.iter().map_while(|_| self.fresh_link(now)).collect();
                if links.is_empty() {
                    tracing::warn!(
                        %project,
                        waiting = awaiting.len(),
                        "no master key (HANDOFF_MASTER_KEY): the members waiting for this project to go live are not invited"
                    );
                }
                let rows: Vec<_> = awaiting
                    .iter()
                    .zip(&links)
                    .map(|((user, email), link)| (*user, email, link))
                    .collect();
                tx.issue_invitations(project, &rows, InvitationKey::FirstToProject).await?;
            }
        }
        tx.commit().await?;
        Ok(to)
    }
}

/// The task `key`, refusing changes to an archived project's tasks. Not found when
/// the project or the task does not exist.
async fn changeable_task(tx: &mut Tx, project: ProjectId, key: &str) -> EngineResult<TaskState> {
    let Some(task) = tx.task_state(project, key).await? else {
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

/// [`Engine::complete_task`] inside the caller's transaction, for changes that
/// complete a task as part of something larger (a form's answers and the completion
/// are one). A task is completed only when every task it depends on is.
pub(crate) async fn complete_in(tx: &mut Tx, project: ProjectId, key: &str, actor: Actor, source: &str) -> EngineResult<Completion> {
    let task = changeable_task(tx, project, key).await?;
    if task.status == TaskStatus::Completed {
        return Ok(Completion::AlreadyCompleted);
    }
    let waits_for = tx.open_dependencies(task.id).await?;
    if !waits_for.is_empty() {
        return Err(Refusal::Blocked {
            task: key.to_owned(),
            waits_for,
        }
        .into());
    }
    let before = tx.writeback_snapshot(project).await?.map(|s| s.progress);
    tx.mark_task_completed(project, task.id, actor.user()).await?;
    record(
        tx,
        project,
        actor.clone(),
        "task.completed",
        source,
        serde_json::json!({ "task": key }),
    )
    .await?;
    let (phase, open_in_phase) = tx.phase_open_tasks(project, task.phase_id).await?;
    let after = tx.writeback_snapshot(project).await?;
    let events = completion_events(
        task.title,
        (open_in_phase == 0).then_some(phase),
        before != after.as_ref().map(|s| s.progress),
        actor.user(),
    );
    tx.queue_writebacks(project, &events, after).await?;
    Ok(Completion::Completed)
}

/// What the CRM hears of a completion (the workflow's writeback rules decide at
/// delivery what each event writes): the task, its phase when this finished it, and
/// the progress when it moved.
fn completion_events(
    task_title: String,
    finished_phase: Option<String>,
    progress_moved: bool,
    actor: Option<UserId>,
) -> Vec<(WritebackEvent, EventContext)> {
    let context = EventContext {
        task_title: Some(task_title),
        phase_name: None,
        actor,
    };
    let mut events = vec![(WritebackEvent::TaskCompleted, context.clone())];
    if let Some(phase) = finished_phase {
        let phase_context = EventContext {
            phase_name: Some(phase),
            ..context.clone()
        };
        events.push((WritebackEvent::PhaseCompleted, phase_context));
    }
    if progress_moved {
        events.push((WritebackEvent::ProgressChanged, context));
    }
    events
}

/// Appends an activity entry for a change to `project`.
pub(crate) async fn record(
    tx: &mut Tx,
    project: ProjectId,
    actor: Actor,
    action: &str,
    source: &str,
    details: serde_json::Value,
) -> Result<(), handoff_store::StoreError> {
    tx.record_activity(&NewActivity {
        project_id: Some(project),
        actor,
        action: action.into(),
        source: source.into(),
        details,
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_completion_fires_its_task_then_its_phase_then_the_progress() {
        let events = completion_events("Sign".into(), Some("Kickoff".into()), true, None);
        let kinds: Vec<WritebackEvent> = events.iter().map(|(e, _)| *e).collect();
        assert_eq!(
            kinds,
            [
                WritebackEvent::TaskCompleted,
                WritebackEvent::PhaseCompleted,
                WritebackEvent::ProgressChanged
            ]
        );
        assert_eq!(events[1].1.phase_name.as_deref(), Some("Kickoff"));
        assert_eq!(events[0].1.task_title.as_deref(), Some("Sign"));
    }

    #[test]
    fn a_completion_that_moves_nothing_else_fires_only_its_task() {
        let events = completion_events("Sign".into(), None, false, None);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].0, WritebackEvent::TaskCompleted);
    }
}
