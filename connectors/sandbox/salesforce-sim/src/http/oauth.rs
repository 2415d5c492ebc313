//! OAuth 2.0 endpoints: the web-server flow with a consent page and PKCE,
//! JWT bearer, refresh tokens, client credentials, revocation, UserInfo and the identity URL.
//! Shapes follow Salesforce Help: "OAuth 2.0 Web Server Flow for Web App Integration",
//! "OAuth 2.0 Authorization Errors", "Revoke OAuth Tokens", "Query for User Information" and
//! "Identity URLs".

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sandbox_kit::consent::{self, Account, ConsentPage};
use serde_json::{Value, json};

use super::guard::bearer;
use crate::auth::Grant;
use crate::state::{AuthRequest, Shared};
use crate::store::Record;
use crate::util::{now_ms, read, sf_datetime};

const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// What the consent page and error pages call the sandbox.
const CRM: &str = "Salesforce sandbox";
const AUTHORIZE_PATH: &str = "/services/oauth2/authorize";
/// The scopes granted when a code flow asks for none (the connected app's defaults).
const DEFAULT_SCOPE: &str = "api refresh_token";

type Form = HashMap<String, String>;

fn form_of(body: &Bytes) -> Form {
    form_urlencoded::parse(body).into_owned().collect()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({"error": error, "error_description": description}))).into_response()
}

fn bad(error: &str, description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, error, description)
}

fn active(r: &Record) -> bool {
    r.deleted_ms.is_none() && r.fields.get("IsActive") != Some(&Value::Bool(false))
}

/// The id of an active user named by username, email or id, case-insensitively.
fn user_id(st: &Shared, who: &str) -> Option<String> {
    let store = read(&st.store);
    let users = store.schema.index_of("User")?;
    store.tables[users]
        .records
        .values()
        .filter(|r| active(r))
        .find(|r| {
            r.id.eq_ignore_ascii_case(who)
                || crate::ids::normalize(who).is_some_and(|id| id == r.id)
                || ["Username", "Email"]
                    .iter()
                    .any(|f| r.text(f).is_some_and(|v| v.eq_ignore_ascii_case(who)))
        })
        .map(|r| r.id.clone())
}

fn identity_url(st: &Shared, user: &str) -> String {
    format!("{}/id/{}/{user}", st.base_url, st.organization_id)
}

/// A token response; `refresh` adds a refresh token, and the access token is tied to it.
fn issue(st: &Shared, user: &str, refresh: Option<String>, scope: &str, from_refresh: Option<&str>) -> Response {
    let family = refresh.as_deref().or(from_refresh);
    let (token, session) = st.tokens.issue_access(&st.organization_id, user, family);
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
    if let Some(r) = refresh {
        body["refresh_token"] = Value::String(r);
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
    let form = form_of(&body);
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

fn jwt_bearer(st: &Shared, form: &Form) -> Response {
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
        Some(user) => issue(st, &user, None, "api web", None),
        None => bad("invalid_grant", "user hasn't approved this consumer"),
    }
}

/// The OAuth error (code, description) for wrong client credentials, if any.
fn client_error(st: &Shared, form: &Form) -> Option<(&'static str, &'static str)> {
    if form.get("client_id") != Some(&st.client_id) {
        return Some(("invalid_client_id", "client identifier invalid"));
    }
    if form.get("client_secret").is_some_and(|s| *s != st.client_secret) {
        return Some(("invalid_client", "invalid client credentials"));
    }
    None
}

/// `BASE64URL(SHA256(verifier))`, PKCE's S256 transform.
fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()))
}

fn authorization_code(st: &Shared, form: &Form) -> Response {
    if let Some((e, d)) = client_error(st, form) {
        return bad(e, d);
    }
    let code = form.get("code").map(String::as_str).unwrap_or("");
    // Redeeming takes the code out: a second exchange fails whatever went wrong the first time.
    let Some(grant) = st.tokens.redeem_code(code) else {
        return bad("invalid_grant", "invalid authorization code");
    };
    if grant.expired() {
        return bad("invalid_grant", "expired authorization code");
    }
    if grant.client_id != st.client_id {
        return bad("invalid_grant", "invalid authorization code");
    }
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return bad("redirect_uri_mismatch", "redirect_uri must match configuration");
    }
    match (&grant.challenge, form.get("code_verifier")) {
        (Some(challenge), Some(verifier)) if s256(verifier) == *challenge => {}
        (Some(_), _) => return bad("invalid_grant", "invalid code verifier"),
        // Without PKCE the web-server flow needs the secret.
        (None, _) if form.get("client_secret").is_none() => return bad("invalid_client", "invalid client credentials"),
        (None, _) => {}
    }
    let scope = if grant.scope.trim().is_empty() {
        DEFAULT_SCOPE.to_string()
    } else {
        grant.scope.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let wants_refresh = scope.split(' ').any(|s| s == "refresh_token" || s == "offline_access");
    let refresh = wants_refresh.then(|| st.tokens.issue_refresh(&grant.user_id));
    issue(st, &grant.user_id, refresh, &scope, None)
}

