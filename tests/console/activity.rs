//! The activity trail in the console and the API: a sentence per entry with who, when
//! and from where; searched on the server by any word of it (a rejection's note, a
//! file's name, the actor's name), filtered by type, paged by keyset without repeats.
//! And the documents API: the inbox, a review, refusals. On SQLite or PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::console_support::{api_get, api_post, api_token, csrf};
use crate::documents::{World, pdf, world};
use crate::portal_support::Portal;

/// The JSON API's answer to `GET path`, which must be a 200.
pub(crate) async fn api_get_ok(portal: &Portal, token: &str, path: &str) -> Value {
    let (status, body) = api_get(portal, token, path).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// Dana uploads the signed contract and hands it in; Sam rejects it with `note`.
async fn rejected_upload(w: &mut World, note: &str) -> uuid::Uuid {
    let file = w.upload(w.acme, "contract", "Signed contract.pdf", &pdf(3000)).await;
    w.hand_in("contract").await;
    let done = w.review(file, "reject", note).await;
    assert_eq!(done.status, 303, "{}", done.body);
    file
}

const REJECTION: &str = "rejected Signed contract.pdf on Upload the signed contract: “The scan is too blurry”";
const UPLOAD: &str = "uploaded Signed contract.pdf to Upload the signed contract";

#[tokio::test]
async fn the_trail_finds_a_rejection_by_a_word_of_its_note_or_its_file_name_and_filters_by_type() {
    let mut w = world().await;
    rejected_upload(&mut w, "The scan is too blurry").await;

    let page = w.staff.get("/console/activity?q=blurry").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = page.body;
    assert!(body.contains(REJECTION), "{body}");
    assert!(
        body.contains(r#"<td data-label="Who">Sam Staff</td>"#) && body.contains(r#"<td data-label="From">Console</td>"#),
        "{body}"
    );
    assert!(body.contains("Acme onboarding"), "the global trail names the project: {body}");
    assert!(!body.contains(UPLOAD), "the upload has no such word: {body}");

    let by_name = w.staff.get("/console/activity?q=Signed+contr").await.body;
    assert!(by_name.contains(REJECTION) && by_name.contains(UPLOAD), "{by_name}");
    assert!(
        by_name.contains(r#"<td data-label="From">Portal</td>"#),
        "the upload came from the portal: {by_name}"
    );
    let by_actor = w.staff.get("/console/activity?q=sam").await.body;
    assert!(by_actor.contains(REJECTION), "{by_actor}");

    let acme = format!("/console/projects/{}/activity", w.acme);
    let tab = w.staff.get(&format!("{acme}?q=blurry")).await;
    assert_eq!(tab.status, 200);
    assert!(
        tab.body.contains(REJECTION) && tab.body.contains(r#"aria-current="page">Activity"#),
        "{}",
        tab.body
    );
    let globex = w.staff.get(&format!("/console/projects/{}/activity?q=blurry", w.globex)).await.body;
    assert!(globex.contains("No entries match.") && !globex.contains(REJECTION), "{globex}");
    assert!(w.staff.get("/console/activity?q=zebra").await.body.contains("No entries match."));

    let files = w.staff.get("/console/activity?type=file").await.body;
    assert!(files.contains(REJECTION) && !files.contains(UPLOAD), "{files}");
    let tasks = w.staff.get(&format!("{acme}?type=task")).await.body;
    assert!(
        tasks.contains(UPLOAD) && tasks.contains("reopened Upload the signed contract"),
        "{tasks}"
    );
    assert!(!tasks.contains("rejected Signed"), "{tasks}");
    let both = w.staff.get(&format!("{acme}?type=task&q=blurry")).await.body;
    assert!(both.contains("No entries match."), "the filters combine: {both}");
    assert_eq!(w.staff.get("/console/activity?type=task%27--").await.status, 400);
    assert_eq!(w.staff.get("/console/activity?before=x").await.status, 400);
}

/// The ids of a trail page's entries, and its link to older ones.
fn entries_and_next(body: &str) -> (Vec<i64>, Option<String>) {
    let ids = body
        .split(r#"<tr id="entry-"#)
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
        .collect();
    let next = body
        .split(r#"" rel="next">"#)
        .next()
        .filter(|_| body.contains(r#"rel="next""#))
        .map(|before| {
            let href = &before[before.rfind("href=\"").unwrap() + 6..];
            href.replace("&amp;", "&")
        });
    (ids, next)
}

/// What the index holds of an entry (bar names of tasks and actors, which these
/// synthetic entries do not have), split into words as the index splits them.
fn words_of(action: &str, source: &str, details: &Value) -> Vec<String> {
    fn strings(v: &Value, out: &mut String) {
        match v {
            Value::String(s) => {
                out.push(' ');
                out.push_str(s);
            }
            Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
            Value::Object(o) => o.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }
    let mut text = format!("{action} {source}");
    strings(details, &mut text);
    text.split(|c: char| !c.is_alphanumeric()).map(str::to_lowercase).collect()
}

#[tokio::test]
async fn the_trail_pages_by_keyset_without_repeats_and_a_search_spans_pages() {
    let mut w = world().await;
    let store = w.portal.app.store().clone();
    store.seed_activity_for_bench(w.acme, 130).await.unwrap();
    let all: Vec<_> = store.project_activity(w.acme).await.unwrap();
    assert!(all.len() > 130);

    let mut seen = Vec::new();
    let mut next = Some(format!("/console/projects/{}/activity", w.acme));
    while let Some(path) = next {
        let page = w.staff.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        let (ids, more) = entries_and_next(&page.body);
        assert!(ids.len() <= 50);
        seen.extend(ids);
        next = more;
    }
    assert!(seen.windows(2).all(|p| p[0] > p[1]), "newest first, no repeats");
    let mut expected: Vec<i64> = all.iter().map(|a| a.id).collect();
    expected.reverse();
    assert_eq!(seen, expected, "every entry once");

    // A search, seven entries a page over the API, finds exactly what holds the word.
    let token = api_token(&w.portal, "review-bot").await;
    let mut found = Vec::new();
    let mut before = String::new();
    loop {
        let path = format!("/api/v1/activity?project={}&q=contract&limit=7{before}", w.acme);
        let page = api_get_ok(&w.portal, &token, &path).await;
        found.extend(page["entries"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()));
        match page["next_before"].as_i64() {
            Some(id) => before = format!("&before={id}"),
            None => break,
        }
    }
    let holding: Vec<i64> = all
        .iter()
        .rev()
        .filter(|a| {
            words_of(&a.entry.action, &a.entry.source, &a.entry.details)
                .iter()
                .any(|w| w.starts_with("contract"))
        })
        .map(|a| a.id)
        .collect();
    assert!(!holding.is_empty() && holding.len() < all.len(), "the seed varies its words");
    assert_eq!(found, holding);
    assert_eq!(found.iter().collect::<HashSet<_>>().len(), found.len());

    // Type and words together, across every project.
    let page = api_get_ok(&w.portal, &token, "/api/v1/activity?type=file&q=blurry&limit=200").await;
    let entries = page["entries"].as_array().unwrap();
    assert!(!entries.is_empty());
    for e in entries {
        assert!(e["action"].as_str().unwrap().starts_with("file."), "{e}");
        let words = words_of(e["action"].as_str().unwrap(), e["source"].as_str().unwrap(), &e["details"]);
        assert!(words.iter().any(|w| w.starts_with("blurry")), "{e}");
    }
    let _ = &mut w;
}

#[tokio::test]
async fn the_api_lists_the_inbox_reviews_a_file_and_reads_the_trail() {
    let mut w = world().await;
    let file = w.upload(w.acme, "contract", "Signed contract.pdf", &pdf(3000)).await;
    w.hand_in("contract").await;
    let token = api_token(&w.portal, "review-bot").await;

    let inbox = api_get_ok(&w.portal, &token, "/api/v1/files?status=pending&q=signed").await;
    let files = inbox["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{inbox}");
    assert_eq!(files[0]["id"], file.to_string());
    assert_eq!(files[0]["task"], "contract");
    assert_eq!(files[0]["phase"], "Legal paperwork");
    assert_eq!(files[0]["review_status"], "pending");
    assert!(
        api_get_ok(&w.portal, &token, "/api/v1/files?q=zebra").await["files"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let path = format!("/api/v1/files/{file}/review");
    let (status, body) = api_post(&w.portal, &token, &path, json!({ "decision": "reject" })).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().unwrap().contains("Say why"), "{body}");
    assert_eq!(w.task_status("contract").await, "completed", "nothing changed");
    let (status, _) = api_post(&w.portal, &token, &path, json!({ "decision": "later" })).await;
    assert_eq!(status, 400);
    let unknown = format!("/api/v1/files/{}/review", uuid::Uuid::now_v7());
    let (status, _) = api_post(&w.portal, &token, &unknown, json!({ "decision": "approve" })).await;
    assert_eq!(status, 404);

    let (status, body) = api_post(
        &w.portal,
        &token,
        &path,
        json!({ "decision": "reject", "note": "Please sign page 2" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "rejected");
    assert_eq!(
        (body["changed"].as_bool(), body["reopened_task"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(w.task_status("contract").await, "pending");

    let trail = api_get_ok(&w.portal, &token, &format!("/api/v1/activity?project={}&type=file&q=page", w.acme)).await;
    let entries = trail["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{trail}");
    assert_eq!(
        entries[0]["what"],
        "rejected Signed contract.pdf on Upload the signed contract: “Please sign page 2”"
    );
    assert_eq!(
        (entries[0]["channel"].as_str(), entries[0]["source"].as_str()),
        (Some("API"), Some("api:review-bot"))
    );
    let rejected = api_get_ok(&w.portal, &token, "/api/v1/files?status=rejected").await;
    assert_eq!(rejected["files"][0]["review_note"], "Please sign page 2");

    let anonymous = w
        .portal
        .app
        .client
        .get(format!("{}/api/v1/activity", w.portal.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // The console shows what the API did.
    let token = csrf(&mut w.staff, "/console/activity?q=page").await;
    assert!(!token.is_empty());
    let page = w.staff.get("/console/activity?q=page").await.body;
    assert!(
        page.contains(r#"<td data-label="From">API</td>"#) && page.contains(r#"<td data-label="Who">handoff</td>"#),
        "{page}"
    );
}
