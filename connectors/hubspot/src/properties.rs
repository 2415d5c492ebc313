//! Property definitions: the field catalog of an object type, with enumeration options
//! and read-only flags.

use serde::Deserialize;

use crate::client::Client;
use crate::error::Result;
use crate::objects::Page;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Property {
    pub name: String,
    #[serde(default)]
    pub label: String,
    /// `string`, `number`, `date`, `datetime`, `enumeration`, `bool`, …
    #[serde(default, rename = "type")]
    pub kind: String,
    /// How the UI edits it: `text`, `select`, `radio`, `checkbox`, `booleancheckbox`, …
    #[serde(default)]
    pub field_type: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub group_name: Option<String>,
    #[serde(default)]
    pub options: Vec<PropertyOption>,
    /// Computed by HubSpot (never writable).
    #[serde(default)]
    pub calculated: bool,
    /// Options come from elsewhere (owners, pipelines), not from `options`.
    #[serde(default)]
    pub external_options: bool,
    /// What the values point at, for properties holding record ids: `OWNER` for
    /// `hubspot_owner_id` and custom "HubSpot user" properties.
    #[serde(default)]
    pub referenced_object_type: Option<String>,
    #[serde(default)]
    pub has_unique_value: bool,
    #[serde(default)]
    pub hidden: bool,
    #[serde(default)]
    pub hubspot_defined: Option<bool>,
    #[serde(default)]
    pub modification_metadata: Option<ModificationMetadata>,
    #[serde(default)]
    pub form_field: Option<bool>,
    #[serde(default)]
    pub archived: bool,
}

impl Property {
    /// Whether writes to this property are ignored: HubSpot silently drops values for
    /// read-only properties, so callers should not offer them as write targets.
    pub fn is_read_only(&self) -> bool {
        self.calculated || self.modification_metadata.as_ref().is_some_and(|m| m.read_only_value)
    }

    pub fn is_enumeration(&self) -> bool {
        self.kind == "enumeration"
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModificationMetadata {
    #[serde(default)]
    pub archivable: bool,
    #[serde(default)]
    pub read_only_definition: bool,
    #[serde(default)]
    pub read_only_value: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyOption {
    pub label: String,
    /// The internal value stored on records (`closedwon`), not the label.
    pub value: String,
    #[serde(default)]
    pub display_order: Option<i64>,
    #[serde(default)]
    pub hidden: bool,
    #[serde(default)]
    pub description: Option<String>,
}

impl Client {
    /// Every property defined on an object type.
    pub async fn properties(&self, object_type: &str) -> Result<Vec<Property>> {
        let url = self.url(&self.paths().properties, &[object_type]);
        let page: Page<Property> = self.json(self.get(url, Vec::new())).await?;
        Ok(page.results)
    }

    /// One property definition, or `None` when it does not exist.
    pub async fn property(&self, object_type: &str, name: &str) -> Result<Option<Property>> {
        let url = self.url(&self.paths().properties, &[object_type, name]);
        match self.json(self.get(url, Vec::new())).await {
            Ok(p) => Ok(Some(p)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_enumeration_property_parses_with_options_and_read_only_flags() {
        let body = r#"{"name":"dealstage","label":"Deal Stage","type":"enumeration","fieldType":"radio","groupName":"dealinformation",
            "options":[{"label":"Closed Won","value":"closedwon","displayOrder":5,"hidden":false}],
            "calculated":false,"hubspotDefined":true,
            "modificationMetadata":{"archivable":false,"readOnlyDefinition":true,"readOnlyValue":false}}"#;
        let p: Property = serde_json::from_str(body).unwrap();
        assert!(p.is_enumeration());
        assert!(!p.is_read_only());
        assert_eq!(p.options[0].value, "closedwon");
        let computed: Property =
            serde_json::from_str(r#"{"name":"hs_object_id","type":"number","modificationMetadata":{"readOnlyValue":true}}"#).unwrap();
        assert!(computed.is_read_only());
        let owner: Property = serde_json::from_str(
            r#"{"name":"hubspot_owner_id","type":"enumeration","fieldType":"select","externalOptions":true,"referencedObjectType":"OWNER"}"#,
        )
        .unwrap();
        assert_eq!(owner.referenced_object_type.as_deref(), Some("OWNER"));
    }
}
