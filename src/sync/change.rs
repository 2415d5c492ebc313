//! The hub's one stream: a normalized change to a CRM record, whichever way it arrived.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The kinds of record the hub follows, named the hub's way (Salesforce's Opportunity
/// and HubSpot's deal are both a `Deal`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// SystemModstamp (Salesforce) or hs_lastmodifieddate (HubSpot). With the id, it
    /// identifies the change: a webhook and a poll that saw the same edit agree on it.
    pub modified_at: DateTime<Utc>,
    pub deleted: bool,
    pub source: ChangeSource,
}
