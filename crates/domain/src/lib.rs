//! The pure heart of handoff: ids, templates, projects, tasks, users, lifecycle and
//! progress, and the plain data the other floors hand each other (record changes,
//! field catalogs, workflow plans, writeback events, connection health). Nothing here
//! does I/O, so every rule is unit-tested in isolation.

pub mod api_token;
pub mod change;
pub mod connection_health;
pub mod email;
pub mod field_catalog;
pub mod file_type;
pub mod form;
pub mod ids;
pub mod lifecycle;
pub mod outbox;
pub mod people;
pub mod plan;
pub mod profile;
pub mod progress;
pub mod project;
pub mod review;
pub mod schedule;
pub mod task;
pub mod template;
pub mod writeback;

pub use email::Email;
pub use ids::{CompanyId, Key, PhaseId, ProjectId, TaskId, UserId};
pub use lifecycle::ProjectStatus;
pub use progress::Progress;
pub use task::{OwnerSide, Priority, TaskKind, TaskStatus, Visibility};
pub use template::Template;
