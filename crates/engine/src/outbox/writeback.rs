//! Delivering CRM writebacks from the outbox: a plain function the scheduled job calls
//! and tests drive directly.
//!
//! - **Fields** are rendered at delivery from the project as it stands then, so a row
//!   retried late never writes an older value over a newer one, and every row due for
//!   one record becomes one update: ten completions in a second cost one row of one
//!   batch call (Salesforce sObject Collections of 200, HubSpot batches of 100).
//! - **Activities** are rendered from the snapshot taken when the event happened (a
//!   phase finished at 40% says 40%), one CRM activity per event, batched likewise.
//!   Creating is not idempotent, so a row whose earlier attempt may have reached the CRM
//!   (any attempt after the first) asks the CRM whether it is already there first.
//! - A rate limit puts the connection's rows back without counting an attempt; other
//!   failures back off 30 s → 1 h, and after [`super::MAX_ATTEMPTS`] or a refusal the row is
//!   dead-lettered with the CRM's own message (`handoff jobs failed`, `jobs retry ID`).

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{LEASE, retry_at};
use crate::definition::{HubValues, Workflow, WritebackRule};
use handoff_domain::ProjectId;
use handoff_domain::change::ObjectKind;
use handoff_domain::outbox::OutboxKind;
use handoff_domain::writeback::{QueuedWriteback, Snapshot, WritebackEvent};
use handoff_store::outbox::OutboxItem;
use handoff_store::{Store, StoreError};
use handoff_sync::crm::{ActivityWrite, Crm, CrmError, FieldWrite, RowError, RowOutcome};
use handoff_sync::process::Crms;

/// How long a rate-limited connection is left alone. HubSpot's burst window is 10 s and
/// Salesforce's limit is per 24 h; a minute is cheap for the first and polite for the second.
const RATE_LIMIT_PAUSE: Duration = Duration::seconds(60);
/// Writebacks stop while less than this share of the CRM's daily API allowance is
/// left, keeping it for the sync that feeds the hub and for the CRM's own users.
const BUDGET_RESERVE_PERCENT: u64 = 5;

/// What the hub placeholders of a rule say for this row: the project as `snapshot` shows it.
fn hub_values(row: &QueuedWriteback, snapshot: &Snapshot, base_url: &url::Url) -> HubValues {
    HubValues {
        status: Some(snapshot.status),
        progress: Some(snapshot.progress),
        url: Some(project_url(base_url, row.project_id)),
        current_phase: snapshot.current_phase.clone(),
        start_date: snapshot.start_date,
        goal_date: snapshot.goal_date,
        task_title: row.task_title.clone(),
        phase_name: row.phase_name.clone(),
    }
}

/// Where a project is seen in handoff: the link written into the CRM.
pub fn project_url(base_url: &url::Url, project: ProjectId) -> String {
    format!("{}/projects/{project}", base_url.as_str().trim_end_matches('/'))
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    /// Rows whose writes reached the CRM (or had nothing to write).
    pub done: usize,
    pub retried: usize,
    pub deferred: usize,
    pub dead: usize,
    /// Records updated and activities logged.
    pub records_written: usize,
    pub activities_logged: usize,
}

/// Delivers up to `limit` due writebacks, every connection's in as few calls as its CRM allows.
pub async fn deliver_writebacks(
    store: &Store,
    crms: &Crms,
    workflows: &[Workflow],
    base_url: &url::Url,
    limit: u32,
) -> Result<Delivered, StoreError> {
    let mut items = store.claim_outbox(OutboxKind::Writeback, limit, LEASE).await?;
    items.sort_by_key(|i| (i.created_at, i.id));
    let mut by_connection: BTreeMap<String, Vec<OutboxItem>> = BTreeMap::new();
    for item in items {
        by_connection
            .entry(item.connection.clone().unwrap_or_default())
            .or_default()
            .push(item);
    }
    let mut out = Tally::default();
    for (connection, items) in by_connection {
        let batch = Batch {
            store,
            workflows,
            base_url,
        };
        let delivered = match crms.get(&connection) {
            Some(crm) => batch.deliver(crm.as_ref(), items, &mut out).await,
            None => {
                let error = format!("no CRM connection named `{connection}` is configured");
                let mut settled = Ok(());
                for item in &items {
                    settled = settle(store, item, Err(RowError::permanent(error.clone())), &mut out).await;
                    if settled.is_err() {
                        break;
                    }
                }
                settled
            }
        };
        if let Err(e) = delivered {
            // What reached the CRM is still recorded as done before giving up.
            store.outbox_done_many(&out.done).await?;
            return Err(e);
        }
    }
    // Done rows are marked in one statement, not one each: at a burst's pace, a
    // statement per row was most of a round's time. A crash before this line redelivers
    // them, which the CRM sees as the same values again and an activity looked up first.
    store.outbox_done_many(&out.done).await?;
    out.report.done = out.done.len();
    Ok(out.report)
}

