//! Helpers shared by the integration tests: a client, tokens and a few request shortcuts.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use reqwest::{Client, Response};
use sandbox_salesforce::{Config, Sandbox, TEST_JWT_PRIVATE_KEY_PEM, sign_assertion};
use serde_json::Value;

pub const V: &str = "/services/data/v62.0";

pub fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

pub fn assertion(exp_in_secs: i64) -> String {
    let exp = chrono::Utc::now().timestamp() + exp_in_secs;
    sign_assertion(
        TEST_JWT_PRIVATE_KEY_PEM,
        "handoff-sandbox",
        "admin@sandbox.example.com",
        "https://login.salesforce.com",
        exp,
    )
    .unwrap()
}

/// A sandbox on port 0 with an access token from the JWT bearer flow.
pub async fn started(config: Config) -> (Sandbox, Api) {
    let sandbox = sandbox_salesforce::start(config).await.unwrap();
    let api = Api::login(&sandbox.base_url()).await;
    (sandbox, api)
}

pub async fn start() -> (Sandbox, Api) {
    started(Config::for_tests()).await
}

#[derive(Clone)]
pub struct Api {
    pub client: Client,
    pub base: String,
    pub token: String,
}

impl Api {
    pub async fn login(base: &str) -> Api {
        let client = client();
        let resp = client
            .post(format!("{base}/services/oauth2/token"))
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", &assertion(180)),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        Api {
            client,
            base: base.to_string(),
            token: body["access_token"].as_str().unwrap().to_string(),
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> Response {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn query(&self, soql: &str) -> Response {
        self.client
            .get(format!("{}{V}/query", self.base))
            .query(&[("q", soql)])
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    pub async fn query_ok(&self, soql: &str) -> Value {
        let r = self.query(soql).await;
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{soql}: {body}");
        body
    }
}

/// The errorCode of a Salesforce error array.
pub fn error_code(body: &Value) -> &str {
    body[0]["errorCode"].as_str().unwrap_or("")
}
