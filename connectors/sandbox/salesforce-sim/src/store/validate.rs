//! Checking and coercing the fields of a create or update body, with Salesforce's DML error codes.

use serde_json::{Map, Value};

use super::{DmlError, Store};
use crate::ids;
use crate::schema::{FieldDef, FieldType, ObjectDef};
use crate::util::{format_date, parse_date, parse_datetime, sf_datetime};

/// Whether a body creates a record or updates one; decides which fields may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

impl Store {
    /// Coerces a body's fields to stored values, checking names, permissions, types and references.
    /// Keys are canonical field names; `attributes` is ignored as Salesforce does.
    pub(crate) fn coerce(&self, obj: &ObjectDef, body: &Map<String, Value>, mode: Mode) -> Result<Vec<(String, Value)>, DmlError> {
        let mut out = Vec::with_capacity(body.len());
        let mut not_writable = Vec::new();
        for (key, value) in body {
            if key == "attributes" || (mode == Mode::Update && key.eq_ignore_ascii_case("id")) {
                continue;
            }
            let Some(f) = obj.field(key) else {
                return Err(DmlError::new(
                    "INVALID_FIELD",
                    format!("No such column '{key}' on sobject of type {}", obj.name),
                    vec![],
                ));
            };
            let writable = match mode {
                Mode::Create => f.createable,
                Mode::Update => f.updateable,
            };
            if !writable {
                not_writable.push(f.name.clone());
                continue;
            }
            out.push((f.name.clone(), self.coerce_value(f, value)?));
        }
        if !not_writable.is_empty() {
            let names = not_writable.join(", ");
            return Err(DmlError::new(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                format!(
                    "Unable to create/update fields: {names}. Please check the security settings of this field and verify that it is read/write for your profile or permission set."
                ),
                not_writable,
            ));
        }
        Ok(out)
    }

    fn coerce_value(&self, f: &FieldDef, v: &Value) -> Result<Value, DmlError> {
        if v.is_null() {
            if !f.nillable && f.ftype != FieldType::Boolean {
                return Err(required_missing(std::slice::from_ref(&f.name)));
            }
            if f.ftype == FieldType::Boolean {
                return Ok(Value::Bool(false));
            }
            return Ok(Value::Null);
        }
        match f.ftype {
            FieldType::Boolean => coerce_bool(f, v),
            t if t.is_numeric() => coerce_number(f, v),
            FieldType::Date => {
                let s = text(f, v)?;
                let d = parse_date(s.get(..10).unwrap_or(&s)).ok_or_else(|| parse_error(f, v))?;
                Ok(Value::String(format_date(d)))
            }
            FieldType::Datetime => {
                let ms = parse_datetime(&text(f, v)?).ok_or_else(|| parse_error(f, v))?;
                Ok(Value::String(sf_datetime(ms)))
            }
            FieldType::Reference | FieldType::Id => self.coerce_reference(f, &text(f, v)?),
            _ => coerce_text(f, v),
        }
    }

    fn coerce_reference(&self, f: &FieldDef, s: &str) -> Result<Value, DmlError> {
        if s.is_empty() {
            return if f.nillable {
                Ok(Value::Null)
            } else {
                Err(required_missing(std::slice::from_ref(&f.name)))
            };
        }
        let malformed = || {
            DmlError::new(
                "MALFORMED_ID",
                format!("{}: id value of incorrect type: {s}", f.label),
                vec![f.name.clone()],
            )
        };
        let id = ids::normalize(s).ok_or_else(malformed)?;
        let Some(obj) = self.schema.object_of_id(&id) else {
            return Err(malformed());
        };
        let target = &self.schema.objects[obj].name;
        let live = self.tables[obj].records.get(&id).is_some_and(|r| r.deleted_ms.is_none());
        if !f.reference_to.iter().any(|t| t == target) || !live {
            return Err(DmlError::new(
                "INVALID_CROSS_REFERENCE_KEY",
                format!("invalid cross reference id: {s}"),
                vec![f.name.clone()],
            ));
        }
        Ok(Value::String(id))
    }
}

pub(crate) fn required_missing(fields: &[String]) -> DmlError {
    DmlError::new(
        "REQUIRED_FIELD_MISSING",
        format!("Required fields are missing: [{}]", fields.join(", ")),
        fields.to_vec(),
    )
}

fn parse_error(f: &FieldDef, v: &Value) -> DmlError {
    let shown = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    DmlError::new(
        "JSON_PARSER_ERROR",
        format!(
            "Cannot deserialize instance of {} from VALUE_STRING value {shown} or request may be missing a required field",
            f.ftype.name()
        ),
        vec![f.name.clone()],
    )
}

/// Text for non-text types: Salesforce accepts numbers and booleans where it expects strings.
fn text(f: &FieldDef, v: &Value) -> Result<String, DmlError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(parse_error(f, v)),
    }
}

fn coerce_bool(f: &FieldDef, v: &Value) -> Result<Value, DmlError> {
    match v {
        Value::Bool(b) => Ok(Value::Bool(*b)),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
        _ => Err(parse_error(f, v)),
    }
}

fn coerce_number(f: &FieldDef, v: &Value) -> Result<Value, DmlError> {
    let n = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    let n = n.filter(|n| n.is_finite()).ok_or_else(|| parse_error(f, v))?;
    if f.ftype == FieldType::Int {
        if n.fract() != 0.0 {
            return Err(parse_error(f, v));
        }
        // Fractions were rejected above and huge values saturate, so the cast loses nothing that matters.
        return Ok(Value::from(n as i64));
    }
    Ok(serde_json::Number::from_f64(n).map(Value::Number).unwrap_or(Value::Null))
}

fn coerce_text(f: &FieldDef, v: &Value) -> Result<Value, DmlError> {
    let s = text(f, v)?;
    let chars = s.chars().count();
    if f.length > 0 && chars > f.length as usize {
        return Err(DmlError::new(
            "STRING_TOO_LONG",
            format!("{}: data value too large: {s} (max length={})", f.label, f.length),
            vec![f.name.clone()],
        ));
    }
    if f.ftype == FieldType::Email && !s.is_empty() && !valid_email(&s) {
        return Err(DmlError::new(
            "INVALID_EMAIL_ADDRESS",
            format!("{}: invalid email address: {s}", f.label),
            vec![f.name.clone()],
        ));
    }
    if f.ftype == FieldType::Picklist && f.restricted && !f.picklist.contains(&s) {
        return Err(DmlError::new(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            format!("{}: bad value for restricted picklist field: {s}", f.label),
            vec![f.name.clone()],
        ));
    }
    if s.is_empty() {
        return Ok(Value::Null);
    }
    Ok(Value::String(s))
}

fn valid_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => !local.is_empty() && domain.contains('.') && !domain.contains('@') && !s.contains(' '),
        None => false,
    }
}
