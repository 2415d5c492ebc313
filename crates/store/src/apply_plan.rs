//! Applying a workflow plan: one transaction for the project, its company, its people,
//! their memberships, invitations and the outbox rows that will email them.

use chrono::Utc;
use sqlx::types::Json;
use uuid::Uuid;

use std::collections::{HashMap, HashSet};

use super::projects::insert_project;
use super::{Store, StoreError, Tx, activity, bulk, on_tx};
use handoff_domain::people::{Actor, NewActivity};
use handoff_domain::plan::{Applied, InviteMode, NewInvitation, Plan, PlannedPerson, Removals};
use handoff_domain::project::NewProject;
use handoff_domain::writeback::{Snapshot, WritebackEvent};
use handoff_domain::{CompanyId, Email, Progress, ProjectId, ProjectStatus, UserId};

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
    let company_id = match &plan.company {
        Some(company) => Some(link_company(tx, &plan.connection, &company.external_id, &company.name).await?),
        None => None,
    };
    let (project_id, created, status) = match existing {
        Some(id) => {
            on_tx!(&mut *tx, c => sqlx::query(UPDATE).bind(&plan.project.name).bind(plan.project.goal_date).bind(Utc::now()).bind(id)
                .execute(&mut **c).await.map(|r| r.rows_affected()))?;
            let status: String = on_tx!(&mut *tx, c => sqlx::query_scalar(STATUS).bind(id).fetch_one(&mut **c).await)?;
            (
                ProjectId::from_uuid(id),
                false,
                super::rows::parse::<ProjectStatus>("projects.status", &status)?,
            )
        }
        None => {
            let mut project = plan.project.clone();
            project.company_id = company_id;
            let id = insert_project(tx, &project, Actor::System, &source).await?;
            on_tx!(&mut *tx, c => sqlx::query(LINK_SOURCE).bind(&plan.workflow).bind(&plan.connection).bind(&plan.external_id).bind(id.as_uuid()).bind(Utc::now())
                .execute(&mut **c).await.map(|r| r.rows_affected()))?;
            // The project's first status is news to the CRM too (shipped workflows write
            // the status and the project's link on status_changed).
            let snapshot = Some(first_snapshot(&project));
            super::writeback::queue(tx, id, &[(WritebackEvent::StatusChanged, Default::default())], snapshot).await?;
            (id, true, project.status)
        }
    };
    let mut applied = Applied {
        project_id: Some(project_id),
        created,
        ..Applied::default()
    };
    let users = link_users(tx, &plan.connection, &plan.people, company_id).await?;
    if !created {
        keep_in_step(tx, project_id, &users, &source).await?;
    }
    let added = add_members(tx, project_id, &users, &source).await?;
    applied.members_added = added.len();
    // Drafts send nothing: their members are invited when the project becomes Active.
    if status.visible_to_customers() {
        let invitations: Vec<(UserId, &PlannedPerson, &NewInvitation)> = added
            .iter()
            .filter(|(_, p)| p.invite != InviteMode::Silently)
            .filter_map(|(user, p)| p.invitation.as_ref().map(|inv| (*user, *p, inv)))
            .collect();
        invite_many(tx, project_id, &invitations).await?;
        applied.invitations = invitations.len();
    }
    if !created {
        applied.members_removed = removed_in_crm(tx, project_id, plan, &source).await?;
    }
    // Owner, team and custom fields: store/mapping.rs.
    super::mapping::apply(tx, project_id, plan, created).await?;
    Ok(applied)
}

/// What a project just made from `project` looks like to a writeback, without reading
/// it back: nothing done yet, the first phase with tasks is current.
fn first_snapshot(project: &NewProject) -> Snapshot {
    let total = project.phases.iter().map(|ph| ph.tasks.len()).sum();
    Snapshot {
        status: project.status,
        progress: Progress { completed: 0, total }.percent(),
        current_phase: project.phases.iter().find(|ph| !ph.tasks.is_empty()).map(|ph| ph.name.clone()),
        start_date: Some(project.start_date),
        goal_date: project.goal_date,
    }
}

