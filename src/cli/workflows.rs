//! `handoff workflows list` and `handoff workflows dry-run NAME --record ID`.

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use crate::app::AppState;
use handoff_engine::definition::{TemplateChoice, TriggerVerdict, Workflow};
use handoff_engine::run::{Planner, plan};

#[derive(Subcommand, Debug)]
pub enum WorkflowsCommand {
    /// List the workflows with their trigger and whether they can run.
    List,
    /// Show what a workflow would do for one CRM record, without doing it.
    DryRun {
        /// The workflow's name (its file name without .toml).
        name: String,
        /// The CRM record's id (an Opportunity id, a HubSpot deal id).
        #[arg(long)]
        record: String,
    },
}

fn template(w: &Workflow) -> String {
    match &w.template {
        TemplateChoice::Fixed(name) => name.clone(),
        TemplateChoice::ByField { field, default, .. } => format!("by {field} (default {default})"),
    }
}

pub async fn run(cmd: WorkflowsCommand, state: AppState) -> anyhow::Result<ExitCode> {
    match cmd {
        WorkflowsCommand::List => {
            if state.workflows.is_empty() {
                println!("no workflows ({} holds none)", state.config.workflows.dir.display());
            }
            for w in state.workflows.iter() {
                let runs = if state.crms.get(&w.trigger.connection).is_some() {
                    "active"
                } else {
                    "inactive: connection not configured"
                };
                println!("{}  [{runs}]", w.name);
                println!("  when     {}", w.trigger_text());
                println!("  template {}", template(w));
                println!(
                    "  people   {} source(s); writeback {} rule(s)",
                    w.customers.len(),
                    w.writeback.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        WorkflowsCommand::DryRun { name, record } => dry_run(&state, &name, &record).await,
    }
}

async fn dry_run(state: &AppState, name: &str, record: &str) -> anyhow::Result<ExitCode> {
    let workflow = state.workflows.iter().find(|w| w.name == name).with_context(|| {
        let names: Vec<&str> = state.workflows.iter().map(|w| w.name.as_str()).collect();
        format!("no workflow named `{name}`; available: {}", names.join(", "))
    })?;
    let crm = state
        .crms
        .get(&workflow.trigger.connection)
        .with_context(|| format!("the workflow's connection `{}` is not configured", workflow.trigger.connection))?;
    let mut changes = crm.fetch(workflow.trigger.object, &[record.to_owned()]).await?;
    let change = changes.pop().with_context(|| {
        format!(
            "{} has no {} `{record}`",
            workflow.trigger.connection,
            workflow.trigger.object.as_str()
        )
    })?;
    let existing = state
        .store
        .project_for_source(&workflow.name, &change.connection, &change.external_id)
        .await?;
    println!(
        "workflow {} for {} {record} (dry run: nothing is changed)",
        workflow.name,
        workflow.trigger.object.as_str()
    );
    println!("  trigger   {}", workflow.trigger_text());
    // The record as it is now, as if the hub saw it for the first time (a record
    // already at the trigger's value counts as having become it).
    let verdict = workflow.explain(&change, None);
    match (&verdict, existing) {
        (TriggerVerdict::DoesNotFire(why), None) => {
            println!("  verdict   does not fire: {why}");
            println!("  nothing would happen: the record has no project from this workflow");
            return Ok(ExitCode::SUCCESS);
        }
        (TriggerVerdict::DoesNotFire(why), Some(id)) => {
            println!("  verdict   does not fire ({why}), but the record has project {id}: its mapped fields and members follow the CRM");
        }
        (TriggerVerdict::Fires, _) => println!("  verdict   fires"),
    }
    let now = chrono::Utc::now();
    // A throwaway key seals the dry run's invitation links, so the plan shows who
    // would be invited; they are rolled back with everything else.
    let key = handoff_config::MasterKey::generate().context("no randomness for a throwaway key")?;
    let sealer = handoff_store::sealed::Sealer::new(Some(&key)).context("cannot seal the dry run's links")?;
    let planner = Planner {
        catalog: &state.catalog,
        sealer: Some(&sealer),
        now,
        today: now.date_naive(),
        invitation_validity: state.config.portal.invitation_validity,
    };
    let planned = plan(workflow, &change, &planner)?;
    let outcome = handoff_engine::apply::preview_plan(&state.store, &planned).await?;
    print_plan(workflow, &planned, &outcome);
    Ok(ExitCode::SUCCESS)
}

fn print_plan(workflow: &Workflow, planned: &handoff_domain::plan::Plan, outcome: &handoff_engine::apply::Outcome) {
    match (outcome.created, outcome.project_id) {
        (false, Some(id)) => println!("  project   exists ({id}): its name and goal would be updated to the ones below"),
        _ => println!("  project   would be created"),
    }
    let p = &planned.project;
    println!("  name      {}", p.name);
    println!(
        "  template  {} ({} phases, {} tasks)",
        p.template_key,
        p.phases.len(),
        p.phases.iter().map(|ph| ph.tasks.len()).sum::<usize>()
    );
    if let Some(status) = outcome.status {
        println!("  status    {status}");
    }
    println!(
        "  dates     start {}, goal {}",
        p.start_date,
        p.goal_date.map_or_else(|| "-".into(), |d| d.to_string())
    );
    if let Some(c) = &planned.company {
        println!("  company   {} ({})", c.name, c.external_id);
    }
    // Staff are matched when the plan is applied (by CRM user link, then email).
    for staff in &planned.staff {
        let who = match (&staff.name, &staff.email) {
            (Some(name), Some(email)) => format!("{name} <{}>", email.as_str()),
            (None, Some(email)) => email.as_str().to_owned(),
            (Some(name), None) => name.clone(),
            (None, None) => format!("CRM user {}", staff.crm_user_id),
        };
        println!("  {:<9} {who}  [CRM {}]", staff.role.as_str(), staff.field);
    }
    for (name, value) in &planned.custom_fields {
        println!("  field     {name} = {value}");
    }
    println!(
        "  people    {} in the CRM, {} would join",
        planned.people.len(),
        outcome.members_added.len()
    );
    for person in &planned.people {
        let crm_role = person.contact_role.as_deref().unwrap_or("-");
        let what = if outcome.invited.contains(&person.email) {
            "joins, invited now"
        } else if outcome.waiting.contains(&person.email) {
            "joins, invited when the project goes live"
        } else if outcome.members_added.iter().any(|m| m.email.as_ref() == Some(&person.email)) {
            "joins silently"
        } else {
            "already a member"
        };
        println!(
            "    {:<36} {:<16} ({crm_role}): {what}",
            person.email.as_str(),
            person.role.as_str()
        );
    }
    for change in &outcome.members_changed {
        let who = change.email.as_ref().map_or(change.crm_contact.as_str(), |e| e.as_str());
        println!("    {who}: {} ({})", change.action, change.contact_role.as_deref().unwrap_or("-"));
    }
    for removed in &outcome.members_removed {
        println!(
            "    CRM contact {}: {} (no longer on the record)",
            removed.crm_contact, removed.action
        );
    }
    for skipped in &planned.skipped {
        println!("    skipped: {skipped}");
    }
    println!("  writeback {} rule(s)", workflow.writeback.len());
}