fn refresh(st: &Shared, form: &Form) -> Response {
    if let Some((e, d)) = client_error(st, form) {
        return bad(e, d);
    }
    let token = form.get("refresh_token").map(String::as_str).unwrap_or("");
    match st.tokens.check_refresh(token, &st.faults) {
        Some(user) => issue(st, &user, None, DEFAULT_SCOPE, Some(token)),
        None => bad("invalid_grant", "expired access/refresh token"),
    }
}

fn client_credentials(st: &Shared, headers: &HeaderMap, form: &Form) -> Response {
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
        Some(user) => issue(st, &user, None, "api", None),
        None => bad("invalid_grant", "no client credentials user enabled"),
    }
}

/// Back to the app's callback with `params` and the request's `state`.
fn back(req: &AuthRequest, params: &[(&str, &str)]) -> Response {
    consent::redirect_back(&req.redirect_uri, req.state.as_deref(), params)
}

/// Issues a code for `user` and sends the browser back with it.
fn approve(st: &Shared, req: &AuthRequest, user: &str) -> Response {
    let grant = Grant::new(user, &req.client_id, &req.redirect_uri, req.code_challenge.clone(), &req.scope);
    let code = st.tokens.issue_code(grant);
    back(req, &[("code", &code)])
}

/// The active users, in creation order, as accounts on the consent page.
fn accounts(st: &Shared) -> Vec<Account> {
    let store = read(&st.store);
    let Some(users) = store.schema.index_of("User") else {
        return Vec::new();
    };
    store.tables[users]
        .records
        .values()
        .filter(|r| active(r))
        .map(|r| {
            let name = r.value("Name").as_str().unwrap_or("").to_string();
            let username = r.text("Username").unwrap_or("");
            let detail = match r.text("Title") {
                Some(title) => format!("{username} · {title}"),
                None => username.to_string(),
            };
            Account {
                value: r.id.clone(),
                name,
                detail,
            }
        })
        .collect()
}

fn consent_page(st: &Shared, id: &str, req: &AuthRequest, problem: Option<&str>) -> Response {
    let accounts = accounts(st);
    let hinted = req.login_hint.as_deref().and_then(|h| user_id(st, h));
    let scopes: Vec<String> = req.scope.split_whitespace().map(str::to_string).collect();
    let page = ConsentPage {
        crm: CRM,
        app: &req.client_id,
        scopes: &scopes,
        accounts: &accounts,
        selected: hinted.as_deref(),
        action: AUTHORIZE_PATH,
        request: id,
        problem,
    };
    consent::page(&page)
}

/// `GET /services/oauth2/authorize`: checks the app and its callback, then shows the consent
/// page (or, with `Config::auto_approve`, approves at once).
pub async fn authorize(State(st): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    if q.get("client_id") != Some(&st.client_id) {
        return consent::error_page(StatusCode::BAD_REQUEST, CRM, "invalid_client_id", "client identifier invalid");
    }
    let Some(redirect) = q.get("redirect_uri").filter(|r| st.callbacks.allows(r)) else {
        return consent::error_page(
            StatusCode::BAD_REQUEST,
            CRM,
            "redirect_uri_mismatch",
            "redirect_uri must match configuration",
        );
    };
    let req = AuthRequest {
        client_id: st.client_id.clone(),
        redirect_uri: redirect.clone(),
        state: q.get("state").cloned(),
        scope: q.get("scope").cloned().unwrap_or_default(),
        code_challenge: q.get("code_challenge").filter(|c| !c.is_empty()).cloned(),
        login_hint: q.get("login_hint").cloned(),
    };
    if q.get("response_type").map(String::as_str) != Some("code") {
        return back(
            &req,
            &[
                ("error", "unsupported_response_type"),
                ("error_description", "response type not supported"),
            ],
        );
    }
    if q.get("code_challenge_method").is_some_and(|m| m != "S256") {
        return back(
            &req,
            &[("error", "invalid_request"), ("error_description", "invalid code_challenge_method")],
        );
    }
    if let Some(who) = &st.auto_approve {
        return match user_id(&st, who) {
            Some(user) => approve(&st, &req, &user),
            None => consent::error_page(
                StatusCode::BAD_REQUEST,
                CRM,
                "invalid_request",
                "the auto-approving user does not exist",
            ),
        };
    }
    let id = st.pending.insert(req.clone());
    consent_page(&st, &id, &req, None)
}

