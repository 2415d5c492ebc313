//! The portal's Tera pages (templates/web/, built into the binary) and the frame every
//! page shares: branding, the signed-in person, the form token.

use std::sync::LazyLock;

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use axum::extract::{Request, State};
use axum::middleware::Next;

use super::session::Customer;
use crate::WebState;
use crate::page_error::{ErrorPage, PageError};

/// Names end in `.html`, so Tera escapes every value in them (autoescape by suffix).
static TEMPLATES: LazyLock<Result<tera::Tera, String>> = LazyLock::new(|| {
    let mut tera = tera::Tera::new();
    tera.add_raw_templates([
        ("layout.html", include_str!("../../../../templates/web/layout.html")),
        ("error.html", include_str!("../../../../templates/web/error.html")),
        ("sign_in.html", include_str!("../../../../templates/web/sign_in.html")),
        ("link_sent.html", include_str!("../../../../templates/web/link_sent.html")),
        ("invite.html", include_str!("../../../../templates/web/invite.html")),
        ("projects.html", include_str!("../../../../templates/web/projects.html")),
        ("project.html", include_str!("../../../../templates/web/project.html")),
        ("_task_row.html", include_str!("../../../../templates/web/_task_row.html")),
        ("task.html", include_str!("../../../../templates/web/task.html")),
        ("team.html", include_str!("../../../../templates/web/team.html")),
        ("_person.html", include_str!("../../../../templates/web/_person.html")),
        ("profile.html", include_str!("../../../../templates/web/profile.html")),
    ])
    .map_err(|e| e.to_string())?;
    tera.set_escape_fn(escape_html);
    Ok(tera)
});

/// HTML escaping for every value the templates print. Tera's own writes byte by byte
/// through `dyn Write`, which was a tenth of a project page's cost; this writes each
/// run of ordinary bytes at once. Same five characters, same entities.
fn escape_html(input: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let bytes = input.as_bytes();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        let entity: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' => b"&quot;",
            b'\'' => b"&#39;",
            _ => continue,
        };
        out.write_all(&bytes[start..i])?;
        out.write_all(entity)?;
        start = i + 1;
    }
    out.write_all(&bytes[start..])
}

/// The stylesheet, and a short hash of it for its URL: the file is cached for a year
/// and a new build changes the URL.
pub(super) const CSS: &str = include_str!("../../../../templates/web/portal.css");
pub(super) static CSS_VERSION: LazyLock<String> = LazyLock::new(|| handoff_engine::invite::token_hash(CSS)[..12].to_owned());

/// What the layout shows around every page.
#[derive(Serialize)]
struct Site<'a> {
    title: &'a str,
    product_name: &'a str,
    logo_url: Option<&'a str>,
    css_url: String,
    brand_css_url: String,
    me: Option<Me>,
    /// The signed-in person's id, for lists built once for every visitor ("Assigned to
    /// you" is decided in the template).
    me_id: Option<String>,
    /// The signed-in person's form token, for the forms in the layout and the page.
    csrf: Option<String>,
}

#[derive(Serialize)]
struct Me {
    name: String,
    email: String,
}

/// Renders `template` with `body`'s fields at the top level and the frame as `site`.
/// Pages are personal: they are never stored by caches.
pub fn render(state: &WebState, template: &str, title: &str, who: Option<&Customer>, body: &impl Serialize) -> Result<Response, PageError> {
    render_with(state, template, title, who, body, [])
}

/// [`render`] with values already built for Tera (kept and shared between requests,
/// so they are not converted again), each at the top level under its name.
pub fn render_with<const N: usize>(
    state: &WebState,
    template: &str,
    title: &str,
    who: Option<&Customer>,
    body: &impl Serialize,
    built: [(&'static str, tera::Value); N],
) -> Result<Response, PageError> {
    let branding = &state.config.branding;
    let site = Site {
        title,
        product_name: &branding.product_name,
        logo_url: branding.logo_url.as_deref(),
        css_url: format!("/static/portal.css?v={}", *CSS_VERSION),
        brand_css_url: format!("/static/brand.css?v={}", branding.accent_color.trim_start_matches('#')),
        me: who.map(|c| Me {
            name: c.user.display_name(),
            email: c.user.email.to_string(),
        }),
        me_id: who.map(|c| c.user.id.to_string()),
        csrf: who.map(Customer::csrf_token),
    };
    let fail = |e: String| PageError::Internal(anyhow::anyhow!("rendering {template}: {e}"));
    let tera = TEMPLATES.as_ref().map_err(|e| fail(e.clone()))?;
    let mut context = tera::Context::from_serialize(body).map_err(|e| fail(e.to_string()))?;
    context.insert("site", &site);
    for (name, value) in built {
        context.insert_value(name, value);
    }
    let html = tera.render(template, &context).map_err(|e| fail(format!("{e:?}")))?;
    let mut response = Html(html).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `value` as Tera holds it, to keep and pass to [`render_with`].
pub fn to_value(value: &impl Serialize) -> Result<tera::Value, PageError> {
    tera::Value::try_from_serializable(value).map_err(|e| PageError::Internal(anyhow::anyhow!("preparing a page: {e}")))
}

/// The accent colour as CSS variables, with the text colour on it chosen for contrast.
pub(super) fn brand_css(accent: &str) -> String {
    format!(":root {{ --accent: {accent}; --on-accent: {}; }}\n", on_color(accent))
}

/// Black or white, whichever contrasts more with `#rrggbb` (WCAG relative luminance).
fn on_color(hex: &str) -> &'static str {
    let channel = |i: usize| {
        let v = hex.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).unwrap_or(0);
        let c = f64::from(v) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    // Contrast with white is 1.05 / (L + 0.05); with black (L + 0.05) / 0.05.
    if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 {
        "#ffffff"
    } else {
        "#111827"
    }
}

/// Paragraphs separated by blank lines, each rendered as its own escaped `<p>`.
pub(super) fn paragraphs(text: &str) -> Vec<String> {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

/// The layer that renders [`ErrorPage`]s in the layout (it has the state, which the
/// error does not). A page that cannot be rendered keeps its plain-text body.
pub(super) async fn render_error_pages(State(state): State<WebState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let Some(page) = response.extensions().get::<ErrorPage>().cloned() else {
        return response;
    };
    match render(&state, "error.html", page.heading, None, &page) {
        Ok(mut rendered) => {
            *rendered.status_mut() = response.status();
            rendered
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot render an error page");
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_compile() {
        assert!(TEMPLATES.is_ok(), "{:?}", TEMPLATES.as_ref().err());
    }

    #[test]
    fn values_are_escaped_for_html() {
        let escape = |s: &str| {
            let mut out = Vec::new();
            escape_html(s, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("Zoë — ok"), "Zoë — ok");
        assert_eq!(escape("&"), "&amp;");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn text_on_the_accent_keeps_its_contrast() {
        assert_eq!(on_color("#1d4ed8"), "#ffffff");
        assert_eq!(on_color("#fde047"), "#111827");
        assert_eq!(on_color("#ffffff"), "#111827");
        assert_eq!(on_color("#000000"), "#ffffff");
    }
}
