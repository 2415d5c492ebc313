//! Hostile input never makes the sandbox fail: every answer is a 4xx (or success), never a 5xx.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{PAT, spawn};
use reqwest::Method;

const PATHS: [&str; 16] = [
    "/crm/v3/objects/deals",
    "/crm/v3/objects/deals/3000000001",
    "/crm/v3/objects/deals/search",
    "/crm/v3/objects/deals/batch/read",
    "/crm/v3/objects/deals/batch/create",
    "/crm/v3/objects/deals/batch/update",
    "/crm/v3/objects/deals/batch/archive",
    "/crm/objects/2026-03/%FF%FE/search",
    "/crm/v4/objects/deals/3000000001/associations/contacts/1000000001",
    "/crm/v4/objects/deals/99999999999999999999999/associations/contacts",
    "/crm/v4/associations/deals/contacts/batch/read",
    "/crm/v4/associations/deals/contacts/batch/create",
    "/crm/v4/associations/deals/contacts/batch/archive",
    "/crm/v3/objects/tasks/4000000001/associations/contacts/1/999999999999",
    "/crm/v3/properties/nothing/at-all",
    "/oauth/v1/token",
];

const BODIES: [&str; 12] = [
    "",
    "null",
    "[]",
    "{}",
    "{\"inputs\": 5}",
    "{\"inputs\": [{\"id\": -1}, {\"id\": {}}]}",
    "{\"properties\": [1, 2]}",
    "{\"properties\": {\"amount\": {\"nested\": true}, \"closedate\": \"yesterday\"}}",
    "{\"filterGroups\": [{\"filters\": [{\"propertyName\": \"amount\", \"operator\": \"BETWEEN\", \"value\": \"1\"}]}], \"limit\": -5, \"after\": \"x\"}",
    "{\"sorts\": [\"-amount\"], \"after\": 99999999999999999999}",
    "[{\"associationCategory\": \"NOPE\", \"associationTypeId\": 4294967296}]",
    "\u{0}\u{1}\u{ff}garbage",
];

#[tokio::test]
async fn hostile_bodies_and_paths_never_get_a_server_error() {
    let app = spawn().await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for path in PATHS {
        for method in [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            for body in BODIES.iter().copied().chain([deep.as_str()]) {
                let r = app
                    .http
                    .request(method.clone(), app.url(path))
                    .bearer_auth(PAT)
                    .body(body.to_string())
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().as_u16() < 500, "{method} {path} {body:.40}: {}", r.status());
            }
        }
    }
    // Still serving (the DELETEs above archived deal 3000000001, which is fine).
    assert_eq!(app.get("/crm/v3/objects/contacts").await.status().as_u16(), 200);
}
