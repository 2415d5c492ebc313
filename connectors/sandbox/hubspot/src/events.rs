//! Record changes, as the store reports them to the webhook dispatcher.

use crate::assoc::{Node, TypeKey};
use crate::objects::ObjectType;

/// Who made a change: a client through the API, or a person in the CRM's UI (tests play that part).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSource {
    Api,
    Ui,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    Created {
        properties: Vec<(String, String)>,
    },
    PropertyChanged {
        name: String,
        value: String,
    },
    Deleted,
    Association {
        to: Node,
        key: TypeKey,
        removed: bool,
        primary: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEvent {
    pub object: ObjectType,
    pub id: u64,
    pub kind: ChangeKind,
    pub source: ChangeSource,
    pub at_ms: i64,
}
