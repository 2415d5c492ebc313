//! The customer portal's settings: branding (`[branding]`) and sign-in and session
//! lifetimes (`[portal]`). Durations are written `90s`, `30m`, `12h`, `7d` so that one
//! syntax works in files and in environment variables (which are always text).

use chrono::Duration;
use serde::Deserialize;

/// What the portal's pages (and later emails) look like.
#[derive(Debug, Clone)]
pub struct BrandingConfig {
    pub product_name: String,
    /// An absolute http(s) URL or a path on this server; `None` shows the name only.
    pub logo_url: Option<String>,
    /// `#rrggbb`, lowercase: it goes into CSS, so only this shape is accepted.
    pub accent_color: String,
}

#[derive(Debug, Clone)]
pub struct PortalConfig {
    /// How long a new invitation link works.
    pub invitation_validity: Duration,
    /// A session unused for this long is signed out.
    pub session_idle_timeout: Duration,
    /// A session ends this long after sign-in, however busy.
    pub session_absolute_timeout: Duration,
    /// Fresh sign-in links one address may ask for per hour; requests beyond it get the
    /// same answer and send nothing.
    pub link_requests_per_hour: u32,
    /// Where uploaded files are kept: outside anything served as static files, each
    /// under a random name. Created when the first file arrives.
    pub upload_dir: std::path::PathBuf,
    /// The largest file a task accepts, in bytes; larger uploads are cut off while
    /// they stream and nothing is kept.
    pub max_upload_bytes: u64,
}

#[derive(Deserialize)]
pub(super) struct RawBranding {
    product_name: String,
    logo_url: String,
    accent_color: String,
}

#[derive(Deserialize)]
pub(super) struct RawPortal {
    invitation_validity: String,
    session_idle_timeout: String,
    session_absolute_timeout: String,
    // Text as well as numbers: an environment variable is always text.
    link_requests_per_hour: NumberOrText,
    upload_dir: std::path::PathBuf,
    max_upload_mb: NumberOrText,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Number(u32),
    Text(String),
}

/// Checks the raw values; an error is (key, message).
pub(super) fn validate(branding: RawBranding, portal: RawPortal) -> Result<(BrandingConfig, PortalConfig), (String, String)> {
    let bad = |key: &str, message: String| (key.to_owned(), message);
    let product_name = branding.product_name.trim().to_owned();
    if product_name.is_empty() {
        return Err(bad("branding.product_name", "must not be empty".into()));
    }
    let logo_url = match branding.logo_url.trim() {
        "" => None,
        path if path.starts_with('/') && !path.starts_with("//") => Some(path.to_owned()),
        url => match url::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Some(url.to_owned()),
            _ => return Err(bad("branding.logo_url", "must be an http(s) URL or a path starting with /".into())),
        },
    };
    let accent_color = parse_color(&branding.accent_color)
        .ok_or_else(|| bad("branding.accent_color", "must be a colour written #rgb or #rrggbb".into()))?;
    let duration = |key: &str, text: &str| parse_duration(text).map_err(|m| bad(key, m));
    let config = PortalConfig {
        invitation_validity: duration("portal.invitation_validity", &portal.invitation_validity)?,
        session_idle_timeout: duration("portal.session_idle_timeout", &portal.session_idle_timeout)?,
        session_absolute_timeout: duration("portal.session_absolute_timeout", &portal.session_absolute_timeout)?,
        link_requests_per_hour: match portal.link_requests_per_hour {
            NumberOrText::Number(n) => n,
            NumberOrText::Text(t) => t
                .trim()
                .parse()
                .map_err(|_| bad("portal.link_requests_per_hour", format!("`{t}` is not a whole number")))?,
        },
        upload_dir: portal.upload_dir,
        max_upload_bytes: match portal.max_upload_mb {
            NumberOrText::Number(n) => n,
            NumberOrText::Text(t) => t
                .trim()
                .parse()
                .map_err(|_| bad("portal.max_upload_mb", format!("`{t}` is not a whole number")))?,
        }
        .checked_mul(1024 * 1024)
        .filter(|&n| n > 0)
        .map(u64::from)
        .ok_or_else(|| bad("portal.max_upload_mb", "must be between 1 and 4095 (megabytes)".into()))?,
    };
    if config.upload_dir.as_os_str().is_empty() {
        return Err(bad("portal.upload_dir", "must not be empty".into()));
    }
    if config.session_idle_timeout > config.session_absolute_timeout {
        return Err(bad(
            "portal.session_idle_timeout",
            "must not be longer than portal.session_absolute_timeout".into(),
        ));
    }
    Ok((
        BrandingConfig {
            product_name,
            logo_url,
            accent_color,
        },
        config,
    ))
}

