//! The in-memory CRM: records per object type, the property catalog, owners and the
//! association graph. Every write reports its changes to the webhook dispatcher, whoever made it.

mod table;
pub mod validate;

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedSender;

pub use table::{Record, Table};
pub use validate::PropError;

use crate::assoc::{AssocChange, AssocGraph, AssocTypes, Category, Node, TypeKey};
use crate::catalog::Catalog;
use crate::events::{ChangeEvent, ChangeKind, ChangeSource};
use crate::objects::ObjectType;
use crate::owners::Owner;
use crate::util::{iso_ms, now_ms};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    #[error("{} {id} not found", object.singular())]
    NotFound { object: ObjectType, id: String },
    #[error("Property values were not valid")]
    InvalidProperties(Vec<PropError>),
    #[error("association type {type_id} is not valid from {}", from.singular())]
    BadAssociationType { from: ObjectType, type_id: u32 },
    #[error("association types point at different object types")]
    MixedAssociationTargets,
}

/// An association type as a client names it: the category is optional in some shapes.
pub type TypeSpec = (Option<Category>, u32);

/// An association to create together with a record.
#[derive(Debug, Clone)]
pub struct InlineAssoc {
    pub to_id: u64,
    pub types: Vec<TypeSpec>,
}

pub struct Store {
    tables: [Table; 5],
    pub catalog: Catalog,
    pub assoc_types: AssocTypes,
    pub graph: AssocGraph,
    pub owners: Vec<Owner>,
    events: Option<UnboundedSender<ChangeEvent>>,
}

/// A property's value, including the ones HubSpot computes from the record itself.
pub fn prop_value<'a>(rec: &'a Record, name: &str) -> Option<Cow<'a, str>> {
    match name {
        "hs_object_id" => Some(Cow::Owned(rec.id.to_string())),
        "createdate" | "hs_createdate" => Some(Cow::Owned(iso_ms(rec.created_ms))),
        "hs_lastmodifieddate" | "lastmodifieddate" => Some(Cow::Owned(iso_ms(rec.updated_ms))),
        _ => rec.props.get(name).map(|s| Cow::Borrowed(s.as_str())),
    }
}

impl Store {
    pub fn new(catalog: Catalog, assoc_types: AssocTypes, owners: Vec<Owner>) -> Self {
        Self {
            tables: ObjectType::ALL.map(|t| Table::new(t.id_base() + 1)),
            catalog,
            assoc_types,
            graph: AssocGraph::default(),
            owners,
            events: None,
        }
    }

    pub fn set_event_sink(&mut self, tx: UnboundedSender<ChangeEvent>) {
        self.events = Some(tx);
    }

    pub fn table(&self, t: ObjectType) -> &Table {
        &self.tables[t.index()]
    }

    fn table_mut(&mut self, t: ObjectType) -> &mut Table {
        &mut self.tables[t.index()]
    }

    /// A live (not archived) record.
    pub fn get(&self, t: ObjectType, id: u64) -> Option<&Record> {
        self.table(t).live(id)
    }

    fn emit(&self, object: ObjectType, id: u64, kind: ChangeKind, source: ChangeSource) {
        if let Some(tx) = &self.events {
            // A closed channel only means nobody listens for webhooks any more.
            let _ = tx.send(ChangeEvent {
                object,
                id,
                kind,
                source,
                at_ms: now_ms(),
            });
        }
    }

    /// Loads a record from a seed: no validation beyond the caller's, no webhooks.
    pub fn insert_seeded(&mut self, t: ObjectType, rec: Record) {
        self.table_mut(t).put(rec);
    }

    /// Links two seeded records without firing webhooks.
    pub fn link_seeded(&mut self, from: Node, to: Node, keys: &BTreeSet<TypeKey>) {
        let Store { graph, assoc_types, .. } = self;
        graph.add(assoc_types, from, to, keys);
    }

