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

use handoff_domain::project::ProjectDetails;
use handoff_domain::{ProjectId, UserId};
use handoff_store::{Store, StoreError};

/// How many projects' models a process keeps; past it the least recently used goes.
/// A 50-task model is some 30 KB, so this bounds the cache near 30 MB.
const CAPACITY: usize = 1_000;

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
        self.lock().models.len()
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

/// Models by project, each labelled with its version, at most [`CAPACITY`] of them.
struct Versioned<T> {
    models: HashMap<ProjectId, Entry<T>>,
    /// A counter for recency: the entry with the lowest `used` is evicted first.
    clock: u64,
    capacity: usize,
}

struct Entry<T> {
    version: i64,
    used: u64,
    model: Arc<T>,
}

impl<T> Default for Versioned<T> {
    fn default() -> Self {
        Self {
            models: HashMap::new(),
            clock: 0,
            capacity: CAPACITY,
        }
    }
}

impl<T> Versioned<T> {
    /// The model of `id` if it was loaded at `version`.
    fn current(&mut self, id: ProjectId, version: i64) -> Option<Arc<T>> {
        self.clock += 1;
        let now = self.clock;
        let entry = self.models.get_mut(&id).filter(|e| e.version == version)?;
        entry.used = now;
        Some(Arc::clone(&entry.model))
    }

    fn keep(&mut self, id: ProjectId, version: i64, model: Arc<T>) {
        // Two requests may load at once; a slower one with an older version must not
        // replace a newer model.
        if self.models.get(&id).is_some_and(|e| e.version > version) {
            return;
        }
        if self.models.len() >= self.capacity && !self.models.contains_key(&id) {
            // Loads are rare next to hits, so a scan for the oldest is cheap enough.
            if let Some(oldest) = self.models.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| *k) {
                self.models.remove(&oldest);
            }
        }
        self.clock += 1;
        let used = self.clock;
        self.models.insert(id, Entry { version, used, model });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<ProjectId> {
        (0..n).map(|_| ProjectId::new()).collect()
    }

    #[test]
    fn a_model_is_used_only_at_the_version_it_was_loaded_at() {
        let mut cache = Versioned::default();
        let [a] = ids(1)[..] else { unreachable!() };
        assert!(cache.current(a, 3).is_none());
        cache.keep(a, 3, Arc::new("v3"));
        assert_eq!(cache.current(a, 3).as_deref(), Some(&"v3"));
        assert!(cache.current(a, 4).is_none(), "the project changed since");
        cache.keep(a, 4, Arc::new("v4"));
        cache.keep(a, 3, Arc::new("late v3"));
        assert_eq!(cache.current(a, 4).as_deref(), Some(&"v4"), "a slower, older load does not win");
    }

    #[test]
    fn the_least_recently_used_project_goes_first() {
        let mut cache = Versioned {
            capacity: 2,
            ..Versioned::default()
        };
        let [a, b, c] = ids(3)[..] else { unreachable!() };
        cache.keep(a, 1, Arc::new("a"));
        cache.keep(b, 1, Arc::new("b"));
        assert!(cache.current(a, 1).is_some());
        cache.keep(c, 1, Arc::new("c"));
        assert_eq!(cache.models.len(), 2);
        assert!(cache.current(b, 1).is_none(), "b was used least recently");
        assert!(cache.current(a, 1).is_some() && cache.current(c, 1).is_some());
        cache.keep(c, 2, Arc::new("c2"));
        assert_eq!(cache.models.len(), 2, "a new version replaces the old one in place");
    }
}
