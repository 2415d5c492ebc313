//! Staff accounts and companies made by hand (`handoff users add-staff`, `project
//! create`), with the rules that keep them apart from customers.

use handoff_domain::people::{Company, UserKind};
use handoff_store::{NewStaff, StaffAdded};

use super::Engine;
use super::error::{EngineResult, Refusal};

impl Engine {
    /// Adds a staff user (or finds the one with this email), links the CRM users
    /// given, and joins the projects whose CRM user-lookup fields name them and waited
    /// for an account. Refused, changing nothing, when the email is a customer's or a
    /// CRM user is already linked to someone else.
    pub async fn add_staff(&self, new: &NewStaff, source: &str) -> EngineResult<StaffAdded> {
        let mut tx = self.store.begin().await?;
        let (user, created) = match tx.person_by_email(&new.email).await? {
            Some(p) if p.kind != UserKind::Internal => return Err(Refusal::CustomerEmailForStaff { email: new.email.clone() }.into()),
            Some(p) => (p.id, false),
            None => (
                tx.create_staff(&new.email, new.first_name.as_deref(), new.last_name.as_deref())
                    .await?,
                true,
            ),
        };
        for (connection, crm_user) in &new.crm_users {
            match tx.crm_user_link(connection, crm_user).await? {
                Some(other) if other != user => {
                    return Err(Refusal::CrmUserLinkedElsewhere {
                        connection: connection.clone(),
                        crm_user: crm_user.clone(),
                    }
                    .into());
                }
                Some(_) => {}
                None => tx.link_crm_user(connection, crm_user, user).await?,
            }
        }
        let joined = tx.join_waiting_projects(user, &new.email, &new.crm_users, source).await?;
        tx.commit().await?;
        Ok(StaffAdded {
            user_id: user,
            created,
            joined,
        })
    }

    /// The company with this name (ignoring case and surrounding space), created if new.
    pub async fn find_or_create_company(&self, name: &str) -> EngineResult<Company> {
        if name.trim().is_empty() {
            return Err(Refusal::CompanyNeedsName.into());
        }
        Ok(self.store.find_or_create_company(name).await?)
    }
}
