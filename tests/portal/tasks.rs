//! Working on tasks in the portal: forms validated on the server, uploads checked while
//! they stream and downloaded as attachments, questions, approvals, comments and
//! assignment — each scoped to members, refused to viewers and to forms without the
//! session's token, and each leaving an activity entry (and, when it completes a task,
//! a CRM writeback). Over HTTP, on SQLite or PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::portal_support;

use std::path::PathBuf;

use handoff::domain::ProjectId;
use handoff::domain::form::Submission;
use handoff::domain::people::ProjectRole;
use portal_support::{Browser, Page, Portal, Setup, spawn_portal_with};

const DANA: &str = "dana@acme.example";
const OMAR: &str = "omar@acme.example";
const VERA: &str = "vera@acme.example";
const ZOE: &str = "zoe@globex.example";

const TEMPLATE: &str = r#"
name = "Task work"
[[phases]]
key = "setup"
name = "Setup"
[[phases.tasks]]
key = "company-form"
title = "Tell us about your company"
type = "form"
owner = "customer"
fields = [
  { key = "legal_name", label = "Legal company name", type = "text", required = true },
  { key = "employees", label = "Number of employees", type = "number", required = true, help = "A rough figure is fine." },
  { key = "size", label = "Company size", type = "select", options = ["1-50", "51-200"], required = true },
  { key = "billing_email", label = "Billing email", type = "email", required = true },
  { key = "website", label = "Website", type = "url" },
  { key = "agree", label = "We agree to the terms", type = "checkbox", required = true },
]
[[phases.tasks]]
key = "contract"
title = "Upload the signed contract"
type = "upload"
owner = "customer"
accept = ["pdf"]
max_files = 2
[[phases.tasks]]
key = "goals"
title = "Your goals"
type = "question"
owner = "customer"
prompt = "What does success look like?"
[[phases.tasks]]
key = "approve-plan"
title = "Approve the plan"
type = "approval"
owner = "customer"
subject = "The onboarding plan and go-live date"
[[phases.tasks]]
key = "kickoff"
title = "Kickoff meeting"
type = "todo"
owner = "staff"
[[phases.tasks]]
key = "internal-notes"
title = "Internal notes"
type = "todo"
visibility = "internal"
"#;

struct World {
    portal: Portal,
    acme: ProjectId,
    globex: ProjectId,
    uploads: PathBuf,
    _dir: tempfile::TempDir,
}

/// Acme's project with Dana (admin), Omar (member) and Vera (viewer); Globex's with Zoe.
/// Uploads go to a fresh directory, at most 1 MB each.
async fn world() -> World {
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
            Setup::active(
                "Acme onboarding",
                "Acme",
                &[
                    (DANA, ProjectRole::CustomerAdmin),
                    (OMAR, ProjectRole::CustomerMember),
                    (VERA, ProjectRole::CustomerViewer),
                ],
            ),
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
    World {
        portal,
        acme,
        globex,
        uploads,
        _dir: dir,
    }
}

impl World {
    fn task(&self, key: &str) -> String {
        format!("/projects/{}/tasks/{key}", self.acme)
    }

    async fn count(&self, sql: &'static str) -> i64 {
        self.portal.count(sql).await
    }

    async fn writebacks(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM outbox WHERE kind = 'writeback'").await
    }

    async fn actions(&self) -> Vec<String> {
        let store = self.portal.app.store();
        store
            .project_activity(self.acme)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.entry.action)
            .collect()
    }

    async fn task_row(&self, key: &str) -> handoff::domain::project::Task {
        let details = self.portal.app.store().project_details(self.acme).await.unwrap().unwrap();
        details.task_by_key(key).unwrap().clone()
    }

    async fn status(&self, key: &str) -> &'static str {
        self.task_row(key).await.status.as_str()
    }

    fn stored_files(&self) -> usize {
        std::fs::read_dir(&self.uploads).map_or(0, |d| d.count())
    }
}

