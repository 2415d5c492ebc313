//! Project page models kept in memory, so a portal page costs one small query instead
//! of seven.
//!
//! What every project page needs — the project, its phases, tasks and dependencies, and
//! its members' names — changes far less often than it is read. The database keeps a
//! `page_version` per project that triggers bump with every change a page shows
//! (migration 0014: triggers, so no write path can forget). A page asks for the
//! visitor's role and that version in one query ([`Store::portal_access`]) and uses
//! the model in memory when it was loaded at that version; otherwise it loads it again.
//!
//! Why this is never stale: a model is labelled with the version read *before* it was
//! loaded, so its data is at least as new as its label. A request serves it only when
//! the version it has just read equals the label — no change committed in between, so
//! the model is exactly what the database holds. Each process (several share a
//! PostgreSQL database) keeps its own cache and checks it against the shared version.
//!
//! [`Store::portal_access`]: handoff_store::Store::portal_access

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use crate::versioned::Versioned;

use handoff_domain::project::ProjectDetails;
use handoff_domain::{ProjectId, UserId};
use handoff_store::{Store, StoreError};

/// One project as its pages show it.
#[derive(Debug)]
pub struct ProjectPage {
    pub details: ProjectDetails,
    /// Display names of the project's members, for assignees.
    pub names: HashMap<UserId, String>,
    /// Task lists the project page shows alike to every visitor, built on first use:
    /// they live and die with the model, so they are exactly as current as it is.
    pub lists: SharedLists,
}

/// The project page's phase lists for the filters that read the same for everyone
/// (web/portal/projects.rs builds them).
#[derive(Debug, Default)]
pub struct SharedLists {
    pub all: OnceLock<tera::Value>,
    pub company: OnceLock<tera::Value>,
}

#[derive(Clone, Default)]
pub struct PageCache {
    inner: Arc<Mutex<Versioned<ProjectPage>>>,
    /// How many models were read from the store (a hit costs none): for tests and
    /// diagnostics.
    loads: Arc<AtomicU64>,
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCache").field("projects", &self.len()).finish()
    }
}

impl PageCache {
    /// The project's page model at `version` (as just read with the visitor's access),
    /// from memory when it is current, else from the store. `None` if the project is
    /// gone.
    pub async fn get(&self, store: &Store, id: ProjectId, version: i64) -> Result<Option<Arc<ProjectPage>>, StoreError> {
        if let Some(page) = self.lock().current(id, version) {
            return Ok(Some(page));
        }
        self.loads.fetch_add(1, Ordering::Relaxed);
        let Some(details) = store.project_details(id).await? else {
            return Ok(None);
        };
        let names = store
            .project_members(id)
            .await?
            .into_iter()
            .map(|(_, u)| (u.id, u.display_name()))
            .collect();
        let page = Arc::new(ProjectPage {
            details,
            names,
            lists: SharedLists::default(),
        });
        self.lock().keep(id, version, Arc::clone(&page));
        Ok(Some(page))
    }

    /// How many projects are held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many models have been read from the store since the process started.
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, Versioned<ProjectPage>> {
        // Every step leaves the map consistent, so a panic elsewhere while it was held
        // does not make it unusable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
