//! The search engine behind `POST …/search`: filter groups (ORed) of filters (ANDed), one sort,
//! offset paging. Sorting by a timestamp or the id walks an index instead of sorting, so an
//! incremental sync over 100,000 records costs one range scan per page, not a sort.

use std::cmp::Ordering;
use std::ops::Bound;

use serde::Deserialize;
use serde_json::Value;

use crate::catalog::PropKind;
use crate::objects::ObjectType;
use crate::store::{Record, Store, prop_value};
use crate::util::parse_time_ms;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Operator {
    Lt,
    Lte,
    Gt,
    Gte,
    Eq,
    Neq,
    Between,
    In,
    NotIn,
    HasProperty,
    NotHasProperty,
    ContainsToken,
    NotContainsToken,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    pub property_name: String,
    pub operator: Operator,
    #[serde(default)]
    pub value: Option<Value>,
    #[serde(default)]
    pub high_value: Option<Value>,
    #[serde(default)]
    pub values: Option<Vec<Value>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct FilterGroup {
    #[serde(default)]
    pub filters: Vec<Filter>,
}

/// A comparable property value: numbers and times compare numerically, text as text.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    Num(f64),
    Text(String),
}

impl Key {
    fn cmp(&self, other: &Key) -> Ordering {
        match (self, other) {
            (Key::Num(a), Key::Num(b)) => a.total_cmp(b),
            (Key::Text(a), Key::Text(b)) => a.cmp(b),
            (Key::Num(_), Key::Text(_)) => Ordering::Less,
            (Key::Text(_), Key::Num(_)) => Ordering::Greater,
        }
    }
}

pub fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Values are case-insensitive except for enumerations (HubSpot's CRM search guide).
pub fn key_of(kind: PropKind, raw: &str) -> Option<Key> {
    match kind {
        PropKind::Number => raw.trim().parse::<f64>().ok().map(Key::Num),
        PropKind::Date | PropKind::Datetime => parse_time_ms(raw).map(|ms| Key::Num(ms as f64)),
        PropKind::Enumeration => Some(Key::Text(raw.to_string())),
        PropKind::String | PropKind::Bool => Some(Key::Text(raw.to_lowercase())),
    }
}

/// A filter checked and typed against the catalog.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub property: String,
    pub kind: PropKind,
    pub op: Operator,
    pub operands: Vec<Key>,
    /// `associations.contact` style filters: the associated type.
    pub association: Option<ObjectType>,
    pub raw: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Query {
    pub object: ObjectType,
    pub groups: Vec<Vec<Compiled>>,
    pub sort: Option<(String, PropKind, bool)>,
    pub text: Option<Vec<String>>,
}

fn matches_filter(store: &Store, q: &Query, rec: &Record, f: &Compiled) -> bool {
    if let Some(to) = f.association {
        let linked = |raw: &String| {
            raw.parse::<u64>()
                .ok()
                .is_some_and(|id| store.graph.types_between((q.object, rec.id), (to, id)).is_some())
        };
        return match f.op {
            Operator::Eq | Operator::In => f.raw.iter().any(linked),
            Operator::Neq | Operator::NotIn => !f.raw.iter().any(linked),
            Operator::HasProperty => !store.graph.list((q.object, rec.id), to).is_empty(),
            Operator::NotHasProperty => store.graph.list((q.object, rec.id), to).is_empty(),
            _ => false,
        };
    }
    let value = prop_value(rec, &f.property).filter(|v| !v.is_empty());
    let Some(value) = value else {
        // Missing values satisfy only the negative operators, as in HubSpot's index.
        return matches!(
            f.op,
            Operator::NotHasProperty | Operator::Neq | Operator::NotIn | Operator::NotContainsToken
        );
    };
    if matches!(f.op, Operator::ContainsToken | Operator::NotContainsToken) {
        let hit = f.raw.first().is_some_and(|pattern| contains_token(&value, pattern));
        return hit == (f.op == Operator::ContainsToken);
    }
    let Some(k) = key_of(f.kind, &value) else { return false };
    let first = f.operands.first();
    let cmp = |o: Option<&Key>| o.map(|o| k.cmp(o));
    match f.op {
        Operator::HasProperty => true,
        Operator::NotHasProperty => false,
        Operator::Eq => cmp(first) == Some(Ordering::Equal),
        Operator::Neq => cmp(first) != Some(Ordering::Equal),
        Operator::Lt => cmp(first) == Some(Ordering::Less),
        Operator::Lte => matches!(cmp(first), Some(Ordering::Less | Ordering::Equal)),
        Operator::Gt => cmp(first) == Some(Ordering::Greater),
        Operator::Gte => matches!(cmp(first), Some(Ordering::Greater | Ordering::Equal)),
        Operator::Between => {
            matches!(cmp(first), Some(Ordering::Greater | Ordering::Equal))
                && matches!(cmp(f.operands.get(1)), Some(Ordering::Less | Ordering::Equal))
        }
        Operator::In => f.operands.iter().any(|o| k.cmp(o) == Ordering::Equal),
        Operator::NotIn => !f.operands.iter().any(|o| k.cmp(o) == Ordering::Equal),
        Operator::ContainsToken | Operator::NotContainsToken => false,
    }
}

/// Token match with `*` wildcards, case-insensitive.
fn contains_token(value: &str, pattern: &str) -> bool {
    let pattern = pattern.to_lowercase();
    let value = value.to_lowercase();
    if !pattern.contains('*') {
        return value.split(|c: char| !c.is_alphanumeric()).any(|t| t == pattern) || value == pattern;
    }
    glob(&value, &pattern) || value.split(|c: char| c.is_whitespace()).any(|t| glob(t, &pattern))
}

fn glob(text: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    if !text.starts_with(first) {
        return false;
    }
    let mut pos = first.len();
    for mid in parts.iter().skip(1).take(parts.len().saturating_sub(2)) {
        match text.get(pos..).and_then(|rest| rest.find(mid)) {
            Some(i) => pos += i + mid.len(),
            None => return false,
        }
    }
    text.len() >= pos + last.len() && text.ends_with(last)
}

/// Properties free-text `query` looks at.
fn text_fields(t: ObjectType) -> &'static [&'static str] {
    match t {
        ObjectType::Deals => &["dealname"],
        ObjectType::Contacts => &["firstname", "lastname", "email", "phone", "company"],
        ObjectType::Companies => &["name", "domain", "website"],
        ObjectType::Tasks => &["hs_task_subject", "hs_task_body"],
        ObjectType::Notes => &["hs_note_body"],
    }
}

