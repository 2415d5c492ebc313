//! Applying a workflow to a record change: does it fire, which template, what name,
//! which customers, which dates, and what a writeback says.

use chrono::{Days, NaiveDate};
use serde_json::Value;

use super::condition::date_of;
use super::placeholder::{Placeholder, ProjectValue, field_value, value_text};
use super::{CLOSE_DATE_FIELDS, ContactSource, GoalDate, StartDate, TemplateChoice, Workflow, WritebackRule};
use handoff_domain::ProjectStatus;
use handoff_domain::change::{ContactRole, RecordChange};
use handoff_domain::people::ProjectRole;
use handoff_domain::plan::InviteMode;

impl Workflow {
    /// Whether this change starts the workflow. `previous` is the last state of the same
    /// record the hub saw, if any.
    ///
    /// `field_becomes` and `enters_stage` fire on the change *into* the value, not on
    /// every later edit while the record stays there. With no previous state, a record
    /// already at the value counts as having become it: the hub often first sees a record
    /// after the fact (a webhook lost and caught by the poll, a workflow added after the
    /// deal was won, a backfill), and ignoring it would silently drop a won deal. Firing
    /// twice is harmless, as the engine keeps one project per (workflow, record).
    pub fn matches(&self, change: &RecordChange, previous: Option<&RecordChange>) -> bool {
        self.explain(change, previous) == super::explain::TriggerVerdict::Fires
    }

    /// The project template for this record.
    pub fn template_for(&self, change: &RecordChange) -> &str {
        match &self.template {
            TemplateChoice::Fixed(name) => name,
            TemplateChoice::ByField { field, map, default } => field_value(change, field)
                .and_then(value_text)
                .and_then(|v| map.get(v.trim()))
                .unwrap_or(default),
        }
    }

    /// The project's name from the record; never empty (a record whose fields are all
    /// missing is still a deal someone must find).
    pub fn render_project_name(&self, change: &RecordChange) -> String {
        let name = self.project.name.render(|p| record_value(change, p));
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            format!("{} {}", change.object.as_str(), change.external_id)
        } else {
            name
        }
    }

    /// The welcome message override, rendered, if the workflow has one.
    pub fn render_welcome_message(&self, change: &RecordChange) -> Option<String> {
        let text = self.project.welcome_message.as_ref()?;
        Some(text.render(|p| record_value(change, p)))
    }

    /// The customers the record's own contacts give, with their project role and invite
    /// mode. Company contacts are not part of a record change; see
    /// [`Workflow::customers_with_company`].
    pub fn customers(&self, change: &RecordChange) -> Vec<(ContactRole, ProjectRole, InviteMode)> {
        self.customers_with_company(change, &[])
    }

    /// As [`Workflow::customers`], with the company's contacts read by the caller. A
    /// contact picked by several sources takes the first source's role and invite mode,
    /// so the file's order is its priority.
    pub fn customers_with_company(
        &self,
        change: &RecordChange,
        company_contacts: &[ContactRole],
    ) -> Vec<(ContactRole, ProjectRole, InviteMode)> {
        let mut out: Vec<(ContactRole, ProjectRole, InviteMode)> = Vec::new();
        for source in &self.customers {
            let picked: Vec<ContactRole> = match &source.from {
                ContactSource::PrimaryContact { field } => primary_contact(change, field).into_iter().collect(),
                ContactSource::ContactRoles(wanted) | ContactSource::AssociationLabels(wanted) => change
                    .contacts
                    .iter()
                    .filter(|c| c.roles.iter().any(|r| wanted.iter().any(|w| w.eq_ignore_ascii_case(r.trim()))))
                    .cloned()
                    .collect(),
                ContactSource::CompanyContacts => company_contacts.to_vec(),
            };
            for contact in picked {
                if !out.iter().any(|(c, _, _)| c.external_id == contact.external_id) {
                    out.push((contact, source.role, source.invite));
                }
            }
        }
        out
    }

    /// The project's custom fields from the record, each as the CRM gives it (a
    /// number stays a number); null when the record lacks the field.
    pub fn custom_field_values(&self, change: &RecordChange) -> std::collections::BTreeMap<String, Value> {
        self.project
            .custom_fields
            .iter()
            .map(|(name, field)| (name.clone(), field_value(change, field).cloned().unwrap_or(Value::Null)))
            .collect()
    }

    /// The project's start date; `today` when the field is missing or not a date.
    pub fn start_date(&self, change: &RecordChange, today: NaiveDate) -> NaiveDate {
        let from_field = |names: &[&str]| names.iter().find_map(|f| date_field(change, f));
        match &self.project.start {
            StartDate::Today => None,
            StartDate::CloseDate => from_field(&CLOSE_DATE_FIELDS),
            StartDate::Field(f) => from_field(&[f.as_str()]),
        }
        .unwrap_or(today)
    }

    /// The project's goal date, if the workflow sets one and the record has it.
    pub fn goal_date(&self, change: &RecordChange, start: NaiveDate) -> Option<NaiveDate> {
        match self.project.goal.as_ref()? {
            GoalDate::Field(f) => date_field(change, f),
            GoalDate::DaysAfterStart(d) => start.checked_add_days(Days::new(u64::from(*d))),
        }
    }
}

