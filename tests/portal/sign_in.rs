//! Signing in to the customer portal with an invitation link, sessions and signing out,
//! over HTTP against the running app, on SQLite or PostgreSQL (HANDOFF_TEST_DATABASE_URL).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::portal_support;

use chrono::{Duration, Utc};
use handoff::domain::people::{Actor, ProjectRole};
use handoff::domain::{Email, ProjectId};
use handoff::engine::invitations::InvitationRevocation;
use handoff::engine::invite::token_hash;
use handoff::store::LinkProblem;
use portal_support::{Portal, Setup, spawn_portal, spawn_portal_with};

const DANA: &str = "dana@acme.example";

async fn acme(portal: &mut Portal) -> ProjectId {
    let id = portal
        .project(Setup::active("Acme onboarding", "Acme", &[(DANA, ProjectRole::CustomerAdmin)]))
        .await;
    assert_eq!(portal.deliver().await, 1);
    id
}

fn token_of(link: &str) -> &str {
    link.trim_start_matches("/invite/")
}

#[tokio::test]
async fn opening_the_link_does_not_use_it_and_its_button_signs_in_to_the_project() {
    let mut portal = spawn_portal().await;
    let project = acme(&mut portal).await;
    let link = portal.link(DANA);
    let mut browser = portal.browser();

    // What a mail scanner does: GET and HEAD, any number of times.
    for _ in 0..2 {
        let page = browser.get(&link).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Sign in to Acme onboarding"), "{}", page.body);
        assert!(
            page.body.contains(&format!(r#"<form method="post" action="{link}">"#)),
            "{}",
            page.body
        );
        assert!(page.set_cookies().is_empty(), "no session before the button");
        assert_eq!(browser.head(&link).await.status, 200);
    }
    let hash = token_hash(token_of(&link));
    assert!(
        portal.app.store().check_invitation(&hash, Utc::now()).await.unwrap().is_ok(),
        "still unused"
    );

    let landed = browser.post(&link, &[]).await;
    assert_eq!(landed.status, 303);
    assert_eq!(landed.location(), format!("/projects/{project}"));
    assert!(browser.session().is_some());
    let page = browser.get(&format!("/projects/{project}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Acme onboarding"));
    assert!(page.body.contains("Signed in as dana"), "{}", page.body);
    let activity = portal.app.store().project_activity(project).await.unwrap();
    assert!(
        activity
            .iter()
            .any(|a| a.entry.action == "portal.signed_in" && a.entry.source == "portal")
    );
}

#[tokio::test]
async fn the_session_cookie_is_http_only_lax_for_the_whole_site_and_not_the_token() {
    let mut portal = spawn_portal().await;
    acme(&mut portal).await;
    let link = portal.link(DANA);
    let mut browser = portal.browser();
    let landed = browser.post(&link, &[]).await;
    let cookies = landed.set_cookies();
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let cookie = &cookies[0];
    assert!(cookie.starts_with("handoff_session="), "{cookie}");
    for attribute in ["; Path=/", "; HttpOnly", "; SameSite=Lax", "; Max-Age=1209600"] {
        assert!(cookie.contains(attribute), "{attribute} missing in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http base URL: {cookie}");
    let id = browser.session().unwrap();
    assert_ne!(id, token_of(&link), "a new id, not the invitation token");
    let stored: i64 = portal.count("SELECT COUNT(*) FROM portal_sessions").await;
    assert_eq!(stored, 1);
    let user = portal.user_id(DANA).await;
    assert_eq!(portal.app.store().session_count(user).await.unwrap(), 1);
    assert!(
        portal
            .app
            .store()
            .live_session(id, Utc::now(), Duration::hours(1))
            .await
            .unwrap()
            .is_none(),
        "only the hash is stored"
    );
}

#[tokio::test]
async fn with_an_https_base_url_the_cookie_is_secure_and_host_prefixed() {
    let mut portal = spawn_portal_with(|c| c.server.base_url = "https://onboard.example.com".parse().unwrap()).await;
    portal
        .project(Setup::active("Acme onboarding", "Acme", &[(DANA, ProjectRole::CustomerAdmin)]))
        .await;
    portal.deliver().await;
    let mut browser = portal.browser();
    let landed = browser.post(&portal.link(DANA), &[]).await;
    assert_eq!(landed.status, 303, "{}", landed.body);
    let cookie = &landed.set_cookies()[0];
    assert!(cookie.starts_with("__Host-handoff_session="), "{cookie}");
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn a_used_link_is_refused_and_offers_a_fresh_one() {
    let mut portal = spawn_portal().await;
    acme(&mut portal).await;
    let link = portal.link(DANA);
    assert_eq!(portal.browser().post(&link, &[]).await.status, 303);

    let mut other = portal.browser();
    for page in [other.get(&link).await, other.post(&link, &[]).await] {
        assert_eq!(page.status, 410, "{}", page.body);
        assert!(page.body.contains("already used"), "{}", page.body);
        assert!(page.body.contains(r#"action="/sign-in/link""#), "{}", page.body);
    }
    assert!(other.session().is_none());
}

#[tokio::test]
async fn an_expired_link_is_refused() {
    let mut portal = spawn_portal().await;
    acme(&mut portal).await;
    portal
        .exec("UPDATE invitations SET expires_at = $1", Utc::now() - Duration::minutes(1), None)
        .await;
    let mut browser = portal.browser();
    let page = browser.post(&portal.link(DANA), &[]).await;
    assert_eq!(page.status, 410);
    assert!(page.body.contains("expired"), "{}", page.body);
    assert!(browser.session().is_none());
    assert_eq!(portal.count("SELECT COUNT(*) FROM portal_sessions").await, 0);
}

#[tokio::test]
async fn a_revoked_link_is_refused_and_revoking_twice_changes_nothing() {
    let mut portal = spawn_portal().await;
    let project = acme(&mut portal).await;
    let invitation = portal.app.store().project_invitations(project).await.unwrap()[0].id;
    let state = &portal.app.state;
    let first = state.engine.revoke_invitation(invitation, Actor::System, "cli").await.unwrap();
    assert!(matches!(first, InvitationRevocation::Revoked { .. }), "{first:?}");
    let again = state.engine.revoke_invitation(invitation, Actor::System, "cli").await.unwrap();
    assert!(matches!(again, InvitationRevocation::AlreadyRevoked { .. }), "{again:?}");

    let page = portal.browser().post(&portal.link(DANA), &[]).await;
    assert_eq!(page.status, 410);
    assert!(page.body.contains("withdrawn"), "{}", page.body);
    let hash = token_hash(token_of(&portal.link(DANA)));
    assert_eq!(
        portal.app.store().check_invitation(&hash, Utc::now()).await.unwrap(),
        Err(LinkProblem::Revoked)
    );
}

#[tokio::test]
async fn staff_can_regenerate_a_link_which_retires_the_old_one() {
    let mut portal = spawn_portal().await;
    let project = acme(&mut portal).await;
    let old = portal.link(DANA);
    let email = Email::parse(DANA).unwrap();
    portal
        .app
        .state
        .engine
        .resend_invitation(project, &email, Actor::System, "cli")
        .await
        .unwrap();
    assert_eq!(portal.deliver().await, 1, "the new link is emailed through the outbox");
    let new = portal.link(DANA);
    assert_ne!(old, new);
    assert_eq!(portal.browser().post(&old, &[]).await.status, 410);
    assert_eq!(portal.browser().post(&new, &[]).await.status, 303);
}

#[tokio::test]
async fn a_fresh_link_request_answers_the_same_for_known_and_unknown_addresses() {
    let mut portal = spawn_portal().await;
    let project = acme(&mut portal).await;
    let mut browser = portal.browser();
    let known = browser.post("/sign-in/link", &[("email", DANA), ("next", "")]).await;
    let unknown = browser
        .post("/sign-in/link", &[("email", "nobody@acme.example"), ("next", "")])
        .await;
    assert_eq!(known.status, 200);
    assert_eq!(unknown.status, known.status);
    assert_eq!(unknown.body.replace("nobody@acme.example", DANA), known.body, "the same page");
    assert!(known.body.contains("Check your email"), "{}", known.body);

    assert_eq!(portal.deliver().await, 1, "only the known address gets an email");
    let fresh = portal.link(DANA);
    let landed = portal.browser().post(&fresh, &[]).await;
    assert_eq!(landed.location(), format!("/projects/{project}"));
}

#[tokio::test]
async fn fresh_link_requests_are_rate_limited_per_address_without_saying_so() {
    let mut portal = spawn_portal().await;
    acme(&mut portal).await;
    let mut browser = portal.browser();
    let mut pages = Vec::new();
    for _ in 0..5 {
        pages.push(browser.post("/sign-in/link", &[("email", "DANA@acme.example")]).await);
    }
    assert!(pages.iter().all(|p| p.status == 200 && p.body == pages[0].body));
    assert_eq!(portal.deliver().await, 3, "the default limit is 3 an hour");
    // Another address has its own allowance.
    browser.post("/sign-in/link", &[("email", "nobody@acme.example")]).await;
    assert_eq!(portal.count("SELECT COUNT(*) FROM portal_link_requests").await, 4);
}

#[tokio::test]
async fn a_malformed_address_is_asked_again_and_changes_nothing() {
    let portal = spawn_portal().await;
    let page = portal.browser().post("/sign-in/link", &[("email", "not an address")]).await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("valid email address"));
    assert_eq!(portal.count("SELECT COUNT(*) FROM portal_link_requests").await, 0);
}

#[tokio::test]
async fn a_signed_out_visitor_to_a_project_link_signs_in_and_lands_back_on_it() {
    let mut portal = spawn_portal().await;
    // Dana belongs to two projects; the link she follows is for the older one.
    let first = acme(&mut portal).await;
    let second = portal
        .project(Setup::active("Acme phase two", "Acme", &[(DANA, ProjectRole::CustomerMember)]))
        .await;
    portal.deliver().await;
    let _ = first;

    let mut browser = portal.browser();
    let target = format!("/projects/{second}?filter=mine");
    let page = browser.get(&target).await;
    assert_eq!(page.status, 303);
    let help = page.location().to_owned();
    assert_eq!(help, format!("/sign-in?next=%2Fprojects%2F{second}%3Ffilter%3Dmine"));
    let help = browser.get(&help).await;
    assert_eq!(help.status, 200);
    assert!(help.body.contains(&format!(r#"name="next" value="{target}""#)), "{}", help.body);

    browser.post("/sign-in/link", &[("email", DANA), ("next", &target)]).await;
    assert_eq!(portal.deliver().await, 1);
    let landed = browser.post(&portal.link(DANA), &[]).await;
    assert_eq!(landed.location(), format!("/projects/{second}"), "back in the project asked for");
    assert_eq!(browser.get(&target).await.status, 200);
}

#[tokio::test]
async fn a_tampered_cookie_is_signed_out_and_forgotten() {
    let mut portal = spawn_portal().await;
    let project = acme(&mut portal).await;
    let mut browser = portal.signed_in(DANA).await;
    let id = browser.session().unwrap().clone();
    let flipped = if id.ends_with('A') { "B" } else { "A" };
    browser
        .cookies
        .insert("handoff_session".into(), format!("{}{flipped}", &id[..id.len() - 1]));
    let page = browser.get(&format!("/projects/{project}")).await;
    assert_eq!(page.status, 303);
    assert!(page.location().starts_with("/sign-in?next="), "{}", page.location());
    assert!(
        page.set_cookies()
            .iter()
            .any(|c| c.starts_with("handoff_session=;") && c.contains("Max-Age=0"))
    );
    assert!(browser.session().is_none());

    browser.cookies.insert("handoff_session".into(), "garbage".into());
    assert_eq!(browser.get("/projects").await.status, 303);
}

#[tokio::test]
async fn an_idle_session_ends() {
    let mut portal = spawn_portal().await;
    let project = acme(&mut portal).await;
    let mut browser = portal.signed_in(DANA).await;
    assert_eq!(browser.get(&format!("/projects/{project}")).await.status, 200);
    // Default idle timeout: 12 hours.
    portal
        .exec(
            "UPDATE portal_sessions SET last_seen_at = $1",
            Utc::now() - Duration::hours(13),
            None,
        )
        .await;
    let page = browser.get(&format!("/projects/{project}")).await;
    assert_eq!(page.status, 303);
    assert_eq!(portal.count("SELECT COUNT(*) FROM portal_sessions").await, 0, "deleted");
}

#[tokio::test]
async fn a_busy_session_still_ends_at_its_absolute_timeout() {
    let mut portal = spawn_portal().await;
    let project = acme(&mut portal).await;
    let mut browser = portal.signed_in(DANA).await;
    portal
        .exec(
            "UPDATE portal_sessions SET expires_at = $1",
            Utc::now() - Duration::seconds(1),
            None,
        )
        .await;
    assert_eq!(browser.get(&format!("/projects/{project}")).await.status, 303);
}

#[tokio::test]
async fn a_session_used_within_the_idle_timeout_lives_on() {
    let mut portal = spawn_portal().await;
    let project = acme(&mut portal).await;
    let mut browser = portal.signed_in(DANA).await;
    portal
        .exec(
            "UPDATE portal_sessions SET last_seen_at = $1",
            Utc::now() - Duration::hours(11),
            None,
        )
        .await;
    assert_eq!(browser.get(&format!("/projects/{project}")).await.status, 200);
    // Seeing it moved last_seen_at forward: another 11 hours later it is still alive.
    let seen: i64 = portal
        .count("SELECT COUNT(*) FROM portal_sessions WHERE last_seen_at > created_at")
        .await;
    assert_eq!(seen, 1);
}

#[tokio::test]
async fn signing_out_needs_the_form_token_and_ends_the_session() {
    let mut portal = spawn_portal().await;
    let project = acme(&mut portal).await;
    let mut browser = portal.signed_in(DANA).await;
    let page = browser.get(&format!("/projects/{project}")).await;
    let token = page.csrf();

    for form in [vec![], vec![("csrf", "wrong")]] {
        let refused = browser.post("/sign-out", &form).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(
            refused.body.contains("nothing was changed"),
            "rendered in the layout: {}",
            refused.body
        );
        assert_eq!(browser.get(&format!("/projects/{project}")).await.status, 200, "still signed in");
    }
    let out = browser.post("/sign-out", &[("csrf", &token)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location(), "/sign-in");
    assert!(browser.session().is_none(), "the cookie is cleared");
    assert_eq!(portal.count("SELECT COUNT(*) FROM portal_sessions").await, 0);
}

#[tokio::test]
async fn a_new_sign_in_replaces_the_session_the_browser_had() {
    let mut portal = spawn_portal().await;
    let project = acme(&mut portal).await;
    let mut browser = portal.signed_in(DANA).await;
    let before = browser.session().unwrap().clone();
    let email = Email::parse(DANA).unwrap();
    portal
        .app
        .state
        .engine
        .resend_invitation(project, &email, Actor::System, "cli")
        .await
        .unwrap();
    portal.deliver().await;
    browser.post(&portal.link(DANA), &[]).await;
    let after = browser.session().unwrap().clone();
    assert_ne!(before, after, "a new session id at sign-in");
    let user = portal.user_id(DANA).await;
    assert_eq!(portal.app.store().session_count(user).await.unwrap(), 1, "the old session ended");
}

#[tokio::test]
async fn a_cross_site_post_is_refused() {
    let mut portal = spawn_portal().await;
    acme(&mut portal).await;
    let link = portal.link(DANA);
    let response = common::http_client()
        .post(format!("{}{link}", portal.base()))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        portal.count("SELECT COUNT(*) FROM portal_sessions").await,
        0,
        "the link is not used"
    );
}

#[tokio::test]
async fn pages_carry_security_headers_and_the_stylesheet_is_cached() {
    let portal = spawn_portal().await;
    let mut browser = portal.browser();
    let page = browser.get("/sign-in").await;
    assert_eq!(page.status, 200);
    let csp = page.headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers.get("cache-control").unwrap(), "no-store");
    assert!(page.body.contains(r##"<a class="skip-link" href="#main">"##));
    assert!(page.body.contains(r#"<main id="main""#));
    assert!(page.body.contains(r#"<label for="email">"#));
    let css_at = page.body.find("/static/portal.css?v=").unwrap();
    let css_url: String = page.body[css_at..].chars().take_while(|c| *c != '"').collect();
    let css = browser.get(&css_url).await;
    assert_eq!(css.status, 200);
    assert!(css.headers.get("cache-control").unwrap().to_str().unwrap().contains("immutable"));
    assert!(css.headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/css"));
    let brand = browser.get("/static/brand.css?v=1d4ed8").await;
    assert!(brand.body.contains("--accent: #1d4ed8"), "{}", brand.body);

    let missing = browser.get("/no/such/page").await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.body.contains("Page not found") && missing.body.contains("skip-link"),
        "{}",
        missing.body
    );
}

#[tokio::test]
async fn branding_comes_from_the_configuration() {
    let portal = spawn_portal_with(|c| {
        c.branding.product_name = "Acme Launchpad".into();
        c.branding.logo_url = Some("https://cdn.example.com/logo.png".into());
        c.branding.accent_color = "#fde047".into();
    })
    .await;
    let mut browser = portal.browser();
    let page = browser.get("/sign-in").await;
    assert!(page.body.contains("Acme Launchpad"), "{}", page.body);
    assert!(page.body.contains(r#"<img src="https://cdn.example.com/logo.png""#));
    let brand = browser.get("/static/brand.css?v=fde047").await;
    assert!(
        brand.body.contains("--on-accent: #111827"),
        "dark text on a light accent: {}",
        brand.body
    );
}

#[tokio::test]
async fn staff_revoke_and_resend_links_through_the_json_api() {
    use handoff::domain::api_token::{ApiTokenName, NewApiToken};
    use secrecy::ExposeSecret;

    let mut portal = spawn_portal().await;
    let project = acme(&mut portal).await;
    let old = portal.link(DANA);
    let new = NewApiToken::generate().unwrap();
    portal
        .app
        .store()
        .create_api_token(&ApiTokenName::parse("console").unwrap(), &new)
        .await
        .unwrap();
    let token = new.token.expose_secret().to_owned();
    let client = common::http_client();
    let url = format!("{}/api/v1/projects/{project}/invitations", portal.base());

    let anonymous = client.post(&url).json(&serde_json::json!({ "email": DANA })).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let unknown = client
        .post(&url)
        .bearer_auth(&token)
        .json(&serde_json::json!({ "email": "nobody@acme.example" }))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let resent = client
        .post(&url)
        .bearer_auth(&token)
        .json(&serde_json::json!({ "email": DANA }))
        .send()
        .await
        .unwrap();
    assert_eq!(resent.status(), 201);
    let resent: serde_json::Value = resent.json().await.unwrap();
    let id = resent["invitation_id"].as_str().unwrap().to_owned();
    assert_eq!(portal.deliver().await, 1);
    assert_eq!(portal.browser().get(&old).await.status, 410, "the old link is retired");

    let listed: serde_json::Value = client.get(&url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[0]["id"], id.as_str(), "newest first");
    assert!(!listed.to_string().contains(token_of(&portal.link(DANA))), "never a token");

    let revoke = format!("{}/api/v1/invitations/{id}/revoke", portal.base());
    let revoked: serde_json::Value = client.post(&revoke).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(revoked["outcome"], "revoked");
    assert_eq!(portal.browser().post(&portal.link(DANA), &[]).await.status, 410);
    let activity = portal.app.store().project_activity(project).await.unwrap();
    assert!(
        activity
            .iter()
            .any(|a| a.entry.action == "invitation.revoked" && a.entry.source == "api:console")
    );
}

#[tokio::test]
async fn staff_revoke_and_resend_links_from_the_command_line() {
    let mut portal = spawn_portal().await;
    let project = acme(&mut portal).await;
    let db_url = portal.app.db.url().to_owned();
    let handoff = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_handoff"))
            .args(args)
            .env("HANDOFF_DATABASE_URL", &db_url)
            .env("HANDOFF_MASTER_KEY", "dGVzdC1vbmx5LW1hc3Rlci1rZXktMzItYnl0ZXMhISE=")
            .env("HANDOFF_WORKFLOWS_DIR", common::repo_path("workflows"))
            .env("HANDOFF_LOG", "warn")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let project_arg = project.to_string();
    let id = handoff(&["invitations", "resend", &project_arg, "Dana@Acme.example"])
        .trim()
        .to_owned();
    let listed = handoff(&["invitations", "list", &project_arg]);
    assert!(listed.contains(&id) && listed.contains(DANA), "{listed}");
    assert_eq!(portal.deliver().await, 1);
    let revoked = handoff(&["invitations", "revoke", &id]);
    assert!(revoked.starts_with("revoked the invitation of dana@acme.example"), "{revoked}");
    assert_eq!(portal.browser().post(&portal.link(DANA), &[]).await.status, 410);
}
