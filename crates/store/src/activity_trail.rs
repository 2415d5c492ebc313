//! Reading the activity trail as the console shows it: newest first, a page at a time
//! by keyset (`id < before`, never OFFSET), filtered by project and type, and searched
//! by words on the server.
//!
//! The search reads an index migration 0016 keeps for every entry (triggers fill it
//! on insert, whoever inserts): on SQLite the FTS5 table `activity_search`, walked by
//! id descending so a page stops early (each word of three characters or fewer looked
//! up in its own prefix index, a longer one as the terms it starts: see
//! [`sqlite_word_match`]); on PostgreSQL the `tsvector` column `search`
//! under a GIN index, planned per query (the statement is not cached as a generic plan,
//! so the planner sees the words and picks the GIN index for rare ones and the primary
//! key backwards for common ones).

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::{Db, Store, StoreError, on_pool};
use handoff_domain::people::{Actor, NewActivity};
use handoff_domain::{ProjectId, UserId};

/// At most this many words of a search are used; the rest are ignored.
const MAX_WORDS: usize = 8;
/// Longer words are cut to this many characters (a prefix still finds them).
const MAX_WORD_CHARS: usize = 40;

/// The words of a search as the index holds them: letters and digits, lower case;
/// everything else separates words (as the indexes' tokenizers do). Each word is
/// matched as a prefix.
pub fn search_words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_WORDS)
        .map(|w| w.chars().take(MAX_WORD_CHARS).collect::<String>().to_lowercase())
        .collect()
}

/// What to read of the trail.
#[derive(Clone, Debug, Default)]
pub struct TrailQuery {
    /// One project's entries, or every project's (and those of no project).
    pub project: Option<ProjectId>,
    /// Entries whose action starts with `<kind>.` (`task`, `project`, `member`, …).
    pub kind: Option<String>,
    /// Entries whose text holds every word (as a prefix); see [`search_words`].
    pub words: Vec<String>,
    /// Entries older than this id (the last id of the previous page).
    pub before: Option<i64>,
    /// The page's size.
    pub limit: u32,
}

/// One entry of the trail with the names it refers to.
#[derive(Clone, Debug, PartialEq)]
pub struct TrailEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub project_id: Option<ProjectId>,
    pub project_name: Option<String>,
    pub actor: Actor,
    /// The actor's name (or email); `None` for handoff itself.
    pub actor_name: Option<String>,
    pub action: String,
    pub source: String,
    pub details: serde_json::Value,
    /// The title of the task the entry names (`details.task`), if it still exists.
    pub task_title: Option<String>,
}

