//! `GET /sobjects/{O}/describe/`: an object's fields (<https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm>).

use serde::Deserialize;

use crate::client::{Call, Client, Target, check_api_name};
use crate::error::Result;

/// The parts of a describe result a sync needs. Unknown keys are ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectDescribe {
    pub name: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub key_prefix: Option<String>,
    #[serde(default)]
    pub createable: bool,
    #[serde(default)]
    pub updateable: bool,
    #[serde(default)]
    pub queryable: bool,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub fields: Vec<FieldDescribe>,
    #[serde(default)]
    pub child_relationships: Vec<ChildRelationship>,
}

impl ObjectDescribe {
    /// A field by API name, case-insensitively (as SOQL treats names).
    pub fn field(&self, name: &str) -> Option<&FieldDescribe> {
        self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDescribe {
    pub name: String,
    #[serde(default)]
    pub label: String,
    /// `id`, `string`, `reference`, `picklist`, `boolean`, `date`, `datetime`,
    /// `currency`, `double`, `email`, `phone`, `textarea`, …
    #[serde(rename = "type")]
    pub field_type: String,
    #[serde(default)]
    pub length: Option<u32>,
    #[serde(default)]
    pub nillable: bool,
    #[serde(default)]
    pub createable: bool,
    #[serde(default)]
    pub updateable: bool,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub calculated: bool,
    #[serde(default)]
    pub external_id: bool,
    #[serde(default)]
    pub restricted_picklist: bool,
    #[serde(default)]
    pub picklist_values: Vec<PicklistValue>,
    #[serde(default)]
    pub reference_to: Vec<String>,
    #[serde(default)]
    pub relationship_name: Option<String>,
}

impl FieldDescribe {
    /// The active picklist values, in Salesforce's order.
    pub fn active_values(&self) -> impl Iterator<Item = &str> {
        self.picklist_values.iter().filter(|v| v.active).map(|v| v.value.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PicklistValue {
    pub value: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub default_value: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildRelationship {
    #[serde(rename = "childSObject")]
    pub child_sobject: String,
    pub field: String,
    #[serde(default)]
    pub relationship_name: Option<String>,
}

impl Client {
    pub async fn describe(&self, object: &str) -> Result<ObjectDescribe> {
        check_api_name("object", object)?;
        let path = format!("sobjects/{object}/describe/");
        self.execute(&Call::get(Target::Api(&path))).await?.json("describe")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_describe_response_yields_fields_with_types_flags_and_picklists() {
        let describe: ObjectDescribe = serde_json::from_value(serde_json::json!({
            "name": "OpportunityContactRole", "label": "Contact Role", "keyPrefix": "00K",
            "createable": true, "updateable": true, "queryable": true, "urls": {},
            "childRelationships": [],
            "fields": [
                {"name": "Id", "label": "Contact Role ID", "type": "id", "nillable": false, "updateable": false,
                 "custom": false, "picklistValues": [], "referenceTo": [], "soapType": "tns:ID"},
                {"name": "Role", "label": "Role", "type": "picklist", "length": 40, "nillable": true, "updateable": true,
                 "custom": false, "restrictedPicklist": false, "picklistValues": [
                    {"active": true, "defaultValue": false, "label": "Decision Maker", "validFor": null, "value": "Decision Maker"},
                    {"active": false, "defaultValue": false, "label": "Old", "validFor": null, "value": "Old"}]},
                {"name": "Renewal_Owner__c", "label": "Renewal owner", "type": "reference", "nillable": true,
                 "updateable": true, "custom": true, "referenceTo": ["User"], "relationshipName": "Renewal_Owner__r"}
            ]
        }))
        .unwrap();
        assert_eq!(describe.key_prefix.as_deref(), Some("00K"));
        let role = describe.field("role").unwrap();
        assert_eq!(role.field_type, "picklist");
        assert!(role.nillable && role.updateable && !role.custom);
        assert_eq!(role.active_values().collect::<Vec<_>>(), vec!["Decision Maker"]);
        let custom = describe.field("Renewal_Owner__c").unwrap();
        assert!(custom.custom);
        assert_eq!(custom.reference_to, vec!["User".to_owned()]);
        assert!(!describe.field("Id").unwrap().updateable);
    }
}
