//! handoff: turns a won CRM deal into a running customer onboarding project.
//!
//! The binary (`src/main.rs`) only parses the command line; everything lives here so
//! tests drive the real application.

pub mod catalog;
pub mod config;
pub mod domain;
