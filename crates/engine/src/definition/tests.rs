//! Parsing rules, and applying a workflow to record changes.

use chrono::NaiveDate;
use serde_json::json;

use super::*;
use handoff_domain::change::{ChangeSource, CompanyRef, ContactRole, RecordChange};

const BASE: &str = r#"
[trigger]
connection = "hubspot"
object = "deal"
event = "enters_stage"
stage = "closedwon"

[template]
name = "saas-onboarding"

[project]
name = "{{ dealname }}"
start = "close_date"
"#;

fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

fn ok(text: &str) -> Workflow {
    parse("workflows/test.toml", text).unwrap_or_else(|e| panic!("{e}"))
}

fn problems(text: &str) -> Vec<Problem> {
    parse("workflows/test.toml", text).expect_err("should be refused").problems
}

fn has(problems: &[Problem], key: &str, needle: &str) -> bool {
    problems.iter().any(|p| p.key == key && p.message.contains(needle))
}

#[test]
fn a_minimal_workflow_parses_with_safe_defaults() {
    let w = ok(BASE);
    assert_eq!(w.name, "test");
    assert_eq!(w.removals, Removals::Report);
    assert_eq!(w.project.initial_status, ProjectStatus::Draft);
    assert_eq!(w.trigger.event, Event::EntersStage { stage: "closedwon".into() });
}

#[test]
fn unknown_keys_are_refused_with_their_key_and_line() {
    let text = BASE.replace("stage = \"closedwon\"", "stage = \"closedwon\"\nstges = 1");
    let p = problems(&text);
    assert_eq!(p[0].key, "trigger.stges");
    assert!(p[0].message.contains("stges"), "{:?}", p[0]);
    assert_eq!(p[0].line, Some(7));
    assert_eq!(p[0].file, "workflows/test.toml");
}

#[test]
fn a_wrong_type_names_the_key() {
    let p = problems(&BASE.replace("connection = \"hubspot\"", "connection = 3"));
    assert_eq!(p[0].key, "trigger.connection");
    assert_eq!(p[0].line, Some(3));
}

#[test]
fn every_problem_is_reported_at_once_with_lines() {
    let text = with("\n[[customers]]\ncontact_roles = []\nrole = \"owner\"\ninvite = \"now\"\n")
        .replace("{{ dealname }}", "{{ project.url }}")
        .replace("saas-onboarding", "SaaS Onboarding");
    let p = problems(&text);
    assert!(has(&p, "template.name", "not a template name"), "{p:?}");
    assert!(has(&p, "project.name", "unknown placeholder"), "{p:?}");
    assert!(has(&p, "customers[0].contact_roles", "at least one"), "{p:?}");
    assert!(has(&p, "customers[0].role", "staff role"), "{p:?}");
    assert!(has(&p, "customers[0].invite", "draft project"), "{p:?}");
    assert!(p.iter().all(|p| p.line.is_some()), "{p:?}");
    let shown = WorkflowError {
        file: "workflows/test.toml".into(),
        problems: p,
    }
    .to_string();
    assert!(shown.lines().all(|l| l.starts_with("workflows/test.toml:")), "{shown}");
}

#[test]
fn field_becomes_needs_a_field_and_a_value() {
    let text = BASE.replace(
        "event = \"enters_stage\"\nstage = \"closedwon\"",
        "event = \"field_becomes\"\nfield = \"dealstage\"",
    );
    assert!(has(&problems(&text), "trigger.event", "needs `field` and `value`"));
}

#[test]
fn settings_of_another_event_are_refused() {
    let text = BASE.replace("event = \"enters_stage\"", "event = \"created\"");
    assert!(has(&problems(&text), "trigger.stage", "only to event = \"enters_stage\""));
}

#[test]
fn only_deals_enter_stages() {
    let text = BASE.replace("object = \"deal\"", "object = \"contact\"");
    assert!(has(&problems(&text), "trigger.event", "only deals have stages"));
}

