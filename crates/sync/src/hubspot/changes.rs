//! Records made into the hub's record changes: read by id, or handed over by a poll; a
//! deal with its contacts and their roles, its company (and its contacts, when
//! workflows ask) and the owners its owner properties name.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use crm_hubspot::{Object, ReadOptions};
use handoff_domain::change::{ChangeSource, ContactRole, ObjectKind, RecordChange};
use serde_json::{Map, Value};

use super::errors::map_error;
use super::{BATCH, HubspotCrm};
use crate::crm::CrmError;

impl HubspotCrm {
    /// The records `ids` as they stand now, as changes.
    pub(super) async fn read_changes(&self, object: ObjectKind, ids: &[String]) -> Result<Vec<RecordChange>, CrmError> {
        let mut records = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH) {
            let options = ReadOptions {
                properties: self.properties(object),
                ..Default::default()
            };
            let read = self
                .client
                .batch_read(Self::object_type(object), chunk, &options)
                .await
                .map_err(map_error)?;
            records.extend(read.results.into_iter().map(|o| {
                let at = modified(&o);
                (o, at)
            }));
        }
        self.changes(object, records).await
    }

    fn to_change(&self, object: ObjectKind, o: Object, modified_at: DateTime<Utc>, contacts: Vec<ContactRole>) -> RecordChange {
        // Exactly the properties asked for: search and batch read add different extras
        // (hs_object_id, createdate), which would make one state look like two.
        let wanted = self.properties(object);
        let fields: Map<String, Value> = o
            .properties
            .into_iter()
            .filter(|(k, _)| wanted.contains(k))
            .map(|(k, v)| (k, v.map_or(Value::Null, Value::String)))
            .collect();
        RecordChange {
            connection: self.connection.clone(),
            object,
            external_id: o.id,
            fields,
            contacts,
            company: None,
            users: Default::default(),
            company_contacts: Vec::new(),
            modified_at,
            deleted: o.archived,
            source: ChangeSource::Poll,
        }
    }

    pub(super) async fn changes(&self, object: ObjectKind, records: Vec<(Object, DateTime<Utc>)>) -> Result<Vec<RecordChange>, CrmError> {
        if object != ObjectKind::Deal {
            return Ok(records
                .into_iter()
                .map(|(o, at)| self.to_change(object, o, at, Vec::new()))
                .collect());
        }
        let ids: Vec<String> = records.iter().map(|(o, _)| o.id.clone()).collect();
        let labels = self.deal_contact_labels(&ids).await?;
        let mut companies = self.companies_of(&ids).await?;
        let members = if self.company_contacts {
            let mut company_ids: Vec<String> = companies.values().map(|c| c.external_id.clone()).collect();
            company_ids.sort();
            company_ids.dedup();
            self.company_contact_ids(&company_ids).await?
        } else {
            HashMap::new()
        };
        // One read for the deals' contacts and their companies' contacts together.
        let wanted = labels.keys().map(|(_, c)| *c).chain(members.values().flatten().copied());
        let people = self.read_contacts(wanted.map(|c| c.to_string()).collect()).await?;
        let person = |id: u64, roles: Vec<String>| {
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
        };
        let mut contacts: HashMap<String, Vec<ContactRole>> = HashMap::new();
        for ((deal, contact), roles) in labels {
            contacts.entry(deal).or_default().push(person(contact, roles));
        }
        let mut owner_ids: Vec<String> = records
            .iter()
            .flat_map(|(o, _)| self.user_fields.iter().filter_map(|f| o.get(f)))
            .filter(|id| !id.trim().is_empty())
            .map(str::to_owned)
            .collect();
        owner_ids.sort();
        owner_ids.dedup();
        let owners = self.owners_of(&owner_ids).await?;
        Ok(records
            .into_iter()
            .map(|(o, at)| {
                let users = self
                    .user_fields
                    .iter()
                    .filter_map(|f| Some((f.clone(), owners.get(o.get(f)?)?.clone())))
                    .collect();
                let people = contacts.remove(&o.id).unwrap_or_default();
                let company = companies.remove(&o.id);
                let company_contacts = company
                    .as_ref()
                    .and_then(|c| members.get(&c.external_id))
                    .map(|ids| ids.iter().map(|id| person(*id, Vec::new())).collect())
                    .unwrap_or_default();
                RecordChange {
                    company,
                    users,
                    company_contacts,
                    ..self.to_change(object, o, at, people)
                }
            })
            .collect())
    }
}

fn modified(o: &Object) -> DateTime<Utc> {
    ["hs_lastmodifieddate", "lastmodifieddate"]
        .iter()
        .find_map(|p| o.properties.get(*p).cloned().flatten())
        .and_then(|v| {
            DateTime::parse_from_rfc3339(&v)
                .ok()
                .map(|t| t.with_timezone(&Utc))
                .or_else(|| v.parse::<i64>().ok().and_then(DateTime::from_timestamp_millis))
        })
        .or(o.updated_at)
        .unwrap_or_else(Utc::now)
}
