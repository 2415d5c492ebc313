//! The rows a workflow plan writes: its project's CRM source, the company and people
//! linked to CRM records, memberships from CRM contacts. The engine decides what a plan
//! does (engine/apply.rs) and writes through these.

use chrono::Utc;
use uuid::Uuid;

use std::collections::{HashMap, HashSet};

use super::{Store, StoreError, Tx, bulk, on_tx};
use handoff_domain::plan::PlannedPerson;
use handoff_domain::{CompanyId, ProjectId, ProjectStatus, UserId};

/// A customer membership as the CRM keeps it in step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrmMembership {
    pub role: String,
    pub contact_role: Option<String>,
    pub status: String,
}

/// An active customer member linked to a CRM contact on the plan's connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedMember {
    pub user: UserId,
    pub contact: String,
    pub role: String,
    pub contact_role: Option<String>,
}

impl Tx {
    /// The project a workflow made for a CRM record, with its status.
    pub async fn project_for_source(
        &mut self,
        workflow: &str,
        connection: &str,
        external_id: &str,
    ) -> Result<Option<(ProjectId, ProjectStatus)>, StoreError> {
        const SQL: &str = "SELECT s.project_id, p.status FROM project_sources s JOIN projects p ON p.id = s.project_id \
                           WHERE s.workflow = $1 AND s.connection = $2 AND s.external_id = $3";
        let row: Option<(Uuid, String)> =
            on_tx!(self, c => sqlx::query_as(SQL).bind(workflow).bind(connection).bind(external_id).fetch_optional(&mut **c).await)?;
        row.map(|(id, status)| Ok((ProjectId::from_uuid(id), super::rows::parse("projects.status", &status)?)))
            .transpose()
    }

    /// Records that the workflow made `project` for the record (the unique key keeps it
    /// one project per workflow and record, across processes).
    pub async fn link_project_source(
        &mut self,
        workflow: &str,
        connection: &str,
        external_id: &str,
        project: ProjectId,
    ) -> Result<(), StoreError> {
        const SQL: &str =
            "INSERT INTO project_sources (workflow, connection, external_id, project_id, created_at) VALUES ($1, $2, $3, $4, $5)";
        on_tx!(self, c => sqlx::query(SQL).bind(workflow).bind(connection).bind(external_id).bind(project.as_uuid()).bind(Utc::now())
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The CRM's name and goal date for an existing project (a goal the record leaves
    /// empty keeps the project's).
    pub async fn update_project_from_crm(
        &mut self,
        project: ProjectId,
        name: &str,
        goal_date: Option<chrono::NaiveDate>,
    ) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE projects SET name = $1, goal_date = COALESCE($2, goal_date), updated_at = $3 WHERE id = $4";
        on_tx!(self, c => sqlx::query(SQL).bind(name).bind(goal_date).bind(Utc::now()).bind(project.as_uuid())
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The company linked to this CRM account/company, created (and linked) if new.
    pub async fn link_company(&mut self, connection: &str, external_id: &str, name: &str) -> Result<CompanyId, StoreError> {
        link_company(self, connection, external_id, name).await
    }

    /// The user for each planned person, in plan order (see [`link_users`]).
    pub async fn link_users<'p>(
        &mut self,
        connection: &str,
        people: &'p [PlannedPerson],
        company: Option<CompanyId>,
    ) -> Result<Vec<(UserId, &'p PlannedPerson)>, StoreError> {
        link_users(self, connection, people, company).await
    }

    /// Adds the memberships that do not exist yet (see [`add_members`]).
    pub async fn add_planned_members<'p>(
        &mut self,
        project: ProjectId,
        people: &[(UserId, &'p PlannedPerson)],
    ) -> Result<Vec<(UserId, &'p PlannedPerson)>, StoreError> {
        add_members(self, project, people).await
    }

    /// Every membership of the project, by user.
    pub async fn memberships_by_user(&mut self, project: ProjectId) -> Result<HashMap<UserId, CrmMembership>, StoreError> {
        const SQL: &str = "SELECT user_id, role, contact_role, status FROM memberships WHERE project_id = $1";
        let rows: Vec<(Uuid, String, Option<String>, String)> =
            on_tx!(self, c => sqlx::query_as(SQL).bind(project.as_uuid()).fetch_all(&mut **c).await)?;
        Ok(rows
            .into_iter()
            .map(|(u, role, contact_role, status)| {
                (
                    UserId::from_uuid(u),
                    CrmMembership {
                        role,
                        contact_role,
                        status,
                    },
                )
            })
            .collect())
    }

    /// Sets a customer membership's role and CRM role as the CRM has them, active.
    pub async fn update_membership_from_crm(
        &mut self,
        project: ProjectId,
        user: UserId,
        role: &str,
        contact_role: Option<&str>,
    ) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE memberships SET role = $1, contact_role = $2, status = 'active' WHERE project_id = $3 AND user_id = $4";
        on_tx!(self, c => sqlx::query(SQL).bind(role).bind(contact_role).bind(project.as_uuid()).bind(user.as_uuid())
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Active customer members linked to a CRM contact of `connection` with a CRM role.
    pub async fn crm_linked_members(&mut self, project: ProjectId, connection: &str) -> Result<Vec<LinkedMember>, StoreError> {
        const SQL: &str = "SELECT m.user_id, l.external_id, m.role, m.contact_role FROM memberships m \
                           JOIN crm_links l ON l.local_id = m.user_id AND l.object = 'contact' AND l.connection = $2 \
                           WHERE m.project_id = $1 AND m.status = 'active' AND m.role LIKE 'customer_%' AND m.contact_role IS NOT NULL";
        let rows: Vec<(Uuid, String, String, Option<String>)> =
            on_tx!(self, c => sqlx::query_as(SQL).bind(project.as_uuid()).bind(connection).fetch_all(&mut **c).await)?;
        Ok(rows
            .into_iter()
            .map(|(user, contact, role, contact_role)| LinkedMember {
                user: UserId::from_uuid(user),
                contact,
                role,
                contact_role,
            })
            .collect())
    }

    pub async fn deactivate_membership(&mut self, project: ProjectId, user: UserId) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE memberships SET status = 'deactivated' WHERE project_id = $1 AND user_id = $2";
        on_tx!(self, c => sqlx::query(SQL).bind(project.as_uuid()).bind(user.as_uuid()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Forgets the member's CRM role (the CRM no longer has it).
    pub async fn clear_contact_role(&mut self, project: ProjectId, user: UserId) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE memberships SET contact_role = NULL WHERE project_id = $1 AND user_id = $2";
        on_tx!(self, c => sqlx::query(SQL).bind(project.as_uuid()).bind(user.as_uuid()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Store {
    /// The project a workflow made for a CRM record, if any.
    pub async fn project_for_source(&self, workflow: &str, connection: &str, external_id: &str) -> Result<Option<ProjectId>, StoreError> {
        const SQL: &str = "SELECT project_id FROM project_sources WHERE workflow = $1 AND connection = $2 AND external_id = $3";
        let id: Option<Uuid> = super::on_pool!(self, pool => sqlx::query_scalar(SQL).bind(workflow).bind(connection).bind(external_id).fetch_optional(pool).await)?;
        Ok(id.map(ProjectId::from_uuid))
    }
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

/// Adds the memberships that do not exist yet and returns the people added, in plan
/// order. A person listed twice is added once, with the first listing's role.
async fn add_members<'p>(
    tx: &mut Tx,
    project: ProjectId,
    people: &[(UserId, &'p PlannedPerson)],
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
    Ok(candidates.into_iter().filter(|(u, _)| inserted.contains(&u.as_uuid())).collect())
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
