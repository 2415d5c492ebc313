//! `handoff trace CONNECTION RECORD_ID`: what became of a CRM record — every change
//! received, each workflow's decision, the project, members, invitations and
//! writebacks (see `engine::trace`).

use std::fmt::Write as _;
use std::process::ExitCode;

use chrono::{DateTime, Utc};

use crate::app::AppState;
use handoff_engine::trace::{RecordTrace, trace_record};

#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// The connection the record is in (`handoff connections` lists them).
    pub connection: String,
    /// The record's id in the CRM (a Salesforce Opportunity id, a HubSpot deal id, …).
    pub record_id: String,
    /// Print the trace as JSON, for scripts.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: TraceArgs, state: AppState) -> anyhow::Result<ExitCode> {
    if !state.config.connections.iter().any(|c| c.name == args.connection) {
        let known: Vec<&str> = state.config.connections.iter().map(|c| c.name.as_str()).collect();
        anyhow::bail!(
            "no connection is named `{}` (configured: {})",
            args.connection,
            if known.is_empty() { "none".into() } else { known.join(", ") }
        );
    }
    let trace = trace_record(&state.store, &args.connection, args.record_id.trim(), Utc::now()).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&trace)?);
    } else {
        print!("{}", text(&trace));
    }
    Ok(ExitCode::SUCCESS)
}

fn at(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The trace as a person reads it in a terminal.
pub fn text(trace: &RecordTrace) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Record {} in {}", trace.record_id, trace.connection);
    if trace.changes.is_empty() {
        let _ = writeln!(
            out,
            "\nThe hub has received no change of this record (within the trace retention). \
             Check the record id, the connection's webhook subscription and its last poll (`handoff connections`)."
        );
    }
    if trace.changes_stored > trace.changes.len() as i64 {
        let _ = writeln!(
            out,
            "(the newest {} of {} changes stored)",
            trace.changes.len(),
            trace.changes_stored
        );
    }
    for (n, c) in trace.changes.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n#{} {} {} by {} at {} (modified {}; fingerprint {}): {}",
            n + 1,
            c.object,
            if c.deleted { "deleted" } else { "changed" },
            c.source,
            at(c.received_at),
            at(c.modified_at),
            c.fingerprint,
            c.status
        );
        if let Some(error) = &c.error {
            let _ = writeln!(out, "   error: {error}");
        }
        if c.first {
            let _ = writeln!(out, "   (the first state traced)");
        }
        for f in &c.fields_changed {
            let _ = writeln!(out, "   {}: {} → {}", f.field, f.before, f.after);
        }
        if c.status == "pending" {
            let _ = writeln!(out, "   waiting for the engine");
        }
        for d in &c.decisions {
            let _ = write!(out, "   workflow {}: {}", d.workflow, d.verdict_text);
            if let Some(reason) = &d.reason {
                let _ = write!(out, " — {reason}");
            }
            let _ = writeln!(out);
            if let Some(project) = &d.project_id {
                let verb = if d.project_created { "created" } else { "updated" };
                let _ = writeln!(out, "      project {project} {verb}");
            }
            for (label, list) in [
                ("added", &d.members_added),
                ("changed", &d.members_changed),
                ("removed", &d.members_removed),
                ("invited", &d.invited),
                ("invitation waiting", &d.waiting),
            ] {
                if !list.is_empty() {
                    let _ = writeln!(out, "      {label}: {}", list.join(", "));
                }
            }
        }
    }
    if !trace.projects.is_empty() {
        let _ = writeln!(out, "\nProjects");
        for p in &trace.projects {
            let _ = writeln!(
                out,
                "  {} “{}” ({}), from workflow {} at {}",
                p.project_id,
                p.name,
                p.status,
                p.workflow,
                at(p.linked_at)
            );
            for i in &p.invitations {
                let _ = writeln!(out, "    invitation to {}: {} {}", i.email, i.state, at(i.at));
            }
        }
    }
    if !trace.writebacks.is_empty() {
        let _ = writeln!(out, "\nWritebacks");
        for w in &trace.writebacks {
            let detail = w.detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
            let answer = w.answer.as_deref().map(|a| format!(": {a}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {} {}{detail}, queued {}: {} after {} attempt(s){answer}",
                w.workflow,
                w.event,
                at(w.queued_at),
                w.state,
                w.attempts
            );
        }
    }
    out
}
