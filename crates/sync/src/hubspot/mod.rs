//! HubSpot adapted to the hub's `Crm` seam: deals with their contacts and association
//! labels, companies, contacts.
//!
//! API economy per page of up to 100 deals: one search (the poller), one batch
//! association read (deal → contacts, with labels) and one batch contact read, and the
//! same two for the deal's company (deal → companies, then the companies' names). Only
//! when workflows ask: one owners list per poll run (cached), and one association read
//! per 100 companies for their contacts (read with the deals' contacts).
//!
//! The parts, one job each:
//! - `changes`: records read by id and made into record changes, deals with their
//!   contacts, company and owners;
//! - `associations`: what a deal is linked to (contacts with labels, its company, the
//!   company's contacts) and the contacts themselves;
//! - `batches`: records and associations read in HubSpot's batches of 100;
//! - `owners`: the portal's owners, cached;
//! - `polling`: poll runs, their search pages and stored cursors;
//! - `writes`: field writeback in batches;
//! - `activities`: completed tasks logged on records, and whether one already is;
//! - `catalog`: the fields and contact roles HubSpot offers;
//! - `seam`: the `Crm` trait itself, handing each call to its part;
//! - `errors`: HubSpot's errors (and a batch's failed rows) as the seam's.

mod activities;
mod associations;
mod batches;
mod catalog;
mod changes;
mod errors;
mod owners;
mod polling;
mod seam;
mod writes;

use std::collections::HashMap;
use std::sync::Mutex;

use crm_hubspot::Client;

use super::reads::DealReads;
use handoff_domain::change::ObjectKind;
use owners::OwnerCache;
use polling::Runs;

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
    runs: Mutex<Runs>,
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
}

/// The ids, sorted, each once.
fn distinct(ids: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut ids: Vec<String> = ids.into_iter().collect();
    ids.sort();
    ids.dedup();
    ids
}