#[test]
fn a_condition_is_all_or_any_not_both() {
    let both = "\n[trigger.condition]\nall = [{ field = \"a\", op = \"is_set\" }]\nany = [{ field = \"b\", op = \"is_set\" }]\n";
    let text = BASE.replace("stage = \"closedwon\"\n", &format!("stage = \"closedwon\"\n{both}"));
    assert!(has(&problems(&text), "trigger.condition", "either `all` or `any`"));
}

#[test]
fn operators_take_the_values_they_need() {
    let cond = r#"
[trigger.condition]
all = [
  { field = "a", op = "in", value = "x" },
  { field = "b", op = "eq", values = ["x"] },
  { field = "c", op = "is_set", value = 1 },
  { field = "d", op = "gt" },
]
"#;
    let text = BASE.replace("stage = \"closedwon\"\n", &format!("stage = \"closedwon\"\n{cond}"));
    let p = problems(&text);
    assert!(has(&p, "trigger.condition.all[0].values", "non-empty `values`"), "{p:?}");
    assert!(has(&p, "trigger.condition.all[1].values", "one `value`"), "{p:?}");
    assert!(has(&p, "trigger.condition.all[2].op", "no value"), "{p:?}");
    assert!(has(&p, "trigger.condition.all[3].value", "needs a `value`"), "{p:?}");
}

#[test]
fn a_template_is_fixed_or_chosen_by_a_field_with_a_default() {
    let by_field = BASE.replace(
        "name = \"saas-onboarding\"",
        "by_field = \"product_line\"\nmap = { core = \"implementation\" }",
    );
    assert!(has(&problems(&by_field), "template.default", "needs a `default`"));
    let both = BASE.replace("name = \"saas-onboarding\"", "name = \"a\"\nby_field = \"product_line\"");
    assert!(has(&problems(&both), "template", "either a fixed `name`"));
    let stray = BASE.replace("name = \"saas-onboarding\"", "name = \"a\"\ndefault = \"b\"");
    assert!(has(&problems(&stray), "template.default", "goes with `by_field`"));
}

#[test]
fn writeback_placeholders_depend_on_the_event() {
    let text = with("\n[[writeback]]\non = \"progress_changed\"\nset = { x = \"{{ task.title }}\" }\n");
    assert!(has(&problems(&text), "writeback[0].set.x", "knows project.* values"));
    let text = with("\n[[writeback]]\non = \"task_completed\"\nactivity = { subject = \"Done: {{ task.title }}\" }\n");
    assert_eq!(
        ok(&text).writeback[0].activity.as_ref().map(|a| a.subject.as_str()),
        Some("Done: {{ task.title }}")
    );
}

#[test]
fn record_fields_do_not_belong_in_writebacks() {
    let text = with("\n[[writeback]]\non = \"status_changed\"\nset = { x = \"{{ dealname }}\" }\n");
    assert!(has(&problems(&text), "writeback[0].set.x", "unknown placeholder"));
}

#[test]
fn a_writeback_sets_fields_or_records_an_activity() {
    let text = with("\n[[writeback]]\non = \"status_changed\"\n");
    assert!(has(&problems(&text), "writeback[0]", "sets fields"));
}

#[test]
fn status_values_name_project_statuses() {
    let text =
        with("\n[[writeback]]\non = \"status_changed\"\nset = { s = \"{{ project.status }}\" }\nstatus_values = { live = \"Live\" }\n");
    assert!(has(&problems(&text), "writeback[0].status_values.live", "not a project status"));
}

#[test]
fn a_customer_source_is_exactly_one_kind() {
    let text =
        with("\n[[customers]]\ncontact_roles = [\"A\"]\ncompany_contacts = true\nrole = \"customer_member\"\ninvite = \"silently\"\n");
    assert!(has(&problems(&text), "customers[0]", "exactly one of"));
}

