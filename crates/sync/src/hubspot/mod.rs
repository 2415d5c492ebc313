//! HubSpot adapted to the hub's `Crm` seam: deals with their contacts and association
//! labels, companies, contacts.
//!
//! API economy per page of up to 100 deals: one search (the poller), one batch
//! association read (deal → contacts, with labels) and one batch contact read, and the
//! same two for the deal's company (deal → companies, then the companies' names). Only
//! when workflows ask: one owners list per poll run (cached), and one association read
//! per 100 companies for their contacts (read with the deals' contacts).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use crm_hubspot::associations::{AssociationSpec, type_ids};
use crm_hubspot::engagements::{NewTask, TaskStatus};
use crm_hubspot::objects::{BatchError, NewObject, ObjectUpdate, types};
use crm_hubspot::poll::{Cursor, PolledRecord, Poller};
use crm_hubspot::{Client, Error as HsError, Object, ReadOptions};
use serde_json::{Map, Value};

use super::crm::{ActivityWrite, BoxFuture, ChangePage, Crm, CrmError, FieldWrite, RowError, RowOutcome};
use super::reads::DealReads;
use handoff_domain::change::{ChangeSource, CompanyRef, ContactRole, CrmUser, ObjectKind, RecordChange};
use handoff_domain::connection_health::Budget;
use handoff_domain::field_catalog::FieldCatalog;

pub const DEFAULT_DEAL_PROPERTIES: &[&str] = &[
    "dealname",
    "dealstage",
    "pipeline",
    "amount",
    "closedate",
    "hubspot_owner_id",
    "hs_lastmodifieddate",
];
const CONTACT_PROPERTIES: &[&str] = &["email", "firstname", "lastname", "jobtitle", "lastmodifieddate"];
const COMPANY_PROPERTIES: &[&str] = &["name", "domain", "hs_lastmodifieddate"];
/// HubSpot's batch limit.
const BATCH: usize = 100;
/// HubSpot's search page limit: fewer searches, which have their own tight rate limit.
const SEARCH_PAGE: u32 = 200;
/// Newly written records take a moment to reach the search index, so a record modified
/// just before a poll ran may have been invisible to it. The next run starts this much
/// before the previous run's start when the cursor is that recent; an older cursor
/// needs no rewind, which keeps an idle poll at one call.
const INDEX_LAG_MS: i64 = 60_000;

/// Owners change rarely (a rep joins, leaves, fixes an email): the list is read once per
/// poll run and reused for webhooks for this long.
const OWNERS_TTL: std::time::Duration = std::time::Duration::from_secs(300);
/// An owner id missing from a list this old is worth one more read (a new rep).
const OWNERS_RETRY: std::time::Duration = std::time::Duration::from_secs(60);

/// The portal's owners as last read.
#[derive(Default)]
struct OwnerCache {
    loaded: Option<std::time::Instant>,
    by_id: HashMap<String, CrmUser>,
}

/// The stored cursor: the connector's keyset cursor and when its run started.
#[derive(serde::Serialize, serde::Deserialize)]
struct RunCursor {
    at: Cursor,
    run_started_ms: i64,
}

impl RunCursor {
    fn start(&self) -> Cursor {
        let visible_until = self.run_started_ms - INDEX_LAG_MS;
        self.at.rewound(self.at.modified_ms - visible_until)
    }
}

pub struct HubspotCrm {
    connection: String,
    client: Client,
    deal_properties: Vec<String>,
    /// Owner properties (`hubspot_owner_id`) whose owner the change carries.
    user_fields: Vec<String>,
    /// Read the contacts of each deal's company.
    company_contacts: bool,
    owners: Mutex<OwnerCache>,
    /// Pollers of runs in progress (and when each run started), by continuation token.
    runs: Mutex<HashMap<String, (Poller, i64)>>,
}

