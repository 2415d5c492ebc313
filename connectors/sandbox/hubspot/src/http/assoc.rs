//! Associations v4 (single pair and batch) and the v3 association calls tasks and notes use.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::batch::{batch_response, check_size};
use super::extract::{JsonBody, Params, object_type, record_id};
use super::model::{IdRef, TypeInput};
use super::objects::{PathMap, param};
use super::render::{self, View};
use crate::assoc::{Node, TypeKey};
use crate::error::{ApiError, ApiResult};
use crate::events::ChangeSource;
use crate::objects::ObjectType;
use crate::state::Shared;
use crate::store::{Store, TypeSpec};
use crate::util::{now_ms, read, write};

const MAX_LIST: usize = 500;

fn node(store: &Store, t: ObjectType, raw: &str) -> ApiResult<Node> {
    let id = record_id(t, raw)?;
    store.get(t, id).map(|_| (t, id)).ok_or_else(|| ApiError::object_not_found(t, raw))
}

/// `{"toObjectId":n,"associationTypes":[…]}` for each associated record of one type.
fn targets(store: &Store, from: Node, to: ObjectType) -> Vec<Value> {
    store
        .graph
        .list(from, to)
        .into_iter()
        .map(|(id, keys)| json!({"toObjectId": id, "associationTypes": render::assoc_types(store, keys.iter().copied())}))
        .collect()
}

/// HubSpot's answer to a labelled association: the labels now between the pair.
fn labels_between(store: &Store, from: Node, to: Node) -> Value {
    let labels: Vec<String> = store
        .graph
        .types_between(from, to)
        .into_iter()
        .flatten()
        .filter_map(|k| store.assoc_types.get(*k).and_then(|d| d.label.clone()))
        .collect();
    json!({"fromObjectTypeId": from.0.type_id(), "fromObjectId": from.1, "toObjectTypeId": to.0.type_id(), "toObjectId": to.1, "labels": labels})
}

pub async fn list_v4(State(st): State<Shared>, Path(p): PathMap, params: Params) -> ApiResult<Json<Value>> {
    let (t, to) = (object_type(param(&p, "type"))?, object_type(param(&p, "to"))?);
    let id = record_id(t, param(&p, "id"))?;
    let limit = params
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(MAX_LIST)
        .clamp(1, MAX_LIST);
    let after = params.get("after").and_then(|a| a.parse::<u64>().ok()).unwrap_or(0);
    let store = read(&st.store);
    let mut all = targets(&store, (t, id), to)
        .into_iter()
        .filter(|v| v["toObjectId"].as_u64().is_some_and(|i| i >= after));
    let results: Vec<Value> = all.by_ref().take(limit).collect();
    let mut out = json!({"results": results});
    if let Some(next) = all.next() {
        out["paging"] = json!({"next": {"after": next["toObjectId"].to_string()}});
    }
    Ok(Json(out))
}

fn specs(types: &[TypeInput]) -> Vec<TypeSpec> {
    types.iter().map(TypeInput::spec).collect()
}

fn resolve(store: &Store, from: ObjectType, to: ObjectType, types: &[TypeSpec]) -> ApiResult<BTreeSet<TypeKey>> {
    if types.is_empty() {
        return Ok(BTreeSet::new());
    }
    Ok(store.resolve_types(from, Some(to), types)?.1)
}

/// PUT with labels: the labels sent replace the pair's labels.
pub async fn put_labels(State(st): State<Shared>, Path(p): PathMap, JsonBody(types): JsonBody<Vec<TypeInput>>) -> ApiResult<Response> {
    let (t, to) = (object_type(param(&p, "type"))?, object_type(param(&p, "to"))?);
    let mut store = write(&st.store);
    let (from, target) = (node(&store, t, param(&p, "id"))?, node(&store, to, param(&p, "to_id"))?);
    let keys = resolve(&store, t, to, &specs(&types))?;
    store.associate(from, target, &keys, true, ChangeSource::Api);
    Ok((StatusCode::CREATED, Json(labels_between(&store, from, target))).into_response())
}

fn default_result(store: &Store, from: Node, to: Node) -> Option<Value> {
    let d = store.assoc_types.default_for(from.0, to.0)?;
    Some(
        json!({"from": {"id": from.1.to_string()}, "to": {"id": to.1.to_string()}, "associationSpec": {"associationCategory": d.key.0, "associationTypeId": d.key.1}}),
    )
}

