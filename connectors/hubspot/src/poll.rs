//! Incremental polling by last-modified date, with the record id as tie-break.
//!
//! HubSpot search allows one sort and stops at 10,000 results per query, and imports can
//! stamp far more than 10,000 records with one timestamp. So the poller never pages by
//! offset. Each page is a fresh query starting from the cursor (keyset paging):
//!
//! - normal mode: `modified > T OR (modified = T AND id > lastId)` (or `modified >= T`
//!   when no id is known at `T`), sorted by the modified date;
//! - tie mode, when a page is (mostly) one timestamp `T`: `modified = T AND id > lastId`,
//!   sorted by `hs_object_id`, until that timestamp is exhausted.
//!
//! Every query makes progress, so any number of records sharing a timestamp neither
//! loops nor stalls, and no offset ever reaches the cap. Offsets would also skip records
//! when a record read earlier is modified mid-poll and moves to the end; keyset paging
//! does not. A poll with nothing new costs one call.
//!
//! Each [`PollPage`] carries the cursor that is safe to store once its records are
//! stored. Records re-read at a page boundary are not returned twice within one
//! [`Poller`]; across polls, dedupe on `(id, modified)`.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::objects::Object;
use crate::search::{Filter, FilterGroup, MAX_FILTERS_PER_GROUP, MAX_LIMIT, SearchRequest, Sort};

const ID: &str = "hs_object_id";

/// Where a poll stands: every record modified before `modified_ms` has been seen, and so
/// has every record modified exactly at `modified_ms` whose id is ≤ `after_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub modified_ms: i64,
    pub after_id: Option<u64>,
}

impl Cursor {
    /// From the beginning of time (a backfill).
    pub fn beginning() -> Self {
        Self {
            modified_ms: 0,
            after_id: None,
        }
    }

    pub fn since(modified_ms: i64) -> Self {
        Self {
            modified_ms,
            after_id: None,
        }
    }

    /// The same cursor moved back by `ms`, to re-read records that reached the search
    /// index late (HubSpot: "newly written records take a few moments to show up").
    pub fn rewound(self, ms: i64) -> Self {
        if ms <= 0 {
            self
        } else {
            Self {
                modified_ms: self.modified_ms.saturating_sub(ms),
                after_id: None,
            }
        }
    }
}

/// A polled record, with the values the cursor is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct PolledRecord {
    pub id: u64,
    pub modified_ms: i64,
    pub object: Object,
}

/// One page of a poll: records in modification order, and the cursor to store after them.
#[derive(Debug, Clone, PartialEq)]
pub struct PollPage {
    pub records: Vec<PolledRecord>,
    pub cursor: Cursor,
    /// HubSpot calls this page cost (one, or more when retried).
    pub calls: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Normal,
    /// Reading every record at the cursor's timestamp, by id.
    Tie,
    Done,
}

/// Pages through the records of one type modified since a cursor.
#[derive(Debug, Clone)]
pub struct Poller {
    object_type: String,
    modified_property: String,
    properties: Vec<String>,
    filters: Vec<Filter>,
    page_size: u32,
    cursor: Cursor,
    mode: Mode,
    /// Ids already returned at the cursor's timestamp (the only ones a later query can repeat).
    seen_at_cursor: HashSet<u64>,
}

impl Poller {
    /// Polls `object_type` from `cursor`. The modified-date property defaults to
    /// `lastmodifieddate` for contacts and `hs_lastmodifieddate` for everything else.
    pub fn new(object_type: impl Into<String>, cursor: Cursor) -> Self {
        let object_type = object_type.into();
        let modified_property = if object_type == "contacts" || object_type == "0-1" {
            "lastmodifieddate"
        } else {
            "hs_lastmodifieddate"
        };
        Self {
            modified_property: modified_property.into(),
            object_type,
            properties: Vec::new(),
            filters: Vec::new(),
            page_size: 100,
            cursor,
            mode: Mode::Normal,
            seen_at_cursor: HashSet::new(),
        }
    }

