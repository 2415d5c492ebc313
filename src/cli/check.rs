//! `handoff check [--offline]`: everything that can be validated before handoff runs.
//!
//! In order: the configuration (already loaded to get here), the project templates,
//! the workflows (they parse and choose templates that exist), then — unless
//! `--offline` — the workflows against the live field catalogs of their CRM
//! connections. Every problem is printed to stderr as `file:line: `key`: reason` and
//! makes the exit status 1.
//!
//! A CRM that cannot be reached (down, timing out, rate limited) is reported as a
//! warning and does not fail the check by itself: the workflows on it were checked as
//! far as possible without it, and a deploy should not be blocked by the CRM's outage.
//! A CRM that refuses the request or the credentials does fail it: the connection is
//! misconfigured and would not work when serving either. Live validation reads the
//! connections' tokens from the database, as `serve` does; `--offline` skips it (no
//! database, no network), e.g. in CI without CRM access.

use std::process::ExitCode;

use secrecy::ExposeSecret;

use super::templates;
use handoff_config::Config;
use handoff_engine::definition::Workflow;
use handoff_engine::templates::Templates;
use handoff_engine::validate_live::{Verdict, validate_live};

pub async fn run(config: &Config, offline: bool) -> anyhow::Result<ExitCode> {
    if !configuration(config) {
        return Ok(ExitCode::FAILURE);
    }
    let catalog = match Templates::load(&config.templates.dir) {
        Ok(catalog) => catalog,
        Err(e) => {
            eprintln!("templates: invalid\n{e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    println!("templates: ok ({})", templates::describe_source(&catalog));
    for (name, t) in catalog.iter() {
        println!("  {name:<20} {} phases, {} tasks", t.phases.len(), t.tasks().count());
    }
    let Some((workflows, mut ok)) = workflows(config, &catalog) else {
        return Ok(ExitCode::FAILURE);
    };
    let connected = workflows.iter().any(|w| config.connection(&w.trigger.connection).is_some());
    if offline {
        println!("CRM fields: not checked (--offline)");
    } else if connected {
        ok &= live(config, &workflows).await?;
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Prints the settings that matter; false when a connection cannot work as configured.
fn configuration(config: &Config) -> bool {
    println!("configuration: ok");
    println!("  database   {}", handoff_store::redact_url(config.database.url.expose_secret()));
    println!("  listen     {}", config.server.listen);
    println!("  base URL   {}", config.server.base_url);
    println!(
        "  master key {}",
        if config.secrets.master_key.is_some() {
            "set"
        } else {
            "not set (needed once CRM connections store secrets)"
        }
    );
    println!(
        "  SMTP       {}",
        if config.smtp.url.is_some() {
            "set"
        } else {
            "not set (invitations cannot be emailed)"
        }
    );
    println!("connections: {}", if config.connections.is_empty() { "none" } else { "" });
    let mut ok = true;
    for c in &config.connections {
        println!("  {:<20} {}", c.name, c.crm_name());
        for warning in c.warnings() {
            eprintln!("warning: {warning}");
        }
        if handoff_sync::adapters::stores_tokens(c) && config.secrets.master_key.is_none() {
            eprintln!(
                "connection `{}` keeps OAuth tokens, which are stored encrypted: set HANDOFF_MASTER_KEY (openssl rand -base64 32)",
                c.name
            );
            ok = false;
        }
    }
    ok
}

/// The workflows, parsed and choosing templates that exist, and whether they passed;
/// `None` when the folder cannot be loaded at all.
fn workflows(config: &Config, catalog: &Templates) -> Option<(Vec<Workflow>, bool)> {
    let dir = &config.workflows.dir;
    if !dir.exists() {
        println!("workflows: none ({} does not exist)", dir.display());
        return Some((Vec::new(), true));
    }
    let workflows = match handoff_engine::definition::load_dir(dir) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("workflows: invalid\n{e}");
            return None;
        }
    };
    let names = catalog.names();
    let mut ok = true;
    println!("workflows: {} in {}", workflows.len(), dir.display());
    for w in &workflows {
        let file = handoff_engine::validate_live::workflow_file(dir, w);
        let problems = w.validate_templates(&names, &file);
        if config.connection(&w.trigger.connection).is_none() {
            println!(
                "  {:<24} (connection `{}` is not configured: it will not run)",
                w.name, w.trigger.connection
            );
        } else {
            println!("  {:<24} on {}", w.name, w.trigger.connection);
        }
        for p in problems {
            eprintln!("{p}");
            ok = false;
        }
    }
    Some((workflows, ok))
}

/// The workflows against their connections' live field catalogs; false on any problem
/// or refused request; true when the only trouble is a CRM that cannot be reached
/// (down, timing out, or asking us to slow down: `CrmError::is_retryable`).
async fn live(config: &Config, workflows: &[Workflow]) -> anyhow::Result<bool> {
    use anyhow::Context;
    let store = handoff_store::Store::connect(&config.database)
        .await
        .context("checking the workflows against the CRMs needs the database (it holds the connections' tokens); `--offline` skips it")?;
    store.migrate().await?;
    let crms = handoff_sync::adapters::build(config, &store, &handoff_engine::definition::deal_reads(workflows))?;
    let verdicts = validate_live(workflows, &config.workflows.dir, &crms).await;
    store.close().await;
    println!("CRM fields: checked against each connection's live catalog");
    let mut ok = true;
    let mut warned: Vec<&str> = Vec::new();
    for (w, verdict) in workflows.iter().zip(verdicts) {
        let connection = w.trigger.connection.as_str();
        match verdict {
            Verdict::Valid => println!("  {:<24} ok", w.name),
            Verdict::NoConnection => {}
            Verdict::Invalid(problems) => {
                println!("  {:<24} {} problem(s)", w.name, problems.len());
                for p in problems {
                    eprintln!("{p}");
                }
                ok = false;
            }
            Verdict::Unchecked(error) if error.is_retryable() => {
                println!("  {:<24} not checked: {connection} cannot be reached", w.name);
                if !warned.contains(&connection) {
                    eprintln!(
                        "warning: connection `{connection}` cannot be reached ({error}); its workflows were not checked against its fields: run `handoff check` again when it answers"
                    );
                    warned.push(connection);
                }
            }
            Verdict::Unchecked(error) => {
                println!("  {:<24} not checked: {connection} refused", w.name);
                if !warned.contains(&connection) {
                    eprintln!("connection `{connection}`: {error}; its workflows cannot be checked against its fields");
                    warned.push(connection);
                }
                ok = false;
            }
        }
    }
    Ok(ok)
}
