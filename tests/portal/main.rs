//! The customer portal: sign-in, projects, tasks, team and profile, the page cache, the authorization matrix, and the pages in headless Chromium.
//!
//! One test binary per area: 2 cores link a few large binaries far faster than two dozen
//! small ones. Each module was its own binary before; their names say what they hold.

#[path = "../browser_support/mod.rs"]
mod browser_support;
#[path = "../common/mod.rs"]
mod common;
#[path = "../db_support/mod.rs"]
mod db_support;
#[path = "../mail_support/mod.rs"]
mod mail_support;
#[path = "../portal_support/mod.rs"]
mod portal_support;

mod authz;
mod browser;
mod page_cache;
mod projects;
mod sign_in;
mod tasks;
mod team_profile;