pub fn matches(store: &Store, q: &Query, rec: &Record) -> bool {
    if let Some(words) = &q.text {
        let hay: Vec<String> = text_fields(q.object)
            .iter()
            .filter_map(|n| rec.props.get(*n))
            .map(|v| v.to_lowercase())
            .collect();
        if !words.iter().all(|w| hay.iter().any(|h| h.contains(w.as_str()))) {
            return false;
        }
    }
    q.groups.is_empty() || q.groups.iter().any(|g| g.iter().all(|f| matches_filter(store, q, rec, f)))
}

/// Total matches and one page of ids, in sort order (ties broken by id in the same direction).
pub fn run(store: &Store, q: &Query, offset: usize, limit: usize) -> (usize, Vec<u64>) {
    let table = store.table(q.object);
    let (prop, desc) = match &q.sort {
        Some((p, _, desc)) => (p.as_str(), *desc),
        None => (q.object.created_property(), false),
    };
    let mut page = Vec::with_capacity(limit);
    let mut total = 0usize;
    let mut visit = |rec: &Record| {
        if matches(store, q, rec) {
            if total >= offset && page.len() < limit {
                page.push(rec.id);
            }
            total += 1;
        }
    };
    let by_time = |index: &std::collections::BTreeSet<(i64, u64)>, visit: &mut dyn FnMut(&Record)| {
        let (lo, hi) = time_bounds(q, prop);
        let range = index.range((lo.map(|t| (t, 0)), hi.map(|t| (t, u64::MAX))));
        let mut step = |(_, id): &(i64, u64)| {
            if let Some(r) = table.records.get(id) {
                visit(r);
            }
        };
        if desc {
            range.rev().for_each(&mut step)
        } else {
            range.for_each(step)
        }
    };
    match prop {
        "hs_lastmodifieddate" | "lastmodifieddate" => by_time(&table.by_modified, &mut visit),
        "createdate" | "hs_createdate" => by_time(&table.by_created, &mut visit),
        "hs_object_id" => {
            let live = table.records.values().filter(|r| !r.is_archived());
            if desc {
                live.rev().for_each(&mut visit)
            } else {
                live.for_each(&mut visit)
            }
        }
        _ => return sorted_scan(store, q, offset, limit),
    }
    (total, page)
}

