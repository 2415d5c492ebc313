//! Salesforce adapted to the hub's `Crm` seam: Opportunities (deals) with their
//! OpportunityContactRoles in the same query, Accounts (companies), Contacts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use crm_salesforce::poll::{CONTACT_ROLES_RELATIONSHIP, PollQuery};
use crm_salesforce::write::{NOT_ATTEMPTED, NewRecord, NewTask, RecordUpdate, SaveResult};
use crm_salesforce::{Client, Error as SfError, QueryOptions, Record};
use serde_json::{Map, Value};

use super::crm::{ActivityWrite, BoxFuture, ChangePage, Crm, CrmError, FieldWrite, RowError, RowOutcome};
use super::describe;
use super::reads::DealReads;
use handoff_domain::change::{ChangeSource, CompanyRef, ContactRole, CrmUser, ObjectKind, RecordChange};
use handoff_domain::connection_health::Budget;
use handoff_domain::field_catalog::FieldCatalog;

/// Fields read for every opportunity; workflows add the ones their mappings use.
pub const DEFAULT_DEAL_FIELDS: &[&str] = &[
    "Name",
    "StageName",
    "Amount",
    "CloseDate",
    "Type",
    "AccountId",
    "Account.Name",
    "OwnerId",
    "Owner.Email",
];
const COMPANY_FIELDS: &[&str] = &["Name", "Website", "Industry"];
const CONTACT_FIELDS: &[&str] = &["Email", "FirstName", "LastName", "Title", "AccountId"];
/// One SOQL page: Salesforce's maximum, so a backfill costs one call per 2,000 records.
const PAGE: u32 = 2000;
/// A transaction that runs long can commit rows stamped before a poll ran; the next
/// run starts this long before the previous run's start when the cursor is that
/// recent (<https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_getupdated.htm>). An older cursor needs no overlap, so an idle poll re-reads
/// nothing.
const OVERLAP: chrono::Duration = chrono::Duration::minutes(5);

/// The stored cursor: the largest SystemModstamp stored, and when its run started.
#[derive(serde::Serialize, serde::Deserialize)]
struct RunCursor {
    stamp: DateTime<Utc>,
    run_started: DateTime<Utc>,
}

/// Ids per `WHERE Id IN (…)` query: 200 × 21 characters keeps SOQL far below its length limit.
const IDS_PER_QUERY: usize = 200;

pub struct SalesforceCrm {
    connection: String,
    client: Client,
    deal_fields: Vec<String>,
    /// User-lookup fields whose user the change carries (read through their
    /// relationship: `OwnerId` → `Owner.Email`).
    user_fields: Vec<String>,
    /// Read the contacts of each deal's account (one query per 200 accounts).
    company_contacts: bool,
    /// When each run in progress started, by continuation (nextRecordsUrl).
    runs: std::sync::Mutex<std::collections::HashMap<String, DateTime<Utc>>>,
}

impl SalesforceCrm {
    pub fn new(connection: &str, client: Client, reads: &DealReads) -> Self {
        let mut deal_fields: Vec<String> = DEFAULT_DEAL_FIELDS.iter().map(|f| (*f).to_owned()).collect();
        let user_paths = reads
            .user_fields
            .iter()
            .filter_map(|f| relationship_of(f))
            .flat_map(|rel| USER_FIELDS.map(|u| format!("{rel}.{u}")));
        for f in reads
            .fields
            .iter()
            .cloned()
            .chain(reads.user_fields.iter().cloned())
            .chain(user_paths)
        {
            if !deal_fields.iter().any(|d| d.eq_ignore_ascii_case(&f)) {
                deal_fields.push(f);
            }
        }
        Self {
            connection: connection.to_owned(),
            client,
            deal_fields,
            user_fields: reads.user_fields.clone(),
            company_contacts: reads.company_contacts,
            runs: Default::default(),
        }
    }

