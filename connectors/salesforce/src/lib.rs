//! A typed Salesforce REST API client.
//!
//! - [`Client`]: SOQL with paging ([`query`]), describe ([`describe`]), getUpdated /
//!   getDeleted ([`replication`]), writes ([`write`]), API usage ([`limits`]). Tokens
//!   come from a [`crm_http::TokenProvider`]; a 401 triggers one refresh and one retry,
//!   server failures and timeouts of idempotent calls are retried with backoff, and
//!   `REQUEST_LIMIT_EXCEEDED` is returned at once as [`Error::RequestLimitExceeded`].
//! - [`auth`]: the OAuth flows (JWT bearer, web server with refresh, client
//!   credentials) and a single-flight refreshing token provider.
//! - [`poll`]: incremental polling by `SystemModstamp` with an overlap window.
//! - [`id`]: 15/18-character record ids.
//! - [`outbound`]: Outbound Message (SOAP) parsing and the acknowledgement.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use crm_salesforce::auth::{Grant, JwtBearer, RefreshingTokenProvider, PRODUCTION_LOGIN_URL};
//! use crm_salesforce::poll::{PollQuery, contact_roles};
//! use crm_salesforce::{Client, QueryOptions};
//!
//! let key = secrecy::SecretString::from(std::fs::read_to_string("server.key")?);
//! let jwt = JwtBearer::new(PRODUCTION_LOGIN_URL, "3MVG9…", "integration@acme.com", &key)?;
//! let tokens = Arc::new(RefreshingTokenProvider::new(Grant::JwtBearer(jwt))?);
//! let client = Client::builder(tokens).api_version("67.0").build()?;
//!
//! let soql = PollQuery::new("Opportunity", &["Name", "StageName"]).with_contact_roles().soql()?;
//! let mut pages = client.query_pages(&soql, QueryOptions::default());
//! while let Some(page) = pages.next_page().await? {
//!     for opportunity in &page.records {
//!         println!("{:?} {:?}", opportunity.id(), contact_roles(opportunity)?);
//!     }
//! }
//! println!("{} calls, budget {:?}", client.calls_made(), client.budget());
//! # Ok(()) }
//! ```

pub mod auth;
pub mod client;
pub mod datetime;
pub mod describe;
pub mod error;
pub mod id;
pub mod limits;
pub mod outbound;
pub mod poll;
pub mod query;
pub mod replication;
pub mod write;

pub use client::{Client, ClientBuilder, DEFAULT_API_VERSION, RetryPolicy};
pub use crm_http::{AccessToken, StaticToken, TokenError, TokenProvider};
pub use error::{ApiError, Error, Result};
pub use limits::ApiUsage;
pub use query::{QueryOptions, QueryResult, Record};
