//! Salesforce record ids: 15-character case-sensitive ids and their 18-character,
//! case-insensitive-safe form (<https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/field_types.htm>).
//!
//! The 3-character suffix encodes, for each 5-character chunk of the 15-character id,
//! which characters are upper case. That lets systems that fold case (spreadsheets,
//! some databases) keep ids apart, and lets us catch ids that were mangled in transit.

use std::fmt;
use std::str::FromStr;

/// The alphabet the 5-bit chunk masks map through.
const SUFFIX_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// The 18-character id for a 15-character id, or `None` when `id15` is not 15 ASCII
/// letters or digits.
pub fn to_18(id15: &str) -> Option<String> {
    let bytes = id15.as_bytes();
    if bytes.len() != 15 || !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let mut out = String::with_capacity(18);
    out.push_str(id15);
    for chunk in bytes.chunks(5) {
        let mask = chunk
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_ascii_uppercase())
            .fold(0usize, |mask, (i, _)| mask | (1 << i));
        out.push(char::from(SUFFIX_ALPHABET[mask]));
    }
    Some(out)
}

/// Whether `id` is 18 ASCII letters or digits whose suffix matches its first 15.
pub fn is_valid_18(id: &str) -> bool {
    id.len() == 18 && id.is_char_boundary(15) && to_18(&id[..15]).is_some_and(|full| full == id)
}

/// Either form, as the 18-character id: a 15-character id gets its suffix, an
/// 18-character id must carry the right one.
pub fn normalize(id: &str) -> Option<String> {
    match id.len() {
        15 => to_18(id),
        18 if is_valid_18(id) => Some(id.to_owned()),
        _ => None,
    }
}

/// A checked 18-character Salesforce id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Salesforce id (15 or 18 letters and digits with a matching suffix)")]
pub struct InvalidId;

impl Id {
    /// Parses a 15- or 18-character id; the result is always the 18-character form.
    pub fn parse(id: &str) -> Result<Self, InvalidId> {
        normalize(id).map(Self).ok_or(InvalidId)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-sensitive 15-character form.
    pub fn to_15(&self) -> &str {
        &self.0[..15]
    }

    /// The first three characters, which name the object type (`006` = Opportunity).
    pub fn key_prefix(&self) -> &str {
        &self.0[..3]
    }
}

impl FromStr for Id {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Id {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_verified_on_real_orgs_get_the_documented_suffix() {
        assert_eq!(to_18("003q000000KvQ1t").as_deref(), Some("003q000000KvQ1tAAF"));
        assert_eq!(to_18("a00D0000008pQRA").as_deref(), Some("a00D0000008pQRAIA2"));
        assert_eq!(to_18("001xx0000004GxD").as_deref(), Some("001xx0000004GxDAAU"));
        assert_eq!(to_18("04lV0000001ALsh").as_deref(), Some("04lV0000001ALshIAG"));
    }

    #[test]
    fn all_upper_case_chunks_map_to_the_last_alphabet_character() {
        assert_eq!(to_18("ABCDEABCDEABCDE").as_deref(), Some("ABCDEABCDEABCDE555"));
        assert_eq!(to_18("000000000000000").as_deref(), Some("000000000000000AAA"));
    }

    #[test]
    fn to_18_refuses_wrong_lengths_and_characters() {
        assert_eq!(to_18(""), None);
        assert_eq!(to_18("003q000000KvQ1"), None);
        assert_eq!(to_18("003q000000KvQ1tA"), None);
        assert_eq!(to_18("003q000000KvQ-t"), None);
        assert_eq!(to_18("003q000000KvQ1é"), None);
    }

    #[test]
    fn valid_18_character_ids_are_accepted() {
        assert!(is_valid_18("003q000000KvQ1tAAF"));
        assert!(is_valid_18("04lV0000001ALshIAG"));
    }

    #[test]
    fn ids_with_a_wrong_suffix_or_changed_case_are_refused() {
        assert!(!is_valid_18("003q000000KvQ1tAAA"));
        assert!(!is_valid_18("003Q000000KvQ1tAAF"), "case change in the body breaks the checksum");
        assert!(!is_valid_18("003q000000KvQ1tAaF"));
        assert!(!is_valid_18("003q000000KvQ1t"));
        assert!(!is_valid_18("003q000000KvQ1tAAF1"));
        // Multi-byte characters must not make slicing panic.
        assert!(!is_valid_18("003q000000KvQ1éAF"));
        assert!(!is_valid_18("003q000000KvQ1tAé"));
    }

    #[test]
    fn parsing_normalizes_15_character_ids_to_18() {
        let id = Id::parse("006000000000001").unwrap();
        assert_eq!(id.as_str().len(), 18);
        assert_eq!(id.to_15(), "006000000000001");
        assert_eq!(id.key_prefix(), "006");
        assert_eq!(Id::parse(id.as_str()).unwrap(), id);
        assert!("garbage".parse::<Id>().is_err());
    }
}