#[test]
fn the_goal_is_a_field_or_a_positive_number_of_days() {
    assert_eq!(ok(&with("goal = 30\n")).project.goal, Some(GoalDate::DaysAfterStart(30)));
    assert_eq!(
        ok(&with("goal = \"go_live\"\n")).project.goal,
        Some(GoalDate::Field("go_live".into()))
    );
    assert!(has(&problems(&with("goal = -3\n")), "project.goal", "number of days"));
}

#[test]
fn a_new_project_starts_draft_or_active() {
    assert!(has(
        &problems(&with("initial_status = \"completed\"\n")),
        "project.initial_status",
        "draft or active"
    ));
}

#[test]
fn the_file_name_must_be_a_workflow_name() {
    let p = parse("workflows/Closed Won.toml", BASE).unwrap_err().problems;
    assert!(has(&p, "(file)", "cannot name a workflow"), "{p:?}");
}

#[test]
fn the_templates_a_workflow_picks_must_exist() {
    let w = ok(BASE);
    assert!(w.validate_templates(&["saas-onboarding"], "f").is_empty());
    let p = w.validate_templates(&["implementation"], "f");
    assert!(has(&p, "template.name", "no project template is named `saas-onboarding`"), "{p:?}");
}

// ---- matching ------------------------------------------------------------------------

fn contact(id: &str, roles: &[&str]) -> ContactRole {
    ContactRole {
        external_id: id.into(),
        email: Some(format!("{id}@example.com")),
        first_name: None,
        last_name: None,
        title: None,
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        is_primary: false,
    }
}

fn deal(fields: serde_json::Value) -> RecordChange {
    RecordChange {
        connection: "hubspot".into(),
        object: ObjectKind::Deal,
        external_id: "3000000001".into(),
        fields: fields.as_object().cloned().unwrap_or_default(),
        contacts: vec![],
        company: Some(CompanyRef {
            external_id: "2000000001".into(),
            name: Some("Northwind Traders".into()),
        }),
        users: Default::default(),
        company_contacts: Vec::new(),
        modified_at: "2026-11-23T10:00:00Z".parse().unwrap(),
        deleted: false,
        source: ChangeSource::Webhook,
    }
}

#[test]
fn entering_the_stage_matches_and_staying_there_does_not() {
    let w = ok(BASE);
    let before = deal(json!({ "dealstage": "contractsent" }));
    let won = deal(json!({ "dealstage": "closedwon" }));
    let mut edited = won.clone();
    edited.fields.insert("amount".into(), json!("1"));
    assert!(w.matches(&won, Some(&before)));
    assert!(!w.matches(&edited, Some(&won)));
    assert!(!w.matches(&before, None));
}

#[test]
fn a_change_the_trigger_does_not_fire_on_says_which_part_failed_and_the_value_seen() {
    let w = ok(&with(
        "\n[trigger.condition]\nall = [{ field = \"amount\", op = \"gt\", value = 1000 }]\n",
    ));
    let early = deal(json!({ "dealstage": "contractsent", "amount": "5000" }));
    assert_eq!(
        w.explain(&early, None),
        TriggerVerdict::DoesNotFire("the stage is \"contractsent\", not \"closedwon\"".into())
    );
    let small = deal(json!({ "dealstage": "closedwon", "amount": "500" }));
    assert_eq!(
        w.explain(&small, None),
        TriggerVerdict::DoesNotFire("the condition `amount gt 1000` does not hold: `amount` is \"500\"".into())
    );
    let won = deal(json!({ "dealstage": "closedwon", "amount": "5000" }));
    assert_eq!(w.explain(&won, None), TriggerVerdict::Fires);
    assert!(matches!(w.explain(&won, Some(&won)), TriggerVerdict::DoesNotFire(m) if m.contains("already")));
    let mut deleted = won.clone();
    deleted.deleted = true;
    assert_eq!(
        w.explain(&deleted, None),
        TriggerVerdict::DoesNotFire("the record was deleted".into())
    );
}

