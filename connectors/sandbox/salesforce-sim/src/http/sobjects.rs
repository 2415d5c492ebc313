//! Single-record sObject calls (REST API Developer Guide, "sObject Rows"): create (201), get, update (PATCH, 204), delete (204).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::render::full_record;
use crate::state::Shared;
use crate::store::Store;
use crate::util::{read, write};

type Params = Path<HashMap<String, String>>;

fn param<'a>(p: &'a HashMap<String, String>, k: &str) -> &'a str {
    p.get(k).map(String::as_str).unwrap_or("")
}

pub fn object_index(store: &Store, name: &str) -> ApiResult<usize> {
    store.schema.index_of(name).ok_or_else(|| ApiError::not_supported(name))
}

/// A JSON object body, or Salesforce's JSON_PARSER_ERROR.
pub fn json_object(body: &[u8]) -> ApiResult<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::new(
            400,
            "JSON_PARSER_ERROR",
            "Cannot deserialize instance of sObject from non-object value",
        )),
        Err(e) => Err(ApiError::malformed_json(&e)),
    }
}

/// An id from a URL, normalised to 18 characters and checked against the object's key prefix.
pub fn record_id(store: &Store, object: usize, raw: &str) -> ApiResult<String> {
    let prefix = &store.object(object).key_prefix;
    ids::normalize(raw).filter(|id| id.starts_with(prefix.as_str())).ok_or_else(|| {
        ApiError::new(
            404,
            "NOT_FOUND",
            format!("Provided external ID field does not exist or is not accessible: {raw}"),
        )
    })
}

pub async fn create(State(st): State<Shared>, Extension(session): Extension<Session>, Path(p): Params, body: Bytes) -> ApiResult<Response> {
    let body = json_object(&body)?;
    let mut store = write(&st.store);
    let o = object_index(&store, param(&p, "object"))?;
    let id = store.create(o, &body, &session.user_id)?;
    Ok((StatusCode::CREATED, Json(json!({"id": id, "success": true, "errors": []}))).into_response())
}

pub async fn get(State(st): State<Shared>, Path(p): Params, Query(q): Query<HashMap<String, String>>) -> ApiResult<Response> {
    let store = read(&st.store);
    let o = object_index(&store, param(&p, "object"))?;
    let id = record_id(&store, o, param(&p, "id"))?;
    let rec = store.existing(o, &id)?;
    let fields: Option<Vec<String>> = q
        .get("fields")
        .map(|f| f.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect());
    if let Some(fs) = &fields {
        let def = store.object(o);
        if let Some(bad) = fs.iter().find(|f| def.field(f).is_none()) {
            return Err(ApiError::new(
                400,
                "INVALID_FIELD",
                format!("No such column '{bad}' on sobject of type {}", def.name),
            ));
        }
    }
    let version = param(&p, "version");
    Ok(Json(full_record(&store, o, rec, version, fields.as_deref())).into_response())
}

pub async fn update(
    State(st): State<Shared>,
    Extension(session): Extension<Session>,
    Path(p): Params,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let body = json_object(&body)?;
    let mut store = write(&st.store);
    let o = object_index(&store, param(&p, "object"))?;
    let id = record_id(&store, o, param(&p, "id"))?;
    store.update(o, &id, &body, &session.user_id)?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete(State(st): State<Shared>, Extension(session): Extension<Session>, Path(p): Params) -> ApiResult<StatusCode> {
    let mut store = write(&st.store);
    let o = object_index(&store, param(&p, "object"))?;
    let id = record_id(&store, o, param(&p, "id"))?;
    store.delete(o, &id, &session.user_id)?;
    Ok(StatusCode::NO_CONTENT)
}
