//! OAuth 2.0 endpoints (PROTOCOLS.md A2): JWT bearer, authorization code with refresh tokens,
//! client credentials; authorize (approves at once), revoke, userinfo and the identity URL.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::guard::bearer;
use crate::state::Shared;
use crate::util::{now_ms, read};

const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({"error": error, "error_description": description}))).into_response()
}

fn bad(error: &str, description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, error, description)
}

/// The user id of an active user by username, case-insensitively.
fn user_id(st: &Shared, username: &str) -> Option<String> {
    let store = read(&st.store);
    let users = store.schema.index_of("User")?;
    store.tables[users]
        .records
        .values()
        .find(|r| r.deleted_ms.is_none() && r.text("Username").is_some_and(|u| u.eq_ignore_ascii_case(username)))
        .filter(|r| r.fields.get("IsActive") != Some(&Value::Bool(false)))
        .map(|r| r.id.clone())
}

fn identity_url(st: &Shared, user: &str) -> String {
    format!("{}/id/{}/{user}", st.base_url, st.organization_id)
}

/// A token response; `refresh` adds a refresh token (authorization code flow only).
fn issue(st: &Shared, user: &str, refresh: bool, scope: &str) -> Response {
    let (token, session) = st.tokens.issue_access(&st.organization_id, user);
    let id = identity_url(st, user);
    let issued_at = session.issued_ms.to_string();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, st.client_secret.as_bytes());
    let signature = STANDARD.encode(ring::hmac::sign(&key, format!("{id}{issued_at}").as_bytes()));
    let mut body = json!({
        "access_token": token,
        "signature": signature,
        "scope": scope,
        "instance_url": st.base_url,
        "id": id,
        "token_type": "Bearer",
        "issued_at": issued_at,
    });
    if refresh {
        body["refresh_token"] = Value::String(st.tokens.issue_refresh(user));
    }
    let mut resp = Json(body).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache,must-revalidate,max-age=0,no-store,private"),
    );
    resp
}

/// `POST /services/oauth2/token`, form-encoded.
pub async fn token(State(st): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let grant = form.get("grant_type").map(String::as_str).unwrap_or("");
    match grant {
        JWT_GRANT => jwt_bearer(&st, &form),
        "authorization_code" => authorization_code(&st, &form),
        "refresh_token" => refresh(&st, &form),
        "client_credentials" => client_credentials(&st, &headers, &form),
        "" => bad("invalid_request", "grant type not specified"),
        _ => bad("unsupported_grant_type", "grant type not supported"),
    }
}

fn jwt_bearer(st: &Shared, form: &HashMap<String, String>) -> Response {
    let Some(assertion) = form.get("assertion") else {
        return bad("invalid_request", "assertion not specified");
    };
    let audiences = [
        "https://login.salesforce.com".to_string(),
        "https://test.salesforce.com".to_string(),
        st.base_url.clone(),
    ];
    let claims = match st.verifier.verify(assertion, now_ms() / 1000, &audiences) {
        Ok(c) => c,
        Err(crate::jwt::JwtError::Expired) => return bad("invalid_grant", "expired JWT"),
        Err(crate::jwt::JwtError::Audience) => return bad("invalid_grant", "audience is invalid"),
        Err(_) => return bad("invalid_grant", "invalid assertion"),
    };
    if claims.iss != st.client_id {
        return bad("invalid_client_id", "client identifier invalid");
    }
    match user_id(st, &claims.sub) {
        Some(user) => issue(st, &user, false, "api web"),
        None => bad("invalid_grant", "user hasn't approved this consumer"),
    }
}

/// The OAuth error (code, description) for wrong client credentials, if any.
fn client_error(st: &Shared, form: &HashMap<String, String>) -> Option<(&'static str, &'static str)> {
    if form.get("client_id") != Some(&st.client_id) {
        return Some(("invalid_client_id", "client identifier invalid"));
    }
    if form.get("client_secret").is_some_and(|s| *s != st.client_secret) {
        return Some(("invalid_client", "invalid client credentials"));
    }
    None
}

fn authorization_code(st: &Shared, form: &HashMap<String, String>) -> Response {
    if let Some((e, d)) = client_error(st, form) {
        return bad(e, d);
    }
    if form.get("client_secret").is_none() && form.get("code_verifier").is_none() {
        return bad("invalid_client", "invalid client credentials");
    }
    let code = form.get("code").map(String::as_str).unwrap_or("");
    match st.tokens.redeem_code(code, form.get("redirect_uri").map(String::as_str)) {
        Some(user) => issue(st, &user, true, "api refresh_token"),
        None => bad("invalid_grant", "invalid authorization code"),
    }
}

