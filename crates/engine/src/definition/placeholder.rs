//! A tiny, safe placeholder syntax for project names, welcome messages and writebacks.
//!
//! `"{{ Account.Name }} onboarding"`: text with `{{ path }}` slots, nothing else — no
//! filters, no expressions, no loops — so a workflow file cannot run code or reach
//! anything but the values listed here. A path is either one of the hub's own names
//! (`company.name`, `project.status` …, see [`Placeholder`]) or a CRM field of the record,
//! possibly through a lookup (`Account.Name`). Which placeholders a text may use depends
//! on where it is; the validator checks that.

use std::fmt;

use serde_json::Value;

use handoff_domain::change::RecordChange;

/// Names under these lowercase namespaces belong to the hub; any other path is a CRM
/// field. A lone `company` (no dot) is still a field, as HubSpot contacts have one.
const HUB_NAMESPACES: [&str; 5] = ["company", "record", "project", "task", "phase"];

/// One slot of a [`Text`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placeholder {
    /// A field of the CRM record, by the CRM's name (`dealname`, `Account.Name`).
    Field(String),
    /// The record's company (the Salesforce account, the HubSpot company).
    CompanyName,
    CompanyId,
    /// The CRM record's id.
    RecordId,
    /// A value of the hub's project, for writebacks.
    Project(ProjectValue),
    /// The completed task's title (writebacks `on = "task_completed"`).
    TaskTitle,
    /// The completed phase's name (writebacks `on = "phase_completed"`).
    PhaseName,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProjectValue {
    Status,
    /// Percent complete, 0–100.
    Progress,
    Url,
    CurrentPhase,
    StartDate,
    GoalDate,
}

impl ProjectValue {
    pub const ALL: [ProjectValue; 6] = [
        Self::Status,
        Self::Progress,
        Self::Url,
        Self::CurrentPhase,
        Self::StartDate,
        Self::GoalDate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Progress => "progress",
            Self::Url => "url",
            Self::CurrentPhase => "current_phase",
            Self::StartDate => "start_date",
            Self::GoalDate => "goal_date",
        }
    }
}

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placeholder::Field(path) => f.write_str(path),
            Placeholder::CompanyName => f.write_str("company.name"),
            Placeholder::CompanyId => f.write_str("company.id"),
            Placeholder::RecordId => f.write_str("record.id"),
            Placeholder::Project(v) => write!(f, "project.{}", v.as_str()),
            Placeholder::TaskTitle => f.write_str("task.title"),
            Placeholder::PhaseName => f.write_str("phase.name"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Slot(Placeholder),
}

/// Text with placeholders, parsed once when the workflow is loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    source: String,
    segments: Vec<Segment>,
}

impl Text {
    /// Parses `{{ path }}` slots; refuses unclosed or empty slots and unknown hub names.
    pub fn parse(source: &str) -> Result<Text, String> {
        let mut segments = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                segments.push(Segment::Literal(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("`{{{{` at `{}` is never closed with `}}}}`", abbreviate(&rest[open..])))?;
            segments.push(Segment::Slot(parse_path(after[..close].trim())?));
            rest = &after[close + 2..];
        }
        if rest.contains("}}") {
            return Err(String::from("`}}` without a matching `{{`"));
        }
        if !rest.is_empty() {
            segments.push(Segment::Literal(rest.to_owned()));
        }
        Ok(Text {
            source: source.to_owned(),
            segments,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn placeholders(&self) -> impl Iterator<Item = &Placeholder> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Slot(p) => Some(p),
            Segment::Literal(_) => None,
        })
    }

    /// The placeholder when the whole text is exactly one slot, so its value keeps its
    /// type (a number stays a number when written to a number field).
    pub fn single(&self) -> Option<&Placeholder> {
        match self.segments.as_slice() {
            [Segment::Slot(p)] => Some(p),
            _ => None,
        }
    }

    /// The text itself when it has no placeholder at all.
    pub fn literal(&self) -> Option<&str> {
        self.placeholders().next().is_none().then_some(self.source.as_str())
    }

