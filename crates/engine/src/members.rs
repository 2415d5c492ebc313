//! Staff changing who is on a project, from the console's Members tab and the API:
//! customers added (an existing person or a new one, invited now or later) and
//! removed, links regenerated, staff added to and removed from the onboarding team.
//! One transaction per change, with its activity entry, as in [`super::tasks`].

use chrono::Utc;
use serde::Serialize;
use uuid::Uuid;

use handoff_domain::people::{Actor, MembershipStatus, ProjectRole, UserKind};
use handoff_domain::plan::InviteMode;
use handoff_domain::{Email, ProjectId, UserId};
use handoff_store::{InvitationKey, NewCustomer};

use super::Engine;
use super::error::{EngineError, EngineResult, Refusal};
use super::tasks::record;

/// A customer to add to a project.
#[derive(Clone, Debug)]
pub struct NewMember {
    pub email: Email,
    /// Needed only when no one has the address yet (a new person is made).
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// A customer role (admin, member or viewer).
    pub role: ProjectRole,
    /// The person's part in the deal ("Decision Maker"), as the CRM would say it.
    pub contact_role: Option<String>,
    /// Email a link now (a Draft's members are emailed when it goes live); otherwise
    /// no email until staff send one.
    pub invite_now: bool,
}

/// What adding a customer did.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum MemberAdded {
    /// `created`: the person was new to handoff; `rejoined`: they had been removed and
    /// are back; `invitation`: the link emailed now, if one was.
    Added {
        user: UserId,
        created: bool,
        rejoined: bool,
        invitation: Option<Uuid>,
    },
    /// Already an active member: nothing changed, nothing was sent.
    AlreadyMember { user: UserId },
}

/// What adding a staff member to the team did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum StaffAdded {
    Added {
        user: UserId,
        owner: bool,
    },
    /// Already on the team (made owner now if asked): `changed` says whether anything did.
    AlreadyOnTeam {
        user: UserId,
        changed: bool,
    },
}

impl Engine {
    /// Adds a customer to the project: the person (created at the project's company
    /// when no one has the address), the membership (or a removed one taken back), an
    /// invitation emailed through the outbox when `invite_now` and customers can see
    /// the project, and a `member.added` entry, in one transaction. Refused, with
    /// nothing changed, for a staff address, a customer of another company, or a new
    /// address without a name.
    pub async fn add_customer(&self, project: ProjectId, new: &NewMember, actor: Actor, source: &str) -> EngineResult<MemberAdded> {
        if !new.role.fits(UserKind::Customer) {
            return Err(Refusal::RoleDoesNotFit {
                role: new.role,
                kind: UserKind::Customer,
            }
            .into());
        }
        let mut tx = self.store.begin().await?;
        let (status, company) = tx
            .project_status_and_company(project)
            .await?
            .ok_or_else(|| EngineError::not_found("project", project))?;
        let mut created = false;
        let person = match tx.person_by_email(&new.email).await? {
            Some(p) => p,
            None => {
                let first_name = new
                    .first_name
                    .as_deref()
                    .ok_or_else(|| Refusal::NewPersonNeedsName { email: new.email.clone() })?;
                let customer = NewCustomer {
                    email: &new.email,
                    first_name: Some(first_name),
                    last_name: new.last_name.as_deref(),
                    company,
                };
                created = tx.create_customer(&customer).await?;
                tx.person_by_email(&new.email)
                    .await?
                    .ok_or_else(|| EngineError::not_found("user", &new.email))?
            }
        };
        if person.kind == UserKind::Internal {
            return Err(Refusal::StaffAsCustomer { email: new.email.clone() }.into());
        }
        if person.company.is_some() && company.is_some() && person.company != company {
            return Err(Refusal::OtherCompany { email: new.email.clone() }.into());
        }
        let user = person.id;
        // "Later" stores no wish to invite, so activating a Draft does not email them.
        let mode = if new.invite_now { InviteMode::Now } else { InviteMode::Silently };
        let contact_role = new.contact_role.as_deref();
        let rejoined = match tx.membership(project, user).await? {
            Some((_, MembershipStatus::Active)) => return Ok(MemberAdded::AlreadyMember { user }),
            Some(_) => tx.reactivate_membership(project, user, new.role, contact_role, mode).await?,
            None => {
                if !tx.add_membership(project, user, new.role, contact_role, Some(mode)).await? {
                    // Another request added them meanwhile (PostgreSQL).
                    return Ok(MemberAdded::AlreadyMember { user });
                }
                false
            }
        };
        let mut invitation = None;
        if new.invite_now && status.visible_to_customers() {
            let link = self.fresh_link(Utc::now()).ok_or(Refusal::NoMasterKey)?;
            // Someone back after removal had a first invitation already: theirs is a new email.
            let key = if rejoined {
                tx.revoke_unused_invitations(project, user).await?;
                InvitationKey::Reissued
            } else {
                InvitationKey::FirstToProject
            };
            tx.issue_invitations(project, &[(user, &new.email, &link)], key).await?;
            invitation = Some(link.id);
        }
        let details = serde_json::json!({
            "user": user, "email": new.email, "role": new.role, "contact_role": contact_role,
            "invite": if new.invite_now { "now" } else { "later" }, "invitation": invitation,
            "new_user": created, "rejoined": rejoined,
        });
        record(&mut tx, project, actor, "member.added", source, details).await?;
        tx.commit().await?;
        Ok(MemberAdded::Added {
            user,
            created,
            rejoined,
            invitation,
        })
    }

