//! Associations v4 with labels (<https://developers.hubspot.com/docs/api-reference/crm-associations-v4/guide>).

use reqwest::Method;
use serde::{Deserialize, Deserializer, Serialize};

use crate::client::Client;
use crate::error::Result;
use crate::wire::{BATCH_LIMIT, BatchResult, IdRef, Page, Paging};

/// Who defined an association type. Type ids are directional (deal→contact is 3,
/// contact→deal is 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssociationCategory {
    HubspotDefined,
    UserDefined,
    IntegratorDefined,
}

/// HubSpot's default (`HUBSPOT_DEFINED`) association type ids.
pub mod type_ids {
    pub const DEAL_TO_CONTACT: u32 = 3;
    pub const CONTACT_TO_DEAL: u32 = 4;
    pub const DEAL_TO_COMPANY_PRIMARY: u32 = 5;
    pub const DEAL_TO_COMPANY: u32 = 341;
    pub const COMPANY_TO_DEAL: u32 = 342;
    pub const CONTACT_TO_COMPANY_PRIMARY: u32 = 1;
    pub const CONTACT_TO_COMPANY: u32 = 279;
    pub const COMPANY_TO_CONTACT: u32 = 280;
    pub const NOTE_TO_CONTACT: u32 = 202;
    pub const NOTE_TO_COMPANY: u32 = 190;
    pub const NOTE_TO_DEAL: u32 = 214;
    pub const TASK_TO_CONTACT: u32 = 204;
    pub const TASK_TO_COMPANY: u32 = 192;
    pub const TASK_TO_DEAL: u32 = 216;
}

/// An association type as sent in requests: `{"associationCategory":…,"associationTypeId":…}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociationSpec {
    pub association_category: AssociationCategory,
    pub association_type_id: u32,
}

impl AssociationSpec {
    pub fn hubspot(type_id: u32) -> Self {
        Self {
            association_category: AssociationCategory::HubspotDefined,
            association_type_id: type_id,
        }
    }

    pub fn user(type_id: u32) -> Self {
        Self {
            association_category: AssociationCategory::UserDefined,
            association_type_id: type_id,
        }
    }
}

/// An association type as returned: `{"category":…,"typeId":…,"label":…}`. Unlabelled
/// (default) types have no label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociationType {
    pub category: AssociationCategory,
    pub type_id: u32,
    #[serde(default)]
    pub label: Option<String>,
}

/// One associated record and every type (label) linking it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociatedObject {
    #[serde(deserialize_with = "id_number")]
    pub to_object_id: u64,
    #[serde(default)]
    pub association_types: Vec<AssociationType>,
}

impl AssociatedObject {
    /// The labels on this association, skipping unlabelled default types.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.association_types.iter().filter_map(|t| t.label.as_deref())
    }
}

/// One row of a batch association read: a source record and what it is associated with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RecordAssociations {
    pub from: IdRef,
    #[serde(default)]
    pub to: Vec<AssociatedObject>,
    /// Set when the record has more associations than one answer holds (HubSpot pages
    /// after 500); read the rest with [`Client::associations`].
    #[serde(default)]
    pub paging: Option<Paging>,
}

/// A label defined between two object types.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociationLabel {
    pub category: AssociationCategory,
    pub type_id: u32,
    #[serde(default)]
    pub label: Option<String>,
}

