//! Trigger conditions: `all` or `any` of simple tests on the record's fields.
//!
//! Deliberately not an expression language: one level, one field per test, a fixed set
//! of operators. What a workflow does must be readable by the admin who wrote it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::placeholder::field_value;
use handoff_domain::change::RecordChange;

/// A literal value in a workflow file. CRMs disagree on types (HubSpot sends every
/// property as a string, Salesforce sends numbers and booleans), so comparisons are made
/// on meaning: `10000` equals `"10000"` and `true` equals `"true"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Bool(bool),
    Number(f64),
    Text(String),
}

impl Scalar {
    /// As the CRM would print it (`Closed Won`, `10000`, `true`).
    pub fn to_text(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Number(n) => n.to_string(),
            Scalar::Text(t) => t.clone(),
        }
    }

    /// Whether a field's value means this value.
    pub fn equals(&self, value: &Value) -> bool {
        match (self, value) {
            (_, Value::Null) => false,
            (Scalar::Bool(b), Value::Bool(v)) => b == v,
            (Scalar::Bool(b), Value::String(s)) => s.trim().eq_ignore_ascii_case(&b.to_string()),
            (Scalar::Number(n), v) => number_of(v).is_some_and(|x| x == *n),
            (Scalar::Text(t), Value::String(s)) => s == t,
            (Scalar::Text(t), v @ Value::Number(_)) => t.trim().parse::<f64>().ok().zip(number_of(v)).is_some_and(|(a, b)| a == b),
            (Scalar::Text(t), Value::Bool(b)) => t.trim().eq_ignore_ascii_case(&b.to_string()),
            _ => false,
        }
    }
}