    /// Checks a create without making it, so a batch can be all-or-nothing.
    pub fn check_create(&self, t: ObjectType, input: &Map<String, Value>, assocs: &[InlineAssoc]) -> Result<(), StoreError> {
        self.prepare_create(t, input, assocs).map(|_| ())
    }

    #[allow(clippy::type_complexity)]
    fn prepare_create(
        &self,
        t: ObjectType,
        input: &Map<String, Value>,
        assocs: &[InlineAssoc],
    ) -> Result<(validate::Writes, Vec<(Node, BTreeSet<TypeKey>)>), StoreError> {
        let mut writes = validate::normalize(&self.catalog, t, input).map_err(StoreError::InvalidProperties)?;
        require_timestamp(t, &writes)?;
        apply_defaults(t, &mut writes);
        let mut links = Vec::with_capacity(assocs.len());
        for a in assocs {
            let (to, keys) = self.resolve_types(t, None, &a.types)?;
            if self.get(to, a.to_id).is_none() {
                return Err(StoreError::NotFound {
                    object: to,
                    id: a.to_id.to_string(),
                });
            }
            links.push(((to, a.to_id), keys));
        }
        Ok((writes, links))
    }

    pub fn create(
        &mut self,
        t: ObjectType,
        input: &Map<String, Value>,
        assocs: &[InlineAssoc],
        source: ChangeSource,
    ) -> Result<u64, StoreError> {
        let (writes, links) = self.prepare_create(t, input, assocs)?;
        let now = now_ms();
        let id = self.table_mut(t).allocate_id();
        let props = writes.iter().filter(|(_, v)| !v.is_empty()).cloned().collect();
        self.table_mut(t).put(Record {
            id,
            props,
            created_ms: now,
            updated_ms: now,
            archived_ms: None,
        });
        let set: Vec<(String, String)> = writes.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        self.emit(t, id, ChangeKind::Created { properties: set }, source);
        for (to, keys) in links {
            self.associate((t, id), to, &keys, false, source);
        }
        Ok(id)
    }

    pub fn update(&mut self, t: ObjectType, id: u64, input: &Map<String, Value>, source: ChangeSource) -> Result<(), StoreError> {
        let writes = validate::normalize(&self.catalog, t, input).map_err(StoreError::InvalidProperties)?;
        let Some(mut rec) = self.get(t, id).cloned() else {
            return Err(StoreError::NotFound {
                object: t,
                id: id.to_string(),
            });
        };
        let mut changed = Vec::new();
        for (name, value) in writes {
            let old = rec.props.get(&name).cloned().unwrap_or_default();
            if old == value {
                continue;
            }
            if value.is_empty() {
                rec.props.remove(&name);
            } else {
                rec.props.insert(name.clone(), value.clone());
            }
            changed.push((name, value));
        }
        if changed.is_empty() {
            return Ok(());
        }
        rec.updated_ms = now_ms().max(rec.updated_ms);
        self.table_mut(t).put(rec);
        for (name, value) in changed {
            self.emit(t, id, ChangeKind::PropertyChanged { name, value }, source);
        }
        Ok(())
    }

    pub fn archive(&mut self, t: ObjectType, id: u64, source: ChangeSource) -> Result<(), StoreError> {
        let Some(mut rec) = self.get(t, id).cloned() else {
            return Err(StoreError::NotFound {
                object: t,
                id: id.to_string(),
            });
        };
        let now = now_ms();
        rec.archived_ms = Some(now);
        rec.updated_ms = now.max(rec.updated_ms);
        self.table_mut(t).put(rec);
        let changes = {
            let Store { graph, assoc_types, .. } = self;
            graph.remove_node(assoc_types, (t, id))
        };
        self.emit_assoc(&changes, source);
        self.emit(t, id, ChangeKind::Deleted, source);
        Ok(())
    }