/// A round's outcome so far: the report, and the rows done (marked in one statement).
#[derive(Default)]
struct Tally {
    report: Delivered,
    done: Vec<Uuid>,
}

struct Batch<'a> {
    store: &'a Store,
    workflows: &'a [Workflow],
    base_url: &'a url::Url,
}

/// A claimed row, read.
struct Row<'a> {
    item: &'a OutboxItem,
    queued: QueuedWriteback,
    workflow: &'a Workflow,
}

impl Batch<'_> {
    async fn deliver(&self, crm: &dyn Crm, items: Vec<OutboxItem>, out: &mut Tally) -> Result<(), StoreError> {
        if let Some(reason) = over_budget(crm) {
            let ids: Vec<Uuid> = items.iter().map(|i| i.id).collect();
            self.store.outbox_defer(&ids, Utc::now() + RATE_LIMIT_PAUSE, &reason).await?;
            out.report.deferred += ids.len();
            return Ok(());
        }
        let mut rows = Vec::with_capacity(items.len());
        for item in &items {
            match self.read(item) {
                Ok(row) => rows.push(row),
                Err(e) => settle(self.store, item, Err(e), out).await?,
            }
        }
        // Outcomes per outbox row; a row is done when all its writes are.
        let mut results: HashMap<Uuid, RowOutcome> = rows.iter().map(|r| (r.item.id, Ok(()))).collect();
        let mut by_object: BTreeMap<ObjectKind, Vec<&Row<'_>>> = BTreeMap::new();
        for row in &rows {
            by_object.entry(row.workflow.trigger.object).or_default().push(row);
        }
        for (object, rows) in by_object {
            let fields = self.write_fields(crm, object, &rows, &mut results, out).await;
            let activities = match fields {
                Ok(()) => self.log_activities(crm, object, &rows, &mut results, out).await,
                Err(e) => Err(e),
            };
            if let Err(e) = activities {
                return self.call_failed(e, &items, &results, out).await;
            }
        }
        for row in &rows {
            let outcome = results.remove(&row.item.id).unwrap_or(Ok(()));
            settle(self.store, row.item, outcome, out).await?;
        }
        Ok(())
    }

    fn read<'w>(&'w self, item: &'w OutboxItem) -> Result<Row<'w>, RowError> {
        let queued: QueuedWriteback =
            serde_json::from_value(item.payload.0.clone()).map_err(|e| RowError::permanent(format!("unreadable outbox payload: {e}")))?;
        let workflow = self
            .workflows
            .iter()
            .find(|w| w.name == queued.workflow)
            .ok_or_else(|| RowError::permanent(format!("workflow `{}` is no longer loaded", queued.workflow)))?;
        Ok(Row { item, queued, workflow })
    }

    /// One update per record, from every rule the rows' events trigger, rendered from
    /// the project as it stands now. Later rows win a field both set.
    async fn write_fields(
        &self,
        crm: &dyn Crm,
        object: ObjectKind,
        rows: &[&Row<'_>],
        results: &mut HashMap<Uuid, RowOutcome>,
        out: &mut Tally,
    ) -> Result<(), CrmError> {
        let mut records: BTreeMap<&str, (Map<String, Value>, Vec<Uuid>)> = BTreeMap::new();
        let mut current: HashMap<ProjectId, Option<Snapshot>> = HashMap::new();
        for row in rows {
            let rules: Vec<&WritebackRule> = rules_for(row.workflow, row.queued.event).filter(|r| !r.set.is_empty()).collect();
            if rules.is_empty() {
                continue;
            }
            let project = row.queued.project_id;
            if let std::collections::hash_map::Entry::Vacant(e) = current.entry(project) {
                let snapshot = self
                    .store
                    .project_snapshot(project)
                    .await
                    .map_err(|e| CrmError::Unavailable(e.to_string()))?;
                e.insert(snapshot);
            }
            // A deleted project has nothing left to report.
            let Some(Some(snapshot)) = current.get(&project) else { continue };
            let hub = hub_values(&row.queued, snapshot, self.base_url);
            let entry = records.entry(row.queued.record_id.as_str()).or_default();
            for rule in rules {
                for (field, value) in rule.render_fields(&hub) {
                    entry.0.insert(field, value);
                }
            }
            entry.1.push(row.item.id);
        }
        let (writes, owners): (Vec<FieldWrite>, Vec<Vec<Uuid>>) = records
            .into_iter()
            .filter(|(_, (fields, _))| !fields.is_empty())
            .map(|(id, (fields, rows))| {
                (
                    FieldWrite {
                        external_id: id.to_owned(),
                        fields,
                    },
                    rows,
                )
            })
            .unzip();
        if writes.is_empty() {
            return Ok(());
        }
        let outcomes = crm.write_fields(object, &writes).await?;
        for ((write, rows), outcome) in writes.iter().zip(owners).zip(outcomes) {
            if outcome.is_ok() {
                out.report.records_written += 1;
            }
            let outcome = outcome.map_err(|e| RowError {
                message: format!("{} {}: {}", crm.connection(), write.external_id, e.message),
                retryable: e.retryable,
            });
            for id in rows {
                merge(results, id, outcome.clone());
            }
        }
        Ok(())
    }

    /// One activity per rule with one, rendered from the event's snapshot.
    async fn log_activities(
        &self,
        crm: &dyn Crm,
        object: ObjectKind,
        rows: &[&Row<'_>],
        results: &mut HashMap<Uuid, RowOutcome>,
        out: &mut Tally,
    ) -> Result<(), CrmError> {
        let mut activities = Vec::new();
        let mut owners = Vec::new();
        for row in rows {
            let hub = hub_values(&row.queued, &row.queued.snapshot, self.base_url);
            for rule in rules_for(row.workflow, row.queued.event) {
                let Some((subject, body)) = rule.render_activity(&hub) else {
                    continue;
                };
                let activity = ActivityWrite {
                    external_id: row.queued.record_id.clone(),
                    subject,
                    body,
                    contact_id: row.queued.contact_id.clone(),
                    at: row.queued.at,
                };
                // An earlier attempt may have logged it before the hub heard back.
                if row.item.was_tried() && crm.activity_logged(object, &activity, row.item.created_at).await? {
                    continue;
                }
                activities.push(activity);
                owners.push(row.item.id);
            }
        }
        if activities.is_empty() {
            return Ok(());
        }
        let outcomes = crm.log_activities(object, &activities).await?;
        for ((activity, id), outcome) in activities.iter().zip(owners).zip(outcomes) {
            if outcome.is_ok() {
                out.report.activities_logged += 1;
            }
            let outcome = outcome.map_err(|e| RowError {
                message: format!(
                    "{} {}: activity `{}`: {}",
                    crm.connection(),
                    activity.external_id,
                    activity.subject,
                    e.message
                ),
                retryable: e.retryable,
            });
            merge(results, id, outcome);
        }
        Ok(())
    }

    /// A whole call failed: rows already written in this batch are done; the rest wait
    /// for the rate limit or back off.
    async fn call_failed(
        &self,
        error: CrmError,
        items: &[OutboxItem],
        results: &HashMap<Uuid, RowOutcome>,
        out: &mut Tally,
    ) -> Result<(), StoreError> {
        tracing::warn!(%error, rows = items.len(), "CRM writebacks failed; they will be retried");
        let message = error.to_string();
        let waiting: Vec<&OutboxItem> = items.iter().filter(|i| results.contains_key(&i.id)).collect();
        if let CrmError::RateLimited(_) = error {
            let ids: Vec<Uuid> = waiting.iter().map(|i| i.id).collect();
            self.store.outbox_defer(&ids, Utc::now() + RATE_LIMIT_PAUSE, &message).await?;
            out.report.deferred += ids.len();
            return Ok(());
        }
        let outcome = Err(RowError {
            message,
            retryable: error.is_retryable() || matches!(error, CrmError::Unauthorized(_)),
        });
        for item in waiting {
            settle(self.store, item, outcome.clone(), out).await?;
        }
        Ok(())
    }
}

fn rules_for(workflow: &Workflow, event: WritebackEvent) -> impl Iterator<Item = &WritebackRule> {
    workflow.writeback.iter().filter(move |r| r.on == event)
}

/// The first failure of a row's writes is the one kept.
fn merge(results: &mut HashMap<Uuid, RowOutcome>, id: Uuid, outcome: RowOutcome) {
    if let (Some(slot @ Ok(())), Err(e)) = (results.get_mut(&id), outcome) {
        *slot = Err(e);
    }
}

/// `Some(reason)` when the CRM's daily allowance is nearly spent.
fn over_budget(crm: &dyn Crm) -> Option<String> {
    let budget = crm.budget();
    let (remaining, limit) = (budget.remaining()?, budget.limit?);
    (limit > 0 && remaining * 100 < limit * BUDGET_RESERVE_PERCENT).then(|| {
        format!(
            "{}: {remaining} of {limit} daily API calls left; writebacks wait while less than {BUDGET_RESERVE_PERCENT}% is left",
            crm.connection()
        )
    })
}

/// Records a row's outcome: done, retried later, or dead-lettered.
async fn settle(store: &Store, item: &OutboxItem, outcome: RowOutcome, out: &mut Tally) -> Result<(), StoreError> {
    match outcome {
        Ok(()) => {
            out.done.push(item.id);
        }
        Err(e) => match retry_at(item.attempts, !e.retryable, Utc::now()) {
            Some(at) => {
                store.outbox_failed(item.id, &e.message, Some(at)).await?;
                out.report.retried += 1;
            }
            None => {
                tracing::warn!(outbox = %item.id, error = %e.message, "a CRM writeback failed for good; see handoff jobs failed");
                store.outbox_failed(item.id, &e.message, None).await?;
                out.report.dead += 1;
            }
        },
    }
    Ok(())
}