fn number_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A date from `2026-10-30` or the date part of `2026-01-20T17:00:00Z`.
pub(super) fn date_of(text: &str) -> Option<NaiveDate> {
    let head = text.get(..10)?;
    NaiveDate::parse_from_str(head, "%Y-%m-%d").ok()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    All,
    Any,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub mode: Mode,
    pub clauses: Vec<Clause>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Clause {
    pub field: String,
    pub test: Test,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    Eq(Scalar),
    Ne(Scalar),
    In(Vec<Scalar>),
    NotIn(Vec<Scalar>),
    /// Numbers compare as numbers, dates as dates.
    Gt(Scalar),
    Lt(Scalar),
    /// Present, not null and not empty (HubSpot clears a property with `""`).
    IsSet,
}

impl Test {
    /// The literal values the test compares with, for validation against picklists.
    pub fn values(&self) -> Vec<&Scalar> {
        match self {
            Test::Eq(v) | Test::Ne(v) | Test::Gt(v) | Test::Lt(v) => vec![v],
            Test::In(vs) | Test::NotIn(vs) => vs.iter().collect(),
            Test::IsSet => Vec::new(),
        }
    }
}

impl Condition {
    pub fn holds(&self, change: &RecordChange) -> bool {
        let mut results = self.clauses.iter().map(|c| c.holds(change));
        match self.mode {
            Mode::All => results.all(|r| r),
            Mode::Any => results.any(|r| r),
        }
    }
}

impl Clause {
    /// A missing field is unequal to everything, so `ne` and `not_in` hold for it and
    /// every other test fails: "not Closed Lost" is true of a deal with no stage yet.
    pub fn holds(&self, change: &RecordChange) -> bool {
        let value = field_value(change, &self.field).unwrap_or(&Value::Null);
        match &self.test {
            Test::Eq(s) => s.equals(value),
            Test::Ne(s) => !s.equals(value),
            Test::In(list) => list.iter().any(|s| s.equals(value)),
            Test::NotIn(list) => !list.iter().any(|s| s.equals(value)),
            Test::Gt(s) => compare(value, s).is_some_and(|o| o.is_gt()),
            Test::Lt(s) => compare(value, s).is_some_and(|o| o.is_lt()),
            Test::IsSet => match value {
                Value::Null => false,
                Value::String(s) => !s.trim().is_empty(),
                _ => true,
            },
        }
    }
}

/// The field's value against the literal: as numbers when both are numbers, else as
/// dates when both are dates; `None` when they cannot be compared.
fn compare(value: &Value, literal: &Scalar) -> Option<std::cmp::Ordering> {
    let literal_number = match literal {
        Scalar::Number(n) => Some(*n),
        Scalar::Text(t) => t.trim().parse().ok(),
        Scalar::Bool(_) => None,
    };
    if let (Some(a), Some(b)) = (number_of(value), literal_number) {
        return a.partial_cmp(&b);
    }
    match (value, literal) {
        (Value::String(v), Scalar::Text(t)) => Some(date_of(v)?.cmp(&date_of(t)?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use handoff_domain::change::{ChangeSource, ObjectKind};

    fn record(fields: Value) -> RecordChange {
        RecordChange {
            connection: "hubspot".into(),
            object: ObjectKind::Deal,
            external_id: "1".into(),
            fields: fields.as_object().cloned().unwrap_or_default(),
            contacts: vec![],
            company: None,
            users: Default::default(),
            company_contacts: Vec::new(),
            modified_at: "2026-11-23T10:00:00Z".parse().unwrap(),
            deleted: false,
            source: ChangeSource::Webhook,
        }
    }

    fn clause(field: &str, test: Test) -> Clause {
        Clause { field: field.into(), test }
    }

    #[test]
    fn numbers_written_as_strings_equal_numbers() {
        let r = record(serde_json::json!({ "amount": "10000", "Amount": 10000 }));
        assert!(clause("amount", Test::Eq(Scalar::Number(10000.0))).holds(&r));
        assert!(clause("Amount", Test::Eq(Scalar::Text("10000".into()))).holds(&r));
    }

    #[test]
    fn greater_and_less_compare_numbers_and_dates() {
        let r = record(serde_json::json!({ "amount": "25000", "closedate": "2026-01-20T17:00:00Z" }));
        assert!(clause("amount", Test::Gt(Scalar::Number(10000.0))).holds(&r));
        assert!(!clause("amount", Test::Lt(Scalar::Number(10000.0))).holds(&r));
        assert!(clause("closedate", Test::Gt(Scalar::Text("2026-01-01".into()))).holds(&r));
    }

    #[test]
    fn a_missing_field_is_unequal_to_everything() {
        let r = record(serde_json::json!({}));
        assert!(clause("Type", Test::Ne(Scalar::Text("Renewal".into()))).holds(&r));
        assert!(clause("Type", Test::NotIn(vec![Scalar::Text("Renewal".into())])).holds(&r));
        assert!(!clause("Type", Test::Eq(Scalar::Text("Renewal".into()))).holds(&r));
        assert!(!clause("Amount", Test::Gt(Scalar::Number(0.0))).holds(&r));
    }

    #[test]
    fn an_empty_string_is_not_set() {
        let r = record(serde_json::json!({ "a": "", "b": "x", "c": false }));
        assert!(!clause("a", Test::IsSet).holds(&r));
        assert!(clause("b", Test::IsSet).holds(&r));
        assert!(clause("c", Test::IsSet).holds(&r));
    }

    #[test]
    fn all_needs_every_clause_and_any_needs_one() {
        let r = record(serde_json::json!({ "a": "1", "b": "2" }));
        let clauses = vec![
            clause("a", Test::Eq(Scalar::Number(1.0))),
            clause("b", Test::Eq(Scalar::Number(3.0))),
        ];
        let all = Condition {
            mode: Mode::All,
            clauses: clauses.clone(),
        };
        let any = Condition { mode: Mode::Any, clauses };
        assert!(!all.holds(&r));
        assert!(any.holds(&r));
    }

    #[test]
    fn booleans_match_their_text() {
        let r = record(serde_json::json!({ "IsWon": true, "hs_is_closed_won": "true" }));
        assert!(clause("IsWon", Test::Eq(Scalar::Bool(true))).holds(&r));
        assert!(clause("hs_is_closed_won", Test::Eq(Scalar::Bool(true))).holds(&r));
    }
}
