//! Nothing acknowledged is lost: a `handoff serve` killed with SIGKILL right after
//! answering a webhook processes the event after a restart, exactly once; one killed
//! with a CRM writeback in flight applies it after a restart, exactly once; one killed
//! while an invitation email is on the wire sends it after a restart, exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::mail_support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::TestDb;
use sandbox_hubspot as sandbox;

const CONNECTION: &str = "hubspot-main";

/// A free port on 127.0.0.1 (the webhook signature covers the URL, so the server must
/// know its own address before it starts).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn serve(db: &TestDb, config: &std::path::Path, port: u16) -> Child {
    let env = [
        (
            "HANDOFF_CONNECTION_HUBSPOT_MAIN_PRIVATE_APP_TOKEN",
            sandbox::DEFAULT_PRIVATE_APP_TOKEN,
        ),
        ("HANDOFF_CONNECTION_HUBSPOT_MAIN_CLIENT_SECRET", sandbox::DEFAULT_CLIENT_SECRET),
    ];
    serve_with(db, config, port, &env)
}

fn serve_with(db: &TestDb, config: &std::path::Path, port: u16, env: &[(&str, &str)]) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_handoff"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env("HANDOFF_DATABASE_URL", db.url())
        .env("HANDOFF_LISTEN", format!("127.0.0.1:{port}"))
        .env("HANDOFF_MASTER_KEY", "dGVzdC1vbmx5LW1hc3Rlci1rZXktMzItYnl0ZXMhISE=")
        .envs(env.iter().copied())
        .env("HANDOFF_LOG", "info")
        .env("HANDOFF_LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("handoff exited before serving").unwrap();
        if line.contains("handoff is serving") {
            break;
        }
    }
    // Keep draining its log so the child never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            eprintln!("handoff: {line}");
        }
    });
    child
}

#[tokio::test]
async fn an_event_acknowledged_just_before_a_sigkill_is_processed_after_restart() {
    crm_http::install_crypto_provider();
    let sb = sandbox::start(sandbox::Config::for_tests()).await.unwrap();
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("handoff.toml");
    let portal = sandbox::Config::for_tests().portal_id;
    std::fs::write(
        &config,
        format!(
            "[connections.{CONNECTION}]\ncrm = \"hubspot\"\nbase_url = \"{}\"\nportal_id = {portal}\n",
            sb.base_url()
        ),
    )
    .unwrap();

    let port = free_port();
    let mut first = serve(&db, &config, port);
    let deal = sb.ids(sandbox::ObjectType::Deals)[0];
    let url = format!("http://127.0.0.1:{port}/webhooks/hubspot/{CONNECTION}");
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis();
    let body = serde_json::json!([{
        "eventId": 1, "subscriptionId": 1, "portalId": portal, "appId": 1, "occurredAt": now_ms,
        "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": deal,
        "propertyName": "dealstage", "propertyValue": "closedwon"
    }])
    .to_string();
    let ts = now_ms.to_string();
    let signature = crm_hubspot::webhook::sign_v3(sandbox::DEFAULT_CLIENT_SECRET, "POST", &url, body.as_bytes(), &ts);
    let response = common::http_client()
        .post(&url)
        .header("x-hubspot-signature-v3", signature)
        .header("x-hubspot-request-timestamp", ts)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    // Killed the moment it acknowledged: no graceful shutdown, no chance to finish work.
    first.kill().unwrap();
    first.wait().unwrap();

    let store = db.store().await;
    assert_eq!(
        store.inbound_events_for(CONNECTION).await.unwrap().len(),
        1,
        "the acknowledged event was durable"
    );

    let mut second = serve(&db, &config, free_port());
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.count_record_changes(CONNECTION).await.unwrap() == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    // The restarted server resolved the event into exactly one change (and, with no
    // workflows configured here, the engine then marked it handled).
    assert_eq!(
        store.count_record_changes(CONNECTION).await.unwrap(),
        1,
        "processed exactly once after the restart"
    );
    assert!(store.pending_inbound_events(10).await.unwrap().is_empty());
}

/// Writeback rows still pending and already claimed by a worker: in flight.
async fn writebacks_in_flight(db: &TestDb) -> i64 {
    count(
        db,
        "SELECT COUNT(*) FROM outbox WHERE kind = 'writeback' AND status = 'pending' AND attempts > 0",
    )
    .await
}

async fn count(db: &TestDb, sql: &'static str) -> i64 {
    if db.is_postgres() {
        let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
        let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::SqlitePool::connect(db.url()).await.unwrap();
        let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }
}

