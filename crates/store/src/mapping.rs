//! Project mapping, applied with a workflow plan: the project's owner and team from the
//! record's CRM user-lookup fields, and its custom fields from the record's fields.
//!
//! Staff are matched to a CRM user by a link (`crm_links`, object `user`, made by
//! `handoff users add-staff --crm-user` or by a first match on email) or by email. A
//! CRM user with no staff account is not given one: staff accounts are privileged, and
//! a CRM holds many users (integration users, former employees, queues) who should not
//! get into projects by being set as a deal's owner. The project's activity says so
//! instead (`staff.unmatched`, once per CRM user and field), and the account made later
//! with `handoff users add-staff` joins the projects that waited for it.
//!
//! When the CRM owner changes, the new owner becomes the project's owner and the
//! previous one stays a member with the Staff role: they know the customer, and taking
//! access away is a person's decision. The previous owner is demoted only when the new
//! one actually joins, so a project never loses its owner to someone who cannot sign in.
//! A user-lookup field cleared in the CRM, or pointing at someone else, takes no one out.

use std::collections::BTreeMap;

use chrono::Utc;
use serde::Serialize;
use sqlx::types::Json;
use uuid::Uuid;

use super::{Store, StoreError, Tx, activity, on_pool, on_tx};
use handoff_domain::people::{Actor, NewActivity, ProjectRole};
use handoff_domain::plan::{Plan, PlannedStaff};
use handoff_domain::{Email, ProjectId, UserId};

/// A project's mapped fields as they now stand.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProjectMapping {
    /// Project custom field → value, as the CRM last gave it.
    pub custom_fields: BTreeMap<String, serde_json::Value>,
    /// The CRM users the workflow's user-lookup fields name, the owner first.
    pub crm_staff: Vec<CrmStaff>,
}

/// A CRM user a user-lookup field of the project's record names, and the staff user
/// they were matched to (none while no staff user matches).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CrmStaff {
    pub field: String,
    pub role: ProjectRole,
    pub connection: String,
    pub crm_user_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub user_id: Option<UserId>,
}

impl CrmStaff {
    /// `Maria Lopez <maria@example.com>`, or whatever part of it the CRM gave.
    pub fn label(&self) -> String {
        match (&self.name, &self.email) {
            (Some(n), Some(e)) => format!("{n} <{e}>"),
            (Some(n), None) => format!("{n} (CRM user {})", self.crm_user_id),
            (None, Some(e)) => format!("<{e}>"),
            (None, None) => format!("CRM user {}", self.crm_user_id),
        }
    }
}

/// A staff (internal) user to add, with the CRM users that are this person.
#[derive(Clone, Debug)]
pub struct NewStaff {
    pub email: Email,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// (connection, CRM user id) pairs.
    pub crm_users: Vec<(String, String)>,
    /// What they may do in the console.
    pub role: handoff_domain::people::StaffRole,
}

/// What adding a staff user did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffAdded {
    pub user_id: UserId,
    /// False when a staff user with this email already existed.
    pub created: bool,
    /// Projects the user joined because a CRM user-lookup field named them.
    pub joined: usize,
}

/// Applies the plan's staff and custom fields to the project, inside the plan's
/// transaction.
async fn apply(tx: &mut Tx, project: ProjectId, plan: &Plan, created: bool) -> Result<(), StoreError> {
    let source = format!("crm:{}", plan.connection);
    custom_fields(tx, project, &plan.custom_fields, created, &source).await?;
    for staff in &plan.staff {
        apply_staff(tx, project, &plan.connection, staff, &source).await?;
    }
    Ok(())
}

