//! A connection's field catalog from the CRM's own description of its objects
//! (Salesforce describe, HubSpot properties), reduced to the hub's [`FieldCatalog`]
//! that workflows are validated against. The conversions are pure and tested here;
//! the adapters only make the calls.
//!
//! Types are coarse on purpose (see [`FieldKind`]): validation asks "is this a
//! number, a date, a picklist with these values, a lookup, writable?", not how the
//! CRM stores it.

use std::collections::BTreeMap;

use crm_hubspot::associations::AssociationLabel;
use crm_hubspot::properties::Property;
use crm_salesforce::describe::{FieldDescribe, ObjectDescribe};

use super::crm::BoxFuture;
use handoff_domain::field_catalog::Relationship;
use handoff_domain::field_catalog::{FieldCatalog, FieldInfo, FieldKind};

/// The object whose `Role` picklist lists a Salesforce org's contact roles.
pub const CONTACT_ROLE_OBJECT: &str = "OpportunityContactRole";
/// SOQL follows at most five parent relationships in one path.
const MAX_PATH_DEPTH: usize = 5;

/// A Salesforce field type as the hub's kind.
///
/// - `multipicklist` holds several values (`A;B`) and `combobox` accepts any text, so
///   neither is a [`FieldKind::Picklist`], whose values a workflow must pick from the
///   list: they are `Other`, which validation treats like text.
/// - `id` is the record's own reference (read-only).
pub fn salesforce_kind(field_type: &str) -> FieldKind {
    match field_type {
        "string" | "textarea" | "phone" | "encryptedstring" => FieldKind::Text,
        "picklist" => FieldKind::Picklist,
        "double" | "currency" | "int" | "long" => FieldKind::Number,
        "percent" => FieldKind::Percent,
        "date" => FieldKind::Date,
        "datetime" => FieldKind::Datetime,
        "boolean" => FieldKind::Boolean,
        "reference" | "id" => FieldKind::Reference,
        "url" => FieldKind::Url,
        "email" => FieldKind::Email,
        // multipicklist, combobox, time, address, location, base64, anyType, …
        _ => FieldKind::Other,
    }
}

fn salesforce_field(f: &FieldDescribe) -> FieldInfo {
    let kind = salesforce_kind(&f.field_type);
    FieldInfo {
        name: f.name.clone(),
        kind,
        // Inactive values are kept on old records but cannot be chosen any more.
        options: if kind == FieldKind::Picklist {
            f.active_values().map(str::to_owned).collect()
        } else {
            Vec::new()
        },
        // Writebacks are updates: a field that is only createable (or a formula) is not
        // a target.
        updateable: f.updateable && !f.calculated,
    }
}

/// An object's catalog from its describe: every field, and every lookup by its
/// relationship name (`Account` → `AccountId`), with no target objects yet.
pub fn from_describe(d: &ObjectDescribe) -> FieldCatalog {
    let mut catalog = FieldCatalog::new(&d.name, d.fields.iter().map(salesforce_field).collect());
    for f in &d.fields {
        if let Some(relationship) = f.relationship_name.as_ref().filter(|_| f.field_type == "reference") {
            let lookup = Relationship {
                lookup: f.name.clone(),
                target: None,
                points_to: f.reference_to.clone(),
            };
            catalog.relationships.insert(relationship.clone(), lookup);
        }
    }
    catalog
}

/// A parent object a set of dotted paths needs described: the rest of each path is
/// then resolved in it.
#[derive(Debug, PartialEq, Eq)]
pub struct ParentNeed {
    pub relationship: String,
    pub object: String,
    /// The paths with the relationship taken off (`Account.Owner.Email` → `Owner.Email`).
    pub paths: Vec<String>,
}

/// The parents `paths` go through that can be described: lookups to exactly one
/// object. Polymorphic lookups (`What` → Opportunity or Account …) are left
/// unresolved, so a path through them is checked up to the lookup only. Paths whose
/// first part is no relationship of `d` need nothing: validation reports them.
pub fn parents_needed(d: &ObjectDescribe, paths: &[String]) -> Vec<ParentNeed> {
    let mut by_relationship: BTreeMap<&str, (String, Vec<String>)> = BTreeMap::new();
    for path in paths {
        let Some((relationship, rest)) = path.split_once('.') else {
            continue;
        };
        let parent = d
            .fields
            .iter()
            .filter(|f| f.field_type == "reference" && f.relationship_name.as_deref() == Some(relationship))
            .find_map(|f| match f.reference_to.as_slice() {
                [one] => Some(one.clone()),
                _ => None,
            });
        if let Some(object) = parent {
            let entry = by_relationship.entry(relationship).or_insert_with(|| (object, Vec::new()));
            if !entry.1.iter().any(|p| p == rest) {
                entry.1.push(rest.to_owned());
            }
        }
    }
    by_relationship
        .into_iter()
        .map(|(relationship, (object, paths))| ParentNeed {
            relationship: relationship.to_owned(),
            object,
            paths,
        })
        .collect()
}

