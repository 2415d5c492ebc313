//! Single-record endpoints: list, get, create, update, archive.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::extract::{JsonBody, Params, object_type, record_id};
use super::model::ObjectInput;
use super::render::{self, View};
use crate::error::{ApiError, ApiResult};
use crate::events::ChangeSource;
use crate::objects::ObjectType;
use crate::state::Shared;
use crate::store::Store;
use crate::util::{read, write};

pub type PathMap = Path<HashMap<String, String>>;

pub fn param<'a>(p: &'a HashMap<String, String>, name: &str) -> &'a str {
    p.get(name).map(String::as_str).unwrap_or("")
}

/// Reads `properties`, `propertiesWithHistory` and `associations` query parameters.
pub fn view_from(params: &Params) -> View {
    View {
        properties: params.list("properties"),
        with_history: params.list("propertiesWithHistory").unwrap_or_default(),
        associations: params
            .list("associations")
            .unwrap_or_default()
            .iter()
            .filter_map(|s| ObjectType::parse(s))
            .collect(),
    }
}

fn limit_param(params: &Params, default: usize, max: usize) -> ApiResult<usize> {
    match params.get("limit") {
        None => Ok(default),
        Some(s) => s
            .trim()
            .parse::<usize>()
            .map(|n| n.clamp(1, max))
            .map_err(|_| ApiError::validation(format!("limit: {s} is not a number"))),
    }
}

pub async fn list(State(st): State<Shared>, Path(p): PathMap, params: Params, OriginalUri(uri): OriginalUri) -> ApiResult<Json<Value>> {
    let t = object_type(param(&p, "type"))?;
    // The list limit's maximum of 100 is unconfirmed [U]; larger values are clamped, not refused.
    let limit = limit_param(&params, 10, 100)?;
    let after = match params.get("after") {
        None | Some("") => 0,
        Some(s) => s
            .parse::<u64>()
            .map_err(|_| ApiError::validation(format!("after: {s} is not a valid paging cursor")))?,
    };
    let archived = params.flag("archived");
    let view = view_from(&params);
    let store = read(&st.store);
    let mut rows = store
        .table(t)
        .records
        .range(after..)
        .map(|(_, r)| r)
        .filter(|r| r.is_archived() == archived);
    let results: Vec<Value> = rows.by_ref().take(limit).map(|r| render::record(&store, t, r, &view)).collect();
    let mut body = json!({ "results": results });
    if let Some(next) = rows.next() {
        let after = next.id.to_string();
        body["paging"] = json!({"next": {"after": after, "link": format!("{}?after={after}", uri.path())}});
    }
    Ok(Json(body))
}

/// Finds a record by id or by a unique property (`idProperty`).
pub fn lookup(store: &Store, t: ObjectType, raw: &str, id_property: Option<&str>, archived: bool) -> ApiResult<u64> {
    let found = match id_property {
        Some(prop) if prop != "hs_object_id" => store
            .table(t)
            .records
            .values()
            .find(|r| r.is_archived() == archived && r.props.get(prop).is_some_and(|v| v.eq_ignore_ascii_case(raw)))
            .map(|r| r.id),
        _ => {
            let id = record_id(t, raw)?;
            store
                .table(t)
                .records
                .get(&id)
                .filter(|r| r.is_archived() == archived)
                .map(|r| r.id)
        }
    };
    found.ok_or_else(|| ApiError::object_not_found(t, raw))
}

pub async fn get(State(st): State<Shared>, Path(p): PathMap, params: Params) -> ApiResult<Json<Value>> {
    let t = object_type(param(&p, "type"))?;
    let store = read(&st.store);
    let id = lookup(&store, t, param(&p, "id"), params.get("idProperty"), params.flag("archived"))?;
    let rec = store
        .table(t)
        .records
        .get(&id)
        .ok_or_else(|| ApiError::object_not_found(t, param(&p, "id")))?;
    Ok(Json(render::record(&store, t, rec, &view_from(&params))))
}

pub async fn create(State(st): State<Shared>, Path(p): PathMap, JsonBody(input): JsonBody<ObjectInput>) -> ApiResult<Response> {
    let t = object_type(param(&p, "type"))?;
    let assocs = input.associations.iter().map(|a| a.inline()).collect::<ApiResult<Vec<_>>>()?;
    let mut store = write(&st.store);
    let id = store.create(t, &input.properties, &assocs, ChangeSource::Api)?;
    let rec = store.get(t, id).ok_or_else(|| ApiError::object_not_found(t, &id.to_string()))?;
    let view = View {
        properties: Some(written_names(t, &input)),
        ..View::default()
    };
    Ok((StatusCode::CREATED, Json(render::record(&store, t, rec, &view))).into_response())
}

/// HubSpot echoes the written properties plus the computed basics.
pub fn written_names(t: ObjectType, input: &ObjectInput) -> Vec<String> {
    let mut names: Vec<String> = input.properties.keys().cloned().collect();
    for n in ["hs_object_id", t.created_property(), t.modified_property()] {
        names.push(n.to_string());
    }
    if t == ObjectType::Deals {
        names.extend(["pipeline".to_string(), "dealstage".to_string()]);
    }
    names.sort();
    names.dedup();
    names
}

pub async fn update(
    State(st): State<Shared>,
    Path(p): PathMap,
    params: Params,
    JsonBody(input): JsonBody<ObjectInput>,
) -> ApiResult<Json<Value>> {
    let t = object_type(param(&p, "type"))?;
    let mut store = write(&st.store);
    let id = lookup(&store, t, param(&p, "id"), params.get("idProperty"), false)?;
    store.update(t, id, &input.properties, ChangeSource::Api)?;
    let rec = store.get(t, id).ok_or_else(|| ApiError::object_not_found(t, &id.to_string()))?;
    let view = View {
        properties: Some(written_names(t, &input)),
        ..View::default()
    };
    Ok(Json(render::record(&store, t, rec, &view)))
}

/// Archiving is idempotent: an id that is already gone still gets 204.
pub async fn archive(State(st): State<Shared>, Path(p): PathMap) -> ApiResult<StatusCode> {
    let t = object_type(param(&p, "type"))?;
    let id = record_id(t, param(&p, "id"))?;
    let mut store = write(&st.store);
    if store.get(t, id).is_some() {
        store.archive(t, id, ChangeSource::Api)?;
    }
    Ok(StatusCode::NO_CONTENT)
}