pub async fn put_default(State(st): State<Shared>, Path(p): PathMap) -> ApiResult<Response> {
    let started = now_ms();
    let (t, to) = (object_type(param(&p, "type"))?, object_type(param(&p, "to"))?);
    let mut store = write(&st.store);
    let (from, target) = (node(&store, t, param(&p, "id"))?, node(&store, to, param(&p, "to_id"))?);
    store.associate(from, target, &BTreeSet::new(), false, ChangeSource::Api);
    let results: Vec<Value> = default_result(&store, from, target).into_iter().collect();
    Ok(batch_response(StatusCode::OK, started, results, Vec::new()))
}

pub async fn delete_pair(State(st): State<Shared>, Path(p): PathMap) -> ApiResult<StatusCode> {
    let (t, to) = (object_type(param(&p, "type"))?, object_type(param(&p, "to"))?);
    let (id, to_id) = (record_id(t, param(&p, "id"))?, record_id(to, param(&p, "to_id"))?);
    write(&st.store).unassociate((t, id), (to, to_id), ChangeSource::Api);
    Ok(StatusCode::NO_CONTENT)
}

/// v3: `PUT /crm/v3/objects/tasks/{id}/associations/{toType}/{toId}/{typeId}` returns the record.
pub async fn put_v3(State(st): State<Shared>, Path(p): PathMap) -> ApiResult<Json<Value>> {
    let (t, to) = (object_type(param(&p, "type"))?, object_type(param(&p, "to"))?);
    let type_id = param(&p, "type_id")
        .parse::<u32>()
        .map_err(|_| ApiError::validation(format!("{} is not a valid association type", param(&p, "type_id"))))?;
    let mut store = write(&st.store);
    let (from, target) = (node(&store, t, param(&p, "id"))?, node(&store, to, param(&p, "to_id"))?);
    let keys = resolve(&store, t, to, &[(None, type_id)])?;
    store.associate(from, target, &keys, false, ChangeSource::Api);
    let rec = store.get(t, from.1).ok_or_else(|| ApiError::object_not_found(t, param(&p, "id")))?;
    Ok(Json(render::record(
        &store,
        t,
        rec,
        &View {
            associations: vec![to],
            ..View::default()
        },
    )))
}

pub async fn delete_v3(State(st): State<Shared>, Path(p): PathMap) -> ApiResult<StatusCode> {
    let (t, to) = (object_type(param(&p, "type"))?, object_type(param(&p, "to"))?);
    let (id, to_id) = (record_id(t, param(&p, "id"))?, record_id(to, param(&p, "to_id"))?);
    let type_id = param(&p, "type_id")
        .parse::<u32>()
        .map_err(|_| ApiError::validation("invalid association type"))?;
    let mut store = write(&st.store);
    let keys = resolve(&store, t, to, &[(None, type_id)])?;
    store.remove_labels((t, id), (to, to_id), &keys, ChangeSource::Api);
    Ok(StatusCode::NO_CONTENT)
}

/// v3 list: `{"results":[{"id":"…","type":"deal_to_contact"}]}`.
pub async fn list_v3(State(st): State<Shared>, Path(p): PathMap) -> ApiResult<Json<Value>> {
    let (t, to) = (object_type(param(&p, "type"))?, object_type(param(&p, "to"))?);
    let id = record_id(t, param(&p, "id"))?;
    let store = read(&st.store);
    let rec = store.get(t, id).ok_or_else(|| ApiError::object_not_found(t, param(&p, "id")))?;
    let v = render::record(
        &store,
        t,
        rec,
        &View {
            associations: vec![to],
            properties: Some(Vec::new()),
            ..View::default()
        },
    );
    let results = v["associations"][to.plural()]["results"].clone();
    Ok(Json(json!({"results": if results.is_null() { json!([]) } else { results }})))
}

#[derive(Debug, Deserialize)]
pub struct PairInput {
    from: IdRef,
    to: IdRef,
    #[serde(default)]
    types: Vec<TypeInput>,
}

#[derive(Debug, Deserialize)]
pub struct Batch<T> {
    inputs: Vec<T>,
}

fn pair_types(p: &PathMap) -> ApiResult<(ObjectType, ObjectType)> {
    Ok((object_type(param(p, "from"))?, object_type(param(p, "to"))?))
}