    /// Properties to read (the modified date and id are always added).
    pub fn properties<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.properties = names.into_iter().map(Into::into).collect();
        self
    }

    pub fn modified_property(mut self, name: impl Into<String>) -> Self {
        self.modified_property = name.into();
        self
    }

    /// Extra filters ANDed into every query (at most 4: the poller uses up to 2 per group).
    pub fn filters(mut self, filters: Vec<Filter>) -> Self {
        self.filters = filters;
        self
    }

    /// Records per call, 1..=200 (default 100).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.clamp(1, MAX_LIMIT);
        self
    }

    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// The next page, or `None` once everything modified up to now has been returned.
    pub async fn next_page(&mut self, client: &Client) -> Result<Option<PollPage>> {
        if self.filters.len() + 2 > MAX_FILTERS_PER_GROUP {
            return Err(Error::InvalidRequest(format!(
                "a poller takes at most {} extra filters",
                MAX_FILTERS_PER_GROUP - 2
            )));
        }
        let before = client.calls_made();
        let records = match self.mode {
            Mode::Done => return Ok(None),
            Mode::Normal => self.normal_page(client).await?,
            Mode::Tie => self.tie_page(client).await?,
        };
        let calls = u32::try_from(client.calls_made().saturating_sub(before)).unwrap_or(u32::MAX);
        Ok(Some(PollPage {
            records,
            cursor: self.cursor,
            calls,
        }))
    }

    async fn normal_page(&mut self, client: &Client) -> Result<Vec<PolledRecord>> {
        let groups = match self.cursor.after_id {
            None => vec![self.group(vec![Filter::gte(&self.modified_property, self.cursor.modified_ms.to_string())])],
            Some(id) => vec![
                self.group(vec![Filter::gt(&self.modified_property, self.cursor.modified_ms.to_string())]),
                self.group(vec![
                    Filter::eq(&self.modified_property, self.cursor.modified_ms.to_string()),
                    Filter::gt(ID, id.to_string()),
                ]),
            ],
        };
        let page = self.fetch(client, groups, Sort::ascending(&self.modified_property)).await?;
        let full = page.len() == self.page_size as usize;
        let Some(last) = page.last() else {
            self.mode = Mode::Done;
            return Ok(Vec::new());
        };
        let last_ms = last.modified_ms;
        if full && last_ms < self.cursor.modified_ms {
            // Restarting below the cursor could loop; HubSpot's filter rules this out.
            return Err(Error::Protocol(format!(
                "search sorted by {} went backwards",
                self.modified_property
            )));
        }
        let at_last: Vec<u64> = page.iter().filter(|r| r.modified_ms == last_ms).map(|r| r.id).collect();
        let fresh = self.take_unseen(page);
        if last_ms != self.cursor.modified_ms {
            self.seen_at_cursor.clear();
        }
        self.seen_at_cursor.extend(at_last.iter().copied());
        if !full {
            // Everything matching was returned: all of `last_ms` is seen, up to its largest id.
            let max_id = self
                .seen_at_cursor
                .iter()
                .copied()
                .chain(self.cursor.after_id.filter(|_| last_ms == self.cursor.modified_ms))
                .max();
            self.cursor = Cursor {
                modified_ms: last_ms,
                after_id: max_id,
            };
            self.mode = Mode::Done;
        } else if last_ms == self.cursor.modified_ms || at_last.len() * 2 > self.page_size as usize {
            // The page is all (or mostly) one timestamp: restarting at it would re-read the
            // same records, so walk that timestamp by id instead.
            if last_ms != self.cursor.modified_ms {
                self.cursor = Cursor {
                    modified_ms: last_ms,
                    after_id: None,
                };
            }
            self.mode = Mode::Tie;
        } else {
            // Records at `last_ms` may continue on the next page, in no known id order.
            self.cursor = Cursor {
                modified_ms: last_ms,
                after_id: None,
            };
        }
        Ok(fresh)
    }

    async fn tie_page(&mut self, client: &Client) -> Result<Vec<PolledRecord>> {
        let at = self.cursor.modified_ms.to_string();
        let after_id = self.cursor.after_id.unwrap_or(0);
        let group = self.group(vec![Filter::eq(&self.modified_property, at), Filter::gt(ID, after_id.to_string())]);
        let page = self.fetch(client, vec![group], Sort::ascending(ID)).await?;
        let full = page.len() == self.page_size as usize;
        // The filter pins the timestamp, so the largest id returned is the new tie-break.
        let last_id = page.iter().map(|r| r.id).max().unwrap_or(after_id);
        if full && last_id <= after_id {
            return Err(Error::Protocol(format!("search by {ID} > {after_id} returned no larger id")));
        }
        let fresh = self.take_unseen(page);
        self.cursor.after_id = Some(last_id.max(after_id));
        if !full {
            self.mode = Mode::Normal;
        }
        Ok(fresh)
    }

    fn group(&self, mut filters: Vec<Filter>) -> FilterGroup {
        filters.extend(self.filters.iter().cloned());
        FilterGroup { filters }
    }

    async fn fetch(&self, client: &Client, filter_groups: Vec<FilterGroup>, sort: Sort) -> Result<Vec<PolledRecord>> {
        let mut properties = self.properties.clone();
        for needed in [self.modified_property.as_str(), ID] {
            if !properties.iter().any(|p| p == needed) {
                properties.push(needed.to_owned());
            }
        }
        let request = SearchRequest {
            filter_groups,
            sorts: vec![sort],
            properties,
            limit: self.page_size,
            ..SearchRequest::default()
        };
        let page = client.search(&self.object_type, &request).await?;
        page.results
            .into_iter()
            .map(|object| polled(object, &self.modified_property))
            .collect()
    }

    fn take_unseen(&self, page: Vec<PolledRecord>) -> Vec<PolledRecord> {
        page.into_iter()
            .filter(|r| !(r.modified_ms == self.cursor.modified_ms && self.seen_at_cursor.contains(&r.id)))
            .collect()
    }
}

