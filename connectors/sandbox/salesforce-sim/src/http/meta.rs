//! Metadata and replication: versions, resources, limits, describeGlobal, describe,
//! getUpdated and getDeleted (REST API Developer Guide).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use super::sobjects::object_index;
use crate::error::{ApiError, ApiResult};
use crate::schema::{FieldDef, FieldType, ObjectDef};
use crate::state::Shared;
use crate::util::{now_ms, parse_datetime, read, sf_datetime};

type Params = Path<HashMap<String, String>>;

const OLDEST_VERSION: u32 = 31;
const NEWEST_VERSION: u32 = 67;
const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;
/// getUpdated refuses more ids than this.
const MAX_UPDATED_IDS: usize = 600_000;

fn version_of(p: &HashMap<String, String>) -> &str {
    p.get("version").map(String::as_str).unwrap_or("v62.0")
}

/// Release label of an API version: v20.0 was Winter '11 and each release adds one.
fn release_label(v: u32) -> String {
    let i = v.saturating_sub(20);
    let season = ["Winter", "Spring", "Summer"][(i % 3) as usize];
    format!("{season} '{:02}", 11 + i / 3)
}

/// `GET /services/data/` (no authentication, no limit header).
pub async fn versions() -> Json<Value> {
    let list: Vec<Value> = (OLDEST_VERSION..=NEWEST_VERSION)
        .map(|v| json!({"label": release_label(v), "url": format!("/services/data/v{v}.0"), "version": format!("{v}.0")}))
        .collect();
    Json(Value::Array(list))
}

pub async fn resources(Path(p): Params) -> Json<Value> {
    let base = format!("/services/data/{}", version_of(&p));
    let mut m = serde_json::Map::new();
    for r in ["sobjects", "query", "queryAll", "composite", "limits"] {
        m.insert(r.into(), Value::String(format!("{base}/{r}")));
    }
    Json(Value::Object(m))
}

pub async fn limits(State(st): State<Shared>) -> Json<Value> {
    let (used, max) = st.usage.peek();
    let pair = |max: u64, remaining: u64| json!({"Max": max, "Remaining": remaining});
    Json(json!({
        "DailyApiRequests": pair(max, max.saturating_sub(used)),
        "DailyAsyncApexExecutions": pair(250_000, 250_000),
        "DailyBulkApiBatches": pair(15_000, 15_000),
        "DailyWorkflowEmails": pair(2_000, 2_000),
        "DataStorageMB": pair(1_024, 1_000),
        "FileStorageMB": pair(1_024, 1_024),
        "HourlyODataCallout": pair(10_000, 10_000),
        "SingleEmail": pair(5_000, 5_000),
    }))
}

fn urls(o: &ObjectDef, version: &str) -> Value {
    let base = format!("/services/data/{version}/sobjects/{}", o.name);
    json!({"sobject": base, "describe": format!("{base}/describe"), "rowTemplate": format!("{base}/{{ID}}")})
}

fn object_summary(o: &ObjectDef, version: &str) -> Value {
    json!({
        "name": o.name, "label": o.label, "labelPlural": o.label_plural, "keyPrefix": o.key_prefix,
        "custom": false, "createable": true, "updateable": true, "deletable": true, "queryable": true,
        "retrieveable": true, "searchable": true, "replicateable": true, "triggerable": true, "undeletable": true,
        "layoutable": true, "mergeable": false, "customSetting": false, "deprecatedAndHidden": false,
        "urls": urls(o, version),
    })
}

