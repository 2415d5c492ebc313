//! Checks and normalises property values a client sends, the way HubSpot does:
//! unknown properties and bad enumeration options are errors, read-only ones are ignored,
//! and every stored value is a string.

use serde_json::Value;

use crate::catalog::{Catalog, PropKind};
use crate::objects::ObjectType;
use crate::util::{iso_ms, parse_time_ms};

/// One rejected property, reported in HubSpot's "Property values were not valid" error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropError {
    pub name: String,
    pub code: &'static str,
    pub message: String,
}

/// Normalised writes: (name, value), an empty value clears the property.
pub type Writes = Vec<(String, String)>;

pub fn normalize(catalog: &Catalog, object: ObjectType, input: &serde_json::Map<String, Value>) -> Result<Writes, Vec<PropError>> {
    let mut out = Vec::with_capacity(input.len());
    let mut errors = Vec::new();
    for (name, raw) in input {
        let Some(def) = catalog.get(object, name) else {
            errors.push(PropError {
                name: name.clone(),
                code: "PROPERTY_DOESNT_EXIST",
                message: format!("Property \"{name}\" does not exist"),
            });
            continue;
        };
        if def.read_only {
            continue;
        }
        let text = match raw {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            other => other.to_string(),
        };
        match check_value(def.kind, &def.options, name, &text) {
            Ok(v) => out.push((name.clone(), v)),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn check_value(kind: PropKind, options: &[crate::catalog::PropOption], name: &str, text: &str) -> Result<String, PropError> {
    if text.is_empty() {
        return Ok(String::new());
    }
    let bad = |code: &'static str, what: &str| PropError {
        name: name.to_string(),
        code,
        message: format!("{text} was not a valid {what}."),
    };
    match kind {
        PropKind::Number => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|_| text.trim().to_string())
            .ok_or_else(|| bad("INVALID_DECIMAL", "number")),
        PropKind::Date | PropKind::Datetime => parse_time_ms(text)
            .map(|ms| date_text(kind, ms))
            .ok_or_else(|| bad("INVALID_DATE", "date")),
        PropKind::Bool => match text.to_ascii_lowercase().as_str() {
            "true" | "false" => Ok(text.to_ascii_lowercase()),
            _ => Err(bad("INVALID_BOOLEAN", "boolean")),
        },
        // Enumerations without declared options (owners) accept any value.
        PropKind::Enumeration if !options.is_empty() => {
            let all_valid = text.split(';').all(|part| options.iter().any(|o| o.value == part));
            if all_valid {
                Ok(text.to_string())
            } else {
                Err(PropError {
                    name: name.to_string(),
                    code: "INVALID_OPTION",
                    message: format!(
                        "{text} was not one of the allowed options: {}",
                        options.iter().map(|o| o.value.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                })
            }
        }
        _ => Ok(text.to_string()),
    }
}

fn date_text(kind: PropKind, ms: i64) -> String {
    let iso = iso_ms(ms);
    match kind {
        PropKind::Date => iso.get(..10).unwrap_or(&iso).to_string(),
        _ => iso,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn values_are_normalised_to_strings_and_read_only_ones_dropped() {
        let cat = Catalog::new(&[]);
        let w = normalize(
            &cat,
            ObjectType::Deals,
            &map(json!({"amount": 1500, "closedate": "1705521304281", "hs_object_id": "9", "dealname": null})),
        )
        .unwrap();
        assert_eq!(
            w,
            vec![
                ("amount".into(), "1500".into()),
                ("closedate".into(), "2024-01-17T19:55:04.281Z".into()),
                ("dealname".into(), String::new())
            ]
        );
    }

    #[test]
    fn unknown_properties_and_bad_options_are_reported_by_name() {
        let cat = Catalog::new(&[]);
        let e = normalize(
            &cat,
            ObjectType::Deals,
            &map(json!({"nope": "x", "dealstage": "won", "amount": "abc"})),
        )
        .unwrap_err();
        let codes: Vec<_> = e.iter().map(|e| (e.name.as_str(), e.code)).collect();
        assert_eq!(
            codes,
            vec![
                ("amount", "INVALID_DECIMAL"),
                ("dealstage", "INVALID_OPTION"),
                ("nope", "PROPERTY_DOESNT_EXIST")
            ]
        );
    }
}
