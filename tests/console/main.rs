//! The staff console: sign-in (with the CRMs' sandboxes and by email), every page and
//! action, the pages in headless Chromium.
//!
//! One test binary for the area: 2 cores link a few large binaries far faster than
//! many small ones.

#[path = "../browser_support/mod.rs"]
mod browser_support;
#[path = "../common/mod.rs"]
mod common;
#[path = "../console_support/mod.rs"]
mod console_support;
#[path = "../db_support/mod.rs"]
mod db_support;
#[path = "../mail_support/mod.rs"]
mod mail_support;
#[path = "../portal_support/mod.rs"]
mod portal_support;

mod activity;
mod admin_browser;
mod authz;
mod browser;
mod connections;
mod documents;
mod emails;
mod frame;
mod members;
mod oauth;
mod projects;
mod projects_api;
mod sign_in;
mod tasks;
