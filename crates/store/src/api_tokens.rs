//! API tokens: only their SHA-256 is stored (see [`handoff_domain::api_token`]).

use chrono::{DateTime, Duration, SubsecRound, Utc};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::{Store, StoreError, on_pool};
use handoff_domain::api_token::{ApiToken, ApiTokenName, NewApiToken, is_well_formed, token_hash};

/// `last_used_at` is a hint for operators, not an audit trail (the activity trail is):
/// it is written at most once a minute per token, so a busy integration does not turn
/// every read into a write.
const LAST_USED_RESOLUTION: Duration = Duration::minutes(1);

#[derive(sqlx::FromRow)]
struct ApiTokenRow {
    id: Uuid,
    name: String,
    prefix: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiTokenRow> for ApiToken {
    fn from(r: ApiTokenRow) -> Self {
        ApiToken {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

/// The columns [`ApiTokenRow`] reads (a macro so `concat!` can build whole queries).
macro_rules! token_columns {
    () => {
        "id, name, prefix, created_at, last_used_at, revoked_at"
    };
}

/// What revoking did.
#[derive(Clone, Debug, PartialEq)]
pub enum Revocation {
    Revoked(ApiToken),
    /// It had been revoked before; nothing changed.
    AlreadyRevoked(ApiToken),
}

impl Store {
    /// Stores `token` (its hash and prefix) under `name`. A name is never reused, even
    /// after its token is revoked: the activity trail identifies tokens by name.
    pub async fn create_api_token(&self, name: &ApiTokenName, token: &NewApiToken) -> Result<ApiToken, StoreError> {
        const SQL: &str = concat!(
            "INSERT INTO api_tokens (id, name, token_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING ",
            token_columns!()
        );
        let inserted: Result<ApiTokenRow, sqlx::Error> = on_pool!(self, pool => sqlx::query_as(SQL)
            .bind(Uuid::now_v7())
            .bind(name.as_str())
            .bind(&token.hash)
            .bind(&token.prefix)
            .bind(Utc::now())
            .fetch_one(pool)
            .await);
        match inserted {
            Ok(row) => Ok(row.into()),
            // The hash is unique too, but two equal 256-bit random tokens do not happen.
            Err(e) if e.as_database_error().is_some_and(|d| d.is_unique_violation()) => Err(StoreError::Conflict(format!(
                "an API token named `{name}` already exists (names are not reused, even after revocation)"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// The non-revoked token `presented` is, if any, noting that it was used. A string
    /// that is not shaped like a token is refused without a query.
    pub async fn authenticate_api_token(&self, presented: &SecretString) -> Result<Option<ApiToken>, StoreError> {
        const FIND: &str = concat!(
            "SELECT ",
            token_columns!(),
            " FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
        );
        const USED: &str = "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2";
        if !is_well_formed(presented) {
            return Ok(None);
        }
        let hash = token_hash(presented.expose_secret());
        let found: Option<ApiTokenRow> = on_pool!(self, pool => sqlx::query_as(FIND).bind(&hash).fetch_optional(pool).await)?;
        let Some(mut token) = found.map(ApiToken::from) else {
            return Ok(None);
        };
        // Microseconds, as PostgreSQL keeps them, so the returned value is the stored one.
        let now = Utc::now().trunc_subsecs(6);
        if token.last_used_at.is_none_or(|at| now - at >= LAST_USED_RESOLUTION) {
            on_pool!(self, pool => sqlx::query(USED).bind(now).bind(token.id).execute(pool).await.map(|r| r.rows_affected()))?;
            token.last_used_at = Some(now);
        }
        Ok(Some(token))
    }

    /// Every token, revoked ones included, oldest first.
    pub async fn list_api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        const SQL: &str = concat!("SELECT ", token_columns!(), " FROM api_tokens ORDER BY created_at, id");
        let rows: Vec<ApiTokenRow> = on_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(ApiToken::from).collect())
    }

    /// Revokes a token for good: from the commit on, requests bearing it are refused.
    pub async fn revoke_api_token(&self, id: Uuid) -> Result<Revocation, StoreError> {
        const REVOKE: &str = concat!(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING ",
            token_columns!()
        );
        const FIND: &str = concat!("SELECT ", token_columns!(), " FROM api_tokens WHERE id = $1");
        let revoked: Option<ApiTokenRow> =
            on_pool!(self, pool => sqlx::query_as(REVOKE).bind(Utc::now()).bind(id).fetch_optional(pool).await)?;
        if let Some(row) = revoked {
            return Ok(Revocation::Revoked(row.into()));
        }
        let existing: Option<ApiTokenRow> = on_pool!(self, pool => sqlx::query_as(FIND).bind(id).fetch_optional(pool).await)?;
        existing
            .map(|row| Revocation::AlreadyRevoked(row.into()))
            .ok_or_else(|| StoreError::not_found("API token", id))
    }
}
