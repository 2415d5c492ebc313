//! Turning pending inbound events into record changes: a plain function, so a job can
//! call it on a schedule and a test can call it directly.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use uuid::Uuid;

use super::{Crm, CrmError};
use handoff_domain::change::{ChangeSource, ObjectKind, RecordChange};
use handoff_store::inbound::InboundEvent;
use handoff_store::{Store, StoreError};

/// After this many failed attempts an event is set aside as failed, with its error.
pub const MAX_ATTEMPTS: i32 = 10;

/// The CRM adapters by connection name.
#[derive(Clone, Default)]
pub struct Crms(HashMap<String, Arc<dyn Crm>>);

impl Crms {
    pub fn insert(&mut self, crm: Arc<dyn Crm>) {
        self.0.insert(crm.connection().to_owned(), crm);
    }

    pub fn get(&self, connection: &str) -> Option<&Arc<dyn Crm>> {
        self.0.get(connection)
    }
}

/// Pending events of one connection and object kind: (event id, record id).
type Groups = BTreeMap<(String, Option<ObjectKind>), Vec<(Uuid, String)>>;

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Events turned into changes (or found to concern nothing the hub follows).
    pub events: usize,
    /// New changes stored (duplicates of changes already seen are not counted).
    pub new_changes: usize,
    /// Events whose attempt failed this time.
    pub failed: usize,
    /// Events left for later because the CRM asked us to slow down.
    pub deferred: usize,
}

fn is_deletion(e: &InboundEvent) -> bool {
    e.event_type.ends_with(".deletion")
}

fn deleted_change(e: InboundEvent) -> Option<RecordChange> {
    Some(RecordChange {
        object: ObjectKind::from_crm(&e.object_type)?,
        connection: e.connection,
        external_id: e.external_id,
        fields: serde_json::Map::new(),
        contacts: Vec::new(),
        company: None,
        users: Default::default(),
        company_contacts: Vec::new(),
        modified_at: e.occurred_at.unwrap_or(e.received_at),
        deleted: true,
        source: ChangeSource::Webhook,
    })
}

/// How long a pass holds the events it claimed (see [`Store::claim_inbound_events`]).
pub const CLAIM: chrono::Duration = chrono::Duration::seconds(60);

/// Resolves up to `limit` pending events: per connection and object, one `fetch` of the
/// records' current state (the adapter batches the calls), stored as changes. The events
/// are claimed first, so overlapping passes (one process or several) fetch each once.
pub async fn resolve_inbound(store: &Store, crms: &Crms, limit: u32) -> Result<Resolved, StoreError> {
    let pending = store.claim_inbound_events(limit, CLAIM).await?;
    let ids: Vec<Uuid> = pending.iter().map(|e| e.id).collect();
    let outcome = resolve_claimed(store, crms, pending).await;
    if outcome.is_err() {
        // A database error: give the events back now rather than when the claim ends.
        // (Releasing events already processed changes nothing.)
        store.release_inbound_events(&ids).await?;
    }
    outcome
}

async fn resolve_claimed(store: &Store, crms: &Crms, pending: Vec<InboundEvent>) -> Result<Resolved, StoreError> {
    let (deletions, pending): (Vec<_>, Vec<_>) = pending.into_iter().partition(is_deletion);
    let mut out = Resolved::default();
    if !deletions.is_empty() {
        // The record is gone, so there is nothing to fetch: the event is the change.
        // (HubSpot keeps no delete log for polls to find it later.)
        let ids: Vec<Uuid> = deletions.iter().map(|e| e.id).collect();
        let changes: Vec<RecordChange> = deletions.into_iter().filter_map(deleted_change).collect();
        out.new_changes += store.resolve_inbound_events(&changes, &ids).await?.new;
        out.events += ids.len();
    }
    let mut groups = Groups::new();
    for e in pending {
        groups
            .entry((e.connection, ObjectKind::from_crm(&e.object_type)))
            .or_default()
            .push((e.id, e.external_id));
    }
    for ((connection, object), events) in groups {
        let ids: Vec<Uuid> = events.iter().map(|(id, _)| *id).collect();
        let (Some(object), Some(crm)) = (object, crms.get(&connection)) else {
            if crms.get(&connection).is_none() {
                // Configuration changed since the event was accepted: keep it, with the reason.
                for id in &ids {
                    store
                        .fail_inbound_event(*id, &format!("no connection named `{connection}` is configured"), MAX_ATTEMPTS)
                        .await?;
                }
                out.failed += ids.len();
            } else {
                // An object the hub does not follow (a line item, a ticket): nothing to do.
                store.resolve_inbound_events(&[], &ids).await?;
                out.events += ids.len();
            }
            continue;
        };
        let mut external: Vec<String> = events.into_iter().map(|(_, x)| x).collect();
        external.sort();
        external.dedup();
        match crm.fetch(object, &external).await {
            Ok(mut changes) => {
                for c in &mut changes {
                    c.source = ChangeSource::Webhook;
                }
                let recorded = store.resolve_inbound_events(&changes, &ids).await?;
                out.events += ids.len();
                out.new_changes += recorded.new;
            }
            Err(e @ CrmError::RateLimited(_)) => {
                tracing::info!(%connection, error = %e, "deferring inbound events");
                store.release_inbound_events(&ids).await?;
                out.deferred += ids.len();
            }
            Err(e) => {
                tracing::warn!(%connection, error = %e, "cannot resolve inbound events");
                for id in &ids {
                    store.fail_inbound_event(*id, &e.to_string(), MAX_ATTEMPTS).await?;
                }
                out.failed += ids.len();
            }
        }
    }
    Ok(out)
}
