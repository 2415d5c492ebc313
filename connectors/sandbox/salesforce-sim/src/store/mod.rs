//! The in-memory org: one table per object, an index of reference fields (children by parent)
//! and the write path, which maintains system fields and reports changes for outbound messages.

mod derive;
pub mod validate;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedSender;

use crate::ids;
use crate::schema::{FieldType, ObjectDef, Schema};
use crate::util::{now_ms, sf_datetime};
pub use validate::Mode;

/// A DML failure, as Salesforce reports it (`statusCode`/`errorCode`, message, fields).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct DmlError {
    pub code: String,
    pub message: String,
    pub fields: Vec<String>,
}

impl DmlError {
    pub fn new(code: &str, message: impl Into<String>, fields: Vec<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            fields,
        }
    }

    pub fn not_found() -> Self {
        Self::new("NOT_FOUND", "The requested resource does not exist", vec![])
    }

    /// The HTTP status of a single-record call failing with this error.
    pub fn http_status(&self) -> u16 {
        match self.code.as_str() {
            "NOT_FOUND" | "ENTITY_IS_DELETED" => 404,
            _ => 400,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: String,
    /// Non-system fields by canonical name; absent means null.
    pub fields: HashMap<String, Value>,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub stamp_ms: i64,
    pub created_by: String,
    pub modified_by: String,
    pub deleted_ms: Option<i64>,
}

impl Record {
    /// A field's value by canonical name, system fields included.
    pub fn value(&self, name: &str) -> Value {
        match name {
            "Id" => Value::String(self.id.clone()),
            "IsDeleted" => Value::Bool(self.deleted_ms.is_some()),
            "CreatedDate" => Value::String(sf_datetime(self.created_ms)),
            "LastModifiedDate" => Value::String(sf_datetime(self.modified_ms)),
            "SystemModstamp" => Value::String(sf_datetime(self.stamp_ms)),
            "CreatedById" => Value::String(self.created_by.clone()),
            "LastModifiedById" => Value::String(self.modified_by.clone()),
            _ => self.fields.get(name).cloned().unwrap_or(Value::Null),
        }
    }

    /// Epoch milliseconds of a system datetime field, without formatting it.
    pub fn system_ms(&self, name: &str) -> Option<i64> {
        match name {
            "CreatedDate" => Some(self.created_ms),
            "LastModifiedDate" => Some(self.modified_ms),
            "SystemModstamp" => Some(self.stamp_ms),
            _ => None,
        }
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        match name {
            "Id" => Some(&self.id),
            _ => self.fields.get(name).and_then(Value::as_str),
        }
    }
}

#[derive(Debug, Default)]
pub struct Table {
    /// Keyed by id; generated ids sort in creation order.
    pub records: BTreeMap<String, Record>,
    next: u64,
}

/// A change, as reported to the outbound-message dispatcher.
#[derive(Debug, Clone)]
pub struct Change {
    pub object: usize,
    pub id: String,
    pub before: Option<Record>,
    pub after: Option<Record>,
}

/// What a transaction must restore on rollback.
#[derive(Debug)]
struct Undo {
    object: usize,
    id: String,
    previous: Option<Record>,
}

pub struct Store {
    pub schema: Schema,
    pub tables: Vec<Table>,
    /// (child object, reference field) → parent id → child ids.
    refs: HashMap<(usize, String), HashMap<String, BTreeSet<String>>>,
    last_stamp: i64,
    /// The user API writes run as, and the default owner.
    pub admin_user: String,
    events: Option<UnboundedSender<Change>>,
    journal: Option<(Vec<Undo>, Vec<Change>)>,
}

impl Store {
    pub fn new(schema: Schema) -> Self {
        let tables = schema.objects.iter().map(|_| Table::default()).collect();
        Self {
            schema,
            tables,
            refs: HashMap::new(),
            last_stamp: 0,
            admin_user: String::new(),
            events: None,
            journal: None,
        }
    }

    pub fn set_event_sink(&mut self, tx: UnboundedSender<Change>) {
        self.events = Some(tx);
    }

    pub fn object(&self, i: usize) -> &ObjectDef {
        &self.schema.objects[i]
    }

    /// A live or deleted record by id, wherever it lives.
    pub fn by_id(&self, id: &str) -> Option<(usize, &Record)> {
        let o = self.schema.object_of_id(id)?;
        self.tables[o].records.get(id).map(|r| (o, r))
    }

    pub fn live(&self, object: usize, id: &str) -> Option<&Record> {
        self.tables.get(object)?.records.get(id).filter(|r| r.deleted_ms.is_none())
    }

    /// Ids of the children whose `field` points at `parent`.
    pub fn children(&self, child: usize, field: &str, parent: &str) -> impl Iterator<Item = &Record> {
        let set = self.refs.get(&(child, field.to_string())).and_then(|m| m.get(parent));
        set.into_iter().flatten().filter_map(move |id| self.tables[child].records.get(id))
    }

    /// Whether `field` of `object` is indexed (every reference field is).
    pub fn is_indexed(&self, object: usize, field: &str) -> bool {
        self.schema.objects[object]
            .field(field)
            .is_some_and(|f| f.ftype == FieldType::Reference)
    }

    /// A strictly increasing millisecond clock, so SystemModstamp orders every write.
    pub fn stamp(&mut self) -> i64 {
        self.last_stamp = now_ms().max(self.last_stamp + 1);
        self.last_stamp
    }

    /// Makes sure later stamps come after a seeded one.
    pub(crate) fn observe_stamp(&mut self, ms: i64) {
        self.last_stamp = self.last_stamp.max(ms);
    }

    pub(crate) fn next_id(&mut self, object: usize) -> String {
        let t = &mut self.tables[object];
        t.next += 1;
        ids::make(&self.schema.objects[object].key_prefix, t.next)
    }

    fn index(&mut self, object: usize, rec: &Record, add: bool) {
        let refs: Vec<(String, String)> = self.schema.objects[object]
            .fields
            .iter()
            .filter(|f| f.ftype == FieldType::Reference)
            .filter_map(|f| Some((f.name.clone(), rec.text(&f.name)?.to_string())))
            .collect();
        for (field, parent) in refs {
            let set = self.refs.entry((object, field)).or_default().entry(parent).or_default();
            if add {
                set.insert(rec.id.clone());
            } else {
                set.remove(&rec.id);
            }
        }
    }

    /// Replaces (or inserts) a record, keeping the index and the transaction journal right.
    pub(crate) fn put(&mut self, object: usize, rec: Record) -> Option<Record> {
        let previous = self.tables[object].records.remove(&rec.id);
        if let Some(p) = &previous {
            self.index(object, p, false);
        }
        self.index(object, &rec, true);
        if let Some((undo, _)) = &mut self.journal {
            undo.push(Undo {
                object,
                id: rec.id.clone(),
                previous: previous.clone(),
            });
        }
        self.tables[object].records.insert(rec.id.clone(), rec);
        previous
    }

    fn emit(&mut self, change: Change) {
        match &mut self.journal {
            Some((_, pending)) => pending.push(change),
            None => {
                if let Some(tx) = &self.events {
                    // A closed channel means the dispatcher stopped with the sandbox; nothing to do.
                    let _ = tx.send(change);
                }
            }
        }
    }

    /// Starts an all-or-none transaction (composite with allOrNone).
    pub fn begin(&mut self) {
        self.journal = Some((Vec::new(), Vec::new()));
    }

    /// Keeps the transaction's writes and releases its changes to outbound messaging.
    pub fn commit(&mut self) {
        if let Some((_, pending)) = self.journal.take() {
            for c in pending {
                self.emit(c);
            }
        }
    }

    /// Undoes every write since `begin`, newest first; no outbound message is sent for them.
    pub fn rollback(&mut self) {
        let Some((undo, _)) = self.journal.take() else { return };
        for u in undo.into_iter().rev() {
            if let Some(current) = self.tables[u.object].records.remove(&u.id) {
                self.index(u.object, &current, false);
            }
            if let Some(p) = u.previous {
                self.index(u.object, &p, true);
                self.tables[u.object].records.insert(u.id, p);
            }
        }
    }

    /// Validates a create body without writing anything.
    pub fn prepare_create(&self, object: usize, body: &Map<String, Value>) -> Result<Vec<(String, Value)>, DmlError> {
        let obj = self.object(object);
        if body.keys().any(|k| k.eq_ignore_ascii_case("id")) {
            return Err(DmlError::new(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                "cannot specify Id in an insert call",
                vec!["Id".into()],
            ));
        }
        let values = self.coerce(obj, body, Mode::Create)?;
        let missing: Vec<String> = obj
            .fields
            .iter()
            .filter(|f| f.required_on_create())
            .filter(|f| !values.iter().any(|(n, v)| *n == f.name && !v.is_null()))
            .map(|f| f.name.clone())
            .collect();
        if !missing.is_empty() {
            return Err(validate::required_missing(&missing));
        }
        Ok(values)
    }

    /// Validates an update body against the current record without writing anything.
    pub fn prepare_update(&self, object: usize, id: &str, body: &Map<String, Value>) -> Result<Vec<(String, Value)>, DmlError> {
        self.existing(object, id)?;
        self.coerce(self.object(object), body, Mode::Update)
    }

    /// The live record `id` of `object`, or Salesforce's error for a missing or deleted one.
    pub fn existing(&self, object: usize, id: &str) -> Result<&Record, DmlError> {
        let rec = self.tables[object].records.get(id).ok_or_else(DmlError::not_found)?;
        if rec.deleted_ms.is_some() {
            return Err(DmlError::new("ENTITY_IS_DELETED", "entity is deleted", vec![]));
        }
        Ok(rec)
    }

    pub fn create(&mut self, object: usize, body: &Map<String, Value>, actor: &str) -> Result<String, DmlError> {
        let values = self.prepare_create(object, body)?;
        Ok(self.apply_create(object, values, actor))
    }

    pub fn update(&mut self, object: usize, id: &str, body: &Map<String, Value>, actor: &str) -> Result<(), DmlError> {
        let values = self.prepare_update(object, id, body)?;
        self.apply_update(object, id, values, actor)
    }

    /// Writes a validated create; returns the new id.
    pub fn apply_create(&mut self, object: usize, values: Vec<(String, Value)>, actor: &str) -> String {
        let id = self.next_id(object);
        let at = self.stamp();
        let mut rec = Record {
            id: id.clone(),
            fields: values.into_iter().filter(|(_, v)| !v.is_null()).collect(),
            created_ms: at,
            modified_ms: at,
            stamp_ms: at,
            created_by: actor.to_string(),
            modified_by: actor.to_string(),
            deleted_ms: None,
        };
        self.fill_defaults(object, &mut rec, actor);
        self.derive(object, &mut rec, None);
        self.put(object, rec.clone());
        self.after_write(object, &rec, actor);
        self.emit(Change {
            object,
            id: id.clone(),
            before: None,
            after: Some(rec),
        });
        id
    }

    /// Writes a validated update (system fields advance even when nothing changed, as in Salesforce).
    pub fn apply_update(&mut self, object: usize, id: &str, values: Vec<(String, Value)>, actor: &str) -> Result<(), DmlError> {
        let before = self.existing(object, id)?.clone();
        let mut rec = before.clone();
        for (k, v) in values {
            if v.is_null() {
                rec.fields.remove(&k);
            } else {
                rec.fields.insert(k, v);
            }
        }
        let at = self.stamp();
        rec.modified_ms = at;
        rec.stamp_ms = at;
        rec.modified_by = actor.to_string();
        self.derive(object, &mut rec, Some(&before));
        self.put(object, rec.clone());
        self.after_write(object, &rec, actor);
        self.emit(Change {
            object,
            id: id.to_string(),
            before: Some(before),
            after: Some(rec),
        });
        Ok(())
    }

    /// Soft-deletes a record (it stays visible to queryAll and getDeleted) and its dependants.
    pub fn delete(&mut self, object: usize, id: &str, actor: &str) -> Result<(), DmlError> {
        let before = self.existing(object, id)?.clone();
        let at = self.stamp();
        let mut rec = before.clone();
        rec.deleted_ms = Some(at);
        rec.modified_ms = at;
        rec.stamp_ms = at;
        rec.modified_by = actor.to_string();
        self.put(object, rec);
        self.emit(Change {
            object,
            id: id.to_string(),
            before: Some(before),
            after: None,
        });
        self.cascade_delete(object, id, actor);
        Ok(())
    }

    /// Deleting an opportunity or a contact deletes its contact roles, as in Salesforce.
    fn cascade_delete(&mut self, object: usize, id: &str, actor: &str) {
        let name = self.schema.objects[object].name.clone();
        let field = match name.as_str() {
            "Opportunity" => "OpportunityId",
            "Contact" => "ContactId",
            _ => return,
        };
        let Some(ocr) = self.schema.index_of("OpportunityContactRole") else {
            return;
        };
        let roles: Vec<String> = self
            .children(ocr, field, id)
            .filter(|r| r.deleted_ms.is_none())
            .map(|r| r.id.clone())
            .collect();
        for r in roles {
            let _ = self.delete(ocr, &r, actor);
        }
    }

    pub fn count_live(&self, object: usize) -> usize {
        self.tables[object].records.values().filter(|r| r.deleted_ms.is_none()).count()
    }
}
