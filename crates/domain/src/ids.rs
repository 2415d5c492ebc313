//! Identifiers. Every id is a UUIDv7 (time-ordered, so indexes stay append-mostly)
//! wrapped in its own type so a task id can never be passed where a project id is wanted.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh id, ordered after every id made before it.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim())
                    .map(Self)
                    .map_err(|_| IdError { what: $what, input: s.to_owned() })
            }
        }
    };
}

uuid_id!(
    /// A project: one instance of a template for one customer.
    ProjectId,
    "project id"
);
uuid_id!(PhaseId, "phase id");
uuid_id!(TaskId, "task id");
uuid_id!(CompanyId, "company id");
uuid_id!(UserId, "user id");

/// An id that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a valid {what} (expected a UUID such as 0192f6a4-5c1e-7abc-8def-0123456789ab)")]
pub struct IdError {
    pub what: &'static str,
    pub input: String,
}

/// A key that names a task or phase inside a template, and so inside every project
/// made from it (`kickoff-call`). Keys appear in URLs and CLI arguments, so they are
/// restricted to lowercase ASCII letters, digits, `-` and `_`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Key(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("a key cannot be empty")]
    Empty,
    #[error("`{0}` is longer than 64 characters")]
    TooLong(String),
    #[error("`{0}` may contain only lowercase letters, digits, `-` and `_`, and must start with a letter")]
    BadCharacters(String),
}

impl Key {
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        if s.is_empty() {
            return Err(KeyError::Empty);
        }
        if s.len() > 64 {
            return Err(KeyError::TooLong(s.to_owned()));
        }
        let mut chars = s.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !(first_ok && rest_ok) {
            return Err(KeyError::BadCharacters(s.to_owned()));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Key {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = ProjectId::new();
        assert_eq!(id.to_string().parse::<ProjectId>(), Ok(id));
    }

    #[test]
    fn a_bad_id_names_what_was_expected() {
        let err = "nope".parse::<TaskId>().unwrap_err();
        assert!(err.to_string().contains("task id"), "{err}");
    }

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let a = ProjectId::new();
        let b = ProjectId::new();
        assert!(a < b);
    }

    #[test]
    fn keys_refuse_uppercase_spaces_and_leading_digits() {
        assert!(Key::parse("kickoff-call").is_ok());
        assert!(Key::parse("Kickoff").is_err());
        assert!(Key::parse("kick off").is_err());
        assert!(Key::parse("1st").is_err());
        assert!(Key::parse("").is_err());
    }

    proptest! {
        #[test]
        fn any_valid_key_round_trips(s in "[a-z][a-z0-9_-]{0,63}") {
            let key = Key::parse(&s).unwrap();
            prop_assert_eq!(key.as_str(), s.as_str());
        }

        #[test]
        fn key_parsing_never_panics(s in "\\PC*") {
            let _ = Key::parse(&s);
        }
    }
}