/// Opens the task page and returns it with its form token.
async fn open(browser: &mut Browser, path: &str) -> (Page, String) {
    let page = browser.get(path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.csrf();
    (page, csrf)
}

fn pdf(size: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Templates >> endobj\n".to_vec();
    bytes.resize(size, b' ');
    bytes
}

#[tokio::test]
async fn a_form_with_bad_answers_is_shown_again_with_errors_then_good_answers_complete_it() {
    let mut w = world().await;
    let mut dana = w.portal.signed_in(DANA).await;
    let path = w.task("company-form");
    let (page, csrf) = open(&mut dana, &path).await;
    for label in [
        r#"<label for="field-legal_name">Legal company name</label>"#,
        r#"<label for="field-website">Website <span class="muted">(optional)</span></label>"#,
        r#"<p class="hint" id="field-employees-help">A rough figure is fine.</p>"#,
        r#"<option value="51-200">51-200</option>"#,
        r#"type="checkbox" id="field-agree""#,
    ] {
        assert!(page.body.contains(label), "{label} missing in {}", page.body);
    }
    let before = w.writebacks().await;

    let bad = dana
        .post(
            &format!("{path}/form"),
            &[
                ("csrf", &csrf),
                ("field-legal_name", " "),
                ("field-employees", "lots"),
                ("field-size", "XL"),
                ("field-billing_email", "billing@acme.example"),
                ("field-website", "acme.example"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let body = &bad.body;
    assert!(
        body.contains(r#"class="error-summary" role="alert" tabindex="-1" autofocus"#),
        "{body}"
    );
    assert!(
        body.contains(r##"<a href="#field-employees">Enter a number, such as 250 or 12.5.</a>"##),
        "{body}"
    );
    assert!(
        body.contains(r#"aria-describedby="field-employees-help field-employees-error" aria-invalid="true""#),
        "{body}"
    );
    assert!(body.contains(r#"id="field-legal_name-error""#) && body.contains("Enter legal company name."));
    assert!(body.contains("Choose one of the options.") && body.contains("Tick “We agree to the terms” to continue."));
    assert!(body.contains(r#"value="billing@acme.example""#), "values are kept: {body}");
    assert!(body.contains(r#"value="lots""#));
    assert!(!body.contains(r#"id="field-billing_email-error""#), "a good field has no error");
    assert!(bad.body.contains("<title>Error: Tell us about your company"));
    assert_eq!(w.count("SELECT COUNT(*) FROM task_submissions").await, 0);
    assert_eq!(w.status("company-form").await, "pending");

    let good = dana
        .post(
            &format!("{path}/form"),
            &[
                ("csrf", &csrf),
                ("field-legal_name", "Acme Corporation"),
                ("field-employees", "250"),
                ("field-size", "51-200"),
                ("field-billing_email", "Billing@Acme.example"),
                ("field-website", ""),
                ("field-agree", "yes"),
            ],
        )
        .await;
    assert_eq!(good.status, 303, "{}", good.body);
    assert_eq!(good.location(), path);
    assert_eq!(w.status("company-form").await, "completed");
    let task = w.task_row("company-form").await;
    let stored = w.portal.app.store().task_submissions(task.id).await.unwrap();
    assert_eq!(stored.len(), 1);
    let Submission::Form(answers) = &stored[0].submission else {
        panic!("{stored:?}")
    };
    assert_eq!(answers["legal_name"], "Acme Corporation");
    assert_eq!(answers["employees"], 250);
    assert_eq!(answers["billing_email"], "billing@acme.example");
    assert_eq!(answers["agree"], true);
    assert!(!answers.contains_key("website"));
    let actions = w.actions().await;
    assert!(
        actions.ends_with(&["task.form_submitted".to_owned(), "task.completed".to_owned()]),
        "{actions:?}"
    );
    assert!(w.writebacks().await > before, "the completion queues a CRM writeback");

    let done = dana.get(&path).await.body;
    assert!(done.contains("Submitted answers") && done.contains("Acme Corporation"), "{done}");
    assert!(!done.contains(&format!(r#"action="{path}/form""#)), "no form once completed");
    let again = dana
        .post(&format!("{path}/form"), &[("csrf", &csrf), ("field-legal_name", "x")])
        .await;
    assert_eq!(again.status, 409, "a completed form takes no more answers");
    assert_eq!(w.count("SELECT COUNT(*) FROM task_submissions").await, 1);
}

#[tokio::test]
async fn uploads_are_checked_as_they_stream_and_only_members_download_them() {
    let mut w = world().await;
    let mut dana = w.portal.signed_in(DANA).await;
    let path = w.task("contract");
    let (page, csrf) = open(&mut dana, &path).await;
    assert!(page.body.contains(r#"enctype="multipart/form-data""#) && page.body.contains(r#"accept=".pdf""#));
    assert!(page.body.contains("PDF; up to 1 MB each, 2 file(s) in all."), "{}", page.body);
    let files = format!("{path}/files");
    let csrf_field = [("csrf", csrf.as_str())];

    let big = dana
        .post_file(&files, &csrf_field, ("file", "contract.pdf", &pdf(1536 * 1024)))
        .await;
    assert_eq!(big.status, 413, "{}", big.body);
    assert!(big.body.contains("The file is too large: the limit is 1 MB."), "{}", big.body);
    assert!(big.body.contains(r#"id="file-error""#));
    let html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>";
    let page = dana.post_file(&files, &csrf_field, ("file", "contract.pdf", html)).await;
    assert_eq!(page.status, 415, "{}", page.body);
    assert!(page.body.contains("This file is not a PDF file"), "{}", page.body);
    let exe = [b"MZ\x90\x00\x03\x00\x00\x00".as_slice(), &[0u8; 4000]].concat();
    assert_eq!(
        dana.post_file(&files, &csrf_field, ("file", "contract.pdf", &exe)).await.status,
        415
    );
    assert_eq!(dana.post_file(&files, &csrf_field, ("file", "empty.pdf", b"")).await.status, 400);
    assert_eq!(w.count("SELECT COUNT(*) FROM task_files").await, 0, "nothing recorded");
    assert_eq!(w.stored_files(), 0, "nothing kept on disk, not even a partial file");

    let before = w.writebacks().await;
    let content = pdf(300 * 1024);
    let ok = dana
        .post_file(&files, &csrf_field, ("file", "../../Signed contract é.pdf", &content))
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location(), format!("{path}#files"));
    let task = w.task_row("contract").await;
    let rows = w.portal.app.store().task_files(task.id).await.unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.original_name, "Signed contract é.pdf");
    assert_eq!(
        (row.content_type.as_str(), row.size_bytes),
        ("application/pdf", content.len() as u64)
    );
    assert_eq!(row.uploaded_by, Some(w.portal.user_id(DANA).await));
    let sha: String = ring_sha256(&content);
    assert_eq!(row.sha256, sha);
    assert_eq!(row.storage_name.len(), 32);
    assert!(row.storage_name.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(std::fs::read(w.uploads.join(&row.storage_name)).unwrap(), content);
    assert_eq!(w.stored_files(), 1);
    assert!(w.actions().await.contains(&"task.file_uploaded".to_owned()));
    assert_eq!(w.writebacks().await, before, "an upload alone does not complete the task");

    let listed = dana.get(&path).await.body;
    let href = format!("{path}/files/{}", row.id);
    assert!(listed.contains(&format!(r#"href="{href}""#)), "{listed}");
    let mut vera = w.portal.signed_in(VERA).await;
    let mut zoe = w.portal.signed_in(ZOE).await;
    for (who, browser, expected) in [(DANA, &mut dana, 200), (VERA, &mut vera, 200), (ZOE, &mut zoe, 404)] {
        let (status, headers, bytes) = browser.get_bytes(&href).await;
        assert_eq!(status, expected, "{who}");
        if expected == 200 {
            assert_eq!(bytes, content);
            assert_eq!(headers["content-type"], "application/pdf");
            assert_eq!(headers["x-content-type-options"], "nosniff");
            assert_eq!(
                headers["content-disposition"],
                "attachment; filename=\"Signed contract _.pdf\"; filename*=UTF-8''Signed%20contract%20%C3%A9.pdf"
            );
        }
    }
    let other_project = format!("/projects/{}/tasks/contract/files/{}", w.globex, row.id);
    assert_eq!(zoe.get(&other_project).await.status, 404, "a file of another project");
    assert_eq!(dana.get(&format!("{path}/files/not-a-uuid")).await.status, 404);

    let done = dana.post(&format!("{path}/files-done"), &[("csrf", &csrf)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(w.status("contract").await, "completed");
    assert!(w.writebacks().await > before);
    let late = dana.post_file(&files, &csrf_field, ("file", "late.pdf", &pdf(2000))).await;
    assert_eq!(late.status, 409, "a completed task takes no more files");
    assert_eq!(w.stored_files(), 1, "the refused file was removed");
}

fn ring_sha256(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn a_question_is_answered_and_that_completes_it() {
    let mut w = world().await;
    let mut omar = w.portal.signed_in(OMAR).await;
    let path = w.task("goals");
    let (page, csrf) = open(&mut omar, &path).await;
    assert!(
        page.body.contains(r#"<label for="answer">What does success look like?</label>"#),
        "{}",
        page.body
    );

    let empty = omar.post(&format!("{path}/answer"), &[("csrf", &csrf), ("answer", "  ")]).await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("Enter your answer.") && empty.body.contains(r#"aria-describedby="answer-error""#));
    assert_eq!(w.status("goals").await, "pending");

    let before = w.writebacks().await;
    let answered = omar
        .post(
            &format!("{path}/answer"),
            &[("csrf", &csrf), ("answer", "Every team on the product by March.")],
        )
        .await;
    assert_eq!(answered.status, 303, "{}", answered.body);
    assert_eq!(w.status("goals").await, "completed");
    assert!(w.writebacks().await > before);
    assert!(
        w.actions()
            .await
            .ends_with(&["task.answered".to_owned(), "task.completed".to_owned()])
    );
    let shown = omar.get(&path).await.body;
    assert!(shown.contains("Every team on the product by March."), "{shown}");
}

#[tokio::test]
async fn approvals_are_for_admins_and_asking_for_changes_needs_a_note() {
    let mut w = world().await;
    let path = w.task("approve-plan");
    let action = format!("{path}/approval");

    let mut omar = w.portal.signed_in(OMAR).await;
    let (page, csrf) = open(&mut omar, &path).await;
    assert!(
        page.body
            .contains("Only an administrator of your company can decide on an approval.")
    );
    assert!(page.body.contains("<fieldset disabled>"), "{}", page.body);
    let refused = omar.post(&action, &[("csrf", &csrf), ("decision", "approve")]).await;
    assert_eq!(refused.status, 403, "{}", refused.body);

    let mut dana = w.portal.signed_in(DANA).await;
    let (page, csrf) = open(&mut dana, &path).await;
    assert!(page.body.contains("The onboarding plan and go-live date"));
    let no_note = dana
        .post(&action, &[("csrf", &csrf), ("decision", "request_changes"), ("note", "")])
        .await;
    assert_eq!(no_note.status, 422);
    assert!(no_note.body.contains("Enter what should change."), "{}", no_note.body);
    assert_eq!(w.count("SELECT COUNT(*) FROM task_submissions").await, 0);

    let before = w.writebacks().await;
    let changes = dana
        .post(
            &action,
            &[("csrf", &csrf), ("decision", "request_changes"), ("note", "Move go-live to April.")],
        )
        .await;
    assert_eq!(changes.status, 303, "{}", changes.body);
    assert_eq!(w.status("approve-plan").await, "pending", "changes requested: still open");
    assert_eq!(w.actions().await.last().unwrap(), "task.changes_requested");
    assert_eq!(w.writebacks().await, before);

    let approved = dana.post(&action, &[("csrf", &csrf), ("decision", "approve")]).await;
    assert_eq!(approved.status, 303);
    assert_eq!(w.status("approve-plan").await, "completed");
    assert!(w.writebacks().await > before);
    let shown = dana.get(&path).await.body;
    assert!(
        shown.contains("Changes requested") && shown.contains("Move go-live to April.") && shown.contains("Approved"),
        "{shown}"
    );
    assert_eq!(w.count("SELECT COUNT(*) FROM task_submissions WHERE kind = 'approval'").await, 2);
}

#[tokio::test]
async fn comments_are_listed_on_the_task_and_each_is_an_activity_entry() {
    let mut w = world().await;
    let mut omar = w.portal.signed_in(OMAR).await;
    // A task the onboarding team does: customers may still ask about it.
    let path = w.task("kickoff");
    let (page, csrf) = open(&mut omar, &path).await;
    assert!(page.body.contains("No comments yet."));
    let empty = omar.post(&format!("{path}/comments"), &[("csrf", &csrf), ("body", "")]).await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("Enter a comment."));

    let posted = omar
        .post(
            &format!("{path}/comments"),
            &[("csrf", &csrf), ("body", "Can we move it to Tuesday?\n\nThanks!")],
        )
        .await;
    assert_eq!(posted.status, 303, "{}", posted.body);
    assert_eq!(posted.location(), format!("{path}#comments"));
    let shown = w.portal.signed_in(DANA).await.get(&path).await.body;
    assert!(
        shown.contains("<strong>omar</strong>") && shown.contains("<p>Can we move it to Tuesday?</p><p>Thanks!</p>"),
        "{shown}"
    );
    assert!(w.actions().await.contains(&"task.commented".to_owned()));
    assert_eq!(w.count("SELECT COUNT(*) FROM task_comments").await, 1);
}

#[tokio::test]
async fn an_unassigned_task_goes_to_oneself_or_a_teammate_and_nobody_else() {
    let mut w = world().await;
    let (dana_id, omar_id, vera_id, zoe_id) = (
        w.portal.user_id(DANA).await,
        w.portal.user_id(OMAR).await,
        w.portal.user_id(VERA).await,
        w.portal.user_id(ZOE).await,
    );
    let mut dana = w.portal.signed_in(DANA).await;
    let path = w.task("goals");
    let (page, csrf) = open(&mut dana, &path).await;
    assert!(page.body.contains(r#"<option value="me">Me (dana)</option>"#), "{}", page.body);
    assert!(page.body.contains(&format!(r#"<option value="{omar_id}">omar</option>"#)));
    assert!(!page.body.contains(&vera_id.to_string()), "a viewer is not offered");

    let mine = dana.post(&format!("{path}/assign"), &[("csrf", &csrf), ("assignee", "me")]).await;
    assert_eq!(mine.status, 303, "{}", mine.body);
    assert_eq!(w.task_row("goals").await.assignee_id, Some(dana_id));
    assert_eq!(w.actions().await.last().unwrap(), "task.assigned");
    let taken = dana.post(&format!("{path}/assign"), &[("csrf", &csrf), ("assignee", "me")]).await;
    assert_eq!(taken.status, 409, "only unassigned tasks");

    let plan = w.task("approve-plan");
    for outsider in [zoe_id, vera_id] {
        let refused = dana
            .post(&format!("{plan}/assign"), &[("csrf", &csrf), ("assignee", &outsider.to_string())])
            .await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains("Choose yourself or a teammate on this project."));
    }
    assert_eq!(w.task_row("approve-plan").await.assignee_id, None);
    let given = dana
        .post(&format!("{plan}/assign"), &[("csrf", &csrf), ("assignee", &omar_id.to_string())])
        .await;
    assert_eq!(given.status, 303);
    assert_eq!(w.task_row("approve-plan").await.assignee_id, Some(omar_id));

    // Someone outside the project cannot assign its tasks, even to themselves.
    let mut zoe = w.portal.signed_in(ZOE).await;
    let zoe_csrf = zoe.get("/projects").await.csrf();
    let outside = zoe
        .post(
            &format!("{}/assign", w.task("contract")),
            &[("csrf", &zoe_csrf), ("assignee", "me")],
        )
        .await;
    assert_eq!(outside.status, 404);
    assert_eq!(w.task_row("contract").await.assignee_id, None);
}

#[tokio::test]
async fn viewers_read_everything_and_change_nothing() {
    let mut w = world().await;
    let mut vera = w.portal.signed_in(VERA).await;
    let (page, csrf) = open(&mut vera, &w.task("company-form")).await;
    assert!(page.body.contains("You can follow this project, but not change it."));
    assert!(page.body.contains("<fieldset disabled>"));
    assert!(!page.body.contains(r#"name="assignee""#) && !page.body.contains("Add a comment"));
    let activity = w.actions().await.len();
    for (key, action, form) in [
        ("company-form", "form", vec![("field-legal_name", "Acme")]),
        ("goals", "answer", vec![("answer", "Nothing")]),
        ("approve-plan", "approval", vec![("decision", "approve")]),
        ("kickoff", "comments", vec![("body", "Hello")]),
        ("goals", "assign", vec![("assignee", "me")]),
        ("contract", "files-done", vec![]),
    ] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(form);
        let page = vera.post(&format!("{}/{action}", w.task(key)), &fields).await;
        assert_eq!(page.status, 403, "{action}: {}", page.body);
        assert!(page.body.contains("You can follow this project, but not change it."));
    }
    let upload = vera
        .post_file(
            &format!("{}/files", w.task("contract")),
            &[("csrf", &csrf)],
            ("file", "a.pdf", &pdf(1000)),
        )
        .await;
    assert_eq!(upload.status, 403);
    assert_eq!(w.actions().await.len(), activity, "nothing recorded");
    assert_eq!(w.stored_files(), 0);
    assert_eq!(w.count("SELECT COUNT(*) FROM task_files").await, 0);
}

#[tokio::test]
async fn forms_without_the_session_s_token_are_refused_and_change_nothing() {
    let mut w = world().await;
    let mut dana = w.portal.signed_in(DANA).await;
    let (_, csrf) = open(&mut dana, &w.task("goals")).await;
    let activity = w.actions().await.len();
    for (key, action, form) in [
        ("company-form", "form", vec![("field-legal_name", "Acme")]),
        ("goals", "answer", vec![("answer", "Growth")]),
        ("approve-plan", "approval", vec![("decision", "approve")]),
        ("kickoff", "comments", vec![("body", "Hello")]),
        ("goals", "assign", vec![("assignee", "me")]),
    ] {
        let path = format!("{}/{action}", w.task(key));
        assert_eq!(dana.post(&path, &form).await.status, 403, "{action} without a token");
        let mut wrong = vec![("csrf", "not-the-token")];
        wrong.extend(form);
        assert_eq!(dana.post(&path, &wrong).await.status, 403, "{action} with a wrong token");
    }
    let files = format!("{}/files", w.task("contract"));
    let no_token = dana.post_file(&files, &[], ("file", "a.pdf", &pdf(1000))).await;
    assert_eq!(no_token.status, 403, "{}", no_token.body);
    let wrong = dana.post_file(&files, &[("csrf", "nope")], ("file", "a.pdf", &pdf(1000))).await;
    assert_eq!(wrong.status, 403);
    // The token of the right session passes, proving the refusals were about it.
    let fine = dana
        .post(&format!("{}/comments", w.task("kickoff")), &[("csrf", &csrf), ("body", "Hi")])
        .await;
    assert_eq!(fine.status, 303);
    assert_eq!(w.actions().await.len(), activity + 1);
    assert_eq!(w.count("SELECT COUNT(*) FROM task_submissions").await, 0);
    assert_eq!(w.count("SELECT COUNT(*) FROM task_files").await, 0);
    assert_eq!(w.stored_files(), 0);
    assert_eq!(w.task_row("goals").await.assignee_id, None);
}