pub async fn describe_global(State(st): State<Shared>, Path(p): Params) -> Json<Value> {
    let store = read(&st.store);
    let list: Vec<Value> = store.schema.objects.iter().map(|o| object_summary(o, version_of(&p))).collect();
    Json(json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": list}))
}

pub async fn object_info(State(st): State<Shared>, Path(p): Params) -> ApiResult<Json<Value>> {
    let store = read(&st.store);
    let o = object_index(&store, p.get("object").map(String::as_str).unwrap_or(""))?;
    Ok(Json(
        json!({"objectDescribe": object_summary(store.object(o), version_of(&p)), "recentItems": []}),
    ))
}

fn field_json(f: &FieldDef) -> Value {
    let (precision, scale, digits) = match f.ftype {
        FieldType::Currency => (18, 2, 0),
        FieldType::Double | FieldType::Percent => (18, 0, 0),
        FieldType::Int => (0, 0, 9),
        _ => (0, 0, 0),
    };
    let picklist: Vec<Value> = f
        .picklist
        .iter()
        .map(|v| json!({"active": true, "defaultValue": false, "label": v, "validFor": null, "value": v}))
        .collect();
    let text_like = f.ftype.is_text() && f.ftype != FieldType::Textarea;
    json!({
        "name": f.name, "label": f.label, "type": f.ftype.name(), "soapType": f.ftype.soap_type(),
        "length": f.length, "byteLength": f.length * 3, "precision": precision, "scale": scale, "digits": digits,
        "nillable": f.nillable, "createable": f.createable, "updateable": f.updateable, "custom": f.custom,
        "calculated": false, "unique": false, "externalId": false, "idLookup": f.name == "Id",
        "nameField": f.name_field, "filterable": f.ftype != FieldType::Textarea, "sortable": f.ftype != FieldType::Textarea,
        "groupable": text_like || f.ftype == FieldType::Boolean || f.ftype == FieldType::Date,
        "aggregatable": f.ftype != FieldType::Textarea, "autoNumber": false, "caseSensitive": false,
        "defaultedOnCreate": f.defaulted, "defaultValue": if f.ftype == FieldType::Boolean { json!(false) } else { Value::Null },
        "restrictedPicklist": f.restricted, "dependentPicklist": false, "htmlFormatted": false,
        "picklistValues": picklist, "referenceTo": f.reference_to, "relationshipName": f.relationship,
        "permissionable": f.custom || (f.nillable && f.updateable), "polymorphicForeignKey": f.reference_to.len() > 1,
    })
}

pub async fn describe(State(st): State<Shared>, Path(p): Params) -> ApiResult<Json<Value>> {
    let store = read(&st.store);
    let o = store.object(object_index(&store, p.get("object").map(String::as_str).unwrap_or(""))?);
    let mut v = object_summary(o, version_of(&p));
    v["fields"] = Value::Array(o.fields.iter().map(field_json).collect());
    v["childRelationships"] = Value::Array(
        o.children
            .iter()
            .map(|c| json!({"childSObject": c.child, "field": c.field, "relationshipName": c.name, "cascadeDelete": c.child == "OpportunityContactRole"}))
            .collect(),
    );
    v["recordTypeInfos"] = json!([]);
    Ok(Json(v))
}

/// A replication window: seconds ignored (floored to the minute), end capped at now.
fn window(q: &HashMap<String, String>, max_days: i64) -> ApiResult<(i64, i64)> {
    let bad = |m: &str| ApiError::new(400, "INVALID_REPLICATION_DATE", m);
    let get = |k: &str| q.get(k).and_then(|v| parse_datetime(v));
    let (Some(start), Some(end)) = (get("start"), get("end")) else {
        return Err(ApiError::new(
            400,
            "MALFORMED_QUERY",
            "Both start and end must be given as ISO 8601 datetimes",
        ));
    };
    let now = now_ms();
    let (start, end) = (start.div_euclid(MINUTE) * MINUTE, end.min(now).div_euclid(MINUTE) * MINUTE);
    if start >= end {
        return Err(bad("startDate must chronologically precede endDate by more than one minute"));
    }
    if start < now - max_days * DAY {
        return Err(bad(&format!("startDate cannot be more than {max_days} days ago")));
    }
    Ok((start, end))
}

pub async fn updated(State(st): State<Shared>, Path(p): Params, Query(q): Query<HashMap<String, String>>) -> ApiResult<Json<Value>> {
    let store = read(&st.store);
    let o = object_index(&store, p.get("object").map(String::as_str).unwrap_or(""))?;
    let (start, end) = window(&q, 30)?;
    let ids: Vec<&str> = store.tables[o]
        .records
        .values()
        .filter(|r| r.deleted_ms.is_none() && r.stamp_ms >= start && r.stamp_ms < end)
        .map(|r| r.id.as_str())
        .collect();
    if ids.len() > MAX_UPDATED_IDS {
        return Err(ApiError::new(
            400,
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 600000 records into this call",
        ));
    }
    Ok(Json(json!({"ids": ids, "latestDateCovered": sf_datetime(end)})))
}

pub async fn deleted(State(st): State<Shared>, Path(p): Params, Query(q): Query<HashMap<String, String>>) -> ApiResult<Json<Value>> {
    let store = read(&st.store);
    let o = object_index(&store, p.get("object").map(String::as_str).unwrap_or(""))?;
    let (start, end) = window(&q, 15)?;
    let records: Vec<Value> = store.tables[o]
        .records
        .values()
        .filter_map(|r| r.deleted_ms.filter(|d| *d >= start && *d < end).map(|d| (r, d)))
        .map(|(r, d)| json!({"id": r.id, "deletedDate": sf_datetime(d)}))
        .collect();
    let earliest = (now_ms() - 15 * DAY).div_euclid(MINUTE) * MINUTE;
    Ok(Json(json!({
        "deletedRecords": records,
        "earliestDateAvailable": sf_datetime(earliest),
        "latestDateCovered": sf_datetime(end),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_labels_follow_the_salesforce_calendar() {
        assert_eq!(release_label(32), "Winter '15");
        assert_eq!(release_label(59), "Winter '24");
        assert_eq!(release_label(67), "Summer '26");
    }
}
