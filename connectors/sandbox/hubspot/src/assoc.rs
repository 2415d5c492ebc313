//! Associations v4: the directional type catalog (HUBSPOT_DEFINED defaults plus labels a seed
//! declares) and the association graph itself, kept in both directions.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::objects::ObjectType;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Category {
    HubspotDefined,
    UserDefined,
    IntegratorDefined,
}

/// A type id is only meaningful with its category.
pub type TypeKey = (Category, u32);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssocTypeDef {
    pub key: TypeKey,
    pub from: ObjectType,
    pub to: ObjectType,
    pub label: Option<String>,
    /// The type id of the same association seen from the other side.
    pub inverse: TypeKey,
    pub primary: bool,
}

/// A label a seed declares (USER_DEFINED unless said otherwise), for example deal → contact "Decision maker".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelDef {
    pub from: ObjectType,
    pub to: ObjectType,
    pub label: String,
    pub type_id: u32,
    pub inverse_type_id: u32,
    /// The label seen from the other side; the same label when absent.
    #[serde(default)]
    pub inverse_label: Option<String>,
    #[serde(default = "user_defined")]
    pub category: Category,
}

fn user_defined() -> Category {
    Category::UserDefined
}

/// HubSpot's default association types (HubSpot's associations v4 guide): from, to, id, inverse id, primary.
const DEFAULTS: [(ObjectType, ObjectType, u32, u32, bool); 13] = {
    use ObjectType::*;
    [
        (Deals, Contacts, 3, 4, false),
        (Deals, Companies, 341, 342, false),
        (Deals, Companies, 5, 6, true),
        (Contacts, Companies, 279, 280, false),
        (Contacts, Companies, 1, 2, true),
        (Contacts, Contacts, 449, 449, false),
        (Deals, Deals, 451, 451, false),
        (Notes, Contacts, 202, 201, false),
        (Notes, Companies, 190, 189, false),
        (Notes, Deals, 214, 213, false),
        (Tasks, Contacts, 204, 203, false),
        (Tasks, Companies, 192, 191, false),
        (Tasks, Deals, 216, 215, false),
    ]
};

#[derive(Debug, Clone, Default)]
pub struct AssocTypes {
    defs: HashMap<TypeKey, AssocTypeDef>,
}

impl AssocTypes {
    pub fn new(labels: &[LabelDef]) -> Self {
        let mut t = AssocTypes::default();
        for (from, to, id, inv, primary) in DEFAULTS {
            let label = primary.then(|| "Primary".to_string());
            t.add_pair(
                from,
                to,
                (Category::HubspotDefined, id),
                (Category::HubspotDefined, inv),
                label.clone(),
                label,
                primary,
            );
        }
        for l in labels {
            let inv_label = l.inverse_label.clone().unwrap_or_else(|| l.label.clone());
            t.add_pair(
                l.from,
                l.to,
                (l.category, l.type_id),
                (l.category, l.inverse_type_id),
                Some(l.label.clone()),
                Some(inv_label),
                false,
            );
        }
        t
    }

    #[allow(clippy::too_many_arguments)]
    fn add_pair(
        &mut self,
        from: ObjectType,
        to: ObjectType,
        key: TypeKey,
        inv: TypeKey,
        label: Option<String>,
        inv_label: Option<String>,
        primary: bool,
    ) {
        self.defs.insert(
            key,
            AssocTypeDef {
                key,
                from,
                to,
                label,
                inverse: inv,
                primary,
            },
        );
        self.defs.entry(inv).or_insert(AssocTypeDef {
            key: inv,
            from: to,
            to: from,
            label: inv_label,
            inverse: key,
            primary,
        });
    }

    pub fn get(&self, key: TypeKey) -> Option<&AssocTypeDef> {
        self.defs.get(&key)
    }

    /// The unlabelled HUBSPOT_DEFINED type between two object types, if HubSpot has one.
    pub fn default_for(&self, from: ObjectType, to: ObjectType) -> Option<&AssocTypeDef> {
        self.defs
            .values()
            .filter(|d| d.from == from && d.to == to && d.key.0 == Category::HubspotDefined && !d.primary)
            .min_by_key(|d| d.key.1)
    }

    /// Every type from one object type to another, for the labels endpoint.
    pub fn between(&self, from: ObjectType, to: ObjectType) -> Vec<&AssocTypeDef> {
        let mut v: Vec<_> = self.defs.values().filter(|d| d.from == from && d.to == to).collect();
        v.sort_by_key(|d| d.key);
        v
    }

    /// Finds a type by id without a category (v3 paths and inline associations carry both, but be lenient).
    pub fn by_id(&self, from: ObjectType, to: ObjectType, category: Option<Category>, id: u32) -> Option<&AssocTypeDef> {
        self.defs
            .values()
            .find(|d| d.key.1 == id && d.from == from && d.to == to && category.is_none_or(|c| c == d.key.0))
    }

    /// The object type an id points at, given where it comes from (inline associations name only the id).
    pub fn target_of(&self, from: ObjectType, category: Option<Category>, id: u32) -> Option<&AssocTypeDef> {
        self.defs
            .values()
            .find(|d| d.key.1 == id && d.from == from && category.is_none_or(|c| c == d.key.0))
    }
}

/// One side of an association: a record of some type.
pub type Node = (ObjectType, u64);

