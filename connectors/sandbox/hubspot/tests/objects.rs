//! Records over real HTTP: auth, CRUD, paging, properties and HubSpot's error shapes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{PAT, spawn, spawn_with};
use sandbox_hubspot::{Config, RateLimits};
use serde_json::{Value, json};

#[tokio::test]
async fn the_oauth_code_flow_yields_a_bearer_token_that_reads_deals_and_refreshes() {
    let app = spawn().await;
    let (access, refresh) = app.oauth_tokens().await;
    let r = app
        .http
        .get(app.url("/crm/v3/objects/deals"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", "handoff-sandbox"),
        ("client_secret", "handoff-sandbox-secret"),
    ];
    let v: Value = app.post_form("/oauth/2026-03/token", &form).await;
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["expires_in"], 1800);
    assert_eq!(v["refresh_token"], refresh.as_str());
    let info: Value = app
        .http
        .get(app.url(&format!("/oauth/v1/access-tokens/{access}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["hub_id"], 2026001);
}

#[tokio::test]
async fn a_wrong_client_secret_or_unknown_code_gets_hubspots_oauth_error() {
    let app = spawn().await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", "nope"),
        ("redirect_uri", "x"),
        ("client_id", "handoff-sandbox"),
        ("client_secret", "wrong"),
    ];
    let r = app.http.post(app.url("/oauth/v1/token")).form(&form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "BAD_CLIENT_SECRET");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", "nope"),
        ("redirect_uri", "x"),
        ("client_id", "handoff-sandbox"),
        ("client_secret", "handoff-sandbox-secret"),
    ];
    let v: Value = app.post_form("/oauth/v1/token", &form).await;
    assert_eq!(v["status"], "BAD_AUTH_CODE");
    assert_eq!(v["error"], "invalid_grant");
}

#[tokio::test]
async fn access_tokens_expire_after_their_ttl_with_an_expired_authentication_error() {
    let app = spawn_with(Config {
        access_token_ttl: Duration::from_millis(1),
        rate_limits: RateLimits::unlimited(),
        ..Config::for_tests()
    })
    .await;
    let (access, _) = app.oauth_tokens().await;
    tokio::time::sleep(Duration::from_millis(5)).await; // the TTL itself is what is under test
    let r = app
        .http
        .get(app.url("/crm/v3/objects/deals"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["category"], "EXPIRED_AUTHENTICATION");
    assert_eq!(v["status"], "error");
}

#[tokio::test]
async fn a_missing_or_unknown_token_is_rejected_with_invalid_authentication() {
    let app = spawn().await;
    let r = app.http.get(app.url("/crm/v3/objects/deals")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = app
        .http
        .get(app.url("/crm/v3/objects/deals"))
        .bearer_auth("pat-wrong")
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["category"], "INVALID_AUTHENTICATION");
    assert!(v["correlationId"].is_string());
}

#[tokio::test]
async fn listing_pages_with_after_until_paging_disappears() {
    let app = spawn().await;
    let mut after: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let path = match &after {
            Some(a) => format!("/crm/v3/objects/contacts?limit=3&after={a}"),
            None => "/crm/v3/objects/contacts?limit=3".to_string(),
        };
        let v = app.get_json(&path).await;
        seen.extend(
            v["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string()),
        );
        match v["paging"]["next"]["after"].as_str() {
            Some(a) => after = Some(a.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), app.sandbox.count(sandbox_hubspot::ObjectType::Contacts));
    let mut sorted = seen.clone();
    sorted.dedup();
    assert_eq!(sorted, seen);
}

#[tokio::test]
async fn reads_return_requested_properties_as_strings_on_both_path_families() {
    let app = spawn().await;
    let v3 = app
        .get_json("/crm/v3/objects/deals/3000000001?properties=dealname,amount,onboarding_progress")
        .await;
    assert_eq!(v3["properties"]["amount"], "48000");
    assert_eq!(v3["properties"]["onboarding_progress"], "40");
    assert!(v3["properties"].get("dealstage").is_none());
    let dated = app
        .get_json("/crm/objects/2026-03/deals/3000000001?properties=dealname&properties=amount")
        .await;
    assert_eq!(dated["properties"]["dealname"], v3["properties"]["dealname"]);
    assert_eq!(dated["archived"], false);
    let defaults = app.get_json("/crm/v3/objects/deals/3000000001").await;
    assert_eq!(defaults["properties"]["dealstage"], "closedwon");
    assert_eq!(defaults["properties"]["hs_object_id"], "3000000001");
}

#[tokio::test]
async fn create_update_and_archive_round_trip() {
    let app = spawn().await;
    let (status, created) = app
        .post_json("/crm/v3/objects/deals", &json!({"properties": {"dealname": "New", "amount": 10}}))
        .await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["properties"]["dealstage"], "appointmentscheduled");
    let (status, updated) = app
        .patch_json(
            &format!("/crm/v3/objects/deals/{id}"),
            &json!({"properties": {"dealstage": "closedwon", "onboarding_status": "in_progress"}}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(updated["properties"]["dealstage"], "closedwon");
    assert_eq!(app.delete(&format!("/crm/v3/objects/deals/{id}")).await, 204);
    assert_eq!(app.get(&format!("/crm/v3/objects/deals/{id}")).await.status().as_u16(), 404);
    let archived = app.get_json(&format!("/crm/v3/objects/deals/{id}?archived=true")).await;
    assert_eq!(archived["archived"], true);
}

#[tokio::test]
async fn bad_input_gets_hubspots_status_and_error_shape() {
    let app = spawn().await;
    let r = app
        .http
        .post(app.url("/crm/v3/objects/deals"))
        .bearer_auth(PAT)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["category"], "VALIDATION_ERROR");
    assert!(v["message"].as_str().unwrap().starts_with("Invalid input JSON"));

    let (status, v) = app
        .post_json(
            "/crm/v3/objects/deals",
            &json!({"properties": {"no_such_thing": "x", "dealstage": "won"}}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(v["message"].as_str().unwrap().starts_with("Property values were not valid"));
    let codes: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["INVALID_OPTION", "PROPERTY_DOESNT_EXIST"]);

    let r = app.get("/crm/v3/objects/deals/not-a-number").await;
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["category"], "OBJECT_NOT_FOUND");
    let (status, v) = app.post_json("/crm/v3/objects/tickets", &json!({"properties": {}})).await;
    assert_eq!(
        (status, v["message"].as_str().unwrap()),
        (400, "Unable to infer object type from: tickets")
    );
}

#[tokio::test]
async fn the_property_catalog_lists_enumeration_options_and_custom_properties() {
    let app = spawn().await;
    let v = app.get_json("/crm/v3/properties/deals").await;
    let props = v["results"].as_array().unwrap();
    let status = props.iter().find(|p| p["name"] == "onboarding_status").unwrap();
    assert_eq!(status["type"], "enumeration");
    assert!(status["options"].as_array().unwrap().iter().any(|o| o["value"] == "completed"));
    let stage = app.get_json("/crm/properties/2026-03/deals/dealstage").await;
    assert!(stage["options"].as_array().unwrap().iter().any(|o| o["value"] == "closedwon"));
    let owners = app.get_json("/crm/v3/owners").await;
    assert!(owners["results"].as_array().unwrap().len() >= 3);
    let pipelines = app.get_json("/crm/v3/pipelines/deals").await;
    assert_eq!(pipelines["results"][0]["stages"][5]["id"], "closedwon");
}
