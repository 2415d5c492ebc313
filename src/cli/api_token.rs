//! `handoff api-token create|list|revoke`: tokens for the JSON API (`/api/v1`).

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Subcommand;
use secrecy::ExposeSecret;

use crate::app::AppState;
use handoff_domain::api_token::{ApiTokenName, NewApiToken};
use handoff_store::Revocation;

#[derive(Subcommand, Debug)]
pub enum ApiTokenCommand {
    /// Make a token for the JSON API and print it, once: only its hash is kept.
    Create {
        /// A label for the token (letters, digits, `.`, `-`, `_`), e.g. the integration
        /// using it. The activity trail records what the token does as `api:NAME`, so a
        /// name is never reused, even after its token is revoked.
        #[arg(long)]
        name: ApiTokenName,
    },
    /// List tokens: id, name, first characters, when made, last used and revoked.
    List,
    /// Revoke a token; requests bearing it are refused from now on.
    Revoke {
        /// The token's id, as `handoff api-token list` shows it.
        id: uuid::Uuid,
    },
}

pub async fn run(cmd: ApiTokenCommand, state: AppState) -> anyhow::Result<ExitCode> {
    match cmd {
        ApiTokenCommand::Create { name } => {
            let new = NewApiToken::generate()?;
            let token = state.store.create_api_token(&name, &new).await?;
            eprintln!("Created API token `{}` ({}).", token.name, token.id);
            eprintln!("Copy it now: it is not shown again, and handoff keeps only its hash.");
            eprintln!("Use it as `Authorization: Bearer <token>` on /api/v1.");
            println!("{}", new.token.expose_secret());
        }
        ApiTokenCommand::List => {
            let tokens = state.store.list_api_tokens().await?;
            if tokens.is_empty() {
                println!("no API tokens; make one with `handoff api-token create --name NAME`");
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:<36}  {:<24} {:<9} {:<16}  {:<16}  REVOKED",
                "ID", "NAME", "PREFIX", "CREATED", "LAST USED"
            );
            for t in tokens {
                println!(
                    "{:<36}  {:<24} {:<9} {:<16}  {:<16}  {}",
                    t.id,
                    t.name,
                    t.prefix,
                    minute(Some(t.created_at)),
                    minute(t.last_used_at),
                    minute(t.revoked_at)
                );
            }
        }
        ApiTokenCommand::Revoke { id } => match state.store.revoke_api_token(id).await? {
            Revocation::Revoked(t) => println!("revoked API token `{}` ({})", t.name, t.prefix),
            Revocation::AlreadyRevoked(t) => println!("API token `{}` ({}) was already revoked; nothing changed", t.name, t.prefix),
        },
    }
    Ok(ExitCode::SUCCESS)
}

fn minute(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "-".to_owned(), |at| at.format("%Y-%m-%d %H:%M").to_string())
}