    /// Turns client-named association types into keys, checking they start at `from`
    /// (and end at `to`, when the path names it).
    pub fn resolve_types(
        &self,
        from: ObjectType,
        to: Option<ObjectType>,
        specs: &[TypeSpec],
    ) -> Result<(ObjectType, BTreeSet<TypeKey>), StoreError> {
        let mut target = to;
        let mut keys = BTreeSet::new();
        for (cat, id) in specs {
            let def = match to {
                Some(to) => self.assoc_types.by_id(from, to, *cat, *id),
                None => self.assoc_types.target_of(from, *cat, *id),
            }
            .ok_or(StoreError::BadAssociationType { from, type_id: *id })?;
            if target.is_some_and(|t| t != def.to) {
                return Err(StoreError::MixedAssociationTargets);
            }
            target = Some(def.to);
            keys.insert(def.key);
        }
        let target = target.ok_or(StoreError::BadAssociationType { from, type_id: 0 })?;
        Ok((target, keys))
    }

    /// Adds (or, with `replace`, sets) labels on a pair. HubSpot always keeps the unlabelled
    /// default type alongside labels, so it is added too.
    pub fn associate(&mut self, from: Node, to: Node, keys: &BTreeSet<TypeKey>, replace: bool, source: ChangeSource) {
        let mut keys = keys.clone();
        if let Some(d) = self.assoc_types.default_for(from.0, to.0) {
            keys.insert(d.key);
        }
        let changes = {
            let Store { graph, assoc_types, .. } = self;
            if replace {
                graph.set(assoc_types, from, to, &keys)
            } else {
                graph.add(assoc_types, from, to, &keys)
            }
        };
        self.emit_assoc(&changes, source);
    }

    pub fn unassociate(&mut self, from: Node, to: Node, source: ChangeSource) {
        let changes = {
            let Store { graph, assoc_types, .. } = self;
            graph.remove_pair(assoc_types, from, to)
        };
        self.emit_assoc(&changes, source);
    }

    /// Removes only some types from a pair (v4 labels/archive); the pair stays while any type remains.
    pub fn remove_labels(&mut self, from: Node, to: Node, keys: &BTreeSet<TypeKey>, source: ChangeSource) {
        let current = self.graph.types_between(from, to).cloned().unwrap_or_default();
        let rest: BTreeSet<TypeKey> = current.difference(keys).copied().collect();
        let changes = {
            let Store { graph, assoc_types, .. } = self;
            graph.set(assoc_types, from, to, &rest)
        };
        self.emit_assoc(&changes, source);
    }

    fn emit_assoc(&self, changes: &[AssocChange], source: ChangeSource) {
        for c in changes {
            let primary = self.assoc_types.get(c.key).is_some_and(|d| d.primary);
            self.emit(
                c.from.0,
                c.from.1,
                ChangeKind::Association {
                    to: c.to,
                    key: c.key,
                    removed: c.removed,
                    primary,
                },
                source,
            );
        }
    }
}

/// Tasks and notes cannot exist without `hs_timestamp` (HubSpot's tasks and notes guides).
fn require_timestamp(t: ObjectType, writes: &[(String, String)]) -> Result<(), StoreError> {
    let needs = matches!(t, ObjectType::Tasks | ObjectType::Notes);
    if needs && !writes.iter().any(|(n, v)| n == "hs_timestamp" && !v.is_empty()) {
        return Err(StoreError::InvalidProperties(vec![PropError {
            name: "hs_timestamp".into(),
            code: "REQUIRED_PROPERTY",
            message: "Property \"hs_timestamp\" is required".into(),
        }]));
    }
    Ok(())
}

/// HubSpot puts a deal without a pipeline into the default pipeline's first stage.
fn apply_defaults(t: ObjectType, writes: &mut Vec<(String, String)>) {
    if t != ObjectType::Deals {
        return;
    }
    for (name, value) in [("pipeline", "default"), ("dealstage", "appointmentscheduled")] {
        if !writes.iter().any(|(n, v)| n == name && !v.is_empty()) {
            writes.push((name.to_string(), value.to_string()));
        }
    }
}
