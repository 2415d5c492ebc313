//! Changing a project from anywhere (CLI, JSON API, portal, console): the one entry
//! point per change, so every path records the same activity, queues the same CRM
//! writebacks and sends the same invitations.

use super::Engine;
use handoff_domain::form::Submission;
use handoff_domain::people::Actor;
use handoff_domain::{ProjectId, ProjectStatus, UserId};
use handoff_store::{Completion, NewTaskFile, StoreError};

impl Engine {
    /// Completes `key` in `project` as `actor`; `source` names the channel in the activity
    /// log (`cli`, `api`, `portal`). Completing a completed task changes nothing.
    pub async fn complete_task(&self, project: ProjectId, key: &str, actor: Actor, source: &str) -> Result<Completion, StoreError> {
        self.store.complete_task(project, key, actor, source).await
    }

    /// Hands in a form's answers, a question's answer or an approval decision on `key`
    /// and, unless changes were requested, completes the task: one transaction with the
    /// same activity and writebacks as [`Engine::complete_task`]. Returns whether it
    /// completed.
    pub async fn submit_task(
        &self,
        project: ProjectId,
        key: &str,
        actor: Actor,
        source: &str,
        submission: &Submission,
    ) -> Result<bool, StoreError> {
        self.store.submit_task(project, key, actor, source, submission).await
    }

    /// Records a file already stored on disk as an upload to `key` (activity included).
    pub async fn add_task_file(
        &self,
        project: ProjectId,
        key: &str,
        actor: Actor,
        source: &str,
        file: &NewTaskFile,
        max_files: u32,
    ) -> Result<uuid::Uuid, StoreError> {
        self.store.add_task_file(project, key, actor, source, file, max_files).await
    }

    /// Adds a comment to `key` (activity included).
    pub async fn comment_on_task(
        &self,
        project: ProjectId,
        key: &str,
        actor: Actor,
        source: &str,
        body: &str,
    ) -> Result<uuid::Uuid, StoreError> {
        self.store.add_task_comment(project, key, actor, source, body).await
    }

    /// Assigns the unassigned task `key` to `assignee`, a customer teammate on the
    /// project (activity included).
    pub async fn assign_task(&self, project: ProjectId, key: &str, assignee: UserId, actor: Actor, source: &str) -> Result<(), StoreError> {
        self.store.assign_task(project, key, assignee, actor, source).await
    }

    /// Moves a project through its lifecycle. When it becomes Active, the members whose
    /// invitation waited for that (invite `now` in a Draft, or `when_active`) are invited.
    pub async fn set_project_status(
        &self,
        project: ProjectId,
        to: ProjectStatus,
        actor: Actor,
        source: &str,
    ) -> Result<ProjectStatus, StoreError> {
        if self.links.sealer.is_none() && to.visible_to_customers() {
            tracing::warn!(%project, "no master key (HANDOFF_MASTER_KEY): members waiting for this project to go live are not invited");
        }
        let now = chrono::Utc::now();
        let invitation = || self.fresh_link(now);
        self.store
            .set_project_status_inviting(project, to, actor, source, &invitation)
            .await
    }
}
