//! A typed HubSpot API client.
//!
//! - [`Client`]: records ([`objects`]), search ([`search`]) and incremental polling
//!   ([`poll`]), properties ([`properties`]), associations v4 with labels
//!   ([`associations`]), tasks and notes ([`engagements`]), owners ([`owners`]). Tokens come from a
//!   [`crm_http::TokenProvider`]; a 401 triggers one refresh and one retry. Every response's
//!   `X-HubSpot-RateLimit-*` headers feed [`Client::budget`]; [`Client::calls_made`] counts
//!   requests.
//! - [`auth`]: OAuth (authorize URL, code exchange, refresh) on the v1 or date-versioned
//!   token endpoint, and private-app tokens.
//! - [`webhook`]: request signatures v1/v2/v3 and event batches.
//! - [`ApiPaths`]: the legacy (`/crm/v3`, `/crm/v4`) or date-versioned (`/crm/objects/2026-03`) paths.
//!
//! ```no_run
//! # async fn demo() -> crm_hubspot::Result<()> {
//! use crm_hubspot::{ApiPaths, Client, Cursor, Poller, ReadOptions, private_app_token};
//!
//! let client = Client::builder(private_app_token("pat-na1-…".to_owned().into()))
//!     .paths(ApiPaths::dated("2026-03"))
//!     .build()?;
//! let deal = client.get_object("deals", "123", &ReadOptions::properties(["dealname", "dealstage"])).await?;
//!
//! // Everything modified since a stored cursor, page by page.
//! let mut poller = Poller::new("deals", Cursor::beginning()).properties(["dealname"]);
//! while let Some(page) = poller.next_page(&client).await? {
//!     // Store page.records, then page.cursor.
//! }
//! println!("{} calls, budget {:?}", client.calls_made(), client.budget());
//! # Ok(()) }
//! ```

pub mod associations;
pub mod auth;
pub mod budget;
pub mod client;
pub mod engagements;
pub mod error;
pub mod limits;
pub mod objects;
pub mod owners;
pub mod paths;
pub mod poll;
pub mod properties;
pub mod search;
pub mod webhook;
pub mod wire;

pub use auth::{OAuth, OAuthConfig, RefreshingToken, TokenSet, private_app_token};
pub use budget::Budget;
pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL, RetryPolicy};
pub use crm_http::{AccessToken, StaticToken, TokenError, TokenProvider};
pub use error::{ApiError, Error, RateLimitPolicy, Result};
pub use limits::DailyUsage;
pub use objects::{Object, Page, ReadOptions};
pub use paths::ApiPaths;
pub use poll::{Cursor, PollPage, Poller};
pub use search::{Filter, FilterGroup, SearchRequest, Sort};
