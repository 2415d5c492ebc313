//! Activities as completed HubSpot tasks: created in batches on their record (and on
//! the contact who acted), and the lookup that tells whether one is already logged.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use crm_hubspot::ReadOptions;
use crm_hubspot::associations::{AssociationSpec, type_ids};
use crm_hubspot::engagements::{NewTask, TaskStatus};
use crm_hubspot::objects::{BatchError, NewObject, types};
use handoff_domain::change::ObjectKind;

use super::errors::{error_for, map_error};
use super::{BATCH, HubspotCrm};
use crate::crm::{ActivityWrite, CrmError, RowError, RowOutcome};

impl HubspotCrm {
    /// Each activity as a completed task, one batch create per 100: one outcome per
    /// activity, in order.
    pub(super) async fn create_tasks(&self, object: ObjectKind, activities: &[ActivityWrite]) -> Result<Vec<RowOutcome>, CrmError> {
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
            let created: HashSet<&str> = result.results.iter().filter_map(|o| o.object_write_trace_id.as_deref()).collect();
            outcomes.extend((0..chunk.len()).map(|i| task_outcome(&created, &result.errors, &i.to_string())));
        }
        Ok(outcomes)
    }

    /// Whether `activity` is already a task on its record: one with its subject and
    /// timestamp, created since `since` (less a minute for clock skew).
    pub(super) async fn task_logged(&self, object: ObjectKind, activity: &ActivityWrite, since: DateTime<Utc>) -> Result<bool, CrmError> {
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
                recent && t.get("hs_task_subject") == Some(activity.subject.as_str()) && timestamp_matches(t.get("hs_timestamp"), &stamp)
            });
            if ours {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Whether the batch created the task traced `trace` (it is among `created`), else the
/// reason the batch gives: the error naming the row, else its first error.
fn task_outcome(created: &HashSet<&str>, errors: &[BatchError], trace: &str) -> RowOutcome {
    if created.contains(trace) {
        return Ok(());
    }
    let reason = error_for(errors, trace)
        .or(errors.first())
        .map_or_else(|| "HubSpot did not create the task".to_owned(), |e| e.message.clone());
    Err(RowError::permanent(reason))
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