/// What changed for one directed pair, for webhooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssocChange {
    pub from: Node,
    pub to: Node,
    pub key: TypeKey,
    pub removed: bool,
}

/// The association graph. Each pair is stored from both sides with the side's own type ids.
#[derive(Debug, Default)]
pub struct AssocGraph {
    edges: HashMap<Node, BTreeMap<Node, BTreeSet<TypeKey>>>,
}

impl AssocGraph {
    pub fn types_between(&self, from: Node, to: Node) -> Option<&BTreeSet<TypeKey>> {
        self.edges.get(&from)?.get(&to)
    }

    /// Associated records of one type, ordered by id.
    pub fn list(&self, from: Node, to: ObjectType) -> Vec<(u64, &BTreeSet<TypeKey>)> {
        let Some(map) = self.edges.get(&from) else { return Vec::new() };
        map.range((to, 0)..=(to, u64::MAX)).map(|(n, types)| (n.1, types)).collect()
    }

    /// Makes the pair's types exactly `keys` (forward direction), mirroring the inverse side.
    pub fn set(&mut self, types: &AssocTypes, from: Node, to: Node, keys: &BTreeSet<TypeKey>) -> Vec<AssocChange> {
        let old = self.types_between(from, to).cloned().unwrap_or_default();
        let mut changes = Vec::new();
        for k in old.difference(keys) {
            changes.extend(self.unlink(types, from, to, *k));
        }
        for k in keys.difference(&old) {
            changes.extend(self.link(types, from, to, *k));
        }
        changes
    }

    /// Adds types to a pair, keeping the ones it had.
    pub fn add(&mut self, types: &AssocTypes, from: Node, to: Node, keys: &BTreeSet<TypeKey>) -> Vec<AssocChange> {
        let mut all = self.types_between(from, to).cloned().unwrap_or_default();
        all.extend(keys.iter().copied());
        self.set(types, from, to, &all)
    }

    pub fn remove_pair(&mut self, types: &AssocTypes, from: Node, to: Node) -> Vec<AssocChange> {
        self.set(types, from, to, &BTreeSet::new())
    }

    /// Drops every association of a record (when it is archived).
    pub fn remove_node(&mut self, types: &AssocTypes, node: Node) -> Vec<AssocChange> {
        let peers: Vec<Node> = self.edges.get(&node).map(|m| m.keys().copied().collect()).unwrap_or_default();
        peers.into_iter().flat_map(|p| self.remove_pair(types, node, p)).collect()
    }

    fn link(&mut self, types: &AssocTypes, from: Node, to: Node, key: TypeKey) -> Vec<AssocChange> {
        let inverse = types.get(key).map(|d| d.inverse).unwrap_or(key);
        self.edges.entry(from).or_default().entry(to).or_default().insert(key);
        self.edges.entry(to).or_default().entry(from).or_default().insert(inverse);
        vec![
            AssocChange {
                from,
                to,
                key,
                removed: false,
            },
            AssocChange {
                from: to,
                to: from,
                key: inverse,
                removed: false,
            },
        ]
    }

    fn unlink(&mut self, types: &AssocTypes, from: Node, to: Node, key: TypeKey) -> Vec<AssocChange> {
        let inverse = types.get(key).map(|d| d.inverse).unwrap_or(key);
        self.remove_key(from, to, key);
        self.remove_key(to, from, inverse);
        vec![
            AssocChange {
                from,
                to,
                key,
                removed: true,
            },
            AssocChange {
                from: to,
                to: from,
                key: inverse,
                removed: true,
            },
        ]
    }

    fn remove_key(&mut self, from: Node, to: Node, key: TypeKey) {
        let Some(map) = self.edges.get_mut(&from) else { return };
        if let Some(set) = map.get_mut(&to) {
            set.remove(&key);
            if set.is_empty() {
                map.remove(&to);
            }
        }
        if map.is_empty() {
            self.edges.remove(&from);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ObjectType::*;

    #[test]
    fn a_labelled_association_is_visible_from_both_sides_with_inverse_ids() {
        let labels = [LabelDef {
            from: Deals,
            to: Contacts,
            label: "Decision maker".into(),
            type_id: 101,
            inverse_type_id: 102,
            inverse_label: None,
            category: Category::UserDefined,
        }];
        let types = AssocTypes::new(&labels);
        let mut g = AssocGraph::default();
        let keys = BTreeSet::from([(Category::HubspotDefined, 3), (Category::UserDefined, 101)]);
        let changes = g.set(&types, (Deals, 1), (Contacts, 2), &keys);
        assert_eq!(changes.len(), 4);
        let back = g.types_between((Contacts, 2), (Deals, 1)).cloned().unwrap_or_default();
        assert_eq!(back, BTreeSet::from([(Category::HubspotDefined, 4), (Category::UserDefined, 102)]));
        g.remove_pair(&types, (Contacts, 2), (Deals, 1));
        assert!(g.list((Deals, 1), Contacts).is_empty());
    }

    #[test]
    fn defaults_are_the_unlabelled_hubspot_types() {
        let types = AssocTypes::new(&[]);
        assert_eq!(types.default_for(Deals, Contacts).map(|d| d.key.1), Some(3));
        assert_eq!(types.default_for(Deals, Companies).map(|d| d.key.1), Some(341));
        assert_eq!(types.default_for(Tasks, Deals).map(|d| d.key.1), Some(216));
    }
}
