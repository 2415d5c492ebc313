//! Faults switched at runtime over HTTP (`/__sandbox/faults`), observed with a plain client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{PAT, TestApp, spawn, spawn_with};
use sandbox_hubspot::{Config, Fault, FaultRule, FaultScope, Faults, ObjectType, RateLimits};
use serde_json::{Value, json};

async fn put_rules(app: &TestApp, rules: Value) -> Value {
    let r = app
        .http
        .put(app.url("/__sandbox/faults"))
        .json(&json!({ "rules": rules }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.json().await.unwrap()
}

async fn add_rule(app: &TestApp, rule: Value) -> String {
    let r = app.http.post(app.url("/__sandbox/faults")).json(&rule).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/__sandbox/faults/"));
    r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

async fn rules(app: &TestApp) -> Vec<Value> {
    let body: Value = app
        .http
        .get(app.url("/__sandbox/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["rules"].as_array().unwrap().clone()
}

fn new_task(subject: &str) -> Value {
    json!({"properties": {"hs_task_subject": subject, "hs_timestamp": "2026-12-01T09:00:00Z", "hs_task_status": "NOT_STARTED"}})
}

/// The subjects of the tasks the portal holds, read back over the API.
async fn task_subjects(app: &TestApp) -> Vec<String> {
    let body = app.get_json("/crm/v3/objects/tasks?limit=100&properties=hs_task_subject").await;
    let results = body["results"].as_array().unwrap();
    results
        .iter()
        .map(|t| t["properties"]["hs_task_subject"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn a_rate_limit_switched_on_over_http_answers_429_with_retry_after_then_runs_out() {
    let app = spawn().await;
    put_rules(&app, json!([{"kind": "rate_limit", "times": 2, "retry_after": 3}])).await;
    let r = app.get("/crm/v3/objects/deals").await;
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["retry-after"], "3");
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["errorType"].as_str(), body["policyName"].as_str()),
        (Some("RATE_LIMIT"), Some("TEN_SECONDLY_ROLLING"))
    );
    assert_eq!(rules(&app).await[0]["times"], 1);
    // Without `retry_after`, HubSpot's usual one second.
    put_rules(&app, json!([{"kind": "rate_limit", "times": 1}])).await;
    assert_eq!(app.get("/crm/v3/objects/deals").await.headers()["retry-after"], "1");
    assert_eq!(app.get("/crm/v3/objects/deals").await.status().as_u16(), 200);
    assert!(rules(&app).await.is_empty());
}

#[tokio::test]
async fn a_share_of_server_errors_is_switched_on_and_off_by_id() {
    let app = spawn().await;
    let id = add_rule(&app, json!({"kind": "error", "share": 0.5})).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = app.get("/crm/v3/objects/contacts").await;
        statuses.push(r.status().as_u16());
        if r.status() == 500 {
            assert_eq!(r.json::<Value>().await.unwrap()["category"], "INTERNAL_ERROR");
        }
    }
    assert_eq!(statuses, [200, 500, 200, 500]);
    let r = app.http.delete(app.url(&format!("/__sandbox/faults/{id}"))).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 204);
    for _ in 0..4 {
        assert_eq!(app.get("/crm/v3/objects/contacts").await.status().as_u16(), 200);
    }
}

#[tokio::test]
async fn an_expired_token_fault_answers_hubspots_401_but_the_token_stays_good() {
    let app = spawn().await;
    put_rules(&app, json!([{"kind": "unauthorized", "on": "reads", "times": 1}])).await;
    let (status, _) = app.post_json("/crm/v3/objects/tasks", &new_task("Kickoff call")).await;
    assert_eq!(status, 201, "a write is not a read");
    let r = app.get("/crm/v3/objects/deals").await;
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "error");
    assert_eq!(body["category"], "EXPIRED_AUTHENTICATION");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("The OAuth token used to make this call expired")
    );
    assert_eq!(app.get("/crm/v3/objects/deals").await.status().as_u16(), 200);
}

#[tokio::test]
async fn slow_writes_are_delayed_and_searches_count_as_reads() {
    let app = spawn().await;
    put_rules(&app, json!([{"kind": "slow", "on": "writes", "delay_ms": 300}])).await;
    let t = Instant::now();
    let (status, _) = app.post_json("/crm/v3/objects/deals/search", &json!({})).await;
    assert_eq!(status, 200);
    assert!(t.elapsed() < Duration::from_millis(300));
    let t = Instant::now();
    let (status, _) = app.post_json("/crm/v3/objects/tasks", &new_task("Slow one")).await;
    assert_eq!(status, 201);
    assert!(t.elapsed() >= Duration::from_millis(300));
    let r = app.http.delete(app.url("/__sandbox/faults")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 204);
    assert!(rules(&app).await.is_empty());
}

#[tokio::test]
async fn a_lost_answer_drops_the_connection_after_the_write_is_applied() {
    let app = spawn().await;
    let before = app.sandbox.count(ObjectType::Tasks);
    put_rules(&app, json!([{"kind": "lost_answer", "on": "writes", "times": 1}])).await;
    let lost = app
        .http
        .post(app.url("/crm/v3/objects/tasks"))
        .bearer_auth(PAT)
        .json(&new_task("Welcome pack sent"))
        .send()
        .await;
    let err = lost.unwrap_err();
    assert!(!err.is_timeout(), "dropped, not held: {err}");
    assert_eq!(app.sandbox.count(ObjectType::Tasks), before + 1);
    assert!(task_subjects(&app).await.iter().any(|s| s == "Welcome pack sent"));
    let write = app.sandbox.requests().entries().into_iter().find(|e| e.method == "POST").unwrap();
    assert_eq!((write.endpoint.as_str(), write.status), ("POST /crm/v3/objects/tasks", 201));
    let (status, _) = app.post_json("/crm/v3/objects/tasks", &new_task("Second")).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn a_held_answer_outlasts_the_client_timeout_and_the_write_is_stored() {
    let app = spawn().await;
    add_rule(&app, json!({"kind": "lost_answer", "mode": "hold", "on": "writes", "times": 1})).await;
    let lost = app
        .http
        .post(app.url("/crm/v3/objects/tasks"))
        .bearer_auth(PAT)
        .json(&new_task("Held"))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(lost.unwrap_err().is_timeout());
    let id = *app.sandbox.ids(ObjectType::Tasks).last().unwrap();
    let task = app.sandbox.record(ObjectType::Tasks, id).unwrap();
    assert_eq!(task.properties["hs_task_subject"], "Held");
    app.sandbox.shutdown().await;
}

#[tokio::test]
async fn token_scoped_faults_hit_only_the_oauth_endpoints() {
    let app = spawn().await;
    put_rules(&app, json!([{"kind": "error", "status": 503, "on": "token", "times": 1}])).await;
    let r = app
        .http
        .post(app.url("/oauth/v1/token"))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(app.get("/crm/v3/objects/deals").await.status().as_u16(), 200);
}

#[tokio::test]
async fn bad_rules_are_refused_and_leave_the_switchboard_as_it_was() {
    let app = spawn().await;
    put_rules(&app, json!([{"id": "keep", "kind": "hang", "on": "writes", "times": 1}])).await;
    for body in [
        json!({"rules": [{"kind": "error", "status": 302}]}),
        json!({"rules": [{"kind": "lost_answer", "delay_ms": 5}]}),
        json!({"rules": [{"id": "a", "kind": "hang"}, {"id": "a", "kind": "hang"}]}),
        json!([]),
    ] {
        let r = app.http.put(app.url("/__sandbox/faults")).json(&body).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 400, "{body}");
        assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    }
    let kept = rules(&app).await;
    assert_eq!((kept.len(), kept[0]["id"].as_str()), (1, Some("keep")));
    // PUT on one id replaces that rule in place.
    let r = app
        .http
        .put(app.url("/__sandbox/faults/keep"))
        .json(&json!({"kind": "slow", "delay_ms": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(rules(&app).await[0]["kind"], "slow");
    assert!(app.sandbox.requests().entries().iter().all(|e| !e.path.starts_with("/__sandbox")));
}

#[tokio::test]
async fn start_up_faults_are_the_initial_state_of_the_same_switchboard() {
    let app = spawn_with(Config {
        rate_limits: RateLimits::unlimited(),
        faults: Faults {
            rate_limit_burst: 1,
            rules: vec![FaultRule::new(Fault::Unauthorized).on(FaultScope::Writes).with_id("no-writes")],
            ..Faults::default()
        },
        ..Config::for_tests()
    })
    .await;
    let ids: Vec<String> = rules(&app).await.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, ["throttle_next", "no-writes"]);
    assert_eq!(app.get("/crm/v3/objects/deals").await.status().as_u16(), 429);
    let (status, _) = app.post_json("/crm/v3/objects/tasks", &new_task("x")).await;
    assert_eq!(status, 401);
    app.sandbox.faults().clear();
    assert!(rules(&app).await.is_empty());
}
