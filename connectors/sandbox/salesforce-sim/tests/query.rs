//! SOQL over HTTP: paging, the subset, and errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{V, error_code, start, started};
use sandbox_salesforce::{Config, Seed};
use serde_json::Value;

#[tokio::test]
async fn pages_follow_next_records_url_with_the_requested_batch_size() {
    let config = Config {
        seed: Seed::generate(700, 5),
        ..Config::for_tests()
    };
    let (sandbox, api) = started(config).await;
    let r = api
        .client
        .get(format!("{}{V}/query", api.base))
        .query(&[("q", "SELECT Id FROM Opportunity ORDER BY Id")])
        .header("Sforce-Query-Options", "batchSize=250")
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let mut page: Value = r.json().await.unwrap();
    assert_eq!(page["totalSize"], 700);
    let mut seen = Vec::new();
    loop {
        seen.extend(
            page["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["Id"].as_str().unwrap().to_string()),
        );
        if page["done"] == true {
            assert!(page.get("nextRecordsUrl").is_none());
            break;
        }
        assert_eq!(page["records"].as_array().unwrap().len(), 250);
        page = api.get(page["nextRecordsUrl"].as_str().unwrap()).await.json().await.unwrap();
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!((seen.len(), sorted.len()), (700, 700));
    // Below the minimum of 200 the batch size is raised to 200; the default is 2,000.
    let small = api
        .client
        .get(format!("{}{V}/query", api.base))
        .query(&[("q", "SELECT Id FROM Opportunity")])
        .header("Sforce-Query-Options", "batchSize=5")
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let small: Value = small.json().await.unwrap();
    assert_eq!(small["records"].as_array().unwrap().len(), 200);
    let bad = api.get(&format!("{V}/query/01gnotalocator-200")).await;
    assert_eq!(error_code(&bad.json().await.unwrap()), "INVALID_QUERY_LOCATOR");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_polling_query_filters_sorts_and_nests_parents_and_contact_roles() {
    let (sandbox, api) = start().await;
    let body = api
        .query_ok(
            "SELECT Id, Name, Account.Name, Owner.Email, Onboarding_Status__c, \
             (SELECT Role, IsPrimary, Contact.Email FROM OpportunityContactRoles ORDER BY IsPrimary DESC, Role) \
             FROM Opportunity WHERE SystemModstamp >= 2020-01-01T00:00:00Z AND (StageName = 'Closed Won' OR Amount > 200000) \
             AND NOT Name LIKE '%lost%' ORDER BY Amount DESC NULLS LAST, Id LIMIT 10",
        )
        .await;
    let records = body["records"].as_array().unwrap();
    let names: Vec<&str> = records.iter().map(|r| r["Name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["Umbrella - Clinical Platform", "Acme - Plant Rollout", "Initech - Migration"]
    );
    let acme = &records[1];
    assert_eq!(acme["attributes"]["type"], "Opportunity");
    assert_eq!(acme["Account"]["Name"], "Acme Corporation");
    assert_eq!(acme["Account"]["attributes"]["type"], "Account");
    assert_eq!(acme["Owner"]["Email"], "maria.lopez@sandbox.example.com");
    let roles = &acme["OpportunityContactRoles"];
    assert_eq!(roles["totalSize"], 3);
    assert_eq!(roles["records"][0]["Role"], "Decision Maker");
    assert_eq!(roles["records"][0]["IsPrimary"], true);
    assert_eq!(roles["records"][0]["Contact"]["Email"], "ada.reyes@acme.example.com");
    // Opportunities without contact roles get null, as Salesforce returns.
    let lost = api
        .query_ok("SELECT Id, (SELECT Id FROM OpportunityContactRoles) FROM Opportunity WHERE StageName = 'Closed Lost'")
        .await;
    assert!(lost["records"][0]["OpportunityContactRoles"].is_null());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn in_null_boolean_date_and_count_conditions_work() {
    let (sandbox, api) = start().await;
    let b = api
        .query_ok("SELECT Id FROM Opportunity WHERE StageName IN ('Closed Won', 'Closed Lost') AND CloseDate < 2026-11-01")
        .await;
    assert_eq!(b["totalSize"], 2);
    let b = api.query_ok("SELECT Id FROM Opportunity WHERE Onboarding_Status__c = null").await;
    assert_eq!(b["totalSize"], 6);
    let b = api
        .query_ok("SELECT Id FROM Opportunity WHERE IsWon = true AND Onboarding_Status__c != null")
        .await;
    assert_eq!(b["totalSize"], 2);
    let b = api
        .query_ok("SELECT Id FROM Opportunity WHERE StageName NOT IN ('Closed Won') AND Name like 'acme%'")
        .await;
    assert_eq!(b["totalSize"], 1);
    let b = api
        .query_ok("SELECT COUNT() FROM Contact WHERE Account.Name = 'Acme Corporation'")
        .await;
    assert_eq!((b["totalSize"].as_u64(), b["records"].as_array().map(Vec::len)), (Some(3), Some(0)));
    let opp = sandbox.ids("Opportunity")[0].clone();
    let b = api
        .query_ok(&format!(
            "SELECT Id, ContactId FROM OpportunityContactRole WHERE OpportunityId = '{}'",
            &opp[..15]
        ))
        .await;
    assert_eq!(b["totalSize"], 3);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn malformed_soql_and_unknown_fields_get_salesforce_errors() {
    let (sandbox, api) = start().await;
    let cases = [
        ("SELECT Id FRM Account", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE Name = 'unterminated", "MALFORMED_QUERY"),
        ("SELECT Id, Nope__c FROM Account", "INVALID_FIELD"),
        ("SELECT Id, Acount.Name FROM Contact", "INVALID_FIELD"),
        ("SELECT Id FROM Opportunity WHERE Amount = 'ten'", "INVALID_FIELD"),
        ("SELECT Id FROM Nothing", "INVALID_TYPE"),
        ("SELECT Id, (SELECT Id FROM Nothings) FROM Opportunity", "INVALID_TYPE"),
        ("", "MALFORMED_QUERY"),
    ];
    for (q, code) in cases {
        let r = api.query(q).await;
        assert_eq!(r.status(), 400, "{q}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(error_code(&body), code, "{q}: {body}");
    }
    let r: Value = api.query("SELECT Id, Nope__c FROM Account").await.json().await.unwrap();
    assert!(
        r[0]["message"]
            .as_str()
            .unwrap()
            .contains("No such column 'Nope__c' on entity 'Account'")
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn query_all_includes_deleted_records_and_query_does_not() {
    let (sandbox, api) = start().await;
    let id = sandbox.ids("Task")[0].clone();
    assert_eq!(
        api.send(reqwest::Method::DELETE, &format!("{V}/sobjects/Task/{id}"), &Value::Null)
            .await
            .status(),
        204
    );
    let q = format!("SELECT Id, IsDeleted FROM Task WHERE Id = '{id}'");
    assert_eq!(api.query_ok(&q).await["totalSize"], 0);
    let all: Value = api
        .client
        .get(format!("{}{V}/queryAll", api.base))
        .query(&[("q", q.as_str())])
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["records"][0]["IsDeleted"], true);
    sandbox.shutdown().await;
}
