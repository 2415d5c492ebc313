//! The fields a CRM object has, as the connection describes them (Salesforce describe,
//! HubSpot properties), reduced to what validating a workflow needs.
//!
//! Built elsewhere from the live connection; here it is plain data so validation is a
//! pure function and tests can write catalogs by hand.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldCatalog {
    /// The CRM's object name (`Opportunity`, `deals`).
    pub object: String,
    pub fields: Vec<FieldInfo>,
    /// Lookups by relationship name (`Account`, `Partner__r`), as the CRM describes
    /// them; empty when it does not (HubSpot, hand-written catalogs), and paths then
    /// follow Salesforce's naming convention.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub relationships: BTreeMap<String, Relationship>,
}

/// A lookup a dotted path goes through: `Account.Name` through the relationship
/// `Account`, whose lookup field is `AccountId`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relationship {
    /// The lookup field on this object (`AccountId`).
    pub lookup: String,
    /// The object it points at, when it was described too: a path through the lookup
    /// is then checked to its end (`Account.Name` needs Account to have `Name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<FieldCatalog>,
    /// The objects the lookup may point at, as the CRM describes it (`["User"]`; several
    /// for a polymorphic lookup; empty when unknown).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points_to: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldInfo {
    pub name: String,
    pub kind: FieldKind,
    /// Picklist or enumeration values (the value, not the label); empty for other kinds.
    pub options: Vec<String>,
    /// False for read-only and calculated fields, which a writeback must not target.
    pub updateable: bool,
}

/// Field types, coarse enough to cover both CRMs. Salesforce `string`/`textarea`/`phone`
/// and HubSpot `string` are text; `currency`/`double`/`int` and HubSpot `number` are
/// numbers; HubSpot `enumeration` is a picklist. User lookups (Salesforce `reference` to
/// User, HubSpot properties whose `referencedObjectType` is `OWNER`) are references.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Number,
    Percent,
    Date,
    Datetime,
    Boolean,
    Picklist,
    Reference,
    Url,
    Email,
    Other,
}

impl FieldKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Number => "number",
            FieldKind::Percent => "percent",
            FieldKind::Date => "date",
            FieldKind::Datetime => "datetime",
            FieldKind::Boolean => "boolean",
            FieldKind::Picklist => "picklist",
            FieldKind::Reference => "reference",
            FieldKind::Url => "url",
            FieldKind::Email => "email",
            FieldKind::Other => "other",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, FieldKind::Number | FieldKind::Percent)
    }

    pub fn is_temporal(self) -> bool {
        matches!(self, FieldKind::Date | FieldKind::Datetime)
    }
}

impl FieldInfo {
    pub fn new(name: &str, kind: FieldKind) -> Self {
        FieldInfo {
            name: name.to_owned(),
            kind,
            options: Vec::new(),
            updateable: true,
        }
    }

    pub fn with_options(mut self, options: &[&str]) -> Self {
        self.options = options.iter().map(|o| (*o).to_owned()).collect();
        self
    }

    pub fn read_only(mut self) -> Self {
        self.updateable = false;
        self
    }
}

/// What a dotted path (`Account.Name`) resolves to in a catalog.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved<'a> {
    /// A field of this object, or of an object a described lookup points at
    /// (`Account.Name` → Account's `Name`).
    Field(&'a FieldInfo),
    /// Through a lookup whose object was not described: only the lookup itself is
    /// checked.
    Related { lookup: &'a FieldInfo },
}

impl FieldCatalog {
    pub fn new(object: &str, fields: Vec<FieldInfo>) -> Self {
        FieldCatalog {
            object: object.to_owned(),
            fields,
            relationships: BTreeMap::new(),
        }
    }

    /// A field by exact name (Salesforce field names are case-insensitive in the API,
    /// but describe reports one spelling and records come back with it; matching it
    /// exactly keeps lookups into record fields exact too).
    pub fn get(&self, name: &str) -> Option<&FieldInfo> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// A field, or a path through a lookup: by the relationships the CRM described
    /// (then to the end of the path when the lookup's object was described too), else
    /// following Salesforce's naming: `Account.Name` goes through `AccountId`,
    /// `Partner__r.Name` through `Partner__c`.
    pub fn resolve(&self, path: &str) -> Option<Resolved<'_>> {
        if let Some(f) = self.get(path) {
            return Some(Resolved::Field(f));
        }
        let (relationship, rest) = path.split_once('.')?;
        if let Some(r) = self.relationships.get(relationship) {
            let lookup = self.get(&r.lookup).filter(|f| f.kind == FieldKind::Reference)?;
            return match &r.target {
                Some(target) => target.resolve(rest),
                None => Some(Resolved::Related { lookup }),
            };
        }
        let lookup_name = match relationship.strip_suffix("__r") {
            Some(stem) => format!("{stem}__c"),
            None => format!("{relationship}Id"),
        };
        let lookup = self.get(&lookup_name).filter(|f| f.kind == FieldKind::Reference)?;
        Some(Resolved::Related { lookup })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_paths_resolve_through_salesforce_lookups() {
        let catalog = FieldCatalog::new(
            "Opportunity",
            vec![
                FieldInfo::new("AccountId", FieldKind::Reference),
                FieldInfo::new("Partner__c", FieldKind::Reference),
                FieldInfo::new("Name", FieldKind::Text),
            ],
        );
        assert!(matches!(catalog.resolve("Name"), Some(Resolved::Field(_))));
        assert!(matches!(catalog.resolve("Account.Name"), Some(Resolved::Related { .. })));
        assert!(matches!(catalog.resolve("Partner__r.Name"), Some(Resolved::Related { .. })));
        assert_eq!(catalog.resolve("Owner.Email"), None);
        assert_eq!(catalog.resolve("Name.Length"), None);
    }

    #[test]
    fn described_relationships_are_followed_to_the_end_of_the_path() {
        let user = FieldCatalog::new("User", vec![FieldInfo::new("Email", FieldKind::Email)]);
        let mut account = FieldCatalog::new(
            "Account",
            vec![
                FieldInfo::new("Name", FieldKind::Text),
                FieldInfo::new("OwnerId", FieldKind::Reference),
            ],
        );
        account.relationships.insert(
            "Owner".into(),
            Relationship {
                lookup: "OwnerId".into(),
                target: Some(user),
                points_to: vec!["User".into()],
            },
        );
        let mut opportunity = FieldCatalog::new(
            "Opportunity",
            vec![
                FieldInfo::new("AccountId", FieldKind::Reference),
                FieldInfo::new("WhatId", FieldKind::Reference),
            ],
        );
        opportunity.relationships.insert(
            "Account".into(),
            Relationship {
                lookup: "AccountId".into(),
                target: Some(account),
                points_to: vec!["Account".into()],
            },
        );
        opportunity.relationships.insert(
            "What".into(),
            Relationship {
                lookup: "WhatId".into(),
                target: None,
                points_to: vec!["Account".into(), "Opportunity".into()],
            },
        );
        assert!(matches!(opportunity.resolve("Account.Name"), Some(Resolved::Field(f)) if f.name == "Name"));
        assert!(matches!(opportunity.resolve("Account.Owner.Email"), Some(Resolved::Field(f)) if f.kind == FieldKind::Email));
        assert_eq!(opportunity.resolve("Account.Nmae"), None);
        assert_eq!(opportunity.resolve("Account.Owner.Phone"), None);
        // A lookup whose object was not described (polymorphic): only the lookup is checked.
        assert!(matches!(opportunity.resolve("What.Name"), Some(Resolved::Related { .. })));
    }
}
