//! Reviewing uploaded documents: staff approve a file or reject it with a note the
//! customer reads in the portal. A rejection of a file whose task was completed
//! reopens the task, so the customer can hand in a better one: one transaction with
//! the review, the reopening, their activity and the CRM's progress writeback.

use handoff_domain::people::Actor;
use handoff_domain::review::{Decision, MAX_NOTE_CHARS, ReviewStatus};
use handoff_domain::writeback::{EventContext, WritebackEvent};
use handoff_domain::{ProjectStatus, TaskStatus};
use uuid::Uuid;

use super::Engine;
use super::error::{EngineError, EngineResult, Refusal};
use super::tasks::record;

/// What a review did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Reviewed {
    pub file: Uuid,
    pub status: ReviewStatus,
    /// False when the file already had this decision (and note): nothing was written.
    pub changed: bool,
    /// The rejection reopened the file's completed task.
    pub reopened_task: bool,
}

impl Engine {
    /// Approves `file` or rejects it with a note (required, trimmed, at most
    /// [`MAX_NOTE_CHARS`]), as `actor` from `source`; a `file.approved` or
    /// `file.rejected` entry records it. A decision may be revised; the same decision
    /// again changes nothing, so a double-submitted form is harmless. An archived
    /// project's files are not reviewed.
    pub async fn review_file(&self, file: Uuid, decision: &Decision, actor: Actor, source: &str) -> EngineResult<Reviewed> {
        let note = match decision {
            Decision::Approve => None,
            Decision::Reject { note } => {
                let note = note.trim();
                if note.is_empty() {
                    return Err(Refusal::RejectionNeedsNote.into());
                }
                if note.chars().count() > MAX_NOTE_CHARS {
                    return Err(Refusal::NoteTooLong { max: MAX_NOTE_CHARS }.into());
                }
                Some(note)
            }
        };
        let status = decision.status();
        let mut tx = self.store.begin().await?;
        let found = tx
            .file_under_review(file)
            .await?
            .ok_or_else(|| EngineError::not_found("file", file))?;
        if found.project_status == ProjectStatus::Archived {
            return Err(Refusal::ProjectArchived.into());
        }
        if found.review_status == status && found.review_note.as_deref() == note {
            return Ok(Reviewed {
                file,
                status,
                changed: false,
                reopened_task: false,
            });
        }
        let project = found.project_id;
        tx.set_file_review(file, status, note, actor.user()).await?;
        let action = match status {
            ReviewStatus::Rejected => "file.rejected",
            _ => "file.approved",
        };
        let details = serde_json::json!({
            "task": found.task_key, "file": file, "name": found.original_name, "note": note,
        });
        record(&mut tx, project, actor.clone(), action, source, details).await?;
        let reopen = status == ReviewStatus::Rejected && found.task_status == TaskStatus::Completed;
        if reopen {
            let before = tx.writeback_snapshot(project).await?.map(|s| s.progress);
            tx.reopen_task(project, found.task_id).await?;
            let details =
                serde_json::json!({ "task": found.task_key, "file": file, "name": found.original_name, "reason": "file rejected" });
            record(&mut tx, project, actor.clone(), "task.reopened", source, details).await?;
            let after = tx.writeback_snapshot(project).await?;
            if before != after.as_ref().map(|s| s.progress) {
                let context = EventContext {
                    task_title: Some(found.task_title.clone()),
                    phase_name: None,
                    actor: actor.user(),
                };
                tx.queue_writebacks(project, &[(WritebackEvent::ProgressChanged, context)], after)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(Reviewed {
            file,
            status,
            changed: true,
            reopened_task: reopen,
        })
    }
}
