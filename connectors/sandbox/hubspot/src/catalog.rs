//! The property catalog ("field catalog"): HubSpot's built-in properties per object type
//! plus the custom properties a seed declares. Validation and search typing read it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::objects::ObjectType;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PropKind {
    String,
    Number,
    Date,
    Datetime,
    Enumeration,
    Bool,
}

impl PropKind {
    pub fn default_field_type(self) -> &'static str {
        match self {
            Self::String => "text",
            Self::Number => "number",
            Self::Date | Self::Datetime => "date",
            Self::Enumeration => "select",
            Self::Bool => "booleancheckbox",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropOption {
    pub label: String,
    pub value: String,
}

/// One property definition. Seeds use the same shape for custom properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyDef {
    pub object: ObjectType,
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: PropKind,
    #[serde(default)]
    pub field_type: Option<String>,
    #[serde(default)]
    pub group_name: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub options: Vec<PropOption>,
    /// Values computed by HubSpot (ids, timestamps); writes to them are ignored.
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub hubspot_defined: bool,
}

/// Deal pipeline stages of the default pipeline: (id, label, probability, closed).
pub const DEAL_STAGES: [(&str, &str, &str, bool); 7] = [
    ("appointmentscheduled", "Appointment Scheduled", "0.2", false),
    ("qualifiedtobuy", "Qualified To Buy", "0.4", false),
    ("presentationscheduled", "Presentation Scheduled", "0.6", false),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", false),
    ("contractsent", "Contract Sent", "0.9", false),
    ("closedwon", "Closed Won", "1.0", true),
    ("closedlost", "Closed Lost", "0.0", true),
];

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    per_type: [Vec<PropertyDef>; 5],
    index: [HashMap<String, usize>; 5],
}

impl Catalog {
    /// The built-in properties plus `custom` (a custom definition replaces a built-in one of the same name).
    pub fn new(custom: &[PropertyDef]) -> Self {
        let mut cat = Catalog::default();
        for def in builtin().into_iter().chain(custom.iter().cloned()) {
            cat.insert(def);
        }
        cat
    }

    fn insert(&mut self, def: PropertyDef) {
        let i = def.object.index();
        let (Some(list), Some(index)) = (self.per_type.get_mut(i), self.index.get_mut(i)) else {
            return;
        };
        match index.get(&def.name) {
            Some(&pos) => {
                if let Some(slot) = list.get_mut(pos) {
                    *slot = def;
                }
            }
            None => {
                index.insert(def.name.clone(), list.len());
                list.push(def);
            }
        }
    }

    pub fn get(&self, object: ObjectType, name: &str) -> Option<&PropertyDef> {
        let pos = *self.index.get(object.index())?.get(name)?;
        self.per_type.get(object.index())?.get(pos)
    }

    pub fn all(&self, object: ObjectType) -> &[PropertyDef] {
        self.per_type.get(object.index()).map(Vec::as_slice).unwrap_or(&[])
    }
}

fn def(object: ObjectType, name: &str, label: &str, kind: PropKind) -> PropertyDef {
    PropertyDef {
        object,
        name: name.to_string(),
        label: label.to_string(),
        kind,
        field_type: None,
        group_name: None,
        description: String::new(),
        options: Vec::new(),
        read_only: false,
        hubspot_defined: true,
    }
}

fn options(pairs: &[(&str, &str)]) -> Vec<PropOption> {
    pairs
        .iter()
        .map(|(v, l)| PropOption {
            value: v.to_string(),
            label: l.to_string(),
        })
        .collect()
}

/// Properties every type has and HubSpot computes.
fn system_props(object: ObjectType) -> Vec<PropertyDef> {
    let names = [
        ("hs_object_id", "Record ID", PropKind::Number),
        ("createdate", "Create Date", PropKind::Datetime),
        ("hs_createdate", "Create Date", PropKind::Datetime),
        ("hs_lastmodifieddate", "Last Modified Date", PropKind::Datetime),
        ("lastmodifieddate", "Last Modified Date", PropKind::Datetime),
    ];
    names
        .iter()
        .map(|(n, l, k)| PropertyDef {
            read_only: true,
            ..def(object, n, l, *k)
        })
        .collect()
}

