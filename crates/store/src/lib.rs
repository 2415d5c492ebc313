//! Persistence. All SQL lives under this module, one file per aggregate.
//!
//! One code path serves SQLite and PostgreSQL: queries are written once, in the
//! dialect both accept (`$1` placeholders, `RETURNING`, `ON CONFLICT`), and the
//! [`on_pool!`]/[`on_tx!`] macros expand each query once per backend, so the compiler
//! checks it against both drivers' types. Where the dialects differ, the code matches on
//! the backend explicitly. (sqlx's `Any` driver was the alternative; it cannot carry
//! UUIDs, dates or JSON natively.)

mod activity;
// The staff console's activity trail and document review (#13).
mod activity_trail;
mod api_tokens;
mod bulk;
mod claims;
// The console's project list, dashboard and assigned tasks (#13).
mod console_projects;
mod health;
pub mod inbound;
mod invitations;
mod mapping;
// The console's Members and Emails tabs (issue #13).
mod member_admin;
mod members;
mod open;
pub mod outbox;
mod people;
mod plan_rows;
mod portal;
mod projects;
mod record_changes;
mod record_trace;
mod review;
mod rows;
pub mod sealed;
mod sessions;
mod staff;
// The console's Tasks tab and its API (#13).
mod staff_tasks;
mod sync_state;
mod task_digests;
mod task_work;
mod team;
mod workflow_outages;
pub mod writeback;

use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

pub use activity_trail::{TrailEntry, TrailPage, TrailQuery, search_words};
pub use api_tokens::Revocation;
pub use console_projects::{AssignedTask, ProjectCursor, ProjectFilter, ProjectListing, ProjectOwner, ProjectPage};
pub use invitations::{InvitationContext, InvitationInfo, InvitationKey};
pub use mapping::{CrmStaff, NewStaff, ProjectMapping, StaffAdded};
pub use members::{NewCustomer, Person};
pub use open::redact_url;
pub use people::NewUser;
pub use plan_rows::{CrmMembership, EngineCounts, LinkedMember};
pub use projects::{ProjectSummary, TaskState};
pub use record_changes::StoredChange;
pub use record_trace::{NewDecision, TraceRows, TracedChange, TracedDecision, TracedInvitation, TracedProject, TracedWriteback, Verdict};
pub use review::{Document, DocumentPage, DocumentQuery, FileUnderReview};
pub use sessions::{LinkProblem, NewSession, ProjectAccess, Session, UsableInvitation};
pub use staff::{ConsoleLinkProblem, ConsoleSession, NewConsoleSession, OAuthRequest, StaffAccount};
pub use staff_tasks::{Assignable, AssigneeStanding, StaffTaskState};
pub use sync_state::StoredToken;
pub use task_work::{NewTaskFile, StoredSubmission, TaskComment, TaskFile};
pub use team::{Picture, TeamMember};
// The console's Emails tab (issue #13).
pub use task_digests::SentTaskDigest;

/// Runs `$body` with `$p` bound to the backend's pool.
macro_rules! on_pool {
    ($store:expr, $p:ident => $body:expr) => {
        match &$store.db {
            $crate::Db::Sqlite($p) => $body,
            $crate::Db::Postgres($p) => $body,
        }
    };
}
/// Runs `$body` with `$c` bound to the backend's open transaction (`$tx`: `&mut Tx`).
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match &mut ($tx).inner {
            $crate::TxInner::Sqlite($c) => $body,
            $crate::TxInner::Postgres($c) => $body,
        }
    };
}
pub(crate) use {on_pool, on_tx};

#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A write transaction on either backend, from [`Store::begin`]. Dropped without
/// [`Tx::commit`], it rolls back.
///
/// The engine makes its decisions inside one: it reads what a rule needs through the
/// store's `impl Tx` methods (each module of this crate adds those of its tables),
/// decides, and writes through them, so the check and the change cannot be separated
/// by a concurrent change. Only this crate sees the connection inside: SQL stays here.
pub struct Tx {
    inner: TxInner,
}

pub(crate) enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub async fn commit(self) -> Result<(), StoreError> {
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit().await?,
            TxInner::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database handle the whole application shares; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("cannot apply database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Conflict(String),
    #[error("the database holds a value handoff cannot read: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        StoreError::NotFound { what, id: id.to_string() }
    }
}

impl Store {
    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the migrations this binary carries. Safe to run from several processes
    /// at once: sqlx takes a lock (an advisory lock on PostgreSQL) while migrating.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let before = self.applied_migrations().await;
        match &self.db {
            Db::Sqlite(pool) => sqlx::migrate!("../../migrations/sqlite").run(pool).await?,
            Db::Postgres(pool) => sqlx::migrate!("../../migrations/postgres").run(pool).await?,
        }
        Ok(self.applied_migrations().await.saturating_sub(before))
    }

    /// How many migrations the database records as applied (0 before the first run,
    /// when sqlx's bookkeeping table does not exist yet).
    async fn applied_migrations(&self) -> usize {
        const SQL: &str = "SELECT COUNT(*) FROM _sqlx_migrations WHERE success";
        let count: Result<i64, sqlx::Error> = on_pool!(self, p => sqlx::query_scalar(SQL).fetch_one(p).await);
        count.map_or(0, |n| usize::try_from(n).unwrap_or(0))
    }

    /// Whether the database answers, for `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }

    /// Begins a write transaction. On SQLite it is `BEGIN IMMEDIATE`: it takes the write
    /// lock up front, so two writers queue on busy_timeout instead of one failing with
    /// SQLITE_BUSY when it upgrades from reading to writing.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let inner = match &self.db {
            Db::Sqlite(p) => TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => TxInner::Postgres(p.begin().await?),
        };
        Ok(Tx { inner })
    }
}
