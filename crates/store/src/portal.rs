//! What the portal reads and writes for a signed-in customer. Every query here is
//! scoped by the person's active memberships in projects customers can see
//! ([`ProjectStatus::visible_to_customers`]); nothing takes a bare project id.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::rows::{ProjectRow, project_columns};
use super::{ProjectSummary, Store, StoreError, activity, on_pool, on_tx};
use handoff_domain::people::{Actor, NewActivity};
use handoff_domain::plan::NewInvitation;
use handoff_domain::{Email, Progress, ProjectId, ProjectStatus, UserId};

/// The window of the per-address limit on fresh-link requests.
const LINK_REQUEST_WINDOW: Duration = Duration::hours(1);

#[derive(sqlx::FromRow)]
struct CustomerProjectRow {
    #[sqlx(flatten)]
    project: ProjectRow,
    total_tasks: i64,
    completed_tasks: i64,
}

/// What a request for a fresh sign-in link did. The person asking is told the same
/// thing in every case; this is for logs and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkRequest {
    Sent {
        invitation: Uuid,
        project: ProjectId,
    },
    /// No active member of a visible project has this address.
    Unknown,
    /// The address asked too often in the last hour; nothing was recorded or sent.
    RateLimited,
    /// The person is known but no link could be made (no master key).
    CannotSeal,
}

impl Store {
    /// The person's projects: active memberships in projects customers can see,
    /// self-service ones first, then the most recently started.
    pub async fn customer_projects(&self, user: UserId) -> Result<Vec<ProjectSummary>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            project_columns!(),
            ", (SELECT COUNT(*) FROM tasks t WHERE t.project_id = p.id) AS total_tasks, \
             (SELECT COUNT(*) FROM tasks t WHERE t.project_id = p.id AND t.status = 'completed') AS completed_tasks \
             FROM memberships m JOIN projects p ON p.id = m.project_id LEFT JOIN companies c ON c.id = p.company_id \
             WHERE m.user_id = $1 AND m.status = 'active' \
             ORDER BY p.self_service DESC, p.start_date DESC, p.name, p.id"
        );
        let rows: Vec<CustomerProjectRow> = on_pool!(self, pool => sqlx::query_as(SQL).bind(user.as_uuid()).fetch_all(pool).await)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let project: handoff_domain::project::Project = r.project.try_into()?;
            if !project.status.visible_to_customers() {
                continue;
            }
            let progress = Progress {
                completed: usize::try_from(r.completed_tasks).unwrap_or(0),
                total: usize::try_from(r.total_tasks).unwrap_or(0),
            };
            out.push(ProjectSummary { project, progress });
        }
        Ok(out)
    }

    /// "Send me a fresh link": at most `per_hour` requests per address (counted by the
    /// address's hash); a known member of a visible project gets a new invitation, for
    /// `preferred` if they belong to it, else their most recently joined project.
    pub async fn request_sign_in_link(
        &self,
        email: &Email,
        email_hash: &str,
        preferred: Option<ProjectId>,
        per_hour: u32,
        new_invitation: &(dyn Fn() -> Option<NewInvitation> + Send + Sync),
    ) -> Result<LinkRequest, StoreError> {
        const RECENT: &str = "SELECT COUNT(*) FROM portal_link_requests WHERE email_hash = $1 AND requested_at > $2";
        const FORGET: &str = "DELETE FROM portal_link_requests WHERE email_hash = $1 AND requested_at <= $2";
        const RECORD: &str = "INSERT INTO portal_link_requests (email_hash, requested_at) VALUES ($1, $2)";
        const MEMBERSHIPS: &str = "SELECT u.id, m.project_id, p.status FROM users u JOIN memberships m ON m.user_id = u.id \
                                   JOIN projects p ON p.id = m.project_id WHERE u.email = $1 AND m.status = 'active' \
                                   ORDER BY m.created_at DESC";
        let now: DateTime<Utc> = Utc::now();
        let since = now - LINK_REQUEST_WINDOW;
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, c => sqlx::query(FORGET).bind(email_hash).bind(since).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        let recent: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(RECENT).bind(email_hash).bind(since).fetch_one(&mut **c).await)?;
        if recent >= i64::from(per_hour) {
            tx.commit().await?;
            return Ok(LinkRequest::RateLimited);
        }
        on_tx!(&mut tx, c => sqlx::query(RECORD).bind(email_hash).bind(now).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        let rows: Vec<(Uuid, Uuid, String)> =
            on_tx!(&mut tx, c => sqlx::query_as(MEMBERSHIPS).bind(email.as_str()).fetch_all(&mut **c).await)?;
        let visible: Vec<(UserId, ProjectId)> = rows
            .into_iter()
            .filter(|(_, _, status)| status.parse::<ProjectStatus>().is_ok_and(ProjectStatus::visible_to_customers))
            .map(|(u, p, _)| (UserId::from_uuid(u), ProjectId::from_uuid(p)))
            .collect();
        let target = preferred
            .and_then(|want| visible.iter().find(|(_, p)| *p == want))
            .or_else(|| visible.first())
            .copied();
        let Some((user, project)) = target else {
            tx.commit().await?;
            return Ok(LinkRequest::Unknown);
        };
        let Some(invitation) = new_invitation() else {
            tx.commit().await?;
            return Ok(LinkRequest::CannotSeal);
        };
        super::invitations::issue(&mut tx, project, user, email, &invitation).await?;
        activity::record(
            &mut tx,
            &NewActivity {
                project_id: Some(project),
                actor: Actor::User(user),
                action: "invitation.requested".into(),
                source: "portal".into(),
                details: serde_json::json!({ "invitation": invitation.id }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(LinkRequest::Sent {
            invitation: invitation.id,
            project,
        })
    }
}
