//! Validation against a field catalog, one rule per test.

use crate::definition::{Problem, Workflow, parse};
use handoff_domain::field_catalog::{FieldCatalog, FieldInfo, FieldKind};

const FILE: &str = "workflows/sf.toml";

fn opportunity() -> FieldCatalog {
    use FieldKind::*;
    FieldCatalog::new(
        "Opportunity",
        vec![
            FieldInfo::new("Id", Reference).read_only(),
            FieldInfo::new("Name", Text),
            FieldInfo::new("AccountId", Reference),
            FieldInfo::new("OwnerId", Reference),
            FieldInfo::new("StageName", Picklist).with_options(&["Prospecting", "Closed Won", "Closed Lost"]),
            FieldInfo::new("Amount", Number),
            FieldInfo::new("CloseDate", Date),
            FieldInfo::new("Description", Text),
            FieldInfo::new("IsWon", Boolean).read_only(),
            FieldInfo::new("Product_Line__c", Picklist).with_options(&["Core Platform", "Analytics"]),
            FieldInfo::new("Onboarding_Status__c", Picklist).with_options(&["Not Started", "In Progress", "Live"]),
            FieldInfo::new("Onboarding_Progress__c", Percent),
            FieldInfo::new("Project_URL__c", Url),
        ],
    )
}

const BASE: &str = r#"
[trigger]
connection = "salesforce"
object = "deal"
event = "field_becomes"
field = "StageName"
value = "Closed Won"

[template]
by_field = "Product_Line__c"
default = "saas-onboarding"
map = { "Analytics" = "implementation" }

[project]
name = "{{ Account.Name }} onboarding"
start = "close_date"
owner_field = "OwnerId"
"#;

fn check(text: &str) -> Vec<Problem> {
    let w: Workflow = parse(FILE, text).unwrap_or_else(|e| panic!("{e}"));
    w.validate_against(&opportunity(), FILE)
}

fn has(problems: &[Problem], key: &str, needle: &str) -> bool {
    problems
        .iter()
        .any(|p| p.file == FILE && p.key == key && p.message.contains(needle) && p.line.is_some())
}

#[test]
fn a_workflow_that_fits_the_catalog_has_no_problem() {
    assert_eq!(check(BASE), []);
}

#[test]
fn a_catalog_for_another_object_is_refused() {
    let w = parse(FILE, BASE).unwrap();
    let p = w.validate_against(&FieldCatalog::new("Account", opportunity().fields), FILE);
    assert!(has(&p, "trigger.object", "not a deal"), "{p:?}");
}

#[test]
fn an_unknown_trigger_field_is_named() {
    let p = check(&BASE.replace("field = \"StageName\"", "field = \"Stage\""));
    assert!(has(&p, "trigger.field", "no field `Stage`"), "{p:?}");
}

#[test]
fn a_trigger_value_outside_the_picklist_is_refused() {
    let p = check(&BASE.replace("value = \"Closed Won\"", "value = \"Won\""));
    assert!(has(&p, "trigger.value", "`Won` is not a value of `StageName`"), "{p:?}");
}

#[test]
fn entering_a_stage_the_crm_does_not_have_is_refused() {
    let text = BASE.replace(
        "event = \"field_becomes\"\nfield = \"StageName\"\nvalue = \"Closed Won\"",
        "event = \"enters_stage\"\nstage = \"closedwon\"",
    );
    let p = check(&text);
    assert!(has(&p, "trigger.stage", "`closedwon` is not a value of `StageName`"), "{p:?}");
}

#[test]
fn condition_values_are_checked_against_types_and_picklists() {
    let cond = r#"
[trigger.condition]
all = [
  { field = "Product_Line__c", op = "in", values = ["Analytics", "Robotics"] },
  { field = "Amount", op = "gt", value = "lots" },
  { field = "Name", op = "lt", value = "M" },
  { field = "Nope", op = "is_set" },
]
"#;
    let p = check(&BASE.replace("value = \"Closed Won\"\n", &format!("value = \"Closed Won\"\n{cond}")));
    assert!(has(&p, "trigger.condition.all[0].values", "`Robotics` is not a value"), "{p:?}");
    assert!(has(&p, "trigger.condition.all[1].value", "not a number"), "{p:?}");
    assert!(has(&p, "trigger.condition.all[2].op", "compare numbers and dates"), "{p:?}");
    assert!(has(&p, "trigger.condition.all[3].field", "no field `Nope`"), "{p:?}");
}

#[test]
fn template_map_keys_must_be_values_of_the_picklist() {
    let p = check(&BASE.replace("\"Analytics\" = ", "\"Analytix\" = "));
    assert!(has(&p, "template.map.Analytix", "not a value of `Product_Line__c`"), "{p:?}");
}

#[test]
fn placeholders_in_the_name_must_be_fields_or_lookups() {
    let p = check(&BASE.replace("{{ Account.Name }}", "{{ Acount.Name }} {{ Titel }}"));
    assert!(has(&p, "project.name", "no field `Acount.Name`"), "{p:?}");
    assert!(has(&p, "project.name", "no field `Titel`"), "{p:?}");
}

#[test]
fn the_start_and_goal_must_be_date_fields() {
    let p = check(&BASE.replace("start = \"close_date\"", "start = \"Description\"\ngoal = \"Amount\""));
    assert!(
        has(
            &p,
            "project.start",
            "`Description` is a text field; the start date needs date or datetime"
        ),
        "{p:?}"
    );
    assert!(has(&p, "project.goal", "`Amount` is a number field"), "{p:?}");
}

