//! Salesforce record ids: 15 case-sensitive characters plus a 3-character checksum suffix
//! (Salesforce's case-safe 18-character form), generated in creation order so that ids sort like creation.

const SUFFIX_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
/// Base 62 in ASCII order, so that lexical order of generated ids is creation order.
const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// The "pod" and reserved characters of every sandbox id (`Dn` + `0`).
const POD: &str = "Dn0";

/// The 3-character suffix of a 15-character id; `None` when it is not 15 alphanumerics.
pub fn checksum(id15: &str) -> Option<String> {
    let bytes = id15.as_bytes();
    if bytes.len() != 15 || !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let mut out = String::with_capacity(3);
    for chunk in bytes.chunks(5) {
        let mut bits = 0usize;
        for (i, c) in chunk.iter().enumerate() {
            if c.is_ascii_uppercase() {
                bits |= 1 << i;
            }
        }
        out.push(char::from(SUFFIX_ALPHABET[bits]));
    }
    Some(out)
}

/// The 18-character form of a 15-character id.
pub fn to18(id15: &str) -> Option<String> {
    checksum(id15).map(|s| format!("{id15}{s}"))
}

/// Normalises a 15- or 18-character id to 18 characters; an 18-character id must carry
/// the right suffix (Salesforce compares the suffix case-insensitively).
pub fn normalize(id: &str) -> Option<String> {
    match id.len() {
        15 => to18(id),
        18 => {
            let full = to18(&id[..15])?;
            full.eq_ignore_ascii_case(id).then_some(full)
        }
        _ => None,
    }
}

/// The `n`-th id (from 1) of an object with key prefix `prefix`.
pub fn make(prefix: &str, n: u64) -> String {
    let mut digits = [b'0'; 9];
    let mut v = n;
    for d in digits.iter_mut().rev() {
        *d = DIGITS[(v % 62) as usize];
        v /= 62;
    }
    let counter: String = digits.iter().map(|b| char::from(*b)).collect();
    let id15 = format!("{prefix}{POD}{counter}");
    to18(&id15).unwrap_or(id15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_match_real_salesforce_ids() {
        assert_eq!(checksum("003q000000KvQ1t").unwrap(), "AAF");
        assert_eq!(checksum("a00D0000008pQRA").unwrap(), "IA2");
        assert_eq!(checksum("001xx0000004GxD").unwrap(), "AAU");
        assert_eq!(checksum("04lV0000001ALsh").unwrap(), "IAG");
        assert_eq!(checksum("00D000000000001").unwrap(), "EAA");
    }

    #[test]
    fn generated_ids_are_valid_and_sort_in_creation_order() {
        let a = make("006", 61);
        let b = make("006", 62);
        assert_eq!(a.len(), 18);
        assert!(a < b);
        assert_eq!(normalize(&a).unwrap(), a);
        assert_eq!(normalize(&a[..15]).unwrap(), a);
        assert_eq!(normalize(&a.to_ascii_lowercase()[..15]), to18(&a.to_ascii_lowercase()[..15]));
        assert!(normalize("006Dn0000000001XXX").is_none() || make("006", 1).ends_with("XXX"));
        assert!(normalize("abc").is_none());
    }
}
