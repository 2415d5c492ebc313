//! `handoff jobs failed` and `handoff jobs retry ID`: dead-lettered outbox work.

use std::process::ExitCode;

use clap::Subcommand;

use crate::app::AppState;

#[derive(Subcommand, Debug)]
pub enum JobsCommand {
    /// List side effects (emails, CRM writebacks) that failed for good, with the reason.
    Failed,
    /// Queue a failed one again.
    Retry { id: uuid::Uuid },
}

pub async fn run(cmd: JobsCommand, state: AppState) -> anyhow::Result<ExitCode> {
    match cmd {
        JobsCommand::Failed => {
            let dead = state.store.outbox_dead().await?;
            if dead.is_empty() {
                println!("no failed jobs");
            }
            for d in dead {
                let error = d.last_error.unwrap_or_default();
                println!(
                    "{}  {:<9} {} attempt(s), created {}  {error}",
                    d.id,
                    d.kind,
                    d.attempts,
                    d.created_at.format("%Y-%m-%d %H:%M")
                );
            }
        }
        JobsCommand::Retry { id } => {
            state.store.outbox_retry(id).await?;
            println!("job {id} queued again");
        }
    }
    Ok(ExitCode::SUCCESS)
}
