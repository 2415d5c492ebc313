//! The staff console: sign-in (with the CRMs' sandboxes and by email), every page and
//! action, the pages in headless Chromium.
//!
//! One test binary for the area: 2 cores link a few large binaries far faster than
//! many small ones.

#[path = "../common/mod.rs"]
mod common;
#[path = "../console_support/mod.rs"]
mod console_support;
#[path = "../mail_support/mod.rs"]
mod mail_support;
#[path = "../portal_support/mod.rs"]
mod portal_support;

// Documents and activity (#13).
mod activity;
mod documents;
mod frame;
mod sign_in;
