//! Why a workflow does or does not fire for a change, in the admin's own terms: the
//! trigger as written (`field_becomes StageName = "Closed Won"`), and for a change it
//! does not fire on, which part failed and the value it saw. Dry runs, `workflows list`
//! and the record trace show these.

use std::fmt;

use serde_json::Value;

use super::condition::{Clause, Condition, Mode, Scalar, Test};
use super::placeholder::field_value;
use super::{Event, STAGE_FIELDS, Workflow};
use handoff_domain::change::RecordChange;

/// Whether a workflow's trigger fires for a change, and if not, why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TriggerVerdict {
    Fires,
    /// The reason, as a sentence naming the field and the value seen.
    DoesNotFire(String),
}

impl Workflow {
    /// The verdict of the trigger on `change` (`previous`: the last state of the same
    /// record the hub saw). See [`Workflow::matches`] for the rules.
    pub fn explain(&self, change: &RecordChange, previous: Option<&RecordChange>) -> TriggerVerdict {
        use TriggerVerdict::{DoesNotFire, Fires};
        let t = &self.trigger;
        if change.deleted {
            return DoesNotFire("the record was deleted".into());
        }
        if change.connection != t.connection || change.object != t.object {
            return DoesNotFire(format!(
                "the trigger is on {} {}, the change on {} {}",
                t.connection,
                t.object.as_str(),
                change.connection,
                change.object.as_str()
            ));
        }
        if let Some(why) = event_not_fired(&t.event, change, previous) {
            return DoesNotFire(why);
        }
        match t.condition.as_ref().and_then(|c| condition_fails(c, change)) {
            Some(why) => DoesNotFire(why),
            None => Fires,
        }
    }

    /// The trigger as the admin wrote it: `salesforce deal: field_becomes StageName =
    /// "Closed Won", when all of: Amount gt 0; Type in ["New Business"]`.
    pub fn trigger_text(&self) -> String {
        let t = &self.trigger;
        let mut text = format!("{} {}: {}", t.connection, t.object.as_str(), t.event);
        if let Some(c) = &t.condition {
            text.push_str(&format!(", when {c}"));
        }
        text
    }
}

fn event_not_fired(event: &Event, change: &RecordChange, previous: Option<&RecordChange>) -> Option<String> {
    match event {
        Event::Created => previous
            .is_some()
            .then(|| "the hub has seen this record before (the trigger fires on its first state)".into()),
        Event::Updated => previous
            .is_some_and(|p| p.fingerprint() == change.fingerprint())
            .then(|| "nothing changed since the state the hub saw before".into()),
        Event::FieldBecomes { field, value } => {
            let now = field_value(change, field);
            if !now.is_some_and(|v| value.equals(v)) {
                return Some(format!("`{field}` is {}, not {}", shown(now), literal(value)));
            }
            let was = previous.and_then(|p| field_value(p, field)).is_some_and(|v| value.equals(v));
            was.then(|| format!("`{field}` was {} already (the trigger fires on the change into it)", literal(value)))
        }
        Event::EntersStage { stage } => {
            let now = stage_of(change);
            if now.and_then(Value::as_str) != Some(stage.as_str()) {
                return Some(format!("the stage is {}, not \"{stage}\"", shown(now)));
            }
            let was = previous.and_then(stage_of).and_then(Value::as_str) == Some(stage.as_str());
            was.then(|| format!("the deal was in stage \"{stage}\" already (the trigger fires on entering it)"))
        }
    }
}

/// Why the condition does not hold, or `None` when it does.
fn condition_fails(condition: &Condition, change: &RecordChange) -> Option<String> {
    let failing: Vec<&Clause> = condition.clauses.iter().filter(|c| !c.holds(change)).collect();
    let seen = |c: &Clause| format!("`{}` is {}", c.field, shown(field_value(change, &c.field)));
    match condition.mode {
        Mode::All => failing.first().map(|c| format!("the condition `{c}` does not hold: {}", seen(c))),
        Mode::Any if failing.len() == condition.clauses.len() && !failing.is_empty() => {
            let values: Vec<String> = failing.iter().map(|c| seen(c)).collect();
            Some(format!("none of the conditions holds ({condition}): {}", values.join("; ")))
        }
        Mode::Any => None,
    }
}

/// A field's value as a sentence shows it: `"Prospecting"`, `5000`, `empty`.
fn stage_of(r: &RecordChange) -> Option<&Value> {
    STAGE_FIELDS.iter().find_map(|f| r.fields.get(*f))
}

fn shown(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "empty".into(),
        Some(Value::String(s)) if s.is_empty() => "empty".into(),
        Some(Value::String(s)) => format!("\"{s}\""),
        Some(other) => other.to_string(),
    }
}

fn literal(s: &Scalar) -> String {
    match s {
        Scalar::Text(t) => format!("\"{t}\""),
        other => other.to_text(),
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Created => f.write_str("created"),
            Event::Updated => f.write_str("updated"),
            Event::FieldBecomes { field, value } => write!(f, "field_becomes {field} = {}", literal(value)),
            Event::EntersStage { stage } => write!(f, "enters_stage \"{stage}\""),
        }
    }
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |vs: &[Scalar]| vs.iter().map(literal).collect::<Vec<_>>().join(", ");
        match &self.test {
            Test::Eq(v) => write!(f, "{} eq {}", self.field, literal(v)),
            Test::Ne(v) => write!(f, "{} ne {}", self.field, literal(v)),
            Test::Gt(v) => write!(f, "{} gt {}", self.field, literal(v)),
            Test::Lt(v) => write!(f, "{} lt {}", self.field, literal(v)),
            Test::In(vs) => write!(f, "{} in [{}]", self.field, list(vs)),
            Test::NotIn(vs) => write!(f, "{} not_in [{}]", self.field, list(vs)),
            Test::IsSet => write!(f, "{} is_set", self.field),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.mode {
            Mode::All => "all",
            Mode::Any => "any",
        };
        let clauses: Vec<String> = self.clauses.iter().map(ToString::to_string).collect();
        write!(f, "{mode} of: {}", clauses.join("; "))
    }
}