    /// Removes a customer from the project: the membership is deactivated, their unused
    /// links to it revoked, and their portal sessions end when no project is left to
    /// them (the project itself closes to them at the commit: a session reads its
    /// projects on every request). Returns false when they were removed already.
    pub async fn remove_customer(&self, project: ProjectId, user: UserId, actor: Actor, source: &str) -> EngineResult<bool> {
        let mut tx = self.store.begin().await?;
        let role = match tx.membership(project, user).await? {
            Some((role, _)) if !role.fits(UserKind::Customer) => return Err(Refusal::NotACustomerMember.into()),
            Some((_, MembershipStatus::Deactivated)) => return Ok(false),
            Some((role, MembershipStatus::Active)) => role,
            None => return Err(EngineError::not_found("member", format!("{user} of project {project}"))),
        };
        tx.deactivate_membership(project, user).await?;
        let revoked = tx.revoke_unused_invitations(project, user).await?;
        let sessions = tx.end_sessions_without_projects(user).await?;
        let details = serde_json::json!({ "user": user, "role": role, "revoked_links": revoked, "ended_sessions": sessions });
        record(&mut tx, project, actor, "member.removed", source, details).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Regenerates an active customer member's link in one transaction: the live ones
    /// stop working and a fresh one is emailed. Returns the new invitation's id.
    pub async fn regenerate_link(&self, project: ProjectId, user: UserId, actor: Actor, source: &str) -> EngineResult<Uuid> {
        let link = self.fresh_link(Utc::now()).ok_or(Refusal::NoMasterKey)?;
        let mut tx = self.store.begin().await?;
        let status = tx
            .project_status(project)
            .await?
            .ok_or_else(|| EngineError::not_found("project", project))?;
        let Some((role, email)) = tx.active_member_contact(project, user).await? else {
            return Err(Refusal::NotACustomerMember.into());
        };
        if !role.fits(UserKind::Customer) {
            return Err(Refusal::NotACustomerMember.into());
        }
        if !status.visible_to_customers() {
            return Err(Refusal::NotVisibleToCustomers { project, status }.into());
        }
        let revoked = tx.revoke_unused_invitations(project, user).await?;
        tx.issue_invitations(project, &[(user, &email, &link)], InvitationKey::Reissued)
            .await?;
        let details = serde_json::json!({ "user": user, "invitation": link.id, "revoked": revoked });
        record(&mut tx, project, actor, "invitation.regenerated", source, details).await?;
        tx.commit().await?;
        Ok(link.id)
    }

    /// Adds a staff member (an active staff account) to the project's onboarding team,
    /// as its owner when `owner` (the owner before stays on the team as staff), with a
    /// `staff.added` (or `project.owner_changed`) entry.
    pub async fn add_team_member(
        &self,
        project: ProjectId,
        email: &Email,
        owner: bool,
        actor: Actor,
        source: &str,
    ) -> EngineResult<StaffAdded> {
        let mut tx = self.store.begin().await?;
        tx.project_status(project)
            .await?
            .ok_or_else(|| EngineError::not_found("project", project))?;
        let not_staff = || Refusal::NotActiveStaff { email: email.clone() };
        let person = tx.person_by_email(email).await?.ok_or_else(not_staff)?;
        let account = tx.staff_account(person.id).await?.ok_or_else(not_staff)?;
        if !account.is_active() {
            return Err(not_staff().into());
        }
        let user = person.id;
        let role = if owner { ProjectRole::Owner } else { ProjectRole::Staff };
        let outcome = match tx.membership(project, user).await? {
            Some((current, MembershipStatus::Active)) => {
                if !owner || current == ProjectRole::Owner {
                    return Ok(StaffAdded::AlreadyOnTeam { user, changed: false });
                }
                StaffAdded::AlreadyOnTeam { user, changed: true }
            }
            Some(_) => {
                tx.reactivate_membership(project, user, role, None, InviteMode::Silently).await?;
                StaffAdded::Added { user, owner }
            }
            None => {
                if !tx.add_membership(project, user, role, None, None).await? {
                    return Ok(StaffAdded::AlreadyOnTeam { user, changed: false });
                }
                StaffAdded::Added { user, owner }
            }
        };
        let mut previous = Vec::new();
        if owner {
            for other in tx.project_owners(project).await? {
                if other != user {
                    tx.set_member_role(project, other, ProjectRole::Staff).await?;
                    previous.push(other);
                }
            }
            tx.set_member_role(project, user, ProjectRole::Owner).await?;
        }
        let action = match outcome {
            StaffAdded::Added { .. } => "staff.added",
            StaffAdded::AlreadyOnTeam { .. } => "project.owner_changed",
        };
        let details = serde_json::json!({ "user": user, "email": email, "role": role, "previous_owners": previous });
        record(&mut tx, project, actor, action, source, details).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Removes a staff member from the onboarding team. The owner only with
    /// `new_owner`, someone else on the team, who becomes the owner in the same
    /// transaction. Returns false when they were off the team already.
    pub async fn remove_team_member(
        &self,
        project: ProjectId,
        user: UserId,
        new_owner: Option<UserId>,
        actor: Actor,
        source: &str,
    ) -> EngineResult<bool> {
        let mut tx = self.store.begin().await?;
        let role = match tx.membership(project, user).await? {
            Some((role, _)) if !role.fits(UserKind::Internal) => return Err(Refusal::NotOnTeam.into()),
            Some((_, MembershipStatus::Deactivated)) => return Ok(false),
            Some((role, MembershipStatus::Active)) => role,
            None => return Err(Refusal::NotOnTeam.into()),
        };
        let mut successor = None;
        if role == ProjectRole::Owner {
            let next = new_owner.filter(|n| *n != user).ok_or(Refusal::OwnerNeedsSuccessor)?;
            match tx.membership(project, next).await? {
                Some((ProjectRole::Staff | ProjectRole::Owner, MembershipStatus::Active)) => {}
                _ => return Err(Refusal::SuccessorNotOnTeam.into()),
            }
            tx.set_member_role(project, next, ProjectRole::Owner).await?;
            // Off the team, they are no longer anyone's owner (invitations name the owner).
            tx.set_member_role(project, user, ProjectRole::Staff).await?;
            successor = Some(next);
        }
        tx.deactivate_membership(project, user).await?;
        let details = serde_json::json!({ "user": user, "role": role, "new_owner": successor });
        record(&mut tx, project, actor, "staff.removed", source, details).await?;
        tx.commit().await?;
        Ok(true)
    }
}
