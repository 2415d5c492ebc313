//! Companies, people, their memberships in projects, and the activity trail.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::task::text_enum;
use super::{CompanyId, Email, ProjectId, UserId};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Company {
    pub id: CompanyId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

text_enum!(
    /// Staff work in the console and the CRM; customers work in the portal.
    UserKind, "user kind" { Internal = "internal", Customer = "customer" }
);

text_enum!(
    /// What a staff member may do in the console: admins also reach the admin pages
    /// (connections, workflows, sync) and manage staff accounts.
    StaffRole, "staff role" { Admin = "admin", Staff = "staff" }
);

/// Who a CRM says signed in: read from the CRM's identity endpoint after the OAuth
/// code exchange (Salesforce userinfo, HubSpot access-token info).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrmIdentity {
    /// The connection the person signed in through.
    pub connection: String,
    pub crm_user_id: String,
    pub email: Option<Email>,
    /// Whether the CRM says the email is the person's (Salesforce `email_verified`;
    /// HubSpot's user emails are the login, verified by HubSpot).
    pub email_verified: bool,
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct User {
    pub id: UserId,
    pub kind: UserKind,
    pub email: Email,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The customer's company; `None` for staff.
    pub company_id: Option<CompanyId>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub timezone: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl User {
    pub fn display_name(&self) -> String {
        match (&self.first_name, &self.last_name) {
            (Some(f), Some(l)) => format!("{f} {l}"),
            (Some(n), None) | (None, Some(n)) => n.clone(),
            (None, None) => self.email.to_string(),
        }
    }
}

text_enum!(
    /// What a person may do in a project. Staff roles go to internal users and customer
    /// roles to customers; [`ProjectRole::fits`] keeps the two apart.
    ProjectRole, "project role" {
        Owner = "owner",
        Staff = "staff",
        /// A customer who may invite teammates and approve on the company's behalf.
        CustomerAdmin = "customer_admin",
        CustomerMember = "customer_member",
        /// Sees the project, does not act on it.
        CustomerViewer = "customer_viewer",
    }
);

impl ProjectRole {
    pub fn side(self) -> UserKind {
        match self {
            ProjectRole::Owner | ProjectRole::Staff => UserKind::Internal,
            _ => UserKind::Customer,
        }
    }

    pub fn fits(self, kind: UserKind) -> bool {
        self.side() == kind
    }
}

/// Inviting teammates from the portal. Customer admins invite members and viewers;
/// making someone an admin stays with staff and the CRM mapping. Members and viewers
/// do not invite (the role's description above: admins "may invite teammates").
impl ProjectRole {
    /// The roles a person with this role may give a teammate they invite, most
    /// capable first; empty when they may not invite.
    pub fn invitable_roles(self) -> &'static [ProjectRole] {
        match self {
            ProjectRole::CustomerAdmin => &[ProjectRole::CustomerMember, ProjectRole::CustomerViewer],
            _ => &[],
        }
    }
}

text_enum!(
    MembershipStatus, "membership status" { Active = "active", Deactivated = "deactivated" }
);

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Membership {
    pub project_id: ProjectId,
    pub user_id: UserId,
    pub role: ProjectRole,
    /// The CRM's word for the person's part in the deal ("Decision Maker").
    pub contact_role: Option<String>,
    pub status: MembershipStatus,
    pub created_at: DateTime<Utc>,
}

/// Who did something.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Actor {
    User(UserId),
    /// handoff itself, e.g. a workflow run or a scheduled job.
    System,
}

impl Actor {
    /// The user who acted, if a person did.
    pub fn user(&self) -> Option<UserId> {
        match self {
            Actor::User(u) => Some(*u),
            Actor::System => None,
        }
    }
}

/// One entry of the append-only audit trail.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewActivity {
    pub project_id: Option<ProjectId>,
    pub actor: Actor,
    /// What happened, as `object.verb`: `project.created`, `task.completed`.
    pub action: String,
    /// Where it came from: `cli`, `portal`, `api`, `crm:<connection>`.
    pub source: String,
    pub details: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Activity {
    pub id: i64,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub entry: NewActivity,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_roles_fit_staff_and_customer_roles_fit_customers() {
        assert!(ProjectRole::Owner.fits(UserKind::Internal));
        assert!(!ProjectRole::Owner.fits(UserKind::Customer));
        assert!(ProjectRole::CustomerAdmin.fits(UserKind::Customer));
        assert!(!ProjectRole::CustomerViewer.fits(UserKind::Internal));
    }

    #[test]
    fn only_customer_admins_invite_and_never_other_admins() {
        assert_eq!(
            ProjectRole::CustomerAdmin.invitable_roles(),
            [ProjectRole::CustomerMember, ProjectRole::CustomerViewer]
        );
        for role in [
            ProjectRole::CustomerMember,
            ProjectRole::CustomerViewer,
            ProjectRole::Owner,
            ProjectRole::Staff,
        ] {
            assert!(role.invitable_roles().is_empty(), "{role}");
        }
    }
}
