//! The file format as serde reads it, before any check, and where each key is.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::Problem;
use super::condition::Scalar;
use handoff_domain::ProjectStatus;
use handoff_domain::change::ObjectKind;
use handoff_domain::people::ProjectRole;
use handoff_domain::plan::{InviteMode, Removals};
use handoff_domain::writeback::WritebackEvent;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorkflow {
    pub description: Option<String>,
    pub trigger: RawTrigger,
    pub template: RawTemplate,
    pub project: RawProject,
    #[serde(default)]
    pub customers: Vec<RawCustomers>,
    pub removals: Option<Removals>,
    #[serde(default)]
    pub writeback: Vec<RawWriteback>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawEvent {
    Created,
    Updated,
    FieldBecomes,
    EntersStage,
}

/// The event's settings sit next to it (`event = "field_becomes"`, `field`, `value`)
/// rather than in a nested table, so each one has its own key in error messages.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTrigger {
    pub connection: String,
    pub object: ObjectKind,
    pub event: RawEvent,
    pub field: Option<String>,
    pub value: Option<Scalar>,
    pub stage: Option<String>,
    pub condition: Option<RawCondition>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCondition {
    pub all: Option<Vec<RawClause>>,
    pub any: Option<Vec<RawClause>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawOp {
    Eq,
    Ne,
    In,
    NotIn,
    Gt,
    Lt,
    IsSet,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClause {
    pub field: String,
    pub op: RawOp,
    pub value: Option<Scalar>,
    pub values: Option<Vec<Scalar>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTemplate {
    pub name: Option<String>,
    pub by_field: Option<String>,
    pub map: Option<BTreeMap<String, String>>,
    pub default: Option<String>,
}

/// `goal` is a field name or a number of days after the start.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawGoal {
    Days(i64),
    Field(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProject {
    pub name: String,
    pub start: String,
    pub goal: Option<RawGoal>,
    pub owner_field: Option<String>,
    #[serde(default)]
    pub team_fields: Vec<String>,
    pub welcome_message: Option<String>,
    pub initial_status: Option<ProjectStatus>,
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCustomers {
    pub primary_contact: Option<String>,
    pub contact_roles: Option<Vec<String>>,
    pub association_labels: Option<Vec<String>>,
    pub company_contacts: Option<bool>,
    pub role: ProjectRole,
    pub invite: InviteMode,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWriteback {
    pub on: WritebackEvent,
    pub set: Option<BTreeMap<String, String>>,
    pub status_values: Option<BTreeMap<String, String>>,
    pub activity: Option<RawActivity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawActivity {
    pub subject: String,
    pub body: Option<String>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Reads the file into [`RawWorkflow`], or the first syntax or type error with its key
/// and line (serde stops at the first; the checks after it report everything).
pub(super) fn parse_toml(file: &str, text: &str) -> Result<RawWorkflow, Problem> {
    let problem = |key: String, line, message: &str| Problem {
        file: file.to_owned(),
        key,
        line,
        message: message.to_owned(),
    };
    let de = toml::de::Deserializer::parse(text)
        .map_err(|e| problem(String::from("(file)"), e.span().map(|s| line_of(text, s.start)), e.message()))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let key = if key == "." { String::from("(top level)") } else { key };
        problem(key, inner.span().map(|s| line_of(text, s.start)), inner.message())
    })
}

/// Where each key path (`customers[1].role`, `writeback[0].set.Project_URL__c`) starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct LineIndex(HashMap<String, usize>);

impl LineIndex {
    pub fn build(text: &str) -> Self {
        let mut index = HashMap::new();
        if let Ok(doc) = DeTable::parse(text) {
            walk_table(text, "", doc.get_ref(), &mut index);
        }
        LineIndex(index)
    }

    /// The line of the key, or of the nearest enclosing key that is in the file (a
    /// missing key is reported at its table).
    pub fn line(&self, key: &str) -> Option<usize> {
        let mut path = key;
        loop {
            if let Some(line) = self.0.get(path) {
                return Some(*line);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }
}

fn walk_table(text: &str, prefix: &str, table: &DeTable<'_>, out: &mut HashMap<String, usize>) {
    for (key, value) in table.iter() {
        let path = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        out.insert(path.clone(), line_of(text, key.span().start));
        walk_value(text, &path, value, out);
    }
}

fn walk_value(text: &str, path: &str, value: &Spanned<DeValue<'_>>, out: &mut HashMap<String, usize>) {
    match value.get_ref() {
        DeValue::Table(t) => walk_table(text, path, t, out),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                out.insert(item_path.clone(), line_of(text, item.span().start));
                walk_value(text, &item_path, item, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_index_finds_nested_keys_and_falls_back_to_the_enclosing_table() {
        let text = "[trigger]\nconnection = \"x\"\n\n[[customers]]\nrole = \"customer_admin\"\n\n[[customers]]\nrole = \"y\"\n";
        let index = LineIndex::build(text);
        assert_eq!(index.line("trigger.connection"), Some(2));
        assert_eq!(index.line("customers[1].role"), Some(8));
        assert_eq!(index.line("customers[1].invite"), index.line("customers[1]"));
        assert_eq!(index.line("trigger.stage"), Some(1));
        assert_eq!(index.line("nothing"), None);
    }
}