    /// The CRM users the record's user-lookup fields name, from the relationship
    /// fields read with it.
    fn users_of(&self, record: &Record) -> BTreeMap<String, CrmUser> {
        let mut out = BTreeMap::new();
        for field in &self.user_fields {
            let Some(id) = record.get_str(field).filter(|id| !id.is_empty()) else {
                continue;
            };
            let rel = relationship_of(field);
            let part = |name: &str| rel.as_ref().and_then(|r| record.get_str(&format!("{r}.{name}"))).map(str::to_owned);
            let user = CrmUser {
                external_id: id.to_owned(),
                email: part("Email"),
                first_name: part("FirstName"),
                last_name: part("LastName"),
            };
            out.insert(field.clone(), user);
        }
        out
    }

    /// Every contact of each deal's account, when a workflow asks for them: one query
    /// per 200 accounts of the page.
    async fn add_company_contacts(&self, changes: &mut [RecordChange]) -> Result<(), CrmError> {
        if !self.company_contacts {
            return Ok(());
        }
        let mut accounts: Vec<String> = changes
            .iter()
            .filter_map(|c| c.company.as_ref())
            .filter_map(|c| crm_salesforce::id::normalize(&c.external_id))
            .collect();
        accounts.sort();
        accounts.dedup();
        let mut by_account: BTreeMap<String, Vec<ContactRole>> = BTreeMap::new();
        for chunk in accounts.chunks(IDS_PER_QUERY) {
            // Normalized ids are 18 letters and digits: nothing to escape.
            let ids: Vec<String> = chunk.iter().map(|id| format!("'{id}'")).collect();
            let soql = format!(
                "SELECT Id, Email, FirstName, LastName, Title, AccountId FROM Contact WHERE AccountId IN ({})",
                ids.join(", ")
            );
            let options = QueryOptions {
                batch_size: Some(PAGE),
                ..Default::default()
            };
            for record in self.client.query_all_records(&soql, options).await.map_err(map_error)? {
                let (Some(id), Some(account)) = (record.id(), record.get_str("AccountId").and_then(crm_salesforce::id::normalize)) else {
                    continue;
                };
                let text = |name: &str| record.get_str(name).map(str::to_owned);
                by_account.entry(account).or_default().push(ContactRole {
                    external_id: id.to_owned(),
                    email: text("Email"),
                    first_name: text("FirstName"),
                    last_name: text("LastName"),
                    title: text("Title"),
                    roles: Vec::new(),
                    is_primary: false,
                });
            }
        }
        for change in changes.iter_mut() {
            let account = change.company.as_ref().and_then(|c| crm_salesforce::id::normalize(&c.external_id));
            if let Some(mut contacts) = account.and_then(|a| by_account.get(&a).cloned()) {
                contacts.sort_by(|a, b| a.external_id.cmp(&b.external_id));
                change.company_contacts = contacts;
            }
        }
        Ok(())
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn lock_runs(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, DateTime<Utc>>> {
        self.runs.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn sobject(object: ObjectKind) -> &'static str {
        match object {
            ObjectKind::Deal => "Opportunity",
            ObjectKind::Company => "Account",
            ObjectKind::Contact => "Contact",
        }
    }

    fn poll_query(&self, object: ObjectKind) -> PollQuery {
        match object {
            ObjectKind::Deal => {
                let fields: Vec<&str> = self.deal_fields.iter().map(String::as_str).collect();
                PollQuery::new("Opportunity", &fields).with_contact_roles()
            }
            ObjectKind::Company => PollQuery::new("Account", COMPANY_FIELDS),
            ObjectKind::Contact => PollQuery::new("Contact", CONTACT_FIELDS),
        }
    }

    /// `SELECT … FROM O WHERE Id IN (…)`, with the same columns a poll reads (the
    /// connector checks the ids, so nothing a sender controls shapes the query).
    fn by_ids_soql(&self, object: ObjectKind, ids: &[String]) -> Result<String, CrmError> {
        self.poll_query(object).soql_for_ids(ids).map_err(map_error)
    }

    fn to_change(&self, object: ObjectKind, record: Record) -> Option<RecordChange> {
        let external_id = record.id()?.to_owned();
        let modified_at = record.get_str("SystemModstamp").and_then(crm_salesforce::datetime::parse)?;
        let contacts = if object == ObjectKind::Deal {
            contact_roles(&record)
        } else {
            Vec::new()
        };
        let company = record.get_str("AccountId").map(|id| CompanyRef {
            external_id: id.to_owned(),
            name: record.get_str("Account.Name").map(str::to_owned),
        });
        let users = if object == ObjectKind::Deal {
            self.users_of(&record)
        } else {
            BTreeMap::new()
        };
        let mut fields = record.fields;
        fields.remove(CONTACT_ROLES_RELATIONSHIP);
        Some(RecordChange {
            connection: self.connection.clone(),
            object,
            external_id,
            fields: without_attributes(fields),
            contacts,
            company,
            users,
            company_contacts: Vec::new(),
            modified_at,
            deleted: false,
            source: ChangeSource::Poll,
        })
    }
}

/// What is read of each CRM user a user-lookup field names.
const USER_FIELDS: [&str; 3] = ["Email", "FirstName", "LastName"];

/// The relationship a lookup field is read through, by Salesforce's naming: a standard
/// `OwnerId` is `Owner`, a custom `Onboarding_Manager__c` is `Onboarding_Manager__r`.
fn relationship_of(field: &str) -> Option<String> {
    if let Some(stem) = field.strip_suffix("__c") {
        return Some(format!("{stem}__r"));
    }
    field
        .strip_suffix("Id")
        .filter(|s| !s.is_empty() && !s.contains('.'))
        .map(str::to_owned)
}

/// The opportunity's contact roles, one entry per contact with all its roles.
fn contact_roles(record: &Record) -> Vec<ContactRole> {
    let Ok(children) = record.children(CONTACT_ROLES_RELATIONSHIP) else {
        return Vec::new();
    };
    let mut by_contact: BTreeMap<String, ContactRole> = BTreeMap::new();
    for row in children.records {
        let Some(contact_id) = row.get_str("ContactId") else { continue };
        let entry = by_contact.entry(contact_id.to_owned()).or_insert_with(|| ContactRole {
            external_id: contact_id.to_owned(),
            email: row.get_str("Contact.Email").map(str::to_owned),
            first_name: row.get_str("Contact.FirstName").map(str::to_owned),
            last_name: row.get_str("Contact.LastName").map(str::to_owned),
            title: None,
            roles: Vec::new(),
            is_primary: false,
        });
        if let Some(role) = row.get_str("Role")
            && !entry.roles.iter().any(|r| r == role)
        {
            entry.roles.push(role.to_owned());
        }
        entry.is_primary |= row.get("IsPrimary").and_then(Value::as_bool).unwrap_or(false);
    }
    by_contact.into_values().collect()
}

/// Drops SOQL's `attributes` blocks (type and URL of each record), which are noise to
/// mappings and would make two reads of one record look different.
fn without_attributes(mut fields: Map<String, Value>) -> Map<String, Value> {
    fields.remove("attributes");
    for value in fields.values_mut() {
        if let Value::Object(inner) = value {
            *inner = without_attributes(std::mem::take(inner));
        }
    }
    fields
}

/// Salesforce caps a Task's Subject at 255 characters.
const SUBJECT_MAX: usize = 255;

/// The completed Task that records `a` on its record (and on the contact who acted).
fn completed_task(object: ObjectKind, a: &ActivityWrite) -> NewTask {
    let mut task = NewTask::completed(&a.subject.chars().take(SUBJECT_MAX).collect::<String>());
    match object {
        ObjectKind::Contact => task.who_id = Some(a.external_id.clone()),
        ObjectKind::Deal | ObjectKind::Company => {
            task.what_id = Some(a.external_id.clone());
            task.who_id = a.contact_id.clone();
        }
    }
    task.activity_date = Some(a.at.date_naive());
    task.description = Some(a.body.clone()).filter(|b| !b.is_empty());
    task
}

/// One collection row's result in the hub's terms, with Salesforce's own words.
fn outcome(r: &SaveResult) -> RowOutcome {
    if r.success {
        return Ok(());
    }
    let message = r
        .errors
        .iter()
        .map(|e| match e.fields.as_slice() {
            [] => format!("{}: {}", e.status_code, e.message),
            fields => format!("{}: {} ({})", e.status_code, e.message, fields.join(", ")),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let retryable = r
        .errors
        .iter()
        .any(|e| e.status_code == crm_salesforce::error::codes::UNABLE_TO_LOCK_ROW || e.status_code == NOT_ATTEMPTED);
    Err(RowError { message, retryable })
}

fn map_error(e: SfError) -> CrmError {
    match e {
        SfError::RequestLimitExceeded { .. } => CrmError::RateLimited(e.to_string()),
        SfError::Unauthorized { .. } | SfError::Token(crm_http::TokenError::Rejected(_)) => CrmError::Unauthorized(e.to_string()),
        SfError::Token(_) | SfError::Server { .. } | SfError::Timeout | SfError::Transport(_) => CrmError::Unavailable(e.to_string()),
        other => CrmError::Rejected(other.to_string()),
    }
}

impl Crm for SalesforceCrm {
    fn connection(&self) -> &str {
        &self.connection
    }

    fn fetch<'a>(&'a self, object: ObjectKind, ids: &'a [String]) -> BoxFuture<'a, Result<Vec<RecordChange>, CrmError>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(IDS_PER_QUERY) {
                let soql = self.by_ids_soql(object, chunk)?;
                let records = self
                    .client
                    .query_all_records(
                        &soql,
                        QueryOptions {
                            batch_size: Some(PAGE),
                            ..Default::default()
                        },
                    )
                    .await
                    .map_err(map_error)?;
                out.extend(records.into_iter().filter_map(|r| self.to_change(object, r)));
            }
            if object == ObjectKind::Deal {
                self.add_company_contacts(&mut out).await?;
            }
            Ok(out)
        })
    }

    fn changed_since<'a>(
        &'a self,
        object: ObjectKind,
        cursor: Option<&'a str>,
        continuation: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ChangePage, CrmError>> {
        Box::pin(async move {
            let options = QueryOptions {
                batch_size: Some(PAGE),
                ..Default::default()
            };
            let stored: Option<RunCursor> = match cursor.filter(|c| !c.is_empty()) {
                None => None,
                Some(c) => Some(serde_json::from_str(c).map_err(|e| {
                    CrmError::Rejected(format!("the stored poll cursor is unreadable ({e}); run `handoff sync --backfill`"))
                })?),
            };
            let (result, run_started) = match continuation {
                Some(next) => {
                    let started = self.lock_runs().remove(next).unwrap_or_else(Utc::now);
                    (self.client.query_more(next, options).await, started)
                }
                None => {
                    let mut q = self.poll_query(object).overlap(chrono::Duration::zero());
                    if let Some(c) = &stored {
                        q = q.since(c.stamp.min(c.run_started - OVERLAP));
                    }
                    (self.client.query_with(&q.soql().map_err(map_error)?, options).await, Utc::now())
                }
            };
            let result = result.map_err(map_error)?;
            let mut changes: Vec<RecordChange> = result.records.into_iter().filter_map(|r| self.to_change(object, r)).collect();
            if object == ObjectKind::Deal {
                self.add_company_contacts(&mut changes).await?;
            }
            // Rows come ordered by SystemModstamp, so the largest stamp so far is safe.
            let newest = changes
                .iter()
                .map(|c| c.modified_at)
                .max()
                .into_iter()
                .chain(stored.as_ref().map(|c| c.stamp))
                .max();
            let cursor = match newest {
                Some(stamp) => serde_json::to_string(&RunCursor { stamp, run_started }).map_err(|e| CrmError::Rejected(e.to_string()))?,
                None => String::new(),
            };
            let continuation = result.next_records_url.filter(|_| !result.done);
            if let Some(next) = &continuation {
                self.lock_runs().insert(next.clone(), run_started);
            }
            Ok(ChangePage {
                changes,
                cursor,
                continuation,
                total_hint: Some(result.total_size),
            })
        })
    }

    fn deleted_since<'a>(&'a self, object: ObjectKind, since: DateTime<Utc>) -> BoxFuture<'a, Result<Vec<RecordChange>, CrmError>> {
        Box::pin(async move {
            let deleted = self
                .client
                .get_deleted(Self::sobject(object), since, Utc::now())
                .await
                .map_err(map_error)?;
            Ok(deleted
                .deleted_records
                .into_iter()
                .map(|d| RecordChange {
                    connection: self.connection.clone(),
                    object,
                    external_id: d.id,
                    fields: Map::new(),
                    contacts: Vec::new(),
                    company: None,
                    users: Default::default(),
                    company_contacts: Vec::new(),
                    modified_at: d.deleted_date,
                    deleted: true,
                    source: ChangeSource::Poll,
                })
                .collect())
        })
    }

    fn write_fields<'a>(&'a self, object: ObjectKind, writes: &'a [FieldWrite]) -> BoxFuture<'a, Result<Vec<RowOutcome>, CrmError>> {
        Box::pin(async move {
            let updates: Vec<RecordUpdate> = writes
                .iter()
                .map(|w| RecordUpdate {
                    object_type: Self::sobject(object).to_owned(),
                    id: w.external_id.clone(),
                    fields: w.fields.clone(),
                })
                .collect();
            // Not all-or-none: one record's validation rule must not hold back the others.
            let results = self.client.update_records(&updates, false).await.map_err(map_error)?;
            Ok(results.iter().map(outcome).collect())
        })
    }

    fn log_activities<'a>(
        &'a self,
        object: ObjectKind,
        activities: &'a [ActivityWrite],
    ) -> BoxFuture<'a, Result<Vec<RowOutcome>, CrmError>> {
        Box::pin(async move {
            let tasks = activities
                .iter()
                .map(|a| NewRecord::task(&completed_task(object, a)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(map_error)?;
            let results = self.client.create_records(&tasks, false).await.map_err(map_error)?;
            Ok(results.iter().map(outcome).collect())
        })
    }

    fn activity_logged<'a>(
        &'a self,
        object: ObjectKind,
        activity: &'a ActivityWrite,
        since: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<bool, CrmError>> {
        Box::pin(async move {
            let task = completed_task(object, activity);
            let what = crm_salesforce::id::normalize(&activity.external_id)
                .ok_or_else(|| CrmError::Rejected(format!("`{}` is not a Salesforce id", activity.external_id)))?;
            // CreatedDate is the server's clock: a minute's slack for skew between it and ours.
            let soql = format!(
                "SELECT Id FROM Task WHERE WhatId = '{what}' AND Subject = {} AND CreatedDate >= {} LIMIT 1",
                crm_salesforce::query::quote(&task.subject),
                crm_salesforce::datetime::soql_literal(since - chrono::Duration::minutes(1)),
            );
            let found = self.client.query(&soql).await.map_err(map_error)?;
            Ok(!found.records.is_empty())
        })
    }

    fn field_catalog<'a>(&'a self, object: ObjectKind) -> BoxFuture<'a, Result<FieldCatalog, CrmError>> {
        Box::pin(async move {
            // The parents the adapter's own reads go through (Account.Name, Owner.Email
            // and the workflows' paths) are described with the object.
            let paths: Vec<String> = match object {
                ObjectKind::Deal => self.deal_fields.clone(),
                ObjectKind::Company => COMPANY_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
                ObjectKind::Contact => CONTACT_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
            };
            describe::describe_catalog(&self.client, Self::sobject(object).to_owned(), paths)
                .await
                .map_err(map_error)
        })
    }

    fn contact_roles_known<'a>(&'a self) -> BoxFuture<'a, Result<Vec<String>, CrmError>> {
        Box::pin(async move {
            let role_object = self.client.describe(describe::CONTACT_ROLE_OBJECT).await.map_err(map_error)?;
            Ok(describe::contact_roles(&role_object))
        })
    }

    fn check_access<'a>(&'a self) -> BoxFuture<'a, Result<String, CrmError>> {
        Box::pin(async move {
            let limits = self.client.limits().await.map_err(map_error)?;
            Ok(match limits.daily_api_requests() {
                Some(u) => format!("read the org’s limits: {} of {} daily API requests used", u.used, u.max),
                None => "read the org’s limits".to_owned(),
            })
        })
    }

    fn budget(&self) -> Budget {
        self.client.budget().map_or_else(Budget::default, |u| Budget {
            used: Some(u.used),
            limit: Some(u.max),
        })
    }

    fn calls_made(&self) -> u64 {
        self.client.calls_made()
    }
}
