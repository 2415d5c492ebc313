//! Applying a workflow plan: one transaction for the project, its company, its people,
//! their memberships, invitations and the outbox rows that will email them.

use chrono::Utc;
use sqlx::types::Json;
use uuid::Uuid;

use super::projects::insert_project;
use super::{Store, StoreError, Tx, activity, on_tx};
use crate::domain::people::{Actor, NewActivity};
use crate::domain::{CompanyId, ProjectId, ProjectStatus, UserId};
use crate::engine::definition::{Removals, WritebackEvent};
use crate::engine::plan::{Applied, Plan, PlannedPerson};

/// Attempts at a plan when another process created the same project at the same time
/// (PostgreSQL): the loser's transaction fails on the unique key and is retried, and the
/// retry finds the winner's project.
const ATTEMPTS: usize = 3;

impl Store {
    pub async fn apply_plan(&self, plan: &Plan) -> Result<Applied, StoreError> {
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let mut tx = self.begin().await?;
            match apply(&mut tx, plan).await {
                Ok(applied) => {
                    tx.commit().await?;
                    return Ok(applied);
                }
                Err(StoreError::Database(e)) if e.as_database_error().is_some_and(|d| d.is_unique_violation()) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.map_or_else(
            || StoreError::Conflict("the plan could not be applied".into()),
            StoreError::Database,
        ))
    }

    /// The project a workflow made for a CRM record, if any.
    pub async fn project_for_source(&self, workflow: &str, connection: &str, external_id: &str) -> Result<Option<ProjectId>, StoreError> {
        const SQL: &str = "SELECT project_id FROM project_sources WHERE workflow = $1 AND connection = $2 AND external_id = $3";
        let id: Option<Uuid> = super::on_pool!(self, pool => sqlx::query_scalar(SQL).bind(workflow).bind(connection).bind(external_id).fetch_optional(pool).await)?;
        Ok(id.map(ProjectId::from_uuid))
    }
}

async fn apply(tx: &mut Tx, plan: &Plan) -> Result<Applied, StoreError> {
    const SOURCE: &str = "SELECT project_id FROM project_sources WHERE workflow = $1 AND connection = $2 AND external_id = $3";
    const LINK_SOURCE: &str =
        "INSERT INTO project_sources (workflow, connection, external_id, project_id, created_at) VALUES ($1, $2, $3, $4, $5)";
    const UPDATE: &str = "UPDATE projects SET name = $1, goal_date = COALESCE($2, goal_date), updated_at = $3 WHERE id = $4";
    const STATUS: &str = "SELECT status FROM projects WHERE id = $1";
    let source = format!("crm:{}", plan.connection);
    let existing: Option<Uuid> = on_tx!(&mut *tx, c => sqlx::query_scalar(SOURCE).bind(&plan.workflow).bind(&plan.connection).bind(&plan.external_id).fetch_optional(&mut **c).await)?;
    let (project_id, created) = match existing {
        Some(id) => {
            on_tx!(&mut *tx, c => sqlx::query(UPDATE).bind(&plan.project.name).bind(plan.project.goal_date).bind(Utc::now()).bind(id)
                .execute(&mut **c).await.map(|r| r.rows_affected()))?;
            (ProjectId::from_uuid(id), false)
        }
        None => {
            let mut project = plan.project.clone();
            project.company_id = match &plan.company {
                Some(company) => Some(link_company(tx, &plan.connection, &company.external_id, &company.name).await?),
                None => None,
            };
            let id = insert_project(tx, &project, Actor::System, &source).await?;
            on_tx!(&mut *tx, c => sqlx::query(LINK_SOURCE).bind(&plan.workflow).bind(&plan.connection).bind(&plan.external_id).bind(id.as_uuid()).bind(Utc::now())
                .execute(&mut **c).await.map(|r| r.rows_affected()))?;
            // The project's first status is news to the CRM too (shipped workflows write
            // the status and the project's link on status_changed).
            super::writeback::queue(tx, id, &[(WritebackEvent::StatusChanged, Default::default())], None).await?;
            (id, true)
        }
    };
    let status: String = on_tx!(&mut *tx, c => sqlx::query_scalar(STATUS).bind(project_id.as_uuid()).fetch_one(&mut **c).await)?;
    let active = super::rows::parse::<ProjectStatus>("projects.status", &status)?.visible_to_customers();
    let company_id = match &plan.company {
        Some(company) => Some(link_company(tx, &plan.connection, &company.external_id, &company.name).await?),
        None => None,
    };
    let mut applied = Applied {
        project_id: Some(project_id),
        created,
        ..Applied::default()
    };
    for person in &plan.people {
        let user = link_user(tx, &plan.connection, person, company_id).await?;
        if !created {
            keep_in_step(tx, project_id, user, person, &source).await?;
        }
        if add_member(tx, project_id, user, person, &source).await? {
            applied.members_added += 1;
            let wants = !matches!(person.invite, crate::engine::definition::InviteMode::Silently);
            if active
                && wants
                && let Some(invitation) = &person.invitation
            {
                invite(tx, project_id, user, &person.email, invitation).await?;
                applied.invitations += 1;
            }
        }
    }
    if !created {
        applied.members_removed = removed_in_crm(tx, project_id, plan, &source).await?;
    }
    Ok(applied)
}