pub async fn batch_read(State(st): State<Shared>, p: PathMap, JsonBody(b): JsonBody<Batch<IdRef>>) -> ApiResult<Response> {
    let started = now_ms();
    let (from, to) = pair_types(&p)?;
    check_size(b.inputs.len())?;
    let store = read(&st.store);
    let (mut results, mut errors) = (Vec::new(), Vec::new());
    for i in &b.inputs {
        let raw = i.id.text();
        let found = i.id.parse().map(|id| targets(&store, (from, id), to)).unwrap_or_default();
        if found.is_empty() {
            errors.push(json!({
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                "message": format!("No {} is associated with {} {raw}.", to.singular(), from.singular()),
                "context": {"fromObjectId": [raw]},
            }));
        } else {
            results.push(json!({"from": {"id": raw}, "to": found}));
        }
    }
    Ok(batch_response(StatusCode::OK, started, results, errors))
}

fn pair_nodes(store: &Store, from: ObjectType, to: ObjectType, i: &PairInput) -> ApiResult<(Node, Node)> {
    Ok((node(store, from, &i.from.id.text())?, node(store, to, &i.to.id.text())?))
}

pub async fn batch_create(State(st): State<Shared>, p: PathMap, JsonBody(b): JsonBody<Batch<PairInput>>) -> ApiResult<Response> {
    let started = now_ms();
    let (from, to) = pair_types(&p)?;
    check_size(b.inputs.len())?;
    let mut store = write(&st.store);
    let (mut results, mut errors) = (Vec::new(), Vec::new());
    for i in &b.inputs {
        let done = pair_nodes(&store, from, to, i).and_then(|(f, t)| Ok((f, t, resolve(&store, from, to, &specs(&i.types))?)));
        match done {
            Ok((f, t, keys)) => {
                store.associate(f, t, &keys, false, ChangeSource::Api);
                results.push(labels_between(&store, f, t));
            }
            Err(e) => errors.push(e.body()),
        }
    }
    Ok(batch_response(StatusCode::CREATED, started, results, errors))
}

pub async fn batch_default(State(st): State<Shared>, p: PathMap, JsonBody(b): JsonBody<Batch<PairInput>>) -> ApiResult<Response> {
    let started = now_ms();
    let (from, to) = pair_types(&p)?;
    check_size(b.inputs.len())?;
    let mut store = write(&st.store);
    let (mut results, mut errors) = (Vec::new(), Vec::new());
    for i in &b.inputs {
        match pair_nodes(&store, from, to, i) {
            Ok((f, t)) => {
                store.associate(f, t, &BTreeSet::new(), false, ChangeSource::Api);
                results.extend(default_result(&store, f, t));
            }
            Err(e) => errors.push(e.body()),
        }
    }
    Ok(batch_response(StatusCode::OK, started, results, errors))
}

#[derive(Debug, Deserialize)]
pub struct ArchiveInput {
    from: IdRef,
    to: Vec<IdRef>,
}

pub async fn batch_archive(State(st): State<Shared>, p: PathMap, JsonBody(b): JsonBody<Batch<ArchiveInput>>) -> ApiResult<StatusCode> {
    let (from, to) = pair_types(&p)?;
    check_size(b.inputs.len())?;
    let mut store = write(&st.store);
    for i in &b.inputs {
        let Some(f) = i.from.id.parse() else { continue };
        for t in i.to.iter().filter_map(|t| t.id.parse()) {
            store.unassociate((from, f), (to, t), ChangeSource::Api);
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn batch_archive_labels(State(st): State<Shared>, p: PathMap, JsonBody(b): JsonBody<Batch<PairInput>>) -> ApiResult<StatusCode> {
    let (from, to) = pair_types(&p)?;
    check_size(b.inputs.len())?;
    let mut store = write(&st.store);
    for i in &b.inputs {
        let (Some(f), Some(t)) = (i.from.id.parse(), i.to.id.parse()) else {
            continue;
        };
        let keys = resolve(&store, from, to, &specs(&i.types))?;
        store.remove_labels((from, f), (to, t), &keys, ChangeSource::Api);
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn labels(State(st): State<Shared>, p: PathMap) -> ApiResult<Json<Value>> {
    let (from, to) = pair_types(&p)?;
    let store = read(&st.store);
    let results: Vec<Value> = store
        .assoc_types
        .between(from, to)
        .into_iter()
        .map(|d| json!({"category": d.key.0, "typeId": d.key.1, "label": d.label}))
        .collect();
    Ok(Json(json!({"results": results})))
}
