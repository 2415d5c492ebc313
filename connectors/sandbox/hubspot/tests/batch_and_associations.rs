//! Batch endpoints, associations v4 with labels, and tasks and notes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::spawn;
use serde_json::{Value, json};

const NORTHWIND_CORE: &str = "3000000001";
const NORA: &str = "1000000001";

#[tokio::test]
async fn batch_read_returns_found_records_and_reports_missing_ids_with_207() {
    let app = spawn().await;
    let body = json!({"properties": ["dealname"], "inputs": [{"id": NORTHWIND_CORE}, {"id": "3000000002"}, {"id": "42"}]});
    let (status, v) = app.post_json("/crm/v3/objects/deals/batch/read", &body).await;
    assert_eq!(status, 207);
    assert_eq!(v["results"].as_array().unwrap().len(), 2);
    assert_eq!(v["numErrors"], 1);
    assert_eq!(v["errors"][0]["category"], "OBJECT_NOT_FOUND");
    assert_eq!(v["errors"][0]["context"]["ids"][0], "42");
    let (status, v) = app
        .post_json("/crm/v3/objects/deals/batch/read", &json!({"inputs": [{"id": NORTHWIND_CORE}]}))
        .await;
    assert_eq!((status, v["status"].as_str()), (200, Some("COMPLETE")));
}

#[tokio::test]
async fn batches_over_one_hundred_inputs_are_refused() {
    let app = spawn().await;
    let inputs: Vec<Value> = (0..101).map(|i| json!({"properties": {"dealname": format!("d{i}")}})).collect();
    let (status, v) = app
        .post_json("/crm/v3/objects/deals/batch/create", &json!({"inputs": inputs}))
        .await;
    assert_eq!((status, v["category"].as_str()), (400, Some("VALIDATION_ERROR")));
    assert_eq!(app.sandbox.count(sandbox_hubspot::ObjectType::Deals), 9);
}

#[tokio::test]
async fn batch_create_and_update_write_every_input() {
    let app = spawn().await;
    let inputs: Vec<Value> = (0..100)
        .map(|i| json!({"properties": {"dealname": format!("d{i}"), "amount": i}}))
        .collect();
    let (status, v) = app
        .post_json("/crm/v3/objects/deals/batch/create", &json!({"inputs": inputs}))
        .await;
    assert_eq!(status, 201);
    let ids: Vec<String> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 100);
    let updates: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "properties": {"dealstage": "closedwon"}}))
        .collect();
    let (status, v) = app
        .post_json("/crm/v3/objects/deals/batch/update", &json!({"inputs": updates}))
        .await;
    assert_eq!(status, 200);
    assert!(
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["properties"]["dealstage"] == "closedwon")
    );
    let bad = json!({"inputs": [{"properties": {"dealname": "ok"}}, {"properties": {"nope": "x"}}]});
    let (status, _) = app.post_json("/crm/v3/objects/deals/batch/create", &bad).await;
    assert_eq!(status, 400);
    assert_eq!(app.sandbox.count(sandbox_hubspot::ObjectType::Deals), 109);
}

#[tokio::test]
async fn v4_associations_list_labels_from_both_sides() {
    let app = spawn().await;
    let v = app
        .get_json(&format!("/crm/v4/objects/deals/{NORTHWIND_CORE}/associations/contacts"))
        .await;
    let nora = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["toObjectId"] == 1000000001u64)
        .unwrap();
    let types = nora["associationTypes"].as_array().unwrap();
    assert!(types.contains(&json!({"category": "HUBSPOT_DEFINED", "typeId": 3, "label": null})));
    assert!(types.contains(&json!({"category": "USER_DEFINED", "typeId": 101, "label": "Decision maker"})));
    let back = app
        .get_json(&format!("/crm/objects/2026-03/contacts/{NORA}/associations/deals"))
        .await;
    let labels: Vec<&Value> = back["results"][0]["associationTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["typeId"])
        .collect();
    assert!(labels.contains(&&json!(102)) && labels.contains(&&json!(4)));
    let defs = app.get_json("/crm/v4/associations/deals/contacts/labels").await;
    assert!(defs["results"].as_array().unwrap().iter().any(|d| d["label"] == "Billing contact"));
}

