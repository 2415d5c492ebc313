//! A local simulator of the HubSpot API subset handoff uses: OAuth and private-app tokens,
//! CRM objects (deals, contacts, companies, tasks, notes) under `/crm/v3` and the date-versioned
//! paths, search, batch, associations v4 with labels, rate limits, signed webhooks, fault
//! injection and a request log. See README.md for defaults and deviations.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sandbox_hubspot::Error> {
//! let sandbox = sandbox_hubspot::start(sandbox_hubspot::Config::for_tests()).await?;
//! println!("HubSpot sandbox at {}", sandbox.base_url());
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```

mod assoc;
mod auth;
mod catalog;
mod config;
mod error;
mod events;
mod faults;
mod http;
mod objects;
mod owners;
mod ratelimit;
mod sandbox;
mod search;
mod seed;
mod state;
mod store;
mod util;
mod webhooks;

pub use assoc::{Category, LabelDef};
pub use catalog::{PropKind, PropOption, PropertyDef};
pub use config::{
    Config, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PORT, DEFAULT_PRIVATE_APP_TOKEN, RateLimits, RetryPolicy, Subscription,
};
pub use error::Error;
pub use faults::{FaultControl, Faults};
pub use objects::ObjectType;
pub use owners::Owner;
pub use sandbox::{RecordSnapshot, Sandbox, start};
pub use sandbox_kit::faults::{Fault, LostMode, Rule as FaultRule, Scope as FaultScope};
pub use sandbox_kit::{LoggedRequest, RequestLog, Switchboard};
pub use seed::{GenerateSpec, Scalar, Seed, SeedError, SeedLink, SeedRecord};
pub use store::{PropError, StoreError};
pub use webhooks::DeliveryAttempt;
pub use webhooks::sign::{SignatureError, decode_uri, v1 as signature_v1, v2 as signature_v2, v3 as signature_v3, verify_v3};