/// Any other sort property: collect the matches, then sort them by (value, id).
fn sorted_scan(store: &Store, q: &Query, offset: usize, limit: usize) -> (usize, Vec<u64>) {
    let Some((prop, kind, desc)) = &q.sort else {
        return (0, Vec::new());
    };
    let mut hits: Vec<(Option<Key>, u64)> = store
        .table(q.object)
        .records
        .values()
        .filter(|r| !r.is_archived() && matches(store, q, r))
        .map(|r| (prop_value(r, prop).and_then(|v| key_of(*kind, &v)), r.id))
        .collect();
    // Records without the property sort last in either direction.
    hits.sort_by(|(ka, ia), (kb, ib)| {
        let by_key = match (ka, kb) {
            (Some(a), Some(b)) => {
                if *desc {
                    b.cmp(a)
                } else {
                    a.cmp(b)
                }
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        by_key.then(if *desc { ib.cmp(ia) } else { ia.cmp(ib) })
    });
    let total = hits.len();
    (total, hits.into_iter().skip(offset).take(limit).map(|(_, id)| id).collect())
}

/// With at most one filter group, range filters on the sort timestamp narrow the index scan.
fn time_bounds(q: &Query, prop: &str) -> (Bound<i64>, Bound<i64>) {
    let (mut lo, mut hi) = (Bound::Unbounded, Bound::Unbounded);
    let [group] = q.groups.as_slice() else { return (lo, hi) };
    let same = |p: &str| p == prop || (is_modified(p) && is_modified(prop)) || (is_created(p) && is_created(prop));
    for f in group.iter().filter(|f| f.association.is_none() && same(&f.property)) {
        let ms = |i: usize| match f.operands.get(i) {
            Some(Key::Num(n)) => Some(*n as i64),
            _ => None,
        };
        // Bounds are inclusive and widened by a millisecond: the exact check still runs per record.
        match (f.op, ms(0), ms(1)) {
            (Operator::Gt | Operator::Gte, Some(a), _) => lo = tighter_lo(lo, a.saturating_sub(1)),
            (Operator::Lt | Operator::Lte, Some(a), _) => hi = tighter_hi(hi, a.saturating_add(1)),
            (Operator::Eq, Some(a), _) => {
                lo = tighter_lo(lo, a.saturating_sub(1));
                hi = tighter_hi(hi, a.saturating_add(1));
            }
            (Operator::Between, Some(a), Some(b)) => {
                lo = tighter_lo(lo, a.saturating_sub(1));
                hi = tighter_hi(hi, b.saturating_add(1));
            }
            _ => {}
        }
    }
    (lo, hi)
}

fn is_modified(p: &str) -> bool {
    p == "hs_lastmodifieddate" || p == "lastmodifieddate"
}

fn is_created(p: &str) -> bool {
    p == "createdate" || p == "hs_createdate"
}

fn tighter_lo(b: Bound<i64>, v: i64) -> Bound<i64> {
    match b {
        Bound::Included(x) if x >= v => b,
        _ => Bound::Included(v),
    }
}

fn tighter_hi(b: Bound<i64>, v: i64) -> Bound<i64> {
    match b {
        Bound::Included(x) if x <= v => b,
        _ => Bound::Included(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_tokens_match_like_hubspot() {
        assert!(contains_token("nora.okafor@northwind.example.com", "*@northwind.example.com"));
        assert!(contains_token("Northwind Traders", "northwind"));
        assert!(!contains_token("Northwind Traders", "north"));
        assert!(contains_token("Northwind Traders", "north*"));
    }
}