/// A HubSpot connection named `hubspot` (the shipped hubspot-closedwon workflow's) to
/// the sandbox, with the shipped workflows; and the environment with its secrets.
fn hubspot_config(sb: &sandbox::Sandbox, dir: &std::path::Path) -> (std::path::PathBuf, [(&'static str, &'static str); 2]) {
    let config = dir.join("handoff.toml");
    let portal = sandbox::Config::for_tests().portal_id;
    std::fs::write(
        &config,
        format!(
            "[connections.hubspot]\ncrm = \"hubspot\"\nbase_url = \"{}\"\nportal_id = {portal}\npoll_interval_seconds = 3600\n\n[workflows]\ndir = \"{}\"\n",
            sb.base_url(),
            common::repo_path("workflows").display()
        ),
    )
    .unwrap();
    let env = [
        ("HANDOFF_CONNECTION_HUBSPOT_PRIVATE_APP_TOKEN", sandbox::DEFAULT_PRIVATE_APP_TOKEN),
        ("HANDOFF_CONNECTION_HUBSPOT_CLIENT_SECRET", sandbox::DEFAULT_CLIENT_SECRET),
    ];
    (config, env)
}

/// A deal of the default pipeline, not won yet, moved to closedwon (the webhook target
/// must be set for HubSpot to announce it).
fn win_a_deal(sb: &sandbox::Sandbox) -> u64 {
    let deal = sb
        .ids(sandbox::ObjectType::Deals)
        .into_iter()
        .find(|id| {
            let p = sb.record(sandbox::ObjectType::Deals, *id).unwrap().properties;
            p.get("dealstage").map(String::as_str) != Some("closedwon") && p.get("pipeline").map(String::as_str) == Some("default")
        })
        .unwrap();
    sb.update_record(sandbox::ObjectType::Deals, deal, &[("dealstage", "closedwon")])
        .unwrap();
    deal
}

// Multi-threaded: the SMTP captures run in this process while handoff runs in another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_email_on_the_wire_when_killed_is_sent_exactly_once_after_restart() {
    crm_http::install_crypto_provider();
    let sb = sandbox::start(sandbox::Config::for_tests()).await.unwrap();
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, env) = hubspot_config(&sb, dir.path());
    // The first mail server takes the whole message and never answers the final dot.
    let stalled = mail_support::SmtpCapture::start_with(mail_support::Behaviour::StallAfterData).await;
    let stalled_url = stalled.url();
    let port = free_port();
    let mut first = serve_with(&db, &config, port, &[env[0], env[1], ("HANDOFF_SMTP_URL", &stalled_url)]);

    win_a_deal(&sb);
    sb.set_webhook_target(Some(format!("http://127.0.0.1:{port}/webhooks/hubspot/hubspot")));
    // Killed with the first invitation's last byte sent and no answer yet: handoff
    // cannot know whether the server took it.
    wait_until("an invitation is on the wire", || async { !stalled.unacknowledged().is_empty() }).await;
    first.kill().unwrap();
    first.wait().unwrap();
    let invitations = count(&db, "SELECT COUNT(*) FROM invitations").await;
    assert!(invitations >= 1, "the deal's contacts were invited");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM invitations WHERE sent_at IS NOT NULL").await, 0);

    // After a restart (the dead worker's claim lapsed: fast-forwarded here) a working
    // mail server receives every invitation once.
    let capture = mail_support::SmtpCapture::start().await;
    let capture_url = capture.url();
    common::sql(&db, "UPDATE outbox SET next_attempt_at = created_at WHERE status = 'pending'").await;
    let mut second = serve_with(&db, &config, free_port(), &[env[0], env[1], ("HANDOFF_SMTP_URL", &capture_url)]);
    let store = db.store().await;
    wait_until("every invitation is sent", || async {
        store
            .outbox_counts(handoff::domain::outbox::OutboxKind::Email)
            .await
            .unwrap()
            .pending
            == 0
    })
    .await;
    second.kill().unwrap();
    second.wait().unwrap();

    let sent = capture.messages();
    let mut recipients: Vec<String> = sent.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    recipients.sort();
    let total = recipients.len();
    recipients.dedup();
    assert_eq!(total, recipients.len(), "nobody got two invitations: {recipients:?}");
    assert_eq!(i64::try_from(total).unwrap(), invitations, "every invitation was sent");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM invitations WHERE sent_at IS NULL").await, 0);
    assert_eq!(
        store.outbox_counts(handoff::domain::outbox::OutboxKind::Email).await.unwrap().dead,
        0
    );
    // The message the first server may or may not have taken went again with the same
    // Message-ID, so a server that did take it recognises the second as a duplicate.
    let unacked = &stalled.unacknowledged()[0];
    let again = sent
        .iter()
        .find(|m| m.rcpt_to == unacked.rcpt_to)
        .expect("sent again to the same person");
    let id = mail_support::mime::header(&unacked.raw, "Message-ID").expect("a Message-ID");
    assert_eq!(mail_support::mime::header(&again.raw, "Message-ID").as_ref(), Some(&id));
}

