//! What the CRM hears of a project: the events a workflow's writeback rules may react
//! to, and the outbox row queued for each, carrying the project as the event left it.
//! The store queues these rows; the engine decides at delivery what they write.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{ProjectId, ProjectStatus};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WritebackEvent {
    TaskCompleted,
    PhaseCompleted,
    ProgressChanged,
    /// Includes the project's creation, as its first status.
    StatusChanged,
}

impl WritebackEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            WritebackEvent::TaskCompleted => "task_completed",
            WritebackEvent::PhaseCompleted => "phase_completed",
            WritebackEvent::ProgressChanged => "progress_changed",
            WritebackEvent::StatusChanged => "status_changed",
        }
    }
}

/// The project as an event left it (or as it stands, at delivery).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub status: ProjectStatus,
    pub progress: u8,
    pub current_phase: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub goal_date: Option<NaiveDate>,
}

/// An outbox row's payload: an event on a project that came from a CRM record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueuedWriteback {
    pub workflow: String,
    pub record_id: String,
    pub project_id: ProjectId,
    pub event: WritebackEvent,
    pub task_title: Option<String>,
    pub phase_name: Option<String>,
    /// The CRM contact who acted, when the actor is linked to one.
    pub contact_id: Option<String>,
    pub at: DateTime<Utc>,
    pub snapshot: Snapshot,
}

/// What the event is about, beyond the project.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventContext {
    pub task_title: Option<String>,
    pub phase_name: Option<String>,
    /// The hub user who acted; their CRM contact id is looked up per connection.
    pub actor: Option<super::UserId>,
}
