//! The shipped workflows (workflows/) against the sandboxes' schemas and data: they load,
//! they validate against the fields the sandbox orgs really have, and they do the right
//! thing with realistic record changes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use handoff::domain::ProjectStatus;
use handoff::domain::change::{ChangeSource, CompanyRef, ContactRole, ObjectKind, RecordChange};
use handoff::domain::field_catalog::{FieldCatalog, FieldInfo, FieldKind};
use handoff::domain::people::ProjectRole;
use handoff::domain::plan::InviteMode;
use handoff::engine::definition::{HubValues, Workflow, load_dir, parse};
use handoff::engine::templates::Templates;
use serde_json::json;

const SF_FIXTURE: &str = include_str!("../../connectors/sandbox/salesforce-sim/src/seed/fixture.toml");
const HS_FIXTURE: &str = include_str!("../../connectors/sandbox/hubspot/src/seed/fixture.toml");

/// OpportunityContactRole.Role values of the sandbox org (salesforce-sim `schema.rs`).
const SF_CONTACT_ROLES: [&str; 9] = [
    "Business User",
    "Decision Maker",
    "Economic Buyer",
    "Economic Decision Maker",
    "Evaluator",
    "Executive Sponsor",
    "Influencer",
    "Technical Buyer",
    "Other",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shipped() -> Vec<Workflow> {
    load_dir(&root().join("workflows")).unwrap_or_else(|e| panic!("{e}"))
}

fn shipped_one(name: &str) -> Workflow {
    shipped().into_iter().find(|w| w.name == name).unwrap()
}

fn fixture_kind(kind: &str) -> FieldKind {
    match kind {
        "picklist" | "enumeration" => FieldKind::Picklist,
        "percent" => FieldKind::Percent,
        "number" | "currency" | "double" => FieldKind::Number,
        "url" => FieldKind::Url,
        "date" => FieldKind::Date,
        "datetime" => FieldKind::Datetime,
        "string" | "textarea" => FieldKind::Text,
        other => panic!("fixture type {other} not mapped"),
    }
}

/// The custom fields a fixture declares for `object` (`custom_fields` in Salesforce's,
/// `properties` in HubSpot's), as catalog entries.
fn fixture_fields(fixture: &str, table: &str, object: &str) -> Vec<FieldInfo> {
    let doc: toml::Table = toml::from_str(fixture).unwrap();
    let entries = doc[table].as_array().unwrap();
    entries
        .iter()
        .filter(|e| e["object"].as_str() == Some(object))
        .map(|e| {
            let options: Vec<String> = match (e.get("values"), e.get("options")) {
                (Some(values), _) => values.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect(),
                (None, Some(opts)) => opts
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["value"].as_str().unwrap().to_owned())
                    .collect(),
                (None, None) => Vec::new(),
            };
            FieldInfo {
                name: e["name"].as_str().unwrap().to_owned(),
                kind: fixture_kind(e["type"].as_str().unwrap()),
                options,
                updateable: true,
            }
        })
        .collect()
}

/// Opportunity as the sandbox org describes it: the standard fields of salesforce-sim's
/// `schema.rs` plus the fixture's custom fields.
fn salesforce_opportunity() -> FieldCatalog {
    use FieldKind::*;
    let stages = [
        "Prospecting",
        "Qualification",
        "Needs Analysis",
        "Value Proposition",
        "Id. Decision Makers",
        "Perception Analysis",
        "Proposal/Price Quote",
        "Negotiation/Review",
        "Closed Won",
        "Closed Lost",
    ];
    let mut fields = vec![
        FieldInfo::new("Id", Other).read_only(),
        FieldInfo::new("SystemModstamp", Datetime).read_only(),
        FieldInfo::new("AccountId", Reference),
        FieldInfo::new("Name", Text),
        FieldInfo::new("Description", Text),
        FieldInfo::new("StageName", Picklist).with_options(&stages),
        FieldInfo::new("Amount", Number),
        FieldInfo::new("Probability", Percent),
        FieldInfo::new("CloseDate", Date),
        FieldInfo::new("Type", Picklist).with_options(&["New Business", "Existing Business"]),
        FieldInfo::new("NextStep", Text),
        FieldInfo::new("IsClosed", Boolean).read_only(),
        FieldInfo::new("IsWon", Boolean).read_only(),
        FieldInfo::new("OwnerId", Reference),
    ];
    fields.extend(fixture_fields(SF_FIXTURE, "custom_fields", "Opportunity"));
    FieldCatalog::new("Opportunity", fields)
}