/// `POST /services/oauth2/authorize`: the consent form (`request`, `user`, `decision`).
pub async fn decide(State(st): State<Shared>, body: Bytes) -> Response {
    let form = form_of(&body);
    let id = form.get("request").map(String::as_str).unwrap_or("");
    let Some(req) = st.pending.get(id) else {
        return consent::error_page(
            StatusCode::BAD_REQUEST,
            CRM,
            "invalid_request",
            "this authorization request has expired or was already answered",
        );
    };
    match form.get("decision").map(String::as_str) {
        Some("deny") => {
            st.pending.take(id);
            back(
                &req,
                &[("error", "access_denied"), ("error_description", "end-user denied authorization")],
            )
        }
        Some("allow") => match form.get("user").and_then(|u| user_id(&st, u)) {
            Some(user) => {
                st.pending.take(id);
                approve(&st, &req, &user)
            }
            None => consent_page(&st, id, &req, Some("Choose an active user to sign in as.")),
        },
        _ => consent_page(&st, id, &req, Some("Choose Allow or Deny.")),
    }
}

/// `POST /services/oauth2/revoke` with `token=…`.
pub async fn revoke(State(st): State<Shared>, body: Bytes) -> Response {
    revoke_token(&st, form_of(&body).get("token"))
}

pub async fn revoke_get(State(st): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    revoke_token(&st, q.get("token"))
}

/// 200 on success; 400 `unsupported_token_type` without a token, `invalid_token` for an
/// unknown or already revoked one.
fn revoke_token(st: &Shared, token: Option<&String>) -> Response {
    match token.filter(|t| !t.is_empty()) {
        Some(t) if st.tokens.revoke(t) => StatusCode::OK.into_response(),
        Some(_) => bad("invalid_token", "invalid token"),
        None => bad("unsupported_token_type", "this token type is not supported"),
    }
}

/// Everything the identity services tell about a user.
struct Person {
    id: String,
    username: String,
    email: String,
    first: Value,
    last: String,
    name: String,
    active: bool,
    modified_ms: i64,
}

fn person(st: &Shared, user: &str) -> Option<Person> {
    let store = read(&st.store);
    let (o, r) = store.by_id(user)?;
    if store.object(o).name != "User" || r.deleted_ms.is_some() {
        return None;
    }
    let text = |f: &str| r.text(f).unwrap_or("").to_string();
    Some(Person {
        id: r.id.clone(),
        username: text("Username"),
        email: text("Email"),
        first: r.value("FirstName"),
        last: text("LastName"),
        name: r.value("Name").as_str().unwrap_or("").to_string(),
        active: active(r),
        modified_ms: r.modified_ms,
    })
}

fn urls(st: &Shared, user: &str) -> Value {
    let b = &st.base_url;
    let org = &st.organization_id[..15];
    json!({
        "enterprise": format!("{b}/services/Soap/c/{{version}}/{org}"),
        "metadata": format!("{b}/services/Soap/m/{{version}}/{org}"),
        "partner": format!("{b}/services/Soap/u/{{version}}/{org}"),
        "rest": format!("{b}/services/data/v{{version}}/"),
        "sobjects": format!("{b}/services/data/v{{version}}/sobjects/"),
        "search": format!("{b}/services/data/v{{version}}/search/"),
        "query": format!("{b}/services/data/v{{version}}/query/"),
        "recent": format!("{b}/services/data/v{{version}}/recent/"),
        "profile": format!("{b}/{user}"),
        "users": format!("{b}/services/data/v{{version}}/chatter/users"),
        "custom_domain": b,
    })
}

fn photos(st: &Shared) -> Value {
    json!({
        "picture": format!("{}/profilephoto/005/F", st.base_url),
        "thumbnail": format!("{}/profilephoto/005/T", st.base_url),
    })
}

