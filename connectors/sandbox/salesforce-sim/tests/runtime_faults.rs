//! Faults switched at runtime over HTTP (`/__sandbox/faults`), observed with a plain client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Api, V, error_code, start, started};
use reqwest::Method;
use sandbox_salesforce::{Config, Fault, FaultRule, FaultScope, Faults, Sandbox};
use serde_json::{Value, json};

/// The switchboard, driven the way a separate process would.
async fn put_rules(api: &Api, rules: Value) -> Value {
    let r = api
        .client
        .put(format!("{}/__sandbox/faults", api.base))
        .json(&json!({ "rules": rules }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn add_rule(api: &Api, rule: Value) -> String {
    let r = api
        .client
        .post(format!("{}/__sandbox/faults", api.base))
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    body["id"].as_str().unwrap().to_string()
}

async fn rules(api: &Api) -> Vec<Value> {
    let r = api.client.get(format!("{}/__sandbox/faults", api.base)).send().await.unwrap();
    let body: Value = r.json().await.unwrap();
    body["rules"].as_array().unwrap().clone()
}

fn new_task(subject: &str) -> Value {
    json!({"Subject": subject, "Status": "Not Started", "Priority": "Normal", "ActivityDate": "2026-12-01"})
}

/// The Subjects of the Tasks the org holds, read back over the API.
async fn task_subjects(api: &Api) -> Vec<String> {
    let body = api.query_ok("SELECT Subject FROM Task").await;
    let records = body["records"].as_array().unwrap();
    records.iter().map(|r| r["Subject"].as_str().unwrap_or("").to_string()).collect()
}

#[tokio::test]
async fn a_rate_limit_switched_on_over_http_answers_request_limit_exceeded_then_runs_out() {
    let (sandbox, api) = start().await;
    let listed = put_rules(&api, json!([{"kind": "rate_limit", "on": "api", "times": 2, "retry_after": 7}])).await;
    assert_eq!(listed["rules"][0]["kind"], "rate_limit");
    assert_eq!(listed["rules"][0]["fired"], 0);
    let r = api.get(&format!("{V}/limits")).await;
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers()["retry-after"], "7");
    assert!(r.headers().contains_key("sforce-limit-info"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    );
    // The token endpoint is not an API call: the rule does not touch it.
    Api::login(&api.base).await;
    assert_eq!(rules(&api).await[0]["times"], 1, "one firing left");
    assert_eq!(api.get(&format!("{V}/limits")).await.status(), 403);
    assert_eq!(api.get(&format!("{V}/limits")).await.status(), 200);
    assert!(rules(&api).await.is_empty(), "a spent rule is removed");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_share_of_server_errors_is_switched_on_and_off_by_id() {
    let (sandbox, api) = start().await;
    let id = add_rule(&api, json!({"kind": "error", "status": 500, "share": 0.5})).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = api.get(&format!("{V}/limits")).await;
        statuses.push(r.status().as_u16());
        if r.status() == 500 {
            assert_eq!(error_code(&r.json().await.unwrap()), "UNKNOWN_EXCEPTION");
        }
    }
    assert_eq!(statuses, [200, 500, 200, 500]);
    let one = api.client.get(format!("{}/__sandbox/faults/{id}", api.base)).send().await.unwrap();
    assert_eq!(one.json::<Value>().await.unwrap()["fired"], 2);
    let gone = api
        .client
        .delete(format!("{}/__sandbox/faults/{id}", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    for _ in 0..4 {
        assert_eq!(api.get(&format!("{V}/limits")).await.status(), 200);
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_expired_session_fault_answers_invalid_session_id_but_the_token_stays_good() {
    let (sandbox, api) = start().await;
    put_rules(&api, json!([{"kind": "unauthorized", "on": "reads", "times": 1}])).await;
    // A write is not a read: untouched.
    let r = api
        .send(Method::POST, &format!("{V}/sobjects/Task"), &new_task("Kickoff call"))
        .await;
    assert_eq!(r.status(), 201);
    let r = api.get(&format!("{V}/limits")).await;
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    );
    assert_eq!(api.get(&format!("{V}/limits")).await.status(), 200);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn slow_writes_are_delayed_and_reads_are_not() {
    let (sandbox, api) = start().await;
    put_rules(&api, json!([{"kind": "slow", "on": "writes", "delay_ms": 300}])).await;
    let t = Instant::now();
    assert_eq!(api.get(&format!("{V}/limits")).await.status(), 200);
    assert!(t.elapsed() < Duration::from_millis(300));
    let t = Instant::now();
    let r = api.send(Method::POST, &format!("{V}/sobjects/Task"), &new_task("Slow one")).await;
    assert_eq!(r.status(), 201);
    assert!(t.elapsed() >= Duration::from_millis(300));
    let cleared = api.client.delete(format!("{}/__sandbox/faults", api.base)).send().await.unwrap();
    assert_eq!(cleared.status(), 204);
    assert!(rules(&api).await.is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_lost_answer_drops_the_connection_after_the_write_is_applied() {
    let (sandbox, api) = start().await;
    let before = sandbox.count("Task");
    put_rules(&api, json!([{"kind": "lost_answer", "on": "writes", "times": 1}])).await;
    let lost = api
        .client
        .post(format!("{}{V}/sobjects/Task", api.base))
        .bearer_auth(&api.token)
        .json(&new_task("Welcome pack sent"))
        .send()
        .await;
    let err = lost.unwrap_err();
    assert!(!err.is_timeout(), "dropped, not held: {err}");
    // The write went through: the sandbox has it, and so does the API.
    assert_eq!(sandbox.count("Task"), before + 1);
    assert!(task_subjects(&api).await.iter().any(|s| s == "Welcome pack sent"));
    // The request log saw the write succeed on the server side.
    let log = sandbox.requests();
    assert_eq!(log.count("POST /services/data/{version}/sobjects/Task"), 1);
    let write = log.entries().into_iter().find(|e| e.path.ends_with("/sobjects/Task")).unwrap();
    assert_eq!(write.status, 201);
    // The next write is answered.
    let r = api.send(Method::POST, &format!("{V}/sobjects/Task"), &new_task("Second")).await;
    assert_eq!(r.status(), 201);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_held_answer_outlasts_the_client_timeout_and_the_write_is_stored() {
    let (sandbox, api) = start().await;
    let before = sandbox.count("Task");
    add_rule(&api, json!({"kind": "lost_answer", "mode": "hold", "on": "writes", "times": 1})).await;
    let lost = api
        .client
        .post(format!("{}{V}/sobjects/Task", api.base))
        .bearer_auth(&api.token)
        .json(&new_task("Held"))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(lost.unwrap_err().is_timeout());
    assert_eq!(sandbox.count("Task"), before + 1);
    let id = sandbox.ids("Task").pop().unwrap();
    assert_eq!(sandbox.record("Task", &id).unwrap()["Subject"], "Held");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn token_scoped_faults_hit_only_the_token_endpoint() {
    let (sandbox, api) = start().await;
    put_rules(&api, json!([{"kind": "error", "status": 503, "on": "token", "times": 1}])).await;
    let r = api
        .client
        .post(format!("{}/services/oauth2/token", api.base))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(api.get(&format!("{V}/limits")).await.status(), 200);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn bad_rules_are_refused_and_leave_the_switchboard_as_it_was() {
    let (sandbox, api) = start().await;
    put_rules(&api, json!([{"id": "keep", "kind": "hang", "on": "writes", "times": 1}])).await;
    for body in [
        json!({"rules": [{"kind": "slow"}]}),
        json!({"rules": [{"kind": "teapot"}]}),
        json!({"rules": [{"id": "a", "kind": "hang"}, {"id": "a", "kind": "hang"}]}),
        json!({"rule": []}),
    ] {
        let r = api
            .client
            .put(format!("{}/__sandbox/faults", api.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
        assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    }
    let kept = rules(&api).await;
    assert_eq!((kept.len(), kept[0]["id"].as_str()), (1, Some("keep")));
    let missing = api
        .client
        .delete(format!("{}/__sandbox/faults/nope", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    // The switchboard's own calls are not in the request log.
    assert!(sandbox.requests().entries().iter().all(|e| !e.path.starts_with("/__sandbox")));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn start_up_faults_are_the_initial_state_of_the_same_switchboard() {
    let config = Config {
        faults: Faults {
            latency: Duration::from_millis(20),
            rules: vec![
                FaultRule::new(Fault::Error { status: 503 })
                    .on(FaultScope::Writes)
                    .times(1)
                    .with_id("first-write"),
            ],
            ..Faults::default()
        },
        ..Config::for_tests()
    };
    let (sandbox, api): (Sandbox, Api) = started(config).await;
    let listed = rules(&api).await;
    let ids: Vec<&str> = listed.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["latency", "first-write"]);
    assert_eq!(
        listed[0],
        json!({"id": "latency", "kind": "slow", "on": "all", "delay_ms": 20, "fired": listed[0]["fired"]})
    );
    let r = api.send(Method::POST, &format!("{V}/sobjects/Task"), &new_task("x")).await;
    assert_eq!(r.status(), 503);
    // And the in-process handle sees what HTTP changed, and the other way round.
    sandbox.faults().clear();
    assert!(rules(&api).await.is_empty());
    sandbox.shutdown().await;
}
