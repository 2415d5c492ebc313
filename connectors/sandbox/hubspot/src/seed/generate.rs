//! Deterministic volume generation: companies, contacts and deals with associations and labels.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Scalar, Seed, SeedLink, SeedRecord};
use crate::catalog::DEAL_STAGES;
use crate::util::SplitMix;

/// `[hubspot.generate]` in a seed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateSpec {
    pub deals: usize,
    #[serde(default)]
    pub seed: u64,
    /// How many of the generated deals share one last-modified time.
    #[serde(default)]
    pub shared_modified: usize,
}

const FIRST: [&str; 16] = [
    "Ava", "Liam", "Maya", "Noah", "Zoe", "Ethan", "Ines", "Omar", "Priya", "Lucas", "Sofia", "Kenji", "Amara", "Felix", "Hana", "Mateo",
];
const LAST: [&str; 16] = [
    "Lindqvist",
    "Okafor",
    "Brennan",
    "Takahashi",
    "Moreau",
    "Silva",
    "Novak",
    "Haddad",
    "Iyer",
    "Schmidt",
    "Costa",
    "Walsh",
    "Kowalski",
    "Nguyen",
    "Adeyemi",
    "Ortega",
];
const WORDS: [&str; 12] = [
    "Northwind",
    "Bluefin",
    "Cedar",
    "Helix",
    "Lumen",
    "Orbit",
    "Quarry",
    "Redwood",
    "Summit",
    "Tidal",
    "Vertex",
    "Willow",
];
const SUFFIX: [&str; 6] = ["Labs", "Logistics", "Health", "Systems", "Foods", "Analytics"];
const TITLES: [&str; 6] = ["VP Operations", "CTO", "Head of Finance", "IT Manager", "Project Lead", "CEO"];
const PRODUCTS: [&str; 4] = ["core", "analytics", "integrations", "enterprise_suite"];
const ONBOARDING: [&str; 5] = ["not_started", "kickoff_scheduled", "in_progress", "blocked", "completed"];
const LABELS: [&str; 3] = ["Decision maker", "Technical contact", "Billing contact"];

pub fn fill(seed: &mut Seed, spec: &GenerateSpec) {
    let mut rng = SplitMix::new(spec.seed);
    let base = seed.base_ms();
    let owners: Vec<String> = seed.owners.iter().map(|o| o.id.clone()).collect();
    let n_companies = (spec.deals / 10).max(1);
    let n_contacts = (spec.deals / 2).max(2);
    for i in 0..n_companies {
        seed.companies.push(company(i, &mut rng, base));
    }
    for i in 0..n_contacts {
        seed.contacts.push(contact(i, n_companies, &mut rng, base));
    }
    for i in 0..spec.deals {
        seed.deals.push(deal(i, n_companies, n_contacts, &owners, &mut rng, base));
    }
    if spec.shared_modified > 0 {
        let start = seed.deals.len().saturating_sub(spec.deals);
        let at = base.saturating_add(86_400_000).to_string();
        for d in seed.deals.iter_mut().skip(start).take(spec.shared_modified) {
            d.updated_at = Some(at.clone());
        }
    }
}

fn text(s: impl Into<String>) -> Scalar {
    Scalar::Text(s.into())
}

fn stamp(base: i64, i: usize, rng: &mut SplitMix) -> (Option<String>, Option<String>) {
    let created = base.saturating_add(i64::try_from(i).unwrap_or(0).saturating_mul(1_000));
    let updated = created.saturating_add(i64::try_from(rng.below(7 * 86_400_000)).unwrap_or(0));
    (Some(created.to_string()), Some(updated.to_string()))
}

fn pick(rng: &mut SplitMix, items: &[&'static str]) -> &'static str {
    rng.pick(items).copied().unwrap_or("")
}

fn company(i: usize, rng: &mut SplitMix, base: i64) -> SeedRecord {
    let name = format!("{} {} {}", pick(rng, &WORDS), pick(rng, &SUFFIX), i);
    let domain = format!("{}.example.com", name.to_ascii_lowercase().replace(' ', "-"));
    let (created_at, updated_at) = stamp(base, i, rng);
    SeedRecord {
        key: Some(format!("gen-company-{i}")),
        properties: BTreeMap::from([("name".into(), text(name)), ("domain".into(), text(domain))]),
        created_at,
        updated_at,
        ..SeedRecord::default()
    }
}

fn contact(i: usize, n_companies: usize, rng: &mut SplitMix, base: i64) -> SeedRecord {
    let (first, last) = (pick(rng, &FIRST), pick(rng, &LAST));
    let email = format!("{}.{}.{i}@example.com", first.to_ascii_lowercase(), last.to_ascii_lowercase());
    let (created_at, updated_at) = stamp(base, i, rng);
    SeedRecord {
        key: Some(format!("gen-contact-{i}")),
        properties: BTreeMap::from([
            ("firstname".into(), text(first)),
            ("lastname".into(), text(last)),
            ("email".into(), text(email)),
            ("jobtitle".into(), text(pick(rng, &TITLES))),
        ]),
        created_at,
        updated_at,
        company: Some(format!("gen-company-{}", i % n_companies)),
        ..SeedRecord::default()
    }
}

fn deal(i: usize, n_companies: usize, n_contacts: usize, owners: &[String], rng: &mut SplitMix, base: i64) -> SeedRecord {
    let stage = rng.pick(&DEAL_STAGES).map(|s| s.0).unwrap_or("appointmentscheduled");
    let company = i % n_companies;
    let mut props = BTreeMap::from([
        ("dealname".into(), text(format!("Deal {i} — {}", pick(rng, &PRODUCTS)))),
        ("dealstage".into(), text(stage)),
        ("pipeline".into(), text("default")),
        (
            "amount".into(),
            Scalar::Int(i64::try_from(1_000 + rng.below(99_000)).unwrap_or(1_000)),
        ),
        ("product_line".into(), text(pick(rng, &PRODUCTS))),
    ]);
    if let Some(owner) = rng.pick(owners) {
        props.insert("hubspot_owner_id".into(), text(owner.clone()));
    }
    if stage == "closedwon" {
        props.insert("onboarding_status".into(), text(pick(rng, &ONBOARDING)));
        props.insert(
            "onboarding_progress".into(),
            Scalar::Int(i64::try_from(rng.below(101)).unwrap_or(0)),
        );
    }
    let n_links = 1 + rng.below(3);
    let associations = (0..n_links)
        .map(|k| SeedLink {
            to: format!("gen-contact-{}", (i * 3 + usize::try_from(k).unwrap_or(0)) % n_contacts),
            labels: if rng.below(2) == 0 {
                vec![pick(rng, &LABELS).to_string()]
            } else {
                Vec::new()
            },
        })
        .collect();
    let (created_at, updated_at) = stamp(base, i, rng);
    let close = created_at
        .as_deref()
        .and_then(|c| c.parse::<i64>().ok())
        .unwrap_or(base)
        .saturating_add(30 * 86_400_000);
    props.insert("closedate".into(), text(close.to_string()));
    SeedRecord {
        key: None,
        properties: props,
        created_at,
        updated_at,
        company: Some(format!("gen-company-{company}")),
        associations,
        ..SeedRecord::default()
    }
}