#[test]
fn the_trigger_reads_as_the_admin_wrote_it() {
    let w = ok(&with(
        "\n[trigger.condition]\nany = [{ field = \"pipeline\", op = \"eq\", value = \"default\" }, { field = \"amount\", op = \"is_set\" }]\n",
    ));
    assert_eq!(
        w.trigger_text(),
        "hubspot deal: enters_stage \"closedwon\", when any of: pipeline eq \"default\"; amount is_set"
    );
}

#[test]
fn a_record_first_seen_at_the_stage_counts_as_entering_it() {
    assert!(ok(BASE).matches(&deal(json!({ "dealstage": "closedwon" })), None));
}

#[test]
fn another_connection_object_or_a_deleted_record_never_matches() {
    let w = ok(BASE);
    let won = deal(json!({ "dealstage": "closedwon" }));
    let mut other = won.clone();
    other.connection = "salesforce".into();
    assert!(!w.matches(&other, None));
    let mut company = won.clone();
    company.object = ObjectKind::Company;
    assert!(!w.matches(&company, None));
    let mut deleted = won;
    deleted.deleted = true;
    assert!(!w.matches(&deleted, None));
}

#[test]
fn field_becomes_compares_by_meaning() {
    let text = BASE.replace(
        "event = \"enters_stage\"\nstage = \"closedwon\"",
        "event = \"field_becomes\"\nfield = \"hs_is_closed_won\"\nvalue = true",
    );
    let w = ok(&text);
    assert!(w.matches(
        &deal(json!({ "hs_is_closed_won": "true" })),
        Some(&deal(json!({ "hs_is_closed_won": "false" })))
    ));
}

#[test]
fn created_fires_on_the_first_state_and_updated_not_on_a_redelivery() {
    let created = ok(&BASE.replace("event = \"enters_stage\"\nstage = \"closedwon\"", "event = \"created\""));
    let updated = ok(&BASE.replace("event = \"enters_stage\"\nstage = \"closedwon\"", "event = \"updated\""));
    let a = deal(json!({ "amount": "1" }));
    let b = deal(json!({ "amount": "2" }));
    assert!(created.matches(&a, None));
    assert!(!created.matches(&b, Some(&a)));
    assert!(updated.matches(&b, Some(&a)));
    assert!(!updated.matches(&a, Some(&a)));
}

#[test]
fn a_false_condition_stops_the_trigger() {
    let cond = "\n[trigger.condition]\nany = [{ field = \"amount\", op = \"gt\", value = 10000 }]\n";
    let w = ok(&BASE.replace("stage = \"closedwon\"\n", &format!("stage = \"closedwon\"\n{cond}")));
    assert!(!w.matches(&deal(json!({ "dealstage": "closedwon", "amount": "500" })), None));
    assert!(w.matches(&deal(json!({ "dealstage": "closedwon", "amount": "50000" })), None));
}

#[test]
fn the_template_follows_the_field_and_falls_back_to_the_default() {
    let text = BASE.replace(
        "name = \"saas-onboarding\"",
        "by_field = \"product_line\"\ndefault = \"saas-onboarding\"\nmap = { enterprise_suite = \"implementation\" }",
    );
    let w = ok(&text);
    assert_eq!(
        w.template_for(&deal(json!({ "product_line": "enterprise_suite" }))),
        "implementation"
    );
    assert_eq!(w.template_for(&deal(json!({ "product_line": "core" }))), "saas-onboarding");
    assert_eq!(w.template_for(&deal(json!({}))), "saas-onboarding");
}

#[test]
fn the_project_name_uses_fields_and_the_company_and_is_never_empty() {
    let w = ok(&BASE.replace("{{ dealname }}", "{{ company.name }}: {{ dealname }}"));
    assert_eq!(
        w.render_project_name(&deal(json!({ "dealname": "Core platform" }))),
        "Northwind Traders: Core platform"
    );
    let w = ok(BASE);
    assert_eq!(w.render_project_name(&deal(json!({}))), "deal 3000000001");
}

