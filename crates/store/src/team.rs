//! A project's team as the portal shows it, teammates invited from the portal, and each
//! person's own profile and picture. Like store/portal.rs, every read here is for a
//! caller whose membership the portal has checked, and every write re-checks what it
//! relies on inside its own transaction.

use chrono::{DateTime, Utc};

use super::rows::{UserRow, user_columns};
use super::{Store, StoreError, activity, on_pool, on_tx};
use handoff_domain::people::{Actor, NewActivity, ProjectRole, User};
use handoff_domain::profile::Profile;
use handoff_domain::{ProjectId, ProjectStatus, UserId};

/// One active member of a project, with what the team page says about them.
#[derive(Clone, Debug, PartialEq)]
pub struct TeamMember {
    pub user: User,
    pub role: ProjectRole,
    /// Whether the person has signed in to the portal at least once (used a link).
    pub signed_in: bool,
    /// Whether a link to this project was ever made for them.
    pub invited: bool,
    pub has_picture: bool,
}

#[derive(sqlx::FromRow)]
struct TeamRow {
    #[sqlx(flatten)]
    user: UserRow,
    role: String,
    used_links: i64,
    links: i64,
    pictures: i64,
}

/// A stored picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picture {
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub updated_at: DateTime<Utc>,
}

impl Store {
    /// The project's active members, staff first (owner, then staff), then customers,
    /// each side by name.
    pub async fn team(&self, project: ProjectId) -> Result<Vec<TeamMember>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            user_columns!(),
            ", m.role, \
             (SELECT COUNT(*) FROM invitations i WHERE i.user_id = u.id AND i.used_at IS NOT NULL) AS used_links, \
             (SELECT COUNT(*) FROM invitations i WHERE i.user_id = u.id AND i.project_id = m.project_id) AS links, \
             (SELECT COUNT(*) FROM user_pictures pic WHERE pic.user_id = u.id) AS pictures \
             FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 AND m.status = 'active'"
        );
        let rows: Vec<TeamRow> = on_pool!(self, pool => sqlx::query_as(SQL).bind(project.as_uuid()).fetch_all(pool).await)?;
        let mut team = rows
            .into_iter()
            .map(|r| {
                Ok(TeamMember {
                    role: super::rows::parse("memberships.role", &r.role)?,
                    user: r.user.try_into()?,
                    signed_in: r.used_links > 0,
                    invited: r.links > 0,
                    has_picture: r.pictures > 0,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let rank = |role: ProjectRole| ProjectRole::ALL.iter().position(|r| *r == role);
        team.sort_by_cached_key(|m| {
            (
                rank(m.role).map(|i| i.min(2)),
                m.user.display_name().to_lowercase(),
                m.user.email.clone(),
            )
        });
        Ok(team)
    }

    /// Writes the person's own profile fields; records `profile.updated` (the names of
    /// the fields that changed, not their values) when anything changed. Returns
    /// whether anything did.
    pub async fn update_profile(&self, user: UserId, profile: &Profile) -> Result<bool, StoreError> {
        const CURRENT: &str = concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = $1");
        const UPDATE: &str = "UPDATE users SET first_name = $1, last_name = $2, timezone = $3, title = $4, phone = $5 WHERE id = $6";
        let mut tx = self.begin().await?;
        let row: Option<UserRow> = on_tx!(&mut tx, c => sqlx::query_as(CURRENT).bind(user.as_uuid()).fetch_optional(&mut **c).await)?;
        let current: User = row.ok_or_else(|| StoreError::not_found("user", user))?.try_into()?;
        let changed: Vec<&str> = [
            ("first_name", current.first_name.as_deref() == Some(profile.first_name.as_str())),
            ("last_name", current.last_name == profile.last_name),
            ("timezone", current.timezone == profile.timezone),
            ("title", current.title == profile.title),
            ("phone", current.phone == profile.phone),
        ]
        .into_iter()
        .filter(|(_, same)| !same)
        .map(|(field, _)| field)
        .collect();
        if changed.is_empty() {
            return Ok(false);
        }
        on_tx!(&mut tx, c => sqlx::query(UPDATE).bind(&profile.first_name).bind(&profile.last_name).bind(&profile.timezone)
            .bind(&profile.title).bind(&profile.phone).bind(user.as_uuid())
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        record_profile_change(&mut tx, user, "profile.updated", serde_json::json!({ "fields": changed })).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces the person's picture. `content_type` must be what the bytes were
    /// sniffed to be (the table refuses anything but PNG, JPEG, WebP and GIF).
    pub async fn set_picture(&self, user: UserId, content_type: &str, bytes: &[u8]) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO user_pictures (user_id, content_type, bytes, updated_at) VALUES ($1, $2, $3, $4) \
                           ON CONFLICT (user_id) DO UPDATE SET content_type = excluded.content_type, bytes = excluded.bytes, \
                           updated_at = excluded.updated_at";
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, c => sqlx::query(SQL).bind(user.as_uuid()).bind(content_type).bind(bytes).bind(Utc::now())
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        let details = serde_json::json!({ "content_type": content_type, "bytes": bytes.len() });
        record_profile_change(&mut tx, user, "profile.picture_changed", details).await?;
        tx.commit().await
    }

    /// Removes the person's picture; returns whether there was one.
    pub async fn remove_picture(&self, user: UserId) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let removed = on_tx!(&mut tx, c => sqlx::query("DELETE FROM user_pictures WHERE user_id = $1").bind(user.as_uuid())
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if removed > 0 {
            record_profile_change(&mut tx, user, "profile.picture_removed", serde_json::json!({})).await?;
        }
        tx.commit().await?;
        Ok(removed > 0)
    }

    /// The person's picture, if they have one.
    pub async fn picture(&self, user: UserId) -> Result<Option<Picture>, StoreError> {
        const SQL: &str = "SELECT content_type, bytes, updated_at FROM user_pictures WHERE user_id = $1";
        let row: Option<(String, Vec<u8>, DateTime<Utc>)> =
            on_pool!(self, pool => sqlx::query_as(SQL).bind(user.as_uuid()).fetch_optional(pool).await)?;
        Ok(row.map(|(content_type, bytes, updated_at)| Picture {
            content_type,
            bytes,
            updated_at,
        }))
    }

    /// Whether `viewer` may see `person`'s picture and name: it is themselves, or both
    /// are active members of a project customers can see.
    pub async fn shares_a_project(&self, viewer: UserId, person: UserId) -> Result<bool, StoreError> {
        const SQL: &str = "SELECT DISTINCT p.status FROM memberships a JOIN memberships b ON b.project_id = a.project_id \
                           JOIN projects p ON p.id = a.project_id \
                           WHERE a.user_id = $1 AND b.user_id = $2 AND a.status = 'active' AND b.status = 'active'";
        if viewer == person {
            return Ok(true);
        }
        let statuses: Vec<String> =
            on_pool!(self, pool => sqlx::query_scalar(SQL).bind(viewer.as_uuid()).bind(person.as_uuid()).fetch_all(pool).await)?;
        Ok(statuses
            .iter()
            .any(|s| s.parse::<ProjectStatus>().is_ok_and(ProjectStatus::visible_to_customers)))
    }
}

/// Profile changes belong to no project: the entry has none, and names the person.
async fn record_profile_change(tx: &mut super::Tx, user: UserId, action: &str, details: serde_json::Value) -> Result<(), StoreError> {
    activity::record(
        tx,
        &NewActivity {
            project_id: None,
            actor: Actor::User(user),
            action: action.into(),
            source: "portal".into(),
            details,
        },
    )
    .await
}
