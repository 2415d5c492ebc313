//! CRM records (<https://developers.hubspot.com/docs/guides/crm/understanding-the-crm>): get, list with paging, create, update, archive, and
//! the batch endpoints (at most 100 inputs per request; larger inputs are split).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};

pub use crate::wire::{BATCH_LIMIT, BatchError, BatchResult, IdRef, NextPage, Page, Paging};

use crate::client::Client;
use crate::error::{Error, Result};

/// Object type names accepted in paths (the type ids `0-1`, `0-3`, … work too).
pub mod types {
    pub const CONTACTS: &str = "contacts";
    pub const COMPANIES: &str = "companies";
    pub const DEALS: &str = "deals";
    pub const TASKS: &str = "tasks";
    pub const NOTES: &str = "notes";
}

/// A CRM record. Every property value is a string; a requested property without a value
/// is `None` (or absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Object {
    pub id: String,
    #[serde(default)]
    pub properties: BTreeMap<String, Option<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties_with_history: BTreeMap<String, Vec<PropertyVersion>>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub archived_at: Option<DateTime<Utc>>,
    /// Associations requested with `associations=` on get and list, by object type.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub associations: BTreeMap<String, AssociationList>,
    /// Echoed on batch create so failing rows can be matched to inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_write_trace_id: Option<String>,
}

impl Object {
    /// A property's value, when it has one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.properties.get(name).and_then(|v| v.as_deref())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyVersion {
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub timestamp: Option<DateTime<Utc>>,
    #[serde(default)]
    pub source_type: Option<String>,
    #[serde(default)]
    pub source_id: Option<String>,
}

/// The v3 inline association list on a record: `{"results":[{"id":"1","type":"deal_to_contact"}]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AssociationList {
    #[serde(default)]
    pub results: Vec<InlineAssociation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paging: Option<Paging>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InlineAssociation {
    pub id: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// What to read with a record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Properties to return; empty means HubSpot's defaults for the type.
    pub properties: Vec<String>,
    pub properties_with_history: Vec<String>,
    /// Object types whose associated ids to include (`contacts`).
    pub associations: Vec<String>,
    pub archived: bool,
}

impl ReadOptions {
    pub fn properties<I: IntoIterator<Item = S>, S: Into<String>>(names: I) -> Self {
        Self {
            properties: names.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    fn query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        for (key, list) in [
            ("properties", &self.properties),
            ("propertiesWithHistory", &self.properties_with_history),
            ("associations", &self.associations),
        ] {
            if !list.is_empty() {
                query.push((key, list.join(",")));
            }
        }
        if self.archived {
            query.push(("archived", "true".into()));
        }
        query
    }
}

/// A record to create: properties and inline associations.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewObject {
    pub properties: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub associations: Vec<NewAssociation>,
    /// Lets a failing row of a batch create be matched to its input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_write_trace_id: Option<String>,
}

/// An inline association on create: `{"to":{"id":"101"},"types":[…]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewAssociation {
    pub to: IdRef,
    pub types: Vec<crate::associations::AssociationSpec>,
}

/// One row of a batch update: `{"id":"1","properties":{…}}`. `""` clears a property.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectUpdate {
    pub id: String,
    pub properties: BTreeMap<String, String>,
    /// Set to a unique property's name to address records by it instead of by id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_property: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BatchReadBody<'a> {
    properties: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    properties_with_history: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    id_property: Option<&'a str>,
    inputs: Vec<IdRef>,
}

#[derive(Serialize)]
struct Inputs<'a, T> {
    inputs: &'a [T],
}