fn builtin() -> Vec<PropertyDef> {
    let mut out = Vec::new();
    for t in ObjectType::ALL {
        out.extend(system_props(t));
        out.push(def(t, "hubspot_owner_id", "Owner", PropKind::Enumeration));
    }
    out.extend(crm_props());
    out.extend(activity_props());
    out
}

/// Deals, contacts and companies.
fn crm_props() -> Vec<PropertyDef> {
    use ObjectType::*;
    use PropKind::*;
    let stages: Vec<(&str, &str)> = DEAL_STAGES.iter().map(|(id, label, _, _)| (*id, *label)).collect();
    vec![
        def(Deals, "dealname", "Deal Name", String),
        def(Deals, "amount", "Amount", Number),
        def(Deals, "closedate", "Close Date", Datetime),
        PropertyDef {
            options: options(&[("default", "Sales Pipeline")]),
            ..def(Deals, "pipeline", "Pipeline", Enumeration)
        },
        PropertyDef {
            options: options(&stages),
            ..def(Deals, "dealstage", "Deal Stage", Enumeration)
        },
        def(Deals, "description", "Deal Description", String),
        def(Contacts, "email", "Email", String),
        def(Contacts, "firstname", "First Name", String),
        def(Contacts, "lastname", "Last Name", String),
        def(Contacts, "phone", "Phone Number", String),
        def(Contacts, "jobtitle", "Job Title", String),
        def(Contacts, "company", "Company Name", String),
        def(Companies, "name", "Company name", String),
        def(Companies, "domain", "Company Domain Name", String),
        def(Companies, "industry", "Industry", String),
        def(Companies, "city", "City", String),
        def(Companies, "country", "Country/Region", String),
    ]
}

/// Tasks and notes (HubSpot's tasks and notes guides).
fn activity_props() -> Vec<PropertyDef> {
    use ObjectType::*;
    use PropKind::*;
    let statuses = [
        ("NOT_STARTED", "Not started"),
        ("IN_PROGRESS", "In progress"),
        ("WAITING", "Waiting"),
        ("COMPLETED", "Completed"),
        ("DEFERRED", "Deferred"),
    ];
    vec![
        def(Tasks, "hs_timestamp", "Due date", Datetime),
        def(Tasks, "hs_task_subject", "Task Title", String),
        def(Tasks, "hs_task_body", "Notes", String),
        PropertyDef {
            options: options(&statuses),
            ..def(Tasks, "hs_task_status", "Task Status", Enumeration)
        },
        PropertyDef {
            options: options(&[("LOW", "Low"), ("MEDIUM", "Medium"), ("HIGH", "High")]),
            ..def(Tasks, "hs_task_priority", "Priority", Enumeration)
        },
        PropertyDef {
            options: options(&[("EMAIL", "Email"), ("CALL", "Call"), ("TODO", "To-do")]),
            ..def(Tasks, "hs_task_type", "Task Type", Enumeration)
        },
        def(Tasks, "hs_task_reminders", "Reminder", String),
        def(Notes, "hs_timestamp", "Activity date", Datetime),
        def(Notes, "hs_note_body", "Note body", String),
        def(Notes, "hs_attachment_ids", "Attachment IDs", String),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_properties_join_the_builtin_catalog() {
        let custom = PropertyDef {
            hubspot_defined: false,
            ..def(ObjectType::Deals, "onboarding_progress", "Progress", PropKind::Number)
        };
        let cat = Catalog::new(&[custom]);
        assert!(cat.get(ObjectType::Deals, "onboarding_progress").is_some());
        assert!(cat.get(ObjectType::Deals, "dealstage").is_some_and(|d| d.options.len() == 7));
        assert!(cat.get(ObjectType::Contacts, "dealstage").is_none());
    }
}
