//! Staff accounts as the console sees them (role, revocation), console sessions, the
//! sign-in links emailed to staff, and OAuth requests between the redirect to a CRM and
//! its callback. Only hashes of session ids, link tokens and OAuth states are stored.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use uuid::Uuid;

use super::outbox::Enqueue;
use super::rows::{UserRow, user_columns};
use super::{Store, StoreError, Tx, on_pool, on_tx};
use handoff_domain::outbox::EmailJob;
use handoff_domain::people::{StaffRole, User};
use handoff_domain::plan::NewInvitation;
use handoff_domain::{Email, UserId};

/// `last_seen_at` is written at most this often per console session.
const TOUCH_RESOLUTION: Duration = Duration::minutes(1);

/// A staff member: an internal user with a console role.
#[derive(Clone, Debug, PartialEq)]
pub struct StaffAccount {
    pub user: User,
    pub role: StaffRole,
    /// Revoked accounts sign in no more.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl StaffAccount {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

#[derive(sqlx::FromRow)]
struct StaffRow {
    #[sqlx(flatten)]
    user: UserRow,
    staff_role: Option<String>,
    staff_revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<StaffRow> for StaffAccount {
    type Error = StoreError;
    fn try_from(r: StaffRow) -> Result<Self, StoreError> {
        let role = r.staff_role.as_deref().unwrap_or("staff");
        Ok(StaffAccount {
            user: r.user.try_into()?,
            role: super::rows::parse("users.staff_role", role)?,
            revoked_at: r.staff_revoked_at,
        })
    }
}

macro_rules! staff_select {
    () => {
        concat!("SELECT ", user_columns!(), ", u.staff_role, u.staff_revoked_at FROM users u ")
    };
}

/// A live console session and its staff member.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsoleSession {
    pub staff: StaffAccount,
    pub signed_in_with: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A console session to store at sign-in (for the staff member it is started for).
#[derive(Clone, Debug)]
pub struct NewConsoleSession<'a> {
    pub id_hash: &'a str,
    /// `salesforce:<connection>`, `hubspot:<connection>` or `email`.
    pub signed_in_with: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The hash of a console session the browser already had: it ends.
    pub replacing: Option<&'a str>,
}

/// Why an emailed console link signs no one in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsoleLinkProblem {
    Unknown,
    Used,
    Expired,
    /// The staff account was revoked since the link was sent.
    Revoked,
}