fn nickname(p: &Person) -> String {
    p.username.split('@').next().unwrap_or("").to_string()
}

/// The identity URL's document (Salesforce Help, "Identity URLs").
fn identity_json(st: &Shared, p: &Person, asserted: bool) -> Value {
    json!({
        "id": identity_url(st, &p.id),
        "asserted_user": asserted,
        "user_id": p.id,
        "organization_id": st.organization_id,
        "username": p.username,
        "nick_name": nickname(p),
        "display_name": p.name,
        "email": p.email,
        "email_verified": true,
        "first_name": p.first,
        "last_name": p.last,
        "timezone": "GMT",
        "photos": photos(st),
        "addr_street": null,
        "addr_city": null,
        "addr_state": null,
        "addr_country": null,
        "addr_zip": null,
        "mobile_phone": null,
        "mobile_phone_verified": false,
        "is_lightning_login_user": false,
        "status": {"created_date": null, "body": null},
        "urls": urls(st, &p.id),
        "active": p.active,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "last_modified_date": sf_datetime(p.modified_ms),
        "is_app_installed": true,
    })
}

/// The UserInfo document (OpenID Connect claims plus Salesforce's own).
fn userinfo_json(st: &Shared, p: &Person) -> Value {
    let updated = sf_datetime(p.modified_ms);
    json!({
        "sub": identity_url(st, &p.id),
        "user_id": p.id,
        "organization_id": st.organization_id,
        "preferred_username": p.username,
        "nickname": nickname(p),
        "name": p.name,
        "email": p.email,
        "email_verified": true,
        "given_name": p.first,
        "family_name": p.last,
        "zoneinfo": "GMT",
        "photos": photos(st),
        "profile": format!("{}/{}", st.base_url, p.id),
        "picture": format!("{}/profilephoto/005/F", st.base_url),
        "address": {},
        "is_salesforce_integration_user": false,
        "urls": urls(st, &p.id),
        "active": p.active,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        // `2026-11-23T10:15:00Z`
        "updated_at": format!("{}Z", &updated[..19.min(updated.len())]),
        "is_app_installed": true,
    })
}

/// The identity services' plain-text refusals (403 `Missing_OAuth_Token`, `Bad_OAuth_Token`, …).
fn refusal(status: StatusCode, code: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], code).into_response()
}

/// The user of the access token sent as a bearer header or an `oauth_token` parameter, or the
/// code of the 403 refusal.
fn authenticated(st: &Shared, headers: &HeaderMap, q: &HashMap<String, String>) -> Result<String, &'static str> {
    let token = bearer(headers).or_else(|| q.get("oauth_token").cloned()).unwrap_or_default();
    if token.is_empty() {
        return Err("Missing_OAuth_Token");
    }
    st.tokens
        .check(&token, &st.faults)
        .map(|s| s.user_id)
        .map_err(|_| "Bad_OAuth_Token")
}

/// `GET /services/oauth2/userinfo`: the token's own user.
pub async fn userinfo(State(st): State<Shared>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let user = match authenticated(&st, &headers, &q) {
        Ok(u) => u,
        Err(code) => return refusal(StatusCode::FORBIDDEN, code),
    };
    match person(&st, &user) {
        Some(p) => Json(userinfo_json(&st, &p)).into_response(),
        None => refusal(StatusCode::NOT_FOUND, "Bad_Id"),
    }
}

/// `GET /id/{orgId}/{userId}`: any user of the org (the sandbox's tokens all carry `api`).
pub async fn identity(
    State(st): State<Shared>,
    headers: HeaderMap,
    Path((org, user)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let me = match authenticated(&st, &headers, &q) {
        Ok(u) => u,
        Err(code) => return refusal(StatusCode::FORBIDDEN, code),
    };
    if crate::ids::normalize(&org).as_deref() != Some(st.organization_id.as_str()) {
        return refusal(StatusCode::FORBIDDEN, "Wrong_Org");
    }
    let Some(user) = crate::ids::normalize(&user) else {
        return refusal(StatusCode::NOT_FOUND, "Bad_Id");
    };
    match person(&st, &user) {
        Some(p) if !p.active => refusal(StatusCode::NOT_FOUND, "Inactive"),
        Some(p) => Json(identity_json(&st, &p, p.id == me)).into_response(),
        None => refusal(StatusCode::NOT_FOUND, "Bad_Id"),
    }
}
