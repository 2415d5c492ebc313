//! A typed HubSpot API client.
//!
//! - [`Client`]: records ([`objects`]), search ([`search`]) and incremental polling
//!   ([`poll`]), properties ([`properties`]), associations v4 with labels
//!   ([`associations`]), tasks and notes ([`engagements`]). Tokens come from a
//!   [`crm_http::TokenProvider`]; a 401 triggers one refresh and one retry. Every response's
//!   `X-HubSpot-RateLimit-*` headers feed [`Client::budget`]; [`Client::calls_made`] counts
//!   requests.
//! - [`auth`]: OAuth (authorize URL, code exchange, refresh) on the v1 or date-versioned
//!   token endpoint, and private-app tokens.
//! - [`webhook`]: request signatures v1/v2/v3 and event batches.
//! - [`ApiPaths`]: the legacy (`/crm/v3`, `/crm/v4`) or date-versioned (`/crm/objects/2026-03`) paths.

pub mod client;
pub mod error;
pub mod limits;
pub mod paths;
pub mod webhook;

pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL, RetryPolicy};
pub use crm_http::{AccessToken, StaticToken, TokenError, TokenProvider};
pub use error::{ApiError, Error, RateLimitPolicy, Result};
pub use limits::Budget;
pub use paths::ApiPaths;
