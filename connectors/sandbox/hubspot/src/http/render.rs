//! Records as HubSpot returns them: every property value a string, empty ones left out.

use serde_json::{Map, Value, json};

use crate::assoc::Category;
use crate::objects::ObjectType;
use crate::store::{Record, Store, prop_value};
use crate::util::iso_ms;

/// Properties returned when a request names none.
pub fn default_properties(t: ObjectType) -> &'static [&'static str] {
    match t {
        ObjectType::Deals => &[
            "amount",
            "closedate",
            "createdate",
            "dealname",
            "dealstage",
            "hs_lastmodifieddate",
            "hs_object_id",
            "pipeline",
        ],
        ObjectType::Contacts => &["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"],
        ObjectType::Companies => &["createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"],
        ObjectType::Tasks => &[
            "hs_createdate",
            "hs_lastmodifieddate",
            "hs_object_id",
            "hs_task_body",
            "hs_task_priority",
            "hs_task_status",
            "hs_task_subject",
            "hs_timestamp",
        ],
        ObjectType::Notes => &[
            "hs_createdate",
            "hs_lastmodifieddate",
            "hs_note_body",
            "hs_object_id",
            "hs_timestamp",
        ],
    }
}

/// What to render besides the basics.
#[derive(Debug, Default, Clone)]
pub struct View {
    /// `None` means the type's defaults.
    pub properties: Option<Vec<String>>,
    pub with_history: Vec<String>,
    pub associations: Vec<ObjectType>,
}

pub fn record(store: &Store, t: ObjectType, rec: &Record, view: &View) -> Value {
    let mut props = Map::new();
    let mut put = |name: &str| {
        if let Some(v) = prop_value(rec, name) {
            props.insert(name.to_string(), Value::String(v.into_owned()));
        }
    };
    match &view.properties {
        Some(names) => names.iter().for_each(|n| put(n)),
        None => default_properties(t).iter().for_each(|n| put(n)),
    }
    let mut out = json!({
        "id": rec.id.to_string(),
        "properties": props,
        "createdAt": iso_ms(rec.created_ms),
        "updatedAt": iso_ms(rec.updated_ms),
        "archived": rec.is_archived(),
    });
    if let Some(at) = rec.archived_ms {
        out["archivedAt"] = Value::String(iso_ms(at));
    }
    if !view.with_history.is_empty() {
        out["propertiesWithHistory"] = history(rec, &view.with_history);
    }
    if !view.associations.is_empty() {
        out["associations"] = v3_associations(store, t, rec.id, &view.associations);
    }
    out
}

/// The sandbox keeps no history: each property's history is its current value.
fn history(rec: &Record, names: &[String]) -> Value {
    let mut h = Map::new();
    for n in names {
        if let Some(v) = prop_value(rec, n) {
            h.insert(
                n.clone(),
                json!([{"value": v, "timestamp": iso_ms(rec.updated_ms), "sourceType": "API", "sourceId": null}]),
            );
        }
    }
    Value::Object(h)
}

/// The v3 `associations` block of a record: `{"contacts":{"results":[{"id","type"}]}}`.
fn v3_associations(store: &Store, t: ObjectType, id: u64, to: &[ObjectType]) -> Value {
    let mut out = Map::new();
    for to_type in to {
        let mut results = Vec::new();
        for (to_id, keys) in store.graph.list((t, id), *to_type) {
            for key in keys {
                results.push(json!({"id": to_id.to_string(), "type": v3_type_name(store, t, *to_type, *key)}));
            }
        }
        if !results.is_empty() {
            out.insert(to_type.plural().to_string(), json!({"results": results}));
        }
    }
    Value::Object(out)
}

fn v3_type_name(store: &Store, from: ObjectType, to: ObjectType, key: (Category, u32)) -> String {
    let base = format!("{}_to_{}", from.singular(), to.singular());
    match store.assoc_types.get(key).and_then(|d| d.label.clone()) {
        Some(label) if key.0 == Category::HubspotDefined => format!("{base}_{}", label.to_ascii_lowercase()),
        Some(label) => label.to_ascii_lowercase().replace(' ', "_"),
        None => base,
    }
}

/// `{"category","typeId","label"}` entries for v4 responses.
pub fn assoc_types(store: &Store, keys: impl IntoIterator<Item = (Category, u32)>) -> Vec<Value> {
    keys.into_iter()
        .map(|k| {
            let label = store.assoc_types.get(k).and_then(|d| d.label.clone());
            json!({"category": k.0, "typeId": k.1, "label": label})
        })
        .collect()
}
