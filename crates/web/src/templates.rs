//! Every page's Tera template (templates/web/, built into the binary) in one registry,
//! the portal's and the console's, with the HTML escaping they all use, and the
//! stylesheets and script the pages link to.

use std::sync::LazyLock;

/// Names end in `.html`, so Tera escapes every value in them (autoescape by suffix).
static TEMPLATES: LazyLock<Result<tera::Tera, String>> = LazyLock::new(|| {
    let mut tera = tera::Tera::new();
    tera.add_raw_templates([
        ("layout.html", include_str!("../../../templates/web/layout.html")),
        ("error.html", include_str!("../../../templates/web/error.html")),
        ("sign_in.html", include_str!("../../../templates/web/sign_in.html")),
        ("link_sent.html", include_str!("../../../templates/web/link_sent.html")),
        ("invite.html", include_str!("../../../templates/web/invite.html")),
        ("projects.html", include_str!("../../../templates/web/projects.html")),
        ("project.html", include_str!("../../../templates/web/project.html")),
        ("_task_row.html", include_str!("../../../templates/web/_task_row.html")),
        ("task.html", include_str!("../../../templates/web/task.html")),
        ("team.html", include_str!("../../../templates/web/team.html")),
        ("_person.html", include_str!("../../../templates/web/_person.html")),
        ("profile.html", include_str!("../../../templates/web/profile.html")),
        ("console/layout.html", include_str!("../../../templates/web/console/layout.html")),
        ("console/error.html", include_str!("../../../templates/web/console/error.html")),
        ("console/sign_in.html", include_str!("../../../templates/web/console/sign_in.html")),
        ("console/link.html", include_str!("../../../templates/web/console/link.html")),
        (
            "console/no_account.html",
            include_str!("../../../templates/web/console/no_account.html"),
        ),
        (
            "console/dashboard.html",
            include_str!("../../../templates/web/console/dashboard.html"),
        ),
        (
            "console/project_tabs.html",
            include_str!("../../../templates/web/console/project_tabs.html"),
        ),
        // Dashboard, projects list, project overview (#13).
        (
            "console/_project_rows.html",
            include_str!("../../../templates/web/console/_project_rows.html"),
        ),
        (
            "console/projects.html",
            include_str!("../../../templates/web/console/projects.html"),
        ),
        (
            "console/overview.html",
            include_str!("../../../templates/web/console/overview.html"),
        ),
        // Members and Emails tabs (issue #13).
        ("console/members.html", include_str!("../../../templates/web/console/members.html")),
        ("console/emails.html", include_str!("../../../templates/web/console/emails.html")),
        // The Tasks tab.
        ("console/tasks.html", include_str!("../../../templates/web/console/tasks.html")),
        (
            "console/_task_phases.html",
            include_str!("../../../templates/web/console/_task_phases.html"),
        ),
        ("console/task.html", include_str!("../../../templates/web/console/task.html")),
        // Documents and activity (#13).
        (
            "console/documents.html",
            include_str!("../../../templates/web/console/documents.html"),
        ),
        (
            "console/activity.html",
            include_str!("../../../templates/web/console/activity.html"),
        ),
        // Administration (#14).
        ("console/trace.html", include_str!("../../../templates/web/console/trace.html")),
        (
            "console/connections.html",
            include_str!("../../../templates/web/console/connections.html"),
        ),
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
pub(crate) const CSS: &str = include_str!("../../../templates/web/portal.css");
pub(crate) static CSS_VERSION: LazyLock<String> = LazyLock::new(|| handoff_engine::invite::token_hash(CSS)[..12].to_owned());

/// The registry, or why it could not be built.
pub(crate) fn tera() -> Result<&'static tera::Tera, String> {
    TEMPLATES.as_ref().map_err(Clone::clone)
}

/// The console's additions to the stylesheet, and its one script (progressive: every
/// console page works without it).
pub(crate) const CONSOLE_CSS: &str = include_str!("../../../templates/web/console/console.css");
pub(crate) const CONSOLE_JS: &str = include_str!("../../../templates/web/console/console.js");
pub(crate) static CONSOLE_VERSION: LazyLock<String> =
    LazyLock::new(|| handoff_engine::invite::token_hash(&format!("{CONSOLE_CSS}{CONSOLE_JS}"))[..12].to_owned());

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
}
