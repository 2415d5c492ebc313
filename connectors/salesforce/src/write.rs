//! Writes: single-record create and update, sObject Collections, Task creation and
//! Composite (<https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections.htm>).

use chrono::NaiveDate;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::client::{Call, Client, Target, check_api_name, check_record_id};
use crate::error::{Error, Result};

/// sObject Collections take at most 200 records per call.
pub const COLLECTION_LIMIT: usize = 200;
/// Composite takes at most 25 subrequests.
pub const COMPOSITE_LIMIT: usize = 25;
/// The status code given to rows this client did not send because an earlier chunk
/// failed under `allOrNone` (not a Salesforce code).
pub const NOT_ATTEMPTED: &str = "NOT_ATTEMPTED";

/// One row's outcome. In collection responses Salesforce names the code `statusCode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveResult {
    #[serde(default)]
    pub id: Option<String>,
    pub success: bool,
    #[serde(default)]
    pub errors: Vec<SaveError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SaveError {
    #[serde(default)]
    pub status_code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

/// A record update for [`Client::update_records`].
#[derive(Debug, Clone, PartialEq)]
pub struct RecordUpdate {
    pub object_type: String,
    pub id: String,
    /// Fields to set; `Value::Null` clears a field.
    pub fields: Map<String, Value>,
}

impl RecordUpdate {
    pub fn new(object_type: &str, id: &str) -> Self {
        Self {
            object_type: object_type.to_owned(),
            id: id.to_owned(),
            fields: Map::new(),
        }
    }

    pub fn set(mut self, field: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(field.to_owned(), value.into());
        self
    }

    fn to_json(&self) -> Result<Value> {
        check_api_name("object", &self.object_type)?;
        check_record_id(&self.id)?;
        let mut row = self.fields.clone();
        // `id` and `attributes` are the collection's own keys; a field of the same
        // name would silently retarget the row.
        if row.keys().any(|k| k.eq_ignore_ascii_case("id") || k == "attributes") {
            return Err(Error::InvalidInput("update fields may not contain Id or attributes".into()));
        }
        row.insert("attributes".into(), json!({ "type": self.object_type }));
        row.insert("id".into(), Value::String(self.id.clone()));
        Ok(Value::Object(row))
    }
}

/// A record for [`Client::create_records`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecord {
    pub object_type: String,
    pub fields: Map<String, Value>,
}

impl NewRecord {
    /// A Task, from its fields as [`NewTask`] names them.
    pub fn task(task: &NewTask) -> Result<Self> {
        match serde_json::to_value(task).map_err(|e| Error::InvalidInput(e.to_string()))? {
            Value::Object(fields) => Ok(Self {
                object_type: "Task".to_owned(),
                fields,
            }),
            _ => Err(Error::InvalidInput("a task serializes to an object".into())),
        }
    }

    fn to_json(&self) -> Result<Value> {
        check_api_name("object", &self.object_type)?;
        let mut row = self.fields.clone();
        if row.keys().any(|k| k.eq_ignore_ascii_case("id") || k == "attributes") {
            return Err(Error::InvalidInput("new record fields may not contain Id or attributes".into()));
        }
        row.insert("attributes".into(), json!({ "type": self.object_type }));
        Ok(Value::Object(row))
    }
}

/// A Task to log on a record: `Status` defaults to `Completed`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewTask {
    pub subject: String,
    pub status: String,
    /// The opportunity, account or other record the task is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what_id: Option<String>,
    /// The contact or lead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub who_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
}

impl NewTask {
    pub fn completed(subject: &str) -> Self {
        Self {
            subject: subject.to_owned(),
            status: "Completed".to_owned(),
            what_id: None,
            who_id: None,
            priority: None,
            activity_date: None,
            description: None,
            owner_id: None,
        }
    }
}

