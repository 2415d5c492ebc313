//! What customers hand in on a task: a form's answers checked against the template's
//! fields, a question's answer, an approval decision. Pure rules, so the portal (and
//! later the JSON API) validate the same way and the tests need no server.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::Email;
use super::task::{FieldType, FormField};

/// The longest single-line answer, in characters.
pub const MAX_TEXT: usize = 500;
/// The longest multi-line answer (textarea, question, note, comment), in characters.
pub const MAX_LONG_TEXT: usize = 10_000;

/// A form's checked answers by field key: strings, numbers and booleans. Optional
/// fields left empty are absent.
pub type Answers = BTreeMap<String, serde_json::Value>;

/// One field's problem, to show beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub key: String,
    pub message: String,
}

/// Checks `input` (field key → what was typed; a checkbox is present when ticked)
/// against `fields`. Every field is checked, so all problems are shown at once.
pub fn validate(fields: &[FormField], input: &HashMap<String, String>) -> Result<Answers, Vec<FieldError>> {
    let mut answers = Answers::new();
    let mut errors = Vec::new();
    for field in fields {
        let raw = input.get(field.key.as_str()).map(String::as_str);
        match check(field, raw) {
            Ok(Some(value)) => {
                answers.insert(field.key.to_string(), value);
            }
            Ok(None) => {}
            Err(message) => errors.push(FieldError {
                key: field.key.to_string(),
                message,
            }),
        }
    }
    if errors.is_empty() { Ok(answers) } else { Err(errors) }
}

fn check(field: &FormField, raw: Option<&str>) -> Result<Option<serde_json::Value>, String> {
    use serde_json::Value;
    if field.field_type == FieldType::Checkbox {
        let ticked = raw.is_some_and(|v| !v.is_empty());
        if field.required && !ticked {
            return Err(format!("Tick “{}” to continue.", field.label));
        }
        return Ok(Some(Value::Bool(ticked)));
    }
    let text = raw.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return if field.required {
            Err(format!("Enter {}.", lower_first(&field.label)))
        } else {
            Ok(None)
        };
    }
    let limit = if field.field_type == FieldType::Textarea {
        MAX_LONG_TEXT
    } else {
        MAX_TEXT
    };
    if text.chars().count() > limit {
        return Err(format!("Keep this under {limit} characters."));
    }
    let value = match field.field_type {
        FieldType::Text | FieldType::Textarea => Value::String(text.to_owned()),
        FieldType::Number => Value::Number(number(text).ok_or("Enter a number, such as 250 or 12.5.")?),
        FieldType::Date => {
            let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| "Enter a date as YYYY-MM-DD, such as 2027-03-01.")?;
            Value::String(date.to_string())
        }
        FieldType::Email => Value::String(
            Email::parse(text)
                .map_err(|_| "Enter an email address, such as name@example.com.")?
                .to_string(),
        ),
        FieldType::Url => Value::String(web_address(text).ok_or("Enter a web address, such as https://example.com.")?),
        FieldType::Select => {
            if !field.options.iter().any(|o| o == text) {
                return Err("Choose one of the options.".to_owned());
            }
            Value::String(text.to_owned())
        }
        // Answered above; a non-empty value means ticked.
        FieldType::Checkbox => Value::Bool(true),
    };
    Ok(Some(value))
}

/// A whole number stays whole; otherwise a finite decimal written plainly (`12.5`).
/// Thousands separators (`1,000`) are refused: they read differently by locale.
fn number(text: &str) -> Option<serde_json::Number> {
    if let Ok(n) = text.parse::<i64>() {
        return Some(n.into());
    }
    let f: f64 = text.parse().ok()?;
    if !f.is_finite() || text.contains(['e', 'E', 'i', 'I', 'n', 'N']) {
        return None;
    }
    serde_json::Number::from_f64(f)
}

/// An http(s) address with a host; `example.com` is read as `https://example.com`.
fn web_address(text: &str) -> Option<String> {
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("https://{text}")
    };
    let url = url::Url::parse(&with_scheme).ok()?;
    let host = url.host_str()?;
    (matches!(url.scheme(), "http" | "https") && host.contains('.')).then(|| url.to_string())
}

