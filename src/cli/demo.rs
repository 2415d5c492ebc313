//! `handoff demo`: a fresh SQLite database with realistic projects, then the server.
//!
//! It shows what handoff does today without any set-up. (The CRM half of the demo —
//! won deals in the bundled Salesforce/HubSpot sandbox becoming projects — arrives with
//! the workflow engine.)

use std::process::ExitCode;

use anyhow::Context;
use chrono::Local;
use secrecy::SecretString;

use crate::app::{self, AppState};
use crate::config::Config;
use crate::domain::people::{Actor, ProjectRole, UserKind};
use crate::domain::project::{ProjectSpec, plan_project};
use crate::domain::{Email, ProjectId, ProjectStatus};
use crate::store::{Completion, NewUser, Store};

/// Where the demo keeps its data; replaced on every run so the demo is repeatable.
const DEMO_DB: &str = "data/demo.db";

struct Person {
    email: &'static str,
    first: &'static str,
    last: &'static str,
    title: &'static str,
    role: ProjectRole,
    contact_role: Option<&'static str>,
}

struct DemoProject {
    template: &'static str,
    company: &'static str,
    name: &'static str,
    people: &'static [Person],
    tasks_done: usize,
}

const OWNER: Person = Person {
    email: "maria.lopez@handoff.example",
    first: "Maria",
    last: "Lopez",
    title: "Onboarding Manager",
    role: ProjectRole::Owner,
    contact_role: None,
};

const PROJECTS: &[DemoProject] = &[
    DemoProject {
        template: "saas-onboarding",
        company: "Acme Analytics",
        name: "Acme Analytics onboarding",
        tasks_done: 6,
        people: &[
            OWNER,
            Person {
                email: "dana.whitfield@acme-analytics.example",
                first: "Dana",
                last: "Whitfield",
                title: "VP Operations",
                role: ProjectRole::CustomerAdmin,
                contact_role: Some("Decision Maker"),
            },
            Person {
                email: "sam.okafor@acme-analytics.example",
                first: "Sam",
                last: "Okafor",
                title: "IT Lead",
                role: ProjectRole::CustomerMember,
                contact_role: Some("Technical Buyer"),
            },
        ],
    },
    DemoProject {
        template: "implementation",
        company: "Globex Logistics",
        name: "Globex Logistics implementation",
        tasks_done: 3,
        people: &[
            OWNER,
            Person {
                email: "priya.nair@globex.example",
                first: "Priya",
                last: "Nair",
                title: "CIO",
                role: ProjectRole::CustomerAdmin,
                contact_role: Some("Economic Buyer"),
            },
            Person {
                email: "tom.berg@globex.example",
                first: "Tom",
                last: "Berg",
                title: "Project Manager",
                role: ProjectRole::CustomerMember,
                contact_role: Some("Evaluator"),
            },
        ],
    },
];

pub async fn run(mut config: Config) -> anyhow::Result<ExitCode> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{DEMO_DB}{suffix}"));
    }
    config.database.url = SecretString::from(format!("sqlite://{DEMO_DB}"));
    let listen = config.server.listen;
    let state = AppState::build(config).await?;

    println!("handoff demo — a fresh database at {DEMO_DB}\n");
    for demo in PROJECTS {
        let id = create(&state, demo).await?;
        let details = state.store.project_details(id).await?.context("the demo project vanished")?;
        print!("{}", super::project::render(&details));
        println!("\n  team:");
        for (m, u) in state.store.project_members(id).await? {
            let contact = m.contact_role.map(|r| format!(" — {r}")).unwrap_or_default();
            println!("    {:<16} {:<40} {}{contact}", m.role.as_str(), u.email.as_str(), u.display_name());
        }
        println!("\n  see it again: HANDOFF_DATABASE_URL=sqlite://{DEMO_DB} cargo run --release -- project show {id}\n");
    }

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (set HANDOFF_LISTEN to another address)"))?;
    let address = listener.local_addr()?;
    println!("serving on http://{address} — health: http://{address}/healthz · readiness: http://{address}/readyz");
    println!("press Ctrl-C to stop");
    app::serve(listener, state, app::shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

async fn create(state: &AppState, demo: &DemoProject) -> anyhow::Result<ProjectId> {
    let store = &state.store;
    let template = state
        .catalog
        .get(demo.template)
        .with_context(|| format!("the demo needs the `{}` template", demo.template))?;
    let company = store.find_or_create_company(demo.company).await?;
    let spec = ProjectSpec {
        name: demo.name.into(),
        template_key: demo.template.into(),
        company_id: Some(company.id),
        start_date: Local::now().date_naive(),
        goal_date: None,
    };
    let id = store.create_project(&plan_project(template, spec)?, Actor::System, "demo").await?;
    for p in demo.people {
        let kind = p.role.side();
        let mut new = NewUser::new(kind, Email::parse(p.email)?);
        new.first_name = Some(p.first.into());
        new.last_name = Some(p.last.into());
        new.title = Some(p.title.into());
        new.company_id = (kind == UserKind::Customer).then_some(company.id);
        let (user, _) = store.upsert_user(&new).await?;
        store.add_member(id, user.id, p.role, p.contact_role, Actor::System, "demo").await?;
    }
    store.set_project_status(id, ProjectStatus::Active, Actor::System, "demo").await?;
    complete_first_tasks(store, id, demo.tasks_done).await?;
    Ok(id)
}

/// Completes up to `n` tasks in plan order, each only once what it waits for is done.
async fn complete_first_tasks(store: &Store, id: ProjectId, n: usize) -> anyhow::Result<()> {
    let mut done = 0;
    while done < n {
        let details = store.project_details(id).await?.context("the demo project vanished")?;
        let next = details
            .tasks
            .iter()
            .find(|t| details.status_of(t) == crate::domain::TaskStatus::Pending);
        let Some(task) = next else { break };
        if store.complete_task(id, task.key.as_str(), Actor::System, "demo").await? == Completion::Completed {
            done += 1;
        }
    }
    Ok(())
}
