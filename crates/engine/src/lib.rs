//! The engine: every business decision of handoff, over the store's primitives.
//!
//! - [`definition`]: workflows (parse, validate, match); [`validate_live`] against the
//!   CRMs' field catalogs; [`run`] plans and applies a workflow run.
//! - [`Engine`] (methods in [`tasks`] and [`invitations`]): changing a project from any
//!   channel (CLI, JSON API, portal, console) records the same activity, queues the same
//!   writebacks and sends the same invitations.
//! - [`outbox`]: delivering what changes queued (emails, CRM writebacks).

use std::sync::Arc;

pub use error::{EngineError, EngineResult, Refusal};
pub use tasks::Completion;

use handoff_store::Store;
use handoff_store::sealed::Sealer;

pub mod apply;
pub mod definition;
pub mod error;
pub mod invitations;
pub mod invite;
/// Project lifecycle rules the pages also show (console, #13).
pub mod lifecycle;
// The console's Members and Emails tabs (issue #13).
pub mod members;
pub mod outbox;
// Document review in the staff console (#13).
pub mod review;
pub mod run;
pub mod staff;
/// Staff changing tasks: status, assignee, due date, comments and notes (#13).
pub mod staff_tasks;
pub mod task_digests;
pub mod tasks;
pub mod templates;
pub mod trace;
pub mod validate_live;

/// What changing a project needs besides the change itself: the database, and what
/// making invitation links takes. Cheap to clone; the web layer and the CLI each hold
/// one.
#[derive(Clone)]
pub struct Engine {
    store: Store,
    links: LinkSettings,
}

/// How invitation links are made and handed out.
#[derive(Clone)]
pub struct LinkSettings {
    /// Seals link tokens into the outbox; `None` without a master key, and then no
    /// one can be invited.
    pub sealer: Option<Arc<Sealer>>,
    /// How long a new link works (`portal.invitation_validity`).
    pub validity: chrono::Duration,
    /// Fresh links a customer may ask for per address and hour
    /// (`portal.link_requests_per_hour`).
    pub requests_per_hour: u32,
}

impl LinkSettings {
    /// The settings of `config`; the sealer when a master key is configured.
    pub fn from_config(config: &handoff_config::Config) -> Self {
        Self {
            sealer: Sealer::new(config.secrets.master_key.as_ref()).ok().map(Arc::new),
            validity: config.portal.invitation_validity,
            requests_per_hour: config.portal.link_requests_per_hour,
        }
    }
}

impl Engine {
    pub fn new(store: Store, links: LinkSettings) -> Self {
        Self { store, links }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The sealer for secrets the web layer keeps briefly (an OAuth request's PKCE
    /// verifier); `None` without a master key.
    pub fn sealer(&self) -> Option<&Sealer> {
        self.links.sealer.as_deref()
    }

    /// A fresh link valid for the configured time, or `None` when there is no master
    /// key to seal it with.
    fn fresh_link(&self, now: chrono::DateTime<chrono::Utc>) -> Option<handoff_domain::plan::NewInvitation> {
        let sealer = self.links.sealer.as_ref()?;
        invite::new_invitation(sealer, now, self.links.validity).ok()
    }
}
