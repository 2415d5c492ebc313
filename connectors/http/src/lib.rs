//! HTTP plumbing for the CRM connector crates.
//!
//! - [`client`] builds a reqwest 0.13 client on rustls with the *ring* crypto provider.
//!   reqwest 0.13 otherwise expects aws-lc-rs, while sqlx and lettre use ring; one
//!   provider keeps the build lean, and a client built before a provider is installed
//!   panics, so the install happens here, in the one constructor.
//! - [`OAuthHttp`] lets the `oauth2` 5 crate send its token requests through that client
//!   (oauth2's own reqwest support targets reqwest 0.12).

mod token;

pub use token::{AccessToken, BoxFuture, StaticToken, TokenError, TokenProvider};

use std::future::Future;
use std::pin::Pin;
use std::sync::Once;
use std::time::Duration;

/// Installs rustls' ring provider for the process, once. Safe to call from anywhere.
pub fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Fails only if another provider was installed first, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client for CRM APIs: the given total timeout per request, a shorter connect
/// timeout, and the caller's User-Agent.
pub fn client(user_agent: &str, timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        .user_agent(user_agent)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .build()
}

/// An `oauth2::AsyncHttpClient` over a reqwest 0.13 client. Build it from a client made
/// by [`client`]; token endpoints must not be followed through redirects (RFC 6749
/// §5.2 responses are never redirects), so [`OAuthHttp::new`] makes its own client with
/// redirects off.
#[derive(Clone, Debug)]
pub struct OAuthHttp(reqwest::Client);

impl OAuthHttp {
    pub fn new(user_agent: &str, timeout: Duration) -> Result<Self, reqwest::Error> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self(client))
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp {
    type Error = oauth2::HttpClientError<reqwest::Error>;
    type Future = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let response = self
                .0
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(Box::new)?;
            let mut builder = http::Response::builder().status(response.status());
            if let Some(headers) = builder.headers_mut() {
                headers.extend(response.headers().iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            let body = response.bytes().await.map_err(Box::new)?;
            builder.body(body.to_vec()).map_err(oauth2::HttpClientError::Http)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth2::AsyncHttpClient;

    #[tokio::test]
    async fn oauth_requests_go_through_reqwest_with_method_headers_and_body() {
        use axum::routing::post;
        let app = axum::Router::new().route(
            "/token",
            post(|headers: axum::http::HeaderMap, body: String| async move {
                let ct = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                ([("x-echo", "1")], format!("{ct}|{body}"))
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });

        let http = OAuthHttp::new("test", Duration::from_secs(5)).unwrap();
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("http://{addr}/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(b"grant_type=x".to_vec())
            .unwrap();
        let response = http.call(request).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-echo"], "1");
        assert_eq!(response.body(), b"application/x-www-form-urlencoded|grant_type=x");
    }

    #[test]
    fn clients_build_after_the_provider_is_installed() {
        assert!(client("test", Duration::from_secs(1)).is_ok());
        assert!(client("test", Duration::from_secs(1)).is_ok(), "a second install is harmless");
    }
}
