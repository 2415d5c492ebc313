//! Staff accounts and companies made by hand (`handoff users add-staff`, `project
//! create`), with the rules that keep them apart from customers; how staff prove who
//! they are to the console (a CRM identity, an emailed link); roles and revocation.

use chrono::{DateTime, Duration, Utc};

use handoff_domain::people::{Actor, Company, CrmIdentity, NewActivity, StaffRole, UserKind};
use handoff_domain::{Email, UserId};
use handoff_store::{NewStaff, StaffAccount, StaffAdded, Tx};

use super::Engine;
use super::error::{EngineError, EngineResult, Refusal};
use super::invite::{LinkKind, new_link};

/// How long an emailed console sign-in link works: long enough to reach the inbox, short
/// because it opens every project.
pub const CONSOLE_LINK_VALIDITY: Duration = Duration::minutes(30);
/// The window of the per-address limit on console link requests.
const LINK_REQUEST_WINDOW: Duration = Duration::hours(1);

/// The staff member a CRM identity belongs to, or why there is none.
#[derive(Clone, Debug, PartialEq)]
pub enum StaffMatch {
    Staff(StaffAccount),
    /// No staff account has this CRM user or (verified) email: no account is made.
    NoAccount,
    /// The account exists but was revoked.
    Revoked(StaffAccount),
}

/// What asking for an emailed console link did. The person asking is told the same in
/// every case (so the form tells no one who has an account); this is for logs and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsoleLinkRequest {
    Sent {
        link: uuid::Uuid,
        user: UserId,
    },
    /// No active staff account has this address.
    Unknown,
    RateLimited,
    /// No master key to seal the link with.
    CannotSeal,
}

impl Engine {
    /// Adds a staff user (or finds the one with this email), links the CRM users
    /// given, and joins the projects whose CRM user-lookup fields name them and waited
    /// for an account. Refused, changing nothing, when the email is a customer's or a
    /// CRM user is already linked to someone else. An existing account takes the role
    /// given.
    pub async fn add_staff(&self, new: &NewStaff, source: &str) -> EngineResult<StaffAdded> {
        let mut tx = self.store.begin().await?;
        let (user, created) = match tx.person_by_email(&new.email).await? {
            Some(p) if p.kind != UserKind::Internal => return Err(Refusal::CustomerEmailForStaff { email: new.email.clone() }.into()),
            Some(p) => {
                tx.set_staff_role(p.id, new.role).await?;
                (p.id, false)
            }
            None => {
                let id = tx
                    .create_staff(&new.email, new.first_name.as_deref(), new.last_name.as_deref(), new.role)
                    .await?;
                (id, true)
            }
        };
        for (connection, crm_user) in &new.crm_users {
            match tx.crm_user_link(connection, crm_user).await? {
                Some(other) if other != user => {
                    return Err(Refusal::CrmUserLinkedElsewhere {
                        connection: connection.clone(),
                        crm_user: crm_user.clone(),
                    }
                    .into());
                }
                Some(_) => {}
                None => tx.link_crm_user(connection, crm_user, user).await?,
            }
        }
        let joined = tx.join_waiting_projects(user, &new.email, &new.crm_users, source).await?;
        let details = serde_json::json!({ "user": user, "email": new.email, "role": new.role, "created": created });
        record_staff_change(&mut tx, Actor::System, "staff.added", source, details).await?;
        tx.commit().await?;
        Ok(StaffAdded {
            user_id: user,
            created,
            joined,
        })
    }