impl HubspotCrm {
    pub fn new(connection: &str, client: Client, reads: &DealReads) -> Self {
        let mut deal_properties: Vec<String> = DEFAULT_DEAL_PROPERTIES.iter().map(|p| (*p).to_owned()).collect();
        for p in reads.fields.iter().chain(&reads.user_fields) {
            if !deal_properties.contains(p) {
                deal_properties.push(p.clone());
            }
        }
        Self {
            connection: connection.to_owned(),
            client,
            deal_properties,
            user_fields: reads.user_fields.clone(),
            company_contacts: reads.company_contacts,
            owners: Mutex::new(OwnerCache::default()),
            runs: Mutex::new(HashMap::new()),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn object_type(object: ObjectKind) -> &'static str {
        match object {
            ObjectKind::Deal => "deals",
            ObjectKind::Company => "companies",
            ObjectKind::Contact => "contacts",
        }
    }

    fn properties(&self, object: ObjectKind) -> Vec<String> {
        match object {
            ObjectKind::Deal => self.deal_properties.clone(),
            ObjectKind::Company => COMPANY_PROPERTIES.iter().map(|p| (*p).to_owned()).collect(),
            ObjectKind::Contact => CONTACT_PROPERTIES.iter().map(|p| (*p).to_owned()).collect(),
        }
    }

    /// (deal id, contact id) → the association's labels: one association read per 100 deals.
    async fn deal_contact_labels(&self, deal_ids: &[String]) -> Result<BTreeMap<(String, u64), Vec<String>>, CrmError> {
        let mut labels: BTreeMap<(String, u64), Vec<String>> = BTreeMap::new();
        for chunk in deal_ids.chunks(BATCH) {
            let assoc = self
                .client
                .batch_read_associations("deals", "contacts", chunk)
                .await
                .map_err(map_error)?;
            for record in &assoc.results {
                for to in &record.to {
                    let names = to.association_types.iter().filter_map(|t| t.label.clone()).collect();
                    labels.insert((record.from.id.to_string(), to.to_object_id), names);
                }
            }
        }
        Ok(labels)
    }

    /// Company id → its contacts' ids: one association read per 100 companies.
    async fn company_contact_ids(&self, company_ids: &[String]) -> Result<HashMap<String, Vec<u64>>, CrmError> {
        let mut out: HashMap<String, Vec<u64>> = HashMap::new();
        for chunk in company_ids.chunks(BATCH) {
            let assoc = self
                .client
                .batch_read_associations("companies", "contacts", chunk)
                .await
                .map_err(map_error)?;
            for record in assoc.results {
                let ids = out.entry(record.from.id.to_string()).or_default();
                ids.extend(record.to.iter().map(|t| t.to_object_id));
                ids.sort_unstable();
                ids.dedup();
            }
        }
        Ok(out)
    }

    /// The contacts, one batch read per 100 distinct ids.
    async fn read_contacts(&self, mut ids: Vec<String>) -> Result<HashMap<String, Object>, CrmError> {
        ids.sort();
        ids.dedup();
        let mut people: HashMap<String, Object> = HashMap::new();
        for chunk in ids.chunks(BATCH) {
            let options = ReadOptions {
                properties: self.properties(ObjectKind::Contact),
                ..Default::default()
            };
            let read = self.client.batch_read("contacts", chunk, &options).await.map_err(map_error)?;
            people.extend(read.results.into_iter().map(|o| (o.id.clone(), o)));
        }
        Ok(people)
    }

    /// Owner id → the owner as a CRM user, for the ids given: from the cache, else from
    /// one owners list read (refreshed at each poll run's start, and when it is older
    /// than [`OWNERS_TTL`] or misses an id and is older than [`OWNERS_RETRY`]).
    /// An id HubSpot does not list (an archived owner) comes back with its id only.
    async fn owners_of(&self, ids: &[String]) -> Result<HashMap<String, CrmUser>, CrmError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let reload = {
            let cache = self.lock_owners();
            let missing = ids.iter().any(|id| !cache.by_id.contains_key(id));
            match cache.loaded {
                None => true,
                Some(at) => at.elapsed() > OWNERS_TTL || (missing && at.elapsed() > OWNERS_RETRY),
            }
        };
        if reload {
            let owners = self.client.owners(false).await.map_err(map_error)?;
            let mut cache = self.lock_owners();
            cache.by_id = owners
                .into_iter()
                .map(|o| {
                    let user = CrmUser {
                        external_id: o.id.clone(),
                        email: o.email,
                        first_name: o.first_name,
                        last_name: o.last_name,
                    };
                    (o.id, user)
                })
                .collect();
            cache.loaded = Some(std::time::Instant::now());
        }
        let cache = self.lock_owners();
        Ok(ids
            .iter()
            .map(|id| (id.clone(), cache.by_id.get(id).cloned().unwrap_or_else(|| CrmUser::id_only(id))))
            .collect())
    }

