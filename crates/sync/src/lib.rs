//! The CRM inside the hub: normalized record changes, the `Crm` seam, and the work that
//! turns inbound events and polls into one stream of changes.

pub mod adapters;
pub mod connect;
pub mod crm;
pub mod describe;
pub mod health;
pub mod hubspot;
mod oauth_app;
pub mod poll;
pub mod process;
pub mod reads;
pub mod salesforce;
pub mod sign_in;
pub mod tokens;

pub use crm::{ChangePage, Crm, CrmError};
