use super::*;

const MINIMAL: &str = r#"
name = "Tiny"
welcome_message = "Hello"

[[phases]]
key = "start"
name = "Start"

[[phases.tasks]]
key = "kickoff"
title = "Kickoff call"
type = "meeting"
duration_minutes = 45
due_in_business_days = 2

[[phases.tasks]]
key = "details"
title = "Company details"
type = "form"
owner = "customer"
depends_on = ["kickoff"]
due_in_business_days = 5
fields = [
  { key = "legal_name", label = "Legal name", type = "text", required = true },
  { key = "size", label = "Company size", type = "select", options = ["1-10", "11-50"] },
]
"#;

fn problems(text: &str) -> Vec<String> {
    match parse("t.toml", text) {
        Ok(_) => vec![],
        Err(e) => e.problems.iter().map(|p| format!("{}: {}", p.key, p.message)).collect(),
    }
}

#[test]
fn a_valid_template_parses_with_defaults_filled_in() {
    let t = parse("t.toml", MINIMAL).unwrap();
    assert_eq!(t.phases.len(), 1);
    let details = &t.phases[0].tasks[1];
    assert_eq!(details.visibility, Visibility::Customer);
    assert_eq!(details.owner, OwnerSide::Customer);
    assert_eq!(details.priority, Priority::Normal);
    assert_eq!(details.due, Some(DueOffset::BusinessDays(5)));
    assert!(matches!(&details.kind, TaskKind::Form { fields } if fields.len() == 2));
    assert!(matches!(t.phases[0].tasks[0].kind, TaskKind::Meeting { duration_minutes: 45, .. }));
}

#[test]
fn unknown_keys_are_refused_with_their_path_and_line() {
    let text = MINIMAL.replace("duration_minutes = 45", "duration_minutes = 45\ncolour = \"red\"");
    let err = parse("t.toml", &text).unwrap_err();
    let p = &err.problems[0];
    assert!(p.message.contains("colour"), "{err}");
    assert!(p.key.starts_with("phases[0].tasks[0]"), "{err}");
    assert_eq!(p.line, Some(14), "{err}");
    assert!(err.to_string().starts_with("t.toml:14:"), "{err}");
}

#[test]
fn wrong_types_are_refused_with_their_path() {
    let err = problems(&MINIMAL.replace("duration_minutes = 45", "duration_minutes = \"long\""));
    assert_eq!(err.len(), 1);
    assert!(err[0].starts_with("phases[0].tasks[0].duration_minutes: invalid type"), "{err:?}");
}

#[test]
fn duplicate_task_keys_are_refused() {
    let err = problems(
        &MINIMAL
            .replace("key = \"details\"", "key = \"kickoff\"")
            .replace("depends_on = [\"kickoff\"]", ""),
    );
    assert!(
        err.iter()
            .any(|e| e.contains("duplicate task key `kickoff` (also phases[0].tasks[0])")),
        "{err:?}"
    );
}

#[test]
fn dependencies_on_missing_tasks_are_refused() {
    let err = problems(&MINIMAL.replace("depends_on = [\"kickoff\"]", "depends_on = [\"nowhere\"]"));
    assert_eq!(
        err,
        ["phases[0].tasks[1].depends_on: `details` depends on `nowhere`, which no task in this template has"]
    );
}

#[test]
fn dependency_cycles_are_refused_with_the_cycle_spelled_out() {
    let text = MINIMAL.replace("due_in_business_days = 2", "due_in_business_days = 2\ndepends_on = [\"details\"]");
    let err = problems(&text);
    assert!(
        err.iter()
            .any(|e| e.contains("dependency cycle: `kickoff` → `details` → `kickoff`")),
        "{err:?}"
    );
}

#[test]
fn a_task_depending_on_itself_is_a_cycle() {
    let err = problems(&MINIMAL.replace("depends_on = [\"kickoff\"]", "depends_on = [\"details\"]"));
    assert!(err.iter().any(|e| e.contains("dependency cycle: `details` → `details`")), "{err:?}");
}

#[test]
fn settings_of_another_task_type_are_refused() {
    let err = problems(&MINIMAL.replace("duration_minutes = 45", "duration_minutes = 45\nprompt = \"Why?\""));
    assert_eq!(err, ["phases[0].tasks[0].prompt: `prompt` applies only to tasks of type question"]);
}

#[test]
fn a_task_due_before_what_it_waits_for_is_refused() {
    let err = problems(&MINIMAL.replace("due_in_business_days = 5", "due_in_business_days = 1"));
    assert!(err[0].contains("is due (start + 1 business day) before `kickoff`"), "{err:?}");
}

#[test]
fn a_customer_owned_internal_task_is_refused() {
    let err = problems(&MINIMAL.replace("owner = \"customer\"", "owner = \"customer\"\nvisibility = \"internal\""));
    assert!(err[0].contains("internal task cannot be owned by the customer"), "{err:?}");
}

#[test]
fn select_fields_need_options_and_others_must_not_have_them() {
    let err = problems(&MINIMAL.replace("options = [\"1-10\", \"11-50\"]", "options = []"));
    assert_eq!(err, ["phases[0].tasks[1].fields[1].options: a select field needs options"]);
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = MINIMAL
        .replace("depends_on = [\"kickoff\"]", "depends_on = [\"nowhere\"]")
        .replace("duration_minutes = 45", "duration_minutes = 0");
    assert_eq!(problems(&text).len(), 2);
}

#[test]
fn broken_toml_is_reported_with_a_line() {
    let err = parse("t.toml", "name = \"x\"\n[[phases]\n").unwrap_err();
    assert_eq!(err.problems[0].line, Some(2), "{err}");
}

#[test]
fn an_upload_accepting_a_refused_or_unknown_type_is_refused_with_its_line_and_key() {
    let upload =
        |accept: &str| format!("{MINIMAL}\n[[phases.tasks]]\nkey = \"logo\"\ntitle = \"Logo\"\ntype = \"upload\"\naccept = {accept}\n");
    let line = MINIMAL.lines().count() + 6;
    for (accept, bad, why) in [
        (r#"["png", "jpg", "svg"]"#, 2, "script"),
        (r#"["pdf", "pptx"]"#, 1, "cannot check"),
        (r#"["exe"]"#, 0, "not a file type"),
    ] {
        let err = parse("t.toml", &upload(accept)).unwrap_err();
        let p = &err.problems[0];
        assert_eq!(p.key, format!("phases[0].tasks[2].accept[{bad}]"), "{err}");
        assert_eq!(p.line, Some(line), "{err}");
        assert!(p.message.contains(why), "{err}");
        assert!(
            err.to_string()
                .starts_with(&format!("t.toml:{line}: `phases[0].tasks[2].accept[{bad}]`")),
            "{err}"
        );
    }
    // Case and a leading dot do not matter.
    assert!(parse("t.toml", &upload(r#"["PDF", ".jpg"]"#)).is_ok());
}
