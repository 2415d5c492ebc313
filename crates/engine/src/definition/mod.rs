//! Workflow definitions: what a won deal turns into, one TOML file per workflow under
//! `workflows/`, named by the file's stem.
//!
//! A file has a `[trigger]` (which record changes start it), a `[template]` (which
//! project template), a `[project]` (how the project's fields come from the record),
//! `[[customers]]` (which contacts become customer users, with what role and
//! invitation), `removals` and `[[writeback]]` rules (what goes back to the CRM).
//!
//! Like project templates, parsing is strict and reports every problem at once with its
//! file, key and line. A parsed [`Workflow`] is then checked against the connection's
//! live field catalog by [`Workflow::validate_against`]; an invalid workflow never runs.
//! Everything here is pure: matching, template choice and name rendering take a
//! [`RecordChange`] and return data.

mod build;
pub mod explain;

pub mod condition;
mod load;
mod matching;
pub mod placeholder;
mod raw;
mod validate;

use std::collections::BTreeMap;
use std::fmt;

use handoff_domain::ProjectStatus;
use handoff_domain::change::ObjectKind;
use handoff_domain::people::ProjectRole;
use handoff_domain::plan::{InviteMode, Removals};
use handoff_domain::writeback::WritebackEvent;

pub use condition::{Clause, Condition, Mode, Scalar, Test};
pub use explain::TriggerVerdict;
pub use load::{LoadError, load_dir};
pub use matching::HubValues;
pub use placeholder::{Placeholder, ProjectValue, Text};

/// A parsed, self-consistent workflow (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct Workflow {
    /// The file's stem: `salesforce-closed-won`.
    pub name: String,
    pub description: Option<String>,
    pub trigger: Trigger,
    pub template: TemplateChoice,
    pub project: ProjectMapping,
    /// In file order: a contact picked by several sources takes the first one's role.
    pub customers: Vec<CustomerSource>,
    pub removals: Removals,
    pub writeback: Vec<WritebackRule>,
    /// Key path → line in the source, so later checks can point at a line too.
    lines: raw::LineIndex,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Trigger {
    /// The connection's name in the configuration (`salesforce`).
    pub connection: String,
    pub object: ObjectKind,
    pub event: Event,
    pub condition: Option<Condition>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The first state of the record the hub sees.
    Created,
    /// Any change to the record (including the first state seen).
    Updated,
    /// A field changes into a value.
    FieldBecomes { field: String, value: Scalar },
    /// The deal's stage (Salesforce `StageName`, HubSpot `dealstage`) changes into `stage`.
    EntersStage { stage: String },
}

/// The fields a deal's stage lives in, per CRM; the record has one of them.
pub const STAGE_FIELDS: [&str; 2] = ["StageName", "dealstage"];
/// The fields a deal's close date lives in, per CRM.
pub const CLOSE_DATE_FIELDS: [&str; 2] = ["CloseDate", "closedate"];

#[derive(Clone, Debug, PartialEq)]
pub enum TemplateChoice {
    Fixed(String),
    /// The template named by the field's value in `map`, else `default`.
    ByField {
        field: String,
        map: BTreeMap<String, String>,
        default: String,
    },
}

