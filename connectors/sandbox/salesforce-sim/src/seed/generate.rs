//! Generated volume for benchmarks: accounts, contacts, opportunities in every stage and their
//! contact roles, reproducible from a seed number.

use serde::{Deserialize, Serialize};

use super::{Scalar, Seed, SeedRecord};
use crate::schema::STAGES;
use crate::util::SplitMix;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateSpec {
    pub opportunities: usize,
    #[serde(default)]
    pub seed: u64,
}

const COMPANIES: [&str; 8] = [
    "Apex",
    "Blue Harbor",
    "Cobalt",
    "Delta Fields",
    "Evergreen",
    "Foxglove",
    "Granite",
    "Helios",
];
const SUFFIXES: [&str; 5] = ["Labs", "Systems", "Logistics", "Health", "Foods"];
const FIRST: [&str; 10] = ["Alex", "Sam", "Jordan", "Priya", "Mateo", "Yuki", "Noor", "Lars", "Amara", "Chen"];
const LAST: [&str; 10] = [
    "Smith", "Garcia", "Müller", "Khan", "Rossi", "Tanaka", "Okoye", "Berg", "Silva", "Novak",
];
const ROLES: [&str; 5] = ["Decision Maker", "Technical Buyer", "Economic Buyer", "Evaluator", "Business User"];
const LINES: [&str; 4] = ["Core Platform", "Analytics", "Integrations", "Enterprise Suite"];

fn text(s: impl Into<String>) -> Scalar {
    Scalar::Text(s.into())
}

/// Appends `spec.opportunities` opportunities, one account per four and two contacts per account,
/// each opportunity with a primary and a secondary contact role. Keys are prefixed `gen_`.
pub fn fill(seed: &mut Seed, spec: &GenerateSpec) {
    let mut rng = SplitMix::new(spec.seed);
    let n_accounts = spec.opportunities.div_ceil(4).max(1);
    let owners: Vec<String> = seed.users.iter().filter_map(|u| u.key.clone()).collect();
    let owner = |rng: &mut SplitMix| rng.pick(&owners).map(|k| text(format!("@{k}")));
    for a in 0..n_accounts {
        let name = format!("{} {} {a}", COMPANIES[a % 8], SUFFIXES[(a / 8) % 5]);
        let mut fields = vec![("Name", text(name)), ("Type", text("Prospect"))];
        fields.extend(owner(&mut rng).map(|o| ("OwnerId", o)));
        seed.accounts.push(SeedRecord::new(Some(format!("gen_a{a}")), &fields));
        for c in 0..2 {
            let (first, last) = (FIRST[rng.index(10)], LAST[rng.index(10)]);
            let email = format!("{}.{}{a}{c}@example.com", first.to_lowercase(), last.to_lowercase());
            let fields = [
                ("FirstName", text(first)),
                ("LastName", text(last)),
                ("Email", text(email)),
                ("AccountId", text(format!("@gen_a{a}"))),
            ];
            seed.contacts.push(SeedRecord::new(Some(format!("gen_c{a}_{c}")), &fields));
        }
    }
    for i in 0..spec.opportunities {
        let a = i % n_accounts;
        let stage = STAGES[rng.index(STAGES.len())].0;
        let day = 1 + rng.index(28);
        let mut fields = vec![
            ("Name", text(format!("Opportunity {i}"))),
            ("AccountId", text(format!("@gen_a{a}"))),
            ("StageName", text(stage)),
            ("CloseDate", text(format!("2026-{:02}-{day:02}", 1 + rng.index(12)))),
            ("Amount", Scalar::Int(1_000 * (1 + rng.index(200) as i64))),
            ("Product_Line__c", text(LINES[rng.index(4)])),
        ];
        fields.extend(owner(&mut rng).map(|o| ("OwnerId", o)));
        seed.opportunities.push(SeedRecord::new(Some(format!("gen_o{i}")), &fields));
        for c in 0..2 {
            let fields = [
                ("OpportunityId", text(format!("@gen_o{i}"))),
                ("ContactId", text(format!("@gen_c{a}_{c}"))),
                ("Role", text(ROLES[rng.index(ROLES.len())])),
                ("IsPrimary", Scalar::Bool(c == 0)),
            ];
            seed.contact_roles.push(SeedRecord::new(None, &fields));
        }
    }
}
