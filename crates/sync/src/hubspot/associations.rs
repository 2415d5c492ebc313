//! What a deal is linked to — its contacts with their association labels, its company,
//! the company's contacts — and the contacts themselves, in batches of 100.

use std::collections::{BTreeMap, HashMap};

use crm_hubspot::Object;
use crm_hubspot::associations::{AssociatedObject, type_ids};
use handoff_domain::change::{CompanyRef, ContactRole, ObjectKind};

use super::{HubspotCrm, distinct};
use crate::crm::CrmError;

/// What a page of deals is linked to, each kind read once for the whole page.
pub(super) struct DealLinks {
    /// Deal id → its contacts with their roles (the association labels).
    pub contacts: HashMap<String, Vec<ContactRole>>,
    /// Deal id → its company.
    pub companies: HashMap<String, CompanyRef>,
    /// Company id → its contacts, without roles; empty unless workflows ask for them.
    pub company_contacts: HashMap<String, Vec<ContactRole>>,
}

impl HubspotCrm {
    /// The contacts and the company of each of `deal_ids`, and when asked for, the
    /// contacts of those companies (read with the deals' contacts, in one read).
    pub(super) async fn deal_links(&self, deal_ids: &[String]) -> Result<DealLinks, CrmError> {
        let labels = self.deal_contact_labels(deal_ids).await?;
        let companies = self.companies_of(deal_ids).await?;
        let members = if self.company_contacts {
            self.company_contact_ids(&distinct(companies.values().map(|c| c.external_id.clone())))
                .await?
        } else {
            HashMap::new()
        };
        // One read for the deals' contacts and their companies' contacts together.
        let wanted = labels.keys().map(|(_, c)| *c).chain(members.values().flatten().copied());
        let people = self.read_contacts(wanted.map(|c| c.to_string()).collect()).await?;
        let mut contacts: HashMap<String, Vec<ContactRole>> = HashMap::new();
        for ((deal, contact), roles) in labels {
            contacts.entry(deal).or_default().push(contact_role(&people, contact, roles));
        }
        let company_contacts = members
            .into_iter()
            .map(|(company, ids)| (company, ids.iter().map(|id| contact_role(&people, *id, Vec::new())).collect()))
            .collect();
        Ok(DealLinks {
            contacts,
            companies,
            company_contacts,
        })
    }

    /// (deal id, contact id) → the association's labels: one association read per 100 deals.
    async fn deal_contact_labels(&self, deal_ids: &[String]) -> Result<BTreeMap<(String, u64), Vec<String>>, CrmError> {
        let mut labels: BTreeMap<(String, u64), Vec<String>> = BTreeMap::new();
        for record in self.associations_batched("deals", "contacts", deal_ids).await? {
            for to in &record.to {
                let names = to.association_types.iter().filter_map(|t| t.label.clone()).collect();
                labels.insert((record.from.id.to_string(), to.to_object_id), names);
            }
        }
        Ok(labels)
    }

    /// Company id → its contacts' ids: one association read per 100 companies.
    async fn company_contact_ids(&self, company_ids: &[String]) -> Result<HashMap<String, Vec<u64>>, CrmError> {
        let mut out: HashMap<String, Vec<u64>> = HashMap::new();
        for record in self.associations_batched("companies", "contacts", company_ids).await? {
            let ids = out.entry(record.from.id.to_string()).or_default();
            ids.extend(record.to.iter().map(|t| t.to_object_id));
            ids.sort_unstable();
            ids.dedup();
        }
        Ok(out)
    }

    /// The contacts, one batch read per 100 distinct ids.
    async fn read_contacts(&self, ids: Vec<String>) -> Result<HashMap<String, Object>, CrmError> {
        let people = self
            .read_batched("contacts", &distinct(ids), self.properties(ObjectKind::Contact))
            .await?;
        Ok(people.into_iter().map(|o| (o.id.clone(), o)).collect())
    }

    /// Deal id → its company: the primary association when there is one, else the
    /// first. One association read and one company read per 100 deals.
    async fn companies_of(&self, deal_ids: &[String]) -> Result<HashMap<String, CompanyRef>, CrmError> {
        let chosen = self.company_ids_of(deal_ids).await?;
        let names = self.company_names(&distinct(chosen.values().cloned())).await?;
        Ok(chosen
            .into_iter()
            .map(|(deal, company)| {
                let name = names.get(&company).cloned().flatten();
                (
                    deal,
                    CompanyRef {
                        external_id: company,
                        name,
                    },
                )
            })
            .collect())
    }

    /// Deal id → its company's id: the primary association, else the first.
    async fn company_ids_of(&self, deal_ids: &[String]) -> Result<HashMap<String, String>, CrmError> {
        let primary = |a: &&AssociatedObject| a.association_types.iter().any(|t| t.type_id == type_ids::DEAL_TO_COMPANY_PRIMARY);
        let mut chosen: HashMap<String, String> = HashMap::new();
        for record in self.associations_batched("deals", "companies", deal_ids).await? {
            if let Some(company) = record.to.iter().find(primary).or(record.to.first()) {
                chosen.insert(record.from.id.to_string(), company.to_object_id.to_string());
            }
        }
        Ok(chosen)
    }

    /// Company id → its name (`None` when it has none).
    async fn company_names(&self, company_ids: &[String]) -> Result<HashMap<String, Option<String>>, CrmError> {
        let companies = self.read_batched("companies", company_ids, vec!["name".into()]).await?;
        Ok(companies
            .into_iter()
            .map(|o| {
                let name = o.get("name").map(str::to_owned);
                (o.id, name)
            })
            .collect())
    }
}

/// Contact `id` as read into `people` (only its id when it was not found), with `roles`.
fn contact_role(people: &HashMap<String, Object>, id: u64, roles: Vec<String>) -> ContactRole {
    let found = people.get(&id.to_string());
    let prop = |name: &str| found.and_then(|p| p.properties.get(name).cloned().flatten());
    ContactRole {
        external_id: id.to_string(),
        email: prop("email"),
        first_name: prop("firstname"),
        last_name: prop("lastname"),
        title: prop("jobtitle"),
        roles,
        is_primary: false,
    }
}