impl TemplateChoice {
    /// Every template name the workflow may pick.
    pub fn names(&self) -> Vec<&str> {
        match self {
            TemplateChoice::Fixed(name) => vec![name.as_str()],
            TemplateChoice::ByField { map, default, .. } => {
                let mut names: Vec<&str> = map.values().map(String::as_str).chain([default.as_str()]).collect();
                names.sort_unstable();
                names.dedup();
                names
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProjectMapping {
    pub name: Text,
    pub start: StartDate,
    pub goal: Option<GoalDate>,
    /// A CRM user lookup field whose user owns the project.
    pub owner_field: Option<String>,
    /// CRM user lookup fields whose users join the project as staff.
    pub team_fields: Vec<String>,
    /// Replaces the template's welcome message.
    pub welcome_message: Option<Text>,
    /// Draft or Active.
    pub initial_status: ProjectStatus,
    /// Project custom field → CRM field.
    pub custom_fields: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartDate {
    /// The deal's close date (`CloseDate`, `closedate`).
    CloseDate,
    Today,
    Field(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GoalDate {
    Field(String),
    DaysAfterStart(u32),
}

#[derive(Clone, Debug, PartialEq)]
pub struct CustomerSource {
    pub from: ContactSource,
    pub role: ProjectRole,
    pub invite: InviteMode,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContactSource {
    /// A lookup field on the record holding a contact id.
    PrimaryContact { field: String },
    /// Salesforce OpportunityContactRoles with one of these roles.
    ContactRoles(Vec<String>),
    /// HubSpot deal–contact associations with one of these labels.
    AssociationLabels(Vec<String>),
    /// Every contact of the record's company.
    CompanyContacts,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WritebackRule {
    pub on: WritebackEvent,
    /// CRM field → value, with hub placeholders.
    pub set: BTreeMap<String, Text>,
    /// How `{{ project.status }}` is written when the CRM has its own words for it
    /// (`active` → `In Progress`). Empty: the status is written as is (`active`). Not
    /// empty: a status it does not list writes nothing, leaving the CRM's value alone
    /// (an archived project need not overwrite "Live").
    pub status_values: Vec<(ProjectStatus, String)>,
    /// A completed CRM activity (Salesforce Task, HubSpot note) on the record.
    pub activity: Option<ActivityTemplate>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ActivityTemplate {
    pub subject: Text,
    pub body: Option<Text>,
}

/// One thing wrong with a workflow: in which file, at which key (`customers[1].role`),
/// on which line when known, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub key: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: `{}`: {}", self.file, self.key, self.message),
            None => write!(f, "{}: `{}`: {}", self.file, self.key, self.message),
        }
    }
}

/// Everything wrong with one workflow file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct WorkflowError {
    pub file: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for WorkflowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.problems.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

/// Parses and checks a workflow; `file` (a path) names it in every problem and gives the
/// workflow its name (the stem).
pub fn parse(file: &str, text: &str) -> Result<Workflow, WorkflowError> {
    let fail = |problems| WorkflowError {
        file: file.to_owned(),
        problems,
    };
    let raw = raw::parse_toml(file, text).map_err(|p| fail(vec![p]))?;
    let lines = raw::LineIndex::build(text);
    let name = workflow_name(file);
    let mut builder = build::Builder::new(file, &lines);
    let workflow = builder.workflow(name, raw);
    match workflow {
        Some(w) if builder.problems.is_empty() => Ok(Workflow { lines, ..w }),
        _ => Err(fail(builder.problems)),
    }
}

/// The stem of the file's name: `workflows/hubspot-closedwon.toml` → `hubspot-closedwon`.
fn workflow_name(file: &str) -> String {
    std::path::Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(file)
        .to_owned()
}

/// Lowercase letters, digits and `-`, as for project templates: names appear in URLs
/// and on the command line (`handoff workflows dry-run NAME`).
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl Workflow {
    fn problem(&self, file: &str, key: &str, message: String) -> Problem {
        Problem {
            file: file.to_owned(),
            key: key.to_owned(),
            line: self.lines.line(key),
            message,
        }
    }

    /// Every CRM field of the record the workflow reads, sorted, so a connection can
    /// ask for them (Salesforce's extra deal fields, HubSpot's `properties`). Stage and
    /// close-date fields are listed for both CRMs; asking for one the CRM lacks is the
    /// caller's to filter.
    pub fn fields_read(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        match &self.trigger.event {
            Event::FieldBecomes { field, .. } => out.push(field.clone()),
            Event::EntersStage { .. } => out.extend(STAGE_FIELDS.map(String::from)),
            Event::Created | Event::Updated => {}
        }
        let clauses = self.trigger.condition.iter().flat_map(|c| &c.clauses);
        out.extend(clauses.map(|c| c.field.clone()));
        if let TemplateChoice::ByField { field, .. } = &self.template {
            out.push(field.clone());
        }
        let p = &self.project;
        let texts = std::iter::once(&p.name).chain(p.welcome_message.as_ref());
        out.extend(texts.flat_map(|t| t.placeholders()).filter_map(|ph| match ph {
            Placeholder::Field(f) => Some(f.clone()),
            _ => None,
        }));
        match &p.start {
            StartDate::Field(f) => out.push(f.clone()),
            StartDate::CloseDate => out.extend(CLOSE_DATE_FIELDS.map(String::from)),
            StartDate::Today => {}
        }
        if let Some(GoalDate::Field(f)) = &p.goal {
            out.push(f.clone());
        }
        out.extend(p.owner_field.iter().chain(&p.team_fields).chain(p.custom_fields.values()).cloned());
        out.extend(self.customers.iter().filter_map(|c| match &c.from {
            ContactSource::PrimaryContact { field } => Some(field.clone()),
            _ => None,
        }));
        out.sort();
        out.dedup();
        out
    }

    /// The CRM user-lookup fields the workflow maps to staff: the owner's first.
    pub fn user_fields(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for f in self.project.owner_field.iter().chain(&self.project.team_fields) {
            if !out.contains(f) {
                out.push(f.clone());
            }
        }
        out
    }

    /// Whether some customer source takes every contact of the record's company.
    pub fn uses_company_contacts(&self) -> bool {
        self.customers.iter().any(|c| c.from == ContactSource::CompanyContacts)
    }

    /// Checks that every template the workflow may pick exists (`names` from the
    /// project template catalog).
    pub fn validate_templates(&self, names: &[&str], file: &str) -> Vec<Problem> {
        let key = match self.template {
            TemplateChoice::Fixed(_) => "template.name",
            TemplateChoice::ByField { .. } => "template.map",
        };
        self.template
            .names()
            .into_iter()
            .filter(|n| !names.contains(n))
            .map(|n| {
                self.problem(
                    file,
                    key,
                    format!("no project template is named `{n}` (known: {})", names.join(", ")),
                )
            })
            .collect()
    }

    /// Checks the contact roles and association labels the workflow filters on against
    /// the ones the CRM has (the OpportunityContactRole `Role` picklist, HubSpot's
    /// deal–contact labels): a misspelt role would silently add nobody.
    pub fn validate_contact_roles(&self, known: &[&str], file: &str) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (i, source) in self.customers.iter().enumerate() {
            let (key, wanted) = match &source.from {
                ContactSource::ContactRoles(r) => ("contact_roles", r),
                ContactSource::AssociationLabels(l) => ("association_labels", l),
                _ => continue,
            };
            for w in wanted.iter().filter(|w| !known.contains(&w.as_str())) {
                let message = format!("the CRM has no contact role or label `{w}` (it has: {})", known.join(", "));
                problems.push(self.problem(file, &format!("customers[{i}].{key}"), message));
            }
        }
        problems
    }
}

/// What the workflows read with each deal, by connection: the adapters read these
/// fields beyond their defaults (and describe the objects their paths go through), the
/// CRM users of their user-lookup fields and, when asked, the company's contacts.
pub fn deal_reads(workflows: &[Workflow]) -> std::collections::HashMap<String, handoff_sync::reads::DealReads> {
    let mut reads: std::collections::HashMap<String, handoff_sync::reads::DealReads> = std::collections::HashMap::new();
    for w in workflows {
        reads
            .entry(w.trigger.connection.clone())
            .or_default()
            .add(w.fields_read(), w.user_fields(), w.uses_company_contacts());
    }
    reads
}

#[cfg(test)]
mod tests;
