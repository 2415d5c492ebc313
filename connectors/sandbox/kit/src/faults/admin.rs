//! `/__sandbox/faults`: the switchboard over HTTP, so that another process (a soak harness, a
//! test driving a separate simulator) can turn faults on and off while the simulator runs.
//! Bodies are JSON; errors are `{"error": "..."}` with 400 or 404. These routes are outside
//! the simulated CRM: they are neither logged nor subject to faults.
//!
//! - `GET /__sandbox/faults` → `{"rules": [rule + "fired", …]}` in the order they are tried.
//! - `PUT /__sandbox/faults` with `{"rules": [rule, …]}` replaces every rule → 200, the new list.
//! - `POST /__sandbox/faults` with one rule adds it (or replaces the one with its id) → 201, the rule.
//! - `DELETE /__sandbox/faults` → 204: no faults at all (token revocations and expiry too).
//! - `GET`, `PUT` (one rule, its id from the path) and `DELETE /__sandbox/faults/{id}`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{Rule, RuleState, Switchboard};

/// Where the switchboard is served.
pub const FAULTS_PATH: &str = "/__sandbox/faults";

/// The admin routes, bound to `board`; merge them into a simulator's router.
pub fn router(board: Switchboard) -> Router {
    Router::new()
        .route(FAULTS_PATH, get(list).put(replace).post(add).delete(clear))
        .route(&format!("{FAULTS_PATH}/{{id}}"), get(one).put(put_one).delete(remove_one))
        .with_state(board)
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleList<R> {
    rules: Vec<R>,
}

fn json(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message });
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("invalid fault rule JSON: {e}"))
}

fn state_of(board: &Switchboard, id: &str) -> Option<RuleState> {
    board.rules().into_iter().find(|r| r.id == id)
}

async fn list(State(board): State<Switchboard>) -> Response {
    json(StatusCode::OK, &RuleList { rules: board.rules() })
}

async fn replace(State(board): State<Switchboard>, bytes: Bytes) -> Response {
    let list: RuleList<Rule> = match body(&bytes) {
        Ok(l) => l,
        Err(m) => return error(StatusCode::BAD_REQUEST, &m),
    };
    match board.replace(list.rules) {
        Ok(_) => json(StatusCode::OK, &RuleList { rules: board.rules() }),
        Err(e) => error(StatusCode::BAD_REQUEST, &e.0),
    }
}

async fn add(State(board): State<Switchboard>, bytes: Bytes) -> Response {
    let rule: Rule = match body(&bytes) {
        Ok(r) => r,
        Err(m) => return error(StatusCode::BAD_REQUEST, &m),
    };
    let id = board.put(rule);
    match state_of(&board, &id) {
        Some(state) => {
            let mut resp = json(StatusCode::CREATED, &state);
            if let Ok(v) = header::HeaderValue::from_str(&format!("{FAULTS_PATH}/{id}")) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            resp
        }
        None => error(StatusCode::INTERNAL_SERVER_ERROR, "the rule was not kept"),
    }
}

async fn clear(State(board): State<Switchboard>) -> StatusCode {
    board.clear();
    StatusCode::NO_CONTENT
}

async fn one(State(board): State<Switchboard>, Path(id): Path<String>) -> Response {
    match state_of(&board, &id) {
        Some(state) => json(StatusCode::OK, &state),
        None => error(StatusCode::NOT_FOUND, &format!("no fault rule {id:?}")),
    }
}

async fn put_one(State(board): State<Switchboard>, Path(id): Path<String>, bytes: Bytes) -> Response {
    let rule: Rule = match body(&bytes) {
        Ok(r) => r,
        Err(m) => return error(StatusCode::BAD_REQUEST, &m),
    };
    if rule.id.as_ref().is_some_and(|own| *own != id) {
        return error(StatusCode::BAD_REQUEST, "the rule's id differs from the one in the path");
    }
    let id = board.put(rule.with_id(id));
    match state_of(&board, &id) {
        Some(state) => json(StatusCode::OK, &state),
        None => error(StatusCode::INTERNAL_SERVER_ERROR, "the rule was not kept"),
    }
}

async fn remove_one(State(board): State<Switchboard>, Path(id): Path<String>) -> Response {
    if board.remove(&id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(StatusCode::NOT_FOUND, &format!("no fault rule {id:?}"))
    }
}