/// Sets the custom fields that changed. The CRM owns them, so its value always wins;
/// a change to an existing project's field is logged with the old and new value.
async fn custom_fields(
    tx: &mut Tx,
    project: ProjectId,
    values: &BTreeMap<String, serde_json::Value>,
    created: bool,
    source: &str,
) -> Result<(), StoreError> {
    const CURRENT: &str = "SELECT name, value FROM project_custom_fields WHERE project_id = $1";
    const UPSERT: &str = "INSERT INTO project_custom_fields (project_id, name, value, updated_at) VALUES ($1, $2, $3, $4) \
                          ON CONFLICT (project_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";
    if values.is_empty() {
        return Ok(());
    }
    let current: Vec<(String, Json<serde_json::Value>)> =
        on_tx!(&mut *tx, c => sqlx::query_as(CURRENT).bind(project.as_uuid()).fetch_all(&mut **c).await)?;
    let current: BTreeMap<String, serde_json::Value> = current.into_iter().map(|(n, v)| (n, v.0)).collect();
    let now = Utc::now();
    for (name, value) in values {
        let before = current.get(name);
        if before == Some(value) {
            continue;
        }
        on_tx!(&mut *tx, c => sqlx::query(UPSERT).bind(project.as_uuid()).bind(name).bind(Json(value)).bind(now)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if !created && let Some(before) = before {
            let details = serde_json::json!({ "field": name, "from": before, "to": value });
            record(tx, project, "project.custom_field_changed", source, details).await?;
        }
    }
    Ok(())
}

/// One user-lookup field's CRM user: matched and joined, or reported as unmatched,
/// once per CRM user. A field still naming the user it named before changes nothing,
/// unless that user had no staff account then and has one now.
async fn apply_staff(tx: &mut Tx, project: ProjectId, connection: &str, s: &PlannedStaff, source: &str) -> Result<(), StoreError> {
    const PREVIOUS: &str = "SELECT crm_user_id, user_id FROM project_crm_staff WHERE project_id = $1 AND field = $2";
    const UPSERT: &str = "INSERT INTO project_crm_staff (project_id, field, role, connection, crm_user_id, email, name, user_id, updated_at) \
                          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (project_id, field) DO UPDATE SET \
                          role = excluded.role, connection = excluded.connection, crm_user_id = excluded.crm_user_id, \
                          email = excluded.email, name = excluded.name, user_id = excluded.user_id, updated_at = excluded.updated_at";
    let previous: Option<(String, Option<Uuid>)> =
        on_tx!(&mut *tx, c => sqlx::query_as(PREVIOUS).bind(project.as_uuid()).bind(&s.field).fetch_optional(&mut **c).await)?;
    let same_user = previous.as_ref().is_some_and(|(id, _)| *id == s.crm_user_id);
    if same_user && previous.as_ref().is_some_and(|(_, user)| user.is_some()) {
        // Already joined; what staff did with the membership since is theirs to keep.
        return Ok(());
    }
    let matched = match_staff(tx, connection, &s.crm_user_id, s.email.as_ref()).await?;
    if same_user && matched.is_err() {
        // Still no account: said once already.
        return Ok(());
    }
    let user = matched.as_ref().ok().copied();
    on_tx!(&mut *tx, c => sqlx::query(UPSERT).bind(project.as_uuid()).bind(&s.field).bind(s.role.as_str()).bind(connection)
        .bind(&s.crm_user_id).bind(s.email.as_ref().map(Email::as_str)).bind(&s.name).bind(user.map(|u| u.as_uuid())).bind(Utc::now())
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    match matched {
        Ok(user) => join(tx, project, user, s.role, &s.field, &s.crm_user_id, source).await,
        Err(reason) => {
            let who = CrmStaff {
                field: s.field.clone(),
                role: s.role,
                connection: connection.to_owned(),
                crm_user_id: s.crm_user_id.clone(),
                email: s.email.as_ref().map(|e| e.as_str().to_owned()),
                name: s.name.clone(),
                user_id: None,
            };
            let what = if s.role == ProjectRole::Owner { "owner" } else { "team member" };
            let details = serde_json::json!({
                "field": s.field, "role": s.role, "crm_user": s.crm_user_id, "email": who.email, "name": who.name,
                "message": format!("the CRM {what} {} {reason}", who.label()),
            });
            record(tx, project, "staff.unmatched", source, details).await
        }
    }
}

/// The staff user for a CRM user: the one linked to it, else the staff user with its
/// email (then linked, so a later email change in the CRM keeps the match). Err says
/// why there is none.
async fn match_staff(tx: &mut Tx, connection: &str, crm_user: &str, email: Option<&Email>) -> Result<Result<UserId, String>, StoreError> {
    const LINKED: &str = "SELECT u.id, u.kind FROM crm_links l JOIN users u ON u.id = l.local_id \
                          WHERE l.connection = $1 AND l.object = 'user' AND l.external_id = $2";
    const BY_EMAIL: &str = "SELECT id, kind FROM users WHERE email = $1";
    const LINK: &str = "INSERT INTO crm_links (connection, object, external_id, local_id, created_at) VALUES ($1, 'user', $2, $3, $4) \
                        ON CONFLICT (connection, object, external_id) DO NOTHING";
    let linked: Option<(Uuid, String)> =
        on_tx!(&mut *tx, c => sqlx::query_as(LINKED).bind(connection).bind(crm_user).fetch_optional(&mut **c).await)?;
    if let Some((id, kind)) = linked
        && kind == "internal"
    {
        return Ok(Ok(UserId::from_uuid(id)));
    }
    let Some(email) = email else {
        return Ok(Err("has no handoff account (the CRM gave no email to match)".into()));
    };
    // Emails are stored lowercased (domain::Email), so this is case-insensitive.
    let found: Option<(Uuid, String)> =
        on_tx!(&mut *tx, c => sqlx::query_as(BY_EMAIL).bind(email.as_str()).fetch_optional(&mut **c).await)?;
    match found {
        Some((id, kind)) if kind == "internal" => {
            on_tx!(&mut *tx, c => sqlx::query(LINK).bind(connection).bind(crm_user).bind(id).bind(Utc::now())
                .execute(&mut **c).await.map(|r| r.rows_affected()))?;
            Ok(Ok(UserId::from_uuid(id)))
        }
        // Staff and customers are kept apart: a customer's email never grants staff rights.
        Some(_) => Ok(Err("has the email of a customer user, not of a staff account".into())),
        None => Ok(Err("has no handoff account (add one with `handoff users add-staff`)".into())),
    }
}

/// Makes the user a member with the role; an Owner demotes the project's other owners
/// to Staff (see the module documentation).
async fn join(
    tx: &mut Tx,
    project: ProjectId,
    user: UserId,
    role: ProjectRole,
    field: &str,
    crm_user: &str,
    source: &str,
) -> Result<(), StoreError> {
    const CURRENT: &str = "SELECT role, status FROM memberships WHERE project_id = $1 AND user_id = $2";
    const ADD: &str = "INSERT INTO memberships (project_id, user_id, role, contact_role, status, created_at, invite) \
                       VALUES ($1, $2, $3, NULL, 'active', $4, 'silently')";
    const SET: &str = "UPDATE memberships SET role = $1, status = 'active' WHERE project_id = $2 AND user_id = $3";
    const OWNERS: &str = "SELECT user_id FROM memberships WHERE project_id = $1 AND role = 'owner' AND user_id <> $2";
    const DEMOTE: &str = "UPDATE memberships SET role = 'staff' WHERE project_id = $1 AND user_id = $2";
    let current: Option<(String, String)> =
        on_tx!(&mut *tx, c => sqlx::query_as(CURRENT).bind(project.as_uuid()).bind(user.as_uuid()).fetch_optional(&mut **c).await)?;
    match current {
        None => {
            on_tx!(&mut *tx, c => sqlx::query(ADD).bind(project.as_uuid()).bind(user.as_uuid()).bind(role.as_str()).bind(Utc::now())
                .execute(&mut **c).await.map(|r| r.rows_affected()))?;
            let details = serde_json::json!({ "user": user, "role": role, "field": field, "crm_user": crm_user });
            record(tx, project, "member.added", source, details).await?;
        }
        Some((was, status)) => {
            // A team field never demotes an owner.
            let wanted = if role == ProjectRole::Staff && was == ProjectRole::Owner.as_str() {
                ProjectRole::Owner
            } else {
                role
            };
            if was != wanted.as_str() || status != "active" {
                on_tx!(&mut *tx, c => sqlx::query(SET).bind(wanted.as_str()).bind(project.as_uuid()).bind(user.as_uuid())
                    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
                let action = if status != "active" {
                    "member.reactivated"
                } else {
                    "member.role_changed"
                };
                let details = serde_json::json!({ "user": user, "from": { "role": was }, "to": { "role": wanted }, "field": field, "crm_user": crm_user });
                record(tx, project, action, source, details).await?;
            }
        }
    }
    if role != ProjectRole::Owner {
        return Ok(());
    }
    let others: Vec<Uuid> =
        on_tx!(&mut *tx, c => sqlx::query_scalar(OWNERS).bind(project.as_uuid()).bind(user.as_uuid()).fetch_all(&mut **c).await)?;
    for other in others {
        on_tx!(&mut *tx, c => sqlx::query(DEMOTE).bind(project.as_uuid()).bind(other).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        let details = serde_json::json!({
            "user": other, "from": { "role": "owner" }, "to": { "role": "staff" }, "reason": "the CRM owner changed", "field": field,
        });
        record(tx, project, "member.role_changed", source, details).await?;
    }
    Ok(())
}

async fn record(tx: &mut Tx, project: ProjectId, action: &str, source: &str, details: serde_json::Value) -> Result<(), StoreError> {
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

#[derive(sqlx::FromRow)]
struct CrmStaffRow {
    field: String,
    role: String,
    connection: String,
    crm_user_id: String,
    email: Option<String>,
    name: Option<String>,
    user_id: Option<Uuid>,
}

impl Store {
    /// The project's custom fields and the CRM users its user-lookup fields name.
    pub async fn project_mapping(&self, project: ProjectId) -> Result<ProjectMapping, StoreError> {
        const FIELDS: &str = "SELECT name, value FROM project_custom_fields WHERE project_id = $1 ORDER BY name";
        const STAFF: &str = "SELECT field, role, connection, crm_user_id, email, name, user_id FROM project_crm_staff \
                             WHERE project_id = $1 ORDER BY CASE role WHEN 'owner' THEN 0 ELSE 1 END, field";
        let fields: Vec<(String, Json<serde_json::Value>)> =
            on_pool!(self, pool => sqlx::query_as(FIELDS).bind(project.as_uuid()).fetch_all(pool).await)?;
        let rows: Vec<CrmStaffRow> = on_pool!(self, pool => sqlx::query_as(STAFF).bind(project.as_uuid()).fetch_all(pool).await)?;
        let mut crm_staff = Vec::with_capacity(rows.len());
        for r in rows {
            crm_staff.push(CrmStaff {
                field: r.field,
                role: super::rows::parse("project_crm_staff.role", &r.role)?,
                connection: r.connection,
                crm_user_id: r.crm_user_id,
                email: r.email,
                name: r.name,
                user_id: r.user_id.map(UserId::from_uuid),
            });
        }
        Ok(ProjectMapping {
            custom_fields: fields.into_iter().map(|(n, v)| (n, v.0)).collect(),
            crm_staff,
        })
    }
}

impl Tx {
    pub async fn create_staff(
        &mut self,
        email: &Email,
        first_name: Option<&str>,
        last_name: Option<&str>,
        role: handoff_domain::people::StaffRole,
    ) -> Result<UserId, StoreError> {
        const CREATE: &str = "INSERT INTO users (id, kind, email, first_name, last_name, staff_role, created_at) \
                              VALUES ($1, 'internal', $2, $3, $4, $5, $6)";
        let id = UserId::new();
        on_tx!(self, c => sqlx::query(CREATE).bind(id.as_uuid()).bind(email.as_str()).bind(first_name).bind(last_name)
            .bind(role.as_str()).bind(Utc::now()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(id)
    }

    /// The handoff user linked to this CRM user, if any.
    pub async fn crm_user_link(&mut self, connection: &str, crm_user: &str) -> Result<Option<UserId>, StoreError> {
        const LINKED: &str = "SELECT local_id FROM crm_links WHERE connection = $1 AND object = 'user' AND external_id = $2";
        let linked: Option<Uuid> =
            on_tx!(self, c => sqlx::query_scalar(LINKED).bind(connection).bind(crm_user).fetch_optional(&mut **c).await)?;
        Ok(linked.map(UserId::from_uuid))
    }

    /// Links the CRM user to `user` unless it is linked already.
    pub async fn link_crm_user(&mut self, connection: &str, crm_user: &str, user: UserId) -> Result<(), StoreError> {
        const LINK: &str = "INSERT INTO crm_links (connection, object, external_id, local_id, created_at) \
                            VALUES ($1, 'user', $2, $3, $4) ON CONFLICT (connection, object, external_id) DO NOTHING";
        on_tx!(self, c => sqlx::query(LINK).bind(connection).bind(crm_user).bind(user.as_uuid()).bind(Utc::now())
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Joins the staff user `user` (with `email` and the CRM users `crm_users`) to the
    /// projects whose CRM user-lookup fields name one of them and waited for an
    /// account, in the role the field gives; returns how many.
    pub async fn join_waiting_projects(
        &mut self,
        user: UserId,
        email: &Email,
        crm_users: &[(String, String)],
        source: &str,
    ) -> Result<usize, StoreError> {
        const WAITING: &str = "SELECT project_id, field, role, connection, crm_user_id, email FROM project_crm_staff WHERE user_id IS NULL";
        const MATCHED: &str = "UPDATE project_crm_staff SET user_id = $1, updated_at = $2 WHERE project_id = $3 AND field = $4";
        // Few rows (CRM users with no account yet): filtered here rather than with a
        // row-value IN list, which the backends spell differently.
        let waiting: Vec<(Uuid, String, String, String, String, Option<String>)> =
            on_tx!(self, c => sqlx::query_as(WAITING).fetch_all(&mut **c).await)?;
        let mut joined = 0;
        for (project, field, role, connection, crm_user, waiting_email) in waiting {
            let linked = crm_users.iter().any(|(c, u)| *c == connection && *u == crm_user);
            // Stored as the plan parsed it, lowercased, like the new user's.
            let same_email = waiting_email.as_deref() == Some(email.as_str());
            if !linked && !same_email {
                continue;
            }
            if !linked {
                self.link_crm_user(&connection, &crm_user, user).await?;
            }
            let project = ProjectId::from_uuid(project);
            let role: ProjectRole = super::rows::parse("project_crm_staff.role", &role)?;
            on_tx!(self, c => sqlx::query(MATCHED).bind(user.as_uuid()).bind(Utc::now()).bind(project.as_uuid()).bind(&field)
                .execute(&mut **c).await.map(|r| r.rows_affected()))?;
            join(self, project, user, role, &field, &crm_user, source).await?;
            joined += 1;
        }
        Ok(joined)
    }

    /// Applies the plan's owner, team and custom fields to the project.
    pub async fn apply_mapping(&mut self, project: ProjectId, plan: &Plan, created: bool) -> Result<(), StoreError> {
        apply(self, project, plan, created).await
    }
}
