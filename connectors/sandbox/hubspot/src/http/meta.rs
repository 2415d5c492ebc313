//! Catalog-like endpoints: properties, deal pipelines, owners and API usage.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::extract::object_type;
use super::objects::{PathMap, param};
use crate::catalog::{DEAL_STAGES, PropertyDef};
use crate::error::{ApiError, ApiResult};
use crate::objects::ObjectType;
use crate::owners::Owner;
use crate::state::Shared;
use crate::util::{iso_ms, read};

/// Seeded definitions carry no dates; a fixed one keeps responses stable.
const EPOCH_MS: i64 = 1_704_067_200_000;

fn property_json(d: &PropertyDef, owners: &[Owner]) -> Value {
    let mut options: Vec<Value> = d
        .options
        .iter()
        .zip(0..)
        .map(|(o, i)| json!({"label": o.label, "value": o.value, "displayOrder": i, "hidden": false}))
        .collect();
    if d.name == "hubspot_owner_id" {
        options = owners
            .iter()
            .zip(0..)
            .map(|(o, i)| json!({"label": format!("{} {}", o.first_name, o.last_name), "value": o.id, "displayOrder": i, "hidden": false}))
            .collect();
    }
    json!({
        "name": d.name,
        "label": d.label,
        "type": d.kind,
        "fieldType": d.field_type.clone().unwrap_or_else(|| d.kind.default_field_type().to_string()),
        "description": d.description,
        "groupName": d.group_name.clone().unwrap_or_else(|| format!("{}information", d.object.singular())),
        "options": options,
        "displayOrder": -1,
        "calculated": d.read_only,
        "externalOptions": d.name == "hubspot_owner_id",
        "hasUniqueValue": false,
        "hidden": false,
        "hubspotDefined": d.hubspot_defined,
        "modificationMetadata": {"archivable": !d.hubspot_defined, "readOnlyDefinition": d.hubspot_defined, "readOnlyValue": d.read_only},
        "formField": !d.read_only,
        "createdAt": iso_ms(EPOCH_MS),
        "updatedAt": iso_ms(EPOCH_MS),
        "archived": false,
    })
}

pub async fn properties(State(st): State<Shared>, Path(p): PathMap) -> ApiResult<Json<Value>> {
    let t = object_type(param(&p, "type"))?;
    let store = read(&st.store);
    let results: Vec<Value> = store.catalog.all(t).iter().map(|d| property_json(d, &store.owners)).collect();
    Ok(Json(json!({"results": results})))
}

pub async fn property(State(st): State<Shared>, Path(p): PathMap) -> ApiResult<Json<Value>> {
    let t = object_type(param(&p, "type"))?;
    let name = param(&p, "name");
    let store = read(&st.store);
    let d = store
        .catalog
        .get(t, name)
        .ok_or_else(|| ApiError::NotFound(format!("Unable to find property {name} for object type {}", t.type_id())))?;
    Ok(Json(property_json(d, &store.owners)))
}

fn default_pipeline() -> Value {
    let stages: Vec<Value> = DEAL_STAGES
        .iter()
        .zip(0..)
        .map(|((id, label, prob, closed), i)| {
            json!({"id": id, "label": label, "displayOrder": i, "metadata": {"isClosed": closed.to_string(), "probability": prob},
                   "createdAt": iso_ms(EPOCH_MS), "updatedAt": iso_ms(EPOCH_MS), "archived": false})
        })
        .collect();
    json!({"id": "default", "label": "Sales Pipeline", "displayOrder": 0, "stages": stages, "createdAt": iso_ms(EPOCH_MS), "updatedAt": iso_ms(EPOCH_MS), "archived": false})
}

pub async fn pipelines(Path(p): PathMap) -> ApiResult<Json<Value>> {
    let t = object_type(param(&p, "type"))?;
    let results = if t == ObjectType::Deals {
        vec![default_pipeline()]
    } else {
        Vec::new()
    };
    Ok(Json(json!({"results": results})))
}

pub async fn pipeline(Path(p): PathMap) -> ApiResult<Json<Value>> {
    let t = object_type(param(&p, "type"))?;
    if t != ObjectType::Deals || param(&p, "pipeline_id") != "default" {
        return Err(ApiError::NotFound(format!("Unable to find pipeline {}", param(&p, "pipeline_id"))));
    }
    Ok(Json(default_pipeline()))
}

/// `GET /account-info/v3/api-usage/daily/private-apps`.
pub async fn usage(State(st): State<Shared>, principal: Option<axum::Extension<crate::auth::Principal>>) -> Json<Value> {
    let key = principal.map(|p| p.0.limit_key()).unwrap_or_default();
    let (used, limit) = st.limiter.daily_usage(&key);
    let now = crate::util::now_ms();
    let resets = (now.div_euclid(86_400_000) + 1) * 86_400_000;
    Json(json!({"results": [{
        "name": "private-apps-api-calls-daily",
        "usageLimit": limit,
        "currentUsage": used,
        "collectedAt": iso_ms(now),
        "fetchStatus": "SUCCESS",
        "resetsAt": iso_ms(resets),
    }]}))
}

fn owner_json(o: &Owner) -> Value {
    json!({"id": o.id, "email": o.email, "firstName": o.first_name, "lastName": o.last_name, "userId": o.user_id,
           "createdAt": iso_ms(EPOCH_MS), "updatedAt": iso_ms(EPOCH_MS), "archived": o.archived, "teams": []})
}

pub async fn owners(State(st): State<Shared>) -> Json<Value> {
    let store = read(&st.store);
    let results: Vec<Value> = store.owners.iter().filter(|o| !o.archived).map(owner_json).collect();
    Json(json!({"results": results}))
}

pub async fn owner(State(st): State<Shared>, Path(p): PathMap) -> ApiResult<Json<Value>> {
    let store = read(&st.store);
    let id = param(&p, "owner_id");
    let o = store
        .owners
        .iter()
        .find(|o| o.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("Owner {id} not found")))?;
    Ok(Json(owner_json(o)))
}
