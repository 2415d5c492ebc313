//! `handoff project …` and `handoff task …`.

use std::process::ExitCode;

use anyhow::Context;
use chrono::{Datelike, Local, NaiveDate};
use clap::Subcommand;

use crate::app::AppState;
use handoff_domain::people::Actor;
use handoff_domain::project::{ProjectDetails, ProjectSpec, plan_project};
use handoff_domain::{ProjectId, ProjectStatus, TaskStatus, Visibility};
use handoff_engine::Completion;

#[derive(Subcommand, Debug)]
pub enum ProjectCommand {
    /// Create a Draft project from a template and print its id.
    Create {
        /// The template's name (see `handoff templates list`).
        #[arg(long)]
        template: String,
        /// The project's name, e.g. "Acme onboarding".
        #[arg(long)]
        name: String,
        /// The customer company (matched by name, created if new).
        #[arg(long)]
        company: Option<String>,
        /// The start date, from which due dates are counted (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        start: Option<NaiveDate>,
        /// The goal date (default: the last task's due date).
        #[arg(long, value_name = "YYYY-MM-DD")]
        goal: Option<NaiveDate>,
    },
    /// List projects with their status and progress.
    List,
    /// Show a project's phases, tasks, statuses, due dates and progress.
    Show { id: ProjectId },
    /// Move a project through its lifecycle (active, completed, converted, archived). A
    /// project is completed only once none of its tasks is open.
    SetStatus { id: ProjectId, status: ProjectStatus },
}

#[derive(Subcommand, Debug)]
pub enum TaskCommand {
    /// Mark a task completed (refused while it waits for other tasks).
    Complete {
        project_id: ProjectId,
        /// The task's key, as `handoff project show` lists it.
        task_key: String,
    },
}