/// Deal properties as the HubSpot sandbox lists them (its `catalog.rs` plus the
/// fixture's properties). `hubspot_owner_id` is an enumeration whose
/// `referencedObjectType` is OWNER, which the catalog builder turns into a reference.
fn hubspot_deals() -> FieldCatalog {
    use FieldKind::*;
    let stages = [
        "appointmentscheduled",
        "qualifiedtobuy",
        "presentationscheduled",
        "decisionmakerboughtin",
        "contractsent",
        "closedwon",
        "closedlost",
    ];
    let mut fields = vec![
        FieldInfo::new("hs_object_id", Number).read_only(),
        FieldInfo::new("hs_lastmodifieddate", Datetime).read_only(),
        FieldInfo::new("createdate", Datetime).read_only(),
        FieldInfo::new("hubspot_owner_id", Reference),
        FieldInfo::new("dealname", Text),
        FieldInfo::new("amount", Number),
        FieldInfo::new("closedate", Datetime),
        FieldInfo::new("pipeline", Picklist).with_options(&["default"]),
        FieldInfo::new("dealstage", Picklist).with_options(&stages),
        FieldInfo::new("description", Text),
    ];
    fields.extend(fixture_fields(HS_FIXTURE, "properties", "deals"));
    FieldCatalog::new("deals", fields)
}