fn polled(object: Object, modified_property: &str) -> Result<PolledRecord> {
    let bad = |what: &str| Error::Protocol(format!("search returned record {:?} with {what}", object.id));
    let id = object.id.parse::<u64>().map_err(|_| bad("a non-numeric id"))?;
    let modified_ms = match object.get(modified_property) {
        Some(value) => parse_timestamp(value).ok_or_else(|| bad("an unreadable modified date"))?,
        None => object
            .updated_at
            .map(|t| t.timestamp_millis())
            .ok_or_else(|| bad("no modified date"))?,
    };
    Ok(PolledRecord { id, modified_ms, object })
}

/// HubSpot datetime values arrive as ISO 8601 (`2024-01-17T19:55:04.281Z`) or as epoch ms.
pub fn parse_timestamp(value: &str) -> Option<i64> {
    if let Ok(ms) = value.parse::<i64>() {
        return Some(ms);
    }
    chrono::DateTime::parse_from_rfc3339(value).ok().map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_from_iso_and_epoch_milliseconds() {
        assert_eq!(parse_timestamp("2024-01-17T19:55:04.281Z"), Some(1_705_521_304_281));
        assert_eq!(parse_timestamp("1705521304281"), Some(1_705_521_304_281));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn a_rewound_cursor_forgets_its_tie_break() {
        let c = Cursor {
            modified_ms: 10_000,
            after_id: Some(7),
        };
        assert_eq!(
            c.rewound(3_000),
            Cursor {
                modified_ms: 7_000,
                after_id: None
            }
        );
        assert_eq!(c.rewound(0), c);
    }

    #[test]
    fn contacts_poll_on_lastmodifieddate_and_others_on_hs_lastmodifieddate() {
        assert_eq!(Poller::new("contacts", Cursor::beginning()).modified_property, "lastmodifieddate");
        assert_eq!(Poller::new("deals", Cursor::beginning()).modified_property, "hs_lastmodifieddate");
    }
}