#[test]
fn owner_and_team_fields_must_point_at_users() {
    let mut catalog = opportunity();
    for (relationship, lookup, object) in [("Owner", "OwnerId", "User"), ("Account", "AccountId", "Account")] {
        catalog.relationships.insert(
            relationship.into(),
            handoff_domain::field_catalog::Relationship {
                lookup: lookup.into(),
                target: None,
                points_to: vec![object.into()],
            },
        );
    }
    let w: Workflow = parse(
        FILE,
        &BASE.replace(
            "owner_field = \"OwnerId\"",
            "owner_field = \"OwnerId\"\nteam_fields = [\"AccountId\"]",
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let p = w.validate_against(&catalog, FILE);
    assert!(
        has(
            &p,
            "project.team_fields[0]",
            "`AccountId` looks up Account; a CRM user lookup must point at User"
        ),
        "{p:?}"
    );
    assert!(!p.iter().any(|p| p.key == "project.owner_field"), "OwnerId points at User: {p:?}");
}

#[test]
fn owner_and_team_fields_must_be_user_lookups() {
    let p = check(&BASE.replace("owner_field = \"OwnerId\"", "owner_field = \"Name\"\nteam_fields = [\"Owner\"]"));
    assert!(has(&p, "project.owner_field", "a CRM user lookup needs reference"), "{p:?}");
    assert!(has(&p, "project.team_fields[0]", "no field `Owner`"), "{p:?}");
}

#[test]
fn custom_fields_must_exist() {
    let p = check(&format!("{BASE}custom_fields = {{ tier = \"Tier__c\", amount = \"Amount\" }}\n"));
    assert!(has(&p, "project.custom_fields.tier", "no field `Tier__c`"), "{p:?}");
    assert!(!p.iter().any(|p| p.key == "project.custom_fields.amount"), "{p:?}");
}

#[test]
fn a_writeback_to_a_read_only_field_is_refused() {
    let p = check(&format!(
        "{BASE}\n[[writeback]]\non = \"status_changed\"\nset = {{ IsWon = \"true\" }}\n"
    ));
    assert!(has(&p, "writeback[0].set.IsWon", "read-only"), "{p:?}");
}

#[test]
fn a_writeback_to_an_unknown_field_is_refused() {
    let p = check(&format!(
        "{BASE}\n[[writeback]]\non = \"status_changed\"\nset = {{ Onboarding__c = \"x\" }}\n"
    ));
    assert!(has(&p, "writeback[0].set.Onboarding__c", "no field"), "{p:?}");
}

#[test]
fn a_writeback_value_must_fit_the_field_type() {
    let rule = r#"
[[writeback]]
on = "progress_changed"
set = { CloseDate = "{{ project.progress }}", Onboarding_Progress__c = "{{ project.status }}", Project_URL__c = "{{ project.url }}" }
"#;
    let p = check(&format!("{BASE}{rule}"));
    assert!(
        has(&p, "writeback[0].set.CloseDate", "date field and cannot hold a percentage"),
        "{p:?}"
    );
    assert!(
        has(
            &p,
            "writeback[0].set.Onboarding_Progress__c",
            "percent field and cannot hold the project status"
        ),
        "{p:?}"
    );
    assert!(!p.iter().any(|p| p.key.ends_with("Project_URL__c")), "{p:?}");
}

#[test]
fn a_literal_writeback_value_must_be_in_the_picklist() {
    let p = check(&format!(
        "{BASE}\n[[writeback]]\non = \"phase_completed\"\nset = {{ Onboarding_Status__c = \"Done\" }}\n"
    ));
    assert!(has(&p, "writeback[0].set.Onboarding_Status__c", "`Done` is not a value"), "{p:?}");
}

#[test]
fn the_status_written_to_a_picklist_needs_a_mapping_to_its_values() {
    let unmapped =
        format!("{BASE}\n[[writeback]]\non = \"status_changed\"\nset = {{ Onboarding_Status__c = \"{{{{ project.status }}}}\" }}\n");
    let p = check(&unmapped);
    assert!(has(&p, "writeback[0].set.Onboarding_Status__c", "status_values"), "{p:?}");
    let wrong = format!("{unmapped}status_values = {{ active = \"Running\", completed = \"Live\" }}\n");
    let p = check(&wrong);
    assert!(has(&p, "writeback[0].status_values.active", "`Running` is not a value"), "{p:?}");
    assert_eq!(p.len(), 1, "{p:?}");
}

#[test]
fn the_primary_contact_field_must_be_a_lookup() {
    let src = "\n[[customers]]\nprimary_contact = \"Name\"\nrole = \"customer_admin\"\ninvite = \"when_active\"\n";
    let p = check(&format!("{BASE}{src}"));
    assert!(has(&p, "customers[0].primary_contact", "a contact lookup needs reference"), "{p:?}");
}

#[test]
fn contact_roles_must_be_ones_the_crm_has() {
    let src = "\n[[customers]]\ncontact_roles = [\"Decision Maker\", \"Champion\"]\nrole = \"customer_admin\"\ninvite = \"when_active\"\n";
    let w = parse(FILE, &format!("{BASE}{src}")).unwrap();
    let p = w.validate_contact_roles(&["Decision Maker", "Evaluator"], FILE);
    assert!(
        has(&p, "customers[0].contact_roles", "no contact role or label `Champion`"),
        "{p:?}"
    );
    assert_eq!(p.len(), 1);
}