    fn lock_owners(&self) -> std::sync::MutexGuard<'_, OwnerCache> {
        self.owners.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn to_change(&self, object: ObjectKind, o: Object, modified_at: DateTime<Utc>, contacts: Vec<ContactRole>) -> RecordChange {
        // Exactly the properties asked for: search and batch read add different extras
        // (hs_object_id, createdate), which would make one state look like two.
        let wanted = self.properties(object);
        let fields: Map<String, Value> = o
            .properties
            .into_iter()
            .filter(|(k, _)| wanted.contains(k))
            .map(|(k, v)| (k, v.map_or(Value::Null, Value::String)))
            .collect();
        RecordChange {
            connection: self.connection.clone(),
            object,
            external_id: o.id,
            fields,
            contacts,
            company: None,
            users: Default::default(),
            company_contacts: Vec::new(),
            modified_at,
            deleted: o.archived,
            source: ChangeSource::Poll,
        }
    }

    async fn changes(&self, object: ObjectKind, records: Vec<(Object, DateTime<Utc>)>) -> Result<Vec<RecordChange>, CrmError> {
        if object != ObjectKind::Deal {
            return Ok(records
                .into_iter()
                .map(|(o, at)| self.to_change(object, o, at, Vec::new()))
                .collect());
        }
        let ids: Vec<String> = records.iter().map(|(o, _)| o.id.clone()).collect();
        let labels = self.deal_contact_labels(&ids).await?;
        let mut companies = self.companies_of(&ids).await?;
        let members = if self.company_contacts {
            let mut company_ids: Vec<String> = companies.values().map(|c| c.external_id.clone()).collect();
            company_ids.sort();
            company_ids.dedup();
            self.company_contact_ids(&company_ids).await?
        } else {
            HashMap::new()
        };
        // One read for the deals' contacts and their companies' contacts together.
        let wanted = labels.keys().map(|(_, c)| *c).chain(members.values().flatten().copied());
        let people = self.read_contacts(wanted.map(|c| c.to_string()).collect()).await?;
        let person = |id: u64, roles: Vec<String>| {
            let found = people.get(&id.to_string());
            let prop = |name: &str| found.and_then(|p| p.properties.get(name).cloned().flatten());
            ContactRole {
                external_id: id.to_string(),
                email: prop("email"),
                first_name: prop("firstname"),
                last_name: prop("lastname"),
                title: prop("jobtitle"),
                roles,
                is_primary: false,
            }
        };
        let mut contacts: HashMap<String, Vec<ContactRole>> = HashMap::new();
        for ((deal, contact), roles) in labels {
            contacts.entry(deal).or_default().push(person(contact, roles));
        }
        let mut owner_ids: Vec<String> = records
            .iter()
            .flat_map(|(o, _)| self.user_fields.iter().filter_map(|f| o.get(f)))
            .filter(|id| !id.trim().is_empty())
            .map(str::to_owned)
            .collect();
        owner_ids.sort();
        owner_ids.dedup();
        let owners = self.owners_of(&owner_ids).await?;
        Ok(records
            .into_iter()
            .map(|(o, at)| {
                let users = self
                    .user_fields
                    .iter()
                    .filter_map(|f| Some((f.clone(), owners.get(o.get(f)?)?.clone())))
                    .collect();
                let people = contacts.remove(&o.id).unwrap_or_default();
                let company = companies.remove(&o.id);
                let company_contacts = company
                    .as_ref()
                    .and_then(|c| members.get(&c.external_id))
                    .map(|ids| ids.iter().map(|id| person(*id, Vec::new())).collect())
                    .unwrap_or_default();
                RecordChange {
                    company,
                    users,
                    company_contacts,
                    ..self.to_change(object, o, at, people)
                }
            })
            .collect())
    }

