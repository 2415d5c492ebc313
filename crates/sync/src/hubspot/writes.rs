//! Field writeback: batch updates of 100, one outcome per write, and a batch HubSpot
//! refuses as a whole retried row by row so that only the bad row fails.

use crm_hubspot::objects::{BatchError, ObjectUpdate};
use handoff_domain::change::ObjectKind;
use serde_json::Value;

use super::errors::{error_for, map_error_ref, refusal};
use super::{BATCH, HubspotCrm};
use crate::crm::{CrmError, FieldWrite, RowError, RowOutcome};

impl HubspotCrm {
    /// The writes' fields set, one batch update per 100: one outcome per write, in order.
    pub(super) async fn update_fields(&self, object: ObjectKind, writes: &[FieldWrite]) -> Result<Vec<RowOutcome>, CrmError> {
        let object_type = Self::object_type(object);
        let mut outcomes = Vec::with_capacity(writes.len());
        for chunk in writes.chunks(BATCH) {
            let inputs: Vec<ObjectUpdate> = chunk.iter().map(update).collect();
            match self.client.batch_update(object_type, &inputs).await {
                Ok(result) => outcomes.extend(chunk.iter().map(|w| batch_outcome(&result.errors, &w.external_id))),
                // HubSpot refuses a whole batch for one bad row (VALIDATION_ERROR) without
                // always saying which: each row is then sent alone, so only the bad one
                // fails. Rare, so the extra calls are worth the precise error.
                Err(e) if chunk.len() > 1 && matches!(map_error_ref(&e), CrmError::Rejected(_)) => {
                    outcomes.extend(self.update_one_by_one(object_type, &inputs).await?);
                }
                Err(e) => {
                    let message = refusal(e)?;
                    outcomes.extend(chunk.iter().map(|_| Err(RowError::permanent(message.clone()))));
                }
            }
        }
        Ok(outcomes)
    }

    /// Each update in a batch of its own.
    async fn update_one_by_one(&self, object_type: &str, inputs: &[ObjectUpdate]) -> Result<Vec<RowOutcome>, CrmError> {
        let mut outcomes = Vec::with_capacity(inputs.len());
        for input in inputs {
            outcomes.push(match self.client.batch_update(object_type, std::slice::from_ref(input)).await {
                Ok(result) => batch_outcome(&result.errors, &input.id),
                Err(e) => Err(RowError::permanent(refusal(e)?)),
            });
        }
        Ok(outcomes)
    }
}

/// The write as HubSpot's batch update input.
fn update(w: &FieldWrite) -> ObjectUpdate {
    ObjectUpdate {
        id: w.external_id.clone(),
        properties: w.fields.iter().map(|(k, v)| (k.clone(), property_text(v))).collect(),
        id_property: None,
    }
}

/// A JSON value as HubSpot property text: numbers and booleans as written, null clears.
fn property_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A batch row's outcome from the batch's error list.
fn batch_outcome(errors: &[BatchError], id: &str) -> RowOutcome {
    match error_for(errors, id) {
        None => Ok(()),
        Some(e) => Err(RowError::permanent(match &e.category {
            Some(category) => format!("{category}: {}", e.message),
            None => e.message.clone(),
        })),
    }
}
