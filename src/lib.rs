//! handoff: turns a won CRM deal into a running customer onboarding project.
//!
//! The binary (`src/main.rs`) only parses the command line; everything lives here so
//! tests drive the real application.

pub mod app;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod domain;
pub mod engine;
pub mod jobs;
pub mod mail;
pub mod sealed;
pub mod store;
pub mod sync;
pub mod telemetry;
pub mod web;