/// A page of the trail, and the `before` of the next one when there is more.
#[derive(Clone, Debug, PartialEq)]
pub struct TrailPage {
    pub entries: Vec<TrailEntry>,
    pub next_before: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct TrailRow {
    id: i64,
    at: DateTime<Utc>,
    project_id: Option<Uuid>,
    project_name: Option<String>,
    actor_user_id: Option<Uuid>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    action: String,
    source: String,
    details: Json<serde_json::Value>,
    task_title: Option<String>,
}

impl From<TrailRow> for TrailEntry {
    fn from(r: TrailRow) -> Self {
        let actor_name = super::task_work::display_name(r.first_name, r.last_name, r.email);
        TrailEntry {
            id: r.id,
            at: r.at,
            project_id: r.project_id.map(ProjectId::from_uuid),
            project_name: r.project_name,
            actor: r.actor_user_id.map_or(Actor::System, |u| Actor::User(UserId::from_uuid(u))),
            actor_name,
            action: r.action,
            source: r.source,
            details: r.details.0,
            task_title: r.task_title,
        }
    }
}

/// The columns of a [`TrailRow`], from `activity a` and the names it refers to.
const SELECT: &str = "SELECT a.id, a.at, a.project_id, p.name AS project_name, a.actor_user_id, u.first_name, u.last_name, u.email, \
                      a.action, a.source, a.details, t.title AS task_title";
const JOINS: &str = "LEFT JOIN projects p ON p.id = a.project_id LEFT JOIN users u ON u.id = a.actor_user_id \
                     LEFT JOIN tasks t ON t.project_id = a.project_id AND t.key = a.details ->> 'task'";

/// A bound value of a trail query, in placeholder order.
enum Bind {
    Text(String),
    Id(i64),
    Uuid(Uuid),
}

impl Store {
    /// A page of the trail, newest first (see [`TrailQuery`]).
    pub async fn activity_trail(&self, q: &TrailQuery) -> Result<TrailPage, StoreError> {
        let limit = q.limit.clamp(1, 500);
        let (sql, binds) = if q.words.is_empty() {
            listing_sql(q, limit)
        } else {
            match &self.db {
                Db::Sqlite(pool) => match sqlite_match(pool, q).await? {
                    Some(expression) => sqlite_search_sql(q, expression, limit),
                    None => {
                        return Ok(TrailPage {
                            entries: Vec::new(),
                            next_before: None,
                        });
                    }
                },
                Db::Postgres(_) => postgres_search_sql(q, limit),
            }
        };
        let sql = sqlx::AssertSqlSafe(sql);
        let mut rows: Vec<TrailRow> = on_pool!(self, pool => {
            // Not a cached statement: PostgreSQL plans it with the words it searches for.
            let mut query = sqlx::query_as(sql).persistent(false);
            for b in binds {
                query = match b {
                    Bind::Text(s) => query.bind(s),
                    Bind::Id(i) => query.bind(i),
                    Bind::Uuid(u) => query.bind(u),
                };
            }
            query.fetch_all(pool).await
        })?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_before = if more { rows.last().map(|r| r.id) } else { None };
        Ok(TrailPage {
            entries: rows.into_iter().map(Into::into).collect(),
            next_before,
        })
    }
}

/// Without words: the primary key or the (project, type, id) indexes, backwards.
fn listing_sql(q: &TrailQuery, limit: u32) -> (String, Vec<Bind>) {
    let mut binds = Vec::new();
    let mut conditions = Vec::new();
    filters(q, "a.", &mut conditions, &mut binds);
    let sql = format!(
        "{SELECT} FROM activity a {JOINS}{} ORDER BY a.id DESC LIMIT {}",
        where_clause(&conditions),
        limit + 1
    );
    (sql, binds)
}

/// Words of at most this many characters have a prefix index of their own (migration
/// 0019); longer ones are searched as the terms they start.
const INDEXED_PREFIX_CHARS: usize = 3;
/// A longer word that starts more terms than this is searched as a plain prefix.
const MAX_COMPLETIONS: usize = 16;

/// SQLite: the FTS5 expression for the words, every one required; `None` when a word
/// starts no term at all, so nothing can match.
async fn sqlite_match(pool: &sqlx::SqlitePool, q: &TrailQuery) -> Result<Option<Vec<String>>, StoreError> {
    let mut conn = pool.acquire().await?;
    let mut expression = Vec::with_capacity(q.words.len());
    for word in &q.words {
        match sqlite_word_match(&mut conn, word).await? {
            Some(term) => expression.push(term),
            None => return Ok(None),
        }
    }
    Ok(Some(expression))
}

/// One word as an FTS5 expression on the body column, chosen so that the search walks
/// the index lazily, newest first, and stops at its page. FTS5 answers a plain prefix
/// (`"word"*`) by merging the doclists of every term it starts before the first row,
/// which for a word in most entries costs tens of milliseconds on a million entries;
/// a whole term, or an OR of a few, costs a fraction of one. So:
///
/// * up to [`INDEXED_PREFIX_CHARS`] characters: the prefix, answered by its own
///   prefix index as if it were a term;
/// * longer: the terms it starts, listed from the vocabulary one seek at a time (each
///   lookup asks for the first term after the last one found), as `("t1" OR "t2")`;
///   a word that starts more than [`MAX_COMPLETIONS`] terms falls back to the prefix,
///   correct and only slower;
/// * not ASCII: the prefix, because the tokenizer folds diacritics (`é` is indexed as
///   `e`) and FTS5 folds the query's word the same way, which comparing the word with
///   the vocabulary would not.
async fn sqlite_word_match(conn: &mut sqlx::SqliteConnection, word: &str) -> Result<Option<String>, StoreError> {
    let prefix = format!("body : {}*", fts5_string(word));
    if word.chars().count() <= INDEXED_PREFIX_CHARS || !word.is_ascii() {
        return Ok(Some(prefix));
    }
    // Terms are letters and digits; appending '!' (below every letter and digit) to
    // one gives the smallest string after it and every term that extends it.
    const NEXT_TERM: &str = "SELECT term FROM activity_search_terms WHERE term >= $1 LIMIT 1";
    let mut terms: Vec<String> = Vec::new();
    let mut from = word.to_owned();
    while terms.len() <= MAX_COMPLETIONS {
        let term: Option<String> = sqlx::query_scalar(NEXT_TERM).bind(&from).fetch_optional(&mut *conn).await?;
        match term {
            Some(term) if term.starts_with(word) => {
                from = format!("{term}!");
                terms.push(term);
            }
            _ => break,
        }
    }
    Ok(match terms.len() {
        0 => None,
        n if n > MAX_COMPLETIONS => Some(prefix),
        _ => {
            let any: Vec<String> = terms.iter().map(|t| fts5_string(t)).collect();
            Some(format!("body : ({})", any.join(" OR ")))
        }
    })
}

/// `s` as an FTS5 string (quoted, quotes doubled): a term, never query syntax.
fn fts5_string(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// SQLite: the FTS5 index answers the words and the filters (type and project are
/// columns of it) in id order, descending, and stops at the page.
fn sqlite_search_sql(q: &TrailQuery, mut terms: Vec<String>, limit: u32) -> (String, Vec<Bind>) {
    if let Some(kind) = &q.kind {
        // A type is a word; anything else finds nothing rather than breaking the query.
        let kind: String = kind.chars().filter(|c| c.is_alphanumeric() || *c == '_').collect();
        terms.push(format!("kind : \"{kind}\""));
    }
    if let Some(project) = q.project {
        terms.push(format!("project : \"{}\"", project.as_uuid().simple()));
    }
    let mut binds = vec![Bind::Text(terms.join(" AND "))];
    let mut conditions = vec!["activity_search MATCH $1".to_owned()];
    if let Some(before) = q.before {
        binds.push(Bind::Id(before));
        conditions.push(format!("s.rowid < ${}", binds.len()));
    }
    let sql = format!(
        "{SELECT} FROM activity_search s JOIN activity a ON a.id = s.rowid {JOINS}{} ORDER BY s.rowid DESC LIMIT {}",
        where_clause(&conditions),
        limit + 1
    );
    (sql, binds)
}

/// PostgreSQL: `search @@ query` with the filters; every word a prefix (`word:*`).
fn postgres_search_sql(q: &TrailQuery, limit: u32) -> (String, Vec<Bind>) {
    let query = q.words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & ");
    let mut binds = vec![Bind::Text(query)];
    let mut conditions = vec!["a.search @@ to_tsquery('simple', $1)".to_owned()];
    filters(q, "a.", &mut conditions, &mut binds);
    let sql = format!(
        "{SELECT} FROM activity a {JOINS}{} ORDER BY a.id DESC LIMIT {}",
        where_clause(&conditions),
        limit + 1
    );
    (sql, binds)
}

/// Project, type and keyset conditions on `activity` (aliased by `prefix`).
fn filters(q: &TrailQuery, prefix: &str, conditions: &mut Vec<String>, binds: &mut Vec<Bind>) {
    if let Some(project) = q.project {
        binds.push(Bind::Uuid(project.as_uuid()));
        conditions.push(format!("{prefix}project_id = ${}", binds.len()));
    }
    if let Some(kind) = &q.kind {
        binds.push(Bind::Text(kind.clone()));
        conditions.push(format!("{prefix}kind = ${}", binds.len()));
    }
    if let Some(before) = q.before {
        binds.push(Bind::Id(before));
        conditions.push(format!("{prefix}id < ${}", binds.len()));
    }
}

fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// Words the synthetic entries of [`Store::seed_activity_for_bench`] are made of.
const BENCH_WORDS: &[&str] = &[
    "contract",
    "invoice",
    "scan",
    "signed",
    "blurry",
    "passport",
    "logo",
    "brand",
    "budget",
    "security",
    "review",
    "kickoff",
    "training",
    "migration",
    "export",
    "import",
    "billing",
    "legal",
    "terms",
    "privacy",
    "policy",
    "diagram",
    "network",
    "access",
    "account",
    "payroll",
    "tax",
    "receipt",
    "license",
    "certificate",
    "audit",
    "roadmap",
    "schedule",
    "handbook",
    "checklist",
    "questionnaire",
    "agreement",
    "addendum",
    "appendix",
    "summary",
];
const BENCH_ACTIONS: &[&str] = &[
    "task.completed",
    "task.file_uploaded",
    "task.commented",
    "file.rejected",
    "file.approved",
    "member.added",
    "invitation.reissued",
    "project.status_changed",
    "task.assigned",
    "portal.signed_in",
];
const BENCH_SOURCES: &[&str] = &["portal", "console", "api:bench", "crm:salesforce", "cli"];

impl Store {
    /// For benchmarks only: appends `n` synthetic entries to `project`'s trail (varied
    /// actions, sources, file names and notes from a fixed vocabulary, so searches
    /// match some entries and not others), through the same triggers as every entry,
    /// then refreshes the planner's statistics. Deterministic for a given `n`.
    pub async fn seed_activity_for_bench(&self, project: ProjectId, n: u64) -> Result<(), StoreError> {
        const PER_TX: u64 = 20_000;
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            // xorshift64: cheap, deterministic variety.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let pick = |r: u64, from: &[&'static str]| from[(r % from.len() as u64) as usize];
        let mut done = 0;
        while done < n {
            let batch = PER_TX.min(n - done);
            let entries: Vec<NewActivity> = (0..batch)
                .map(|i| {
                    let action = pick(next(), BENCH_ACTIONS);
                    let (w1, w2, w3) = (pick(next(), BENCH_WORDS), pick(next(), BENCH_WORDS), pick(next(), BENCH_WORDS));
                    let details = serde_json::json!({
                        "task": format!("bench-task-{}", (done + i) % 200),
                        "name": format!("{w1} {w2} {}.pdf", (done + i) % 1000),
                        "note": format!("{w3} needs another look"),
                    });
                    NewActivity {
                        project_id: Some(project),
                        actor: Actor::System,
                        action: action.into(),
                        source: pick(next(), BENCH_SOURCES).into(),
                        details,
                    }
                })
                .collect();
            let mut tx = self.begin().await?;
            tx.record_activities(&entries).await?;
            tx.commit().await?;
            done += batch;
        }
        const ANALYZE: &str = "ANALYZE activity";
        on_pool!(self, pool => sqlx::query(ANALYZE).execute(pool).await.map(|r| r.rows_affected()))?;
        if let Db::Sqlite(pool) = &self.db {
            // The FTS5 index is merged into few segments, as a long-lived database's is.
            sqlx::query("INSERT INTO activity_search (activity_search) VALUES ('optimize')")
                .execute(pool)
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_split_into_lower_case_words_of_letters_and_digits() {
        assert_eq!(
            search_words("  Contract.PDF  blurry,scan; é"),
            ["contract", "pdf", "blurry", "scan", "é"]
        );
        assert!(search_words("\"*():-").is_empty(), "no query syntax gets through");
        assert_eq!(search_words(&"a ".repeat(20)).len(), MAX_WORDS);
        assert_eq!(search_words(&"x".repeat(100))[0].len(), MAX_WORD_CHARS);
    }
}
