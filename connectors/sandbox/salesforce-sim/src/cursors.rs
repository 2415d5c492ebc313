//! Open query cursors behind `nextRecordsUrl`: the matching ids, rendered page by page.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::soql::Compiled;
use crate::util::{lock, opaque};

/// Cursors kept open; older ones expire first (Salesforce also limits open cursors per user).
const MAX_OPEN: usize = 1_000;

#[derive(Debug, Clone)]
pub struct Cursor {
    pub query: Arc<Compiled>,
    pub ids: Arc<Vec<String>>,
    pub batch: usize,
}

#[derive(Debug, Default)]
struct Inner {
    open: HashMap<String, Cursor>,
    order: VecDeque<String>,
}

#[derive(Debug, Default)]
pub struct Cursors {
    inner: Mutex<Inner>,
}

impl Cursors {
    /// Opens a cursor; returns its locator (`01g…`).
    pub fn open(&self, cursor: Cursor) -> String {
        // The tail of a v7 uuid is random; its head is a timestamp shared by cursors of the same millisecond.
        let u = opaque("");
        let locator = format!("01g{}", &u[u.len().saturating_sub(15)..]);
        let mut i = lock(&self.inner);
        if i.order.len() >= MAX_OPEN
            && let Some(old) = i.order.pop_front()
        {
            i.open.remove(&old);
        }
        i.order.push_back(locator.clone());
        i.open.insert(locator.clone(), cursor);
        locator
    }

    pub fn get(&self, locator: &str) -> Option<Cursor> {
        lock(&self.inner).open.get(locator).cloned()
    }
}
