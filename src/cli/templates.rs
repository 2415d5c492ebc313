//! `handoff templates list | show NAME`.

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use handoff_config::Config;
use handoff_domain::{TaskKind, Visibility};
use handoff_engine::templates::{Source, Templates};

#[derive(Subcommand, Debug)]
pub enum TemplatesCommand {
    /// List the available templates.
    List,
    /// Show a template's phases and tasks.
    Show {
        /// The template's name (its file name without .toml).
        name: String,
    },
}

pub fn describe_source(catalog: &Templates) -> String {
    match &catalog.source {
        Source::Folder(dir) => format!("from {}", dir.display()),
        Source::BuiltIn => String::from("built in; no templates folder found"),
    }
}

pub fn run(cmd: TemplatesCommand, config: &Config) -> anyhow::Result<ExitCode> {
    let catalog = Templates::load(&config.templates.dir).context("cannot load the project templates")?;
    match cmd {
        TemplatesCommand::List => {
            println!("{:<20} {:>6} {:>6}  NAME", "TEMPLATE", "PHASES", "TASKS");
            for (key, t) in catalog.iter() {
                println!("{key:<20} {:>6} {:>6}  {}", t.phases.len(), t.tasks().count(), t.name);
            }
            eprintln!("({})", describe_source(&catalog));
        }
        TemplatesCommand::Show { name } => {
            let Some(t) = catalog.get(&name) else {
                anyhow::bail!("no template named `{name}`; available: {}", catalog.names().join(", "));
            };
            println!("{} ({name})", t.name);
            if let Some(d) = &t.description {
                println!("{d}");
            }
            for (i, phase) in t.phases.iter().enumerate() {
                println!("\n{}. {} [{}]", i + 1, phase.name, phase.key);
                for task in &phase.tasks {
                    let due = task.due.map(|d| d.to_string()).unwrap_or_else(|| "no due date".into());
                    let vis = if task.visibility == Visibility::Internal {
                        "internal"
                    } else {
                        "customer-visible"
                    };
                    println!(
                        "   - {:<24} {:<9} {:<8} by {:<8} {:<16} {}",
                        task.key.as_str(),
                        task.kind.name(),
                        task.priority.as_str(),
                        task.owner.as_str(),
                        vis,
                        due
                    );
                    println!("     {}{}", task.title, kind_note(&task.kind));
                    if !task.depends_on.is_empty() {
                        let deps: Vec<_> = task.depends_on.iter().map(|k| k.as_str()).collect();
                        println!("     after: {}", deps.join(", "));
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn kind_note(kind: &TaskKind) -> String {
    match kind {
        TaskKind::Form { fields } => format!(" ({} fields)", fields.len()),
        TaskKind::Upload { accept, .. } => format!(" (accepts {})", accept.join(", ")),
        TaskKind::Meeting { duration_minutes, .. } => format!(" ({duration_minutes} min)"),
        _ => String::new(),
    }
}
