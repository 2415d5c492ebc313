//! Reads in HubSpot's batches of 100: records by id, and what they are associated with.

use crm_hubspot::associations::RecordAssociations;
use crm_hubspot::{Object, ReadOptions};

use super::errors::map_error;
use super::{BATCH, HubspotCrm};
use crate::crm::CrmError;

impl HubspotCrm {
    /// The records `ids` of `object_type` with `properties`: one batch read per 100 ids.
    pub(super) async fn read_batched(&self, object_type: &str, ids: &[String], properties: Vec<String>) -> Result<Vec<Object>, CrmError> {
        let options = ReadOptions {
            properties,
            ..Default::default()
        };
        let mut records = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH) {
            let read = self.client.batch_read(object_type, chunk, &options).await.map_err(map_error)?;
            records.extend(read.results);
        }
        Ok(records)
    }

    /// What the `from` records `ids` are associated with among `to` records: one
    /// association read per 100 ids.
    pub(super) async fn associations_batched(&self, from: &str, to: &str, ids: &[String]) -> Result<Vec<RecordAssociations>, CrmError> {
        let mut records = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH) {
            let read = self.client.batch_read_associations(from, to, chunk).await.map_err(map_error)?;
            records.extend(read.results);
        }
        Ok(records)
    }
}