pub async fn run_project(cmd: ProjectCommand, state: AppState) -> anyhow::Result<ExitCode> {
    match cmd {
        ProjectCommand::Create {
            template,
            name,
            company,
            start,
            goal,
        } => {
            let tpl = state
                .catalog
                .get(&template)
                .with_context(|| format!("no template named `{template}`; available: {}", state.catalog.names().join(", ")))?;
            let company_id = match company {
                Some(name) => Some(state.engine.find_or_create_company(&name).await?.id),
                None => None,
            };
            let spec = ProjectSpec {
                name,
                template_key: template.clone(),
                company_id,
                start_date: start.unwrap_or_else(|| Local::now().date_naive()),
                goal_date: goal,
            };
            let planned = plan_project(tpl, spec)?;
            let id = state.store.create_project(&planned, Actor::System, "cli").await?;
            eprintln!(
                "Created draft project \"{}\" from template {template}: {} phases, {} tasks.",
                planned.name,
                planned.phases.len(),
                planned.phases.iter().map(|p| p.tasks.len()).sum::<usize>()
            );
            println!("{id}");
        }
        ProjectCommand::List => {
            let projects = state.store.list_projects().await?;
            println!("{:<36}  {:<9} {:>4}  {:<10}  {:<10}  NAME", "ID", "STATUS", "DONE", "START", "GOAL");
            for s in projects {
                let p = &s.project;
                let goal = p.goal_date.map(|d| d.to_string()).unwrap_or_default();
                println!(
                    "{:<36}  {:<9} {:>3}%  {:<10}  {:<10}  {}",
                    p.id,
                    p.status.as_str(),
                    s.progress.percent(),
                    p.start_date,
                    goal,
                    p.name
                );
            }
        }
        ProjectCommand::Show { id } => {
            let details = state
                .store
                .project_details(id)
                .await?
                .with_context(|| format!("no project with id {id}"))?;
            let mapping = mapping_lines(&state, id).await?;
            print!("{}", render_with(&details, &mapping));
        }
        ProjectCommand::SetStatus { id, status } => {
            let now = state.engine.set_project_status(id, status, Actor::System, "cli").await?;
            println!("project {id} is now {now}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_task(cmd: TaskCommand, state: AppState) -> anyhow::Result<ExitCode> {
    match cmd {
        TaskCommand::Complete { project_id, task_key } => {
            match state.engine.complete_task(project_id, &task_key, Actor::System, "cli").await? {
                Completion::Completed => println!("completed `{task_key}`"),
                Completion::AlreadyCompleted => println!("`{task_key}` was already completed; nothing changed"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn day(d: NaiveDate) -> String {
    format!("{d} {}", d.weekday())
}

/// The owner, team and custom fields the project's workflow mapped from the CRM, and
/// what could not be mapped (a CRM user with no staff account), as lines for the header
/// of `handoff project show`.
pub async fn mapping_lines(state: &AppState, id: ProjectId) -> anyhow::Result<String> {
    use std::fmt::Write;
    let mapping = state.store.project_mapping(id).await?;
    let members = state.store.project_members(id).await?;
    let mut out = String::new();
    for s in &mapping.crm_staff {
        let label = match s.role {
            handoff_domain::people::ProjectRole::Owner => "owner",
            _ => "team",
        };
        let who = match members.iter().find(|(m, _)| Some(m.user_id) == s.user_id) {
            Some((_, u)) => format!("{} <{}>", u.display_name(), u.email),
            None => format!("- (the CRM's {} has no handoff account)", s.label()),
        };
        let _ = writeln!(out, "  {label:<9} {who}  [CRM {}]", s.field);
    }
    for (i, (name, value)) in mapping.custom_fields.iter().enumerate() {
        let shown = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "-".to_owned(),
            other => other.to_string(),
        };
        let label = if i == 0 { "fields" } else { "" };
        let _ = writeln!(out, "  {label:<9} {name} = {shown}");
    }
    let notes: Vec<String> = state
        .store
        .project_activity(id)
        .await?
        .into_iter()
        .filter(|a| a.entry.action == "staff.unmatched")
        .filter_map(|a| {
            Some(format!(
                "{} {}",
                a.at.format("%Y-%m-%d %H:%M"),
                a.entry.details.get("message")?.as_str()?
            ))
        })
        .collect();
    for (i, note) in notes.iter().enumerate() {
        let label = if i == 0 { "notes" } else { "" };
        let _ = writeln!(out, "  {label:<9} {note}");
    }
    Ok(out)
}

/// The text of `handoff project show`, with `extra` (lines such as [`mapping_lines`])
/// ending the header.
pub fn render_with(d: &ProjectDetails, extra: &str) -> String {
    use std::fmt::Write;
    let p = &d.project;
    let progress = d.progress();
    let mut out = String::new();
    let _ = writeln!(out, "{} ({})", p.name, p.status);
    let _ = writeln!(out, "  id        {}", p.id);
    let _ = writeln!(out, "  company   {}", p.company_name.as_deref().unwrap_or("-"));
    let _ = writeln!(out, "  template  {}", p.template_key);
    let _ = writeln!(out, "  start     {}", day(p.start_date));
    let _ = writeln!(out, "  goal      {}", p.goal_date.map_or_else(|| "-".to_owned(), day));
    let _ = writeln!(
        out,
        "  progress  {}% ({} of {} tasks completed)",
        progress.percent(),
        progress.completed,
        progress.total
    );
    out.push_str(extra);
    for (i, phase) in d.phases.iter().enumerate() {
        let pp = d.phase_progress(phase);
        let _ = writeln!(
            out,
            "\n{}. {}  [{}/{} · {}%]",
            i + 1,
            phase.name,
            pp.completed,
            pp.total,
            pp.percent()
        );
        for t in d.tasks_in(phase) {
            let status = d.status_of(t);
            let mark = match status {
                TaskStatus::Completed => "[x]",
                TaskStatus::InProgress => "[~]",
                TaskStatus::Blocked => "[!]",
                TaskStatus::Pending => "[ ]",
            };
            let due = t.due_date.map_or_else(|| "no due date".to_owned(), day);
            let side = if t.visibility == Visibility::Internal {
                "internal"
            } else {
                t.owner.as_str()
            };
            let _ = writeln!(
                out,
                "   {mark} {:<24} {:<11} {:<8} {:<8} {:<6} due {}",
                t.key.as_str(),
                status.label(),
                side,
                t.kind.name(),
                t.priority.as_str(),
                due
            );
            let _ = writeln!(out, "       {}", t.title);
        }
    }
    out
}