/// HubSpot sends `toObjectId` as a number but record ids elsewhere as strings: accept both.
fn id_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Number(u64),
        Text(String),
    }
    match Id::deserialize(deserializer)? {
        Id::Number(n) => Ok(n),
        Id::Text(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

#[derive(Serialize)]
struct Inputs {
    inputs: Vec<IdRef>,
}

impl Client {
    /// Associations of many records at once (`POST …/associations/{from}/{to}/batch/read`),
    /// 100 ids per request, with their labels.
    pub async fn batch_read_associations(&self, from: &str, to: &str, ids: &[String]) -> Result<BatchResult<RecordAssociations>> {
        let url = self.url(&self.paths().associations, &[from, to, "batch", "read"]);
        let mut merged = BatchResult::default();
        for chunk in ids.chunks(BATCH_LIMIT) {
            let body = Inputs {
                inputs: chunk.iter().map(|id| IdRef { id: id.clone() }).collect(),
            };
            let part = self.batch_call(self.with_body(Method::POST, url.clone(), &body, true)?).await?;
            merged.results.extend(part.results);
            merged.errors.extend(part.errors);
            merged.status = part.status;
        }
        Ok(merged)
    }

    /// Every association of one record to a type, following paging.
    pub async fn associations(&self, from: &str, id: &str, to: &str) -> Result<Vec<AssociatedObject>> {
        let url = self.url(&self.paths().record_associations, &[from, id, "associations", to]);
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![("limit", "500".to_owned())];
            if let Some(after) = &after {
                query.push(("after", after.clone()));
            }
            let page: Page<AssociatedObject> = self.json(self.get(url.clone(), query)).await?;
            let next = page.next_after().map(str::to_owned);
            all.extend(page.results);
            match next {
                Some(next) if Some(&next) != after.as_ref() => after = Some(next),
                _ => return Ok(all),
            }
        }
    }

    /// Sets the labels between two records (`PUT …/{from}/{id}/associations/{to}/{toId}`).
    /// The labels sent replace the existing ones, so include any to keep.
    pub async fn associate(&self, from: &str, id: &str, to: &str, to_id: &str, types: &[AssociationSpec]) -> Result<()> {
        let url = self.url(&self.paths().record_associations, &[from, id, "associations", to, to_id]);
        self.send(self.with_body(Method::PUT, url, types, true)?).await.map(drop)
    }

    /// Creates the default, unlabelled association between two records.
    pub async fn associate_default(&self, from: &str, id: &str, to: &str, to_id: &str) -> Result<()> {
        let url = self.url(&self.paths().record_associations, &[from, id, "associations", "default", to, to_id]);
        self.send(self.bodyless(Method::PUT, url)).await.map(drop)
    }

    /// Removes every association between two records.
    pub async fn remove_associations(&self, from: &str, id: &str, to: &str, to_id: &str) -> Result<()> {
        let url = self.url(&self.paths().record_associations, &[from, id, "associations", to, to_id]);
        self.send(self.bodyless(Method::DELETE, url)).await.map(drop)
    }

    /// The association types (labels) defined from one object type to another.
    pub async fn association_labels(&self, from: &str, to: &str) -> Result<Vec<AssociationLabel>> {
        let url = self.url(&self.paths().associations, &[from, to, "labels"]);
        let page: Page<AssociationLabel> = self.json(self.get(url, Vec::new())).await?;
        Ok(page.results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_association_read_parses_labels_and_numeric_ids() {
        let body = r#"{"status":"COMPLETE","results":[{"from":{"id":"33451"},"to":[{"toObjectId":5790939450,
            "associationTypes":[{"category":"HUBSPOT_DEFINED","typeId":3,"label":null},
                                {"category":"USER_DEFINED","typeId":36,"label":"Decision maker"}]}]}]}"#;
        let r: BatchResult<RecordAssociations> = serde_json::from_str(body).unwrap();
        let row = &r.results[0];
        assert_eq!(row.from.id, "33451");
        assert_eq!(row.to[0].to_object_id, 5_790_939_450);
        assert_eq!(row.to[0].association_types[1].category, AssociationCategory::UserDefined);
        assert_eq!(row.to[0].labels().collect::<Vec<_>>(), vec!["Decision maker"]);
    }

    #[test]
    fn a_string_to_object_id_is_accepted_too() {
        let a: AssociatedObject = serde_json::from_str(r#"{"toObjectId":"42","associationTypes":[]}"#).unwrap();
        assert_eq!(a.to_object_id, 42);
        assert!(serde_json::from_str::<AssociatedObject>(r#"{"toObjectId":"x"}"#).is_err());
    }

    #[test]
    fn association_specs_serialize_in_the_request_shape() {
        let json = serde_json::to_string(&[AssociationSpec::user(36), AssociationSpec::hubspot(type_ids::TASK_TO_DEAL)]).unwrap();
        assert_eq!(
            json,
            r#"[{"associationCategory":"USER_DEFINED","associationTypeId":36},{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":216}]"#
        );
    }
}
