//! `query` and `queryAll` (REST API Developer Guide, "Query"): SOQL with `nextRecordsUrl` paging.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;

use crate::cursors::Cursor;
use crate::error::{ApiError, ApiResult};
use crate::render::{Node, leaf, query_record};
use crate::soql::compile;
use crate::state::Shared;
use crate::store::Store;
use crate::util::read;

pub const DEFAULT_BATCH: usize = 2_000;
pub const MIN_BATCH: usize = 200;

type Params = Path<HashMap<String, String>>;

/// `Sforce-Query-Options: batchSize=N`, clamped to 200..=2000 as Salesforce does.
fn batch_size(headers: &HeaderMap) -> usize {
    headers
        .get("sforce-query-options")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split([',', ';'])
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("batchSize"))
                .and_then(|(_, n)| n.trim().parse::<usize>().ok())
        })
        .map_or(DEFAULT_BATCH, |n| n.clamp(MIN_BATCH, DEFAULT_BATCH))
}

pub async fn query(
    State(st): State<Shared>,
    Path(p): Params,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult<Json<Node>> {
    run(&st, &p, &q, &headers, false)
}

pub async fn query_all(
    State(st): State<Shared>,
    Path(p): Params,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult<Json<Node>> {
    run(&st, &p, &q, &headers, true)
}

fn run(st: &Shared, p: &HashMap<String, String>, q: &HashMap<String, String>, headers: &HeaderMap, all: bool) -> ApiResult<Json<Node>> {
    let version = p.get("version").map(String::as_str).unwrap_or("v62.0");
    let Some(soql) = q.get("q").filter(|s| !s.trim().is_empty()) else {
        return Err(ApiError::new(400, "MALFORMED_QUERY", "A query string has to be specified"));
    };
    let store = read(&st.store);
    let compiled = compile(soql, &store, all)?;
    let ids = compiled.run(&store);
    if compiled.count {
        return Ok(Json(Node::Obj(vec![
            ("totalSize".into(), leaf(ids.len())),
            ("done".into(), leaf(true)),
            ("records".into(), Node::List(Vec::new())),
        ])));
    }
    let cursor = Cursor {
        query: Arc::new(compiled),
        ids: Arc::new(ids),
        batch: batch_size(headers),
    };
    Ok(Json(page(st, &store, version, &cursor, None, 0, all)))
}

/// One page of a cursor from `offset`; opens the cursor when more pages follow.
fn page(st: &Shared, store: &Store, version: &str, c: &Cursor, locator: Option<&str>, offset: usize, all: bool) -> Node {
    let end = (offset + c.batch).min(c.ids.len());
    let records = c.ids[offset.min(end)..end]
        .iter()
        .filter_map(|id| store.by_id(id))
        .map(|(_, r)| query_record(store, &c.query, r, version))
        .collect();
    let mut out = vec![("totalSize".into(), leaf(c.ids.len())), ("done".into(), leaf(end >= c.ids.len()))];
    if end < c.ids.len() {
        let locator = locator.map_or_else(|| st.cursors.open(c.clone()), str::to_string);
        let resource = if all { "queryAll" } else { "query" };
        out.push((
            "nextRecordsUrl".into(),
            leaf(format!("/services/data/{version}/{resource}/{locator}-{end}")),
        ));
    }
    out.push(("records".into(), Node::List(records)));
    Node::Obj(out)
}

/// `GET …/query/{locator}-{offset}`: the next page of an open cursor.
pub async fn more(State(st): State<Shared>, Path(p): Params) -> ApiResult<Json<Node>> {
    let version = p.get("version").map(String::as_str).unwrap_or("v62.0");
    let raw = p.get("locator").map(String::as_str).unwrap_or("");
    let invalid = || ApiError::new(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
    let (locator, offset) = raw.rsplit_once('-').ok_or_else(invalid)?;
    let offset: usize = offset.parse().map_err(|_| invalid())?;
    let cursor = st.cursors.get(locator).ok_or_else(invalid)?;
    if offset > cursor.ids.len() {
        return Err(invalid());
    }
    let store = read(&st.store);
    let all = cursor.query.all;
    Ok(Json(page(&st, &store, version, &cursor, Some(locator), offset, all)))
}