async fn wait_until<F: std::future::Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// Multi-threaded: the CLI child processes run while the in-process sandbox serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writeback_in_flight_when_killed_is_applied_exactly_once_after_restart() {
    crm_http::install_crypto_provider();
    let sb = sandbox::start(sandbox::Config::for_tests()).await.unwrap();
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, env) = hubspot_config(&sb, dir.path());
    let port = free_port();
    let mut first = serve_with(&db, &config, port, &env);

    // A deal enters closedwon and HubSpot says so.
    let deal = win_a_deal(&sb);
    sb.set_webhook_target(Some(format!("http://127.0.0.1:{port}/webhooks/hubspot/hubspot")));
    let store = db.store().await;
    let deal_id = deal.to_string();
    wait_until("the project exists", || async {
        store
            .project_for_source("hubspot-closedwon", "hubspot", &deal_id)
            .await
            .unwrap()
            .is_some()
    })
    .await;
    let project = store
        .project_for_source("hubspot-closedwon", "hubspot", &deal_id)
        .await
        .unwrap()
        .unwrap();
    wait_until("the project's status reached HubSpot", || async {
        store
            .outbox_counts(handoff::domain::outbox::OutboxKind::Writeback)
            .await
            .unwrap()
            .pending
            == 0
    })
    .await;

    // HubSpot turns slow, and the first phase is completed from the CLI meanwhile.
    sb.faults().set_latency(Duration::from_secs(3));
    let details = store.project_details(project).await.unwrap().unwrap();
    let phase = &details.phases[0];
    for task in details.tasks.iter().filter(|t| t.phase_id == phase.id) {
        let out = Command::new(env!("CARGO_BIN_EXE_handoff"))
            .args([
                "--config",
                config.to_str().unwrap(),
                "task",
                "complete",
                &project.to_string(),
                task.key.as_str(),
            ])
            .env("HANDOFF_DATABASE_URL", db.url())
            .env("HANDOFF_MASTER_KEY", "dGVzdC1vbmx5LW1hc3Rlci1rZXktMzItYnl0ZXMhISE=")
            .envs(env)
            .env("HANDOFF_LOG", "warn")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    // Killed while the worker's batch call is on its way to HubSpot.
    wait_until("a writeback is in flight", || async { writebacks_in_flight(&db).await > 0 }).await;
    first.kill().unwrap();
    first.wait().unwrap();

    // The dead worker's claim lapses (5 minutes; fast-forwarded here) and a new process
    // delivers what is left.
    sb.faults().clear();
    common::sql(&db, "UPDATE outbox SET next_attempt_at = created_at WHERE status = 'pending'").await;
    let mut second = serve_with(&db, &config, free_port(), &env);
    wait_until("every writeback is delivered", || async {
        store
            .outbox_counts(handoff::domain::outbox::OutboxKind::Writeback)
            .await
            .unwrap()
            .pending
            == 0
    })
    .await;
    second.kill().unwrap();
    second.wait().unwrap();

    let counts = store.outbox_counts(handoff::domain::outbox::OutboxKind::Writeback).await.unwrap();
    assert_eq!(counts.dead, 0);
    let subject = format!("Onboarding: {} completed", phase.name);
    let logged = sb
        .associated((sandbox::ObjectType::Deals, deal), sandbox::ObjectType::Tasks)
        .into_iter()
        .filter_map(|id| sb.record(sandbox::ObjectType::Tasks, id))
        .filter(|t| t.properties.get("hs_task_subject") == Some(&subject))
        .count();
    assert_eq!(logged, 1, "the phase's task is on the deal exactly once");
    let details = store.project_details(project).await.unwrap().unwrap();
    let progress = details.progress().percent().to_string();
    let written = sb.record(sandbox::ObjectType::Deals, deal).unwrap().properties;
    assert_eq!(written.get("onboarding_progress"), Some(&progress));
}