    /// Fills every slot; a value `resolve` does not know renders as nothing.
    pub fn render(&self, resolve: impl Fn(&Placeholder) -> Option<String>) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Slot(p) => out.push_str(&resolve(p).unwrap_or_default()),
            }
        }
        out
    }
}

fn abbreviate(s: &str) -> String {
    s.chars().take(20).collect()
}

fn parse_path(path: &str) -> Result<Placeholder, String> {
    let valid_segment = |s: &str| {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if path.is_empty() {
        return Err(String::from("empty placeholder `{{ }}`"));
    }
    if !path.split('.').all(valid_segment) {
        return Err(format!(
            "`{{{{ {path} }}}}` is not a placeholder: use a field name or a dotted path of letters, digits and `_`"
        ));
    }
    let Some((namespace, member)) = path.split_once('.') else {
        return Ok(Placeholder::Field(path.to_owned()));
    };
    if !HUB_NAMESPACES.contains(&namespace) {
        return Ok(Placeholder::Field(path.to_owned()));
    }
    let found = match (namespace, member) {
        ("company", "name") => Some(Placeholder::CompanyName),
        ("company", "id") => Some(Placeholder::CompanyId),
        ("record", "id") => Some(Placeholder::RecordId),
        ("task", "title") => Some(Placeholder::TaskTitle),
        ("phase", "name") => Some(Placeholder::PhaseName),
        ("project", m) => ProjectValue::ALL.into_iter().find(|v| v.as_str() == m).map(Placeholder::Project),
        _ => None,
    };
    found.ok_or_else(|| {
        format!(
            "unknown placeholder `{{{{ {path} }}}}`; the hub knows company.name, company.id, record.id, \
             project.status, project.progress, project.url, project.current_phase, project.start_date, \
             project.goal_date, task.title and phase.name"
        )
    })
}

/// A field of the record: the literal key first (HubSpot names, `Account.Name` stored
/// flat), then the dotted path through nested objects (Salesforce lookups).
pub fn field_value<'a>(change: &'a RecordChange, path: &str) -> Option<&'a Value> {
    if let Some(v) = change.fields.get(path) {
        return Some(v);
    }
    let mut parts = path.split('.');
    let mut current = change.fields.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

/// A field value as text: strings as they are, numbers and booleans printed, null and
/// nested objects as nothing (an object in a name would be noise).
pub fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_without_slots_is_a_literal() {
        let t = Text::parse("Onboarding").unwrap();
        assert_eq!(t.literal(), Some("Onboarding"));
        assert_eq!(t.placeholders().count(), 0);
    }

    #[test]
    fn slots_name_fields_and_hub_values() {
        let t = Text::parse("{{ Account.Name }} — {{company.name}} {{ project.progress }}").unwrap();
        let found: Vec<_> = t.placeholders().cloned().collect();
        assert_eq!(
            found,
            [
                Placeholder::Field("Account.Name".into()),
                Placeholder::CompanyName,
                Placeholder::Project(ProjectValue::Progress)
            ]
        );
    }

    #[test]
    fn a_lone_slot_is_single_so_its_value_keeps_its_type() {
        assert_eq!(
            Text::parse("{{ project.progress }}").unwrap().single(),
            Some(&Placeholder::Project(ProjectValue::Progress))
        );
        assert_eq!(Text::parse("{{ project.progress }}%").unwrap().single(), None);
    }

    #[test]
    fn unknown_hub_names_and_broken_slots_are_refused() {
        assert!(Text::parse("{{ project.owner }}").unwrap_err().contains("unknown placeholder"));
        assert!(Text::parse("{{ dealname ").unwrap_err().contains("never closed"));
        assert!(Text::parse("{{ }}").unwrap_err().contains("empty"));
        assert!(Text::parse("{{ a | upper }}").unwrap_err().contains("not a placeholder"));
        assert!(Text::parse("x }}").is_err());
    }

    #[test]
    fn rendering_fills_slots_and_leaves_unknown_values_empty() {
        let t = Text::parse("{{ a }} and {{ b }}!").unwrap();
        let out = t.render(|p| (p == &Placeholder::Field("a".into())).then(|| "A".to_owned()));
        assert_eq!(out, "A and !");
    }
}