/// A member whose CRM role changed takes the new one; one who had been deactivated
/// because the CRM dropped them and is back is reactivated. Each change is logged.
/// The project's memberships are read once, not once per person.
async fn keep_in_step(tx: &mut Tx, project: ProjectId, people: &[(UserId, &PlannedPerson)], source: &str) -> Result<(), StoreError> {
    const CURRENT: &str = "SELECT user_id, role, contact_role, status FROM memberships WHERE project_id = $1";
    const UPDATE: &str = "UPDATE memberships SET role = $1, contact_role = $2, status = 'active' WHERE project_id = $3 AND user_id = $4";
    let rows: Vec<(Uuid, String, Option<String>, String)> =
        on_tx!(&mut *tx, c => sqlx::query_as(CURRENT).bind(project.as_uuid()).fetch_all(&mut **c).await)?;
    let current: HashMap<Uuid, (String, Option<String>, String)> = rows.into_iter().map(|(u, r, cr, s)| (u, (r, cr, s))).collect();
    for (user, p) in people {
        let Some((role, contact_role, status)) = current.get(&user.as_uuid()) else {
            continue;
        };
        // Staff keep the role staff gave them; only customer memberships follow the CRM.
        if !role.starts_with("customer_") {
            continue;
        }
        let action = if status != "active" {
            "member.reactivated"
        } else if role != p.role.as_str() || *contact_role != p.contact_role {
            "member.role_changed"
        } else {
            continue;
        };
        on_tx!(&mut *tx, c => sqlx::query(UPDATE).bind(p.role.as_str()).bind(&p.contact_role).bind(project.as_uuid()).bind(user.as_uuid())
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        let details = serde_json::json!({
            "user": user, "from": { "role": role, "contact_role": contact_role }, "to": { "role": p.role, "contact_role": p.contact_role },
            "crm_contact": p.external_id,
        });
        record_member_change(tx, project, action, source, details).await?;
    }
    Ok(())
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

/// Keys per `IN (…)` list: far below both databases' bind limits.
const KEYS_PER_LOOKUP: usize = 1000;

/// `key → id` for the rows `sql` (ending in `IN (`, with `$1` bound to `fixed` if
/// given) finds among `keys`.
async fn lookup(tx: &mut Tx, sql: &str, fixed: Option<&str>, keys: &[&str]) -> Result<HashMap<String, Uuid>, StoreError> {
    let mut found = HashMap::new();
    let first = if fixed.is_some() { 2 } else { 1 };
    for chunk in keys.chunks(KEYS_PER_LOOKUP) {
        let sql = sqlx::AssertSqlSafe(format!("{sql}{})", bulk::list(chunk.len(), first)));
        let rows: Vec<(String, Uuid)> = on_tx!(&mut *tx, c => {
            let mut q = sqlx::query_as(sql);
            if let Some(fixed) = fixed {
                q = q.bind(fixed);
            }
            for key in chunk {
                q = q.bind(*key);
            }
            q.fetch_all(&mut **c).await
        })?;
        found.extend(rows);
    }
    Ok(found)
}

/// The user for each planned person, in plan order: the one linked to the CRM contact,
/// else the one with this email (people are matched by email), else a new customer
/// user; every contact not linked yet is linked. A few statements for any number of
/// people, instead of four per person.
async fn link_users<'p>(
    tx: &mut Tx,
    connection: &str,
    people: &'p [PlannedPerson],
    company: Option<CompanyId>,
) -> Result<Vec<(UserId, &'p PlannedPerson)>, StoreError> {
    const LINKED: &str = "SELECT external_id, local_id FROM crm_links WHERE connection = $1 AND object = 'contact' AND external_id IN (";
    const BY_EMAIL: &str = "SELECT email, id FROM users WHERE email IN (";
    const USER_COLUMNS: usize = 8;
    const LINK_COLUMNS: usize = 5;
    if people.is_empty() {
        return Ok(Vec::new());
    }
    let contacts: Vec<&str> = people.iter().map(|p| p.external_id.as_str()).collect();
    let mut by_contact: HashMap<String, UserId> = lookup(tx, LINKED, Some(connection), &contacts)
        .await?
        .into_iter()
        .map(|(k, v)| (k, UserId::from_uuid(v)))
        .collect();
    let emails: Vec<&str> = people
        .iter()
        .filter(|p| !by_contact.contains_key(&p.external_id))
        .map(|p| p.email.as_str())
        .collect();
    let mut by_email: HashMap<String, UserId> = if emails.is_empty() {
        HashMap::new()
    } else {
        lookup(tx, BY_EMAIL, None, &emails)
            .await?
            .into_iter()
            .map(|(k, v)| (k, UserId::from_uuid(v)))
            .collect()
    };
    let mut new_users: Vec<(UserId, &PlannedPerson)> = Vec::new();
    let mut new_links: Vec<(&str, UserId)> = Vec::new();
    for p in people {
        if by_contact.contains_key(&p.external_id) {
            continue;
        }
        let user = match by_email.get(p.email.as_str()) {
            Some(user) => *user,
            None => {
                // Two contacts with one address are one person: the second finds the first.
                let user = UserId::new();
                by_email.insert(p.email.as_str().to_owned(), user);
                new_users.push((user, p));
                user
            }
        };
        by_contact.insert(p.external_id.clone(), user);
        new_links.push((&p.external_id, user));
    }
    let now = Utc::now();
    for chunk in new_users.chunks(bulk::rows_per_statement(USER_COLUMNS)) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO users (id, kind, email, first_name, last_name, company_id, title, created_at) VALUES {}",
            bulk::values(USER_COLUMNS, chunk.len(), 1)
        ));
        on_tx!(&mut *tx, c => {
            let mut q = sqlx::query(sql);
            for (id, p) in chunk {
                q = q.bind(id.as_uuid()).bind("customer").bind(p.email.as_str()).bind(&p.first_name).bind(&p.last_name)
                    .bind(company.map(|c| c.as_uuid())).bind(&p.title).bind(now);
            }
            q.execute(&mut **c).await.map(|r| r.rows_affected())
        })?;
    }
    for chunk in new_links.chunks(bulk::rows_per_statement(LINK_COLUMNS)) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO crm_links (connection, object, external_id, local_id, created_at) VALUES {}",
            bulk::values(LINK_COLUMNS, chunk.len(), 1)
        ));
        on_tx!(&mut *tx, c => {
            let mut q = sqlx::query(sql);
            for (contact, user) in chunk {
                q = q.bind(connection).bind("contact").bind(*contact).bind(user.as_uuid()).bind(now);
            }
            q.execute(&mut **c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(people
        .iter()
        .filter_map(|p| by_contact.get(&p.external_id).map(|u| (*u, p)))
        .collect())
}

/// Adds the memberships that do not exist yet, each with a `member.added` entry, and
/// returns the people added, in plan order. A person listed twice is added once, with
/// the first listing's role.
async fn add_members<'p>(
    tx: &mut Tx,
    project: ProjectId,
    people: &[(UserId, &'p PlannedPerson)],
    source: &str,
) -> Result<Vec<(UserId, &'p PlannedPerson)>, StoreError> {
    const COLUMNS: usize = 7;
    let mut seen = HashSet::new();
    let candidates: Vec<(UserId, &PlannedPerson)> = people.iter().filter(|(u, _)| seen.insert(*u)).copied().collect();
    let now = Utc::now();
    let mut inserted: HashSet<Uuid> = HashSet::new();
    for chunk in candidates.chunks(bulk::rows_per_statement(COLUMNS)) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO memberships (project_id, user_id, role, contact_role, status, created_at, invite) VALUES {} \
             ON CONFLICT (project_id, user_id) DO NOTHING RETURNING user_id",
            bulk::values(COLUMNS, chunk.len(), 1)
        ));
        let rows: Vec<Uuid> = on_tx!(&mut *tx, c => {
            let mut q = sqlx::query_scalar(sql);
            for (user, p) in chunk {
                q = q.bind(project.as_uuid()).bind(user.as_uuid()).bind(p.role.as_str()).bind(&p.contact_role).bind("active").bind(now)
                    .bind(p.invite.as_str());
            }
            q.fetch_all(&mut **c).await
        })?;
        inserted.extend(rows);
    }
    let added: Vec<(UserId, &PlannedPerson)> = candidates.into_iter().filter(|(u, _)| inserted.contains(&u.as_uuid())).collect();
    let entries: Vec<NewActivity> = added
        .iter()
        .map(|(user, p)| NewActivity {
            project_id: Some(project),
            actor: Actor::System,
            action: "member.added".into(),
            source: source.into(),
            details: serde_json::json!({ "user": user, "role": p.role, "contact_role": p.contact_role, "crm_contact": p.external_id }),
        })
        .collect();
    activity::record_many(tx, &entries).await?;
    Ok(added)
}

