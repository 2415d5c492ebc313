//! sObject Collections and composite (REST API Developer Guide).

use std::collections::HashMap;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, Query, State};
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{Map, Value, json};
use tower::ServiceExt;

use super::sobjects::{json_object, object_index};
use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::render::full_record;
use crate::state::Shared;
use crate::store::{DmlError, Store};
use crate::util::{read, write};

const MAX_RECORDS: usize = 200;
const MAX_SUBREQUESTS: usize = 25;

fn too_many() -> ApiError {
    ApiError::new(
        400,
        "EXCEEDED_ID_LIMIT",
        "record limit reached. cannot submit more than 200 records into this call",
    )
}

fn failure(e: &DmlError) -> Value {
    json!({"success": false, "errors": [{"statusCode": e.code, "message": e.message, "fields": e.fields}]})
}

fn rolled_back() -> Value {
    let e = DmlError::new(
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "Record rolled back because not all records were valid and the request was using AllOrNone header",
        vec![],
    );
    failure(&e)
}

/// `{"allOrNone": b, "records": [...]}`.
fn collection_body(body: &[u8]) -> ApiResult<(bool, Vec<Map<String, Value>>)> {
    let b = json_object(body)?;
    let all = b.get("allOrNone").and_then(Value::as_bool).unwrap_or(false);
    let records = match b.get("records") {
        Some(Value::Array(r)) => r,
        _ => return Err(ApiError::new(400, "JSON_PARSER_ERROR", "records must be an array of sObjects")),
    };
    if records.len() > MAX_RECORDS {
        return Err(too_many());
    }
    let records = records
        .iter()
        .map(|r| {
            r.as_object()
                .cloned()
                .ok_or_else(|| ApiError::new(400, "JSON_PARSER_ERROR", "each record must be an object"))
        })
        .collect::<ApiResult<_>>()?;
    Ok((all, records))
}

fn record_type(store: &Store, r: &Map<String, Value>) -> Result<usize, DmlError> {
    let t = r.get("attributes").and_then(|a| a.get("type")).and_then(Value::as_str);
    let t = t.ok_or_else(|| DmlError::new("INVALID_TYPE", "Must specify a type in attributes", vec![]))?;
    store
        .schema
        .index_of(t)
        .ok_or_else(|| DmlError::new("INVALID_TYPE", format!("sObject type '{t}' is not supported."), vec![]))
}

type Prepared = Result<(usize, Option<String>, Vec<(String, Value)>), DmlError>;

fn prepare(store: &Store, r: &Map<String, Value>, create: bool) -> Prepared {
    let o = record_type(store, r)?;
    if create {
        return Ok((o, None, store.prepare_create(o, r)?));
    }
    let raw = r.iter().find(|(k, _)| k.eq_ignore_ascii_case("id")).and_then(|(_, v)| v.as_str());
    let raw = raw.ok_or_else(|| DmlError::new("MISSING_ARGUMENT", "Id not specified in an update call", vec!["Id".into()]))?;
    let id = ids::normalize(raw)
        .filter(|id| id.starts_with(&store.object(o).key_prefix))
        .ok_or_else(|| {
            DmlError::new(
                "MALFORMED_ID",
                format!("{} ID: id value of incorrect type: {raw}", store.object(o).name),
                vec!["Id".into()],
            )
        })?;
    let values = store.prepare_update(o, &id, r)?;
    Ok((o, Some(id), values))
}

/// Validates every record first; with allOrNone one failure writes nothing.
fn save(st: &Shared, actor: &str, records: &[Map<String, Value>], all: bool, create: bool) -> Vec<Value> {
    let mut store = write(&st.store);
    let prepared: Vec<Prepared> = records.iter().map(|r| prepare(&store, r, create)).collect();
    if all && prepared.iter().any(Result::is_err) {
        return prepared
            .iter()
            .map(|p| p.as_ref().err().map_or_else(rolled_back, failure))
            .collect();
    }
    prepared
        .into_iter()
        .map(|p| match p {
            Err(e) => failure(&e),
            Ok((o, None, values)) => {
                let id = store.apply_create(o, values, actor);
                json!({"id": id, "success": true, "errors": []})
            }
            Ok((o, Some(id), values)) => match store.apply_update(o, &id, values, actor) {
                Ok(()) => json!({"id": id, "success": true, "errors": []}),
                Err(e) => failure(&e),
            },
        })
        .collect()
}