/// An OAuth authorization request in flight.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct OAuthRequest {
    pub purpose: String,
    pub connection: String,
    pub sealed_verifier: Option<String>,
    pub next: Option<String>,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    pub async fn staff_account(&self, user: UserId) -> Result<Option<StaffAccount>, StoreError> {
        const SQL: &str = concat!(staff_select!(), "WHERE u.id = $1 AND u.kind = 'internal'");
        let row: Option<StaffRow> = on_pool!(self, pool => sqlx::query_as(SQL).bind(user.as_uuid()).fetch_optional(pool).await)?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn staff_by_email(&self, email: &Email) -> Result<Option<StaffAccount>, StoreError> {
        const SQL: &str = concat!(staff_select!(), "WHERE u.email = $1 AND u.kind = 'internal'");
        let row: Option<StaffRow> = on_pool!(self, pool => sqlx::query_as(SQL).bind(email.as_str()).fetch_optional(pool).await)?;
        row.map(TryInto::try_into).transpose()
    }

    /// The staff member linked to this CRM user (`handoff users add-staff --crm-user`,
    /// or a first sign-in matched on a verified email).
    pub async fn staff_by_crm_user(&self, connection: &str, crm_user: &str) -> Result<Option<StaffAccount>, StoreError> {
        const SQL: &str = concat!(
            staff_select!(),
            "JOIN crm_links l ON l.local_id = u.id AND l.object = 'user' \
             WHERE l.connection = $1 AND l.external_id = $2 AND u.kind = 'internal'"
        );
        let row: Option<StaffRow> = on_pool!(self, pool => sqlx::query_as(SQL).bind(connection).bind(crm_user).fetch_optional(pool).await)?;
        row.map(TryInto::try_into).transpose()
    }

    /// Every staff account, active ones first, by name.
    pub async fn staff_accounts(&self) -> Result<Vec<StaffAccount>, StoreError> {
        const SQL: &str = concat!(
            staff_select!(),
            "WHERE u.kind = 'internal' ORDER BY (u.staff_revoked_at IS NOT NULL), u.last_name, u.first_name, u.email"
        );
        let rows: Vec<StaffRow> = on_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Stores a new console session for `user` (ending the one it replaces).
    pub async fn start_console_session(&self, user: UserId, new: &NewConsoleSession<'_>) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.start_console_session(user, new).await?;
        tx.commit().await
    }

    /// The live console session with this id hash, if any: not expired, idle for less
    /// than `idle`, its staff account not revoked. Its `last_seen_at` moves forward.
    pub async fn live_console_session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            user_columns!(),
            ", u.staff_role, u.staff_revoked_at, s.signed_in_with, s.created_at AS session_created_at, \
             s.last_seen_at, s.expires_at FROM console_sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND u.kind = 'internal' AND u.staff_revoked_at IS NULL"
        );
        const TOUCH: &str = "UPDATE console_sessions SET last_seen_at = $1 WHERE id_hash = $2";
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            staff: StaffRow,
            signed_in_with: String,
            session_created_at: DateTime<Utc>,
            last_seen_at: DateTime<Utc>,
            expires_at: DateTime<Utc>,
        }
        let row: Option<Row> =
            on_pool!(self, pool => sqlx::query_as(SQL).bind(id_hash).bind(now).bind(now - idle).fetch_optional(pool).await)?;
        let Some(row) = row else { return Ok(None) };
        if now - row.last_seen_at >= TOUCH_RESOLUTION {
            on_pool!(self, pool => sqlx::query(TOUCH).bind(now.trunc_subsecs(0)).bind(id_hash).execute(pool).await.map(|r| r.rows_affected()))?;
        }
        Ok(Some(ConsoleSession {
            staff: row.staff.try_into()?,
            signed_in_with: row.signed_in_with,
            created_at: row.session_created_at,
            expires_at: row.expires_at,
        }))
    }

    pub async fn end_console_session(&self, id_hash: &str) -> Result<(), StoreError> {
        const SQL: &str = "DELETE FROM console_sessions WHERE id_hash = $1";
        on_pool!(self, pool => sqlx::query(SQL).bind(id_hash).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Uses an emailed console link: marks it used and starts `session` for its staff
    /// member, in one transaction, or says why it signs no one in (changing nothing).
    pub async fn use_console_link(
        &self,
        token_hash: &str,
        session: &NewConsoleSession<'_>,
    ) -> Result<Result<UserId, ConsoleLinkProblem>, StoreError> {
        const LINK: &str = "SELECT l.id, l.user_id, l.expires_at, l.used_at, u.staff_revoked_at FROM console_links l \
                            JOIN users u ON u.id = l.user_id WHERE l.token_hash = $1";
        const USE: &str = "UPDATE console_links SET used_at = $1 WHERE id = $2 AND used_at IS NULL";
        let mut tx = self.begin().await?;
        type Row = (Uuid, Uuid, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
        let row: Option<Row> = on_tx!(&mut tx, c => sqlx::query_as(LINK).bind(token_hash).fetch_optional(&mut **c).await)?;
        let now = Utc::now();
        let (id, user, expires_at, used_at, revoked_at) = match row {
            None => return Ok(Err(ConsoleLinkProblem::Unknown)),
            Some(r) => r,
        };
        let problem = if used_at.is_some() {
            Some(ConsoleLinkProblem::Used)
        } else if expires_at <= now {
            Some(ConsoleLinkProblem::Expired)
        } else if revoked_at.is_some() {
            Some(ConsoleLinkProblem::Revoked)
        } else {
            None
        };
        if let Some(problem) = problem {
            return Ok(Err(problem));
        }
        let used = on_tx!(&mut tx, c => sqlx::query(USE).bind(now).bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if used != 1 {
            // Another request used it first.
            return Ok(Err(ConsoleLinkProblem::Used));
        }
        let user = UserId::from_uuid(user);
        tx.start_console_session(user, session).await?;
        tx.commit().await?;
        Ok(Ok(user))
    }

    /// Whether an emailed console link could be used now (for its confirmation page).
    pub async fn console_link_problem(&self, token_hash: &str) -> Result<Option<ConsoleLinkProblem>, StoreError> {
        const SQL: &str = "SELECT l.expires_at, l.used_at, u.staff_revoked_at FROM console_links l \
                           JOIN users u ON u.id = l.user_id WHERE l.token_hash = $1";
        type Row = (DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
        let row: Option<Row> = on_pool!(self, pool => sqlx::query_as(SQL).bind(token_hash).fetch_optional(pool).await)?;
        Ok(match row {
            None => Some(ConsoleLinkProblem::Unknown),
            Some((_, Some(_), _)) => Some(ConsoleLinkProblem::Used),
            Some((expires, None, _)) if expires <= Utc::now() => Some(ConsoleLinkProblem::Expired),
            Some((_, None, Some(_))) => Some(ConsoleLinkProblem::Revoked),
            Some(_) => None,
        })
    }

    /// What a console link's email says, read when it is sent; `None` once the link was
    /// used or the account revoked (nothing to send).
    pub async fn console_link_to_send(&self, link: Uuid) -> Result<Option<(StaffAccount, DateTime<Utc>)>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            user_columns!(),
            ", u.staff_role, u.staff_revoked_at, l.expires_at FROM console_links l JOIN users u ON u.id = l.user_id \
             WHERE l.id = $1 AND l.used_at IS NULL AND u.staff_revoked_at IS NULL"
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            staff: StaffRow,
            expires_at: DateTime<Utc>,
        }
        let row: Option<Row> = on_pool!(self, pool => sqlx::query_as(SQL).bind(link).fetch_optional(pool).await)?;
        row.map(|r| Ok((r.staff.try_into()?, r.expires_at))).transpose()
    }

    /// Keeps an OAuth request until its callback (`state_hash`: the state's SHA-256).
    pub async fn save_oauth_request(&self, state_hash: &str, request: &OAuthRequest) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO oauth_requests (state_hash, purpose, connection, sealed_verifier, next, created_at, expires_at) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7)";
        const PURGE: &str = "DELETE FROM oauth_requests WHERE expires_at <= $1";
        let now = Utc::now();
        on_pool!(self, pool => sqlx::query(PURGE).bind(now).execute(pool).await.map(|r| r.rows_affected()))?;
        on_pool!(self, pool => sqlx::query(SQL).bind(state_hash).bind(&request.purpose).bind(&request.connection)
            .bind(&request.sealed_verifier).bind(&request.next).bind(now).bind(request.expires_at)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Takes the OAuth request with this state: single use (deleted as it is read);
    /// `None` for an unknown, used or expired state.
    pub async fn take_oauth_request(&self, state_hash: &str) -> Result<Option<OAuthRequest>, StoreError> {
        const SQL: &str = "DELETE FROM oauth_requests WHERE state_hash = $1 \
                           RETURNING purpose, connection, sealed_verifier, next, expires_at";
        let taken: Option<OAuthRequest> = on_pool!(self, pool => sqlx::query_as(SQL).bind(state_hash).fetch_optional(pool).await)?;
        Ok(taken.filter(|r| r.expires_at > Utc::now()))
    }
}

impl Tx {
    pub async fn start_console_session(&mut self, user: UserId, new: &NewConsoleSession<'_>) -> Result<(), StoreError> {
        const INSERT: &str = "INSERT INTO console_sessions (id_hash, user_id, signed_in_with, created_at, last_seen_at, expires_at) \
                              VALUES ($1, $2, $3, $4, $4, $5)";
        const END: &str = "DELETE FROM console_sessions WHERE id_hash = $1";
        if let Some(old) = new.replacing {
            on_tx!(self, c => sqlx::query(END).bind(old).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        }
        let now = new.now.trunc_subsecs(0);
        on_tx!(self, c => sqlx::query(INSERT).bind(new.id_hash).bind(user.as_uuid()).bind(new.signed_in_with).bind(now).bind(new.expires_at)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The staff account of `user`, if they are staff.
    pub async fn staff_account(&mut self, user: UserId) -> Result<Option<StaffAccount>, StoreError> {
        const SQL: &str = concat!(staff_select!(), "WHERE u.id = $1 AND u.kind = 'internal'");
        let row: Option<StaffRow> = on_tx!(self, c => sqlx::query_as(SQL).bind(user.as_uuid()).fetch_optional(&mut **c).await)?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn set_staff_role(&mut self, user: UserId, role: StaffRole) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE users SET staff_role = $1 WHERE id = $2 AND kind = 'internal'";
        on_tx!(self, c => sqlx::query(SQL).bind(role.as_str()).bind(user.as_uuid()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Revokes (`at` set) or restores (`None`) a staff account; revoking ends its
    /// console sessions at once.
    pub async fn set_staff_revoked(&mut self, user: UserId, at: Option<DateTime<Utc>>) -> Result<(), StoreError> {
        const SET: &str = "UPDATE users SET staff_revoked_at = $1 WHERE id = $2 AND kind = 'internal'";
        const END: &str = "DELETE FROM console_sessions WHERE user_id = $1";
        on_tx!(self, c => sqlx::query(SET).bind(at).bind(user.as_uuid()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if at.is_some() {
            on_tx!(self, c => sqlx::query(END).bind(user.as_uuid()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// Records an emailed console link (hash only) and the outbox row that sends it.
    pub async fn issue_console_link(&mut self, user: UserId, email: &Email, link: &NewInvitation) -> Result<(), StoreError> {
        const INSERT: &str = "INSERT INTO console_links (id, user_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";
        on_tx!(self, c => sqlx::query(INSERT).bind(link.id).bind(user.as_uuid()).bind(&link.token_hash).bind(Utc::now()).bind(link.expires_at)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        let job = EmailJob::StaffSignIn {
            link_id: link.id,
            user_id: user,
            email: email.clone(),
            sealed_token: link.sealed_token.clone(),
        };
        self.enqueue(&[Enqueue::email(format!("console-link:{}", link.id), &job)?]).await?;
        Ok(())
    }
}
