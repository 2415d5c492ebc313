//! What a person may write about themselves in the portal (their profile) and about a
//! teammate they invite: names, title, phone, time zone. Parsed here, once, into values
//! the store can write as they are; every refusal names its field, so a page can show
//! it beside the field.
//!
//! Time zones are checked against an embedded list ([`TIMEZONES`]: tzdata's zone.tab and
//! UTC) rather than a time zone database: handoff does not convert times with them yet,
//! and an exact list lets the page offer a choice instead of a free-text guess.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Serialize;

/// Messages by field name (`first_name`, `phone` …), for the page to show beside each.
pub type FieldErrors = BTreeMap<&'static str, String>;

/// The longest name, title or phone kept (in characters).
pub const MAX_NAME: usize = 100;
const MAX_PHONE: usize = 40;
const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 5..=20;

/// The time zones one may choose, in the order a page lists them (UTC, then by name).
pub static TIMEZONES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    include_str!("timezones.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

pub fn is_known_timezone(name: &str) -> bool {
    TIMEZONES.binary_search_by(|tz| cmp_listed(tz, name)).is_ok()
}

/// The list's order: UTC first, then by name.
fn cmp_listed(a: &str, b: &str) -> std::cmp::Ordering {
    (a != "UTC", a).cmp(&(b != "UTC", b))
}

/// A profile as submitted (text fields only; the picture has its own form).
#[derive(Clone, Debug, Default)]
pub struct ProfileInput<'a> {
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub timezone: &'a str,
    pub title: &'a str,
    pub phone: &'a str,
}

/// A valid profile: empty optional fields are `None`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub first_name: String,
    pub last_name: Option<String>,
    pub timezone: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
}

impl Profile {
    /// Checks every field and reports every problem at once. `current_timezone` (what
    /// the person has now) stays acceptable even if the list no longer has it, so
    /// saving other fields never fails on a value the person did not touch.
    pub fn parse(input: &ProfileInput<'_>, current_timezone: Option<&str>) -> Result<Profile, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut take = |field: &'static str, r: Result<Option<String>, String>| {
            r.unwrap_or_else(|message| {
                errors.insert(field, message);
                None
            })
        };
        let first_name = take("first_name", name(input.first_name, true));
        let last_name = take("last_name", name(input.last_name, false));
        let title = take("title", name(input.title, false));
        let phone = take("phone", phone(input.phone));
        let timezone = take("timezone", timezone(input.timezone, current_timezone));
        match first_name {
            Some(first_name) if errors.is_empty() => Ok(Profile {
                first_name,
                last_name,
                timezone,
                title,
                phone,
            }),
            _ => Err(errors),
        }
    }
}

/// A name or title: trimmed, inner runs of space collapsed, at most [`MAX_NAME`]
/// characters, no control characters. Empty is `None`, or an error when `required`.
pub fn name(value: &str, required: bool) -> Result<Option<String>, String> {
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if value.is_empty() {
        return if required {
            Err("This field is required.".into())
        } else {
            Ok(None)
        };
    }
    if value.chars().count() > MAX_NAME {
        return Err(format!("Use at most {MAX_NAME} characters."));
    }
    if value.chars().any(char::is_control) {
        return Err("Use letters, digits and punctuation only.".into());
    }
    Ok(Some(value))
}

/// A phone number, checked loosely: digits, spaces and `+ - ( ) .`, a `+` only first,
/// 5 to 20 digits. Kept as written (trimmed); empty is `None`.
pub fn phone(value: &str) -> Result<Option<String>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let allowed = value
        .char_indices()
        .all(|(i, c)| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.') || (c == '+' && i == 0));
    let digits = value.chars().filter(char::is_ascii_digit).count();
    if !allowed || value.len() > MAX_PHONE || !PHONE_DIGITS.contains(&digits) {
        return Err("Use digits, spaces and + - ( ) . only, for example +1 (555) 010-0199.".into());
    }
    Ok(Some(value.to_owned()))
}

/// A time zone from [`TIMEZONES`] (or the one the person has now); empty is `None`.
pub fn timezone(value: &str, current: Option<&str>) -> Result<Option<String>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if is_known_timezone(value) || current == Some(value) {
        Ok(Some(value.to_owned()))
    } else {
        Err("Choose a time zone from the list, such as Europe/Paris or UTC.".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(first: &'a str, tz: &'a str, phone: &'a str) -> ProfileInput<'a> {
        ProfileInput {
            first_name: first,
            timezone: tz,
            phone,
            ..ProfileInput::default()
        }
    }

    #[test]
    fn the_embedded_time_zones_are_sorted_and_include_utc() {
        assert!(TIMEZONES.len() > 400);
        assert_eq!(TIMEZONES[0], "UTC");
        assert!(TIMEZONES.windows(2).all(|w| cmp_listed(w[0], w[1]).is_lt()));
        for known in [
            "UTC",
            "Europe/Paris",
            "America/Argentina/Buenos_Aires",
            "Asia/Kolkata",
            "Pacific/Auckland",
        ] {
            assert!(is_known_timezone(known), "{known}");
        }
        for unknown in ["", "Europe/Pairs", "europe/paris", "UTC+2", "Mars/Olympus", "Europe/Paris "] {
            assert!(!is_known_timezone(unknown), "{unknown}");
        }
    }

    #[test]
    fn a_profile_is_trimmed_and_empty_fields_are_none() {
        let p = Profile::parse(
            &ProfileInput {
                first_name: "  Dana ",
                last_name: " Scully  Mulder ",
                timezone: "Europe/Paris",
                title: "",
                phone: " +33 (1) 23.45-67 89 ",
            },
            None,
        )
        .unwrap();
        assert_eq!(p.first_name, "Dana");
        assert_eq!(p.last_name.as_deref(), Some("Scully Mulder"));
        assert_eq!(p.title, None);
        assert_eq!(p.phone.as_deref(), Some("+33 (1) 23.45-67 89"));
        assert_eq!(p.timezone.as_deref(), Some("Europe/Paris"));
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let errors = Profile::parse(&input(" ", "Mars/Olympus", "call me"), None).unwrap_err();
        assert_eq!(errors.keys().copied().collect::<Vec<_>>(), ["first_name", "phone", "timezone"]);
        let long = "x".repeat(MAX_NAME + 1);
        assert!(Profile::parse(&input(&long, "", ""), None).unwrap_err().contains_key("first_name"));
        assert!(
            Profile::parse(&input("A\u{7}b", "", ""), None)
                .unwrap_err()
                .contains_key("first_name")
        );
    }

    #[test]
    fn phones_are_checked_loosely() {
        for good in ["+1 (555) 010-0199", "0612345678", "+44 20 7946 0958", "555.0100"] {
            assert!(phone(good).is_ok(), "{good}");
        }
        for bad in [
            "1234",
            "12+345678",
            "555-CALL-NOW",
            "+1 555 0100 ext 2",
            &"1".repeat(21),
            "<script>",
        ] {
            assert!(phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_time_zone_the_person_already_has_stays_acceptable() {
        assert!(timezone("Legacy/Zone", None).is_err());
        assert_eq!(
            timezone("Legacy/Zone", Some("Legacy/Zone")).unwrap().as_deref(),
            Some("Legacy/Zone")
        );
        assert_eq!(timezone("  ", Some("Europe/Paris")).unwrap(), None);
    }
}
