use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use secrecy::ExposeSecret;

use super::*;

/// Issues `token-1`, `token-2`, … slowly, so concurrent callers overlap.
struct Counting {
    issued: AtomicUsize,
    instance_url: Option<&'static str>,
}

impl TokenSource for Counting {
    fn fetch<'a>(&'a self, _current: Option<&'a AccessToken>) -> BoxFuture<'a, Result<TokenResponse, AuthError>> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
            let mut access_token = AccessToken::new(SecretString::from(format!("token-{n}")));
            access_token.instance_url = self.instance_url.map(str::to_owned);
            Ok(TokenResponse {
                access_token,
                refresh_token: None,
                identity_url: None,
                issued_at: None,
                scopes: Vec::new(),
            })
        })
    }
}

fn provider(instance_url: Option<&'static str>) -> Arc<RefreshingTokenProvider> {
    let source = Counting {
        issued: AtomicUsize::new(0),
        instance_url,
    };
    Arc::new(RefreshingTokenProvider::new(Grant::Custom(Box::new(source))).unwrap())
}

#[tokio::test]
async fn the_first_token_is_fetched_once_and_then_reused() {
    let provider = provider(Some("https://na1.salesforce.com"));
    let first = provider.token().await.unwrap();
    let second = provider.token().await.unwrap();
    assert_eq!(first.secret.expose_secret(), "token-1");
    assert!(first.same_as(&second));
    assert_eq!(provider.token_requests(), 1);
}

#[tokio::test]
async fn concurrent_refreshes_of_one_rejected_token_make_a_single_request() {
    let provider = provider(Some("https://na1.salesforce.com"));
    let rejected = provider.token().await.unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let provider = provider.clone();
            let rejected = rejected.clone();
            tokio::spawn(async move { provider.refresh(&rejected).await.unwrap() })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().secret.expose_secret(), "token-2");
    }
    assert_eq!(provider.token_requests(), 2, "one initial fetch and one refresh");
}

#[tokio::test]
async fn a_refresh_without_instance_url_keeps_the_previous_one() {
    let provider = Arc::new(
        RefreshingTokenProvider::new(Grant::Custom(Box::new(Counting {
            issued: AtomicUsize::new(0),
            instance_url: None,
        })))
        .unwrap()
        .with_token(AccessToken {
            secret: SecretString::from("stored"),
            instance_url: Some("https://acme.my.salesforce.com".into()),
            expires_at: None,
        }),
    );
    let stored = provider.token().await.unwrap();
    assert_eq!(provider.token_requests(), 0, "a seeded token needs no request");
    let refreshed = provider.refresh(&stored).await.unwrap();
    assert_eq!(refreshed.secret.expose_secret(), "token-1");
    assert_eq!(refreshed.instance_url.as_deref(), Some("https://acme.my.salesforce.com"));
}

#[tokio::test]
async fn an_expired_token_is_replaced_before_use() {
    let source = Counting {
        issued: AtomicUsize::new(0),
        instance_url: Some("https://na1.salesforce.com"),
    };
    let provider = RefreshingTokenProvider::new(Grant::Custom(Box::new(source)))
        .unwrap()
        .with_token(AccessToken {
            secret: SecretString::from("old"),
            instance_url: None,
            expires_at: Some(SystemTime::now()),
        });
    assert_eq!(provider.token().await.unwrap().secret.expose_secret(), "token-1");
}

#[tokio::test]
async fn a_rejected_grant_becomes_a_final_token_error() {
    struct Refusing;
    impl TokenSource for Refusing {
        fn fetch<'a>(&'a self, _: Option<&'a AccessToken>) -> BoxFuture<'a, Result<TokenResponse, AuthError>> {
            Box::pin(async {
                Err(AuthError::Rejected {
                    error: "invalid_grant".into(),
                    description: "expired access/refresh token".into(),
                })
            })
        }
    }
    let provider = RefreshingTokenProvider::new(Grant::Custom(Box::new(Refusing))).unwrap();
    assert!(matches!(provider.token().await, Err(TokenError::Rejected(_))));
}
