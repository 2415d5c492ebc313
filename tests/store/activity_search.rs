//! The activity trail's word search, where the two databases answer it differently:
//! SQLite looks a short word up in a prefix index and a longer one as the terms it
//! starts (store/activity_trail.rs); both must find exactly what PostgreSQL's prefix
//! search finds, newest first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::TestDb;
use handoff::domain::people::{Actor, NewActivity};
use handoff::store::{Store, TrailQuery, search_words};

/// Records one entry per note, oldest first; returns their ids in that order.
async fn record(store: &Store, notes: &[&str]) -> Vec<i64> {
    for note in notes {
        let mut tx = store.begin().await.unwrap();
        tx.record_activity(&NewActivity {
            project_id: None,
            actor: Actor::System,
            action: "file.rejected".into(),
            source: "console".into(),
            details: serde_json::json!({ "note": note }),
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let all = search(store, "rejected").await;
    all.into_iter().rev().collect()
}

/// The ids of the entries a search finds, newest first.
async fn search(store: &Store, q: &str) -> Vec<i64> {
    let page = store
        .activity_trail(&TrailQuery {
            words: search_words(q),
            limit: 500,
            ..TrailQuery::default()
        })
        .await
        .unwrap();
    page.entries.iter().map(|e| e.id).collect()
}

#[tokio::test]
async fn every_word_is_a_prefix_however_many_terms_it_starts() {
    let db = TestDb::new().await;
    let store = db.store().await;
    // 20 terms start "invoice" (more than a word is expanded into), one entry each,
    // and a few others that share shorter prefixes.
    let many: Vec<String> = (0..20).map(|n| format!("invoice{n:02} is blurry")).collect();
    let mut notes: Vec<&str> = many.iter().map(String::as_str).collect();
    notes.extend(["the invoices are late", "an invitation went out", "a café receipt", "in review"]);
    let ids = record(&store, &notes).await;
    let newest_first = |range: std::ops::Range<usize>| -> Vec<i64> { ids[range].iter().rev().copied().collect() };

    // A longer word that starts more than 16 terms: all 21 entries that hold one.
    assert_eq!(search(&store, "invoice").await, newest_first(0..21));
    // One that starts a single term, and a whole term.
    assert_eq!(search(&store, "invoices").await, newest_first(20..21));
    assert_eq!(search(&store, "invoice07").await, newest_first(7..8));
    // A short word, answered by its prefix index: invoice*, invitation and "in".
    assert_eq!(
        search(&store, "in").await,
        newest_first(0..24).into_iter().filter(|id| *id != ids[22]).collect::<Vec<_>>()
    );
    assert_eq!(search(&store, "inv").await, newest_first(0..22));
    // A word with a diacritic, as written.
    assert_eq!(search(&store, "Café").await, vec![ids[22]]);
    assert_eq!(search(&store, "caf").await, vec![ids[22]]);
    // Every word must match; a word that starts no term finds nothing.
    assert_eq!(search(&store, "invoice blurry").await, newest_first(0..20));
    assert_eq!(search(&store, "invitat went").await, vec![ids[21]]);
    assert!(search(&store, "invoicez").await.is_empty());
    assert!(search(&store, "blurry zebra").await.is_empty());
}
