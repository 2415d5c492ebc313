//! Test harness: a sandbox on port 0 and a reqwest client with helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use reqwest::{Client, Response};
use sandbox_hubspot::{Config, DEFAULT_PRIVATE_APP_TOKEN, RateLimits, Sandbox};
use serde_json::Value;

pub const PAT: &str = DEFAULT_PRIVATE_APP_TOKEN;

pub struct TestApp {
    pub sandbox: Sandbox,
    pub http: Client,
    pub base: String,
}

/// reqwest may be built with rustls and no provider when the whole workspace is compiled.
pub fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

pub async fn spawn_with(config: Config) -> TestApp {
    let sandbox = sandbox_hubspot::start(config).await.unwrap();
    let base = sandbox.base_url();
    TestApp {
        sandbox,
        http: client(),
        base,
    }
}

/// The default fixture without rate limits, so tests only meet limits they ask for.
pub async fn spawn() -> TestApp {
    spawn_with(Config {
        rate_limits: RateLimits::unlimited(),
        ..Config::for_tests()
    })
    .await
}

impl TestApp {
    /// POSTs a form (the OAuth token endpoints) and returns the JSON answer.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Value {
        self.http
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).bearer_auth(PAT).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.http.post(self.url(path)).bearer_auth(PAT).json(body).send().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self.post(path, body).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn patch_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self.http.patch(self.url(path)).bearer_auth(PAT).json(body).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self.http.put(self.url(path)).bearer_auth(PAT).json(body).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn delete(&self, path: &str) -> u16 {
        self.http
            .delete(self.url(path))
            .bearer_auth(PAT)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// The OAuth consent step as a browser goes through it: opens `/oauth/authorize`, picks
    /// `user` (a user id or email) and presses Allow or Deny; returns the redirect's query.
    pub async fn consent(&self, query: &[(&str, &str)], user: &str, decision: &str) -> HashMap<String, String> {
        let page = self.http.get(self.url("/oauth/authorize")).query(query).send().await.unwrap();
        assert_eq!(page.status().as_u16(), 200);
        let html = page.text().await.unwrap();
        let marker = "name=\"request\" value=\"";
        let at = html.find(marker).unwrap() + marker.len();
        let request = html[at..].split('"').next().unwrap().to_string();
        let r = self
            .http
            .post(self.url("/oauth/authorize"))
            .form(&[("request", request.as_str()), ("user", user), ("decision", decision)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 302);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        let q = location.split_once('?').map(|(_, q)| q).unwrap_or("");
        form_urlencoded::parse(q.as_bytes()).into_owned().collect()
    }

    /// Runs the OAuth code flow (approved as Ava Lindqvist) and returns (access, refresh).
    pub async fn oauth_tokens(&self) -> (String, String) {
        let redirect = "http://localhost:9999/callback";
        let query = [
            ("client_id", "handoff-sandbox"),
            ("redirect_uri", redirect),
            ("scope", "crm.objects.deals.read"),
            ("state", "xyz"),
        ];
        let back = self.consent(&query, "ava.lindqvist@sandbox.example.com", "allow").await;
        assert_eq!(back["state"], "xyz");
        let form = [
            ("grant_type", "authorization_code"),
            ("code", back["code"].as_str()),
            ("redirect_uri", redirect),
            ("client_id", "handoff-sandbox"),
            ("client_secret", "handoff-sandbox-secret"),
        ];
        let v: Value = self.post_form("/oauth/v1/token", &form).await;
        (
            v["access_token"].as_str().unwrap().to_string(),
            v["refresh_token"].as_str().unwrap().to_string(),
        )
    }
}
