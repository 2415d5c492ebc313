//! Turning a seed into a store: keys resolved to ids, fields validated like API writes,
//! timestamps laid out after the base time.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::{Scalar, Seed, SeedRecord};
use crate::schema::Schema;
use crate::store::{DmlError, Record, Store};
use crate::util::{now_ms, parse_datetime};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeedError {
    #[error("the salesforce seed does not parse: {0}")]
    Parse(String),
    #[error(transparent)]
    File(#[from] sandbox_kit::seed::SeedFileError),
    #[error("seeded {object} #{index}: {error}")]
    Record { object: String, index: usize, error: DmlError },
    #[error("seeded {object} #{index} refers to unknown key @{key}")]
    UnknownKey { object: String, index: usize, key: String },
    #[error("seed key {0} is used twice")]
    DuplicateKey(String),
    #[error("base_time {0} is not an RFC 3339 datetime")]
    BaseTime(String),
}

/// Milliseconds between generated creation times, so 100,000s of records span days, not years.
const SPACING_MS: i64 = 1_000;

impl Seed {
    /// The seed with the fixture merged in (when asked) and generated records appended.
    fn expanded(&self) -> Seed {
        let mut s = if self.include_fixture {
            let mut f = Seed::fixture();
            f.base_time = self.base_time.clone().or(f.base_time);
            for c in &self.custom_fields {
                if !f.custom_fields.iter().any(|x| x.object == c.object && x.name == c.name) {
                    f.custom_fields.push(c.clone());
                }
            }
            f.users.extend(self.users.iter().cloned());
            f.accounts.extend(self.accounts.iter().cloned());
            f.contacts.extend(self.contacts.iter().cloned());
            f.opportunities.extend(self.opportunities.iter().cloned());
            f.contact_roles.extend(self.contact_roles.iter().cloned());
            f.tasks.extend(self.tasks.iter().cloned());
            f.generate = self.generate.clone();
            f
        } else {
            self.clone()
        };
        if let Some(spec) = s.generate.take() {
            super::generate::fill(&mut s, &spec);
        }
        s
    }

    fn base_ms(&self) -> Result<i64, SeedError> {
        match &self.base_time {
            Some(t) => parse_datetime(t).ok_or_else(|| SeedError::BaseTime(t.clone())),
            None => {
                let day = 86_400_000;
                Ok(now_ms().div_euclid(day) * day - 21 * day)
            }
        }
    }

    /// Builds the org; `username` is the user API calls run as (added when the seed lacks it).
    pub(crate) fn build_store(&self, username: &str) -> Result<Store, SeedError> {
        let seed = self.expanded();
        let base = seed.base_ms()?;
        let mut store = Store::new(Schema::new(&seed.custom_fields));
        let mut keys: HashMap<String, String> = HashMap::new();
        let mut position = 0i64;
        for (object, records) in seed.lists() {
            let Some(o) = store.schema.index_of(object) else { continue };
            for (index, r) in records.iter().enumerate() {
                let body = resolve(r, &keys).map_err(|key| SeedError::UnknownKey {
                    object: object.into(),
                    index,
                    key,
                })?;
                let created = base + r.created_minutes.map_or(position * SPACING_MS, |m| m * 60_000);
                let modified = created + r.modified_minutes.unwrap_or(position % 97) * 60_000;
                position += 1;
                let id = store.load(o, &body, created, modified).map_err(|error| SeedError::Record {
                    object: object.into(),
                    index,
                    error,
                })?;
                if let Some(k) = &r.key
                    && keys.insert(k.clone(), id).is_some()
                {
                    return Err(SeedError::DuplicateKey(k.clone()));
                }
            }
            if object == "User" {
                store.admin_user = ensure_admin(&mut store, o, username, base)?;
            }
        }
        Ok(store)
    }
}

/// The id of the user `username`, loading it when the seed does not have it.
fn ensure_admin(store: &mut Store, o: usize, username: &str, base: i64) -> Result<String, SeedError> {
    let existing = store.tables[o]
        .records
        .values()
        .find(|r| r.text("Username").is_some_and(|u| u.eq_ignore_ascii_case(username)));
    if let Some(r) = existing {
        return Ok(r.id.clone());
    }
    let body: Map<String, Value> = [
        ("Username", username),
        ("Email", username),
        ("FirstName", "Sandbox"),
        ("LastName", "Admin"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
    .collect();
    store.load(o, &body, base, base).map_err(|error| SeedError::Record {
        object: "User".into(),
        index: 0,
        error,
    })
}

/// A seeded record's body, with `@key` references replaced by ids.
fn resolve(r: &SeedRecord, keys: &HashMap<String, String>) -> Result<Map<String, Value>, String> {
    let mut body = Map::new();
    for (name, v) in &r.fields {
        let value = match v {
            Scalar::Text(t) if t.starts_with('@') => {
                let key = &t[1..];
                Value::String(keys.get(key).cloned().ok_or_else(|| key.to_string())?)
            }
            other => other.to_json(),
        };
        body.insert(name.clone(), value);
    }
    Ok(body)
}

impl Store {
    /// Inserts a seeded record with given timestamps, validated like an API create, sending no events.
    fn load(&mut self, object: usize, body: &Map<String, Value>, created: i64, modified: i64) -> Result<String, DmlError> {
        let values = self.prepare_create(object, body)?;
        let id = self.next_id(object);
        let actor = if self.admin_user.is_empty() {
            id.clone()
        } else {
            self.admin_user.clone()
        };
        let mut rec = Record {
            id: id.clone(),
            fields: values.into_iter().filter(|(_, v)| !v.is_null()).collect(),
            created_ms: created,
            modified_ms: modified,
            stamp_ms: modified,
            created_by: actor.clone(),
            modified_by: actor.clone(),
            deleted_ms: None,
        };
        self.fill_defaults(object, &mut rec, &actor);
        self.derive(object, &mut rec, None);
        self.observe_stamp(modified);
        self.put(object, rec);
        Ok(id)
    }
}
