pub mod definition;
pub mod invite;
pub mod plan;
pub mod run;
