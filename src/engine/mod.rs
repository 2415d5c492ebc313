//! The workflow engine: definitions, plans, runs.

pub mod definition;
