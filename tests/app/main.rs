//! The application as a whole: the command line, HTTP basics, the JSON API, email over SMTP, and crash recovery of real processes.
//!
//! One test binary per area: 2 cores link a few large binaries far faster than two dozen
//! small ones. Each module was its own binary before; their names say what they hold.

#[path = "../common/mod.rs"]
mod common;
#[path = "../mail_support/mod.rs"]
mod mail_support;

mod api;
mod cli;
mod crash;
mod http;
mod mail;