#[tokio::test]
async fn putting_labels_replaces_them_and_batch_read_sees_the_change() {
    let app = spawn().await;
    let path = format!("/crm/v4/objects/deals/{NORTHWIND_CORE}/associations/contacts/{NORA}");
    let (status, v) = app
        .put_json(&path, &json!([{"associationCategory": "USER_DEFINED", "associationTypeId": 105}]))
        .await;
    assert_eq!(status, 201);
    assert_eq!(v["labels"], json!(["Billing contact"]));
    assert_eq!(v["fromObjectTypeId"], "0-3");
    let body = json!({"inputs": [{"id": NORTHWIND_CORE}, {"id": "3000000009"}]});
    let (status, v) = app.post_json("/crm/v4/associations/deals/contacts/batch/read", &body).await;
    assert_eq!(status, 200);
    let to = v["results"][0]["to"].as_array().unwrap();
    let nora = to.iter().find(|t| t["toObjectId"] == 1000000001u64).unwrap();
    let ids: Vec<u64> = nora["associationTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["typeId"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [3, 105]);
    let (status, _) = app
        .put_json(&path, &json!([{"associationCategory": "USER_DEFINED", "associationTypeId": 9999}]))
        .await;
    assert_eq!(status, 400);
    assert_eq!(app.delete(&path).await, 204);
    let v = app
        .get_json(&format!("/crm/v4/objects/deals/{NORTHWIND_CORE}/associations/contacts"))
        .await;
    assert!(!v["results"].as_array().unwrap().iter().any(|r| r["toObjectId"] == 1000000001u64));
}

#[tokio::test]
async fn batch_read_of_a_record_without_associations_reports_it() {
    let app = spawn().await;
    let (status, v) = app
        .post_json(
            "/crm/v4/associations/deals/contacts/batch/read",
            &json!({"inputs": [{"id": "123"}]}),
        )
        .await;
    assert_eq!(status, 207);
    assert_eq!(v["errors"][0]["subCategory"], "crm.associations.NO_ASSOCIATIONS_FOUND");
}

#[tokio::test]
async fn tasks_and_notes_are_created_with_inline_associations_and_require_a_timestamp() {
    let app = spawn().await;
    let task = json!({
        "properties": {"hs_task_subject": "Kickoff call", "hs_task_status": "NOT_STARTED", "hs_task_priority": "HIGH", "hs_timestamp": "2026-12-01T10:00:00Z"},
        "associations": [{"to": {"id": NORTHWIND_CORE}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 216}]}]
    });
    let (status, v) = app.post_json("/crm/v3/objects/tasks", &task).await;
    assert_eq!(status, 201);
    let task_id = v["id"].as_str().unwrap().to_string();
    let deal_tasks = app
        .get_json(&format!("/crm/v4/objects/deals/{NORTHWIND_CORE}/associations/tasks"))
        .await;
    assert!(
        deal_tasks["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(
                |r| r["toObjectId"].as_u64().map(|i| i.to_string()).as_deref() == Some(task_id.as_str())
                    && r["associationTypes"][0]["typeId"] == 215
            )
    );
    let (status, _) = app
        .put_json(
            &format!("/crm/v3/objects/tasks/{task_id}/associations/contacts/{NORA}/204"),
            &json!(null),
        )
        .await;
    assert_eq!(status, 200);
    let note = json!({"properties": {"hs_note_body": "Met the team", "hs_timestamp": 1764583200000u64},
                      "associations": [{"to": {"id": NORA}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}]});
    let (status, v) = app.post_json("/crm/v3/objects/notes", &note).await;
    assert_eq!(status, 201);
    assert_eq!(v["properties"]["hs_timestamp"], "2025-12-01T10:00:00.000Z");
    let (status, v) = app
        .post_json("/crm/v3/objects/notes", &json!({"properties": {"hs_note_body": "no time"}}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(v["errors"][0]["code"], "REQUIRED_PROPERTY");
    let with_assoc = app
        .get_json(&format!("/crm/v3/objects/tasks/{task_id}?associations=contacts,deals"))
        .await;
    assert_eq!(with_assoc["associations"]["contacts"]["results"][0]["id"], NORA);
}
