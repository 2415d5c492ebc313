//! Email addresses. People are matched by email across CRMs and invitations, so the
//! address is normalised once, here: trimmed and lowercased. (The local part is
//! case-sensitive in theory; in practice no provider treats it so, and treating
//! `Ana@x.com` and `ana@x.com` as two people would create duplicate users.)

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a valid email address: {reason}")]
pub struct EmailError {
    pub input: String,
    pub reason: &'static str,
}

impl Email {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let fail = |reason| EmailError {
            input: input.to_owned(),
            reason,
        };
        let s = input.trim().to_lowercase();
        if s.len() > 254 {
            return Err(fail("it is longer than 254 characters"));
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(|| fail("it has no `@`"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(fail("the part before `@` must have 1 to 64 characters"));
        }
        if local.contains('@') {
            return Err(fail("it has more than one `@`"));
        }
        let labels_ok = domain.split('.').all(|label| {
            !label.is_empty() && !label.starts_with('-') && !label.ends_with('-') && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
        if !domain.contains('.') || !labels_ok {
            return Err(fail("the domain must look like example.com"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(fail("it contains spaces or control characters"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Email {
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
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(Email::parse("  Ana.Silva@Example.COM ").unwrap().as_str(), "ana.silva@example.com");
    }

    #[test]
    fn malformed_emails_are_refused_with_a_reason() {
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a b@example.com",
            "ana@-x.com",
            "a@b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC*") {
            let _ = Email::parse(&s);
        }

        #[test]
        fn parsed_emails_are_stable(local in "[a-zA-Z0-9._+]{1,20}", domain in "[a-z0-9]{1,10}\\.(com|io|co\\.uk)") {
            let once = Email::parse(&format!("{local}@{domain}")).unwrap();
            let twice = Email::parse(once.as_str()).unwrap();
            prop_assert_eq!(once, twice);
        }
    }
}