/// A member whose CRM role changed takes the new one; one who had been deactivated
/// because the CRM dropped them and is back is reactivated. Each change is logged.
async fn keep_in_step(tx: &mut Tx, project: ProjectId, user: UserId, p: &PlannedPerson, source: &str) -> Result<(), StoreError> {
    const CURRENT: &str = "SELECT role, contact_role, status FROM memberships WHERE project_id = $1 AND user_id = $2";
    const UPDATE: &str = "UPDATE memberships SET role = $1, contact_role = $2, status = 'active' WHERE project_id = $3 AND user_id = $4";
    let current: Option<(String, Option<String>, String)> =
        on_tx!(&mut *tx, c => sqlx::query_as(CURRENT).bind(project.as_uuid()).bind(user.as_uuid()).fetch_optional(&mut **c).await)?;
    let Some((role, contact_role, status)) = current else {
        return Ok(());
    };
    // Staff keep the role staff gave them; only customer memberships follow the CRM.
    if !role.starts_with("customer_") {
        return Ok(());
    }
    let action = if status != "active" {
        "member.reactivated"
    } else if role != p.role.as_str() || contact_role != p.contact_role {
        "member.role_changed"
    } else {
        return Ok(());
    };
    on_tx!(&mut *tx, c => sqlx::query(UPDATE).bind(p.role.as_str()).bind(&p.contact_role).bind(project.as_uuid()).bind(user.as_uuid())
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    let details = serde_json::json!({
        "user": user, "from": { "role": role, "contact_role": contact_role }, "to": { "role": p.role, "contact_role": p.contact_role },
        "crm_contact": p.external_id,
    });
    record_member_change(tx, project, action, source, details).await
}

/// Active customer members linked to a CRM contact the record no longer has. With
/// `removals = "apply"` they are deactivated; with `"report"` they stay, their CRM role
/// is cleared (it no longer exists) and the difference is logged once for a person to
/// decide. Returns how many were found.
async fn removed_in_crm(tx: &mut Tx, project: ProjectId, plan: &Plan, source: &str) -> Result<usize, StoreError> {
    const LINKED: &str = "SELECT m.user_id, l.external_id, m.role, m.contact_role FROM memberships m \
                          JOIN crm_links l ON l.local_id = m.user_id AND l.object = 'contact' AND l.connection = $2 \
                          WHERE m.project_id = $1 AND m.status = 'active' AND m.role LIKE 'customer_%' AND m.contact_role IS NOT NULL";
    const DEACTIVATE: &str = "UPDATE memberships SET status = 'deactivated' WHERE project_id = $1 AND user_id = $2";
    const CLEAR: &str = "UPDATE memberships SET contact_role = NULL WHERE project_id = $1 AND user_id = $2";
    let linked: Vec<(Uuid, String, String, Option<String>)> =
        on_tx!(&mut *tx, c => sqlx::query_as(LINKED).bind(project.as_uuid()).bind(&plan.connection).fetch_all(&mut **c).await)?;
    let mut removed = 0;
    for (user, contact, role, contact_role) in linked {
        if plan.contacts_present.contains(&contact) {
            continue;
        }
        removed += 1;
        let (sql, action) = match plan.removals {
            Removals::Apply => (DEACTIVATE, "member.deactivated"),
            Removals::Report => (CLEAR, "member.removed_in_crm"),
        };
        on_tx!(&mut *tx, c => sqlx::query(sql).bind(project.as_uuid()).bind(user).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        let details = serde_json::json!({ "user": user, "role": role, "contact_role": contact_role, "crm_contact": contact });
        record_member_change(tx, project, action, source, details).await?;
    }
    Ok(removed)
}

async fn record_member_change(
    tx: &mut Tx,
    project: ProjectId,
    action: &str,
    source: &str,
    details: serde_json::Value,
) -> Result<(), StoreError> {
    activity::record(
        tx,
        &NewActivity {
            project_id: Some(project),
            actor: Actor::System,
            action: action.into(),
            source: source.into(),
            details,
        },
    )
    .await
}

/// The company linked to this CRM account/company, created (and linked) if new.
async fn link_company(tx: &mut Tx, connection: &str, external_id: &str, name: &str) -> Result<CompanyId, StoreError> {
    const FIND: &str = "SELECT local_id FROM crm_links WHERE connection = $1 AND object = 'company' AND external_id = $2";
    const CREATE: &str = "INSERT INTO companies (id, name, created_at) VALUES ($1, $2, $3)";
    const LINK: &str = "INSERT INTO crm_links (connection, object, external_id, local_id, created_at) VALUES ($1, 'company', $2, $3, $4)";
    let found: Option<Uuid> =
        on_tx!(&mut *tx, c => sqlx::query_scalar(FIND).bind(connection).bind(external_id).fetch_optional(&mut **c).await)?;
    if let Some(id) = found {
        return Ok(CompanyId::from_uuid(id));
    }
    let id = CompanyId::new();
    let name = if name.trim().is_empty() { "(unnamed company)" } else { name.trim() };
    on_tx!(&mut *tx, c => sqlx::query(CREATE).bind(id.as_uuid()).bind(name).bind(Utc::now()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    on_tx!(&mut *tx, c => sqlx::query(LINK).bind(connection).bind(external_id).bind(id.as_uuid()).bind(Utc::now())
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(id)
}

/// The user for this CRM contact: the linked one, else the one with this email (people
/// are matched by email), else a new customer user; the contact is linked either way.
async fn link_user(tx: &mut Tx, connection: &str, p: &PlannedPerson, company: Option<CompanyId>) -> Result<UserId, StoreError> {
    const FIND_LINK: &str = "SELECT local_id FROM crm_links WHERE connection = $1 AND object = 'contact' AND external_id = $2";
    const FIND_EMAIL: &str = "SELECT id FROM users WHERE email = $1";
    const CREATE: &str = "INSERT INTO users (id, kind, email, first_name, last_name, company_id, title, created_at) \
                          VALUES ($1, 'customer', $2, $3, $4, $5, $6, $7)";
    const LINK: &str = "INSERT INTO crm_links (connection, object, external_id, local_id, created_at) VALUES ($1, 'contact', $2, $3, $4)";
    let linked: Option<Uuid> =
        on_tx!(&mut *tx, c => sqlx::query_scalar(FIND_LINK).bind(connection).bind(&p.external_id).fetch_optional(&mut **c).await)?;
    if let Some(id) = linked {
        return Ok(UserId::from_uuid(id));
    }
    let by_email: Option<Uuid> =
        on_tx!(&mut *tx, c => sqlx::query_scalar(FIND_EMAIL).bind(p.email.as_str()).fetch_optional(&mut **c).await)?;
    let id = match by_email {
        Some(id) => UserId::from_uuid(id),
        None => {
            let id = UserId::new();
            on_tx!(&mut *tx, c => sqlx::query(CREATE).bind(id.as_uuid()).bind(p.email.as_str()).bind(&p.first_name).bind(&p.last_name)
                .bind(company.map(|c| c.as_uuid())).bind(&p.title).bind(Utc::now())
                .execute(&mut **c).await.map(|r| r.rows_affected()))?;
            id
        }
    };
    on_tx!(&mut *tx, c => sqlx::query(LINK).bind(connection).bind(&p.external_id).bind(id.as_uuid()).bind(Utc::now())
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(id)
}

/// Adds the membership unless the person is already a member; true if added.
async fn add_member(tx: &mut Tx, project: ProjectId, user: UserId, p: &PlannedPerson, source: &str) -> Result<bool, StoreError> {
    const SQL: &str = "INSERT INTO memberships (project_id, user_id, role, contact_role, status, created_at, invite) \
                       VALUES ($1, $2, $3, $4, 'active', $5, $6) ON CONFLICT (project_id, user_id) DO NOTHING";
    let added: u64 = on_tx!(&mut *tx, c => sqlx::query(SQL).bind(project.as_uuid()).bind(user.as_uuid()).bind(p.role.as_str()).bind(&p.contact_role)
        .bind(Utc::now()).bind(p.invite.as_str()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if added == 1 {
        let details = serde_json::json!({ "user": user, "role": p.role, "contact_role": p.contact_role, "crm_contact": p.external_id });
        activity::record(
            tx,
            &NewActivity {
                project_id: Some(project),
                actor: Actor::System,
                action: "member.added".into(),
                source: source.into(),
                details,
            },
        )
        .await?;
    }
    Ok(added == 1)
}

/// Records the invitation (hash only) and the outbox row that will email it. The outbox
/// key makes a repeated invitation of one person to one project a no-op.
pub(super) async fn invite(
    tx: &mut Tx,
    project: ProjectId,
    user: UserId,
    email: &crate::domain::Email,
    inv: &crate::engine::plan::NewInvitation,
) -> Result<(), StoreError> {
    const INVITE: &str =
        "INSERT INTO invitations (id, user_id, project_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
    const OUTBOX: &str = "INSERT INTO outbox (id, kind, idempotency_key, payload, next_attempt_at, created_at) VALUES ($1, 'email', $2, $3, $4, $4) \
                          ON CONFLICT (idempotency_key) DO NOTHING";
    let now = Utc::now();
    on_tx!(&mut *tx, c => sqlx::query(INVITE).bind(inv.id).bind(user.as_uuid()).bind(project.as_uuid()).bind(&inv.token_hash).bind(now).bind(inv.expires_at)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    let payload = serde_json::json!({
        "type": "invitation",
        "invitation_id": inv.id,
        "project_id": project,
        "user_id": user,
        "email": email,
        "sealed_token": inv.sealed_token,
    });
    let key = format!("invite:{project}:{user}");
    on_tx!(&mut *tx, c => sqlx::query(OUTBOX).bind(Uuid::now_v7()).bind(key).bind(Json(&payload)).bind(now)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Row counts of what plans create, for reports and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct EngineCounts {
    pub projects: i64,
    pub companies: i64,
    pub users: i64,
    pub memberships: i64,
    /// Members whose invitation waits for the project to become Active.
    pub awaiting_invitation: i64,
    pub invitations: i64,
    pub outbox_emails: i64,
}

impl Store {
    pub async fn engine_counts(&self) -> Result<EngineCounts, StoreError> {
        const SQL: &str = "SELECT (SELECT COUNT(*) FROM projects), (SELECT COUNT(*) FROM companies), (SELECT COUNT(*) FROM users), \
                           (SELECT COUNT(*) FROM memberships), \
                           (SELECT COUNT(*) FROM invitations), (SELECT COUNT(*) FROM outbox WHERE kind = 'email')";
        let row: (i64, i64, i64, i64, i64, i64) = super::on_pool!(self, pool => sqlx::query_as(SQL).fetch_one(pool).await)?;
        const WAITING: &str = "SELECT COUNT(*) FROM memberships m WHERE m.invite <> 'silently' \
                               AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.project_id = m.project_id AND i.user_id = m.user_id)";
        let waiting: i64 = super::on_pool!(self, pool => sqlx::query_scalar(WAITING).fetch_one(pool).await)?;
        Ok(EngineCounts {
            projects: row.0,
            companies: row.1,
            users: row.2,
            memberships: row.3,
            awaiting_invitation: waiting,
            invitations: row.4,
            outbox_emails: row.5,
        })
    }
}
