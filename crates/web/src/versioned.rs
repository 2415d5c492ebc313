//! Models kept in memory by project, each labelled with the project's `page_version`
//! it was loaded at, at most a fixed number of them (the least recently used goes).
//! The portal's page models (portal/page_cache.rs) and the console's rendered task
//! lists (console/task_list.rs) both use it; each explains why its use is never stale.

use std::collections::HashMap;
use std::sync::Arc;

use handoff_domain::ProjectId;

/// How many projects' models a process keeps by default; past it the least recently
/// used goes. A 50-task portal model is some 30 KB, so this bounds such a cache near
/// 30 MB.
const CAPACITY: usize = 1_000;

/// Models by project, each labelled with its version, at most [`CAPACITY`] of them.
pub(crate) struct Versioned<T> {
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
    pub(crate) fn current(&mut self, id: ProjectId, version: i64) -> Option<Arc<T>> {
        self.clock += 1;
        let now = self.clock;
        let entry = self.models.get_mut(&id).filter(|e| e.version == version)?;
        entry.used = now;
        Some(Arc::clone(&entry.model))
    }

    pub(crate) fn keep(&mut self, id: ProjectId, version: i64, model: Arc<T>) {
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

impl<T> Versioned<T> {
    /// A cache of at most `capacity` projects (for models larger than the default's).
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity,
            ..Self::default()
        }
    }

    /// How many projects are held.
    pub(crate) fn len(&self) -> usize {
        self.models.len()
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
        let mut cache = Versioned::with_capacity(2);
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
