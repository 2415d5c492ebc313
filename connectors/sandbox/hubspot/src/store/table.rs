//! One object type's records with the indexes list and search need.

use std::collections::{BTreeMap, BTreeSet};

/// A stored record. Timestamps live outside `props` because HubSpot computes them.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: u64,
    pub props: BTreeMap<String, String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub archived_ms: Option<i64>,
}

impl Record {
    pub fn is_archived(&self) -> bool {
        self.archived_ms.is_some()
    }
}

/// Records by id (ordered, so list paging is a range scan) plus (timestamp, id) indexes of the
/// live records, so incremental searches are range scans rather than sorts.
#[derive(Debug, Default)]
pub struct Table {
    pub records: BTreeMap<u64, Record>,
    pub by_modified: BTreeSet<(i64, u64)>,
    pub by_created: BTreeSet<(i64, u64)>,
    pub next_id: u64,
    live: usize,
}

impl Table {
    pub fn new(first_id: u64) -> Self {
        Self {
            next_id: first_id,
            ..Self::default()
        }
    }

    pub fn live_count(&self) -> usize {
        self.live
    }

    pub fn allocate_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        id
    }

    /// Inserts or replaces a record, keeping the indexes in step.
    pub fn put(&mut self, rec: Record) {
        if let Some(old) = self.records.get(&rec.id)
            && !old.is_archived()
        {
            self.by_modified.remove(&(old.updated_ms, old.id));
            self.by_created.remove(&(old.created_ms, old.id));
            self.live = self.live.saturating_sub(1);
        }
        if !rec.is_archived() {
            self.by_modified.insert((rec.updated_ms, rec.id));
            self.by_created.insert((rec.created_ms, rec.id));
            self.live += 1;
        }
        if rec.id >= self.next_id {
            self.next_id = rec.id.saturating_add(1);
        }
        self.records.insert(rec.id, rec);
    }

    pub fn live(&self, id: u64) -> Option<&Record> {
        self.records.get(&id).filter(|r| !r.is_archived())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: u64, updated: i64) -> Record {
        Record {
            id,
            props: BTreeMap::new(),
            created_ms: 1,
            updated_ms: updated,
            archived_ms: None,
        }
    }

    #[test]
    fn indexes_follow_updates_and_archiving() {
        let mut t = Table::new(10);
        t.put(rec(10, 5));
        t.put(rec(10, 7));
        assert_eq!(t.by_modified.iter().copied().collect::<Vec<_>>(), vec![(7, 10)]);
        t.put(Record {
            archived_ms: Some(8),
            ..rec(10, 8)
        });
        assert!(t.by_modified.is_empty());
        assert_eq!(t.live_count(), 0);
        assert_eq!(t.allocate_id(), 11);
    }
}
