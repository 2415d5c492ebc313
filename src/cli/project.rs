//! `handoff project …` and `handoff task …`.

use std::process::ExitCode;

use anyhow::Context;
use chrono::{Datelike, Local, NaiveDate};
use clap::Subcommand;

use crate::app::AppState;
use crate::domain::people::Actor;
use crate::domain::project::{ProjectDetails, ProjectSpec, plan_project};
use crate::domain::{ProjectId, ProjectStatus, TaskStatus, Visibility};
use crate::store::Completion;

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
    /// Move a project through its lifecycle (active, completed, converted, archived).
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
                Some(name) => Some(state.store.find_or_create_company(&name).await?.id),
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
            print!("{}", render(&details));
        }
        ProjectCommand::SetStatus { id, status } => {
            let now = crate::engine::tasks::set_project_status(&state, id, status, Actor::System, "cli").await?;
            println!("project {id} is now {now}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_task(cmd: TaskCommand, state: AppState) -> anyhow::Result<ExitCode> {
    match cmd {
        TaskCommand::Complete { project_id, task_key } => {
            match crate::engine::tasks::complete_task(&state, project_id, &task_key, Actor::System, "cli").await? {
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

/// The text of `handoff project show`.
pub fn render(d: &ProjectDetails) -> String {
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
