//! `handoff sync [--connection NAME] [--backfill]`: an initial or repair sync, with a
//! progress bar and a summary.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::app::AppState;
use crate::jobs::{POLL_LEASE, POLLED};
use handoff_domain::change::ChangeSource;
use handoff_sync::poll::poll_once;

pub async fn run(state: AppState, connection: Option<String>, backfill: bool) -> anyhow::Result<ExitCode> {
    let names: Vec<String> = match connection {
        Some(name) => {
            state
                .config
                .connection(&name)
                .with_context(|| format!("no connection named `{name}`; see the [connections] settings"))?;
            vec![name]
        }
        None => state.config.connections.iter().map(|c| c.name.clone()).collect(),
    };
    if names.is_empty() {
        anyhow::bail!("no CRM connections are configured (add a [connections.<name>] table; see README)");
    }
    let source = if backfill { ChangeSource::Backfill } else { ChangeSource::Poll };
    let holder = format!("cli-{}", uuid::Uuid::now_v7());
    for name in names {
        let crm = state
            .crms
            .get(&name)
            .with_context(|| format!("connection `{name}` cannot be polled yet"))?
            .clone();
        let lease = format!("poll:{name}");
        if !state.store.acquire_lease(&lease, &holder, POLL_LEASE).await? {
            anyhow::bail!("another handoff process is polling `{name}` right now; try again when it is done");
        }
        let started = Instant::now();
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} {wide_bar} {pos}/{len} records ({per_sec})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(name.clone());
        let mut totals = (0usize, 0usize, 0u64);
        let mut outcome = Ok(());
        for object in POLLED {
            bar.set_position(0);
            let result = poll_once(&state.store, crm.as_ref(), *object, source, &mut |page| {
                if let Some(total) = page.total_hint
                    && bar.length().is_none_or(|l| l < total)
                {
                    bar.set_length(total);
                }
                bar.inc(page.changes.len() as u64);
            })
            .await;
            match result {
                Ok(r) => {
                    totals.0 += r.records;
                    totals.1 += r.new_changes;
                    totals.2 += r.calls;
                }
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        bar.finish_and_clear();
        let _ = state.store.release_lease(&lease, &holder).await;
        outcome.with_context(|| format!("sync of `{name}` failed"))?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{name}: {} records read, {} new changes, {} API calls, {secs:.1} s",
            totals.0, totals.1, totals.2
        );
    }
    Ok(ExitCode::SUCCESS)
}
