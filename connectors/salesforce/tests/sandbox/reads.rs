use std::collections::HashSet;

use chrono::{Duration, Utc};
use crm_salesforce::poll::{PollQuery, contact_roles};
use crm_salesforce::{Error, QueryOptions};

use super::{env, env_with_opportunities};

const QUERY: &str = "GET /services/data/{version}/query";

#[tokio::test]
async fn a_poll_query_returns_opportunities_with_contact_roles_and_emails_in_one_call() {
    let env = env().await;
    let soql = PollQuery::new("Opportunity", &["Name", "StageName", "Account.Name"])
        .with_contact_roles()
        .soql()
        .unwrap();
    let records = env.client.query_all_records(&soql, QueryOptions::default()).await.unwrap();
    assert!(!records.is_empty());
    assert_eq!(env.client.calls_made(), 1);
    let with_roles: Vec<_> = records
        .iter()
        .map(|r| contact_roles(r).unwrap())
        .filter(|roles| !roles.is_empty())
        .collect();
    assert!(!with_roles.is_empty(), "the fixture has contact roles");
    assert!(
        with_roles
            .iter()
            .flatten()
            .any(|role| role.email.as_deref().is_some_and(|e| e.contains('@')))
    );
    let stamps: Vec<_> = records.iter().map(|r| r.system_modstamp().unwrap()).collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "ordered by SystemModstamp");
}

#[tokio::test]
async fn a_large_query_is_read_page_by_page_through_next_records_url() {
    let env = env_with_opportunities(450).await;
    let options = QueryOptions {
        batch_size: Some(200),
        ..Default::default()
    };
    let soql = PollQuery::new("Opportunity", &["Name"]).with_contact_roles().soql().unwrap();
    let mut pager = env.client.query_pages(&soql, options);
    let mut ids = HashSet::new();
    let mut pages = 0;
    while let Some(page) = pager.next_page().await.unwrap() {
        pages += 1;
        assert_eq!(page.total_size, 450);
        ids.extend(page.records.iter().map(|r| r.id().unwrap().to_owned()));
    }
    assert_eq!(ids.len(), 450, "every record once");
    assert!(pages >= 3, "{pages} pages of at most 200");
    assert_eq!(env.client.calls_made(), pages);
    assert_eq!(env.sandbox.requests().count(QUERY), 1, "later pages go to the locator");
}

#[tokio::test]
async fn query_all_also_returns_deleted_records() {
    let env = env().await;
    let victim = env.sandbox.ids("Contact")[0].clone();
    env.sandbox.delete_record("Contact", &victim).unwrap();
    let soql = "SELECT Id FROM Contact";
    let live = env.client.query_all_records(soql, QueryOptions::default()).await.unwrap();
    let all = env
        .client
        .query_all_records(
            soql,
            QueryOptions {
                include_deleted: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!live.iter().any(|r| r.id() == Some(victim.as_str())));
    assert!(all.iter().any(|r| r.id() == Some(victim.as_str())));
}

#[tokio::test]
async fn describe_lists_fields_with_types_flags_and_picklist_values() {
    let env = env().await;
    let describe = env.client.describe("Opportunity").await.unwrap();
    assert_eq!(describe.name, "Opportunity");
    let stage = describe.field("StageName").unwrap();
    assert_eq!(stage.field_type, "picklist");
    assert!(stage.active_values().any(|v| v == "Closed Won"));
    assert!(!describe.field("Id").unwrap().updateable);
    assert!(describe.fields.iter().any(|f| f.custom), "the sandbox seeds custom fields");
    let roles = env.client.describe("OpportunityContactRole").await.unwrap();
    assert!(roles.field("Role").unwrap().nillable);
}

#[tokio::test]
async fn get_updated_and_get_deleted_answer_for_a_window() {
    let env = env().await;
    let end = Utc::now();
    let start = end - Duration::days(29);
    let updated = env.client.get_updated("Opportunity", start, end).await.unwrap();
    assert!(!updated.ids.is_empty(), "seeded changes fall inside the last 30 days");
    assert!(updated.latest_date_covered <= end);
    let deleted = env.client.get_deleted("Opportunity", end - Duration::days(14), end).await.unwrap();
    assert!(deleted.earliest_date_available.is_some());
    assert!(!deleted.log_purged_since(end - Duration::days(14)));
}

#[tokio::test]
async fn a_window_older_than_salesforce_keeps_is_refused_with_its_error_code() {
    let env = env().await;
    let end = Utc::now();
    let err = env
        .client
        .get_deleted("Opportunity", end - Duration::days(40), end)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Api { status: 400, errors } if errors[0].error_code == "INVALID_REPLICATION_DATE"),
        "{err}"
    );
}

#[tokio::test]
async fn the_limit_header_and_the_limits_resource_report_the_budget() {
    let env = env().await;
    assert_eq!(env.client.budget(), None, "nothing known before the first call");
    env.client.query("SELECT Id FROM Account").await.unwrap();
    let budget = env.client.budget().unwrap();
    assert_eq!(budget.max, 100_000);
    assert!(budget.used >= 1 && budget.remaining() < 100_000);
    let limits = env.client.limits().await.unwrap();
    let daily = limits.daily_api_requests().unwrap();
    assert_eq!(daily.max, 100_000);
    assert!(env.client.budget().unwrap().used >= budget.used);
}

#[tokio::test]
async fn a_malformed_query_is_refused_with_its_error_code_and_not_retried() {
    let env = env().await;
    let err = env.client.query("SELEC Id FRM Account").await.unwrap_err();
    assert!(
        matches!(&err, Error::Api { status: 400, errors } if errors[0].error_code == "MALFORMED_QUERY"),
        "{err}"
    );
    let err = env.client.query("SELECT NoSuchField__c FROM Account").await.unwrap_err();
    assert!(
        matches!(&err, Error::Api { status: 400, errors } if errors[0].error_code == "INVALID_FIELD"),
        "{err}"
    );
    assert_eq!(env.client.calls_made(), 2);
}

#[tokio::test]
async fn a_missing_record_is_not_found() {
    let env = env().await;
    let err = env
        .client
        .get_record("Opportunity", "006000000000001", &["Name"])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    let id = env.sandbox.ids("Opportunity")[0].clone();
    let record = env.client.get_record("Opportunity", &id, &["Name", "StageName"]).await.unwrap();
    assert_eq!(record.id(), Some(id.as_str()));
    assert!(record.get_str("StageName").is_some());
}