/// `#abc` or `#aabbcc` (any case) as `#aabbcc`.
fn parse_color(text: &str) -> Option<String> {
    let hex = text.trim().strip_prefix('#')?;
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let full: String = match hex.len() {
        3 => hex.chars().flat_map(|c| [c, c]).collect(),
        6 => hex.to_owned(),
        _ => return None,
    };
    Some(format!("#{}", full.to_ascii_lowercase()))
}

/// A positive whole number followed by `s`, `m`, `h` or `d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let explain = || format!("`{text}` is not a duration such as 90s, 30m, 12h or 7d");
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(explain)?;
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| explain())?;
    if n <= 0 {
        return Err(format!("`{text}` must be longer than zero"));
    }
    let d = match unit {
        "s" => Duration::try_seconds(n),
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        _ => None,
    };
    d.ok_or_else(explain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_one_unit() {
        assert_eq!(parse_duration("90s"), Ok(Duration::seconds(90)));
        assert_eq!(parse_duration(" 12h "), Ok(Duration::hours(12)));
        assert_eq!(parse_duration("7d"), Ok(Duration::days(7)));
        for bad in ["", "7", "d", "0m", "-1h", "1w", "1.5h", "99999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_environment_overrides_portal_settings_and_bad_values_name_their_key() {
        let env = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<Vec<_>>();
        let c = crate::Config::load(
            None,
            env(&[
                ("HANDOFF_SESSION_IDLE_TIMEOUT", "30m"),
                ("HANDOFF_LINK_REQUESTS_PER_HOUR", "5"),
                ("HANDOFF_ACCENT_COLOR", "#ABC"),
            ]),
        )
        .unwrap()
        .config;
        assert_eq!(c.portal.session_idle_timeout, Duration::minutes(30));
        assert_eq!(c.portal.invitation_validity, Duration::days(7));
        assert_eq!(c.portal.link_requests_per_hour, 5);
        assert_eq!(c.branding.accent_color, "#aabbcc");
        for (var, value, key) in [
            ("HANDOFF_ACCENT_COLOR", "red", "branding.accent_color"),
            ("HANDOFF_LOGO_URL", "javascript:alert(1)", "branding.logo_url"),
            ("HANDOFF_SESSION_IDLE_TIMEOUT", "30d", "portal.session_idle_timeout"),
            ("HANDOFF_LINK_REQUESTS_PER_HOUR", "many", "portal.link_requests_per_hour"),
        ] {
            let err = crate::Config::load(None, env(&[(var, value)])).unwrap_err().to_string();
            assert!(err.contains(key) && err.contains(var), "{err}");
        }
    }

    #[test]
    fn colours_are_normalized_and_nothing_else_reaches_the_css() {
        assert_eq!(parse_color("#1D4ED8").as_deref(), Some("#1d4ed8"));
        assert_eq!(parse_color("#abc").as_deref(), Some("#aabbcc"));
        for bad in ["1d4ed8", "#12345", "red", "#12345g", "#fff;}body{x:y"] {
            assert_eq!(parse_color(bad), None, "{bad}");
        }
    }
}
