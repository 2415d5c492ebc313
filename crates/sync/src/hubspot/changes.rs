//! Records made into the hub's record changes: read by id, or handed over by a poll; a
//! deal with its contacts and their roles, its company (and its contacts, when
//! workflows ask) and the owners its owner properties name.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use crm_hubspot::Object;
use handoff_domain::change::{ChangeSource, ContactRole, CrmUser, ObjectKind, RecordChange};
use serde_json::{Map, Value};

use super::{HubspotCrm, distinct};
use crate::crm::CrmError;

impl HubspotCrm {
    /// The records `ids` as they stand now, as changes.
    pub(super) async fn read_changes(&self, object: ObjectKind, ids: &[String]) -> Result<Vec<RecordChange>, CrmError> {
        let read = self.read_batched(Self::object_type(object), ids, self.properties(object)).await?;
        let records = read
            .into_iter()
            .map(|o| {
                let at = modified(&o);
                (o, at)
            })
            .collect();
        self.changes(object, records).await
    }

    /// The records, each with when it was modified, as changes; deals with what they
    /// are linked to.
    pub(super) async fn changes(&self, object: ObjectKind, records: Vec<(Object, DateTime<Utc>)>) -> Result<Vec<RecordChange>, CrmError> {
        if object != ObjectKind::Deal {
            return Ok(records
                .into_iter()
                .map(|(o, at)| self.to_change(object, o, at, Vec::new()))
                .collect());
        }
        self.deal_changes(records).await
    }

    async fn deal_changes(&self, records: Vec<(Object, DateTime<Utc>)>) -> Result<Vec<RecordChange>, CrmError> {
        let ids: Vec<String> = records.iter().map(|(o, _)| o.id.clone()).collect();
        let mut links = self.deal_links(&ids).await?;
        let owners = self.owners_of(&self.owner_ids(&records)).await?;
        Ok(records
            .into_iter()
            .map(|(o, at)| {
                let users = self.users_named(&o, &owners);
                let people = links.contacts.remove(&o.id).unwrap_or_default();
                let company = links.companies.remove(&o.id);
                let company_contacts = company
                    .as_ref()
                    .and_then(|c| links.company_contacts.get(&c.external_id))
                    .cloned()
                    .unwrap_or_default();
                RecordChange {
                    company,
                    users,
                    company_contacts,
                    ..self.to_change(ObjectKind::Deal, o, at, people)
                }
            })
            .collect())
    }

    /// The owner ids the records' owner properties name, each once.
    fn owner_ids(&self, records: &[(Object, DateTime<Utc>)]) -> Vec<String> {
        distinct(
            records
                .iter()
                .flat_map(|(o, _)| self.user_fields.iter().filter_map(|f| o.get(f)))
                .filter(|id| !id.trim().is_empty())
                .map(str::to_owned),
        )
    }

    /// Owner property → the owner it names on `o`, for the properties that name one.
    fn users_named(&self, o: &Object, owners: &HashMap<String, CrmUser>) -> BTreeMap<String, CrmUser> {
        self.user_fields
            .iter()
            .filter_map(|f| Some((f.clone(), owners.get(o.get(f)?)?.clone())))
            .collect()
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
}

/// When `o` was last modified: its own property (ISO 8601 or epoch milliseconds), else
/// its `updatedAt`, else now.
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