/// The deal's stage, in whichever CRM's field the record has.
fn date_field(change: &RecordChange, field: &str) -> Option<NaiveDate> {
    match field_value(change, field)? {
        Value::String(s) => date_of(s),
        _ => None,
    }
}

fn record_value(change: &RecordChange, p: &Placeholder) -> Option<String> {
    match p {
        Placeholder::Field(path) => field_value(change, path).and_then(value_text),
        Placeholder::CompanyName => change.company.as_ref()?.name.clone(),
        Placeholder::CompanyId => change.company.as_ref().map(|c| c.external_id.clone()),
        Placeholder::RecordId => Some(change.external_id.clone()),
        _ => None,
    }
}

/// The contact the field points at: from the record's contacts when it is one of them,
/// else only its id, for the caller to read.
fn primary_contact(change: &RecordChange, field: &str) -> Option<ContactRole> {
    let id = field_value(change, field).and_then(value_text).filter(|s| !s.trim().is_empty())?;
    let known = change.contacts.iter().find(|c| c.external_id == id);
    Some(known.cloned().unwrap_or(ContactRole {
        external_id: id,
        email: None,
        first_name: None,
        last_name: None,
        title: None,
        roles: Vec::new(),
        is_primary: true,
    }))
}

/// The hub's side of a writeback: the project as it now stands, and the task or phase
/// the event is about.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HubValues {
    pub status: Option<ProjectStatus>,
    pub progress: Option<u8>,
    pub url: Option<String>,
    pub current_phase: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub goal_date: Option<NaiveDate>,
    pub task_title: Option<String>,
    pub phase_name: Option<String>,
}

impl WritebackRule {
    fn hub_value(&self, hub: &HubValues, p: &Placeholder) -> Option<String> {
        match p {
            Placeholder::Project(v) => match v {
                ProjectValue::Status => {
                    let status = hub.status?;
                    if self.status_values.is_empty() {
                        return Some(status.as_str().to_owned());
                    }
                    self.status_values.iter().find(|(s, _)| *s == status).map(|(_, word)| word.clone())
                }
                ProjectValue::Progress => hub.progress.map(|p| p.to_string()),
                ProjectValue::Url => hub.url.clone(),
                ProjectValue::CurrentPhase => hub.current_phase.clone(),
                ProjectValue::StartDate => hub.start_date.map(|d| d.to_string()),
                ProjectValue::GoalDate => hub.goal_date.map(|d| d.to_string()),
            },
            Placeholder::TaskTitle => hub.task_title.clone(),
            Placeholder::PhaseName => hub.phase_name.clone(),
            _ => None,
        }
    }

    /// The field updates, each value typed: a lone `{{ project.progress }}` is a number.
    /// A value the hub does not have yet (no goal date) is left out rather than written
    /// empty, which would clear the CRM's field.
    pub fn render_fields(&self, hub: &HubValues) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        for (field, text) in &self.set {
            if let Some(p) = text.single() {
                let Some(v) = self.hub_value(hub, p) else { continue };
                let typed = match (p, hub.progress) {
                    (Placeholder::Project(ProjectValue::Progress), Some(n)) => Value::from(n),
                    _ => Value::String(v),
                };
                out.push((field.clone(), typed));
            } else {
                out.push((field.clone(), Value::String(text.render(|p| self.hub_value(hub, p)))));
            }
        }
        out
    }

    /// The activity's subject and body, rendered.
    pub fn render_activity(&self, hub: &HubValues) -> Option<(String, String)> {
        let a = self.activity.as_ref()?;
        let body = a.body.as_ref().map(|b| b.render(|p| self.hub_value(hub, p))).unwrap_or_default();
        Some((a.subject.render(|p| self.hub_value(hub, p)), body))
    }
}
