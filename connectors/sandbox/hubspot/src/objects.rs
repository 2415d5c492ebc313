//! The CRM object types the sandbox serves, with HubSpot's names and type ids.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectType {
    Contacts,
    Companies,
    Deals,
    Tasks,
    Notes,
}

impl ObjectType {
    pub const ALL: [ObjectType; 5] = [Self::Contacts, Self::Companies, Self::Deals, Self::Tasks, Self::Notes];

    /// Position in per-type arrays.
    pub fn index(self) -> usize {
        match self {
            Self::Contacts => 0,
            Self::Companies => 1,
            Self::Deals => 2,
            Self::Tasks => 3,
            Self::Notes => 4,
        }
    }

    /// The plural path name, as in `/crm/v3/objects/deals`.
    pub fn plural(self) -> &'static str {
        match self {
            Self::Contacts => "contacts",
            Self::Companies => "companies",
            Self::Deals => "deals",
            Self::Tasks => "tasks",
            Self::Notes => "notes",
        }
    }

    /// The singular name used in webhook subscription types (`deal.creation`).
    pub fn singular(self) -> &'static str {
        match self {
            Self::Contacts => "contact",
            Self::Companies => "company",
            Self::Deals => "deal",
            Self::Tasks => "task",
            Self::Notes => "note",
        }
    }

    pub fn type_id(self) -> &'static str {
        match self {
            Self::Contacts => "0-1",
            Self::Companies => "0-2",
            Self::Deals => "0-3",
            Self::Tasks => "0-27",
            Self::Notes => "0-46",
        }
    }

    /// Ids live in disjoint ranges per type so that an id alone tells a reader what it is,
    /// and they have HubSpot's typical length.
    pub fn id_base(self) -> u64 {
        match self {
            Self::Contacts => 1_000_000_000,
            Self::Companies => 2_000_000_000,
            Self::Deals => 3_000_000_000,
            Self::Tasks => 4_000_000_000,
            Self::Notes => 5_000_000_000,
        }
    }

    /// HubSpot accepts the plural name, the singular name or the type id in paths.
    pub fn parse(s: &str) -> Option<Self> {
        let lower = s.to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|t| lower == t.plural() || lower == t.singular() || lower == t.type_id())
    }

    /// Upper-case singular, as in `DEAL_TO_CONTACT`.
    pub fn upper(self) -> String {
        self.singular().to_ascii_uppercase()
    }

    /// The property that carries the last-modified timestamp in HubSpot for this type.
    pub fn modified_property(self) -> &'static str {
        match self {
            Self::Contacts => "lastmodifieddate",
            _ => "hs_lastmodifieddate",
        }
    }

    /// The property that carries the creation timestamp.
    pub fn created_property(self) -> &'static str {
        match self {
            Self::Tasks | Self::Notes => "hs_createdate",
            _ => "createdate",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_types_parse_from_every_spelling_hubspot_accepts() {
        assert_eq!(ObjectType::parse("deals"), Some(ObjectType::Deals));
        assert_eq!(ObjectType::parse("DEAL"), Some(ObjectType::Deals));
        assert_eq!(ObjectType::parse("0-1"), Some(ObjectType::Contacts));
        assert_eq!(ObjectType::parse("tickets"), None);
    }
}