impl Client {
    /// One record, or `None` when HubSpot answers 404.
    pub async fn get_object(&self, object_type: &str, id: &str, options: &ReadOptions) -> Result<Option<Object>> {
        let url = self.url(&self.paths().objects, &[object_type, id]);
        match self.json(self.get(url, options.query())).await {
            Ok(object) => Ok(Some(object)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One page of records; pass the previous page's [`Page::next_after`] as `after`.
    /// `limit` is capped at 100.
    pub async fn list_objects(&self, object_type: &str, options: &ReadOptions, limit: u32, after: Option<&str>) -> Result<Page<Object>> {
        let url = self.url(&self.paths().objects, &[object_type]);
        let mut query = options.query();
        query.push(("limit", limit.clamp(1, 100).to_string()));
        if let Some(after) = after {
            query.push(("after", after.to_owned()));
        }
        self.json(self.get(url, query)).await
    }

    /// Every record of a type, following `paging.next.after` to the end.
    pub async fn list_all_objects(&self, object_type: &str, options: &ReadOptions) -> Result<Vec<Object>> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.list_objects(object_type, options, 100, after.as_deref()).await?;
            let next = page.next_after().map(str::to_owned);
            all.extend(page.results);
            match next {
                // A cursor that does not move would loop forever; stop instead.
                Some(next) if Some(&next) != after.as_ref() => after = Some(next),
                _ => return Ok(all),
            }
        }
    }

    /// Creates one record (never retried after a 5xx or timeout: it might exist already).
    pub async fn create_object(&self, object_type: &str, object: &NewObject) -> Result<Object> {
        let url = self.url(&self.paths().objects, &[object_type]);
        self.json(self.with_body(Method::POST, url, object, false)?).await
    }

    /// Updates one record's properties; read-only and unknown properties are ignored by HubSpot.
    pub async fn update_object(&self, object_type: &str, id: &str, properties: &BTreeMap<String, String>) -> Result<Object> {
        let url = self.url(&self.paths().objects, &[object_type, id]);
        #[derive(Serialize)]
        struct Body<'a> {
            properties: &'a BTreeMap<String, String>,
        }
        self.json(self.with_body(Method::PATCH, url, &Body { properties }, true)?).await
    }

    /// Archives (soft-deletes) one record.
    pub async fn archive_object(&self, object_type: &str, id: &str) -> Result<()> {
        let url = self.url(&self.paths().objects, &[object_type, id]);
        self.send(self.bodyless(Method::DELETE, url)).await.map(drop)
    }

    /// Reads records by id, 100 per request. Missing ids come back in `errors`.
    pub async fn batch_read(&self, object_type: &str, ids: &[String], options: &ReadOptions) -> Result<BatchResult<Object>> {
        let url = self.url(&self.paths().objects, &[object_type, "batch", "read"]);
        let mut merged = BatchResult::default();
        for chunk in ids.chunks(BATCH_LIMIT) {
            let body = BatchReadBody {
                properties: &options.properties,
                properties_with_history: &options.properties_with_history,
                id_property: None,
                inputs: chunk.iter().map(|id| IdRef { id: id.clone() }).collect(),
            };
            merge(
                &mut merged,
                self.batch_call(self.with_body(Method::POST, url.clone(), &body, true)?).await?,
            );
        }
        Ok(merged)
    }

    /// Updates records, 100 per request (larger inputs are split). Rows that failed come
    /// back in `errors`; earlier chunks stay applied if a later request fails outright.
    pub async fn batch_update(&self, object_type: &str, inputs: &[ObjectUpdate]) -> Result<BatchResult<Object>> {
        let url = self.url(&self.paths().objects, &[object_type, "batch", "update"]);
        let mut merged = BatchResult::default();
        for chunk in inputs.chunks(BATCH_LIMIT) {
            merge(
                &mut merged,
                self.batch_call(self.with_body(Method::POST, url.clone(), &Inputs { inputs: chunk }, true)?)
                    .await?,
            );
        }
        Ok(merged)
    }

