//! Batch endpoints: read, create, update, archive (at most 100 inputs each).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{JsonBody, Params, object_type};
use super::model::{IdRef, ObjectInput};
use super::objects::{PathMap, lookup, param, written_names};
use super::render::{self, View};
use crate::error::{ApiError, ApiResult};
use crate::events::ChangeSource;
use crate::objects::ObjectType;
use crate::state::Shared;
use crate::util::{iso_ms, now_ms, read, write};

pub const MAX_INPUTS: usize = 100;

pub fn check_size(n: usize) -> ApiResult<()> {
    if n > MAX_INPUTS {
        return Err(ApiError::Validation {
            message: format!("Batch input size of {n} exceeds the limit of {MAX_INPUTS} inputs per request"),
            errors: vec![json!({"message": format!("size must be between 1 and {MAX_INPUTS}"), "in": "inputs", "code": "TOO_MANY_INPUTS"})],
        });
    }
    Ok(())
}

/// `{"status":"COMPLETE","results":…}`, or 207 with `numErrors` and `errors` when some inputs failed.
pub fn batch_response(ok: StatusCode, started: i64, results: Vec<Value>, errors: Vec<Value>) -> Response {
    let mut body = json!({"status": "COMPLETE", "results": results, "startedAt": iso_ms(started), "completedAt": iso_ms(now_ms())});
    if errors.is_empty() {
        return (ok, Json(body)).into_response();
    }
    body["numErrors"] = json!(errors.len());
    body["errors"] = Value::Array(errors);
    (StatusCode::MULTI_STATUS, Json(body)).into_response()
}

fn not_found_error(t: ObjectType, ids: Vec<String>) -> Value {
    json!({
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": format!("Could not get some {} objects, they may be deleted or not exist. Check that ids are valid.", t.upper()),
        "context": {"ids": ids},
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadInput {
    #[serde(default)]
    properties: Vec<String>,
    #[serde(default)]
    properties_with_history: Vec<String>,
    #[serde(default)]
    id_property: Option<String>,
    inputs: Vec<IdRef>,
}

pub async fn read_batch(
    State(st): State<Shared>,
    Path(p): PathMap,
    params: Params,
    JsonBody(input): JsonBody<ReadInput>,
) -> ApiResult<Response> {
    let started = now_ms();
    let t = object_type(param(&p, "type"))?;
    check_size(input.inputs.len())?;
    let view = View {
        properties: (!input.properties.is_empty()).then_some(input.properties),
        with_history: input.properties_with_history,
        associations: Vec::new(),
    };
    let archived = params.flag("archived");
    let store = read(&st.store);
    let (mut results, mut missing) = (Vec::new(), Vec::new());
    for i in &input.inputs {
        let raw = i.id.text();
        match lookup(&store, t, &raw, input.id_property.as_deref(), archived)
            .ok()
            .and_then(|id| store.table(t).records.get(&id))
        {
            Some(rec) => results.push(render::record(&store, t, rec, &view)),
            None => missing.push(raw),
        }
    }
    let errors = if missing.is_empty() {
        Vec::new()
    } else {
        vec![not_found_error(t, missing)]
    };
    Ok(batch_response(StatusCode::OK, started, results, errors))
}

#[derive(Debug, Deserialize)]
pub struct Inputs {
    inputs: Vec<ObjectInput>,
}

/// All-or-nothing unless every input carries an `objectWriteTraceId`; then failed inputs
/// are reported by trace id and the rest are created (207).
pub async fn create_batch(State(st): State<Shared>, Path(p): PathMap, JsonBody(body): JsonBody<Inputs>) -> ApiResult<Response> {
    let started = now_ms();
    let t = object_type(param(&p, "type"))?;
    check_size(body.inputs.len())?;
    let traced = !body.inputs.is_empty() && body.inputs.iter().all(|i| i.object_write_trace_id.is_some());
    let mut store = write(&st.store);
    let (mut results, mut errors) = (Vec::new(), Vec::new());
    let mut plan = Vec::new();
    for input in &body.inputs {
        let checked = input
            .associations
            .iter()
            .map(|a| a.inline())
            .collect::<ApiResult<Vec<_>>>()
            .and_then(|assocs| {
                store
                    .check_create(t, &input.properties, &assocs)
                    .map(|()| assocs)
                    .map_err(ApiError::from)
            });
        match (checked, traced) {
            (Ok(assocs), _) => plan.push((input, assocs)),
            (Err(e), false) => return Err(e),
            (Err(e), true) => {
                let mut err = e.body();
                err["context"] = json!({"objectWriteTraceId": [input.object_write_trace_id]});
                errors.push(err);
            }
        }
    }
    for (input, assocs) in plan {
        let id = store.create(t, &input.properties, &assocs, ChangeSource::Api)?;
        if let Some(rec) = store.get(t, id) {
            let view = View {
                properties: Some(written_names(t, input)),
                ..View::default()
            };
            let mut v = render::record(&store, t, rec, &view);
            if let Some(trace) = &input.object_write_trace_id {
                v["objectWriteTraceId"] = json!(trace);
            }
            results.push(v);
        }
    }
    Ok(batch_response(StatusCode::CREATED, started, results, errors))
}

/// Property errors reject the whole batch; unknown ids are reported (207) and the rest updated.
pub async fn update_batch(State(st): State<Shared>, Path(p): PathMap, JsonBody(body): JsonBody<Inputs>) -> ApiResult<Response> {
    let started = now_ms();
    let t = object_type(param(&p, "type"))?;
    check_size(body.inputs.len())?;
    let mut store = write(&st.store);
    for input in &body.inputs {
        crate::store::validate::normalize(&store.catalog, t, &input.properties).map_err(|e| ApiError::invalid_properties(&e))?;
    }
    let (mut results, mut missing) = (Vec::new(), Vec::new());
    for input in &body.inputs {
        let raw = input.id.as_ref().map(|i| i.text()).unwrap_or_default();
        let Some(id) = raw.parse::<u64>().ok().filter(|id| store.get(t, *id).is_some()) else {
            missing.push(raw);
            continue;
        };
        store.update(t, id, &input.properties, ChangeSource::Api)?;
        if let Some(rec) = store.get(t, id) {
            let view = View {
                properties: Some(written_names(t, input)),
                ..View::default()
            };
            results.push(render::record(&store, t, rec, &view));
        }
    }
    let errors = if missing.is_empty() {
        Vec::new()
    } else {
        vec![not_found_error(t, missing)]
    };
    Ok(batch_response(StatusCode::OK, started, results, errors))
}

#[derive(Debug, Deserialize)]
pub struct IdInputs {
    inputs: Vec<IdRef>,
}

pub async fn archive_batch(State(st): State<Shared>, Path(p): PathMap, JsonBody(body): JsonBody<IdInputs>) -> ApiResult<StatusCode> {
    let t = object_type(param(&p, "type"))?;
    check_size(body.inputs.len())?;
    let mut store = write(&st.store);
    for id in body.inputs.iter().filter_map(|i| i.id.parse()) {
        if store.get(t, id).is_some() {
            store.archive(t, id, ChangeSource::Api)?;
        }
    }
    Ok(StatusCode::NO_CONTENT)
}