    /// Changes a staff member's console role.
    pub async fn set_staff_role(&self, user: UserId, role: StaffRole, actor: Actor, source: &str) -> EngineResult<()> {
        let mut tx = self.store.begin().await?;
        let staff = tx
            .staff_account(user)
            .await?
            .ok_or_else(|| EngineError::not_found("staff member", user))?;
        if staff.role != role {
            tx.set_staff_role(user, role).await?;
            let details = serde_json::json!({ "user": user, "from": staff.role, "to": role });
            record_staff_change(&mut tx, actor, "staff.role_changed", source, details).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Revokes a staff account: it signs in no more, and its console sessions end at
    /// once; `revoked: false` restores it.
    pub async fn set_staff_revoked(&self, user: UserId, revoked: bool, actor: Actor, source: &str) -> EngineResult<()> {
        let mut tx = self.store.begin().await?;
        let staff = tx
            .staff_account(user)
            .await?
            .ok_or_else(|| EngineError::not_found("staff member", user))?;
        if staff.revoked_at.is_some() != revoked {
            tx.set_staff_revoked(user, revoked.then(Utc::now)).await?;
            let action = if revoked { "staff.revoked" } else { "staff.restored" };
            record_staff_change(&mut tx, actor, action, source, serde_json::json!({ "user": user })).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The staff member a CRM identity belongs to: the account linked to the CRM user,
    /// else the staff account with the CRM's email when the CRM vouches for it (the CRM
    /// user is then linked to it, so the next sign-in matches by id). Nobody is given an
    /// account they do not have.
    pub async fn staff_for_identity(&self, identity: &CrmIdentity) -> EngineResult<StaffMatch> {
        let found = match self.store.staff_by_crm_user(&identity.connection, &identity.crm_user_id).await? {
            Some(staff) => Some(staff),
            None => match identity.email.as_ref().filter(|_| identity.email_verified) {
                Some(email) => match self.store.staff_by_email(email).await? {
                    Some(staff) => {
                        let mut tx = self.store.begin().await?;
                        tx.link_crm_user(&identity.connection, &identity.crm_user_id, staff.user.id).await?;
                        tx.commit().await?;
                        Some(staff)
                    }
                    None => None,
                },
                None => None,
            },
        };
        Ok(match found {
            None => StaffMatch::NoAccount,
            Some(staff) if staff.is_active() => StaffMatch::Staff(staff),
            Some(staff) => StaffMatch::Revoked(staff),
        })
    }

    /// "Email me a sign-in link" on the console's sign-in page: at most
    /// `portal.link_requests_per_hour` requests per address; an active staff member
    /// gets a single-use link valid for [`CONSOLE_LINK_VALIDITY`], through the outbox.
    pub async fn request_console_link(&self, email: &Email) -> EngineResult<ConsoleLinkRequest> {
        // Hashed with a prefix of its own so the count is apart from customers' requests.
        let email_hash = super::invite::token_hash(&format!("console:{}", email.as_str()));
        let now: DateTime<Utc> = Utc::now();
        let mut tx = self.store.begin().await?;
        let outcome = 'decided: {
            if tx.link_requests_since(&email_hash, now - LINK_REQUEST_WINDOW).await? >= u64::from(self.links.requests_per_hour) {
                break 'decided ConsoleLinkRequest::RateLimited;
            }
            tx.record_link_request(&email_hash, now).await?;
            let Some(staff) = self.store.staff_by_email(email).await?.filter(StaffAccount::is_active) else {
                break 'decided ConsoleLinkRequest::Unknown;
            };
            let Some(link) = self
                .links
                .sealer
                .as_ref()
                .and_then(|s| new_link(LinkKind::ConsoleSignIn, s, now, CONSOLE_LINK_VALIDITY).ok())
            else {
                break 'decided ConsoleLinkRequest::CannotSeal;
            };
            tx.issue_console_link(staff.user.id, email, &link).await?;
            ConsoleLinkRequest::Sent {
                link: link.id,
                user: staff.user.id,
            }
        };
        tx.commit().await?;
        match &outcome {
            ConsoleLinkRequest::Sent { user, .. } => tracing::info!(%user, "a console sign-in link was requested"),
            ConsoleLinkRequest::RateLimited => tracing::info!("a console sign-in link was refused: too many requests for one address"),
            ConsoleLinkRequest::CannotSeal => {
                tracing::warn!("a console sign-in link cannot be made without a master key (HANDOFF_MASTER_KEY)")
            }
            ConsoleLinkRequest::Unknown => {}
        }
        Ok(outcome)
    }

    /// The company with this name (ignoring case and surrounding space), created if new.
    pub async fn find_or_create_company(&self, name: &str) -> EngineResult<Company> {
        if name.trim().is_empty() {
            return Err(Refusal::CompanyNeedsName.into());
        }
        Ok(self.store.find_or_create_company(name).await?)
    }
}

async fn record_staff_change(tx: &mut Tx, actor: Actor, action: &str, source: &str, details: serde_json::Value) -> EngineResult<()> {
    tx.record_activity(&NewActivity {
        project_id: None,
        actor,
        action: action.into(),
        source: source.into(),
        details,
    })
    .await?;
    Ok(())
}
