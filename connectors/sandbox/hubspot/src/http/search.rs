//! `POST /crm/v3/objects/{type}/search`: request checks and limits from HubSpot's CRM search guide.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::object_type;
use super::objects::{PathMap, param};
use super::render::{self, View};
use crate::catalog::PropKind;
use crate::error::{ApiError, ApiResult};
use crate::objects::ObjectType;
use crate::search::{self, Compiled, FilterGroup, Operator, Query, key_of, text_of};
use crate::state::Shared;
use crate::store::Store;
use crate::util::read;

pub const MAX_LIMIT: usize = 200;
pub const MAX_RESULTS: usize = 10_000;
const MAX_BODY: usize = 3_000;
const MAX_GROUPS: usize = 5;
const MAX_FILTERS_PER_GROUP: usize = 6;
const MAX_FILTERS: usize = 18;

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SortInput {
    Object {
        #[serde(rename = "propertyName")]
        property_name: String,
        #[serde(default)]
        direction: Option<String>,
    },
    /// The older form: `"createdate"` or `"-createdate"`.
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchBody {
    #[serde(default)]
    filter_groups: Vec<FilterGroup>,
    #[serde(default)]
    sorts: Vec<SortInput>,
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    properties: Vec<String>,
    #[serde(default)]
    limit: Option<Value>,
    #[serde(default)]
    after: Option<Value>,
}

pub async fn search(State(st): State<Shared>, Path(p): PathMap, body: Bytes) -> ApiResult<Json<Value>> {
    let t = object_type(param(&p, "type"))?;
    if body.len() > MAX_BODY {
        return Err(ApiError::validation(format!(
            "The request body must be at most {MAX_BODY} characters long, got {}",
            body.len()
        )));
    }
    let req: SearchBody = serde_json::from_slice(&body).map_err(|e| ApiError::malformed_json(&e))?;
    let limit = number(req.limit.as_ref(), "limit")?.unwrap_or(10);
    if limit > MAX_LIMIT {
        return Err(ApiError::validation(format!("limit must be at most {MAX_LIMIT}, got {limit}")));
    }
    let offset = number(req.after.as_ref(), "after")?.unwrap_or(0);
    if offset >= MAX_RESULTS {
        return Err(ApiError::validation(format!(
            "Search results are limited to {MAX_RESULTS}; 'after' must be less than {MAX_RESULTS}, got {offset}"
        )));
    }
    let store = read(&st.store);
    let query = compile(&store, t, &req)?;
    let (total, ids) = search::run(&store, &query, offset, limit.min(MAX_RESULTS - offset));
    let view = View {
        properties: (!req.properties.is_empty()).then_some(req.properties),
        ..View::default()
    };
    let results: Vec<Value> = ids
        .iter()
        .filter_map(|id| store.get(t, *id))
        .map(|r| render::record(&store, t, r, &view))
        .collect();
    let mut out = json!({"total": total, "results": results});
    let next = offset + ids.len();
    if !ids.is_empty() && next < total {
        out["paging"] = json!({"next": {"after": next.to_string()}});
    }
    Ok(Json(out))
}

/// `limit` and `after` arrive as numbers or numeric strings.
fn number(v: Option<&Value>, name: &str) -> ApiResult<Option<usize>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let text = text_of(v);
            if text.is_empty() {
                return Ok(None);
            }
            text.parse::<usize>()
                .map(Some)
                .map_err(|_| ApiError::validation(format!("{name}: {text} is not a valid number")))
        }
    }
}

fn compile(store: &Store, t: ObjectType, req: &SearchBody) -> ApiResult<Query> {
    let n_filters: usize = req.filter_groups.iter().map(|g| g.filters.len()).sum();
    if req.filter_groups.len() > MAX_GROUPS
        || req.filter_groups.iter().any(|g| g.filters.len() > MAX_FILTERS_PER_GROUP)
        || n_filters > MAX_FILTERS
    {
        return Err(ApiError::validation(format!(
            "Too many filters: at most {MAX_GROUPS} filterGroups with {MAX_FILTERS_PER_GROUP} filters each and {MAX_FILTERS} in total are allowed"
        )));
    }
    if req.sorts.len() > 1 {
        return Err(ApiError::validation("Only one sort is allowed"));
    }
    let groups = req
        .filter_groups
        .iter()
        .map(|g| g.filters.iter().map(|f| compile_filter(store, t, f)).collect::<ApiResult<Vec<_>>>())
        .collect::<ApiResult<Vec<_>>>()?;
    let sort = match req.sorts.first() {
        None => None,
        Some(s) => {
            let (name, desc) = match s {
                SortInput::Object { property_name, direction } => (
                    property_name.clone(),
                    direction.as_deref().is_some_and(|d| d.eq_ignore_ascii_case("DESCENDING")),
                ),
                SortInput::Text(t) => t.strip_prefix('-').map_or((t.clone(), false), |n| (n.to_string(), true)),
            };
            Some((name.clone(), kind(store, t, &name)?, desc))
        }
    };
    let text = req
        .query
        .as_ref()
        .map(|q| q.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>())
        .filter(|w| !w.is_empty());
    Ok(Query {
        object: t,
        groups,
        sort,
        text,
    })
}

fn kind(store: &Store, t: ObjectType, name: &str) -> ApiResult<PropKind> {
    store
        .catalog
        .get(t, name)
        .map(|d| d.kind)
        .ok_or_else(|| ApiError::validation(format!("Property \"{name}\" does not exist on {}", t.plural())))
}

fn compile_filter(store: &Store, t: ObjectType, f: &search::Filter) -> ApiResult<Compiled> {
    let mut raw: Vec<String> = Vec::new();
    raw.extend(f.value.iter().map(text_of));
    raw.extend(f.high_value.iter().map(text_of));
    raw.extend(f.values.iter().flatten().map(text_of));
    if let Some(assoc) = f.property_name.strip_prefix("associations.") {
        let to = ObjectType::parse(assoc).ok_or_else(|| ApiError::validation(format!("Unknown association filter {}", f.property_name)))?;
        return Ok(Compiled {
            property: f.property_name.clone(),
            kind: PropKind::Number,
            op: f.operator,
            operands: Vec::new(),
            association: Some(to),
            raw,
        });
    }
    let kind = kind(store, t, &f.property_name)?;
    let needs = match f.operator {
        Operator::HasProperty | Operator::NotHasProperty => 0,
        Operator::Between => 2,
        _ => 1,
    };
    if raw.len() < needs {
        return Err(ApiError::validation(format!(
            "Filter on {} with operator {:?} needs a value",
            f.property_name, f.operator
        )));
    }
    let operands = raw
        .iter()
        .map(|r| key_of(kind, r).ok_or_else(|| ApiError::validation(format!("{r} is not a valid value for {}", f.property_name))))
        .collect::<ApiResult<Vec<_>>>();
    // Token operators compare raw text; the others need typed operands.
    let operands = if matches!(f.operator, Operator::ContainsToken | Operator::NotContainsToken) {
        Vec::new()
    } else {
        operands?
    };
    Ok(Compiled {
        property: f.property_name.clone(),
        kind,
        op: f.operator,
        operands,
        association: None,
        raw,
    })
}