fn hubspot_labels() -> Vec<String> {
    let doc: toml::Table = toml::from_str(HS_FIXTURE).unwrap();
    doc["association_labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["label"].as_str().unwrap().to_owned())
        .collect()
}

fn contact(id: &str, email: &str, roles: &[&str]) -> ContactRole {
    ContactRole {
        external_id: id.into(),
        email: Some(email.into()),
        first_name: None,
        last_name: None,
        title: None,
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        is_primary: false,
    }
}

fn change(connection: &str, id: &str, fields: serde_json::Value, contacts: Vec<ContactRole>) -> RecordChange {
    RecordChange {
        connection: connection.into(),
        object: ObjectKind::Deal,
        external_id: id.into(),
        fields: fields.as_object().cloned().unwrap(),
        contacts,
        company: None,
        users: Default::default(),
        company_contacts: Vec::new(),
        modified_at: "2026-11-23T10:00:00Z".parse().unwrap(),
        deleted: false,
        source: ChangeSource::Poll,
    }
}

/// The sandbox's `acme_rollout` opportunity as the Salesforce adapter hands it over.
fn acme_rollout(stage: &str) -> RecordChange {
    let fields = json!({
        "Id": "006000000000001AAA", "Name": "Acme - Plant Rollout", "StageName": stage, "CloseDate": "2026-10-30",
        "Amount": 120000, "Type": "New Business", "AccountId": "001000000000001AAA",
        "Account": { "Name": "Acme Corporation" }, "OwnerId": "005000000000002AAA", "Product_Line__c": "Enterprise Suite"
    });
    let contacts = vec![
        contact("003A", "ada.reyes@acme.example.com", &["Decision Maker"]),
        contact("003B", "ben.carter@acme.example.com", &["Technical Buyer"]),
        contact("003C", "chloe.nguyen@acme.example.com", &["Economic Buyer"]),
    ];
    let mut c = change("salesforce", "006000000000001AAA", fields, contacts);
    c.company = Some(CompanyRef {
        external_id: "001000000000001AAA".into(),
        name: Some("Acme Corporation".into()),
    });
    c
}

/// The sandbox's `bluefin-integrations` deal as the HubSpot adapter hands it over.
fn bluefin(stage: &str) -> RecordChange {
    let fields = json!({
        "dealname": "Bluefin Logistics — Integrations", "pipeline": "default", "dealstage": stage, "amount": "27500",
        "closedate": "2026-02-02T17:00:00Z", "hubspot_owner_id": "81000002", "product_line": "integrations"
    });
    let contacts = vec![
        contact(
            "1000000004",
            "kenji.takahashi@bluefin.example.com",
            &["Decision maker", "Technical contact"],
        ),
        contact("1000000005", "ines.silva@bluefin.example.com", &["Billing contact"]),
    ];
    change("hubspot", "3000000003", fields, contacts)
}

#[test]
fn the_shipped_workflows_load() {
    let names: Vec<String> = shipped().into_iter().map(|w| w.name).collect();
    assert_eq!(names, ["hubspot-closedwon", "salesforce-closed-won"]);
}

#[test]
fn the_shipped_workflows_fit_the_sandbox_orgs() {
    let templates = Templates::load(&root().join("templates/projects")).unwrap();
    let template_names = templates.names();
    let labels = hubspot_labels();
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    let cases = [
        ("salesforce-closed-won", salesforce_opportunity(), SF_CONTACT_ROLES.to_vec()),
        ("hubspot-closedwon", hubspot_deals(), labels),
    ];
    for (name, catalog, roles) in cases {
        let w = shipped_one(name);
        let file = format!("workflows/{name}.toml");
        let mut problems = w.validate_against(&catalog, &file);
        problems.extend(w.validate_contact_roles(&roles, &file));
        problems.extend(w.validate_templates(&template_names, &file));
        assert!(problems.is_empty(), "{name}: {problems:#?}");
    }
}

#[test]
fn an_opportunity_moving_into_closed_won_starts_the_salesforce_workflow() {
    let w = shipped_one("salesforce-closed-won");
    assert!(w.matches(&acme_rollout("Closed Won"), Some(&acme_rollout("Negotiation/Review"))));
    assert!(w.matches(&acme_rollout("Closed Won"), None), "first seen already won");
    assert!(
        !w.matches(&acme_rollout("Closed Won"), Some(&acme_rollout("Closed Won"))),
        "staying won"
    );
    assert!(!w.matches(&acme_rollout("Closed Lost"), Some(&acme_rollout("Negotiation/Review"))));
}

#[test]
fn a_false_condition_keeps_the_workflow_from_firing() {
    let w = shipped_one("salesforce-closed-won");
    let mut free = acme_rollout("Closed Won");
    free.fields.insert("Amount".into(), json!(0));
    assert!(!w.matches(&free, Some(&acme_rollout("Negotiation/Review"))));
    let h = shipped_one("hubspot-closedwon");
    let mut other_pipeline = bluefin("closedwon");
    other_pipeline.fields.insert("pipeline".into(), json!("renewals"));
    assert!(!h.matches(&other_pipeline, Some(&bluefin("contractsent"))));
}

#[test]
fn a_deal_entering_closedwon_starts_the_hubspot_workflow_only() {
    let h = shipped_one("hubspot-closedwon");
    let s = shipped_one("salesforce-closed-won");
    assert!(h.matches(&bluefin("closedwon"), Some(&bluefin("contractsent"))));
    assert!(!h.matches(&bluefin("closedwon"), Some(&bluefin("closedwon"))));
    assert!(
        !s.matches(&bluefin("closedwon"), Some(&bluefin("contractsent"))),
        "another connection"
    );
    assert!(!h.matches(&acme_rollout("Closed Won"), None), "another connection");
}

#[test]
fn the_template_follows_the_product_line() {
    let s = shipped_one("salesforce-closed-won");
    assert_eq!(s.template_for(&acme_rollout("Closed Won")), "implementation");
    let mut analytics = acme_rollout("Closed Won");
    analytics.fields.insert("Product_Line__c".into(), json!("Analytics"));
    assert_eq!(s.template_for(&analytics), "saas-onboarding");
    analytics.fields.remove("Product_Line__c");
    assert_eq!(s.template_for(&analytics), "saas-onboarding");
    assert_eq!(
        shipped_one("hubspot-closedwon").template_for(&bluefin("closedwon")),
        "implementation"
    );
}

#[test]
fn project_names_render_from_the_record() {
    let s = shipped_one("salesforce-closed-won");
    assert_eq!(s.render_project_name(&acme_rollout("Closed Won")), "Acme Corporation onboarding");
    let welcome = s.render_welcome_message(&acme_rollout("Closed Won")).unwrap();
    assert!(welcome.starts_with("Welcome to your onboarding, Acme Corporation!"), "{welcome}");
    let h = shipped_one("hubspot-closedwon");
    assert_eq!(h.render_project_name(&bluefin("closedwon")), "Bluefin Logistics — Integrations");
}

#[test]
fn customers_are_picked_by_contact_role() {
    let s = shipped_one("salesforce-closed-won");
    let picked: Vec<(String, ProjectRole, InviteMode)> = s
        .customers(&acme_rollout("Closed Won"))
        .into_iter()
        .map(|(c, r, i)| (c.email.unwrap(), r, i))
        .collect();
    assert_eq!(
        picked,
        [
            ("ada.reyes@acme.example.com".into(), ProjectRole::CustomerAdmin, InviteMode::Now),
            (
                "ben.carter@acme.example.com".into(),
                ProjectRole::CustomerMember,
                InviteMode::WhenActive
            ),
            (
                "chloe.nguyen@acme.example.com".into(),
                ProjectRole::CustomerViewer,
                InviteMode::Silently
            ),
        ]
    );
}

#[test]
fn customers_are_picked_by_association_label_first_source_first() {
    let h = shipped_one("hubspot-closedwon");
    let picked: Vec<(String, ProjectRole)> = h
        .customers(&bluefin("closedwon"))
        .into_iter()
        .map(|(c, r, _)| (c.external_id, r))
        .collect();
    assert_eq!(
        picked,
        [
            ("1000000004".into(), ProjectRole::CustomerAdmin),
            ("1000000005".into(), ProjectRole::CustomerViewer)
        ]
    );
}

#[test]
fn writebacks_speak_the_crms_picklist_values() {
    let s = shipped_one("salesforce-closed-won");
    let rule = s.writeback.iter().find(|r| r.set.contains_key("Onboarding_Status__c")).unwrap();
    let hub = HubValues {
        status: Some(ProjectStatus::Active),
        url: Some("https://handoff.example.com/projects/1".into()),
        ..HubValues::default()
    };
    let fields = rule.render_fields(&hub);
    assert!(
        fields.contains(&("Onboarding_Status__c".into(), json!("In Progress"))),
        "{fields:?}"
    );
    assert!(
        fields.contains(&("Project_URL__c".into(), json!("https://handoff.example.com/projects/1"))),
        "{fields:?}"
    );
}

/// Each broken copy of the shipped Salesforce workflow, and what the refusal must say.
#[test]
fn each_validation_error_names_file_key_and_reason() {
    let path = root().join("workflows/salesforce-closed-won.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let file = "workflows/salesforce-closed-won.toml";
    let cases = [
        (
            ("field = \"StageName\"", "field = \"Stage\""),
            "trigger.field",
            "has no field `Stage`",
        ),
        (
            ("value = \"Closed Won\"", "value = \"Won\""),
            "trigger.value",
            "`Won` is not a value of `StageName`",
        ),
        (
            ("start = \"close_date\"", "start = \"Name\""),
            "project.start",
            "`Name` is a text field",
        ),
        (
            ("Onboarding_Progress__c = \"{{ project.progress }}\"", "IsWon = \"true\""),
            "writeback[1].set.IsWon",
            "read-only",
        ),
        (
            ("active = \"In Progress\"", "active = \"Running\""),
            "writeback[0].status_values.active",
            "`Running` is not a value",
        ),
        (
            ("\"Analytics\" = \"saas", "\"Analytix\" = \"saas"),
            "template.map.Analytix",
            "not a value of `Product_Line__c`",
        ),
    ];
    for ((from, to), key, reason) in cases {
        assert!(text.contains(from), "{from}");
        let broken = text.replacen(from, to, 1);
        let w = parse(file, &broken).unwrap_or_else(|e| panic!("{e}"));
        let problems = w.validate_against(&salesforce_opportunity(), file);
        let p = problems
            .iter()
            .find(|p| p.key == key)
            .unwrap_or_else(|| panic!("no problem at {key}: {problems:#?}"));
        assert_eq!(p.file, file);
        assert!(p.message.contains(reason), "{key}: {}", p.message);
        let line = p.line.unwrap_or_else(|| panic!("{key} has no line"));
        let shown = p.to_string();
        assert!(shown.starts_with(&format!("{file}:{line}: `{key}`: ")), "{shown}");
        let key_leaf = key.rsplit('.').next().unwrap();
        let at_line = broken.lines().nth(line - 1).unwrap();
        assert!(
            at_line.contains(key_leaf) || at_line.starts_with('['),
            "{key} → line {line}: {at_line}"
        );
    }
}

#[test]
fn a_parse_error_in_a_shipped_file_names_file_key_and_line() {
    let text = std::fs::read_to_string(Path::new(&root()).join("workflows/hubspot-closedwon.toml")).unwrap();
    let broken = text.replacen("role = \"customer_admin\"", "role = \"admin\"", 1);
    let err = parse("workflows/hubspot-closedwon.toml", &broken).unwrap_err();
    let p = &err.problems[0];
    assert_eq!(p.key, "customers[0].role");
    assert!(p.message.contains("admin"), "{}", p.message);
    let line = p.line.unwrap();
    assert!(broken.lines().nth(line - 1).unwrap().contains("role = \"admin\""));
}

#[test]
fn a_workflow_lists_the_fields_it_reads_so_the_connection_can_fetch_them() {
    let s = shipped_one("salesforce-closed-won");
    let fields = s.fields_read();
    for f in [
        "StageName",
        "Amount",
        "Type",
        "Product_Line__c",
        "Account.Name",
        "CloseDate",
        "OwnerId",
        "Name",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} missing from {fields:?}");
    }
    assert!(
        !fields.iter().any(|x| x.starts_with("Onboarding_")),
        "writeback targets are not read: {fields:?}"
    );
}
