use std::sync::Arc;
use std::time::Duration;

use crm_http::BoxFuture;
use crm_salesforce::poll::PollQuery;
use crm_salesforce::write::NewTask;
use crm_salesforce::{AccessToken, Client, Error, QueryOptions, StaticToken, TokenError, TokenProvider};
use sandbox_salesforce::Config;
use secrecy::SecretString;

use super::{env, env_with, env_with_opportunities, fast_retries};

const SOQL: &str = "SELECT Id, Name FROM Account";

#[tokio::test]
async fn server_errors_on_reads_are_retried_until_they_succeed() {
    let env = env().await;
    // Faults apply to the token endpoint too: get the token first.
    env.tokens.token().await.unwrap();
    env.sandbox.faults().fail_next(2, 500);
    env.client.query(SOQL).await.unwrap();
    assert_eq!(env.client.calls_made(), 3);
}

#[tokio::test]
async fn server_errors_past_the_retry_budget_are_reported_with_their_status() {
    let env = env().await;
    env.tokens.token().await.unwrap();
    env.sandbox.faults().fail_next(3, 503);
    let err = env.client.query(SOQL).await.unwrap_err();
    assert!(matches!(err, Error::Server { status: 503, .. }), "{err}");
    assert!(err.is_transient());
    assert_eq!(env.client.calls_made(), 3, "one attempt and two retries");
}

#[tokio::test]
async fn a_create_is_not_retried_after_a_server_error() {
    let env = env().await;
    let tasks_before = env.sandbox.count("Task");
    env.tokens.token().await.unwrap();
    env.sandbox.faults().fail_next(1, 500);
    let err = env.client.create_task(&NewTask::completed("Once only")).await.unwrap_err();
    assert!(matches!(err, Error::Server { status: 500, .. }), "{err}");
    assert_eq!(env.client.calls_made(), 1);
    assert_eq!(env.sandbox.count("Task"), tasks_before);
}

#[tokio::test]
async fn a_failing_token_endpoint_is_reported_as_unavailable_not_rejected() {
    let env = env().await;
    env.sandbox.faults().fail_next(1, 503);
    let err = env.client.query(SOQL).await.unwrap_err();
    assert!(matches!(err, Error::Token(TokenError::Unavailable(_))), "{err}");
    assert!(err.is_transient());
    assert_eq!(env.client.calls_made(), 0, "no API call without a token");
    env.client.query(SOQL).await.unwrap();
}

#[tokio::test]
async fn request_limit_exceeded_is_reported_at_once_and_not_retried() {
    let env = env().await;
    env.sandbox.faults().limit_burst(1);
    let err = env.client.query(SOQL).await.unwrap_err();
    assert!(matches!(err, Error::RequestLimitExceeded { .. }), "{err}");
    assert!(err.is_rate_limited() && !err.is_transient());
    assert_eq!(env.client.calls_made(), 1);
    env.client.query(SOQL).await.unwrap();
}

#[tokio::test]
async fn a_hanging_read_times_out_and_is_retried() {
    let env = env_with(Config::for_tests(), Duration::from_millis(500), fast_retries(2)).await;
    env.tokens.token().await.unwrap();
    env.sandbox.faults().hang_next(1);
    env.client.query(SOQL).await.unwrap();
    assert_eq!(env.client.calls_made(), 2);
}

#[tokio::test]
async fn a_read_that_keeps_hanging_ends_in_a_timeout_error() {
    let env = env_with(Config::for_tests(), Duration::from_millis(300), fast_retries(1)).await;
    env.tokens.token().await.unwrap();
    env.sandbox.faults().hang_next(5);
    let err = env.client.query(SOQL).await.unwrap_err();
    assert!(matches!(err, Error::Timeout), "{err}");
    assert_eq!(env.client.calls_made(), 2);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_call_retried() {
    let env = env().await;
    env.client.query(SOQL).await.unwrap();
    env.sandbox.faults().expire_access_tokens();
    env.client.query(SOQL).await.unwrap();
    assert_eq!(env.tokens.token_requests(), 2, "the first token and one refresh");
    assert_eq!(env.client.calls_made(), 3, "ok, 401, retried ok");
}

#[tokio::test]
async fn an_expired_token_in_the_middle_of_paging_is_refreshed_and_paging_goes_on() {
    let env = env_with_opportunities(450).await;
    let soql = PollQuery::new("Opportunity", &["Name"]).soql().unwrap();
    let options = QueryOptions {
        batch_size: Some(200),
        ..Default::default()
    };
    let mut pager = env.client.query_pages(&soql, options);
    let mut seen = pager.next_page().await.unwrap().unwrap().records.len();
    env.sandbox.faults().expire_access_tokens();
    while let Some(page) = pager.next_page().await.unwrap() {
        seen += page.records.len();
    }
    assert_eq!(seen, 450);
    assert_eq!(env.tokens.token_requests(), 2);
}

#[tokio::test]
async fn parallel_calls_rejected_together_cause_a_single_refresh() {
    let env = env().await;
    env.client.query(SOQL).await.unwrap();
    env.sandbox.faults().expire_access_tokens();
    let client = Arc::new(env.client.clone());
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.query(SOQL).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(env.tokens.token_requests(), 2, "one refresh for all eight");
}

/// Hands out tokens the sandbox never issued.
struct Bogus(String);

impl TokenProvider for Bogus {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, TokenError>> {
        let mut token = AccessToken::new(SecretString::from("bogus-1"));
        token.instance_url = Some(self.0.clone());
        Box::pin(async move { Ok(token) })
    }

    fn refresh<'a>(&'a self, _: &'a AccessToken) -> BoxFuture<'a, Result<AccessToken, TokenError>> {
        let mut token = AccessToken::new(SecretString::from("bogus-2"));
        token.instance_url = Some(self.0.clone());
        Box::pin(async move { Ok(token) })
    }
}

#[tokio::test]
async fn a_session_rejected_again_after_the_refresh_is_reported_as_unauthorized() {
    let env = env().await;
    let client = Client::builder(Arc::new(Bogus(env.sandbox.base_url()))).build().unwrap();
    let err = client.query(SOQL).await.unwrap_err();
    assert!(
        matches!(&err, Error::Unauthorized { errors } if errors[0].error_code == "INVALID_SESSION_ID"),
        "{err}"
    );
    assert_eq!(client.calls_made(), 2, "one retry after the refresh, no loop");
}

#[tokio::test]
async fn a_static_token_that_expires_cannot_be_refreshed_and_says_so() {
    let env = env().await;
    let token = env.tokens.token().await.unwrap();
    let client = Client::new(Arc::new(StaticToken(token))).unwrap();
    client.query(SOQL).await.unwrap();
    env.sandbox.faults().expire_access_tokens();
    let err = client.query(SOQL).await.unwrap_err();
    assert!(matches!(err, Error::Token(TokenError::Rejected(_))), "{err}");
}
