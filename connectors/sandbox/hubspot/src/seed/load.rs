//! Turns a `Seed` into a populated `Store`: validates properties against the catalog,
//! assigns ids in file order and links records by key.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::{Seed, SeedLink, SeedRecord};
use crate::assoc::{AssocTypes, Node, TypeKey};
use crate::catalog::Catalog;
use crate::objects::ObjectType;
use crate::store::{Record, Store, validate};
use crate::util::parse_time_ms;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeedError {
    #[error("hubspot seed does not parse: {0}")]
    Parse(String),
    #[error(transparent)]
    File(#[from] sandbox_kit::seed::SeedFileError),
    #[error("hubspot seed, {object} #{index}: {message}")]
    BadRecord {
        object: &'static str,
        index: usize,
        message: String,
    },
    #[error("hubspot seed: key {0:?} is used twice")]
    DuplicateKey(String),
    #[error("hubspot seed: link to unknown key {0:?}")]
    UnknownKey(String),
    #[error("hubspot seed: no association label {label:?} from {from} to {to}")]
    UnknownLabel {
        label: String,
        from: &'static str,
        to: &'static str,
    },
}

impl Seed {
    /// Builds the in-memory CRM this seed describes.
    pub(crate) fn build_store(&self) -> Result<Store, SeedError> {
        if self.include_fixture {
            return self.merged_with_fixture().build_store();
        }
        let catalog = Catalog::new(&self.properties);
        let types = AssocTypes::new(&self.association_labels);
        let mut store = Store::new(catalog, types, self.owners.clone());
        let generated = self.generate.map(|spec| {
            let mut g = Seed {
                base_time: self.base_time.clone(),
                owners: self.owners.clone(),
                ..Seed::default()
            };
            super::generate::fill(&mut g, &spec);
            g
        });
        let mut loader = Loader {
            store: &mut store,
            keys: HashMap::new(),
            links: Vec::new(),
            base: self.base_ms(),
            counter: 0,
        };
        for seed in std::iter::once(self).chain(generated.as_ref()) {
            for (t, records) in seed.by_type() {
                for (i, r) in records.iter().enumerate() {
                    loader.insert(t, i, r)?;
                }
            }
        }
        loader.link_all()?;
        Ok(store)
    }

    /// The fixture with this seed's definitions and records appended.
    fn merged_with_fixture(&self) -> Seed {
        let mut out = Seed::fixture();
        let me = self.clone();
        out.portal_id = me.portal_id.or(out.portal_id);
        out.base_time = me.base_time.or(out.base_time);
        out.owners.extend(me.owners);
        out.properties.extend(me.properties);
        out.association_labels.extend(me.association_labels);
        out.companies.extend(me.companies);
        out.contacts.extend(me.contacts);
        out.deals.extend(me.deals);
        out.tasks.extend(me.tasks);
        out.notes.extend(me.notes);
        out.generate = me.generate;
        out
    }

    fn by_type(&self) -> [(ObjectType, &[SeedRecord]); 5] {
        [
            (ObjectType::Companies, &self.companies),
            (ObjectType::Contacts, &self.contacts),
            (ObjectType::Deals, &self.deals),
            (ObjectType::Tasks, &self.tasks),
            (ObjectType::Notes, &self.notes),
        ]
    }
}

struct Loader<'a> {
    store: &'a mut Store,
    keys: HashMap<String, Node>,
    links: Vec<(Node, SeedLink)>,
    base: i64,
    counter: i64,
}

impl Loader<'_> {
    fn insert(&mut self, t: ObjectType, index: usize, r: &SeedRecord) -> Result<(), SeedError> {
        let bad = |message: String| SeedError::BadRecord {
            object: t.plural(),
            index,
            message,
        };
        let input: Map<String, Value> = r.properties.iter().map(|(k, v)| (k.clone(), Value::String(v.to_text()))).collect();
        let writes = validate::normalize(&self.store.catalog, t, &input)
            .map_err(|errs| bad(errs.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; ")))?;
        // Records without explicit times get one hour apart each, in file order.
        self.counter += 1;
        let created_ms = time(
            r.created_at.as_deref(),
            self.base.saturating_add(self.counter.saturating_mul(3_600_000)),
        )
        .map_err(&bad)?;
        let updated_ms = time(r.updated_at.as_deref(), created_ms).map_err(&bad)?;
        let id = match r.id {
            Some(id) => id,
            None => self.store_table_next(t),
        };
        if self.store.table(t).records.contains_key(&id) {
            return Err(bad(format!("id {id} is used twice")));
        }
        let props = writes.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        self.store.insert_seeded(
            t,
            Record {
                id,
                props,
                created_ms,
                updated_ms,
                archived_ms: None,
            },
        );
        if let Some(key) = &r.key
            && self.keys.insert(key.clone(), (t, id)).is_some()
        {
            return Err(SeedError::DuplicateKey(key.clone()));
        }
        if let Some(company) = &r.company {
            self.links.push((
                (t, id),
                SeedLink {
                    to: company.clone(),
                    labels: vec!["Primary".into()],
                },
            ));
        }
        self.links.extend(r.associations.iter().map(|l| ((t, id), l.clone())));
        Ok(())
    }

    fn store_table_next(&self, t: ObjectType) -> u64 {
        self.store.table(t).next_id
    }

    fn link_all(&mut self) -> Result<(), SeedError> {
        for (from, link) in std::mem::take(&mut self.links) {
            let to = *self.keys.get(&link.to).ok_or_else(|| SeedError::UnknownKey(link.to.clone()))?;
            let keys = label_keys(&self.store.assoc_types, from.0, to.0, &link.labels)?;
            self.store.link_seeded(from, to, &keys);
        }
        Ok(())
    }
}

fn time(text: Option<&str>, default: i64) -> Result<i64, String> {
    match text {
        None => Ok(default),
        Some(t) => parse_time_ms(t).ok_or_else(|| format!("{t:?} is not a time")),
    }
}

/// The default type plus one type per label ("Primary" names HubSpot's primary type).
fn label_keys(types: &AssocTypes, from: ObjectType, to: ObjectType, labels: &[String]) -> Result<BTreeSet<TypeKey>, SeedError> {
    let unknown = |label: &str| SeedError::UnknownLabel {
        label: label.to_string(),
        from: from.plural(),
        to: to.plural(),
    };
    let mut keys = BTreeSet::new();
    let default = types.default_for(from, to).ok_or_else(|| unknown("(default)"))?;
    keys.insert(default.key);
    for label in labels {
        let def = types
            .between(from, to)
            .into_iter()
            .find(|d| d.label.as_deref() == Some(label.as_str()))
            .ok_or_else(|| unknown(label))?;
        keys.insert(def.key);
    }
    Ok(keys)
}
