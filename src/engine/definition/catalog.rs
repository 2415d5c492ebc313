//! The fields a CRM object has, as the connection describes them (Salesforce describe,
//! HubSpot properties), reduced to what validating a workflow needs.
//!
//! Built elsewhere from the live connection; here it is plain data so validation is a
//! pure function and tests can write catalogs by hand.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldCatalog {
    /// The CRM's object name (`Opportunity`, `deals`).
    pub object: String,
    pub fields: Vec<FieldInfo>,
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
    Field(&'a FieldInfo),
    /// Through a lookup: the field on the other object is not in this catalog, so only
    /// the lookup itself is checked.
    Related {
        lookup: &'a FieldInfo,
    },
}

impl FieldCatalog {
    pub fn new(object: &str, fields: Vec<FieldInfo>) -> Self {
        FieldCatalog {
            object: object.to_owned(),
            fields,
        }
    }

    /// A field by exact name (Salesforce field names are case-insensitive in the API,
    /// but describe reports one spelling and records come back with it; matching it
    /// exactly keeps lookups into record fields exact too).
    pub fn get(&self, name: &str) -> Option<&FieldInfo> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// A field, or a path through a lookup following Salesforce's naming: `Account.Name`
    /// goes through `AccountId`, `Partner__r.Name` through `Partner__c`.
    pub fn resolve(&self, path: &str) -> Option<Resolved<'_>> {
        if let Some(f) = self.get(path) {
            return Some(Resolved::Field(f));
        }
        let (relationship, _) = path.split_once('.')?;
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
}
