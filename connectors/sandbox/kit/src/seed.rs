//! Seed files: one TOML file with a section per simulator (`[salesforce]`, `[hubspot]`). The
//! kit reads and parses; what a section holds and how it becomes records is each simulator's.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A field value as written in a seed: TOML strings, integers, floats and booleans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    /// The value as JSON of its own type.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Scalar::Text(s) => serde_json::Value::String(s.clone()),
            Scalar::Int(i) => serde_json::Value::from(*i),
            Scalar::Float(f) => serde_json::Value::from(*f),
            Scalar::Bool(b) => serde_json::Value::Bool(*b),
        }
    }

    /// The value as text (`5`, `2.5`, `true`).
    pub fn to_text(&self) -> String {
        match self {
            Scalar::Text(s) => s.clone(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

/// Why a seed file could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeedFileError {
    #[error("cannot read seed file {}: {message}", path.display())]
    Read { path: PathBuf, message: String },
    #[error("seed file {} does not parse: {message}", path.display())]
    Parse { path: PathBuf, message: String },
}

/// Parses TOML text into a seed type; the error is the parser's message.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

/// A seed embedded in a simulator's crate. It is covered by the crate's tests; should it ever
/// not parse, the error is logged and an empty seed used rather than failing the start.
pub fn embedded<T: DeserializeOwned + Default>(text: &str, what: &str) -> T {
    parse(text).unwrap_or_else(|e| {
        tracing::error!("embedded {what} does not parse: {e}");
        T::default()
    })
}

/// Reads `section` (`"salesforce"`, `"hubspot"`) of a seed file; `None` when the file has no
/// such section (the other simulator's sections are ignored).
pub fn read_section<T: DeserializeOwned>(path: &Path, section: &str) -> Result<Option<T>, SeedFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| SeedFileError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let parse_err = |e: toml::de::Error| SeedFileError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut file: toml::Table = toml::from_str(&text).map_err(parse_err)?;
    match file.remove(section) {
        Some(value) => value.try_into().map(Some).map_err(parse_err),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Section {
        n: i64,
    }

    #[test]
    fn a_section_is_read_from_a_combined_file_and_a_missing_one_is_none() {
        let dir = std::env::temp_dir().join(format!("sandbox-kit-seed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("seed.toml");
        std::fs::write(&path, "[mine]\nn = 3\n\n[other]\nwhatever = true\n").unwrap();
        assert_eq!(read_section::<Section>(&path, "mine").unwrap(), Some(Section { n: 3 }));
        assert_eq!(read_section::<Section>(&path, "absent").unwrap(), None);
        assert!(matches!(read_section::<Section>(&path, "other"), Err(SeedFileError::Parse { .. })));
        let missing = dir.join("missing.toml");
        assert!(matches!(read_section::<Section>(&missing, "mine"), Err(SeedFileError::Read { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn scalars_keep_their_toml_type() {
        #[derive(Deserialize)]
        struct Row {
            v: Vec<Scalar>,
        }
        let row: Row = parse("v = [\"a\", 5, 2.5, true]").unwrap();
        let texts: Vec<String> = row.v.iter().map(Scalar::to_text).collect();
        assert_eq!(texts, ["a", "5", "2.5", "true"]);
        assert_eq!(embedded::<Section>("not toml", "test seed"), Section::default());
    }
}
