//! Describe and single-record CRUD, with Salesforce's system fields and errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{V, error_code, start};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn describe_lists_fields_with_types_flags_and_picklists() {
    let (sandbox, api) = start().await;
    let d: Value = api.get(&format!("{V}/sobjects/Opportunity/describe/")).await.json().await.unwrap();
    assert_eq!((d["name"].as_str(), d["keyPrefix"].as_str()), (Some("Opportunity"), Some("006")));
    let field = |n: &str| d["fields"].as_array().unwrap().iter().find(|f| f["name"] == n).cloned().unwrap();
    let stage = field("StageName");
    assert_eq!(
        (stage["type"].as_str(), stage["nillable"].as_bool()),
        (Some("picklist"), Some(false))
    );
    assert!(
        stage["picklistValues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["value"] == "Closed Won")
    );
    assert_eq!(field("IsWon")["updateable"], false);
    assert_eq!(field("Onboarding_Progress__c")["type"], "percent");
    assert_eq!(field("Project_URL__c")["type"], "url");
    assert_eq!(field("Product_Line__c")["custom"], true);
    assert_eq!(field("AccountId")["referenceTo"], json!(["Account"]));
    assert_eq!(field("AccountId")["relationshipName"], "Account");
    let ocr: Value = api
        .get(&format!("{V}/sobjects/OpportunityContactRole/describe"))
        .await
        .json()
        .await
        .unwrap();
    let role = ocr["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Role")
        .cloned()
        .unwrap();
    for r in ["Decision Maker", "Technical Buyer", "Economic Buyer", "Evaluator", "Business User"] {
        assert!(role["picklistValues"].as_array().unwrap().iter().any(|p| p["value"] == r), "{r}");
    }
    let r = api.get(&format!("{V}/sobjects/Nothing/describe")).await;
    assert_eq!(r.status(), 404);
    let global: Value = api.get(&format!("{V}/sobjects")).await.json().await.unwrap();
    assert_eq!(global["sobjects"].as_array().unwrap().len(), 6);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn records_are_created_read_updated_and_deleted_with_system_fields_maintained() {
    let (sandbox, api) = start().await;
    let r = api
        .send(
            Method::POST,
            &format!("{V}/sobjects/Contact/"),
            &json!({"FirstName": "Zoe", "LastName": "Quinn", "Email": "zoe@example.com"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created, json!({"id": id, "success": true, "errors": []}));
    assert!(id.starts_with("003") && sandbox_salesforce::normalize_id(&id[..15]).as_deref() == Some(id.as_str()));
    let got: Value = api.get(&format!("{V}/sobjects/Contact/{id}")).await.json().await.unwrap();
    assert_eq!(got["Name"], "Zoe Quinn");
    assert_eq!(got["OwnerId"], sandbox.admin_user_id().as_str());
    let stamp1 = got["SystemModstamp"].as_str().unwrap().to_string();
    assert!(stamp1.ends_with("+0000") && stamp1.len() == 28, "{stamp1}");
    let r = api
        .send(
            Method::PATCH,
            &format!("{V}/sobjects/Contact/{}", &id[..15]),
            &json!({"Title": "CTO", "Email": null}),
        )
        .await;
    assert_eq!(r.status(), 204);
    let got: Value = api
        .get(&format!("{V}/sobjects/Contact/{id}?fields=Title,Email,SystemModstamp"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((got["Title"].as_str(), got["Email"].is_null()), (Some("CTO"), true));
    assert!(got["SystemModstamp"].as_str().unwrap() > stamp1.as_str());
    assert!(got.get("FirstName").is_none());
    assert_eq!(
        api.send(Method::DELETE, &format!("{V}/sobjects/Contact/{id}"), &Value::Null)
            .await
            .status(),
        204
    );
    let again = api.send(Method::DELETE, &format!("{V}/sobjects/Contact/{id}"), &Value::Null).await;
    assert_eq!(error_code(&again.json().await.unwrap()), "ENTITY_IS_DELETED");
    assert_eq!(sandbox.record("Contact", &id).unwrap()["IsDeleted"], true);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn only_one_contact_role_per_opportunity_stays_primary() {
    let (sandbox, api) = start().await;
    let opp = sandbox.ids("Opportunity")[0].clone();
    let contact = sandbox.ids("Contact")[3].clone();
    let body = json!({"OpportunityId": opp, "ContactId": contact, "Role": "Evaluator", "IsPrimary": true});
    let r: Value = api
        .send(Method::POST, &format!("{V}/sobjects/OpportunityContactRole"), &body)
        .await
        .json()
        .await
        .unwrap();
    let q = format!("SELECT Id FROM OpportunityContactRole WHERE OpportunityId = '{opp}' AND IsPrimary = true");
    let primaries = api.query_ok(&q).await;
    assert_eq!(primaries["totalSize"], 1);
    assert_eq!(primaries["records"][0]["Id"], r["id"]);
    let moved = api
        .send(
            Method::PATCH,
            &format!("{V}/sobjects/OpportunityContactRole/{}", r["id"].as_str().unwrap()),
            &json!({"OpportunityId": opp}),
        )
        .await;
    assert_eq!(error_code(&moved.json().await.unwrap()), "INVALID_FIELD_FOR_INSERT_UPDATE");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn bad_bodies_ids_and_values_get_salesforce_error_codes() {
    let (sandbox, api) = start().await;
    let acct = sandbox.ids("Account")[0].clone();
    let cases: Vec<(Method, String, Value, u16, &str)> = vec![
        (
            Method::POST,
            format!("{V}/sobjects/Contact"),
            json!({"FirstName": "No last name"}),
            400,
            "REQUIRED_FIELD_MISSING",
        ),
        (
            Method::POST,
            format!("{V}/sobjects/Contact"),
            json!({"LastName": "X", "Nope__c": 1}),
            400,
            "INVALID_FIELD",
        ),
        (
            Method::POST,
            format!("{V}/sobjects/Contact"),
            json!({"LastName": "X", "Email": "not-an-email"}),
            400,
            "INVALID_EMAIL_ADDRESS",
        ),
        (
            Method::POST,
            format!("{V}/sobjects/Contact"),
            json!({"LastName": "X", "AccountId": "001bad"}),
            400,
            "MALFORMED_ID",
        ),
        (
            Method::POST,
            format!("{V}/sobjects/Opportunity"),
            json!({"Name": "X", "StageName": "Maybe", "CloseDate": "2026-12-01"}),
            400,
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        ),
        (
            Method::POST,
            format!("{V}/sobjects/Opportunity"),
            json!({"Name": "X", "StageName": "Prospecting", "CloseDate": "soon"}),
            400,
            "JSON_PARSER_ERROR",
        ),
        (
            Method::POST,
            format!("{V}/sobjects/Opportunity"),
            json!({"Name": "X", "StageName": "Prospecting", "CloseDate": "2026-12-01", "IsWon": true}),
            400,
            "INVALID_FIELD_FOR_INSERT_UPDATE",
        ),
        (
            Method::PATCH,
            format!("{V}/sobjects/Account/{acct}"),
            json!({"Name": "x".repeat(300)}),
            400,
            "STRING_TOO_LONG",
        ),
        (
            Method::PATCH,
            format!("{V}/sobjects/Account/001Dn000000zzzz"),
            json!({"Name": "x"}),
            404,
            "NOT_FOUND",
        ),
        (Method::GET, format!("{V}/sobjects/Account/garbage"), Value::Null, 404, "NOT_FOUND"),
        (Method::GET, format!("{V}/sobjects/Widget/{acct}"), Value::Null, 404, "NOT_FOUND"),
    ];
    for (m, path, body, status, code) in cases {
        let r = if body.is_null() {
            api.get(&path).await
        } else {
            api.send(m, &path, &body).await
        };
        assert_eq!(r.status(), status, "{path} {body}");
        assert_eq!(error_code(&r.json().await.unwrap()), code, "{path} {body}");
    }
    let r = api
        .client
        .post(format!("{}{V}/sobjects/Account", api.base))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), error_code(&r.json().await.unwrap()).to_string()),
        (400, "JSON_PARSER_ERROR".to_string())
    );
    sandbox.shutdown().await;
}