    /// Deal id → its company: the primary association when there is one, else the
    /// first. One association read and one company read per 100 deals.
    async fn companies_of(&self, deal_ids: &[String]) -> Result<HashMap<String, CompanyRef>, CrmError> {
        let mut chosen: HashMap<String, String> = HashMap::new();
        for chunk in deal_ids.chunks(BATCH) {
            let assoc = self
                .client
                .batch_read_associations("deals", "companies", chunk)
                .await
                .map_err(map_error)?;
            for record in &assoc.results {
                let primary = |a: &&crm_hubspot::associations::AssociatedObject| {
                    a.association_types.iter().any(|t| t.type_id == type_ids::DEAL_TO_COMPANY_PRIMARY)
                };
                if let Some(company) = record.to.iter().find(primary).or(record.to.first()) {
                    chosen.insert(record.from.id.to_string(), company.to_object_id.to_string());
                }
            }
        }
        let mut ids: Vec<String> = chosen.values().cloned().collect();
        ids.sort();
        ids.dedup();
        let mut names: HashMap<String, Option<String>> = HashMap::new();
        for chunk in ids.chunks(BATCH) {
            let options = ReadOptions {
                properties: vec!["name".into()],
                ..Default::default()
            };
            let read = self.client.batch_read("companies", chunk, &options).await.map_err(map_error)?;
            names.extend(read.results.into_iter().map(|o| {
                let name = o.get("name").map(str::to_owned);
                (o.id, name)
            }));
        }
        Ok(chosen
            .into_iter()
            .map(|(deal, company)| {
                let name = names.get(&company).cloned().flatten();
                (
                    deal,
                    CompanyRef {
                        external_id: company,
                        name,
                    },
                )
            })
            .collect())
    }
}

fn modified(o: &Object) -> DateTime<Utc> {
    ["hs_lastmodifieddate", "lastmodifieddate"]
        .iter()
        .find_map(|p| o.properties.get(*p).cloned().flatten())
        .and_then(|v| {
            DateTime::parse_from_rfc3339(&v)
                .ok()
                .map(|t| t.with_timezone(&Utc))
                .or_else(|| v.parse::<i64>().ok().and_then(DateTime::from_timestamp_millis))
        })
        .or(o.updated_at)
        .unwrap_or_else(Utc::now)
}

/// A JSON value as HubSpot property text: numbers and booleans as written, null clears.
fn property_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A batch row's outcome from the batch's error list (which names rows by id).
fn batch_outcome(errors: &[BatchError], id: &str) -> RowOutcome {
    match errors.iter().find(|e| e.context.values().flatten().any(|v| v == id)) {
        None => Ok(()),
        Some(e) => Err(RowError::permanent(match &e.category {
            Some(category) => format!("{category}: {}", e.message),
            None => e.message.clone(),
        })),
    }
}

/// `hs_timestamp` reads back as epoch milliseconds or as ISO 8601, depending on the path.
fn timestamp_matches(value: Option<&str>, millis: &str) -> bool {
    let Some(v) = value else { return false };
    v == millis || DateTime::parse_from_rfc3339(v).is_ok_and(|t| t.timestamp_millis().to_string() == millis)
}

/// The completed HubSpot task that records `a` on its record and on the contact who acted.
fn completed_task(object: ObjectKind, a: &ActivityWrite) -> NewTask {
    let mut task = NewTask::new(a.subject.clone(), a.at);
    task.body = Some(a.body.clone()).filter(|b| !b.is_empty());
    task.status = Some(TaskStatus::Completed);
    let to_record = match object {
        ObjectKind::Deal => type_ids::TASK_TO_DEAL,
        ObjectKind::Company => type_ids::TASK_TO_COMPANY,
        ObjectKind::Contact => type_ids::TASK_TO_CONTACT,
    };
    task = task.associate(a.external_id.clone(), AssociationSpec::hubspot(to_record));
    if let Some(contact) = a.contact_id.as_ref().filter(|_| object != ObjectKind::Contact) {
        task = task.associate(contact.clone(), AssociationSpec::hubspot(type_ids::TASK_TO_CONTACT));
    }
    task
}

fn map_error_ref(e: &HsError) -> CrmError {
    match e {
        HsError::DailyLimit(_) | HsError::RateLimited { .. } => CrmError::RateLimited(e.to_string()),
        HsError::Unauthorized(_) | HsError::Token(crm_http::TokenError::Rejected(_)) => CrmError::Unauthorized(e.to_string()),
        HsError::Token(_) | HsError::Server { .. } | HsError::Timeout | HsError::Transport(_) => CrmError::Unavailable(e.to_string()),
        other => CrmError::Rejected(other.to_string()),
    }
}

fn map_error(e: HsError) -> CrmError {
    map_error_ref(&e)
}

impl Crm for HubspotCrm {
    fn connection(&self) -> &str {
        &self.connection
    }

