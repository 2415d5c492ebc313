//! The engine: applying plans, workflow definitions and runs, mapping, live validation against the sandboxes, invitations and writebacks.
//!
//! One test binary per area: 2 cores link a few large binaries far faster than two dozen
//! small ones. Each module was its own binary before; their names say what they hold.

#[path = "../common/mod.rs"]
mod common;
#[path = "../mail_support/mod.rs"]
mod mail_support;

mod apply;
mod invitations;
mod live_validation;
mod mapping;
mod run;
mod trace;
mod workflows;
mod writebacks;
