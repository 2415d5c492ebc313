//! sObject Collections and composite requests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{V, error_code, start};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn collections_update_each_record_and_all_or_none_rolls_everything_back() {
    let (sandbox, api) = start().await;
    let ids = sandbox.ids("Opportunity");
    let records: Vec<Value> = ids[..3]
        .iter()
        .map(|id| json!({"attributes": {"type": "Opportunity"}, "id": id, "NextStep": "Kickoff"}))
        .collect();
    let r: Value = api
        .send(
            Method::PATCH,
            &format!("{V}/composite/sobjects"),
            &json!({"allOrNone": true, "records": records}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(r.as_array().unwrap().iter().all(|x| x["success"] == true), "{r}");
    assert_eq!(sandbox.record("Opportunity", &ids[2]).unwrap()["NextStep"], "Kickoff");
    let mixed = json!({"allOrNone": true, "records": [
        {"attributes": {"type": "Opportunity"}, "id": ids[0], "NextStep": "Changed"},
        {"attributes": {"type": "Opportunity"}, "id": "006bad", "NextStep": "x"},
    ]});
    let r: Value = api
        .send(Method::PATCH, &format!("{V}/composite/sobjects"), &mixed)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r[0]["errors"][0]["statusCode"], "ALL_OR_NONE_OPERATION_ROLLED_BACK");
    assert_eq!(r[1]["errors"][0]["statusCode"], "MALFORMED_ID");
    assert_eq!(sandbox.record("Opportunity", &ids[0]).unwrap()["NextStep"], "Kickoff");
    let partial = json!({"allOrNone": false, "records": mixed["records"]});
    let r: Value = api
        .send(Method::PATCH, &format!("{V}/composite/sobjects"), &partial)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((r[0]["success"].as_bool(), r[1]["success"].as_bool()), (Some(true), Some(false)));
    let too_many: Vec<Value> = (0..201)
        .map(|i| json!({"attributes": {"type": "Account"}, "Name": format!("A{i}")}))
        .collect();
    let r = api
        .send(Method::POST, &format!("{V}/composite/sobjects"), &json!({"records": too_many}))
        .await;
    assert_eq!(r.status(), 400);
    let created: Value = api.send(Method::POST, &format!("{V}/composite/sobjects"), &json!({"records": [{"attributes": {"type": "Account"}, "Name": "New"}, {"attributes": {"type": "Contact"}, "LastName": "New"}]})).await.json().await.unwrap();
    let new_ids: Vec<&str> = created.as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(new_ids[0].starts_with("001") && new_ids[1].starts_with("003"));
    let got: Value = api
        .get(&format!(
            "{V}/composite/sobjects/Account?ids={},001Dn0000000zzzAAA&fields=Name",
            new_ids[0]
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((got[0]["Name"].as_str(), got[1].is_null()), (Some("New"), true));
    let deleted: Value = api
        .send(
            Method::DELETE,
            &format!("{V}/composite/sobjects?ids={}&allOrNone=true", new_ids.join(",")),
            &Value::Null,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(deleted.as_array().unwrap().iter().all(|d| d["success"] == true));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn composite_runs_subrequests_with_references_and_counts_as_one_call() {
    let (sandbox, api) = start().await;
    let before = sandbox.api_usage().0;
    let body = json!({"allOrNone": false, "compositeRequest": [
        {"method": "POST", "url": format!("{V}/sobjects/Account"), "referenceId": "acct", "body": {"Name": "Composite Co"}},
        {"method": "POST", "url": format!("{V}/sobjects/Contact"), "referenceId": "ct", "body": {"LastName": "Comp", "AccountId": "@{acct.id}"}},
        {"method": "GET", "url": format!("{V}/sobjects/Contact/@{{ct.id}}?fields=AccountId"), "referenceId": "read"},
        {"method": "GET", "url": format!("{V}/query?q=SELECT+Id+FROM+Contact+WHERE+AccountId='@{{acct.id}}'"), "referenceId": "q"},
    ]});
    let r: Value = api.send(Method::POST, &format!("{V}/composite"), &body).await.json().await.unwrap();
    let out = r["compositeResponse"].as_array().unwrap();
    assert_eq!(
        out.iter().map(|o| o["httpStatusCode"].as_u64().unwrap()).collect::<Vec<_>>(),
        [201, 201, 200, 200],
        "{r}"
    );
    assert_eq!(out[2]["body"]["AccountId"], out[0]["body"]["id"]);
    assert_eq!(out[3]["body"]["totalSize"], 1);
    assert_eq!(sandbox.api_usage().0, before + 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn composite_all_or_none_undoes_earlier_subrequests_when_one_fails() {
    let (sandbox, api) = start().await;
    let accounts = sandbox.count("Account");
    let body = json!({"allOrNone": true, "compositeRequest": [
        {"method": "POST", "url": format!("{V}/sobjects/Account"), "referenceId": "a", "body": {"Name": "Doomed"}},
        {"method": "POST", "url": format!("{V}/sobjects/Contact"), "referenceId": "c", "body": {"FirstName": "No last name"}},
        {"method": "GET", "url": format!("{V}/limits"), "referenceId": "l"},
    ]});
    let r: Value = api.send(Method::POST, &format!("{V}/composite"), &body).await.json().await.unwrap();
    let out = r["compositeResponse"].as_array().unwrap();
    assert_eq!(out[0]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert_eq!(out[1]["body"][0]["errorCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(out[2]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert_eq!(sandbox.count("Account"), accounts);
    let subs: Vec<Value> = (0..26)
        .map(|i| json!({"method": "GET", "url": format!("{V}/limits"), "referenceId": format!("r{i}")}))
        .collect();
    let r = api
        .send(Method::POST, &format!("{V}/composite"), &json!({"compositeRequest": subs}))
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(error_code(&r.json().await.unwrap()), "LIMIT_EXCEEDED");
    sandbox.shutdown().await;
}
