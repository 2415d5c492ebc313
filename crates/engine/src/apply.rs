//! Applying a workflow plan: the decisions a plan's run makes against what the
//! database holds — create the project or update the one the record already has, who
//! joins, whose CRM role changed, who the CRM dropped, who is invited now and who waits
//! for the project to go live — made and written in one transaction.
//!
//! A dry run makes the very same decisions in a transaction it then rolls back, so
//! what it shows is what a run would do to the project as it stands, existing ones
//! included, and nothing is written.

use serde::Serialize;

use handoff_domain::people::{Actor, NewActivity};
use handoff_domain::plan::{Applied, InviteMode, NewInvitation, Plan, PlannedPerson, Removals};
use handoff_domain::project::NewProject;
use handoff_domain::writeback::{Snapshot, WritebackEvent};
use handoff_domain::{Email, Progress, ProjectId, ProjectStatus, UserId};
use handoff_store::{InvitationKey, Store, StoreError, Tx};

use super::error::{EngineError, EngineResult};

/// Attempts at a plan when another process created the same project at the same time
/// (PostgreSQL): the loser's transaction fails on the unique key and is retried, and the
/// retry finds the winner's project.
const ATTEMPTS: usize = 3;

/// What applying a plan did, or in a dry run would do.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Outcome {
    pub project_id: Option<ProjectId>,
    pub created: bool,
    /// The project's status as the plan leaves it.
    pub status: Option<ProjectStatus>,
    pub members_added: Vec<MemberChange>,
    /// Customer members whose CRM role changed, or who were back after the CRM had
    /// dropped them.
    pub members_changed: Vec<MemberChange>,
    /// Members whose contact the record no longer has: deactivated or reported.
    pub members_removed: Vec<MemberChange>,
    /// Members emailed an invitation now.
    pub invited: Vec<Email>,
    /// Members added whose invitation waits for the project to become Active (or for a
    /// master key).
    pub waiting: Vec<Email>,
}

/// One member's change, as the activity trail records it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberChange {
    pub action: &'static str,
    pub user: UserId,
    /// The CRM contact the member is linked to.
    pub crm_contact: String,
    pub email: Option<Email>,
    pub role: String,
    pub contact_role: Option<String>,
}

impl Outcome {
    pub fn applied(&self) -> Applied {
        Applied {
            project_id: self.project_id,
            created: self.created,
            members_added: self.members_added.len(),
            members_removed: self.members_removed.len(),
            invitations: self.invited.len(),
        }
    }
}

/// Applies the plan in one transaction.
pub async fn apply_plan(store: &Store, plan: &Plan) -> EngineResult<Applied> {
    Ok(apply_detailed(store, plan).await?.applied())
}

