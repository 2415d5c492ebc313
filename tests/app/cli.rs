//! The `handoff` binary as a user runs it: exit statuses, messages, and that bad input
//! changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use common::TestDb;

/// Runs handoff in `cwd` with only the given HANDOFF_* variables set.
fn handoff(cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_handoff"));
    cmd.current_dir(cwd).args(args);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("HANDOFF_")) {
        cmd.env_remove(k);
    }
    cmd.env("HANDOFF_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const CYCLE: &str = r#"
name = "Loops"
[[phases]]
key = "one"
name = "One"
[[phases.tasks]]
key = "a"
title = "A"
type = "todo"
depends_on = ["b"]
[[phases.tasks]]
key = "b"
title = "B"
type = "todo"
depends_on = ["a"]
"#;

#[test]
fn check_passes_on_the_shipped_templates() {
    let out = handoff(Path::new(env!("CARGO_MANIFEST_DIR")), &[], &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("templates: ok (from templates/projects)"), "{text}");
    assert!(text.contains("saas-onboarding") && text.contains("implementation"), "{text}");
}

#[test]
fn check_fails_on_a_dependency_cycle_naming_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("loops.toml"), CYCLE).unwrap();
    let out = handoff(dir.path(), &[("HANDOFF_TEMPLATES_DIR", dir.path().to_str().unwrap())], &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("loops.toml"), "{err}");
    assert!(err.contains("phases[0].tasks[0].depends_on"), "{err}");
    assert!(err.contains("dependency cycle: `a` → `b` → `a`"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn check_fails_on_an_upload_accepting_svg_naming_the_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"Logos\"\n[[phases]]\nkey = \"one\"\nname = \"One\"\n[[phases.tasks]]\nkey = \"logo\"\ntitle = \"Logo\"\ntype = \"upload\"\naccept = [\"png\", \"svg\"]\n";
    std::fs::write(dir.path().join("logos.toml"), text).unwrap();
    let out = handoff(
        dir.path(),
        &[("HANDOFF_TEMPLATES_DIR", dir.path().to_str().unwrap())],
        &["check", "--offline"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("logos.toml:9: `phases[0].tasks[0].accept[1]`: `svg`: SVG images can carry script"),
        "{err}"
    );
}

#[test]
fn a_bad_environment_value_stops_start_up_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = handoff(dir.path(), &[("HANDOFF_LISTEN", "everywhere")], &["project", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("invalid value for `server.listen` (from HANDOFF_LISTEN)"), "{err}");
    assert!(!dir.path().join("data").exists(), "nothing may be written");
}

#[test]
fn a_broken_config_file_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("handoff.toml");
    std::fs::write(&file, "[database]\nmax_connections = -1\n").unwrap();
    let out = handoff(dir.path(), &[], &["--config", file.to_str().unwrap(), "check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("`database.max_connections`") && err.contains("handoff.toml"), "{err}");
}

#[test]
fn unknown_variables_are_warned_about_but_do_not_stop_handoff() {
    let dir = tempfile::tempdir().unwrap();
    let out = handoff(dir.path(), &[("HANDOFF_LISTN", "x")], &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("unknown environment variable HANDOFF_LISTN"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_database_that_cannot_be_opened_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let out = handoff(
        dir.path(),
        &[("HANDOFF_DATABASE_URL", "postgres://u:pw@127.0.0.1:1/none")],
        &["project", "list"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("cannot open the database postgres://u:***@127.0.0.1:1/none"), "{err}");
}

#[tokio::test]
async fn project_create_then_show_prints_a_realistic_project() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let env = [("HANDOFF_DATABASE_URL", db.url())];
    let created = handoff(
        dir.path(),
        &env,
        &[
            "project",
            "create",
            "--template",
            "saas-onboarding",
            "--name",
            "Acme onboarding",
            "--company",
            "Acme Corp",
            "--start",
            "2026-11-23",
        ],
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let id = stdout(&created).trim().to_owned();
    assert_eq!(id.len(), 36, "create prints just the id: {id}");
    assert!(stderr(&created).contains("6 phases, 27 tasks"), "{}", stderr(&created));

    let done = handoff(dir.path(), &env, &["task", "complete", &id, "review-deal"]);
    assert!(done.status.success(), "{}", stderr(&done));
    let blocked = handoff(dir.path(), &env, &["task", "complete", &id, "enable-sso"]);
    assert_eq!(blocked.status.code(), Some(1));
    assert!(
        stderr(&blocked).contains("blocked: it waits for provision-tenant, sso-config"),
        "{}",
        stderr(&blocked)
    );

    let shown = handoff(dir.path(), &env, &["project", "show", &id]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    let text = stdout(&shown);
    for expected in [
        "Acme onboarding (draft)",
        "company   Acme Corp",
        "start     2026-11-23 Mon",
        "progress  3% (1 of 27 tasks completed)",
        "1. Sales handoff  [1/4 · 25%]",
        "[x] review-deal",
        "[!] enable-sso",
        "Blocked",
        "due 2026-11-30 Mon",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }

    let listed = stdout(&handoff(dir.path(), &env, &["project", "list"]));
    assert!(listed.contains(&id) && listed.contains("  3%"), "{listed}");
}

#[test]
fn project_show_of_an_unknown_id_or_a_malformed_one_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = handoff(dir.path(), &[], &["project", "show", "not-a-uuid"]);
    assert_eq!(out.status.code(), Some(2), "clap rejects it as a usage error");
    assert!(stderr(&out).contains("is not a valid project id"), "{}", stderr(&out));
    let out = handoff(dir.path(), &[], &["project", "show", "0192f6a4-5c1e-7abc-8def-0123456789ab"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no project with id"), "{}", stderr(&out));
}

#[test]
fn an_unknown_template_lists_the_available_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = handoff(dir.path(), &[], &["templates", "show", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("available: implementation, saas-onboarding"),
        "{}",
        stderr(&out)
    );
    let shown = handoff(dir.path(), &[], &["templates", "show", "implementation"]);
    assert!(stdout(&shown).contains("Enterprise implementation"), "{}", stdout(&shown));
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["check", "--help"],
        &["templates", "--help"],
        &["templates", "list", "--help"],
        &["templates", "show", "--help"],
        &["project", "--help"],
        &["project", "create", "--help"],
        &["project", "list", "--help"],
        &["project", "show", "--help"],
        &["project", "set-status", "--help"],
        &["task", "complete", "--help"],
        &["sync", "--help"],
        &["connections", "--help"],
        &["jobs", "failed", "--help"],
        &["jobs", "retry", "--help"],
        &["api-token", "--help"],
        &["api-token", "create", "--help"],
        &["api-token", "list", "--help"],
        &["api-token", "revoke", "--help"],
        &["workflows", "list", "--help"],
        &["workflows", "dry-run", "--help"],
        &["sandbox", "--help"],
        &["demo", "--help"],
    ] {
        let out = handoff(dir.path(), &[], cmd);
        assert!(out.status.success(), "{cmd:?}: {}", stderr(&out));
        assert!(stdout(&out).contains("Usage: handoff"), "{cmd:?}");
    }
}

#[tokio::test]
async fn migrate_reports_what_it_applied() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let out = handoff(dir.path(), &[("HANDOFF_DATABASE_URL", db.url())], &["migrate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let applied: usize = stdout(&out).split_whitespace().next().unwrap().parse().unwrap();
    assert!(applied >= 1, "{}", stdout(&out));
    let again = handoff(dir.path(), &[("HANDOFF_DATABASE_URL", db.url())], &["migrate"]);
    assert!(stdout(&again).starts_with("0 migration(s) applied"), "{}", stdout(&again));
}

#[tokio::test]
async fn serve_answers_health_checks_and_exits_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_handoff"))
        .current_dir(dir.path())
        .arg("serve")
        .env("HANDOFF_DATABASE_URL", db.url())
        .env("HANDOFF_LISTEN", "127.0.0.1:0")
        .env("HANDOFF_LOG", "info")
        .env("HANDOFF_LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("handoff exited before serving").unwrap();
        let entry: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if entry["fields"]["message"] == "handoff is serving" {
            break entry["fields"]["address"].as_str().unwrap().to_owned();
        }
    };
    let health = common::http_client().get(format!("http://{address}/readyz")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    assert!(lines.any(|l| l.unwrap().contains("shutting down")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_turns_a_won_deal_in_each_crm_into_a_project_with_invitations_and_writes_back() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_handoff"))
        .current_dir(dir.path())
        .arg("demo")
        .env("HANDOFF_LISTEN", "127.0.0.1:0")
        .env("HANDOFF_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut printed = String::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("demo exited before serving").unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(rest) = line.strip_prefix("handoff            http://") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    for expected in [
        "Initech onboarding (active)",
        "Umbrella Health — Core platform (active)",
        "customer_admin   dana.reyes@initech.example",
        "Dana Reyes — Decision Maker in the CRM",
        "Lena Park — Decision maker in the CRM",
        // The HubSpot deal's associated company.
        "  company   Umbrella Health",
        // Each deal's CRM owner, matched to a staff account (by email; by HubSpot owner id).
        "  owner     Maria Lopez <maria.lopez@sandbox.example.com>  [CRM OwnerId]",
        "  owner     Ava Lindqvist <ava@handoff-demo.example>  [CRM hubspot_owner_id]",
        "            product_line = Analytics",
        "to dana.reyes@initech.example",
        // The writeback, as read back from each CRM.
        "Onboarding_Status__c     In Progress",
        "Task (Completed): Onboarding: Sales handoff completed",
        "onboarding_status        in_progress",
        "task (COMPLETED): Onboarding: Sales handoff completed",
        // The links lead into the portal.
        "Customer portal: open an invitation link above",
    ] {
        assert!(printed.contains(expected), "missing {expected:?} in:\n{printed}");
    }
    assert_eq!(printed.matches(&format!("http://{address}/invite/")).count(), 4, "{printed}");
    assert!(dir.path().join("data/demo.db").exists());
    assert_eq!(
        common::http_client()
            .get(format!("http://{address}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // A printed invitation link opens the portal's sign-in confirmation.
    let link = printed
        .split_whitespace()
        .find(|w| w.starts_with(&format!("http://{address}/invite/")))
        .unwrap();
    let page = common::http_client().get(link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<button type=\"submit\">Sign in and open"));
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert!(child.wait().unwrap().success());
}

#[test]
fn sync_without_connections_says_how_to_add_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = handoff(dir.path(), &[], &["sync"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no CRM connections are configured"), "{}", stderr(&out));
    let out = handoff(dir.path(), &[], &["sync", "--connection", "nope"]);
    assert!(stderr(&out).contains("no connection named `nope`"), "{}", stderr(&out));
}

#[test]
fn check_refuses_a_token_keeping_connection_without_a_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("handoff.toml");
    std::fs::write(&file, "[connections.hs]\ncrm = \"hubspot\"\nauth = \"oauth\"\nclient_id = \"c\"\n").unwrap();
    let env = [("HANDOFF_CONNECTION_HS_CLIENT_SECRET", "s")];
    let out = handoff(dir.path(), &env, &["--config", file.to_str().unwrap(), "check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("set HANDOFF_MASTER_KEY"), "{}", stderr(&out));
    let mut env = env.to_vec();
    env.push(("HANDOFF_MASTER_KEY", "dGVzdC1vbmx5LW1hc3Rlci1rZXktMzItYnl0ZXMhISE="));
    let out = handoff(dir.path(), &env, &["--config", file.to_str().unwrap(), "check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("hs                   hubspot"), "{}", stdout(&out));
}

#[test]
fn check_warns_about_a_hubspot_connection_without_a_portal_id() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("handoff.toml");
    let env = [
        ("HANDOFF_CONNECTION_HS_PRIVATE_APP_TOKEN", "pat-x"),
        ("HANDOFF_CONNECTION_HS_CLIENT_SECRET", "s"),
    ];
    std::fs::write(&file, "[connections.hs]\ncrm = \"hubspot\"\nauth = \"private_app\"\n").unwrap();
    let out = handoff(dir.path(), &env, &["--config", file.to_str().unwrap(), "check", "--offline"]);
    // A warning, not a failure: the connection works, it just trusts too many senders.
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: connection `hs` has no portal_id: signed webhook events from any HubSpot account are accepted"),
        "{}",
        stderr(&out)
    );
    std::fs::write(
        &file,
        "[connections.hs]\ncrm = \"hubspot\"\nauth = \"private_app\"\nportal_id = 2026001\n",
    )
    .unwrap();
    let out = handoff(dir.path(), &env, &["--config", file.to_str().unwrap(), "check", "--offline"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("portal_id"), "{}", stderr(&out));
}

#[tokio::test]
async fn sandbox_serves_both_crms_until_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_handoff"))
        .current_dir(dir.path())
        .args(["sandbox", "--salesforce-listen", "127.0.0.1:0", "--hubspot-listen", "127.0.0.1:0"])
        .env("HANDOFF_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut salesforce, mut hubspot) = (None, None);
    while salesforce.is_none() || hubspot.is_none() {
        let line = lines.next().expect("the sandbox exited early").unwrap();
        if let Some(url) = line.strip_prefix("Salesforce sandbox  ") {
            salesforce = Some(url.trim().to_owned());
        }
        if let Some(url) = line.strip_prefix("HubSpot sandbox     ") {
            hubspot = Some(url.trim().to_owned());
        }
    }
    let http = common::http_client();
    let versions = http.get(format!("{}/services/data/", salesforce.unwrap())).send().await.unwrap();
    assert_eq!(versions.status(), 200);
    let deals = http
        .get(format!("{}/crm/v3/objects/deals?limit=1", hubspot.unwrap()))
        .bearer_auth("pat-sandbox-handoff")
        .send()
        .await
        .unwrap();
    assert_eq!(deals.status(), 200);
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert!(child.wait().unwrap().success());
}

#[test]
fn sandbox_refuses_a_bad_seed_file_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.toml");
    std::fs::write(&seed, "[pipedrive]\nx = 1\n").unwrap();
    let out = handoff(
        dir.path(),
        &[],
        &[
            "sandbox",
            "--seed",
            seed.to_str().unwrap(),
            "--salesforce-listen",
            "127.0.0.1:0",
            "--hubspot-listen",
            "127.0.0.1:0",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("seed.toml is not a valid seed file"), "{}", stderr(&out));
}

#[test]
fn sandbox_refuses_an_error_rate_outside_zero_to_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = handoff(dir.path(), &[], &["sandbox", "--error-rate", "2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("2 is not between 0.0 and 1.0"), "{}", stderr(&out));
}

#[test]
fn check_validates_the_workflows_and_refuses_a_broken_one() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = handoff(repo, &[], &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("workflows: 2 in workflows"), "{}", stdout(&out));

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.toml"),
        "[trigger]\nconnection = \"salesforce\"\nobject = \"deal\"\nevent = \"sometimes\"\n",
    )
    .unwrap();
    let out = handoff(dir.path(), &[("HANDOFF_WORKFLOWS_DIR", dir.path().to_str().unwrap())], &["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("broken.toml"), "{}", stderr(&out));
}

#[tokio::test]
async fn jobs_failed_lists_nothing_on_a_fresh_database_and_retry_of_an_unknown_id_fails() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let env = [("HANDOFF_DATABASE_URL", db.url())];
    let out = handoff(dir.path(), &env, &["jobs", "failed"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("no failed jobs"));
    let out = handoff(dir.path(), &env, &["jobs", "retry", "0192f6a4-5c1e-7abc-8def-0123456789ab"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
}