/// `object`'s catalog with every parent that `paths` go through described and attached,
/// so `Account.Name` is checked against Account's fields: one describe per object on
/// the way (Opportunity, Account, User for the default deal fields).
pub fn describe_catalog<'a>(
    client: &'a crm_salesforce::Client,
    object: String,
    paths: Vec<String>,
) -> BoxFuture<'a, Result<FieldCatalog, crm_salesforce::Error>> {
    describe_to_depth(client, object, paths, 0)
}

fn describe_to_depth<'a>(
    client: &'a crm_salesforce::Client,
    object: String,
    paths: Vec<String>,
    depth: usize,
) -> BoxFuture<'a, Result<FieldCatalog, crm_salesforce::Error>> {
    Box::pin(async move {
        let describe = client.describe(&object).await?;
        let mut catalog = from_describe(&describe);
        if depth < MAX_PATH_DEPTH {
            for need in parents_needed(&describe, &paths) {
                let parent = describe_to_depth(client, need.object, need.paths, depth + 1).await?;
                if let Some(r) = catalog.relationships.get_mut(&need.relationship) {
                    r.target = Some(parent);
                }
            }
        }
        Ok(catalog)
    })
}

/// The contact roles an org offers: the active values of OpportunityContactRole's
/// `Role` picklist (admins edit the list, so it is read, not assumed).
pub fn contact_roles(d: &ObjectDescribe) -> Vec<String> {
    d.field("Role")
        .map(|f| f.active_values().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// A HubSpot property type as the hub's kind.
///
/// `hubspot_owner_id` (and any property whose `referencedObjectType` is `OWNER`) is an
/// enumeration whose options are the account's owners, filled in by HubSpot
/// (`externalOptions`). To a workflow it is a user lookup — `owner_field` and
/// `team_fields` turn its value into a staff member — and never a list of values to
/// pick from: owners come and go without anyone editing the workflow. So it is a
/// [`FieldKind::Reference`], like a Salesforce `OwnerId`, and its options are dropped.
///
/// A multi-select enumeration (`fieldType` `checkbox`) holds several values
/// (`a;b`), so, like a Salesforce multipicklist, it is `Other`.
pub fn hubspot_kind(p: &Property) -> FieldKind {
    if is_owner(p) {
        return FieldKind::Reference;
    }
    match p.kind.as_str() {
        "string" | "phone_number" => FieldKind::Text,
        "number" => FieldKind::Number,
        "date" => FieldKind::Date,
        "datetime" => FieldKind::Datetime,
        "bool" => FieldKind::Boolean,
        "enumeration" if p.field_type == "checkbox" => FieldKind::Other,
        "enumeration" => FieldKind::Picklist,
        _ => FieldKind::Other,
    }
}

fn is_owner(p: &Property) -> bool {
    p.name == "hubspot_owner_id" || p.referenced_object_type.as_deref() == Some("OWNER")
}

/// An object type's catalog from its property definitions. Read-only are the
/// properties HubSpot computes or whose value it does not let integrations set
/// (`hs_object_id`, `createdate`): HubSpot silently ignores writes to them.
pub fn from_properties(object_type: &str, properties: &[Property]) -> FieldCatalog {
    let fields = properties
        .iter()
        .filter(|p| !p.archived)
        .map(|p| {
            let kind = hubspot_kind(p);
            FieldInfo {
                name: p.name.clone(),
                kind,
                // The internal values (`closedwon`), which records hold, not the labels.
                options: if kind == FieldKind::Picklist {
                    p.options.iter().map(|o| o.value.clone()).collect()
                } else {
                    Vec::new()
                },
                updateable: !p.is_read_only(),
            }
        })
        .collect();
    FieldCatalog::new(object_type, fields)
}

/// The labels a deal–contact association can carry (HubSpot's unlabelled default
/// type has none).
pub fn association_labels(labels: &[AssociationLabel]) -> Vec<String> {
    let mut out: Vec<String> = labels.iter().filter_map(|l| l.label.clone()).collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use handoff_domain::field_catalog::Resolved;

    fn describe(value: serde_json::Value) -> ObjectDescribe {
        serde_json::from_value(value).unwrap_or_else(|e| panic!("{e}"))
    }

    fn field(name: &str, kind: &str) -> serde_json::Value {
        serde_json::json!({"name": name, "type": kind, "updateable": true})
    }

    fn opportunity() -> ObjectDescribe {
        describe(serde_json::json!({
            "name": "Opportunity",
            "fields": [
                {"name": "Id", "type": "id", "updateable": false},
                field("Name", "string"),
                {"name": "StageName", "type": "picklist", "updateable": true, "picklistValues": [
                    {"value": "Prospecting", "active": true}, {"value": "Closed Won", "active": true},
                    {"value": "Retired", "active": false}]},
                field("Amount", "currency"),
                field("Probability", "percent"),
                field("TotalOpportunityQuantity", "double"),
                field("NumberOfEmployees__c", "int"),
                field("CloseDate", "date"),
                field("Kickoff__c", "datetime"),
                field("Description", "textarea"),
                field("Phone__c", "phone"),
                field("Contact_Email__c", "email"),
                field("Project_URL__c", "url"),
                field("Regions__c", "multipicklist"),
                {"name": "IsClosed", "type": "boolean", "updateable": false},
                {"name": "CreatedDate", "type": "datetime", "updateable": false},
                {"name": "Margin__c", "type": "percent", "updateable": true, "calculated": true},
                {"name": "AccountId", "type": "reference", "updateable": true, "referenceTo": ["Account"], "relationshipName": "Account"},
                {"name": "OwnerId", "type": "reference", "updateable": true, "referenceTo": ["User"], "relationshipName": "Owner"},
                {"name": "Partner__c", "type": "reference", "updateable": true, "referenceTo": ["Account"], "relationshipName": "Partner__r"},
                {"name": "WhatId", "type": "reference", "updateable": true, "referenceTo": ["Account", "Opportunity"], "relationshipName": "What"}
            ]
        }))
    }

    #[test]
    fn salesforce_types_map_to_the_hubs_kinds() {
        let catalog = from_describe(&opportunity());
        let kind = |name: &str| catalog.get(name).map(|f| f.kind);
        use FieldKind::*;
        let expected = [
            ("Id", Reference),
            ("Name", Text),
            ("StageName", Picklist),
            ("Amount", Number),
            ("Probability", Percent),
            ("TotalOpportunityQuantity", Number),
            ("NumberOfEmployees__c", Number),
            ("CloseDate", Date),
            ("Kickoff__c", Datetime),
            ("Description", Text),
            ("Phone__c", Text),
            ("Contact_Email__c", Email),
            ("Project_URL__c", Url),
            ("Regions__c", Other),
            ("IsClosed", Boolean),
            ("AccountId", Reference),
        ];
        for (name, k) in expected {
            assert_eq!(kind(name), Some(k), "{name}");
        }
    }

    #[test]
    fn salesforce_picklists_offer_their_active_values_only() {
        let catalog = from_describe(&opportunity());
        assert_eq!(catalog.get("StageName").unwrap().options, ["Prospecting", "Closed Won"]);
        assert!(catalog.get("Amount").unwrap().options.is_empty());
    }

    #[test]
    fn salesforce_fields_that_are_not_updateable_or_calculated_are_read_only() {
        let catalog = from_describe(&opportunity());
        for name in ["Id", "IsClosed", "CreatedDate", "Margin__c"] {
            assert!(!catalog.get(name).unwrap().updateable, "{name}");
        }
        assert!(catalog.get("Name").unwrap().updateable);
    }

    #[test]
    fn salesforce_lookups_are_known_by_relationship_name() {
        let catalog = from_describe(&opportunity());
        assert_eq!(catalog.relationships["Account"].lookup, "AccountId");
        assert_eq!(catalog.relationships["Partner__r"].lookup, "Partner__c");
        assert!(matches!(catalog.resolve("Owner.Email"), Some(Resolved::Related { .. })));
        assert_eq!(catalog.resolve("Acount.Name"), None);
    }

    #[test]
    fn parents_are_described_for_single_object_lookups_that_paths_go_through() {
        let paths: Vec<String> = [
            "Name",
            "Account.Name",
            "Account.Owner.Email",
            "Owner.Email",
            "What.Name",
            "Nope.Name",
            "Account.Name",
        ]
        .map(String::from)
        .to_vec();
        let needs = parents_needed(&opportunity(), &paths);
        assert_eq!(
            needs,
            [
                ParentNeed {
                    relationship: "Account".into(),
                    object: "Account".into(),
                    paths: vec!["Name".into(), "Owner.Email".into()],
                },
                ParentNeed {
                    relationship: "Owner".into(),
                    object: "User".into(),
                    paths: vec!["Email".into()],
                },
            ]
        );
    }

    #[test]
    fn contact_roles_are_the_active_role_values() {
        let d = describe(serde_json::json!({
            "name": CONTACT_ROLE_OBJECT,
            "fields": [{"name": "Role", "type": "picklist", "picklistValues": [
                {"value": "Decision Maker", "active": true}, {"value": "Old", "active": false}]}]
        }));
        assert_eq!(contact_roles(&d), ["Decision Maker"]);
        assert!(contact_roles(&describe(serde_json::json!({"name": "X", "fields": []}))).is_empty());
    }

    fn property(value: serde_json::Value) -> Property {
        serde_json::from_value(value).unwrap_or_else(|e| panic!("{e}"))
    }

    fn deal_properties() -> Vec<Property> {
        [
            serde_json::json!({"name": "dealname", "type": "string", "fieldType": "text"}),
            serde_json::json!({"name": "amount", "type": "number", "fieldType": "number"}),
            serde_json::json!({"name": "closedate", "type": "datetime", "fieldType": "date"}),
            serde_json::json!({"name": "renewal_date", "type": "date", "fieldType": "date"}),
            serde_json::json!({"name": "is_pilot", "type": "bool", "fieldType": "booleancheckbox"}),
            serde_json::json!({"name": "phone", "type": "phone_number", "fieldType": "phonenumber"}),
            serde_json::json!({"name": "dealstage", "type": "enumeration", "fieldType": "radio", "options": [
                {"label": "Closed Won", "value": "closedwon"}, {"label": "Closed Lost", "value": "closedlost"}]}),
            serde_json::json!({"name": "regions", "type": "enumeration", "fieldType": "checkbox", "options": [
                {"label": "EMEA", "value": "emea"}]}),
            serde_json::json!({"name": "hubspot_owner_id", "type": "enumeration", "fieldType": "select", "externalOptions": true,
                "options": [{"label": "Ava Lindqvist", "value": "81000001"}]}),
            serde_json::json!({"name": "renewal_owner", "type": "enumeration", "fieldType": "select", "referencedObjectType": "OWNER"}),
            serde_json::json!({"name": "hs_object_id", "type": "number", "modificationMetadata": {"readOnlyValue": true}}),
            serde_json::json!({"name": "createdate", "type": "datetime", "calculated": true}),
            serde_json::json!({"name": "old_field", "type": "string", "archived": true}),
        ]
        .into_iter()
        .map(property)
        .collect()
    }

    #[test]
    fn hubspot_types_map_to_the_hubs_kinds() {
        let catalog = from_properties("deals", &deal_properties());
        assert_eq!(catalog.object, "deals");
        let kind = |name: &str| catalog.get(name).map(|f| f.kind);
        use FieldKind::*;
        let expected = [
            ("dealname", Text),
            ("amount", Number),
            ("closedate", Datetime),
            ("renewal_date", Date),
            ("is_pilot", Boolean),
            ("phone", Text),
            ("dealstage", Picklist),
            ("regions", Other),
        ];
        for (name, k) in expected {
            assert_eq!(kind(name), Some(k), "{name}");
        }
        assert_eq!(catalog.get("dealstage").unwrap().options, ["closedwon", "closedlost"]);
        assert_eq!(kind("old_field"), None, "archived properties are gone");
    }

    #[test]
    fn hubspot_owner_properties_are_user_lookups_not_lists_of_owners() {
        let catalog = from_properties("deals", &deal_properties());
        for name in ["hubspot_owner_id", "renewal_owner"] {
            let f = catalog.get(name).unwrap();
            assert_eq!(f.kind, FieldKind::Reference, "{name}");
            assert!(f.options.is_empty() && f.updateable, "{name}");
        }
    }

    #[test]
    fn hubspot_read_only_and_calculated_properties_are_read_only() {
        let catalog = from_properties("deals", &deal_properties());
        assert!(!catalog.get("hs_object_id").unwrap().updateable);
        assert!(!catalog.get("createdate").unwrap().updateable);
        assert!(catalog.get("dealname").unwrap().updateable);
    }

    #[test]
    fn association_labels_are_the_named_ones_once_each() {
        let labels: Vec<AssociationLabel> = serde_json::from_value(serde_json::json!([
            {"category": "HUBSPOT_DEFINED", "typeId": 3, "label": null},
            {"category": "USER_DEFINED", "typeId": 36, "label": "Decision maker"},
            {"category": "USER_DEFINED", "typeId": 38, "label": "Billing contact"},
            {"category": "USER_DEFINED", "typeId": 40, "label": "Decision maker"}
        ]))
        .unwrap();
        assert_eq!(association_labels(&labels), ["Billing contact", "Decision maker"]);
    }
}
