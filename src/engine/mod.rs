pub mod definition;
pub mod deliver;
pub mod invite;
pub mod plan;
pub mod run;
pub mod tasks;
pub mod validate_live;
pub mod writeback;
