use chrono::NaiveDate;
use crm_salesforce::write::{CompositeSubrequest, NOT_ATTEMPTED, NewTask, RecordUpdate};
use serde_json::{Map, Value, json};

use super::{env, env_with_opportunities};

const COLLECTION_PATCH: &str = "PATCH /services/data/{version}/composite/sobjects";

#[tokio::test]
async fn a_patch_sets_and_clears_fields() {
    let env = env().await;
    let id = env.sandbox.ids("Opportunity")[0].clone();
    let mut fields = Map::new();
    fields.insert("NextStep".into(), json!("Kickoff call"));
    env.client.update_record("Opportunity", &id, &fields).await.unwrap();
    assert_eq!(env.sandbox.record("Opportunity", &id).unwrap()["NextStep"], "Kickoff call");
    fields.insert("NextStep".into(), Value::Null);
    env.client.update_record("Opportunity", &id, &fields).await.unwrap();
    assert_eq!(env.sandbox.record("Opportunity", &id).unwrap()["NextStep"], Value::Null);
}

#[tokio::test]
async fn collection_updates_report_a_result_per_record_in_input_order() {
    let env = env().await;
    let ids = env.sandbox.ids("Contact");
    let updates = vec![
        RecordUpdate::new("Contact", &ids[0]).set("Title", "VP Operations"),
        RecordUpdate::new("Contact", "003000000000001").set("Title", "Ghost"),
        RecordUpdate::new("Contact", &ids[1]).set("Title", "CTO"),
    ];
    let results = env.client.update_records(&updates, false).await.unwrap();
    assert_eq!(results.len(), 3);
    assert!(results[0].success && results[2].success);
    assert!(!results[1].success);
    assert!(!results[1].errors[0].status_code.is_empty());
    assert_eq!(env.sandbox.record("Contact", &ids[2 - 1]).unwrap()["Title"], "CTO");
}

#[tokio::test]
async fn more_than_200_updates_are_sent_200_at_a_time() {
    let env = env_with_opportunities(450).await;
    let updates: Vec<_> = env
        .sandbox
        .ids("Opportunity")
        .iter()
        .map(|id| RecordUpdate::new("Opportunity", id).set("NextStep", "Onboarding"))
        .collect();
    let results = env.client.update_records(&updates, false).await.unwrap();
    assert_eq!(results.len(), 450);
    assert!(results.iter().all(|r| r.success));
    assert_eq!(env.sandbox.requests().count(COLLECTION_PATCH), 3);
    assert_eq!(env.client.calls_made(), 3);
}

#[tokio::test]
async fn all_or_none_rolls_back_a_failed_chunk_and_sends_no_more() {
    let env = env_with_opportunities(250).await;
    let mut updates: Vec<_> = env
        .sandbox
        .ids("Opportunity")
        .iter()
        .map(|id| RecordUpdate::new("Opportunity", id).set("NextStep", "Onboarding"))
        .collect();
    updates[5] = RecordUpdate::new("Opportunity", "006000000000001").set("NextStep", "Ghost");
    let results = env.client.update_records(&updates, true).await.unwrap();
    assert_eq!(results.len(), 250);
    assert!(results[..200].iter().all(|r| !r.success), "the whole first chunk is rolled back");
    assert!(results[200..].iter().all(|r| r.errors[0].status_code == NOT_ATTEMPTED));
    assert_eq!(env.sandbox.requests().count(COLLECTION_PATCH), 1);
    let untouched = &updates[0].id;
    assert_ne!(env.sandbox.record("Opportunity", untouched).unwrap()["NextStep"], "Onboarding");
}

#[tokio::test]
async fn a_completed_task_is_logged_on_the_opportunity_and_contact() {
    let env = env().await;
    let opportunity = env.sandbox.ids("Opportunity")[0].clone();
    let contact = env.sandbox.ids("Contact")[0].clone();
    let mut task = NewTask::completed("Onboarding kickoff held");
    task.what_id = Some(opportunity.clone());
    task.who_id = Some(contact.clone());
    task.activity_date = NaiveDate::from_ymd_opt(2026, 6, 30);
    let id = env.client.create_task(&task).await.unwrap();
    let stored = env.sandbox.record("Task", &id).unwrap();
    assert_eq!(stored["Status"], "Completed");
    assert_eq!(stored["WhatId"], opportunity.as_str());
    assert_eq!(stored["WhoId"], contact.as_str());
    assert_eq!(stored["Subject"], "Onboarding kickoff held");
}

#[tokio::test]
async fn an_invalid_write_is_refused_with_the_salesforce_error_array() {
    let env = env().await;
    let err = env
        .client
        .create_record("Contact", &json!({"FirstName": "NoLastName"}))
        .await
        .unwrap_err();
    let errors = err.api_errors();
    assert_eq!(errors[0].error_code, "REQUIRED_FIELD_MISSING", "{err}");
    assert!(errors[0].fields.iter().any(|f| f == "LastName"));
}

#[tokio::test]
async fn composite_runs_dependent_subrequests_in_one_call() {
    let env = env().await;
    let account = CompositeSubrequest {
        method: "POST".into(),
        url: env.client.api_path("sobjects/Account"),
        reference_id: "acct".into(),
        body: Some(json!({"Name": "Composite Co"})),
    };
    let contact = CompositeSubrequest {
        method: "POST".into(),
        url: env.client.api_path("sobjects/Contact"),
        reference_id: "ct".into(),
        body: Some(json!({"LastName": "Composite", "AccountId": "@{acct.id}"})),
    };
    let responses = env.client.composite(true, &[account, contact]).await.unwrap();
    assert_eq!(responses.len(), 2);
    assert!(responses.iter().all(|r| r.http_status_code == 201), "{responses:?}");
    assert_eq!(env.client.calls_made(), 1);
}
