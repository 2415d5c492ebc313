//! What leaves handoff through the outbox: a row written in the transaction of the
//! change that causes it, delivered later by a worker. The kinds of row and their
//! payloads are typed here so the writers (the engine, through the store) and the
//! deliverers agree on one shape.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Email, ProjectId, UserId};

/// Which worker delivers a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxKind {
    /// An email, sent over SMTP ([`EmailJob`]).
    Email,
    /// A CRM writeback ([`super::writeback::QueuedWriteback`]), batched per connection.
    Writeback,
}

impl OutboxKind {
    pub const ALL: [OutboxKind; 2] = [OutboxKind::Email, OutboxKind::Writeback];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Email => "email",
            OutboxKind::Writeback => "writeback",
        }
    }
}

impl std::fmt::Display for OutboxKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OutboxKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        OutboxKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not an outbox kind"))
    }
}

impl TryFrom<String> for OutboxKind {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

/// An email to send. Its text is rendered at delivery from the current state (names,
/// project), so a row retried later never sends stale words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EmailJob {
    /// An invitation link; the token is sealed (only the deliverer, holding the master
    /// key, can open it).
    Invitation {
        invitation_id: Uuid,
        project_id: ProjectId,
        user_id: UserId,
        email: Email,
        sealed_token: String,
    },
    /// A staff member's emailed sign-in link to the console (the fallback to signing in
    /// with the CRM); the token is sealed like an invitation's.
    StaffSignIn {
        link_id: Uuid,
        user_id: UserId,
        email: Email,
        sealed_token: String,
    },
    /// Console emails (issue #13): a customer member's open tasks — all of them, one
    /// phase's, or a reminder for one task — sent by staff. Which tasks are listed is
    /// read at delivery, so a task done meanwhile is not asked for again.
    TaskDigest {
        project_id: ProjectId,
        user_id: UserId,
        email: Email,
        scope: TaskDigestScope,
        /// The staff member who sent it, named in the email; `None` from the API.
        #[serde(default)]
        sent_by: Option<UserId>,
    },
}

/// Which open tasks a [`EmailJob::TaskDigest`] lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum TaskDigestScope {
    /// Every open task customers can see.
    AllOpen,
    /// The open tasks of the phase with this key.
    Phase { phase: String },
    /// A reminder for the task with this key.
    Reminder { task: String },
}

impl TaskDigestScope {
    /// The word the activity trail and the API use for the scope.
    pub fn as_str(&self) -> &'static str {
        match self {
            TaskDigestScope::AllOpen => "all",
            TaskDigestScope::Phase { .. } => "phase",
            TaskDigestScope::Reminder { .. } => "reminder",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_as_written() {
        for kind in OutboxKind::ALL {
            assert_eq!(kind.as_str().parse::<OutboxKind>(), Ok(kind));
        }
        assert!("mail".parse::<OutboxKind>().is_err());
    }

    #[test]
    fn an_invitation_keeps_the_payload_shape_rows_already_queued_have() {
        let job = EmailJob::Invitation {
            invitation_id: Uuid::nil(),
            project_id: ProjectId::from_uuid(Uuid::nil()),
            user_id: UserId::from_uuid(Uuid::nil()),
            email: Email::parse("dana@acme.example").unwrap(),
            sealed_token: "sealed".into(),
        };
        let json = serde_json::to_value(&job).unwrap();
        assert_eq!(json["type"], "invitation");
        assert_eq!(json["sealed_token"], "sealed");
        assert_eq!(json["email"], "dana@acme.example");
        assert_eq!(serde_json::from_value::<EmailJob>(json).unwrap(), job);
    }
}
