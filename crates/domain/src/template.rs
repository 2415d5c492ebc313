//! Project templates: phases of ordered tasks, parsed from TOML and validated.
//!
//! Parsing is strict (unknown keys and wrong types are refused) and validation reports
//! every problem at once, each with the key it is about, so an admin fixes a template
//! in one pass instead of one error per run.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::Key;
use super::schedule::DueOffset;
use super::task::{DefaultAssignee, FieldType, FormField, OwnerSide, Priority, TaskKind, Visibility};

/// A validated template.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Template {
    pub name: String,
    pub description: Option<String>,
    pub welcome_message: Option<String>,
    /// Self-service projects (training, setup guides) are listed first in the portal.
    pub self_service: bool,
    pub phases: Vec<PhaseTemplate>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhaseTemplate {
    pub key: Key,
    pub name: String,
    pub description: Option<String>,
    pub tasks: Vec<TaskTemplate>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TaskTemplate {
    pub key: Key,
    pub title: String,
    pub description: Option<String>,
    pub kind: TaskKind,
    pub visibility: Visibility,
    pub owner: OwnerSide,
    pub priority: Priority,
    pub assignee: Option<DefaultAssignee>,
    pub due: Option<DueOffset>,
    pub depends_on: Vec<Key>,
}

impl Template {
    pub fn tasks(&self) -> impl Iterator<Item = &TaskTemplate> {
        self.phases.iter().flat_map(|p| p.tasks.iter())
    }
}

/// One thing wrong with a template, at a key path such as `phases[1].tasks[3].depends_on`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub line: Option<usize>,
    pub message: String,
}

/// Everything wrong with one template file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct TemplateError {
    pub file: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            match p.line {
                Some(line) => write!(f, "{}:{line}: `{}`: {}", self.file, p.key, p.message)?,
                None => write!(f, "{}: `{}`: {}", self.file, p.key, p.message)?,
            }
        }
        Ok(())
    }
}

// ---- the file format -----------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    name: String,
    description: Option<String>,
    welcome_message: Option<String>,
    #[serde(default)]
    self_service: bool,
    #[serde(default)]
    phases: Vec<RawPhase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    key: Key,
    name: String,
    description: Option<String>,
    #[serde(default)]
    tasks: Vec<RawTask>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum RawKind {
    Todo,
    Form,
    Upload,
    Question,
    Approval,
    Meeting,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    key: Key,
    title: String,
    description: Option<String>,
    #[serde(rename = "type")]
    kind: RawKind,
    visibility: Option<Visibility>,
    owner: Option<OwnerSide>,
    priority: Option<Priority>,
    assignee: Option<DefaultAssignee>,
    due_in_days: Option<u32>,
    due_in_business_days: Option<u32>,
    #[serde(default)]
    depends_on: Vec<Key>,
    // Settings of particular task types; each is refused on other types.
    fields: Option<Vec<RawField>>,
    accept: Option<Vec<AcceptName>>,
    max_files: Option<u32>,
    prompt: Option<String>,
    subject: Option<String>,
    duration_minutes: Option<u32>,
    agenda: Option<String>,
}

/// One entry of an upload task's `accept`: a name of [`crate::file_type::ACCEPT_NAMES`].
/// Refused while the file is read, so the message has the entry's line and key
/// (`phases[1].tasks[2].accept[1]`), like a wrong type: a template asking for a kind the
/// upload check always refuses (`svg`) would give customers a task they cannot do.
struct AcceptName(String);

impl<'de> Deserialize<'de> for AcceptName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        match crate::file_type::refusal(&name) {
            Some(why) => Err(serde::de::Error::custom(why)),
            None => Ok(AcceptName(name)),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    key: Key,
    label: String,
    #[serde(rename = "type")]
    field_type: FieldType,
    #[serde(default)]
    required: bool,
    help: Option<String>,
    #[serde(default)]
    options: Vec<String>,
}

