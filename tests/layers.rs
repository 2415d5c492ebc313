//! The floors of the workspace, held by the manifests: each crate may depend only on the
//! crates below it, and the connectors and simulators on nothing of the hub. The
//! compiler already refuses an import of a crate that is not a dependency; this test
//! refuses the dependency itself, so an arrow pointing up cannot be added by editing a
//! Cargo.toml. (`.ci/run` runs it first, as the layering step.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The hub's floors, bottom up. A crate may depend on crates of lower floors only;
/// crates on one floor (sync and mail) do not depend on each other.
const FLOORS: &[&[&str]] = &[
    &["handoff-domain"],
    &["handoff-config"],
    &["handoff-store"],
    &["handoff-sync", "handoff-mail"],
    &["handoff-engine"],
    &["handoff-web"],
    &["handoff"],
];

/// The connector clients: reusable by strangers, so they know nothing of handoff.
const CONNECTORS: &[&str] = &["crm-http", "crm-salesforce", "crm-hubspot"];
/// The simulators: an independent implementation of each wire protocol, so they share
/// no code with the connectors either (a misunderstanding in one is caught by the other).
const SIMULATORS: &[&str] = &["sandbox-kit", "sandbox-salesforce", "sandbox-hubspot"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A dependency on another workspace package, and whether only tests and examples use
/// it (`[dev-dependencies]`).
#[derive(Clone, Debug)]
struct Dep {
    name: String,
    dev: bool,
}

/// Every workspace member's package name and the workspace packages it depends on (in
/// `[dependencies]`, `[dev-dependencies]` and `[build-dependencies]`).
fn members() -> BTreeMap<String, Vec<Dep>> {
    let workspace: toml::Table = read(&root().join("Cargo.toml"));
    let paths: Vec<String> = workspace["workspace"]["members"]
        .as_array()
        .expect("workspace.members")
        .iter()
        .map(|m| m.as_str().expect("a member path").to_owned())
        .collect();
    let manifests: Vec<(PathBuf, toml::Table)> = paths
        .iter()
        .map(|p| root().join(p).join("Cargo.toml"))
        .map(|m| (m.clone(), read(&m)))
        .collect();
    let names: Vec<String> = manifests.iter().map(|(_, t)| package_name(t)).collect();
    manifests
        .iter()
        .map(|(_, t)| {
            let deps = ["dependencies", "dev-dependencies", "build-dependencies"]
                .iter()
                .filter_map(|section| t.get(*section).and_then(|d| d.as_table()).map(|d| (*section, d)))
                .flat_map(|(section, d)| {
                    d.keys().map(move |name| Dep {
                        name: name.clone(),
                        dev: section == "dev-dependencies",
                    })
                })
                .filter(|d| names.contains(&d.name))
                .collect();
            (package_name(t), deps)
        })
        .collect()
}

fn read(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.parse().unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn package_name(t: &toml::Table) -> String {
    t["package"]["name"].as_str().expect("package.name").to_owned()
}

fn floor_of(name: &str) -> Option<usize> {
    FLOORS.iter().position(|f| f.contains(&name))
}

/// What is wrong with the dependencies of `members`, one line each.
fn violations(members: &BTreeMap<String, Vec<Dep>>) -> Vec<String> {
    let mut wrong = Vec::new();
    for (name, deps) in members {
        for Dep { name: dep, dev } in deps {
            let allowed = match (floor_of(name), floor_of(dep)) {
                (Some(mine), Some(theirs)) => theirs < mine,
                // The hub may use the connectors (and the binary the simulators).
                (Some(_), None) => CONNECTORS.contains(&dep.as_str()) || (name == "handoff" && SIMULATORS.contains(&dep.as_str())),
                // A connector's own tests run it against the simulator of its CRM.
                (None, _) if CONNECTORS.contains(&name.as_str()) => {
                    CONNECTORS.contains(&dep.as_str()) || (*dev && SIMULATORS.contains(&dep.as_str()))
                }
                (None, _) if SIMULATORS.contains(&name.as_str()) => SIMULATORS.contains(&dep.as_str()),
                (None, _) => false,
            };
            if !allowed {
                wrong.push(format!("{name} must not depend on {dep}"));
            }
        }
    }
    wrong
}

#[test]
fn every_workspace_member_is_on_a_floor_or_stands_apart() {
    for name in members().keys() {
        assert!(
            floor_of(name).is_some() || CONNECTORS.contains(&name.as_str()) || SIMULATORS.contains(&name.as_str()),
            "{name} is in the workspace but on no floor: add it to FLOORS, CONNECTORS or SIMULATORS in tests/layers.rs"
        );
    }
}

#[test]
fn dependencies_run_down_the_floors_only() {
    assert_eq!(violations(&members()), Vec::<String>::new());
}

#[test]
fn an_upward_dependency_is_caught() {
    let mut members = members();
    let mut add = |member: &str, dep: &str, dev: bool| {
        members.get_mut(member).unwrap().push(Dep { name: dep.into(), dev });
    };
    add("handoff-store", "handoff-engine", false);
    add("crm-hubspot", "handoff-domain", true);
    add("sandbox-hubspot", "crm-hubspot", true);
    add("handoff-sync", "handoff-mail", false);
    add("crm-salesforce", "sandbox-salesforce", false);
    assert_eq!(
        violations(&members),
        [
            "crm-hubspot must not depend on handoff-domain",
            "crm-salesforce must not depend on sandbox-salesforce",
            "handoff-store must not depend on handoff-engine",
            "handoff-sync must not depend on handoff-mail",
            "sandbox-hubspot must not depend on crm-hubspot",
        ]
    );
}