pub async fn collection_create(State(st): State<Shared>, Extension(s): Extension<Session>, body: Bytes) -> ApiResult<Json<Value>> {
    let (all, records) = collection_body(&body)?;
    Ok(Json(Value::Array(save(&st, &s.user_id, &records, all, true))))
}

pub async fn collection_update(State(st): State<Shared>, Extension(s): Extension<Session>, body: Bytes) -> ApiResult<Json<Value>> {
    let (all, records) = collection_body(&body)?;
    Ok(Json(Value::Array(save(&st, &s.user_id, &records, all, false))))
}

pub async fn collection_delete(
    State(st): State<Shared>,
    Extension(s): Extension<Session>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let raw: Vec<&str> = q
        .get("ids")
        .map(|v| v.split(',').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    if raw.len() > MAX_RECORDS {
        return Err(too_many());
    }
    let all = q.get("allOrNone").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut store = write(&st.store);
    let checked: Vec<Result<(usize, String), DmlError>> = raw
        .iter()
        .map(|r| {
            let malformed = || DmlError::new("MALFORMED_ID", format!("malformed id {r}"), vec![]);
            let id = ids::normalize(r).ok_or_else(malformed)?;
            let o = store.schema.object_of_id(&id).ok_or_else(malformed)?;
            store.existing(o, &id)?;
            Ok((o, id))
        })
        .collect();
    if all && checked.iter().any(Result::is_err) {
        return Ok(Json(Value::Array(
            checked.iter().map(|c| c.as_ref().err().map_or_else(rolled_back, failure)).collect(),
        )));
    }
    let out = checked
        .into_iter()
        .map(|c| match c.and_then(|(o, id)| store.delete(o, &id, &s.user_id).map(|()| id)) {
            Ok(id) => json!({"id": id, "success": true, "errors": []}),
            Err(e) => failure(&e),
        })
        .collect();
    Ok(Json(Value::Array(out)))
}

pub async fn collection_get(
    State(st): State<Shared>,
    Path(p): Path<HashMap<String, String>>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let store = read(&st.store);
    let o = object_index(&store, p.get("object").map(String::as_str).unwrap_or(""))?;
    let fields: Vec<String> = q
        .get("fields")
        .map(|f| f.split(',').map(|s| s.trim().to_string()).collect())
        .unwrap_or_default();
    if fields.is_empty() {
        return Err(ApiError::new(400, "MISSING_ARGUMENT", "fields parameter is required"));
    }
    let raw: Vec<&str> = q.get("ids").map(|v| v.split(',').collect()).unwrap_or_default();
    if raw.len() > 2_000 {
        return Err(too_many());
    }
    let version = p.get("version").map(String::as_str).unwrap_or("v62.0");
    let out = raw
        .iter()
        .map(|r| {
            let rec = ids::normalize(r).and_then(|id| store.live(o, &id));
            rec.map_or(Value::Null, |rec| {
                serde_json::to_value(full_record(&store, o, rec, version, Some(&fields))).unwrap_or(Value::Null)
            })
        })
        .collect();
    Ok(Json(Value::Array(out)))
}

/// Replaces `@{ref.path}` with values from earlier subresponses; `Err` names an unresolved reference.
fn substitute(text: &str, results: &HashMap<String, Value>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("@{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[i..]);
            return Ok(out);
        };
        let expr = &after[..end];
        let value = lookup(expr, results).ok_or_else(|| expr.to_string())?;
        out.push_str(&match value {
            Value::String(s) => s,
            other => other.to_string(),
        });
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `ref.a.b[0].c` against the stored bodies.
fn lookup(expr: &str, results: &HashMap<String, Value>) -> Option<Value> {
    let mut parts = expr.split('.');
    let mut cur = results.get(parts.next()?)?;
    for part in parts {
        let (name, index) = match part.split_once('[') {
            Some((n, i)) => (n, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        if let Some(i) = index {
            cur = cur.get(i)?;
        }
    }
    Some(cur.clone())
}

fn halted(reference_id: &Value, message: &str) -> Value {
    json!({"body": [{"errorCode": "PROCESSING_HALTED", "message": message}], "httpHeaders": {}, "httpStatusCode": 400, "referenceId": reference_id})
}

/// Runs one subrequest through the API routes in-process.
async fn dispatch(
    st: &Shared,
    session: &Session,
    sub: &Value,
    results: &HashMap<String, Value>,
) -> Result<(u16, Value, Option<String>), String> {
    let method = sub.get("method").and_then(Value::as_str).unwrap_or("GET").to_ascii_uppercase();
    let url = substitute(sub.get("url").and_then(Value::as_str).unwrap_or(""), results)?;
    let body = match sub.get("body") {
        Some(b) if !b.is_null() => substitute(&b.to_string(), results)?,
        _ => String::new(),
    };
    let Some(router) = st.inner.get().cloned() else {
        return Ok((
            500,
            json!([{"errorCode": "UNKNOWN_EXCEPTION", "message": "composite is not ready"}]),
            None,
        ));
    };
    let mut req = Request::builder()
        .method(method.as_str())
        .uri(&url)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .map_err(|_| format!("invalid url {url}"))?;
    req.extensions_mut().insert(session.clone());
    let resp = match router.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let status = resp.status().as_u16();
    let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
    let bytes = resp.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok((status, value, location))
}

pub async fn composite(State(st): State<Shared>, Extension(s): Extension<Session>, body: Bytes) -> ApiResult<Json<Value>> {
    let b = json_object(&body)?;
    let all = b.get("allOrNone").and_then(Value::as_bool).unwrap_or(false);
    let subs = match b.get("compositeRequest") {
        Some(Value::Array(v)) if !v.is_empty() => v.clone(),
        _ => {
            return Err(ApiError::new(
                400,
                "JSON_PARSER_ERROR",
                "compositeRequest must be a non-empty array",
            ));
        }
    };
    if subs.len() > MAX_SUBREQUESTS {
        return Err(ApiError::new(
            400,
            "LIMIT_EXCEEDED",
            "Composite requests cannot have more than 25 subrequests",
        ));
    }
    if all {
        write(&st.store).begin();
    }
    let mut results: HashMap<String, Value> = HashMap::new();
    let mut out: Vec<Value> = Vec::new();
    let mut failed = false;
    for sub in &subs {
        let reference_id = sub.get("referenceId").cloned().unwrap_or(Value::Null);
        if failed {
            out.push(halted(
                &reference_id,
                "The transaction was rolled back since another operation in the same transaction failed.",
            ));
            continue;
        }
        let entry = match dispatch(&st, &s, sub, &results).await {
            Ok((status, value, location)) => {
                if let Some(r) = reference_id.as_str() {
                    results.insert(r.to_string(), value.clone());
                }
                failed = all && status >= 400;
                let headers = location.map_or_else(|| json!({}), |l| json!({"Location": l}));
                json!({"body": value, "httpHeaders": headers, "httpStatusCode": status, "referenceId": reference_id})
            }
            Err(unresolved) => {
                failed = all;
                halted(
                    &reference_id,
                    &format!("Invalid reference specified. No value for {unresolved} found in the earlier subrequests."),
                )
            }
        };
        out.push(entry);
    }
    if all {
        let mut store = write(&st.store);
        if failed {
            store.rollback();
            // Earlier successes were undone: report them as halted, as Salesforce does.
            for e in out.iter_mut() {
                if e.get("httpStatusCode").and_then(Value::as_u64).is_some_and(|c| c < 400) {
                    *e = halted(
                        &e["referenceId"].clone(),
                        "The transaction was rolled back since another operation in the same transaction failed.",
                    );
                }
            }
        } else {
            store.commit();
        }
    }
    Ok(Json(json!({"compositeResponse": out})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_to_earlier_subresponses_are_substituted() {
        let mut r = HashMap::new();
        r.insert("acct".to_string(), json!({"id": "001X", "records": [{"Id": "003Y"}]}));
        assert_eq!(substitute("/x/@{acct.id}/y", &r).unwrap(), "/x/001X/y");
        assert_eq!(substitute("@{acct.records[0].Id}", &r).unwrap(), "003Y");
        assert_eq!(substitute("@{nope.id}", &r).unwrap_err(), "nope.id");
    }
}
