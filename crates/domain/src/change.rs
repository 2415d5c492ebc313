//! The hub's one stream: a normalized change to a CRM record, whichever way it arrived.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The kinds of record the hub follows, named the hub's way (Salesforce's Opportunity
/// and HubSpot's deal are both a `Deal`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Deal,
    Company,
    Contact,
}

impl ObjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Deal => "deal",
            ObjectKind::Company => "company",
            ObjectKind::Contact => "contact",
        }
    }

    /// From a CRM's own object name (`Opportunity`, `deal`, `Account`, `companies` …).
    pub fn from_crm(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "opportunity" | "deal" | "deals" => Some(ObjectKind::Deal),
            "account" | "company" | "companies" => Some(ObjectKind::Company),
            "contact" | "contacts" => Some(ObjectKind::Contact),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeSource {
    Webhook,
    Poll,
    /// `handoff sync --backfill`.
    Backfill,
}

impl ChangeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeSource::Webhook => "webhook",
            ChangeSource::Poll => "poll",
            ChangeSource::Backfill => "backfill",
        }
    }
}

/// A person attached to a deal, with their part in it (an OpportunityContactRole, a
/// HubSpot association label).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRole {
    pub external_id: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    /// Every role or label the person has on the record ("Decision Maker").
    pub roles: Vec<String>,
    pub is_primary: bool,
}

/// A CRM user that a user-lookup field of the record names (the deal's owner, an
/// onboarding manager), as the connection read it: the id always, the email and name
/// when the CRM gave them. Staff are matched to it by CRM user id or by email.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrmUser {
    pub external_id: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

impl CrmUser {
    /// A user known only by id (the CRM did not say more).
    pub fn id_only(external_id: &str) -> Self {
        Self {
            external_id: external_id.to_owned(),
            email: None,
            first_name: None,
            last_name: None,
        }
    }

    /// "First Last", or whichever part there is.
    pub fn name(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.first_name, &self.last_name]
            .into_iter()
            .flatten()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyRef {
    pub external_id: String,
    pub name: Option<String>,
}

/// A record as the CRM holds it at `modified_at`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordChange {
    pub connection: String,
    pub object: ObjectKind,
    pub external_id: String,
    /// The CRM's fields under the CRM's names (`StageName`, `dealstage`).
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub contacts: Vec<ContactRole>,
    pub company: Option<CompanyRef>,
    /// The CRM users the record's user-lookup fields name, by field (`OwnerId`,
    /// `hubspot_owner_id`): read only for the fields some workflow maps to staff.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub users: BTreeMap<String, CrmUser>,
    /// Every contact of the record's company: read only when some workflow on the
    /// connection takes its customers from them (`company_contacts = true`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub company_contacts: Vec<ContactRole>,
    /// SystemModstamp (Salesforce) or hs_lastmodifieddate (HubSpot). With the id, it
    /// identifies the change: a webhook and a poll that saw the same edit agree on it.
    pub modified_at: DateTime<Utc>,
    pub deleted: bool,
    pub source: ChangeSource,
}

impl RecordChange {
    /// A digest of what the record *is* (fields, contacts with their roles, company,
    /// deletion), independent of how it arrived. Part of the change's identity with the
    /// modification stamp, because a contact-role or association change often leaves
    /// the deal's own stamp alone and must still count as a change.
    pub fn fingerprint(&self) -> String {
        let mut contacts = self.contacts.clone();
        contacts.sort_by(|a, b| a.external_id.cmp(&b.external_id));
        for c in &mut contacts {
            c.roles.sort();
        }
        // serde_json's Map is ordered by key, so this serialization is canonical.
        let mut parts = vec![
            serde_json::json!(self.fields),
            serde_json::json!(contacts),
            serde_json::json!(self.company),
            serde_json::json!(self.deleted),
        ];
        // Only when read at all: a change without them keeps the fingerprint it had
        // before they existed, so stored changes are still recognised.
        if !self.users.is_empty() || !self.company_contacts.is_empty() {
            let mut company_contacts = self.company_contacts.clone();
            company_contacts.sort_by(|a, b| a.external_id.cmp(&b.external_id));
            parts.push(serde_json::json!(self.users));
            parts.push(serde_json::json!(company_contacts));
        }
        let canonical = serde_json::Value::Array(parts).to_string();
        let digest = ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes());
        digest.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change() -> RecordChange {
        let mut fields = serde_json::Map::new();
        fields.insert("dealstage".into(), "closedwon".into());
        fields.insert("amount".into(), "1000".into());
        RecordChange {
            connection: "hs".into(),
            object: ObjectKind::Deal,
            external_id: "1".into(),
            fields,
            contacts: vec![
                ContactRole {
                    external_id: "b".into(),
                    email: None,
                    first_name: None,
                    last_name: None,
                    title: None,
                    roles: vec!["Y".into(), "X".into()],
                    is_primary: false,
                },
                ContactRole {
                    external_id: "a".into(),
                    email: None,
                    first_name: None,
                    last_name: None,
                    title: None,
                    roles: vec![],
                    is_primary: true,
                },
            ],
            company: None,
            users: BTreeMap::new(),
            company_contacts: Vec::new(),
            modified_at: "2026-11-23T10:00:00Z".parse().unwrap(),
            deleted: false,
            source: ChangeSource::Webhook,
        }
    }

    #[test]
    fn the_fingerprint_ignores_how_and_in_what_order_a_change_arrived() {
        let a = change();
        let mut b = change();
        b.source = ChangeSource::Poll;
        b.contacts.reverse();
        b.contacts[1].roles.reverse();
        assert_eq!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn the_fingerprint_of_a_change_without_users_or_company_contacts_is_the_old_one() {
        // The digest of [fields, contacts, company, deleted], as computed before users
        // and company contacts existed.
        let a = change();
        let mut contacts = a.contacts.clone();
        contacts.sort_by(|x, y| x.external_id.cmp(&y.external_id));
        for c in &mut contacts {
            c.roles.sort();
        }
        let old = serde_json::json!([a.fields, contacts, a.company, a.deleted]).to_string();
        let digest = ring::digest::digest(&ring::digest::SHA256, old.as_bytes());
        let hex: String = digest.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(a.fingerprint(), hex);
        let mut b = change();
        b.users.insert("OwnerId".into(), CrmUser::id_only("005A"));
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn a_role_change_changes_the_fingerprint() {
        let a = change();
        let mut b = change();
        b.contacts[0].roles.push("Champion".into());
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn crm_object_names_map_to_the_hubs() {
        assert_eq!(ObjectKind::from_crm("Opportunity"), Some(ObjectKind::Deal));
        assert_eq!(ObjectKind::from_crm("companies"), Some(ObjectKind::Company));
        assert_eq!(ObjectKind::from_crm("line_item"), None);
    }
}
