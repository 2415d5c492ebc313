//! A workflow run: match a record change against the workflows, plan, apply. `plan`
//! is pure (the dry run prints it); `run_pending` is the plain function the scheduled
//! job calls.

use chrono::{DateTime, NaiveDate, Utc};

use super::definition::Workflow;
use super::definition::explain::TriggerVerdict;
use super::invite::new_invitation;
use crate::error::EngineError;
use crate::templates::Templates;
use handoff_domain::Email;
use handoff_domain::change::{CrmUser, RecordChange};
use handoff_domain::people::ProjectRole;
use handoff_domain::plan::{InviteMode, Plan, PlannedCompany, PlannedPerson, PlannedStaff};
use handoff_domain::project::{ProjectSpec, ProjectSpecError, plan_project};
use handoff_store::sealed::{SealError, Sealer};
use handoff_store::{NewDecision, Store, StoreError, StoredChange, Verdict};

/// What a plan is made with besides the workflow and the change.
pub struct Planner<'a> {
    pub catalog: &'a Templates,
    /// Invitations need it to seal their tokens; without it no one is invited.
    pub sealer: Option<&'a Sealer>,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    /// How long the invitation links it makes work (`portal.invitation_validity`).
    pub invitation_validity: chrono::Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("workflow `{workflow}` chose template `{template}`, which does not exist")]
    UnknownTemplate { workflow: String, template: String },
    #[error(transparent)]
    Project(#[from] ProjectSpecError),
    #[error(transparent)]
    Seal(#[from] SealError),
}

/// The plan for `change` under `workflow` (assumed to apply: see [`applies`]).
pub fn plan(workflow: &Workflow, change: &RecordChange, planner: &Planner<'_>) -> Result<Plan, PlanError> {
    let template_name = workflow.template_for(change);
    let template = planner.catalog.get(template_name).ok_or_else(|| PlanError::UnknownTemplate {
        workflow: workflow.name.clone(),
        template: template_name.to_owned(),
    })?;
    let start_date = workflow.start_date(change, planner.today);
    let spec = ProjectSpec {
        name: workflow.render_project_name(change),
        template_key: template_name.to_owned(),
        company_id: None,
        start_date,
        goal_date: workflow.goal_date(change, start_date),
    };
    let mut project = plan_project(template, spec)?;
    project.status = workflow.project.initial_status;
    if let Some(welcome) = workflow.render_welcome_message(change) {
        project.welcome_message = Some(welcome);
    }
    let mut people = Vec::new();
    let mut skipped = Vec::new();
    let mut contacts_present = Vec::new();
    for (contact, role, invite) in workflow.customers_with_company(change, &change.company_contacts) {
        contacts_present.push(contact.external_id.clone());
        let Some(email) = contact.email.as_deref().and_then(|e| Email::parse(e).ok()) else {
            skipped.push(format!("contact {} has no valid email address", contact.external_id));
            continue;
        };
        let invitation = match (planner.sealer, invite) {
            (Some(sealer), InviteMode::Now | InviteMode::WhenActive) => {
                Some(new_invitation(sealer, planner.now, planner.invitation_validity)?)
            }
            _ => None,
        };
        people.push(PlannedPerson {
            external_id: contact.external_id.clone(),
            email,
            first_name: contact.first_name.clone(),
            last_name: contact.last_name.clone(),
            title: contact.title.clone(),
            role,
            contact_role: contact.roles.first().cloned(),
            invite,
            invitation,
        });
    }
    Ok(Plan {
        workflow: workflow.name.clone(),
        connection: change.connection.clone(),
        external_id: change.external_id.clone(),
        project,
        company: change.company.as_ref().map(|c| PlannedCompany {
            external_id: c.external_id.clone(),
            name: c.name.clone().unwrap_or_default(),
        }),
        people,
        skipped,
        contacts_present,
        removals: workflow.removals,
        staff: planned_staff(workflow, change),
        custom_fields: workflow.custom_field_values(change),
    })
}

/// The owner and team the record's user-lookup fields name. A user named by several
/// fields is planned once, with the first field's role (the owner's comes first). A
/// field the record leaves empty plans nobody: the project keeps whom it has.
fn planned_staff(workflow: &Workflow, change: &RecordChange) -> Vec<PlannedStaff> {
    let mut out: Vec<PlannedStaff> = Vec::new();
    let owner = workflow.project.owner_field.as_deref();
    for field in workflow.user_fields() {
        let Some(user) = crm_user(change, &field) else { continue };
        if out.iter().any(|s| s.crm_user_id == user.external_id) {
            continue;
        }
        out.push(PlannedStaff {
            role: if owner == Some(field.as_str()) {
                ProjectRole::Owner
            } else {
                ProjectRole::Staff
            },
            field,
            email: user.email.as_deref().and_then(|e| Email::parse(e).ok()),
            name: user.name(),
            crm_user_id: user.external_id,
        });
    }
    out
}

/// The user the field names: as the adapter read it, else (an adapter that read only
/// the field) by id alone, which can still match a staff user linked to it.
fn crm_user(change: &RecordChange, field: &str) -> Option<CrmUser> {
    if let Some(user) = change.users.get(field).filter(|u| !u.external_id.trim().is_empty()) {
        return Some(user.clone());
    }
    let id = match change.fields.get(field)? {
        serde_json::Value::String(s) => s.trim().to_owned(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!id.is_empty()).then(|| CrmUser::id_only(&id))
}

/// What a workflow makes of a change before any plan: whether it acts (its trigger
/// fires, or the record already has a project from it, whose mapped fields and members
/// later changes keep in step), and if not, why not. `None`: the workflow is not
/// triggered on the change's connection and object at all, and has nothing to say.
pub async fn decide(
    store: &Store,
    workflow: &Workflow,
    change: &RecordChange,
    previous: Option<&RecordChange>,
) -> Result<Option<(Verdict, Option<String>)>, StoreError> {
    if workflow.trigger.connection != change.connection || workflow.trigger.object != change.object {
        return Ok(None);
    }
    if change.deleted {
        return Ok(Some((Verdict::Skips, Some("the record was deleted in the CRM".into()))));
    }
    // `matches` decides; `explain` only words the reason (they share their rules).
    let why_not = || match workflow.explain(change, previous) {
        TriggerVerdict::DoesNotFire(why) => why,
        TriggerVerdict::Fires => "the trigger did not fire".into(),
    };
    if workflow.matches(change, previous) {
        return Ok(Some((Verdict::Fires, None)));
    }
    let has_project = store
        .project_for_source(&workflow.name, &change.connection, &change.external_id)
        .await?
        .is_some();
    let verdict = if has_project { Verdict::Keeps } else { Verdict::Skips };
    Ok(Some((verdict, Some(why_not()))))
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    pub changes: usize,
    pub projects_created: usize,
    pub members_added: usize,
    pub members_removed: usize,
    pub invitations: usize,
    pub failed: usize,
}

/// How long a run holds the changes it claimed; a process that dies mid-run frees them
/// then, and another process (or the next tick) takes them over.
pub const CLAIM: chrono::Duration = chrono::Duration::seconds(60);

/// Handles up to `limit` pending changes, oldest first. A change whose plan cannot be
/// made or applied is set aside as failed with the reason, not retried forever.
///
/// The changes are claimed first (see [`Store::claim_record_changes`]), so runs that
/// overlap, in one process or several, never handle the same change. A change is marked
/// handled after its plans are applied, in one statement per run: a crash in between
/// applies the plan again on the next run, which changes nothing (one project per
/// workflow and record; members and invitations are not repeated).
pub async fn run_pending(store: &Store, workflows: &[Workflow], planner: &Planner<'_>, limit: u32) -> Result<RunReport, EngineError> {
    let mut report = RunReport::default();
    let claimed = store.claim_record_changes(limit, CLAIM).await?;
    let mut handled = Vec::new();
    let mut decisions = Vec::new();
    let outcome = run_claimed(store, workflows, planner, &claimed, &mut handled, &mut decisions, &mut report).await;
    // What was handled stays handled even if a later change hit a database error; the
    // rest is given back at once for the next run rather than when the claim runs out.
    // The decisions go first: a crash between the two handles the changes again, and
    // their decisions are written again over these.
    store.record_decisions(&decisions).await?;
    store.finish_record_changes(&handled).await?;
    if outcome.is_err() {
        let done: std::collections::HashSet<uuid::Uuid> = handled.iter().copied().collect();
        let rest: Vec<uuid::Uuid> = claimed.iter().map(|c| c.id).filter(|id| !done.contains(id)).collect();
        store.release_record_changes(&rest).await?;
    }
    outcome.map(|()| report)
}

async fn run_claimed(
    store: &Store,
    workflows: &[Workflow],
    planner: &Planner<'_>,
    claimed: &[StoredChange],
    handled: &mut Vec<uuid::Uuid>,
    decisions: &mut Vec<NewDecision>,
    report: &mut RunReport,
) -> Result<(), EngineError> {
    for stored in claimed {
        let change = &stored.change.0;
        let previous = store.previous_change(change, stored.id).await?;
        let mut error = None;
        for workflow in workflows {
            let Some((verdict, reason)) = decide(store, workflow, change, previous.as_ref()).await? else {
                continue;
            };
            let mut decision = NewDecision {
                change_id: stored.id,
                workflow: workflow.name.clone(),
                verdict,
                reason,
                project_id: None,
                outcome: None,
            };
            if verdict == Verdict::Skips {
                decisions.push(decision);
                continue;
            }
            match plan(workflow, change, planner) {
                Ok(p) => {
                    let outcome = super::apply::apply_detailed(store, &p).await?;
                    report.projects_created += usize::from(outcome.created);
                    report.members_added += outcome.members_added.len();
                    report.members_removed += outcome.members_removed.len();
                    report.invitations += outcome.invited.len();
                    decision.project_id = outcome.project_id;
                    decision.outcome = serde_json::to_value(&outcome).ok();
                }
                Err(e) => {
                    tracing::warn!(workflow = %workflow.name, record = %change.external_id, error = %e, "cannot plan a workflow run");
                    decision.verdict = Verdict::Fails;
                    decision.reason = Some(e.to_string());
                    error = Some(e.to_string());
                }
            }
            decisions.push(decision);
        }
        match error {
            Some(error) => {
                report.failed += 1;
                store.finish_record_change(stored.id, Some(&error)).await?;
            }
            None => handled.push(stored.id),
        }
        report.changes += 1;
    }
    Ok(())
}