#[test]
fn salesforce_lookup_paths_read_nested_fields() {
    let w = ok(&BASE.replace("{{ dealname }}", "{{ Account.Name }} onboarding"));
    let change = deal(json!({ "Account": { "Name": "Acme Corporation" } }));
    assert_eq!(w.render_project_name(&change), "Acme Corporation onboarding");
}

#[test]
fn a_contact_picked_by_several_sources_takes_the_first_role() {
    let sources = r#"
[[customers]]
association_labels = ["Decision maker"]
role = "customer_admin"
invite = "when_active"

[[customers]]
association_labels = ["Technical contact", "Decision maker"]
role = "customer_member"
invite = "silently"
"#;
    let w = ok(&with(sources));
    let mut change = deal(json!({}));
    change.contacts = vec![
        contact("kenji", &["Decision maker", "Technical contact"]),
        contact("ines", &["Billing contact"]),
        contact("mateo", &["Technical contact"]),
    ];
    let picked: Vec<(String, ProjectRole)> = w.customers(&change).into_iter().map(|(c, r, _)| (c.external_id, r)).collect();
    assert_eq!(
        picked,
        [
            ("kenji".into(), ProjectRole::CustomerAdmin),
            ("mateo".into(), ProjectRole::CustomerMember)
        ]
    );
}

#[test]
fn primary_contact_and_company_contacts_sources_pick_their_people() {
    let sources = r#"
[[customers]]
primary_contact = "ContactId"
role = "customer_admin"
invite = "when_active"

[[customers]]
company_contacts = true
role = "customer_viewer"
invite = "silently"
"#;
    let w = ok(&with(sources));
    let change = deal(json!({ "ContactId": "003A" }));
    let picked = w.customers_with_company(&change, &[contact("003A", &[]), contact("003B", &[])]);
    let ids: Vec<(&str, ProjectRole)> = picked.iter().map(|(c, r, _)| (c.external_id.as_str(), *r)).collect();
    assert_eq!(ids, [("003A", ProjectRole::CustomerAdmin), ("003B", ProjectRole::CustomerViewer)]);
    assert_eq!(w.customers(&change).len(), 1);
}

#[test]
fn start_and_goal_dates_come_from_the_close_date_and_the_offset() {
    let w = ok(&with("goal = 30\n"));
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let change = deal(json!({ "closedate": "2026-01-20T17:00:00Z" }));
    let start = w.start_date(&change, today);
    assert_eq!(start, NaiveDate::from_ymd_opt(2026, 1, 20).unwrap());
    assert_eq!(w.goal_date(&change, start), NaiveDate::from_ymd_opt(2026, 2, 19));
    assert_eq!(w.start_date(&deal(json!({})), today), today);
}

#[test]
fn writebacks_render_typed_values_and_skip_unmapped_statuses() {
    let rules = r#"
[[writeback]]
on = "status_changed"
set = { onboarding_status = "{{ project.status }}", onboarding_progress = "{{ project.progress }}", note = "{{ project.progress }}% at {{ project.url }}" }
status_values = { active = "in_progress" }
"#;
    let w = ok(&with(rules));
    let rule = &w.writeback[0];
    let hub = HubValues {
        status: Some(ProjectStatus::Active),
        progress: Some(40),
        url: Some("https://hub/p/1".into()),
        ..HubValues::default()
    };
    let fields = rule.render_fields(&hub);
    assert!(fields.contains(&("onboarding_status".into(), json!("in_progress"))), "{fields:?}");
    assert!(fields.contains(&("onboarding_progress".into(), json!(40))), "{fields:?}");
    assert!(fields.contains(&("note".into(), json!("40% at https://hub/p/1"))), "{fields:?}");
    let archived = HubValues {
        status: Some(ProjectStatus::Archived),
        ..hub
    };
    assert!(!rule.render_fields(&archived).iter().any(|(f, _)| f == "onboarding_status"));
}
