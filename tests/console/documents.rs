//! Documents in the console: a customer's upload waits in both inboxes, staff reject
//! it with a note (its task reopens, the trail and the CRM hear of it, the customer
//! reads the note in the portal) or approve it, and download it as an attachment. Bad
//! reviews change nothing. Over HTTP, on SQLite or PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use handoff::domain::ProjectId;
use handoff::domain::people::{ProjectRole, StaffRole};
use serde_json::Value;

use crate::console_support::{SAM, csrf, staff_browser};
use crate::portal_support::{Browser, DANA, Portal, Setup, ZOE, spawn_portal_with};

pub(crate) const TEMPLATE: &str = r#"
name = "Documents"
[[phases]]
key = "legal"
name = "Legal paperwork"
[[phases.tasks]]
key = "contract"
title = "Upload the signed contract"
type = "upload"
owner = "customer"
accept = ["pdf"]
max_files = 2
[[phases]]
key = "brand"
name = "Branding"
[[phases.tasks]]
key = "logo"
title = "Send us your logo"
type = "upload"
owner = "customer"
accept = ["pdf"]
max_files = 2
[[phases.tasks]]
key = "kickoff"
title = "Kickoff meeting"
type = "todo"
owner = "staff"
"#;

/// Acme's project (Dana, its admin) and Globex's (Zoe), both from [`TEMPLATE`], a
/// staff member signed in to the console, uploads in a fresh directory.
pub(crate) struct World {
    pub portal: Portal,
    pub acme: ProjectId,
    pub globex: ProjectId,
    pub staff: Browser,
    pub dana: Browser,
    zoe: Option<Browser>,
    _dir: tempfile::TempDir,
    pub uploads: PathBuf,
}

pub(crate) async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let uploads = dir.path().join("uploads");
    let configured = uploads.clone();
    let mut portal = spawn_portal_with(move |c| {
        c.portal.upload_dir = configured;
        c.portal.max_upload_bytes = 1024 * 1024;
    })
    .await;
    let acme = portal
        .project_from(
            Setup::active("Acme onboarding", "Acme", &[(DANA, ProjectRole::CustomerAdmin)]),
            TEMPLATE,
        )
        .await;
    let globex = portal
        .project_from(
            Setup::active("Globex onboarding", "Globex", &[(ZOE, ProjectRole::CustomerAdmin)]),
            TEMPLATE,
        )
        .await;
    portal.deliver().await;
    let dana = portal.signed_in(DANA).await;
    let staff = staff_browser(&portal, SAM, StaffRole::Staff).await;
    World {
        portal,
        acme,
        globex,
        staff,
        dana,
        zoe: None,
        _dir: dir,
        uploads,
    }
}

pub(crate) fn pdf(size: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    bytes.resize(size, b' ');
    bytes
}

impl World {
    pub fn portal_task(&self, project: ProjectId, key: &str) -> String {
        format!("/projects/{project}/tasks/{key}")
    }

    /// A customer of `project` (Dana for Acme, Zoe for Globex) uploads `name` to `key`
    /// through the portal; returns the file's id.
    pub async fn upload(&mut self, project: ProjectId, key: &str, name: &str, content: &[u8]) -> uuid::Uuid {
        let path = self.portal_task(project, key);
        if project != self.acme && self.zoe.is_none() {
            self.zoe = Some(self.portal.signed_in(ZOE).await);
        }
        let browser = if project == self.acme {
            &mut self.dana
        } else {
            self.zoe.as_mut().unwrap()
        };
        let page = browser.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let token = page.csrf();
        let done = browser
            .post_file(&format!("{path}/files"), &[("csrf", &token)], ("file", name, content))
            .await;
        assert_eq!(done.status, 303, "{}", done.body);
        let details = self.portal.app.store().project_details(project).await.unwrap().unwrap();
        let task = details.task_by_key(key).unwrap().id;
        let files = self.portal.app.store().task_files(task).await.unwrap();
        files.iter().find(|f| f.original_name == name).unwrap().id
    }

    /// Dana hands the task in (its files are there): it completes.
    pub async fn hand_in(&mut self, key: &str) {
        let path = self.portal_task(self.acme, key);
        let token = self.dana.get(&path).await.csrf();
        let done = self.dana.post(&format!("{path}/files-done"), &[("csrf", &token)]).await;
        assert_eq!(done.status, 303, "{}", done.body);
        assert_eq!(self.task_status(key).await, "completed");
    }