/// Parse and validate a template. `file` names the source in every message.
pub fn parse(file: &str, text: &str) -> Result<Template, TemplateError> {
    let raw = parse_toml(text).map_err(|problem| TemplateError {
        file: file.to_owned(),
        problems: vec![problem],
    })?;
    let mut v = Validator::default();
    let template = v.template(raw);
    if v.problems.is_empty() {
        Ok(template)
    } else {
        Err(TemplateError {
            file: file.to_owned(),
            problems: v.problems,
        })
    }
}

fn parse_toml(text: &str) -> Result<RawTemplate, Problem> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let de = toml::de::Deserializer::parse(text).map_err(|e| Problem {
        key: String::from("(file)"),
        line: e.span().map(|s| line_of(s.start)),
        message: e.message().to_owned(),
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        Problem {
            key: if key == "." { String::from("(top level)") } else { key },
            line: inner.span().map(|s| line_of(s.start)),
            message: inner.message().to_owned(),
        }
    })
}

#[derive(Default)]
struct Validator {
    problems: Vec<Problem>,
}

impl Validator {
    fn problem(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            key: key.into(),
            line: None,
            message: message.into(),
        });
    }

    fn template(&mut self, raw: RawTemplate) -> Template {
        if raw.name.trim().is_empty() {
            self.problem("name", "a template needs a name");
        }
        if raw.phases.is_empty() {
            self.problem("phases", "a template needs at least one phase");
        }
        let mut phase_keys = HashMap::new();
        let mut phases = Vec::with_capacity(raw.phases.len());
        for (p, raw_phase) in raw.phases.into_iter().enumerate() {
            let at = format!("phases[{p}]");
            if let Some(first) = phase_keys.insert(raw_phase.key.clone(), p) {
                self.problem(
                    format!("{at}.key"),
                    format!("duplicate phase key `{}` (also phases[{first}])", raw_phase.key),
                );
            }
            if raw_phase.tasks.is_empty() {
                self.problem(format!("{at}.tasks"), "a phase needs at least one task");
            }
            let tasks = raw_phase
                .tasks
                .into_iter()
                .enumerate()
                .map(|(t, raw_task)| self.task(&format!("{at}.tasks[{t}]"), raw_task))
                .collect();
            phases.push(PhaseTemplate {
                key: raw_phase.key,
                name: raw_phase.name,
                description: raw_phase.description,
                tasks,
            });
        }
        let template = Template {
            name: raw.name,
            description: raw.description,
            welcome_message: raw.welcome_message,
            self_service: raw.self_service,
            phases,
        };
        self.dependencies(&template);
        template
    }

    fn task(&mut self, at: &str, raw: RawTask) -> TaskTemplate {
        let visibility = raw.visibility.unwrap_or(Visibility::Customer);
        let owner = raw.owner.unwrap_or(OwnerSide::Staff);
        if visibility == Visibility::Internal && owner == OwnerSide::Customer {
            self.problem(
                format!("{at}.owner"),
                "an internal task cannot be owned by the customer, who never sees it",
            );
        }
        if raw.assignee == Some(DefaultAssignee::PrimaryContact) && owner == OwnerSide::Staff {
            self.problem(
                format!("{at}.assignee"),
                "a staff-owned task cannot default to the customer's primary contact",
            );
        }
        let due = match (raw.due_in_days, raw.due_in_business_days) {
            (Some(_), Some(_)) => {
                self.problem(format!("{at}.due_in_days"), "give due_in_days or due_in_business_days, not both");
                None
            }
            (Some(d), None) => Some(DueOffset::CalendarDays(d)),
            (None, Some(d)) => Some(DueOffset::BusinessDays(d)),
            (None, None) => None,
        };
        let kind = self.kind(at, &raw);
        TaskTemplate {
            key: raw.key,
            title: raw.title,
            description: raw.description,
            kind,
            visibility,
            owner,
            priority: raw.priority.unwrap_or(Priority::Normal),
            assignee: raw.assignee,
            due,
            depends_on: raw.depends_on,
        }
    }

    /// Turns the type and its settings into a [`TaskKind`], refusing settings that
    /// belong to another type (a `prompt` on an upload is a mistake, not a no-op).
    fn kind(&mut self, at: &str, raw: &RawTask) -> TaskKind {
        let settings: [(&str, bool, RawKind); 7] = [
            ("fields", raw.fields.is_some(), RawKind::Form),
            ("accept", raw.accept.is_some(), RawKind::Upload),
            ("max_files", raw.max_files.is_some(), RawKind::Upload),
            ("prompt", raw.prompt.is_some(), RawKind::Question),
            ("subject", raw.subject.is_some(), RawKind::Approval),
            ("duration_minutes", raw.duration_minutes.is_some(), RawKind::Meeting),
            ("agenda", raw.agenda.is_some(), RawKind::Meeting),
        ];
        for (name, present, belongs_to) in settings {
            if present && raw.kind != belongs_to {
                let owner_type = belongs_to_name(belongs_to);
                self.problem(
                    format!("{at}.{name}"),
                    format!("`{name}` applies only to tasks of type {owner_type}"),
                );
            }
        }
        match raw.kind {
            RawKind::Todo => TaskKind::Todo,
            RawKind::Form => TaskKind::Form {
                fields: self.fields(at, raw.fields.as_deref().unwrap_or_default()),
            },
            RawKind::Upload => {
                let accept: Vec<String> = raw.accept.iter().flatten().map(|a| a.0.clone()).collect();
                if accept.is_empty() {
                    self.problem(
                        format!("{at}.accept"),
                        "an upload task must list the file types it accepts, e.g. [\"pdf\", \"png\"]",
                    );
                }
                TaskKind::Upload {
                    accept,
                    max_files: raw.max_files.unwrap_or(10).max(1),
                }
            }
            RawKind::Question => {
                let prompt = raw.prompt.clone().unwrap_or_default();
                if prompt.trim().is_empty() {
                    self.problem(format!("{at}.prompt"), "a question task needs a prompt");
                }
                TaskKind::Question { prompt }
            }
            RawKind::Approval => TaskKind::Approval {
                subject: raw.subject.clone().unwrap_or_else(|| raw.title.clone()),
            },
            RawKind::Meeting => {
                let duration_minutes = raw.duration_minutes.unwrap_or(30);
                if duration_minutes == 0 {
                    self.problem(format!("{at}.duration_minutes"), "a meeting lasts at least one minute");
                }
                TaskKind::Meeting {
                    duration_minutes,
                    agenda: raw.agenda.clone(),
                }
            }
        }
    }

    fn fields(&mut self, at: &str, raw: &[RawField]) -> Vec<FormField> {
        if raw.is_empty() {
            self.problem(format!("{at}.fields"), "a form task needs at least one field");
        }
        let mut seen = HashSet::new();
        let mut fields = Vec::with_capacity(raw.len());
        for (i, f) in raw.iter().enumerate() {
            let fat = format!("{at}.fields[{i}]");
            if !seen.insert(f.key.clone()) {
                self.problem(format!("{fat}.key"), format!("duplicate field key `{}`", f.key));
            }
            match (f.field_type, f.options.is_empty()) {
                (FieldType::Select, true) => self.problem(format!("{fat}.options"), "a select field needs options"),
                (t, false) if t != FieldType::Select => self.problem(format!("{fat}.options"), "only select fields have options"),
                _ => {}
            }
            fields.push(FormField {
                key: f.key.clone(),
                label: f.label.clone(),
                field_type: f.field_type,
                required: f.required,
                help: f.help.clone(),
                options: f.options.clone(),
            });
        }
        fields
    }

    /// Task keys must be unique; dependencies must name existing tasks, form no cycle,
    /// and not be due after the task that waits for them.
    fn dependencies(&mut self, template: &Template) {
        let mut index: HashMap<&Key, (usize, usize)> = HashMap::new();
        for (p, phase) in template.phases.iter().enumerate() {
            for (t, task) in phase.tasks.iter().enumerate() {
                if let Some((fp, ft)) = index.insert(&task.key, (p, t)) {
                    self.problem(
                        format!("phases[{p}].tasks[{t}].key"),
                        format!("duplicate task key `{}` (also phases[{fp}].tasks[{ft}])", task.key),
                    );
                }
            }
        }
        let by_key: HashMap<&Key, &TaskTemplate> = template.tasks().map(|t| (&t.key, t)).collect();
        for (p, phase) in template.phases.iter().enumerate() {
            for (t, task) in phase.tasks.iter().enumerate() {
                let at = format!("phases[{p}].tasks[{t}].depends_on");
                for dep in &task.depends_on {
                    match by_key.get(dep) {
                        None => self.problem(
                            &at,
                            format!("`{}` depends on `{dep}`, which no task in this template has", task.key),
                        ),
                        Some(d) => {
                            if let (Some(mine), Some(theirs)) = (task.due, d.due)
                                && same_unit(mine, theirs)
                                && mine.approx_calendar_days() < theirs.approx_calendar_days()
                            {
                                self.problem(
                                    &at,
                                    format!("`{}` is due ({mine}) before `{dep}`, which it waits for ({theirs})", task.key),
                                );
                            }
                        }
                    }
                }
            }
        }
        if let Some(cycle) = find_cycle(template) {
            let path: Vec<_> = cycle.iter().map(|k| format!("`{k}`")).collect();
            let (p, t) = index.get(&cycle[0]).copied().unwrap_or_default();
            self.problem(
                format!("phases[{p}].tasks[{t}].depends_on"),
                format!("dependency cycle: {}", path.join(" → ")),
            );
        }
    }
}

