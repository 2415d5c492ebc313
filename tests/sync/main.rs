//! The CRM inside the hub: webhook intake, polls of both sandboxes, and OAuth tokens shared through the database.
//!
//! One test binary per area: 2 cores link a few large binaries far faster than two dozen
//! small ones. Each module was its own binary before; their names say what they hold.

#[path = "../common/mod.rs"]
mod common;

mod hubspot;
mod salesforce;
mod tokens;
mod webhooks;