    pub async fn task_status(&self, key: &str) -> &'static str {
        let details = self.portal.app.store().project_details(self.acme).await.unwrap().unwrap();
        details.task_by_key(key).unwrap().status.as_str()
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        self.portal.count(sql).await
    }

    pub async fn review_state(&self, file: uuid::Uuid) -> (String, Option<String>) {
        let d = self.portal.app.store().document(self.acme, file).await.unwrap().unwrap();
        (d.review_status.as_str().to_owned(), d.review_note)
    }

    pub fn review_path(&self, file: uuid::Uuid) -> String {
        format!("/console/projects/{}/files/{file}/review", self.acme)
    }

    /// Posts a review from the inbox as the signed-in staff member.
    pub async fn review(&mut self, file: uuid::Uuid, decision: &str, note: &str) -> crate::portal_support::Page {
        let token = csrf(&mut self.staff, "/console/documents").await;
        let path = self.review_path(file);
        self.staff
            .post(
                &path,
                &[
                    ("csrf", &token),
                    ("decision", decision),
                    ("note", note),
                    ("from", "inbox"),
                    ("status", "pending"),
                ],
            )
            .await
    }

    pub async fn actions(&self) -> Vec<String> {
        let trail = self.portal.app.store().project_activity(self.acme).await.unwrap();
        trail.into_iter().map(|a| a.entry.action).collect()
    }
}

const PROGRESS_WRITEBACKS: &str =
    "SELECT COUNT(*) FROM outbox WHERE kind = 'writeback' AND CAST(payload AS TEXT) LIKE '%progress_changed%'";