    fn fetch<'a>(&'a self, object: ObjectKind, ids: &'a [String]) -> BoxFuture<'a, Result<Vec<RecordChange>, CrmError>> {
        Box::pin(async move {
            let mut records = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(BATCH) {
                let options = ReadOptions {
                    properties: self.properties(object),
                    ..Default::default()
                };
                let read = self
                    .client
                    .batch_read(Self::object_type(object), chunk, &options)
                    .await
                    .map_err(map_error)?;
                records.extend(read.results.into_iter().map(|o| {
                    let at = modified(&o);
                    (o, at)
                }));
            }
            self.changes(object, records).await
        })
    }

    fn changed_since<'a>(
        &'a self,
        object: ObjectKind,
        cursor: Option<&'a str>,
        continuation: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ChangePage, CrmError>> {
        Box::pin(async move {
            let (token, (mut poller, run_started_ms)) =
                match continuation.and_then(|c| self.lock_runs().remove(c).map(|p| (c.to_owned(), p))) {
                    Some(found) => found,
                    None => {
                        // A new run reads the owners afresh (once, when a deal names one).
                        self.lock_owners().loaded = None;
                        let start = match cursor.filter(|c| !c.is_empty()) {
                            None => Cursor::beginning(),
                            Some(c) => serde_json::from_str::<RunCursor>(c)
                                .map_err(|e| {
                                    CrmError::Rejected(format!("the stored poll cursor is unreadable ({e}); run `handoff sync --backfill`"))
                                })?
                                .start(),
                        };
                        let poller = Poller::new(Self::object_type(object), start)
                            .properties(self.properties(object))
                            .page_size(SEARCH_PAGE);
                        (uuid::Uuid::now_v7().to_string(), (poller, Utc::now().timestamp_millis()))
                    }
                };
            let Some(page) = poller.next_page(&self.client).await.map_err(map_error)? else {
                // The run is over; its cursor was stored with its last page.
                return Ok(ChangePage {
                    changes: Vec::new(),
                    cursor: String::new(),
                    continuation: None,
                    total_hint: None,
                });
            };
            let records: Vec<(Object, DateTime<Utc>)> = page
                .records
                .into_iter()
                .map(
                    |PolledRecord {
                         object: o, modified_ms, ..
                     }| (o, DateTime::from_timestamp_millis(modified_ms).unwrap_or_else(Utc::now)),
                )
                .collect();
            let changes = self.changes(object, records).await?;
            let cursor = serde_json::to_string(&RunCursor {
                at: page.cursor,
                run_started_ms,
            })
            .map_err(|e| CrmError::Rejected(e.to_string()))?;
            self.lock_runs().insert(token.clone(), (poller, run_started_ms));
            Ok(ChangePage {
                changes,
                cursor,
                continuation: Some(token),
                total_hint: None,
            })
        })
    }

