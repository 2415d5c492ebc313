//! Tasks and notes with associations (<https://developers.hubspot.com/docs/guides/api/crm/engagements/tasks>).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::associations::AssociationSpec;
use crate::client::Client;
use crate::error::Result;
use crate::objects::{IdRef, NewAssociation, NewObject, Object, types};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    NotStarted,
    InProgress,
    Waiting,
    Completed,
    Deferred,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::NotStarted => "NOT_STARTED",
            TaskStatus::InProgress => "IN_PROGRESS",
            TaskStatus::Waiting => "WAITING",
            TaskStatus::Completed => "COMPLETED",
            TaskStatus::Deferred => "DEFERRED",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskPriority {
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskType {
    Email,
    Call,
    Todo,
}

/// A task to create. `due` becomes `hs_timestamp`, which HubSpot requires.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    pub subject: String,
    pub body: Option<String>,
    pub due: DateTime<Utc>,
    pub status: Option<TaskStatus>,
    pub priority: Option<TaskPriority>,
    pub kind: Option<TaskType>,
    pub owner_id: Option<String>,
    /// Records to attach it to: `(object type id or name, record id, association type)`,
    /// e.g. `(id, AssociationSpec::hubspot(type_ids::TASK_TO_DEAL))`.
    pub associations: Vec<(String, AssociationSpec)>,
    /// Any other task property.
    pub extra: BTreeMap<String, String>,
}

impl NewTask {
    pub fn new(subject: impl Into<String>, due: DateTime<Utc>) -> Self {
        Self {
            subject: subject.into(),
            body: None,
            due,
            status: None,
            priority: None,
            kind: None,
            owner_id: None,
            associations: Vec::new(),
            extra: BTreeMap::new(),
        }
    }

    /// Attaches the task to a record (`to_id`) with the given association type.
    pub fn associate(mut self, to_id: impl Into<String>, spec: AssociationSpec) -> Self {
        self.associations.push((to_id.into(), spec));
        self
    }

    pub fn to_new_object(&self) -> NewObject {
        let mut properties = self.extra.clone();
        properties.insert("hs_task_subject".into(), self.subject.clone());
        properties.insert("hs_timestamp".into(), self.due.timestamp_millis().to_string());
        if let Some(body) = &self.body {
            properties.insert("hs_task_body".into(), body.clone());
        }
        if let Some(status) = self.status {
            properties.insert("hs_task_status".into(), status.as_str().into());
        }
        if let Some(priority) = self.priority {
            let p = match priority {
                TaskPriority::Low => "LOW",
                TaskPriority::Medium => "MEDIUM",
                TaskPriority::High => "HIGH",
            };
            properties.insert("hs_task_priority".into(), p.into());
        }
        if let Some(kind) = self.kind {
            let k = match kind {
                TaskType::Email => "EMAIL",
                TaskType::Call => "CALL",
                TaskType::Todo => "TODO",
            };
            properties.insert("hs_task_type".into(), k.into());
        }
        if let Some(owner) = &self.owner_id {
            properties.insert("hubspot_owner_id".into(), owner.clone());
        }
        NewObject {
            properties,
            associations: inline(&self.associations),
            object_write_trace_id: None,
        }
    }
}

/// A note to create. `timestamp` (its place on the timeline) becomes `hs_timestamp`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNote {
    /// At most 65,536 characters (HTML allowed).
    pub body: String,
    pub timestamp: DateTime<Utc>,
    pub owner_id: Option<String>,
    pub associations: Vec<(String, AssociationSpec)>,
}

/// HubSpot's limit on `hs_note_body`.
pub const MAX_NOTE_BODY_CHARS: usize = 65_536;

impl NewNote {
    pub fn new(body: impl Into<String>, timestamp: DateTime<Utc>) -> Self {
        Self {
            body: body.into(),
            timestamp,
            owner_id: None,
            associations: Vec::new(),
        }
    }

    pub fn associate(mut self, to_id: impl Into<String>, spec: AssociationSpec) -> Self {
        self.associations.push((to_id.into(), spec));
        self
    }

    pub fn to_new_object(&self) -> NewObject {
        let mut properties = BTreeMap::new();
        properties.insert("hs_note_body".into(), self.body.clone());
        properties.insert("hs_timestamp".into(), self.timestamp.timestamp_millis().to_string());
        if let Some(owner) = &self.owner_id {
            properties.insert("hubspot_owner_id".into(), owner.clone());
        }
        NewObject {
            properties,
            associations: inline(&self.associations),
            object_write_trace_id: None,
        }
    }
}

fn inline(associations: &[(String, AssociationSpec)]) -> Vec<NewAssociation> {
    associations
        .iter()
        .map(|(id, spec)| NewAssociation {
            to: IdRef { id: id.clone() },
            types: vec![*spec],
        })
        .collect()
}

impl Client {
    /// Creates a task with its associations in one call.
    pub async fn create_task(&self, task: &NewTask) -> Result<Object> {
        self.create_object(types::TASKS, &task.to_new_object()).await
    }

    /// Creates a note with its associations in one call. Bodies over 65,536 characters
    /// are refused before sending.
    pub async fn create_note(&self, note: &NewNote) -> Result<Object> {
        let length = note.body.chars().count();
        if length > MAX_NOTE_BODY_CHARS {
            return Err(crate::Error::InvalidRequest(format!(
                "note body has {length} characters, more than {MAX_NOTE_BODY_CHARS}"
            )));
        }
        self.create_object(types::NOTES, &note.to_new_object()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::associations::type_ids;

    #[test]
    fn a_task_becomes_hubspot_properties_with_inline_associations() {
        let due = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        let task = NewTask {
            status: Some(TaskStatus::NotStarted),
            priority: Some(TaskPriority::High),
            ..NewTask::new("Kickoff", due)
        }
        .associate("101", AssociationSpec::hubspot(type_ids::TASK_TO_DEAL));
        let json = serde_json::to_value(task.to_new_object()).unwrap();
        assert_eq!(json["properties"]["hs_timestamp"], "1700000000000");
        assert_eq!(json["properties"]["hs_task_subject"], "Kickoff");
        assert_eq!(json["properties"]["hs_task_status"], "NOT_STARTED");
        assert_eq!(json["properties"]["hs_task_priority"], "HIGH");
        assert_eq!(
            json["associations"],
            serde_json::json!([{"to":{"id":"101"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":216}]}])
        );
    }

    #[test]
    fn a_note_becomes_hubspot_properties() {
        let at = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        let note = NewNote::new("<p>Hi</p>", at).associate("7", AssociationSpec::hubspot(type_ids::NOTE_TO_CONTACT));
        let json = serde_json::to_value(note.to_new_object()).unwrap();
        assert_eq!(json["properties"]["hs_note_body"], "<p>Hi</p>");
        assert_eq!(json["associations"][0]["types"][0]["associationTypeId"], 202);
    }
}