/// [`apply_plan`], saying in detail what it did.
pub async fn apply_detailed(store: &Store, plan: &Plan) -> EngineResult<Outcome> {
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let mut tx = store.begin().await?;
        match apply(&mut tx, plan).await {
            Ok(outcome) => {
                tx.commit().await?;
                return Ok(outcome);
            }
            Err(EngineError::Store(StoreError::Database(e))) if e.as_database_error().is_some_and(|d| d.is_unique_violation()) => {
                last = Some(e)
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.map_or_else(
        || StoreError::Conflict("the plan could not be applied".into()).into(),
        |e| StoreError::Database(e).into(),
    ))
}

/// What applying the plan would do now, without doing it: the same decisions in a
/// transaction that is rolled back.
pub async fn preview_plan(store: &Store, plan: &Plan) -> EngineResult<Outcome> {
    let mut tx = store.begin().await?;
    let outcome = apply(&mut tx, plan).await;
    drop(tx); // rolls back
    outcome
}

async fn apply(tx: &mut Tx, plan: &Plan) -> EngineResult<Outcome> {
    let source = format!("crm:{}", plan.connection);
    let existing = tx.project_for_source(&plan.workflow, &plan.connection, &plan.external_id).await?;
    let company_id = match &plan.company {
        Some(company) => Some(tx.link_company(&plan.connection, &company.external_id, &company.name).await?),
        None => None,
    };
    let (project_id, created, status) = match existing {
        Some((id, status)) => {
            tx.update_project_from_crm(id, &plan.project.name, plan.project.goal_date).await?;
            (id, false, status)
        }
        None => {
            let mut project = plan.project.clone();
            project.company_id = company_id;
            let id = tx.insert_project(&project, Actor::System, &source).await?;
            tx.link_project_source(&plan.workflow, &plan.connection, &plan.external_id, id)
                .await?;
            // The project's first status is news to the CRM too (shipped workflows write
            // the status and the project's link on status_changed).
            let snapshot = Some(first_snapshot(&project));
            tx.queue_writebacks(id, &[(WritebackEvent::StatusChanged, Default::default())], snapshot)
                .await?;
            (id, true, project.status)
        }
    };
    let mut outcome = Outcome {
        project_id: Some(project_id),
        created,
        status: Some(status),
        ..Outcome::default()
    };
    let users = tx.link_users(&plan.connection, &plan.people, company_id).await?;
    if !created {
        outcome.members_changed = keep_in_step(tx, project_id, &users, &source).await?;
    }
    let added = tx.add_planned_members(project_id, &users).await?;
    let entries: Vec<NewActivity> = added
        .iter()
        .map(|(user, p)| NewActivity {
            project_id: Some(project_id),
            actor: Actor::System,
            action: "member.added".into(),
            source: source.clone(),
            details: serde_json::json!({ "user": user, "role": p.role, "contact_role": p.contact_role, "crm_contact": p.external_id }),
        })
        .collect();
    tx.record_activities(&entries).await?;
    outcome.members_added = added.iter().map(|(user, p)| member_change("member.added", *user, p)).collect();
    let (invite_now, waiting) = invitations(&added, status);
    let rows: Vec<(UserId, &Email, &NewInvitation)> = invite_now.iter().map(|(u, p, inv)| (*u, &p.email, *inv)).collect();
    tx.issue_invitations(project_id, &rows, InvitationKey::FirstToProject).await?;
    outcome.invited = invite_now.iter().map(|(_, p, _)| p.email.clone()).collect();
    outcome.waiting = waiting;
    if !created {
        outcome.members_removed = removed_in_crm(tx, project_id, plan, &source).await?;
    }
    // Owner, team and custom fields (store/mapping.rs).
    tx.apply_mapping(project_id, plan, created).await?;
    Ok(outcome)
}

/// Who of the members just added is invited now, and who waits: drafts send nothing
/// (their members are invited when the project becomes Active), nor does a person
/// added silently; a person planned without a link (no master key) waits too.
#[allow(clippy::type_complexity)]
fn invitations<'p>(
    added: &[(UserId, &'p PlannedPerson)],
    status: ProjectStatus,
) -> (Vec<(UserId, &'p PlannedPerson, &'p NewInvitation)>, Vec<Email>) {
    let mut now = Vec::new();
    let mut waiting = Vec::new();
    for (user, p) in added {
        if p.invite == InviteMode::Silently {
            continue;
        }
        match (&p.invitation, status.visible_to_customers()) {
            (Some(inv), true) => now.push((*user, *p, inv)),
            _ => waiting.push(p.email.clone()),
        }
    }
    (now, waiting)
}

fn member_change(action: &'static str, user: UserId, p: &PlannedPerson) -> MemberChange {
    MemberChange {
        action,
        user,
        crm_contact: p.external_id.clone(),
        email: Some(p.email.clone()),
        role: p.role.as_str().to_owned(),
        contact_role: p.contact_role.clone(),
    }
}

/// What a project just made from `project` looks like to a writeback, without reading
/// it back: nothing done yet, the first phase with tasks is current.
fn first_snapshot(project: &NewProject) -> Snapshot {
    let total = project.phases.iter().map(|ph| ph.tasks.len()).sum();
    Snapshot {
        status: project.status,
        progress: Progress { completed: 0, total }.percent(),
        current_phase: project.phases.iter().find(|ph| !ph.tasks.is_empty()).map(|ph| ph.name.clone()),
        start_date: Some(project.start_date),
        goal_date: project.goal_date,
    }
}

/// A member whose CRM role changed takes the new one; one who had been deactivated
/// because the CRM dropped them and is back is reactivated. Staff keep the role staff
/// gave them; only customer memberships follow the CRM. Each change is logged. The
/// project's memberships are read once, not once per person.
async fn keep_in_step(
    tx: &mut Tx,
    project: ProjectId,
    people: &[(UserId, &PlannedPerson)],
    source: &str,
) -> EngineResult<Vec<MemberChange>> {
    let current = tx.memberships_by_user(project).await?;
    let mut changes = Vec::new();
    for (user, p) in people {
        let Some(m) = current.get(user) else { continue };
        if !m.role.starts_with("customer_") {
            continue;
        }
        let action = if m.status != "active" {
            "member.reactivated"
        } else if m.role != p.role.as_str() || m.contact_role != p.contact_role {
            "member.role_changed"
        } else {
            continue;
        };
        tx.update_membership_from_crm(project, *user, p.role.as_str(), p.contact_role.as_deref())
            .await?;
        let details = serde_json::json!({
            "user": user, "from": { "role": m.role, "contact_role": m.contact_role }, "to": { "role": p.role, "contact_role": p.contact_role },
            "crm_contact": p.external_id,
        });
        record_member_change(tx, project, action, source, details).await?;
        changes.push(member_change(action, *user, p));
    }
    Ok(changes)
}

/// Active customer members linked to a CRM contact the record no longer has. With
/// `removals = "apply"` they are deactivated; with `"report"` they stay, their CRM role
/// is cleared (it no longer exists) and the difference is logged once for a person to
/// decide.
async fn removed_in_crm(tx: &mut Tx, project: ProjectId, plan: &Plan, source: &str) -> EngineResult<Vec<MemberChange>> {
    let mut removed = Vec::new();
    for member in tx.crm_linked_members(project, &plan.connection).await? {
        if plan.contacts_present.contains(&member.contact) {
            continue;
        }
        let action = match plan.removals {
            Removals::Apply => {
                tx.deactivate_membership(project, member.user).await?;
                "member.deactivated"
            }
            Removals::Report => {
                tx.clear_contact_role(project, member.user).await?;
                "member.removed_in_crm"
            }
        };
        let details = serde_json::json!({
            "user": member.user, "role": member.role, "contact_role": member.contact_role, "crm_contact": member.contact,
        });
        record_member_change(tx, project, action, source, details).await?;
        removed.push(MemberChange {
            action,
            user: member.user,
            // The CRM no longer lists the contact, so the plan has no address for them.
            email: None,
            crm_contact: member.contact,
            role: member.role,
            contact_role: member.contact_role,
        });
    }
    Ok(removed)
}

async fn record_member_change(tx: &mut Tx, project: ProjectId, action: &str, source: &str, details: serde_json::Value) -> EngineResult<()> {
    tx.record_activity(&NewActivity {
        project_id: Some(project),
        actor: Actor::System,
        action: action.into(),
        source: source.into(),
        details,
    })
    .await?;
    Ok(())
}
