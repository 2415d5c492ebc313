//! `handoff invitations list|revoke|resend`: staff manage portal sign-in links until
//! the console does (#6). New links leave through the outbox like first invitations.

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Subcommand;

use crate::app::AppState;
use handoff_domain::people::Actor;
use handoff_domain::{Email, ProjectId};
use handoff_engine::invitations::InvitationRevocation;
use handoff_store::InvitationInfo;

#[derive(Subcommand, Debug)]
pub enum InvitationsCommand {
    /// A project's invitation links: id, person, made, expires, sent, used, revoked.
    List {
        /// The project's id.
        project: ProjectId,
    },
    /// Revoke a link: it signs no one in from now on (sessions it started go on).
    Revoke {
        /// The invitation's id, as `handoff invitations list` shows it.
        id: uuid::Uuid,
    },
    /// Email a member a fresh link, retiring their unused ones to the project.
    Resend {
        /// The project's id.
        project: ProjectId,
        /// The member's email address.
        #[arg(value_parser = |s: &str| Email::parse(s))]
        email: Email,
    },
}

pub async fn run(cmd: InvitationsCommand, state: AppState) -> anyhow::Result<ExitCode> {
    match cmd {
        InvitationsCommand::List { project } => {
            let invitations = state.store.project_invitations(project).await?;
            if invitations.is_empty() {
                println!("no invitations for project {project}");
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:<36}  {:<32} {:<16}  {:<16}  {:<16}  {:<16}  REVOKED",
                "ID", "EMAIL", "CREATED", "EXPIRES", "SENT", "USED"
            );
            for i in invitations {
                println!(
                    "{:<36}  {:<32} {:<16}  {:<16}  {:<16}  {:<16}  {}",
                    i.id,
                    i.email,
                    minute(Some(i.created_at)),
                    minute(Some(i.expires_at)),
                    minute(i.sent_at),
                    minute(i.used_at),
                    minute(i.revoked_at)
                );
            }
        }
        InvitationsCommand::Revoke { id } => {
            let outcome = state.engine.revoke_invitation(id, Actor::System, "cli").await?;
            let (verb, i): (&str, &InvitationInfo) = match &outcome {
                InvitationRevocation::Revoked { invitation } => ("revoked", invitation),
                InvitationRevocation::AlreadyRevoked { invitation } => ("was already revoked; nothing changed:", invitation),
                InvitationRevocation::AlreadyUsed { invitation } => {
                    ("was already used, so it signs no one in again; nothing changed:", invitation)
                }
            };
            println!("{verb} the invitation of {} ({})", i.email, i.id);
        }
        InvitationsCommand::Resend { project, email } => {
            let id = state.engine.resend_invitation(project, &email, Actor::System, "cli").await?;
            println!("{id}");
            eprintln!(
                "A fresh link for {email} is queued (invitation {id}); it is emailed when SMTP is configured. Older unused links stop working."
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn minute(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "-".to_owned(), |at| at.format("%Y-%m-%d %H:%M").to_string())
}
