//! What a deal is linked to — its contacts with their association labels, its company,
//! the company's contacts — and the contacts themselves, in batches of 100.

use std::collections::{BTreeMap, HashMap};

use crm_hubspot::associations::type_ids;
use crm_hubspot::{Object, ReadOptions};
use handoff_domain::change::{CompanyRef, ObjectKind};

use super::errors::map_error;
use super::{BATCH, HubspotCrm};
use crate::crm::CrmError;

impl HubspotCrm {
    /// (deal id, contact id) → the association's labels: one association read per 100 deals.
    pub(super) async fn deal_contact_labels(&self, deal_ids: &[String]) -> Result<BTreeMap<(String, u64), Vec<String>>, CrmError> {
        let mut labels: BTreeMap<(String, u64), Vec<String>> = BTreeMap::new();
        for chunk in deal_ids.chunks(BATCH) {
            let assoc = self
                .client
                .batch_read_associations("deals", "contacts", chunk)
                .await
                .map_err(map_error)?;
            for record in &assoc.results {
                for to in &record.to {
                    let names = to.association_types.iter().filter_map(|t| t.label.clone()).collect();
                    labels.insert((record.from.id.to_string(), to.to_object_id), names);
                }
            }
        }
        Ok(labels)
    }

    /// Company id → its contacts' ids: one association read per 100 companies.
    pub(super) async fn company_contact_ids(&self, company_ids: &[String]) -> Result<HashMap<String, Vec<u64>>, CrmError> {
        let mut out: HashMap<String, Vec<u64>> = HashMap::new();
        for chunk in company_ids.chunks(BATCH) {
            let assoc = self
                .client
                .batch_read_associations("companies", "contacts", chunk)
                .await
                .map_err(map_error)?;
            for record in assoc.results {
                let ids = out.entry(record.from.id.to_string()).or_default();
                ids.extend(record.to.iter().map(|t| t.to_object_id));
                ids.sort_unstable();
                ids.dedup();
            }
        }
        Ok(out)
    }

    /// The contacts, one batch read per 100 distinct ids.
    pub(super) async fn read_contacts(&self, mut ids: Vec<String>) -> Result<HashMap<String, Object>, CrmError> {
        ids.sort();
        ids.dedup();
        let mut people: HashMap<String, Object> = HashMap::new();
        for chunk in ids.chunks(BATCH) {
            let options = ReadOptions {
                properties: self.properties(ObjectKind::Contact),
                ..Default::default()
            };
            let read = self.client.batch_read("contacts", chunk, &options).await.map_err(map_error)?;
            people.extend(read.results.into_iter().map(|o| (o.id.clone(), o)));
        }
        Ok(people)
    }

    /// Deal id → its company: the primary association when there is one, else the
    /// first. One association read and one company read per 100 deals.
    pub(super) async fn companies_of(&self, deal_ids: &[String]) -> Result<HashMap<String, CompanyRef>, CrmError> {
        let mut chosen: HashMap<String, String> = HashMap::new();
        for chunk in deal_ids.chunks(BATCH) {
            let assoc = self
                .client
                .batch_read_associations("deals", "companies", chunk)
                .await
                .map_err(map_error)?;
            for record in &assoc.results {
                let primary = |a: &&crm_hubspot::associations::AssociatedObject| {
                    a.association_types.iter().any(|t| t.type_id == type_ids::DEAL_TO_COMPANY_PRIMARY)
                };
                if let Some(company) = record.to.iter().find(primary).or(record.to.first()) {
                    chosen.insert(record.from.id.to_string(), company.to_object_id.to_string());
                }
            }
        }
        let mut ids: Vec<String> = chosen.values().cloned().collect();
        ids.sort();
        ids.dedup();
        let mut names: HashMap<String, Option<String>> = HashMap::new();
        for chunk in ids.chunks(BATCH) {
            let options = ReadOptions {
                properties: vec!["name".into()],
                ..Default::default()
            };
            let read = self.client.batch_read("companies", chunk, &options).await.map_err(map_error)?;
            names.extend(read.results.into_iter().map(|o| {
                let name = o.get("name").map(str::to_owned);
                (o.id, name)
            }));
        }
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
}
