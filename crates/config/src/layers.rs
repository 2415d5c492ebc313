//! Merging the configuration layers while remembering where each value came from, so
//! an error can say "from HANDOFF_LISTEN" or "from /etc/handoff.toml".

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use toml::{Table, Value};

use super::{ConfigError, DEFAULTS, ENV_KEYS, ENV_NOT_SETTINGS};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Defaults,
    File(PathBuf),
    Env(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Defaults => f.write_str("the built-in defaults"),
            Origin::File(p) => write!(f, "{}", p.display()),
            Origin::Env(name) => f.write_str(name),
        }
    }
}

/// Where each dotted key was last set.
#[derive(Debug, Default)]
pub struct Origins(HashMap<String, Origin>);

impl Origins {
    pub fn of(&self, key: &str) -> Origin {
        self.0.get(key).cloned().unwrap_or(Origin::Defaults)
    }
}

pub struct Stack {
    table: Table,
    origins: Origins,
    warnings: Vec<String>,
}

impl Stack {
    pub fn defaults() -> Result<Self, ConfigError> {
        let table = DEFAULTS.parse::<Table>().map_err(|e| ConfigError::Syntax {
            path: "config/default.toml (built in)".into(),
            message: e.to_string(),
        })?;
        Ok(Self {
            table,
            origins: Origins::default(),
            warnings: Vec::new(),
        })
    }

    pub fn merge_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let file = text.parse::<Table>().map_err(|e| ConfigError::Syntax {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let origin = Origin::File(path.to_owned());
        merge(&mut self.table, file, "", &origin, &mut self.origins);
        Ok(())
    }

    pub fn merge_env(&mut self, env: impl IntoIterator<Item = (String, String)>) -> Result<(), ConfigError> {
        let mut env: Vec<(String, String)> = env.into_iter().filter(|(k, _)| k.starts_with("HANDOFF_")).collect();
        // Plain variables win over their _FILE twins when both are set: apply files first.
        env.sort_by_key(|(k, _)| !k.ends_with("_FILE"));
        for (name, value) in env {
            if ENV_NOT_SETTINGS.contains(&name.as_str()) {
                continue;
            }
            let read = |path: &str| {
                std::fs::read_to_string(path)
                    .map(|t| t.trim().to_owned())
                    .map_err(|source| ConfigError::Read { path: path.into(), source })
            };
            let (key, value) = if let Some(base) = name.strip_suffix("_FILE")
                && let Some((_, key)) = ENV_KEYS.iter().find(|(n, _)| *n == base)
            {
                ((*key).to_owned(), read(&value)?)
            } else if let Some((_, key)) = ENV_KEYS.iter().find(|(n, _)| *n == name) {
                ((*key).to_owned(), value)
            } else if let Some((key, from_file)) = super::connections::secret_variable(&name) {
                let value = if from_file { read(&value)? } else { value };
                (key, value)
            } else {
                self.warnings.push(format!("unknown environment variable {name} is ignored"));
                continue;
            };
            set_dotted(&mut self.table, &key, Value::String(value));
            self.origins.0.insert(key, Origin::Env(name));
        }
        Ok(())
    }

    /// Deserializes the merged table, turning ignored keys into warnings and type errors
    /// into errors that name the key and its origin.
    pub fn into_raw<T: DeserializeOwned>(self) -> Result<(T, Origins, Vec<String>), ConfigError> {
        let Stack {
            table,
            origins,
            mut warnings,
        } = self;
        let mut unknown: Vec<String> = Vec::new();
        let mut note_unknown = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
        let de = serde_ignored::Deserializer::new(Value::Table(table), &mut note_unknown);
        let raw: T = serde_path_to_error::deserialize(de).map_err(|e: serde_path_to_error::Error<toml::de::Error>| {
            let key = e.path().to_string();
            ConfigError::Invalid {
                origin: origins.of(&key),
                message: e.into_inner().message().to_owned(),
                key,
            }
        })?;
        for key in unknown {
            warnings.push(format!("unknown key `{key}` in {} is ignored", origins.of(&key)));
        }
        Ok((raw, origins, warnings))
    }
}

/// Merges `over` into `base`; tables merge key by key, anything else replaces.
fn merge(base: &mut Table, over: Table, prefix: &str, origin: &Origin, origins: &mut Origins) {
    for (k, v) in over {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match (base.get_mut(&k), v) {
            (Some(Value::Table(b)), Value::Table(o)) => merge(b, o, &key, origin, origins),
            (_, v) => {
                mark(&key, &v, origin, origins);
                base.insert(k, v);
            }
        }
    }
}

/// Records the origin of a value and, for a table, of every key inside it.
fn mark(key: &str, value: &Value, origin: &Origin, origins: &mut Origins) {
    origins.0.insert(key.to_owned(), origin.clone());
    if let Value::Table(t) = value {
        for (k, v) in t {
            mark(&format!("{key}.{k}"), v, origin, origins);
        }
    }
}

fn set_dotted(table: &mut Table, key: &str, value: Value) {
    let mut parts: Vec<&str> = key.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut t = table;
    for part in parts {
        let entry = t.entry(part.to_owned()).or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        let Value::Table(inner) = entry else { return };
        t = inner;
    }
    t.insert(last.to_owned(), value);
}