fn belongs_to_name(kind: RawKind) -> &'static str {
    match kind {
        RawKind::Todo => "todo",
        RawKind::Form => "form",
        RawKind::Upload => "upload",
        RawKind::Question => "question",
        RawKind::Approval => "approval",
        RawKind::Meeting => "meeting",
    }
}

fn same_unit(a: DueOffset, b: DueOffset) -> bool {
    std::mem::discriminant(&a) == std::mem::discriminant(&b)
}

/// A dependency cycle as a path of keys that ends where it starts, if there is one.
fn find_cycle(template: &Template) -> Option<Vec<Key>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let deps: HashMap<&Key, &[Key]> = template.tasks().map(|t| (&t.key, t.depends_on.as_slice())).collect();
    let mut marks: HashMap<&Key, Mark> = deps.keys().map(|k| (*k, Mark::New)).collect();
    // Iterative depth-first search, so a long chain cannot overflow the stack.
    for start in template.tasks().map(|t| &t.key) {
        if marks.get(start) != Some(&Mark::New) {
            continue;
        }
        let mut path: Vec<(&Key, usize)> = vec![(start, 0)];
        marks.insert(start, Mark::OnPath);
        while let Some((node, next)) = path.last_mut() {
            let node_deps = deps.get(*node).copied().unwrap_or_default();
            let Some(dep) = node_deps.get(*next) else {
                marks.insert(*node, Mark::Done);
                path.pop();
                continue;
            };
            *next += 1;
            match marks.get(dep) {
                Some(Mark::OnPath) => {
                    let from = path.iter().position(|(k, _)| *k == dep).unwrap_or(0);
                    let mut cycle: Vec<Key> = path[from..].iter().map(|(k, _)| (*k).clone()).collect();
                    cycle.push(dep.clone());
                    return Some(cycle);
                }
                Some(Mark::New) => {
                    marks.insert(dep, Mark::OnPath);
                    path.push((dep, 0));
                }
                // Done, or a missing task (reported separately).
                _ => {}
            }
        }
    }
    None
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
