//! The storage suite: every query of the store against SQLite, and PostgreSQL when HANDOFF_TEST_DATABASE_URL names one.
//!
//! One test binary per area: 2 cores link a few large binaries far faster than two dozen
//! small ones. Each module was its own binary before; their names say what they hold.

#[path = "../common/mod.rs"]
mod common;

mod activity_search;
mod store;
