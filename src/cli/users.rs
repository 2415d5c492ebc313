//! `handoff users …`: staff accounts.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::app::AppState;
use handoff_domain::Email;
use handoff_domain::people::StaffRole;
use handoff_store::NewStaff;

#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// Add a staff (internal) user, who can then own projects and join their teams.
    /// A deal's CRM owner (and other user-lookup fields) are matched to staff by email,
    /// or by CRM user id when linked with --crm-user. Projects that were waiting for
    /// this person (their CRM user had no handoff account) are joined at once.
    AddStaff {
        email: String,
        /// The person's name, e.g. "Maria Lopez".
        #[arg(long)]
        name: Option<String>,
        /// A CRM user who is this person, as CONNECTION:USER_ID (e.g. salesforce:005…,
        /// hubspot:81000001); repeat for several. Needed when the CRM's email differs.
        #[arg(long = "crm-user", value_name = "CONNECTION:ID")]
        crm_users: Vec<String>,
        /// What they may do in the console: `staff` (run projects) or `admin` (also the
        /// admin pages and staff accounts). An existing account takes the role given.
        #[arg(long, default_value = "staff", value_parser = parse_role)]
        role: StaffRole,
    },
}

fn parse_role(raw: &str) -> Result<StaffRole, String> {
    raw.parse()
}

pub async fn run(cmd: UsersCommand, state: AppState) -> anyhow::Result<ExitCode> {
    match cmd {
        UsersCommand::AddStaff {
            email,
            name,
            crm_users,
            role,
        } => {
            let email = Email::parse(&email).with_context(|| format!("`{email}` is not an email address"))?;
            let mut links = Vec::with_capacity(crm_users.len());
            for raw in &crm_users {
                let Some((connection, id)) = raw.split_once(':').filter(|(c, id)| !c.is_empty() && !id.trim().is_empty()) else {
                    bail!("--crm-user `{raw}` is not CONNECTION:USER_ID");
                };
                if !state.config.connections.iter().any(|c| c.name == connection) {
                    let known: Vec<&str> = state.config.connections.iter().map(|c| c.name.as_str()).collect();
                    bail!(
                        "--crm-user `{raw}`: no connection is named `{connection}` (configured: {})",
                        known.join(", ")
                    );
                }
                links.push((connection.to_owned(), id.trim().to_owned()));
            }
            let (first_name, last_name) = split_name(name.as_deref());
            let new = NewStaff {
                email,
                first_name,
                last_name,
                crm_users: links,
                role,
            };
            let added = state.engine.add_staff(&new, "cli").await?;
            let verb = if added.created { "added" } else { "already had" };
            eprintln!(
                "{verb} staff user {} ({role}); joined {} project(s) whose CRM owner or team field names them",
                new.email, added.joined
            );
            println!("{}", added.user_id);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// "Maria Lopez" → (Maria, Lopez); one word is a first name; extra words go to the last.
fn split_name(name: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return (None, None);
    };
    match name.split_once(char::is_whitespace) {
        Some((first, last)) => (Some(first.to_owned()), Some(last.trim().to_owned())),
        None => (Some(name.to_owned()), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_splits_at_the_first_space() {
        assert_eq!(
            split_name(Some(" Maria  de la Cruz ")),
            (Some("Maria".into()), Some("de la Cruz".into()))
        );
        assert_eq!(split_name(Some("Cher")), (Some("Cher".into()), None));
        assert_eq!(split_name(Some("  ")), (None, None));
    }
}
