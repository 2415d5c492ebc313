//! JSON output with Salesforce's key order (`attributes` first, then fields as selected), which
//! serde_json's default map would sort away.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use crate::soql::{Compiled, Selected};
use crate::store::{Record, Store};

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Leaf(Value),
    Obj(Vec<(String, Node)>),
    List(Vec<Node>),
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Leaf(v) => v.serialize(s),
            Node::Obj(entries) => {
                let mut m = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            Node::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
        }
    }
}

impl Node {
    fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match self {
            Node::Obj(entries) => entries.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn push(&mut self, key: &str, v: Node) {
        if let Node::Obj(entries) = self {
            entries.push((key.to_string(), v));
        }
    }
}

pub fn leaf(v: impl Into<Value>) -> Node {
    Node::Leaf(v.into())
}

fn attributes(object: &str, id: &str, version: &str) -> Node {
    Node::Obj(vec![
        ("type".into(), leaf(object)),
        ("url".into(), leaf(format!("/services/data/{version}/sobjects/{object}/{id}"))),
    ])
}

/// A record with every field (sObject GET), or just `fields` when given.
pub fn full_record(store: &Store, object: usize, rec: &Record, version: &str, fields: Option<&[String]>) -> Node {
    let def = store.object(object);
    let mut n = Node::Obj(vec![("attributes".into(), attributes(&def.name, &rec.id, version))]);
    for f in &def.fields {
        if fields.is_none_or(|only| only.iter().any(|x| x.eq_ignore_ascii_case(&f.name))) {
            n.push(&f.name, Node::Leaf(rec.value(&f.name)));
        }
    }
    n
}

/// One query row: selected fields in order, parents nested under their relationship names,
/// child subqueries as `{totalSize, done, records}` (null when empty, as Salesforce does).
pub fn query_record(store: &Store, q: &Compiled, rec: &Record, version: &str) -> Node {
    let mut n = Node::Obj(vec![(
        "attributes".into(),
        attributes(&store.object(q.object).name, &rec.id, version),
    )]);
    for s in &q.select {
        match s {
            Selected::Field(f) => put_path(store, &mut n, rec, &f.hops, &f.field, version),
            Selected::Sub(sub) => {
                let rows = q.children(store, sub, &rec.id);
                let value = if rows.is_empty() {
                    Node::Leaf(Value::Null)
                } else {
                    let records = rows
                        .iter()
                        .map(|r| {
                            let mut c = Node::Obj(vec![(
                                "attributes".into(),
                                attributes(&store.object(sub.child).name, &r.id, version),
                            )]);
                            for f in &sub.select {
                                put_path(store, &mut c, r, &f.hops, &f.field, version);
                            }
                            c
                        })
                        .collect();
                    Node::Obj(vec![
                        ("totalSize".into(), leaf(rows.len())),
                        ("done".into(), leaf(true)),
                        ("records".into(), Node::List(records)),
                    ])
                };
                n.push(&sub.name, value);
            }
        }
    }
    n
}

/// Writes `hops…field` of `rec` into `n`, creating or reusing nested parent objects.
fn put_path(store: &Store, n: &mut Node, rec: &Record, hops: &[(String, String)], field: &str, version: &str) {
    let Some(((ref_field, rel), rest)) = hops.split_first() else {
        if n.get_mut(field).is_none() {
            n.push(field, Node::Leaf(rec.value(field)));
        }
        return;
    };
    let parent = rec.text(ref_field).and_then(|id| store.by_id(id));
    let Some((po, parent)) = parent else {
        if n.get_mut(rel).is_none() {
            n.push(rel, Node::Leaf(Value::Null));
        }
        return;
    };
    if n.get_mut(rel).is_none() {
        n.push(
            rel,
            Node::Obj(vec![("attributes".into(), attributes(&store.object(po).name, &parent.id, version))]),
        );
    }
    if let Some(child) = n.get_mut(rel) {
        put_path(store, child, parent, rest, field, version);
    }
}
