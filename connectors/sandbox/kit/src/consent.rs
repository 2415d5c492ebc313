//! The parts of a sign-in/consent step that do not depend on the CRM: plain HTML pages that
//! work without JavaScript (so a headless browser can click through them), authorization
//! requests waiting for the user's decision, which callback URLs an app may use, and the
//! redirect back to it. Which parameters a CRM sends, which errors it names and what it
//! issues stay with each simulator.
//!
//! The consent form is stable to automate: the account choice is radio inputs
//! `name="user"` (each with a `<label>`), the buttons are `<button id="approve">Allow</button>`
//! and `<button id="deny">Deny</button>` (`name="decision"`, values `allow` / `deny`), and a
//! hidden `request` field names the waiting request.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::lock;

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An account the user can sign in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Sent as the form's `user` value.
    pub value: String,
    /// The person's name.
    pub name: String,
    /// A second line: username, email, title.
    pub detail: String,
}

/// What a consent page shows.
#[derive(Debug, Clone)]
pub struct ConsentPage<'a> {
    /// `Salesforce sandbox`, `HubSpot sandbox`.
    pub crm: &'a str,
    /// The app asking (its client id).
    pub app: &'a str,
    pub scopes: &'a [String],
    pub accounts: &'a [Account],
    /// The account chosen in advance (a login hint); the first otherwise.
    pub selected: Option<&'a str>,
    /// Where the form is posted.
    pub action: &'a str,
    /// The waiting request's id (hidden field `request`).
    pub request: &'a str,
    /// Shown above the form, e.g. when the previous submission named no account.
    pub problem: Option<&'a str>,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;line-height:1.4}\
fieldset{border:1px solid #ccc;padding:.5rem 1rem}label{display:block;padding:.35rem 0}\
.detail{color:#555;font-size:.9em}button{margin:1rem .5rem 0 0;padding:.45rem 1.4rem}\
#problem{color:#a00}code{background:#f3f3f3;padding:0 .2rem}";

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>\n",
        escape(title)
    )
}

fn html(status: StatusCode, page: String) -> Response {
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    (status, headers, page).into_response()
}

/// The consent page: choose an account, then Allow or Deny.
pub fn page(p: &ConsentPage<'_>) -> Response {
    html(StatusCode::OK, page_html(p))
}

fn page_html(p: &ConsentPage<'_>) -> String {
    let mut body = format!(
        "<h1>{}</h1><p><strong id=\"app\">{}</strong> is asking to access your data. Choose who signs in.</p>",
        escape(p.crm),
        escape(p.app)
    );
    if let Some(problem) = p.problem {
        let _ = write!(body, "<p id=\"problem\" role=\"alert\">{}</p>", escape(problem));
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"request\" value=\"{}\"><fieldset><legend>Sign in as</legend>",
        escape(p.action),
        escape(p.request)
    );
    let selected = p.selected.or(p.accounts.first().map(|a| a.value.as_str()));
    for (i, a) in p.accounts.iter().enumerate() {
        let checked = if Some(a.value.as_str()) == selected { " checked" } else { "" };
        let _ = write!(
            body,
            "<label for=\"user-{i}\"><input type=\"radio\" name=\"user\" id=\"user-{i}\" value=\"{}\"{checked}> {} <span class=\"detail\">{}</span></label>",
            escape(&a.value),
            escape(&a.name),
            escape(&a.detail)
        );
    }
    body.push_str("</fieldset>");
    if !p.scopes.is_empty() {
        body.push_str("<p>It asks for:</p><ul id=\"scopes\">");
        for s in p.scopes {
            let _ = write!(body, "<li><code>{}</code></li>", escape(s));
        }
        body.push_str("</ul>");
    }
    body.push_str(
        "<button type=\"submit\" name=\"decision\" value=\"allow\" id=\"approve\">Allow</button>\
<button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">Deny</button></form>",
    );
    document(&format!("Allow access? | {}", p.crm), &body)
}

/// An error page: the authorization cannot go on and there is nowhere safe to redirect to
/// (unknown app, callback URL not registered). The error code and text are in `#error` and
/// `#error_description`.
pub fn error_page(status: StatusCode, crm: &str, error: &str, description: &str) -> Response {
    let body = format!(
        "<h1>{}</h1><p>We can't authorize you because of an OAuth error.</p>\
<p>error=<code id=\"error\">{}</code></p><p>error_description=<code id=\"error_description\">{}</code></p>",
        escape(crm),
        escape(error),
        escape(description)
    );
    html(status, document(&format!("OAuth error | {crm}"), &body))
}

/// `302 Found` to `uri` with `params` added to its query (a fragment is dropped, as OAuth
/// callbacks have none).
pub fn redirect_with(uri: &str, params: &[(&str, &str)]) -> Response {
    let base = uri.split_once('#').map_or(uri, |(b, _)| b);
    let location = if params.is_empty() {
        base.to_string()
    } else {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}{}", form_encode(params))
    };
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// Back to an app's callback with `params` and, when the request had one, its `state`.
pub fn redirect_back(uri: &str, state: Option<&str>, params: &[(&str, &str)]) -> Response {
    let mut all = params.to_vec();
    if let Some(state) = state {
        all.push(("state", state));
    }
    redirect_with(uri, &all)
}