#[tokio::test]
async fn a_rejected_upload_reopens_its_task_and_the_customer_reads_the_note() {
    let mut w = world().await;
    let content = pdf(4000);
    let file = w.upload(w.acme, "contract", "Signed contract.pdf", &content).await;
    w.hand_in("contract").await;

    for path in ["/console/documents".to_owned(), format!("/console/projects/{}/documents", w.acme)] {
        let page = w.staff.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert!(page.body.contains("Signed contract.pdf"), "{path}: {}", page.body);
        assert!(page.body.contains("Upload the signed contract") && page.body.contains("Legal paperwork"));
        assert!(page.body.contains(&format!(r#"action="{}""#, w.review_path(file))), "{}", page.body);
    }
    let inbox = w.staff.get("/console/documents").await.body;
    assert!(
        inbox.contains("Acme onboarding") && inbox.contains("dana"),
        "project and uploader: {inbox}"
    );

    // Refused: a rejection without a note, a form without the session's token.
    let entries = w.count("SELECT COUNT(*) FROM activity").await;
    let writebacks = w.count("SELECT COUNT(*) FROM outbox WHERE kind = 'writeback'").await;
    let blank = w.review(file, "reject", "   ").await;
    assert_eq!(blank.status, 409, "{}", blank.body);
    assert!(blank.body.contains("Say why the file is rejected"), "{}", blank.body);
    let forged = w
        .staff
        .post(&w.review_path(file), &[("decision", "reject"), ("note", "Forged")])
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let wrong = w
        .staff
        .post(&w.review_path(file), &[("csrf", "not-the-token"), ("decision", "approve")])
        .await;
    assert_eq!(wrong.status, 403);
    assert_eq!(w.review_state(file).await, ("pending".to_owned(), None));
    assert_eq!(w.task_status("contract").await, "completed");
    assert_eq!(w.count("SELECT COUNT(*) FROM activity").await, entries, "nothing recorded");
    assert_eq!(w.count("SELECT COUNT(*) FROM outbox WHERE kind = 'writeback'").await, writebacks);

    // Rejected with a note: the task is open again, the trail and the CRM hear of it.
    let progress_before = w.count(PROGRESS_WRITEBACKS).await;
    let rejected = w.review(file, "reject", "The scan is too blurry to read").await;
    assert_eq!(rejected.status, 303, "{}", rejected.body);
    assert_eq!(rejected.location(), "/console/documents?status=pending&notice=reopened");
    assert_eq!(
        w.review_state(file).await,
        ("rejected".to_owned(), Some("The scan is too blurry to read".to_owned()))
    );
    assert_eq!(w.task_status("contract").await, "pending");
    let actions = w.actions().await;
    assert!(
        actions.ends_with(&["file.rejected".to_owned(), "task.reopened".to_owned()]),
        "{actions:?}"
    );
    assert_eq!(
        w.count(PROGRESS_WRITEBACKS).await,
        progress_before + 1,
        "a progress writeback is queued"
    );
    let trail = w.portal.app.store().project_activity(w.acme).await.unwrap();
    let rejection = trail.iter().find(|a| a.entry.action == "file.rejected").unwrap();
    assert_eq!(rejection.entry.source, "console");
    assert_eq!(rejection.entry.actor.user(), Some(w.portal.user_id(SAM).await));
    assert_eq!(rejection.entry.details["note"], "The scan is too blurry to read");

    let notice = w.staff.get(rejected.location()).await.body;
    assert!(notice.contains("its task is open again"), "{notice}");
    assert!(!notice.contains("Signed contract.pdf"), "no longer pending: {notice}");
    let listed = w.staff.get("/console/documents?status=rejected").await.body;
    assert!(
        listed.contains("Signed contract.pdf") && listed.contains("The scan is too blurry to read"),
        "{listed}"
    );

    // The customer reads it on the task, and may upload a better file.
    let task_page = w.dana.get(&w.portal_task(w.acme, "contract")).await.body;
    assert!(
        task_page.contains("<strong>Rejected:</strong> The scan is too blurry to read"),
        "{task_page}"
    );
    assert!(task_page.contains(r#"name="file""#), "the task takes files again: {task_page}");

    // The same rejection again (a double submit) changes nothing.
    let entries = w.count("SELECT COUNT(*) FROM activity").await;
    let again = w.review(file, "reject", "The scan is too blurry to read").await;
    assert_eq!(again.location(), "/console/documents?status=pending&notice=unchanged");
    assert_eq!(w.count("SELECT COUNT(*) FROM activity").await, entries);

    // Approved after all: the note goes, the customer sees it approved.
    let approved = w.review(file, "approve", "").await;
    assert_eq!(approved.status, 303, "{}", approved.body);
    assert_eq!(approved.location(), "/console/documents?status=pending&notice=approved");
    assert_eq!(w.review_state(file).await, ("approved".to_owned(), None));
    assert_eq!(w.actions().await.last().unwrap(), "file.approved");
    let task_page = w.dana.get(&w.portal_task(w.acme, "contract")).await.body;
    assert!(task_page.contains(r#"<span class="tag">Approved</span>"#), "{task_page}");
    assert!(!task_page.contains("Rejected:"), "{task_page}");
    let bad = w.review(file, "maybe", "").await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn staff_download_an_upload_as_an_attachment_of_its_project_only() {
    let mut w = world().await;
    let content = pdf(6000);
    let file = w.upload(w.acme, "contract", "Signed contract é.pdf", &content).await;
    let href = format!("/console/projects/{}/files/{file}", w.acme);
    let (status, headers, bytes) = w.staff.get_bytes(&href).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, content);
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-disposition"].to_str().unwrap().starts_with("attachment; "),
        "{:?}",
        headers["content-disposition"]
    );
    let other = format!("/console/projects/{}/files/{file}", w.globex);
    assert_eq!(w.staff.get(&other).await.status, 404, "a file of another project");
    let path = format!("/console/projects/{}/files/not-a-uuid", w.acme);
    assert_eq!(w.staff.get(&path).await.status, 404);
    let signed_out = w.portal.browser().get(&href).await;
    assert_eq!(signed_out.status, 303, "to sign-in");
    assert!(w.uploads.exists());
}

#[tokio::test]
async fn the_inbox_is_searched_by_file_name_or_phase_and_paged_without_repeats() {
    let mut w = world().await;
    w.upload(w.acme, "contract", "Signed contract.pdf", &pdf(3000)).await;
    w.upload(w.acme, "logo", "Acme logo.pdf", &pdf(3000)).await;
    w.upload(w.acme, "logo", "Acme logo dark.pdf", &pdf(3000)).await;
    w.upload(w.globex, "contract", "Globex contract logo_dark.pdf", &pdf(3000)).await;

    let found = w.staff.get("/console/documents?q=CONTRACT").await.body;
    assert!(
        found.contains("Signed contract.pdf") && found.contains("Globex contract logo_dark.pdf"),
        "{found}"
    );
    assert!(!found.contains("Acme logo"), "{found}");
    let by_phase = w.staff.get("/console/documents?q=branding").await.body;
    assert!(
        by_phase.contains("Acme logo.pdf") && by_phase.contains("Acme logo dark.pdf"),
        "{by_phase}"
    );
    assert!(!by_phase.contains("contract.pdf"), "{by_phase}");
    // `_` is a character, not LIKE's wildcard (which would find "logo dark" too).
    let literal = w.staff.get("/console/documents?q=o_d").await.body;
    assert!(
        literal.contains("Globex contract logo_dark.pdf") && !literal.contains("Acme logo dark"),
        "{literal}"
    );
    let none = w.staff.get("/console/documents?q=zebra").await.body;
    assert!(none.contains("No pending files match"), "{none}");
    let tab = w
        .staff
        .get(&format!("/console/projects/{}/documents?q=contract", w.acme))
        .await
        .body;
    assert!(tab.contains("Signed contract.pdf") && !tab.contains("Globex contract"), "{tab}");
    assert_eq!(w.staff.get("/console/documents?status=lost").await.status, 400);

    // Keyset pages over the API, one file a page: each file once, newest first.
    let token = crate::console_support::api_token(&w.portal, "review-bot").await;
    let mut seen = Vec::new();
    let mut before = String::new();
    loop {
        let page: Value = crate::activity::api_get_ok(&w.portal, &token, &format!("/api/v1/files?limit=1&before={before}")).await;
        let files = page["files"].as_array().unwrap();
        seen.extend(files.iter().map(|f| f["name"].as_str().unwrap().to_owned()));
        match page["next_before"].as_str() {
            Some(next) => before = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "Globex contract logo_dark.pdf",
            "Acme logo dark.pdf",
            "Acme logo.pdf",
            "Signed contract.pdf"
        ]
    );
}