    /// Creates records, 100 per request. Not retried after a 5xx or timeout.
    pub async fn batch_create(&self, object_type: &str, inputs: &[NewObject]) -> Result<BatchResult<Object>> {
        let url = self.url(&self.paths().objects, &[object_type, "batch", "create"]);
        let mut merged = BatchResult::default();
        for chunk in inputs.chunks(BATCH_LIMIT) {
            merge(
                &mut merged,
                self.batch_call(self.with_body(Method::POST, url.clone(), &Inputs { inputs: chunk }, false)?)
                    .await?,
            );
        }
        Ok(merged)
    }

    /// Sends a batch request; a 207 body carries both results and errors.
    pub(crate) async fn batch_call<T: serde::de::DeserializeOwned>(&self, call: crate::client::Call) -> Result<BatchResult<T>> {
        let path = call.url.path().to_owned();
        let response = self.send(call).await?;
        serde_json::from_slice(&response.body).map_err(|source| Error::Decode { path, source })
    }
}

fn merge<T>(into: &mut BatchResult<T>, from: BatchResult<T>) {
    into.results.extend(from.results);
    into.errors.extend(from.errors);
    // The merged status is the worst one seen.
    if into.status.is_none() || from.status.as_deref() != Some("COMPLETE") {
        into.status = from.status;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_parses_with_null_and_missing_properties() {
        let body = r#"{"id":"123","properties":{"dealname":"X","amount":null,"hs_object_id":"123"},
            "createdAt":"2024-01-17T19:55:04.281Z","updatedAt":"2024-01-18T10:00:00Z","archived":false}"#;
        let o: Object = serde_json::from_str(body).unwrap();
        assert_eq!(o.get("dealname"), Some("X"));
        assert_eq!(o.get("amount"), None);
        assert_eq!(o.get("closedate"), None);
        assert_eq!(o.created_at.unwrap().timestamp_millis(), 1_705_521_304_281);
    }

    #[test]
    fn a_list_page_exposes_its_next_cursor_and_the_last_page_has_none() {
        let page: Page<Object> =
            serde_json::from_str(r#"{"results":[{"id":"1"}],"paging":{"next":{"after":"NTI1Cg%3D%3D","link":"x"}}}"#).unwrap();
        assert_eq!(page.next_after(), Some("NTI1Cg%3D%3D"));
        let last: Page<Object> = serde_json::from_str(r#"{"results":[]}"#).unwrap();
        assert_eq!(last.next_after(), None);
    }

    #[test]
    fn a_partial_batch_failure_keeps_results_and_errors() {
        let body = r#"{"status":"COMPLETE","results":[{"id":"1"}],"numErrors":1,
            "errors":[{"status":"error","category":"OBJECT_NOT_FOUND","message":"Could not get some DEAL objects","context":{"ids":["7"]}}]}"#;
        let r: BatchResult<Object> = serde_json::from_str(body).unwrap();
        assert_eq!(r.results.len(), 1);
        assert_eq!(r.errors[0].context["ids"], vec!["7".to_owned()]);
    }

    #[test]
    fn read_options_become_comma_separated_query_parameters() {
        let options = ReadOptions {
            associations: vec!["contacts".into()],
            archived: true,
            ..ReadOptions::properties(["dealname", "amount"])
        };
        assert_eq!(
            options.query(),
            vec![
                ("properties", "dealname,amount".to_owned()),
                ("associations", "contacts".to_owned()),
                ("archived", "true".to_owned())
            ]
        );
    }

    #[test]
    fn merging_batch_results_keeps_the_worst_status() {
        let mut merged = BatchResult::<Object> {
            status: Some("COMPLETE".into()),
            ..BatchResult::default()
        };
        merge(
            &mut merged,
            BatchResult {
                status: Some("PENDING".into()),
                results: vec![Object::default()],
                errors: vec![],
            },
        );
        merge(
            &mut merged,
            BatchResult {
                status: Some("COMPLETE".into()),
                results: vec![Object::default()],
                errors: vec![],
            },
        );
        assert_eq!(merged.status.as_deref(), Some("PENDING"));
        assert_eq!(merged.results.len(), 2);
    }
}