/// One Composite subrequest. `url` is a full path (`/services/data/v67.0/sobjects/…`);
/// see [`Client::api_path`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositeSubrequest {
    pub method: String,
    pub url: String,
    pub reference_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositeSubresponse {
    #[serde(default)]
    pub body: Value,
    #[serde(default)]
    pub http_headers: Map<String, Value>,
    pub http_status_code: u16,
    pub reference_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompositeResponse {
    composite_response: Vec<CompositeSubresponse>,
}

#[derive(Deserialize)]
struct CreateResponse {
    id: String,
}

impl Client {
    /// The path of an API resource as Composite subrequests want it.
    pub fn api_path(&self, resource: &str) -> String {
        format!("/services/data/v{}/{}", self.api_version(), resource.trim_start_matches('/'))
    }

    /// `GET /sobjects/{O}/{id}?fields=…`: one record (all fields when `fields` is empty).
    pub async fn get_record(&self, object: &str, id: &str, fields: &[&str]) -> Result<crate::query::Record> {
        check_api_name("object", object)?;
        check_record_id(id)?;
        for field in fields {
            check_api_name("field", field)?;
        }
        let path = format!("sobjects/{object}/{id}");
        let mut call = Call::get(Target::Api(&path));
        if !fields.is_empty() {
            call.query.push(("fields", fields.join(",")));
        }
        self.execute(&call).await?.json("sobjects")
    }

    /// `PATCH /sobjects/{O}/{id}`: sets the given fields (null clears one). Setting the
    /// same values twice is harmless, so server failures are retried.
    pub async fn update_record(&self, object: &str, id: &str, fields: &Map<String, Value>) -> Result<()> {
        check_api_name("object", object)?;
        check_record_id(id)?;
        let path = format!("sobjects/{object}/{id}");
        let call = Call::with_body(Method::PATCH, Target::Api(&path), Value::Object(fields.clone()), true);
        self.execute(&call).await.map(|_| ())
    }

    /// `POST /sobjects/{O}/`: creates a record and returns its id. Never retried after
    /// a timeout or 5xx, since the first attempt may have created it.
    pub async fn create_record(&self, object: &str, fields: &Value) -> Result<String> {
        check_api_name("object", object)?;
        let path = format!("sobjects/{object}/");
        let call = Call::with_body(Method::POST, Target::Api(&path), fields.clone(), false);
        let created: CreateResponse = self.execute(&call).await?.json("create")?;
        Ok(created.id)
    }

    /// `DELETE /sobjects/{O}/{id}`. Not retried after a timeout or 5xx: a repeat of a
    /// delete that went through answers `ENTITY_IS_DELETED`, which would hide the success.
    pub async fn delete_record(&self, object: &str, id: &str) -> Result<()> {
        check_api_name("object", object)?;
        check_record_id(id)?;
        let path = format!("sobjects/{object}/{id}");
        let mut call = Call::get(Target::Api(&path));
        call.method = Method::DELETE;
        call.idempotent = false;
        self.execute(&call).await.map(|_| ())
    }

    /// Logs a Task; returns its id.
    pub async fn create_task(&self, task: &NewTask) -> Result<String> {
        for id in task.what_id.iter().chain(&task.who_id).chain(&task.owner_id) {
            check_record_id(id)?;
        }
        let body = serde_json::to_value(task).map_err(|e| Error::InvalidInput(e.to_string()))?;
        self.create_record("Task", &body).await
    }

    /// Updates records through sObject Collections, 200 per call, returning one result
    /// per input in input order. With `all_or_none` each call is atomic; calls cannot
    /// be atomic together, so once one fails the remaining chunks are not sent and
    /// their rows report [`NOT_ATTEMPTED`].
    pub async fn update_records(&self, records: &[RecordUpdate], all_or_none: bool) -> Result<Vec<SaveResult>> {
        let rows = records.iter().map(RecordUpdate::to_json).collect::<Result<Vec<_>>>()?;
        self.collection(Method::PATCH, &rows, all_or_none).await
    }

    /// Creates records through sObject Collections, 200 per call, returning one result
    /// per input in input order (with the new ids). Not retried on a 5xx or timeout: the
    /// records may exist. Under `all_or_none`, chunks after a failed one are not sent.
    pub async fn create_records(&self, records: &[NewRecord], all_or_none: bool) -> Result<Vec<SaveResult>> {
        for id in records
            .iter()
            .flat_map(|r| ["WhoId", "WhatId", "OwnerId"].map(|f| r.fields.get(f)))
            .flatten()
        {
            if let Some(id) = id.as_str() {
                check_record_id(id)?;
            }
        }
        let rows = records.iter().map(NewRecord::to_json).collect::<Result<Vec<_>>>()?;
        self.collection(Method::POST, &rows, all_or_none).await
    }

    /// Sends collection rows 200 per call. PATCH (update) is idempotent and may be
    /// retried; POST (create) is not.
    async fn collection(&self, method: Method, rows: &[Value], all_or_none: bool) -> Result<Vec<SaveResult>> {
        let idempotent = method == Method::PATCH;
        let mut results = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(COLLECTION_LIMIT) {
            if all_or_none && results.iter().any(|r: &SaveResult| !r.success) {
                results.extend(chunk.iter().map(|_| not_attempted()));
                continue;
            }
            let body = json!({ "allOrNone": all_or_none, "records": chunk });
            let call = Call::with_body(method.clone(), Target::Api("composite/sobjects"), body, idempotent);
            let chunk_results: Vec<SaveResult> = self.execute(&call).await?.json("composite/sobjects")?;
            if chunk_results.len() != chunk.len() {
                return Err(Error::decode(
                    "composite/sobjects",
                    format!("{} results for {} records", chunk_results.len(), chunk.len()),
                ));
            }
            results.extend(chunk_results);
        }
        Ok(results)
    }

    /// `POST /composite`: up to 25 subrequests in one API call. Not retried on 5xx.
    pub async fn composite(&self, all_or_none: bool, subrequests: &[CompositeSubrequest]) -> Result<Vec<CompositeSubresponse>> {
        if subrequests.is_empty() || subrequests.len() > COMPOSITE_LIMIT {
            return Err(Error::InvalidInput(format!(
                "{} subrequests; composite takes 1 to 25",
                subrequests.len()
            )));
        }
        let body = json!({ "allOrNone": all_or_none, "compositeRequest": subrequests });
        let call = Call::with_body(Method::POST, Target::Api("composite"), body, false);
        let response: CompositeResponse = self.execute(&call).await?.json("composite")?;
        Ok(response.composite_response)
    }
}

fn not_attempted() -> SaveResult {
    SaveResult {
        id: None,
        success: false,
        errors: vec![SaveError {
            status_code: NOT_ATTEMPTED.to_owned(),
            message: "not sent: an earlier chunk failed under allOrNone".to_owned(),
            fields: Vec::new(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_results_use_status_code_and_keep_fields() {
        let results: Vec<SaveResult> = serde_json::from_str(
            r#"[{"id":"0035e00000AbCdEAAV","success":true,"errors":[]},
                {"success":false,"errors":[{"statusCode":"MALFORMED_ID","message":"bad id","fields":["Id"]}]}]"#,
        )
        .unwrap();
        assert!(results[0].success);
        assert_eq!(results[1].errors[0].status_code, "MALFORMED_ID");
        assert_eq!(results[1].errors[0].fields, vec!["Id".to_owned()]);
    }

    #[test]
    fn a_record_update_becomes_a_collection_row_with_attributes_and_id() {
        let row = RecordUpdate::new("Opportunity", "0065e00000FgHiJAAV")
            .set("StageName", "Closed Won")
            .set("NextStep", Value::Null)
            .to_json()
            .unwrap();
        assert_eq!(
            row,
            json!({"attributes": {"type": "Opportunity"}, "id": "0065e00000FgHiJAAV", "StageName": "Closed Won", "NextStep": null})
        );
    }

    #[test]
    fn updates_that_would_retarget_a_row_are_refused() {
        assert!(
            RecordUpdate::new("Opportunity", "0065e00000FgHiJAAV")
                .set("Id", "x")
                .to_json()
                .is_err()
        );
        assert!(RecordUpdate::new("Opportunity", "not-an-id").to_json().is_err());
        assert!(RecordUpdate::new("Opp/x", "0065e00000FgHiJAAV").to_json().is_err());
    }

    #[test]
    fn a_new_task_serialises_with_salesforce_field_names() {
        let mut task = NewTask::completed("Kickoff held");
        task.what_id = Some("0065e00000FgHiJAAV".into());
        task.who_id = Some("0035e00000AbCdEAAV".into());
        task.activity_date = NaiveDate::from_ymd_opt(2026, 6, 30);
        assert_eq!(
            serde_json::to_value(&task).unwrap(),
            json!({"Subject": "Kickoff held", "Status": "Completed", "WhatId": "0065e00000FgHiJAAV",
                   "WhoId": "0035e00000AbCdEAAV", "ActivityDate": "2026-06-30"})
        );
    }

    #[test]
    fn composite_responses_parse() {
        let response: CompositeResponse = serde_json::from_str(
            r#"{"compositeResponse":[{"body":{"id":"001","success":true,"errors":[]},"httpHeaders":{"Location":"/x"},
               "httpStatusCode":201,"referenceId":"acct"}]}"#,
        )
        .unwrap();
        assert_eq!(response.composite_response[0].http_status_code, 201);
        assert_eq!(response.composite_response[0].reference_id, "acct");
    }
}