/// `application/x-www-form-urlencoded` pairs.
fn form_encode(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// The callback URLs an app may be sent back to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Callbacks {
    /// Registered callback URLs, matched exactly.
    pub registered: Vec<String>,
    /// Also any `http://127.0.0.1[:port]/…`, `http://localhost[:port]/…` or `http://[::1][:port]/…`
    /// (tests and local tools on random ports).
    pub loopback: bool,
}

impl Callbacks {
    pub fn allows(&self, uri: &str) -> bool {
        self.registered.iter().any(|r| r == uri) || (self.loopback && is_loopback(uri))
    }
}

/// Whether `uri` is a plain-HTTP URL on the loopback interface, any port.
pub fn is_loopback(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.contains('@') {
        return false;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, tail)) => (h, tail.strip_prefix(':')),
            None => return false,
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    port_ok && (host == "127.0.0.1" || host == "::1" || host.eq_ignore_ascii_case("localhost"))
}

/// Authorization requests waiting for the user's decision, by an opaque id; they lapse.
#[derive(Debug)]
pub struct Pending<T> {
    ttl: Duration,
    waiting: Mutex<HashMap<String, (Instant, T)>>,
}

impl<T: Clone> Pending<T> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            waiting: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps a request and returns its id (lapsed ones are dropped on the way).
    pub fn insert(&self, request: T) -> String {
        let id = uuid::Uuid::now_v7().simple().to_string();
        let mut w = lock(&self.waiting);
        let ttl = self.ttl;
        w.retain(|_, (at, _)| at.elapsed() < ttl);
        w.insert(id.clone(), (Instant::now(), request));
        id
    }

    /// The request, if it is still waiting.
    pub fn get(&self, id: &str) -> Option<T> {
        let w = lock(&self.waiting);
        w.get(id).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, r)| r.clone())
    }

    /// Takes the request out: a decision is made once.
    pub fn take(&self, id: &str) -> Option<T> {
        let (at, r) = lock(&self.waiting).remove(id)?;
        (at.elapsed() < self.ttl).then_some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_registered_or_loopback_callbacks_are_allowed() {
        let c = Callbacks {
            registered: vec!["https://app.example.com/cb".into()],
            loopback: true,
        };
        for ok in [
            "https://app.example.com/cb",
            "http://127.0.0.1:5173/oauth/callback",
            "http://localhost/cb?x=1",
            "http://[::1]:8080/cb",
            "http://127.0.0.1",
        ] {
            assert!(c.allows(ok), "{ok}");
        }
        for bad in [
            "https://app.example.com/cb/other",
            "http://127.0.0.1.evil.example/cb",
            "http://localhost@evil.example/cb",
            "https://localhost/cb",
            "http://localhost:port/cb",
            "javascript:alert(1)",
        ] {
            assert!(!c.allows(bad), "{bad}");
        }
        let strict = Callbacks { loopback: false, ..c };
        assert!(!strict.allows("http://127.0.0.1:5173/oauth/callback"));
    }

    #[test]
    fn redirects_add_parameters_to_the_callbacks_own_query() {
        let r = redirect_with("http://localhost/cb?x=1", &[("code", "a b&c"), ("state", "s/1")]);
        assert_eq!(r.status(), StatusCode::FOUND);
        assert_eq!(r.headers()[header::LOCATION], "http://localhost/cb?x=1&code=a+b%26c&state=s%2F1");
        let r = redirect_with("http://localhost/cb#frag", &[("error", "access_denied")]);
        assert_eq!(r.headers()[header::LOCATION], "http://localhost/cb?error=access_denied");
    }

    #[test]
    fn the_page_escapes_what_it_shows_and_marks_the_choice() {
        let accounts = [
            Account {
                value: "1".into(),
                name: "Ann <b>".into(),
                detail: "ann@example.com".into(),
            },
            Account {
                value: "2".into(),
                name: "Bo".into(),
                detail: String::new(),
            },
        ];
        let scopes = ["api".to_string()];
        let p = ConsentPage {
            crm: "CRM sandbox",
            app: "app\"x",
            scopes: &scopes,
            accounts: &accounts,
            selected: Some("2"),
            action: "/authorize",
            request: "r1",
            problem: None,
        };
        let html = page_html(&p);
        assert!(html.contains("<strong id=\"app\">app&quot;x</strong>"), "{html}");
        assert!(html.contains("Ann &lt;b&gt;"));
        assert!(html.contains("id=\"user-1\" value=\"2\" checked>"));
        assert!(!html.contains("value=\"1\" checked"));
        assert!(html.contains("<button type=\"submit\" name=\"decision\" value=\"allow\" id=\"approve\">Allow</button>"));
        assert!(html.contains("<input type=\"hidden\" name=\"request\" value=\"r1\">"));
        assert_eq!(page(&p).headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
    }

    #[test]
    fn pending_requests_are_taken_once_and_lapse() {
        let p = Pending::new(Duration::from_secs(60));
        let id = p.insert(7);
        assert_eq!(p.get(&id), Some(7));
        assert_eq!(p.take(&id), Some(7));
        assert_eq!(p.take(&id), None);
        let gone = Pending::new(Duration::ZERO);
        let id = gone.insert(1);
        assert_eq!(gone.get(&id), None);
    }
}
