//! The portal's Tera pages (templates/web/, built into the binary) and the frame every
//! page shares: branding, the signed-in person, the form token.

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use axum::extract::{Request, State};
use axum::middleware::Next;

use super::session::Customer;
use crate::WebState;
use crate::page_error::{ErrorPage, PageError};

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
        css_url: format!("/static/portal.css?v={}", *crate::templates::CSS_VERSION),
        brand_css_url: format!("/static/brand.css?v={}", branding.accent_color.trim_start_matches('#')),
        me: who.map(|c| Me {
            name: c.user.display_name(),
            email: c.user.email.to_string(),
        }),
        me_id: who.map(|c| c.user.id.to_string()),
        csrf: who.map(Customer::csrf_token),
    };
    let fail = |e: String| PageError::Internal(anyhow::anyhow!("rendering {template}: {e}"));
    let tera = crate::templates::tera().map_err(fail)?;
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
    fn text_on_the_accent_keeps_its_contrast() {
        assert_eq!(on_color("#1d4ed8"), "#ffffff");
        assert_eq!(on_color("#fde047"), "#111827");
        assert_eq!(on_color("#ffffff"), "#111827");
        assert_eq!(on_color("#000000"), "#ffffff");
    }
}
