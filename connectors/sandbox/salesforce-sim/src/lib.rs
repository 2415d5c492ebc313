//! A local simulator of the Salesforce REST API subset handoff uses: OAuth (JWT bearer,
//! authorization code with refresh, client credentials), SOQL query/queryAll with paging,
//! sObject describe and CRUD, sObject Collections, composite, getUpdated/getDeleted, limits,
//! outbound messages, fault injection and a request log. See README.md for defaults and deviations.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sandbox_salesforce::Error> {
//! let sandbox = sandbox_salesforce::start(sandbox_salesforce::Config::for_tests()).await?;
//! println!("Salesforce sandbox at {}", sandbox.base_url());
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```

mod auth;
mod config;
mod cursors;
mod error;
mod faults;
mod http;
mod ids;
mod jwt;
mod outbound;
mod render;
mod sandbox;
mod schema;
mod seed;
mod soql;
mod state;
mod store;
mod util;

pub use config::{
    Config, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_ORGANIZATION_ID, DEFAULT_PORT, DEFAULT_USERNAME, OutboundRule, RetryPolicy,
    TEST_JWT_PRIVATE_KEY_PEM, TEST_JWT_PUBLIC_KEY_PEM, Trigger,
};
pub use error::{ApiError, Error};
pub use faults::{FaultControl, Faults};
pub use ids::{checksum as id_checksum, normalize as normalize_id};
pub use jwt::sign_assertion;
pub use outbound::OutboundAttempt;
pub use sandbox::{Sandbox, start};
pub use sandbox_kit::faults::{Fault, LostMode, Rule as FaultRule, Scope as FaultScope};
pub use sandbox_kit::{LoggedRequest, RequestLog, Switchboard};
pub use schema::{CustomField, FieldType};
pub use seed::{GenerateSpec, Scalar, Seed, SeedError, SeedRecord};
pub use store::DmlError;
