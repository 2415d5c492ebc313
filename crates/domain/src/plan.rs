//! A workflow run's plan: what applying it will create or change, as plain data. Dry
//! runs print it; tests assert on it; the engine applies it in one transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Email;
use super::people::ProjectRole;
use super::project::NewProject;

#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub workflow: String,
    pub connection: String,
    /// The CRM record (deal/opportunity) the project is for.
    pub external_id: String,
    /// The project to create if this record has none yet for this workflow; if it has
    /// one, only `name` and `goal_date` are carried over to it.
    pub project: NewProject,
    pub company: Option<PlannedCompany>,
    pub people: Vec<PlannedPerson>,
    /// Contacts left out, with the reason (no email, an invalid one…), for the dry run.
    pub skipped: Vec<String>,
    /// Every CRM contact the workflow's sources still match on the record, skipped ones
    /// included: a member linked to a contact not in this list was removed in the CRM.
    pub contacts_present: Vec<String>,
    /// What to do about such members.
    pub removals: Removals,
    /// The CRM users the workflow's user-lookup fields name on the record, the owner
    /// first: they join as Owner or Staff when they match a staff user.
    pub staff: Vec<PlannedStaff>,
    /// Project custom field → the record's value (null when the record has none). The
    /// CRM owns these: a later change overwrites them.
    pub custom_fields: BTreeMap<String, serde_json::Value>,
}

/// A CRM user to make owner or staff member of the project.
#[derive(Clone, Debug, Serialize)]
pub struct PlannedStaff {
    /// The user-lookup field that names the user (`OwnerId`).
    pub field: String,
    /// Owner for the workflow's `owner_field`, Staff for its `team_fields`.
    pub role: ProjectRole,
    pub crm_user_id: String,
    /// As the CRM has it; staff are matched on it case-insensitively (emails are stored
    /// lowercased), when no staff user is linked to the CRM user id.
    pub email: Option<Email>,
    pub name: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlannedCompany {
    pub external_id: String,
    pub name: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlannedPerson {
    /// The CRM contact id.
    pub external_id: String,
    pub email: Email,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub role: ProjectRole,
    /// The CRM's word for the person's part ("Decision Maker").
    pub contact_role: Option<String>,
    pub invite: InviteMode,
    /// A fresh invitation, used only if the person is newly added and the project is
    /// Active (drafts send nothing). Made by the caller because it holds the keys.
    #[serde(skip)]
    pub invitation: Option<NewInvitation>,
}

/// An invitation link: only the hash of the token is stored; the token itself is
/// sealed into the outbox row that emails it.
#[derive(Clone, Debug)]
pub struct NewInvitation {
    pub id: uuid::Uuid,
    pub token_hash: String,
    pub sealed_token: String,
    pub expires_at: DateTime<Utc>,
}

/// What applying a plan did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub project_id: Option<super::ProjectId>,
    pub created: bool,
    pub members_added: usize,
    /// Members whose contact the CRM record no longer has (deactivated or reported).
    pub members_removed: usize,
    pub invitations: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InviteMode {
    /// Invite as soon as the user is added (the project must be Active to send).
    Now,
    /// Add without an email.
    Silently,
    /// Invite when the project becomes Active.
    WhenActive,
}

/// What to do when a contact disappears from the deal in the CRM.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Removals {
    /// Deactivate the membership automatically.
    Apply,
    /// Leave it, and record the difference for a person to decide.
    #[default]
    Report,
}

impl InviteMode {
    pub fn as_str(self) -> &'static str {
        match self {
            InviteMode::Now => "now",
            InviteMode::WhenActive => "when_active",
            InviteMode::Silently => "silently",
        }
    }
}
