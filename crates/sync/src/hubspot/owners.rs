//! The portal's owners (the CRM users a deal names in `hubspot_owner_id` and the like),
//! read as one list and cached.

use std::collections::HashMap;

use handoff_domain::change::CrmUser;

use super::HubspotCrm;
use super::errors::map_error;
use crate::crm::CrmError;

/// Owners change rarely (a rep joins, leaves, fixes an email): the list is read once per
/// poll run and reused for webhooks for this long.
const OWNERS_TTL: std::time::Duration = std::time::Duration::from_secs(300);
/// An owner id missing from a list this old is worth one more read (a new rep).
const OWNERS_RETRY: std::time::Duration = std::time::Duration::from_secs(60);

/// The portal's owners as last read.
#[derive(Default)]
pub(super) struct OwnerCache {
    loaded: Option<std::time::Instant>,
    by_id: HashMap<String, CrmUser>,
}

impl HubspotCrm {
    /// Owner id → the owner as a CRM user, for the ids given: from the cache, else from
    /// one owners list read (refreshed at each poll run's start, and when it is older
    /// than [`OWNERS_TTL`] or misses an id and is older than [`OWNERS_RETRY`]).
    /// An id HubSpot does not list (an archived owner) comes back with its id only.
    pub(super) async fn owners_of(&self, ids: &[String]) -> Result<HashMap<String, CrmUser>, CrmError> {
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

    /// The next [`HubspotCrm::owners_of`] reads the list afresh (a new poll run).
    pub(super) fn expire_owners(&self) {
        self.lock_owners().loaded = None;
    }

    fn lock_owners(&self) -> std::sync::MutexGuard<'_, OwnerCache> {
        self.owners.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