fn lower_first(label: &str) -> String {
    let mut chars = label.chars();
    match (chars.next(), chars.clone().next()) {
        // "URL" stays "URL"; "Legal name" becomes "legal name".
        (Some(first), Some(second)) if first.is_uppercase() && !second.is_uppercase() => first.to_lowercase().chain(chars).collect(),
        _ => label.to_owned(),
    }
}

/// A free-text answer (question, approval note, comment): trimmed, required, bounded.
pub fn long_text(text: &str, what: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("Enter {what}."));
    }
    if text.chars().count() > MAX_LONG_TEXT {
        return Err(format!("Keep {what} under {MAX_LONG_TEXT} characters."));
    }
    Ok(text.replace("\r\n", "\n"))
}

/// What a customer hands in on a task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Submission {
    /// A form's answers; completes the task.
    Form(Answers),
    /// A question's answer; completes the task.
    Question(String),
    /// Approved (completes the task) or changes requested (it stays open), with a note.
    Approval { approved: bool, note: Option<String> },
}

impl Submission {
    pub fn kind(&self) -> &'static str {
        match self {
            Submission::Form(_) => "form",
            Submission::Question(_) => "question",
            Submission::Approval { .. } => "approval",
        }
    }

    /// Whether handing this in completes the task.
    pub fn completes(&self) -> bool {
        !matches!(self, Submission::Approval { approved: false, .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Key;

    fn field(key: &str, field_type: FieldType, required: bool) -> FormField {
        FormField {
            key: Key::parse(key).unwrap(),
            label: format!("The {key}"),
            field_type,
            required,
            help: None,
            options: if field_type == FieldType::Select {
                vec!["S".into(), "M".into()]
            } else {
                vec![]
            },
        }
    }

    fn input(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn every_field_is_checked_and_each_problem_names_its_field() {
        let fields = [
            field("name", FieldType::Text, true),
            field("count", FieldType::Number, true),
            field("when", FieldType::Date, false),
            field("mail", FieldType::Email, false),
            field("site", FieldType::Url, false),
            field("size", FieldType::Select, true),
            field("agree", FieldType::Checkbox, true),
        ];
        let errors = validate(
            &fields,
            &input(&[
                ("name", "  "),
                ("count", "lots"),
                ("when", "03/01/2027"),
                ("mail", "nope"),
                ("site", "javascript:alert(1)"),
                ("size", "XL"),
            ]),
        )
        .unwrap_err();
        let keys: Vec<_> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["name", "count", "when", "mail", "site", "size", "agree"]);
        assert_eq!(errors[0].message, "Enter the name.");
    }

    #[test]
    fn good_answers_are_typed_and_optional_blanks_left_out() {
        let fields = [
            field("name", FieldType::Text, true),
            field("count", FieldType::Number, true),
            field("ratio", FieldType::Number, false),
            field("when", FieldType::Date, false),
            field("mail", FieldType::Email, true),
            field("site", FieldType::Url, true),
            field("size", FieldType::Select, true),
            field("agree", FieldType::Checkbox, false),
        ];
        let answers = validate(
            &fields,
            &input(&[
                ("name", " Acme "),
                ("count", "250"),
                ("mail", "Ops@Acme.example"),
                ("site", "acme.example"),
                ("size", "M"),
            ]),
        )
        .unwrap();
        assert_eq!(answers["name"], "Acme");
        assert_eq!(answers["count"], 250);
        assert_eq!(answers["mail"], "ops@acme.example");
        assert_eq!(answers["site"], "https://acme.example/");
        assert_eq!(answers["agree"], false);
        assert!(!answers.contains_key("ratio") && !answers.contains_key("when"));
        assert_eq!(number("12.5"), serde_json::Number::from_f64(12.5));
        assert_eq!(number("NaN"), None);
        assert_eq!(number("1e400"), None);
    }

    #[test]
    fn long_text_is_required_and_bounded() {
        assert_eq!(long_text("  yes \r\n ok ", "an answer").unwrap(), "yes \n ok");
        assert_eq!(long_text(" ", "an answer").unwrap_err(), "Enter an answer.");
        assert!(long_text(&"x".repeat(MAX_LONG_TEXT + 1), "a note").is_err());
    }
}
