//! [`Crm`] for HubSpot: each of the seam's calls handed to the part that does it.

use chrono::{DateTime, Utc};
use handoff_domain::change::{ObjectKind, RecordChange};
use handoff_domain::connection_health::Budget;
use handoff_domain::field_catalog::FieldCatalog;

use super::HubspotCrm;
use crate::crm::{ActivityWrite, BoxFuture, ChangePage, Crm, CrmError, FieldWrite, RowOutcome};

impl Crm for HubspotCrm {
    fn connection(&self) -> &str {
        &self.connection
    }

    fn fetch<'a>(&'a self, object: ObjectKind, ids: &'a [String]) -> BoxFuture<'a, Result<Vec<RecordChange>, CrmError>> {
        Box::pin(self.read_changes(object, ids))
    }

    fn changed_since<'a>(
        &'a self,
        object: ObjectKind,
        cursor: Option<&'a str>,
        continuation: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ChangePage, CrmError>> {
        Box::pin(self.poll_page(object, cursor, continuation))
    }

    fn deleted_since<'a>(&'a self, _object: ObjectKind, _since: DateTime<Utc>) -> BoxFuture<'a, Result<Vec<RecordChange>, CrmError>> {
        // HubSpot search does not return archived records and there is no delete log:
        // deletions arrive as deal.deletion webhooks.
        Box::pin(async { Ok(Vec::new()) })
    }

    fn write_fields<'a>(&'a self, object: ObjectKind, writes: &'a [FieldWrite]) -> BoxFuture<'a, Result<Vec<RowOutcome>, CrmError>> {
        Box::pin(self.update_fields(object, writes))
    }

    fn log_activities<'a>(
        &'a self,
        object: ObjectKind,
        activities: &'a [ActivityWrite],
    ) -> BoxFuture<'a, Result<Vec<RowOutcome>, CrmError>> {
        Box::pin(self.create_tasks(object, activities))
    }

    fn activity_logged<'a>(
        &'a self,
        object: ObjectKind,
        activity: &'a ActivityWrite,
        since: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<bool, CrmError>> {
        Box::pin(self.task_logged(object, activity, since))
    }

    fn field_catalog<'a>(&'a self, object: ObjectKind) -> BoxFuture<'a, Result<FieldCatalog, CrmError>> {
        Box::pin(self.fields_of(object))
    }

    fn contact_roles_known<'a>(&'a self) -> BoxFuture<'a, Result<Vec<String>, CrmError>> {
        Box::pin(self.deal_contact_labels_defined())
    }

    fn check_access<'a>(&'a self) -> BoxFuture<'a, Result<String, CrmError>> {
        Box::pin(async move {
            let labels = self.deal_contact_labels_defined().await?;
            Ok(format!("read the deal–contact association labels ({} defined)", labels.len()))
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
