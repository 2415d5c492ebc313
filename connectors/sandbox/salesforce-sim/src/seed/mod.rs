//! Seed data: the org a sandbox starts with. Deserialises from the `[salesforce]` section of a
//! seed file; `Seed::fixture()` is a realistic embedded default and `Seed::generate` makes large
//! volumes for benchmarks. Ids are assigned in file order, so a seed always yields the same ids.

mod generate;
mod load;

use std::collections::BTreeMap;
use std::path::Path;

use sandbox_kit::seed;
use serde::{Deserialize, Serialize};

pub use generate::GenerateSpec;
pub use load::SeedError;

use crate::schema::CustomField;

/// The embedded default fixture, in the same format as a seed file's `[salesforce]` section.
const FIXTURE: &str = include_str!("fixture.toml");

/// A field value as written in a seed (the kit's seed scalar). A string `@key` in a reference
/// field names another seeded record by its key.
pub use sandbox_kit::seed::Scalar;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedRecord {
    /// A name other records use to refer to this one (`AccountId = "@acme"`); unique across types.
    pub key: Option<String>,
    pub fields: BTreeMap<String, Scalar>,
    /// Minutes after the seed's base time; derived from the record's position when absent.
    pub created_minutes: Option<i64>,
    /// Minutes after creation of the last modification.
    pub modified_minutes: Option<i64>,
}

impl SeedRecord {
    pub fn new(key: Option<String>, fields: &[(&str, Scalar)]) -> Self {
        Self {
            key,
            fields: fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Seed {
    /// Start from the embedded fixture and add this seed's records to it.
    pub include_fixture: bool,
    /// Seeded timestamps count from here (RFC 3339); by default 21 days before midnight UTC today,
    /// so that seeded changes fall inside getUpdated's 30-day window.
    pub base_time: Option<String>,
    /// Custom fields, e.g. Opportunity `Onboarding_Status__c`.
    pub custom_fields: Vec<CustomField>,
    pub users: Vec<SeedRecord>,
    pub accounts: Vec<SeedRecord>,
    pub contacts: Vec<SeedRecord>,
    pub opportunities: Vec<SeedRecord>,
    pub contact_roles: Vec<SeedRecord>,
    pub tasks: Vec<SeedRecord>,
    /// Generated volume appended to the records above when the seed is loaded.
    pub generate: Option<GenerateSpec>,
}

impl Seed {
    /// The realistic default org embedded in the crate.
    pub fn fixture() -> Self {
        seed::embedded(FIXTURE, "salesforce fixture")
    }

    /// Parses the content of a `[salesforce]` section (or a whole file that is just that section).
    pub fn from_toml(text: &str) -> Result<Self, SeedError> {
        seed::parse(text).map_err(SeedError::Parse)
    }

    /// Reads the `[salesforce]` section of a seed file; `None` when the file has none.
    pub fn from_file(path: &Path) -> Result<Option<Self>, SeedError> {
        Ok(seed::read_section(path, "salesforce")?)
    }

    /// The fixture's users and custom fields with `n_opportunities` generated opportunities and
    /// proportionate accounts, contacts and contact roles; the same `seed` gives the same org.
    pub fn generate(n_opportunities: usize, seed: u64) -> Self {
        let base = Self::fixture();
        let mut out = Seed {
            base_time: base.base_time,
            custom_fields: base.custom_fields,
            users: base.users,
            ..Seed::default()
        };
        generate::fill(
            &mut out,
            &GenerateSpec {
                opportunities: n_opportunities,
                seed,
            },
        );
        out
    }

    /// Lists in load order, with the object each holds.
    pub(crate) fn lists(&self) -> [(&'static str, &[SeedRecord]); 6] {
        [
            ("User", &self.users),
            ("Account", &self.accounts),
            ("Contact", &self.contacts),
            ("Opportunity", &self.opportunities),
            ("OpportunityContactRole", &self.contact_roles),
            ("Task", &self.tasks),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_fixture_parses_and_has_every_kind_of_record() {
        let s = Seed::from_toml(FIXTURE).unwrap();
        assert!(s.users.len() >= 3 && s.accounts.len() >= 3 && s.contacts.len() >= 6);
        assert!(s.opportunities.len() >= 6 && s.contact_roles.len() >= 5 && !s.tasks.is_empty());
        let stage = |o: &SeedRecord| o.fields.get("StageName").cloned();
        assert!(s.opportunities.iter().any(|o| stage(o) == Some(Scalar::Text("Closed Won".into()))));
        assert_eq!(s.custom_fields.len(), 4);
    }

    #[test]
    fn a_salesforce_section_of_a_combined_seed_file_can_extend_the_fixture() {
        #[derive(Deserialize)]
        struct SeedFile {
            salesforce: Seed,
        }
        let text = r#"
            [hubspot]
            anything = "belongs to the other sandbox"

            [salesforce]
            include_fixture = true

            [[salesforce.opportunities]]
            key = "extra"
            fields = { Name = "Extra", StageName = "Closed Won", CloseDate = "2026-10-01", AccountId = "@acme", Amount = 5 }

            [salesforce.generate]
            opportunities = 20
            seed = 3
        "#;
        let file: SeedFile = toml::from_str(text).unwrap();
        let store = file.salesforce.build_store("admin@sandbox.example.com").unwrap();
        let fixture_opps = Seed::fixture().opportunities.len();
        let opp = store.schema.index_of("Opportunity").unwrap();
        assert_eq!(store.count_live(opp), fixture_opps + 1 + 20);
    }

    #[test]
    fn generated_orgs_are_deterministic() {
        let a = Seed::generate(50, 7).build_store("admin@sandbox.example.com").unwrap();
        let b = Seed::generate(50, 7).build_store("admin@sandbox.example.com").unwrap();
        let opp = a.schema.index_of("Opportunity").unwrap();
        let names = |s: &crate::store::Store| -> Vec<(String, serde_json::Value)> {
            s.tables[opp].records.values().map(|r| (r.id.clone(), r.value("Name"))).collect()
        };
        assert_eq!(names(&a), names(&b));
        assert_eq!(a.count_live(opp), 50);
    }
}
