//! Seed data: the records a sandbox starts with. Deserialises from the `[hubspot]` section of
//! a seed file; `Seed::fixture()` is a realistic embedded default and `Seed::generate` makes
//! large volumes for benchmarks. Ids are assigned in file order, so a seed always yields the same ids.

mod generate;
mod load;

use std::collections::BTreeMap;
use std::path::Path;

use sandbox_kit::seed;
use serde::{Deserialize, Serialize};

pub use generate::GenerateSpec;
pub use load::SeedError;

use crate::assoc::LabelDef;
use crate::catalog::PropertyDef;
use crate::owners::Owner;

/// The embedded default fixture, in the same format as a seed file's `[hubspot]` section.
const FIXTURE: &str = include_str!("fixture.toml");

/// A property value as written in a seed (the kit's seed scalar): TOML numbers and booleans
/// are accepted and stored as strings (`to_text`), as HubSpot stores every value.
pub use sandbox_kit::seed::Scalar;

/// A link from a seeded record to another one, named by its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedLink {
    pub to: String,
    /// Association labels (USER_DEFINED, or "Primary"); none means the unlabelled default.
    #[serde(default)]
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedRecord {
    /// A name other records use to link to this one; unique across all types.
    pub key: Option<String>,
    /// An explicit id; otherwise the next id of the type's range.
    pub id: Option<u64>,
    pub properties: BTreeMap<String, Scalar>,
    /// RFC 3339 or epoch milliseconds; derived from `base_time` when absent.
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// Shorthand for a primary association to a company (contacts and deals).
    pub company: Option<String>,
    pub associations: Vec<SeedLink>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Seed {
    /// Start from the embedded fixture and add this seed's records to it.
    pub include_fixture: bool,
    pub portal_id: Option<u64>,
    /// Seeded timestamps count from here (RFC 3339); defaults to 2026-01-05T09:00:00Z.
    pub base_time: Option<String>,
    pub owners: Vec<Owner>,
    /// Custom properties, for example `onboarding_status` on deals.
    pub properties: Vec<PropertyDef>,
    pub association_labels: Vec<LabelDef>,
    pub companies: Vec<SeedRecord>,
    pub contacts: Vec<SeedRecord>,
    pub deals: Vec<SeedRecord>,
    pub tasks: Vec<SeedRecord>,
    pub notes: Vec<SeedRecord>,
    /// Generated volume appended to the records above when the seed is loaded.
    pub generate: Option<GenerateSpec>,
}

impl Seed {
    /// The realistic default data set embedded in the crate.
    pub fn fixture() -> Self {
        seed::embedded(FIXTURE, "hubspot fixture")
    }

    /// Parses the content of a `[hubspot]` section (or a whole file that is just that section).
    pub fn from_toml(text: &str) -> Result<Self, SeedError> {
        seed::parse(text).map_err(SeedError::Parse)
    }

    /// Reads the `[hubspot]` section of a seed file; `None` when the file has none.
    pub fn from_file(path: &Path) -> Result<Option<Self>, SeedError> {
        Ok(seed::read_section(path, "hubspot")?)
    }

    /// The fixture's owners, custom properties and labels with `n_deals` generated deals and
    /// proportionate companies and contacts; the same `seed` always gives the same data.
    pub fn generate(n_deals: usize, seed: u64) -> Self {
        let base = Self::fixture();
        let mut out = Seed {
            portal_id: base.portal_id,
            base_time: base.base_time,
            owners: base.owners,
            properties: base.properties,
            association_labels: base.association_labels,
            ..Seed::default()
        };
        generate::fill(
            &mut out,
            &GenerateSpec {
                deals: n_deals,
                seed,
                shared_modified: 0,
            },
        );
        out
    }

    /// Gives the first `count` deals the same last-modified time (the base time plus one day),
    /// to test paging through more than 10,000 search results that tie on `hs_lastmodifieddate`.
    pub fn with_shared_modified_date(mut self, count: usize) -> Self {
        let at = self.base_ms().saturating_add(86_400_000).to_string();
        for d in self.deals.iter_mut().take(count) {
            d.updated_at = Some(at.clone());
        }
        self
    }

    pub(crate) fn base_ms(&self) -> i64 {
        self.base_time
            .as_deref()
            .and_then(crate::util::parse_time_ms)
            .unwrap_or(1_767_603_600_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_fixture_parses_and_has_every_kind_of_record() {
        let s = Seed::from_toml(FIXTURE).unwrap();
        assert!(s.owners.len() >= 3);
        assert!(s.companies.len() >= 3 && s.contacts.len() >= 6 && s.deals.len() >= 6);
        assert!(
            s.deals
                .iter()
                .any(|d| d.properties.get("dealstage") == Some(&Scalar::Text("closedwon".into())))
        );
        assert!(s.association_labels.iter().any(|l| l.label == "Decision maker"));
    }

    #[test]
    fn a_hubspot_section_of_a_combined_seed_file_can_extend_the_fixture() {
        #[derive(Deserialize)]
        struct SeedFile {
            hubspot: Seed,
        }
        let text = r#"
            [salesforce]
            anything = "belongs to the other sandbox"

            [hubspot]
            include_fixture = true

            [[hubspot.deals]]
            key = "extra"
            company = "northwind"
            properties = { dealname = "Extra", dealstage = "closedwon", amount = 5 }
            associations = [{ to = "nora", labels = ["Billing contact"] }]

            [hubspot.generate]
            deals = 20
            seed = 3
        "#;
        let file: SeedFile = toml::from_str(text).unwrap();
        let store = file.hubspot.build_store().unwrap();
        assert_eq!(store.table(crate::ObjectType::Deals).live_count(), 9 + 1 + 20);
    }

    #[test]
    fn seed_errors_name_the_bad_record() {
        let bad = Seed::from_toml("[[deals]]\nproperties = { dealstage = \"won\" }").unwrap();
        let err = bad.build_store().err().unwrap();
        assert!(err.to_string().contains("deals #0"), "{err}");
        let dangling = Seed::from_toml("[[contacts]]\ncompany = \"nowhere\"").unwrap();
        assert_eq!(dangling.build_store().err(), Some(SeedError::UnknownKey("nowhere".into())));
    }

    #[test]
    fn generation_is_deterministic_for_a_seed() {
        assert_eq!(Seed::generate(50, 7), Seed::generate(50, 7));
        assert_ne!(Seed::generate(50, 7), Seed::generate(50, 8));
    }
}
