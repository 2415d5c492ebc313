//! Writes against the HubSpot sandbox: batch update, tasks and notes with associations,
//! association labels.
// Helpers outside #[test] functions may panic too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use common::*;
use crm_hubspot::associations::{AssociationSpec, type_ids};
use crm_hubspot::engagements::{NewNote, NewTask, TaskStatus};
use crm_hubspot::objects::ObjectUpdate;
use crm_hubspot::objects::types::{CONTACTS, DEALS, NOTES, TASKS};
use crm_hubspot::{Error, ReadOptions};
use sandbox_hubspot::{Config, ObjectType, Seed};

fn progress(id: &str, value: &str) -> ObjectUpdate {
    ObjectUpdate {
        id: id.to_owned(),
        properties: BTreeMap::from([("onboarding_progress".to_owned(), value.to_owned())]),
        id_property: None,
    }
}

#[tokio::test]
async fn a_batch_update_of_250_deals_is_sent_as_three_requests() {
    let sb = sandbox_with(Config {
        seed: Seed::generate(260, 3),
        ..Config::for_tests()
    })
    .await;
    let client = client(&sb);
    let ids = sb.ids(ObjectType::Deals);
    let updates: Vec<ObjectUpdate> = ids.iter().take(250).map(|id| progress(&id.to_string(), "70")).collect();
    let result = client.batch_update(DEALS, &updates).await.unwrap();
    assert_eq!(result.results.len(), 250);
    assert!(result.errors.is_empty());
    assert_eq!(client.calls_made(), 3);
    let last = sb.record(ObjectType::Deals, ids[249]).unwrap();
    assert_eq!(last.properties["onboarding_progress"], "70");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_batch_update_with_an_unknown_id_reports_it() {
    let sb = sandbox().await;
    let result = client(&sb)
        .batch_update(DEALS, &[progress(NORTHWIND_CORE, "80"), progress("3999999999", "1")])
        .await;
    match result {
        Ok(r) => assert!(!r.errors.is_empty(), "{r:?}"),
        Err(Error::Api { status, body }) => assert!((400..500).contains(&status), "{body:?}"),
        Err(other) => panic!("{other:?}"),
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn a_task_is_created_with_its_deal_association() {
    let sb = sandbox().await;
    let client = client(&sb);
    let due = Utc.with_ymd_and_hms(2026, 2, 1, 9, 0, 0).unwrap();
    let task = NewTask {
        status: Some(TaskStatus::NotStarted),
        body: Some("Book the kickoff".into()),
        ..NewTask::new("Kickoff call", due)
    }
    .associate(NORTHWIND_CORE, AssociationSpec::hubspot(type_ids::TASK_TO_DEAL));
    let created = client.create_task(&task).await.unwrap();
    assert_eq!(created.get("hs_task_subject"), Some("Kickoff call"));
    let deals = client.associations(TASKS, &created.id, DEALS).await.unwrap();
    assert_eq!(
        deals.iter().map(|a| a.to_object_id.to_string()).collect::<Vec<_>>(),
        vec![NORTHWIND_CORE.to_owned()]
    );
    let stored = client
        .get_object(TASKS, &created.id, &ReadOptions::properties(["hs_timestamp", "hs_task_status"]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.get("hs_task_status"), Some("NOT_STARTED"));
    sb.shutdown().await;
}

#[tokio::test]
async fn a_note_is_created_with_its_contact_association() {
    let sb = sandbox().await;
    let client = client(&sb);
    let contact = sb.ids(ObjectType::Contacts)[0].to_string();
    let note =
        NewNote::new("Onboarding project created.", Utc::now()).associate(&contact, AssociationSpec::hubspot(type_ids::NOTE_TO_CONTACT));
    let created = client.create_note(&note).await.unwrap();
    let contacts = client.associations(NOTES, &created.id, CONTACTS).await.unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].to_object_id.to_string(), contact);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_note_body_over_the_limit_is_refused_before_sending() {
    let sb = sandbox().await;
    let client = client(&sb);
    let note = NewNote::new("x".repeat(65_537), Utc::now());
    assert!(matches!(client.create_note(&note).await, Err(Error::InvalidRequest(_))));
    assert_eq!(client.calls_made(), 0);
    sb.shutdown().await;
}

#[tokio::test]
async fn labels_set_on_an_association_replace_the_previous_ones() {
    let sb = sandbox().await;
    let client = client(&sb);
    let contacts = client.associations(DEALS, NORTHWIND_CORE, CONTACTS).await.unwrap();
    let nora = contacts
        .iter()
        .find(|a| a.labels().any(|l| l == "Decision maker"))
        .unwrap()
        .to_object_id
        .to_string();
    let types = [AssociationSpec::hubspot(type_ids::DEAL_TO_CONTACT), AssociationSpec::user(105)];
    client.associate(DEALS, NORTHWIND_CORE, CONTACTS, &nora, &types).await.unwrap();
    let after = client.associations(DEALS, NORTHWIND_CORE, CONTACTS).await.unwrap();
    let labels: Vec<&str> = after
        .iter()
        .find(|a| a.to_object_id.to_string() == nora)
        .unwrap()
        .labels()
        .collect();
    assert_eq!(labels, vec!["Billing contact"]);
    client.remove_associations(DEALS, NORTHWIND_CORE, CONTACTS, &nora).await.unwrap();
    assert_eq!(client.associations(DEALS, NORTHWIND_CORE, CONTACTS).await.unwrap().len(), 2);
    client.associate_default(DEALS, NORTHWIND_CORE, CONTACTS, &nora).await.unwrap();
    assert_eq!(client.associations(DEALS, NORTHWIND_CORE, CONTACTS).await.unwrap().len(), 3);
    sb.shutdown().await;
}
