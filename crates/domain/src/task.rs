//! Tasks: what they are (type and its settings), who sees and owns them, and their status.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The status a task has *stored*. `Blocked` is never stored: it is derived from the
/// dependencies (see [`effective_status`]), so it cannot go stale when a dependency
/// is completed or reopened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Pending,
    InProgress,
    Completed,
    /// Waiting on a dependency that is not completed yet.
    Blocked,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Completed => "completed",
            TaskStatus::Blocked => "blocked",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TaskStatus::Pending => "Pending",
            TaskStatus::InProgress => "In Progress",
            TaskStatus::Completed => "Completed",
            TaskStatus::Blocked => "Blocked",
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The status a person sees: a task that is not completed and has an unmet dependency
/// is Blocked, whatever was stored. A completed task stays completed even if a
/// dependency is later reopened: the work was done.
pub fn effective_status(stored: TaskStatus, dependencies_met: bool) -> TaskStatus {
    match stored {
        TaskStatus::Completed => TaskStatus::Completed,
        _ if !dependencies_met => TaskStatus::Blocked,
        TaskStatus::Blocked => TaskStatus::Pending,
        other => other,
    }
}

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let all: Vec<_> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    format!("`{s}` is not a {} ({})", $what, all.join(", "))
                })
            }
        }
    };
}
pub(crate) use text_enum;

text_enum!(
    /// Who can see a task. Internal tasks never reach the portal.
    Visibility, "visibility" { Internal = "internal", Customer = "customer" }
);
text_enum!(
    /// Which side is expected to do the task.
    OwnerSide, "owner side" { Staff = "staff", Customer = "customer" }
);
text_enum!(
    Priority, "priority" { Low = "low", Normal = "normal", High = "high", Urgent = "urgent" }
);
text_enum!(
    /// Who a task goes to when a project is created, if anyone.
    DefaultAssignee, "default assignee" { ProjectOwner = "project_owner", PrimaryContact = "primary_contact" }
);
text_enum!(
    /// The kind of input a form field takes; the portal validates it on the server.
    FieldType, "field type" {
        Text = "text", Textarea = "textarea", Number = "number", Date = "date",
        Email = "email", Url = "url", Select = "select", Checkbox = "checkbox",
    }
);

/// One field of a form task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    pub key: super::Key,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Choices, for `select` fields only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

/// What kind of task this is, with the settings that kind needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TaskKind {
    /// Something to do and tick off.
    Todo,
    /// A form with typed fields.
    Form { fields: Vec<FormField> },
    /// Documents to upload; `accept` lists allowed kinds (e.g. "pdf", "png", "csv").
    Upload { accept: Vec<String>, max_files: u32 },
    /// A question to answer in free text.
    Question { prompt: String },
    /// Something to review and approve (or reject with a reason).
    Approval { subject: String },
    /// A meeting to hold.
    Meeting { duration_minutes: u32, agenda: Option<String> },
}

impl TaskKind {
    pub fn name(&self) -> &'static str {
        match self {
            TaskKind::Todo => "todo",
            TaskKind::Form { .. } => "form",
            TaskKind::Upload { .. } => "upload",
            TaskKind::Question { .. } => "question",
            TaskKind::Approval { .. } => "approval",
            TaskKind::Meeting { .. } => "meeting",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmet_dependencies_block_a_pending_or_started_task() {
        assert_eq!(effective_status(TaskStatus::Pending, false), TaskStatus::Blocked);
        assert_eq!(effective_status(TaskStatus::InProgress, false), TaskStatus::Blocked);
    }

    #[test]
    fn met_dependencies_leave_the_stored_status() {
        assert_eq!(effective_status(TaskStatus::Pending, true), TaskStatus::Pending);
        assert_eq!(effective_status(TaskStatus::InProgress, true), TaskStatus::InProgress);
    }

    #[test]
    fn completed_work_stays_completed() {
        assert_eq!(effective_status(TaskStatus::Completed, false), TaskStatus::Completed);
    }

    #[test]
    fn text_enums_round_trip_and_explain_refusals() {
        for v in Priority::ALL {
            assert_eq!(v.as_str().parse::<Priority>().as_ref(), Ok(v));
        }
        let err = "critical".parse::<Priority>().unwrap_err();
        assert!(err.contains("low, normal, high, urgent"), "{err}");
    }
}