/// Records invitations (hash only) and the outbox rows that will email them. The outbox
/// key makes a repeated invitation of one person to one project a no-op.
pub(super) async fn invite_many(
    tx: &mut Tx,
    project: ProjectId,
    invitations: &[(UserId, &PlannedPerson, &NewInvitation)],
) -> Result<(), StoreError> {
    let rows: Vec<(UserId, &Email, &NewInvitation)> = invitations.iter().map(|(u, p, inv)| (*u, &p.email, *inv)).collect();
    insert_invitations(tx, project, &rows).await
}

/// One invitation (see [`invite_many`]).
pub(super) async fn invite(tx: &mut Tx, project: ProjectId, user: UserId, email: &Email, inv: &NewInvitation) -> Result<(), StoreError> {
    insert_invitations(tx, project, &[(user, email, inv)]).await
}

async fn insert_invitations(tx: &mut Tx, project: ProjectId, rows: &[(UserId, &Email, &NewInvitation)]) -> Result<(), StoreError> {
    const INVITE_COLUMNS: usize = 6;
    const OUTBOX_COLUMNS: usize = 6;
    let now = Utc::now();
    for chunk in rows.chunks(bulk::rows_per_statement(INVITE_COLUMNS.max(OUTBOX_COLUMNS))) {
        let invite = sqlx::AssertSqlSafe(format!(
            "INSERT INTO invitations (id, user_id, project_id, token_hash, created_at, expires_at) VALUES {}",
            bulk::values(INVITE_COLUMNS, chunk.len(), 1)
        ));
        on_tx!(&mut *tx, c => {
            let mut q = sqlx::query(invite);
            for (user, _, inv) in chunk {
                q = q.bind(inv.id).bind(user.as_uuid()).bind(project.as_uuid()).bind(&inv.token_hash).bind(now).bind(inv.expires_at);
            }
            q.execute(&mut **c).await.map(|r| r.rows_affected())
        })?;
        let outbox = sqlx::AssertSqlSafe(format!(
            "INSERT INTO outbox (id, kind, idempotency_key, payload, next_attempt_at, created_at) VALUES {} \
             ON CONFLICT (idempotency_key) DO NOTHING",
            bulk::values(OUTBOX_COLUMNS, chunk.len(), 1)
        ));
        on_tx!(&mut *tx, c => {
            let mut q = sqlx::query(outbox);
            for (user, email, inv) in chunk {
                let payload = serde_json::json!({
                    "type": "invitation",
                    "invitation_id": inv.id,
                    "project_id": project,
                    "user_id": user,
                    "email": email,
                    "sealed_token": inv.sealed_token,
                });
                q = q.bind(Uuid::now_v7()).bind("email").bind(format!("invite:{project}:{user}")).bind(Json(payload)).bind(now).bind(now);
            }
            q.execute(&mut **c).await.map(|r| r.rows_affected())
        })?;
    }
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