fn refresh(st: &Shared, form: &HashMap<String, String>) -> Response {
    if let Some((e, d)) = client_error(st, form) {
        return bad(e, d);
    }
    let token = form.get("refresh_token").map(String::as_str).unwrap_or("");
    match st.tokens.check_refresh(token, &st.faults) {
        Some(user) => issue(st, &user, false, "api refresh_token"),
        None => bad("invalid_grant", "expired access/refresh token"),
    }
}

fn client_credentials(st: &Shared, headers: &HeaderMap, form: &HashMap<String, String>) -> Response {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let (id, secret) = match basic.as_deref().and_then(|b| b.split_once(':')) {
        Some((i, s)) => (i.to_string(), s.to_string()),
        None => (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        ),
    };
    if id != st.client_id {
        return bad("invalid_client_id", "client identifier invalid");
    }
    if secret != st.client_secret {
        return bad("invalid_client", "invalid client credentials");
    }
    match user_id(st, &st.username) {
        Some(user) => issue(st, &user, false, "api"),
        None => bad("invalid_grant", "no client credentials user enabled"),
    }
}

/// `GET /services/oauth2/authorize`: approves at once as the configured user and redirects.
pub async fn authorize(State(st): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some(redirect) = q.get("redirect_uri").filter(|r| r.starts_with("http")) else {
        return bad("redirect_uri_mismatch", "redirect_uri must match configuration");
    };
    let sep = if redirect.contains('?') { '&' } else { '?' };
    let mut params = form_urlencoded::Serializer::new(String::new());
    if q.get("client_id") != Some(&st.client_id) {
        params
            .append_pair("error", "invalid_client_id")
            .append_pair("error_description", "client identifier invalid");
    } else if q.get("response_type").map(String::as_str) != Some("code") {
        params
            .append_pair("error", "unsupported_response_type")
            .append_pair("error_description", "response type not supported");
    } else {
        let Some(user) = user_id(&st, &st.username) else {
            return bad("invalid_grant", "the configured user does not exist");
        };
        params.append_pair("code", &st.tokens.issue_code(&user, redirect));
    }
    if let Some(state) = q.get("state") {
        params.append_pair("state", state);
    }
    let location = format!("{redirect}{sep}{}", params.finish());
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// `POST /services/oauth2/revoke` with `token=…`.
pub async fn revoke(State(st): State<Shared>, body: Bytes) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    revoke_token(&st, form.get("token"))
}

pub async fn revoke_get(State(st): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    revoke_token(&st, q.get("token"))
}

fn revoke_token(st: &Shared, token: Option<&String>) -> Response {
    match token {
        Some(t) if st.tokens.revoke(t) => StatusCode::OK.into_response(),
        _ => bad("unsupported_token_type", "this token type is not supported"),
    }
}

fn user_json(st: &Shared, user: &str) -> Option<Value> {
    let store = read(&st.store);
    let (_, r) = store.by_id(user)?;
    Some(json!({
        "id": identity_url(st, user),
        "user_id": user,
        "organization_id": st.organization_id,
        "username": r.value("Username"),
        "preferred_username": r.value("Username"),
        "email": r.value("Email"),
        "display_name": r.value("Name"),
        "active": true,
        "urls": {
            "rest": format!("{}/services/data/v{{version}}/", st.base_url),
            "sobjects": format!("{}/services/data/v{{version}}/sobjects/", st.base_url),
            "query": format!("{}/services/data/v{{version}}/query/", st.base_url),
        },
    }))
}

fn authenticated(st: &Shared, headers: &HeaderMap) -> Option<String> {
    let token = bearer(headers).unwrap_or_default();
    st.tokens.check(&token, &st.faults).ok().map(|s| s.user_id)
}

fn bad_token() -> Response {
    oauth_error(StatusCode::FORBIDDEN, "Bad_OAuth_Token", "Bad_OAuth_Token")
}

pub async fn userinfo(State(st): State<Shared>, headers: HeaderMap) -> Response {
    match authenticated(&st, &headers) {
        Some(user) => user_json(&st, &user).map_or_else(|| StatusCode::NOT_FOUND.into_response(), |v| Json(v).into_response()),
        None => bad_token(),
    }
}

pub async fn identity(State(st): State<Shared>, headers: HeaderMap, Path((_org, user)): Path<(String, String)>) -> Response {
    if authenticated(&st, &headers).is_none() {
        return bad_token();
    }
    user_json(&st, &user).map_or_else(|| StatusCode::NOT_FOUND.into_response(), |v| Json(v).into_response())
}
