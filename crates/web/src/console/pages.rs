//! The console's frame: branding, the signed-in staff member, the navigation, the form
//! token; and the layer that renders error pages in it.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use super::session::Staff;
use crate::WebState;
use crate::page_error::{ErrorPage, PageError};
use crate::templates::{CONSOLE_VERSION, CSS_VERSION};

/// The console's sections, as the navigation lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Dashboard,
    Projects,
    Documents,
    Activity,
    /// Administration: admins only.
    Connections,
    Admin,
    /// Sign-in and other pages outside the navigation.
    None,
}

impl Section {
    /// Whether only admins see it in the navigation.
    fn admin_only(self) -> bool {
        matches!(self, Section::Connections | Section::Admin)
    }
}

const NAV: &[(Section, &str, &str)] = &[
    (Section::Dashboard, "/console", "Dashboard"),
    (Section::Projects, "/console/projects", "Projects"),
    (Section::Documents, "/console/documents", "Documents"),
    (Section::Activity, "/console/activity", "Activity"),
    (Section::Connections, "/console/admin/connections", "Connections"),
    (Section::Admin, "/console/admin/trace", "Trace"),
];

#[derive(Serialize)]
struct Site<'a> {
    title: &'a str,
    product_name: &'a str,
    logo_url: Option<&'a str>,
    css_url: String,
    brand_css_url: String,
    console_css_url: String,
    console_js_url: String,
    me: Option<Me>,
    nav: Vec<NavItem>,
    csrf: Option<String>,
}

#[derive(Serialize)]
struct Me {
    id: String,
    name: String,
    role: &'static str,
}

#[derive(Serialize)]
struct NavItem {
    href: &'static str,
    label: &'static str,
    current: bool,
}

/// Renders `template` with `body`'s fields at the top level and the frame as `site`.
/// Pages are personal: caches never store them.
pub fn render(
    state: &WebState,
    template: &str,
    title: &str,
    who: Option<&Staff>,
    section: Section,
    body: &impl Serialize,
) -> Result<Response, PageError> {
    let branding = &state.config.branding;
    let nav = match who {
        // The admin pages are listed for admins only.
        Some(me) => NAV
            .iter()
            .filter(|(s, _, _)| !s.admin_only() || me.is_admin())
            .map(|(s, href, label)| NavItem {
                href,
                label,
                current: *s == section,
            })
            .collect(),
        None => Vec::new(),
    };
    let site = Site {
        title,
        product_name: &branding.product_name,
        logo_url: branding.logo_url.as_deref(),
        css_url: format!("/static/portal.css?v={}", *CSS_VERSION),
        brand_css_url: format!("/static/brand.css?v={}", branding.accent_color.trim_start_matches('#')),
        console_css_url: format!("/console/static/console.css?v={}", *CONSOLE_VERSION),
        console_js_url: format!("/console/static/console.js?v={}", *CONSOLE_VERSION),
        me: who.map(|s| Me {
            id: s.id().to_string(),
            name: s.account.user.display_name(),
            role: s.account.role.as_str(),
        }),
        nav,
        csrf: who.map(Staff::csrf_token),
    };
    let fail = |e: String| PageError::Internal(anyhow::anyhow!("rendering {template}: {e}"));
    let tera = crate::templates::tera().map_err(fail)?;
    let mut context = tera::Context::from_serialize(body).map_err(|e| fail(e.to_string()))?;
    context.insert("site", &site);
    let html = tera.render(template, &context).map_err(|e| fail(format!("{e:?}")))?;
    let mut response = Html(html).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// A part of a page (a template that extends no layout) rendered to HTML on its own,
/// for a page to keep and insert (console/task_list.rs).
pub(super) fn render_fragment(template: &str, body: &impl Serialize) -> Result<String, PageError> {
    let fail = |e: String| PageError::Internal(anyhow::anyhow!("rendering {template}: {e}"));
    let tera = crate::templates::tera().map_err(fail)?;
    let context = tera::Context::from_serialize(body).map_err(|e| fail(e.to_string()))?;
    tera.render(template, &context).map_err(|e| fail(format!("{e:?}")))
}

/// The layer that renders [`ErrorPage`]s in the console's layout (without the
/// navigation: the layer runs outside the handler that knew who was signed in). A page
/// that cannot be rendered keeps its plain-text body.
pub(super) async fn render_error_pages(State(state): State<WebState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let Some(page) = response.extensions().get::<ErrorPage>().cloned() else {
        return response;
    };
    match render(&state, "console/error.html", page.heading, None, Section::None, &page) {
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