    fn deleted_since<'a>(&'a self, _object: ObjectKind, _since: DateTime<Utc>) -> BoxFuture<'a, Result<Vec<RecordChange>, CrmError>> {
        // HubSpot search does not return archived records and there is no delete log:
        // deletions arrive as deal.deletion webhooks.
        Box::pin(async { Ok(Vec::new()) })
    }

    fn write_fields<'a>(&'a self, object: ObjectKind, writes: &'a [FieldWrite]) -> BoxFuture<'a, Result<Vec<RowOutcome>, CrmError>> {
        Box::pin(async move {
            let object_type = Self::object_type(object);
            let mut outcomes = Vec::with_capacity(writes.len());
            for chunk in writes.chunks(BATCH) {
                let inputs: Vec<ObjectUpdate> = chunk
                    .iter()
                    .map(|w| ObjectUpdate {
                        id: w.external_id.clone(),
                        properties: w.fields.iter().map(|(k, v)| (k.clone(), property_text(v))).collect(),
                        id_property: None,
                    })
                    .collect();
                match self.client.batch_update(object_type, &inputs).await {
                    Ok(result) => outcomes.extend(chunk.iter().map(|w| batch_outcome(&result.errors, &w.external_id))),
                    // HubSpot refuses a whole batch for one bad row (VALIDATION_ERROR) without
                    // always saying which: each row is then sent alone, so only the bad one
                    // fails. Rare, so the extra calls are worth the precise error.
                    Err(e) if chunk.len() > 1 && matches!(map_error_ref(&e), CrmError::Rejected(_)) => {
                        for input in &inputs {
                            outcomes.push(match self.client.batch_update(object_type, std::slice::from_ref(input)).await {
                                Ok(result) => batch_outcome(&result.errors, &input.id),
                                Err(e) => match map_error(e) {
                                    CrmError::Rejected(m) => Err(RowError::permanent(m)),
                                    other => return Err(other),
                                },
                            });
                        }
                    }
                    Err(e) => match map_error(e) {
                        CrmError::Rejected(m) => outcomes.extend(chunk.iter().map(|_| Err(RowError::permanent(m.clone())))),
                        other => return Err(other),
                    },
                }
            }
            Ok(outcomes)
        })
    }

    fn log_activities<'a>(
        &'a self,
        object: ObjectKind,
        activities: &'a [ActivityWrite],
    ) -> BoxFuture<'a, Result<Vec<RowOutcome>, CrmError>> {
        Box::pin(async move {
            let mut outcomes = Vec::with_capacity(activities.len());
            for chunk in activities.chunks(BATCH) {
                let inputs: Vec<NewObject> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        let mut o = completed_task(object, a).to_new_object();
                        // Batch create answers in any order; the trace id says which is which.
                        o.object_write_trace_id = Some(i.to_string());
                        o
                    })
                    .collect();
                let result = self.client.batch_create(types::TASKS, &inputs).await.map_err(map_error)?;
                let created: std::collections::HashSet<&str> =
                    result.results.iter().filter_map(|o| o.object_write_trace_id.as_deref()).collect();
                outcomes.extend((0..chunk.len()).map(|i| {
                    let trace = i.to_string();
                    if created.contains(trace.as_str()) {
                        return Ok(());
                    }
                    let reason = result
                        .errors
                        .iter()
                        .find(|e| e.context.values().flatten().any(|v| *v == trace))
                        .or(result.errors.first())
                        .map_or_else(|| "HubSpot did not create the task".to_owned(), |e| e.message.clone());
                    Err(RowError::permanent(reason))
                }));
            }
            Ok(outcomes)
        })
    }

    fn activity_logged<'a>(
        &'a self,
        object: ObjectKind,
        activity: &'a ActivityWrite,
        since: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<bool, CrmError>> {
        Box::pin(async move {
            let from = Self::object_type(object);
            let linked = self
                .client
                .associations(from, &activity.external_id, types::TASKS)
                .await
                .map_err(map_error)?;
            let ids: Vec<String> = linked.iter().map(|a| a.to_object_id.to_string()).collect();
            if ids.is_empty() {
                return Ok(false);
            }
            let options = ReadOptions {
                properties: vec!["hs_task_subject".into(), "hs_timestamp".into(), "hs_createdate".into()],
                ..Default::default()
            };
            let stamp = activity.at.timestamp_millis().to_string();
            for chunk in ids.chunks(BATCH) {
                let read = self.client.batch_read(types::TASKS, chunk, &options).await.map_err(map_error)?;
                let ours = read.results.iter().any(|t| {
                    let recent = t.created_at.is_none_or(|c| c >= since - chrono::Duration::minutes(1));
                    recent
                        && t.get("hs_task_subject") == Some(activity.subject.as_str())
                        && timestamp_matches(t.get("hs_timestamp"), &stamp)
                });
                if ours {
                    return Ok(true);
                }
            }
            Ok(false)
        })
    }

    fn field_catalog<'a>(&'a self, object: ObjectKind) -> BoxFuture<'a, Result<FieldCatalog, CrmError>> {
        Box::pin(async move {
            let object_type = Self::object_type(object);
            let properties = self.client.properties(object_type).await.map_err(map_error)?;
            Ok(super::describe::from_properties(object_type, &properties))
        })
    }

    fn contact_roles_known<'a>(&'a self) -> BoxFuture<'a, Result<Vec<String>, CrmError>> {
        Box::pin(async move {
            let labels = self.client.association_labels("deals", "contacts").await.map_err(map_error)?;
            Ok(super::describe::association_labels(&labels))
        })
    }

    fn budget(&self) -> Budget {
        let b = self.client.budget();
        Budget {
            used: b.daily_max.zip(b.daily_remaining).map(|(max, left)| max.saturating_sub(left)),
            limit: b.daily_max,
        }
    }

    fn calls_made(&self) -> u64 {
        self.client.calls_made()
    }
}

impl HubspotCrm {
    fn lock_runs(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Poller, i64)>> {
        self.runs.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
