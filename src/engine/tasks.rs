//! Completing a task from anywhere (CLI, JSON API, later the portal): the one entry
//! point, so every path records the same activity and queues the same CRM writebacks.

use crate::app::AppState;
use crate::domain::ProjectId;
use crate::domain::people::Actor;
use crate::store::{Completion, StoreError};

/// Completes `key` in `project` as `actor`; `source` names the channel in the activity
/// log (`cli`, `api`, `portal`). Completing a completed task changes nothing.
pub async fn complete_task(state: &AppState, project: ProjectId, key: &str, actor: Actor, source: &str) -> Result<Completion, StoreError> {
    state.store.complete_task(project, key, actor, source).await
}
