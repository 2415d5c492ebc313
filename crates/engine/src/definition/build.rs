//! From the raw file to a [`Workflow`]: every check that needs nothing but the file.

use std::collections::BTreeMap;

use super::condition::{Clause, Condition, Mode, Test};
use super::placeholder::{Placeholder, Text};
use super::raw::{self, LineIndex, RawClause, RawEvent, RawOp};
use super::{
    ActivityTemplate, ContactSource, CustomerSource, Event, GoalDate, ProjectMapping, StartDate, TemplateChoice, Trigger, Workflow,
    WritebackRule, is_valid_name,
};
use handoff_domain::ProjectStatus;
use handoff_domain::change::ObjectKind;
use handoff_domain::people::UserKind;
use handoff_domain::plan::InviteMode;
use handoff_domain::writeback::WritebackEvent;

pub(super) struct Builder<'a> {
    file: &'a str,
    lines: &'a LineIndex,
    pub problems: Vec<super::Problem>,
}

/// Where a text is used decides which placeholders it may hold.
#[derive(Clone, Copy)]
enum Side {
    /// Project name and welcome message: the CRM record's fields, its company, its id.
    Record,
    /// Writebacks: the hub's project, plus the task or phase the event is about.
    Hub(WritebackEvent),
}

impl<'a> Builder<'a> {
    pub fn new(file: &'a str, lines: &'a LineIndex) -> Self {
        Builder {
            file,
            lines,
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, key: impl Into<String>, message: impl Into<String>) {
        let key = key.into();
        self.problems.push(super::Problem {
            file: self.file.to_owned(),
            line: self.lines.line(&key),
            key,
            message: message.into(),
        });
    }

    pub fn workflow(&mut self, name: String, raw: raw::RawWorkflow) -> Option<Workflow> {
        if !is_valid_name(&name) {
            self.problem(
                "(file)",
                format!("`{name}` cannot name a workflow: use lowercase letters, digits and `-` in the file name"),
            );
        }
        let trigger = self.trigger(raw.trigger);
        let template = self.template(raw.template);
        let project = self.project(raw.project);
        let customers = self.customers(raw.customers, project.as_ref().map(|p| p.initial_status));
        let writeback = raw
            .writeback
            .into_iter()
            .enumerate()
            .map(|(i, w)| self.writeback(i, w))
            .collect::<Option<_>>();
        Some(Workflow {
            name,
            description: raw.description,
            trigger: trigger?,
            template: template?,
            project: project?,
            customers,
            removals: raw.removals.unwrap_or_default(),
            writeback: writeback?,
            lines: LineIndex::default(),
        })
    }

    fn non_empty(&mut self, key: &str, value: &str) {
        if value.trim().is_empty() {
            self.problem(key, "must not be empty");
        }
    }

    fn trigger(&mut self, raw: raw::RawTrigger) -> Option<Trigger> {
        self.non_empty("trigger.connection", &raw.connection);
        let wants_field_value = raw.event == RawEvent::FieldBecomes;
        let wants_stage = raw.event == RawEvent::EntersStage;
        for (key, present, allowed) in [
            ("field", raw.field.is_some(), wants_field_value),
            ("value", raw.value.is_some(), wants_field_value),
            ("stage", raw.stage.is_some(), wants_stage),
        ] {
            if present && !allowed {
                let owner = if key == "stage" { "enters_stage" } else { "field_becomes" };
                self.problem(format!("trigger.{key}"), format!("`{key}` applies only to event = \"{owner}\""));
            }
        }
        if wants_stage && raw.object != ObjectKind::Deal {
            self.problem("trigger.event", "only deals have stages: use field_becomes for other objects");
        }
        let event = match raw.event {
            RawEvent::Created => Event::Created,
            RawEvent::Updated => Event::Updated,
            RawEvent::FieldBecomes => match (raw.field, raw.value) {
                (Some(field), Some(value)) => {
                    self.non_empty("trigger.field", &field);
                    Event::FieldBecomes { field, value }
                }
                _ => {
                    self.problem("trigger.event", "field_becomes needs `field` and `value`");
                    return None;
                }
            },
            RawEvent::EntersStage => match raw.stage {
                Some(stage) => {
                    self.non_empty("trigger.stage", &stage);
                    Event::EntersStage { stage }
                }
                None => {
                    self.problem("trigger.event", "enters_stage needs `stage` (e.g. \"closedwon\" or \"Closed Won\")");
                    return None;
                }
            },
        };
        let condition = raw.condition.and_then(|c| self.condition(c));
        Some(Trigger {
            connection: raw.connection,
            object: raw.object,
            event,
            condition,
        })
    }

    fn condition(&mut self, raw: raw::RawCondition) -> Option<Condition> {
        let (mode, clauses, key) = match (raw.all, raw.any) {
            (Some(all), None) => (Mode::All, all, "trigger.condition.all"),
            (None, Some(any)) => (Mode::Any, any, "trigger.condition.any"),
            _ => {
                self.problem(
                    "trigger.condition",
                    "give either `all` or `any` (a list of tests), not both or neither",
                );
                return None;
            }
        };
        if clauses.is_empty() {
            self.problem(key, "a condition needs at least one test");
        }
        let clauses = clauses
            .into_iter()
            .enumerate()
            .filter_map(|(i, c)| self.clause(&format!("{key}[{i}]"), c))
            .collect();
        Some(Condition { mode, clauses })
    }

    fn clause(&mut self, at: &str, raw: RawClause) -> Option<Clause> {
        self.non_empty(&format!("{at}.field"), &raw.field);
        let one = |b: &mut Self, v: Option<super::Scalar>, extra: bool| {
            if extra {
                b.problem(format!("{at}.values"), "this operator takes one `value`, not `values`");
            }
            if v.is_none() {
                b.problem(format!("{at}.value"), "this operator needs a `value`");
            }
            v
        };
        let test = match raw.op {
            RawOp::Eq => Test::Eq(one(self, raw.value, raw.values.is_some())?),
            RawOp::Ne => Test::Ne(one(self, raw.value, raw.values.is_some())?),
            RawOp::Gt => Test::Gt(one(self, raw.value, raw.values.is_some())?),
            RawOp::Lt => Test::Lt(one(self, raw.value, raw.values.is_some())?),
            RawOp::In | RawOp::NotIn => {
                if raw.value.is_some() {
                    self.problem(format!("{at}.value"), "in and not_in take a list: `values = [...]`");
                }
                let Some(values) = raw.values.filter(|v| !v.is_empty()) else {
                    self.problem(format!("{at}.values"), "in and not_in need a non-empty `values` list");
                    return None;
                };
                if raw.op == RawOp::In {
                    Test::In(values)
                } else {
                    Test::NotIn(values)
                }
            }
            RawOp::IsSet => {
                if raw.value.is_some() || raw.values.is_some() {
                    self.problem(format!("{at}.op"), "is_set takes no value");
                }
                Test::IsSet
            }
        };
        Some(Clause { field: raw.field, test })
    }

    fn template_name(&mut self, key: &str, name: &str) {
        if !is_valid_name(name) {
            self.problem(key, format!("`{name}` is not a template name (lowercase letters, digits and `-`)"));
        }
    }

    fn template(&mut self, raw: raw::RawTemplate) -> Option<TemplateChoice> {
        match (raw.name, raw.by_field) {
            (Some(name), None) => {
                for (key, present) in [("map", raw.map.is_some()), ("default", raw.default.is_some())] {
                    if present {
                        self.problem(
                            format!("template.{key}"),
                            format!("`{key}` goes with `by_field`, not with a fixed `name`"),
                        );
                    }
                }
                self.template_name("template.name", &name);
                Some(TemplateChoice::Fixed(name))
            }
            (None, Some(field)) => {
                self.non_empty("template.by_field", &field);
                let map = raw.map.unwrap_or_default();
                for (value, name) in &map {
                    self.template_name(&format!("template.map.{value}"), name);
                }
                let Some(default) = raw.default else {
                    self.problem(
                        "template.default",
                        "by_field needs a `default` for records whose value is missing or not in `map`",
                    );
                    return None;
                };
                self.template_name("template.default", &default);
                Some(TemplateChoice::ByField { field, map, default })
            }
            _ => {
                self.problem("template", "give either a fixed `name` or `by_field` with `map` and `default`");
                None
            }
        }
    }

    /// Parses a text and checks that its placeholders belong where it is used.
    fn text(&mut self, key: &str, source: &str, side: Side) -> Option<Text> {
        let text = match Text::parse(source) {
            Ok(t) => t,
            Err(message) => {
                self.problem(key, message);
                return None;
            }
        };
        for p in text.placeholders() {
            let allowed = match (side, p) {
                (Side::Record, Placeholder::Field(_) | Placeholder::CompanyName | Placeholder::CompanyId | Placeholder::RecordId) => true,
                (Side::Record, _) => false,
                (Side::Hub(_), Placeholder::Project(_)) => true,
                (Side::Hub(on), Placeholder::TaskTitle) => on == WritebackEvent::TaskCompleted,
                (Side::Hub(on), Placeholder::PhaseName) => on == WritebackEvent::PhaseCompleted,
                (Side::Hub(_), _) => false,
            };
            if !allowed {
                let why = match side {
                    Side::Record => "here only the record's fields, company.name, company.id and record.id are known".to_owned(),
                    Side::Hub(on) => format!("a writeback on {} knows project.* values{}", on.as_str(), hub_extra(on)),
                };
                self.problem(key, format!("unknown placeholder `{{{{ {p} }}}}`: {why}"));
            }
        }
        Some(text)
    }

    fn project(&mut self, raw: raw::RawProject) -> Option<ProjectMapping> {
        let name = self.text("project.name", &raw.name, Side::Record);
        if raw.name.trim().is_empty() {
            self.problem("project.name", "a project needs a name");
        }
        let start = match raw.start.trim() {
            "close_date" => StartDate::CloseDate,
            "today" => StartDate::Today,
            "" => {
                self.problem("project.start", "give \"close_date\", \"today\" or a date field");
                StartDate::Today
            }
            field => StartDate::Field(field.to_owned()),
        };
        let goal = match raw.goal {
            None => None,
            Some(raw::RawGoal::Field(f)) if !f.trim().is_empty() => Some(GoalDate::Field(f)),
            Some(raw::RawGoal::Days(d)) if (1..=3650).contains(&d) => u32::try_from(d).ok().map(GoalDate::DaysAfterStart),
            Some(_) => {
                self.problem("project.goal", "give a date field, or a number of days after the start (1 to 3650)");
                None
            }
        };
        let initial_status = raw.initial_status.unwrap_or(ProjectStatus::Draft);
        if !matches!(initial_status, ProjectStatus::Draft | ProjectStatus::Active) {
            self.problem("project.initial_status", "a new project starts as draft or active");
        }
        let welcome_message = match raw.welcome_message {
            Some(w) => Some(self.text("project.welcome_message", &w, Side::Record)?),
            None => None,
        };
        for (i, f) in raw.team_fields.iter().enumerate() {
            self.non_empty(&format!("project.team_fields[{i}]"), f);
        }
        Some(ProjectMapping {
            name: name?,
            start,
            goal,
            owner_field: raw.owner_field,
            team_fields: raw.team_fields,
            welcome_message,
            initial_status,
            custom_fields: raw.custom_fields,
        })
    }

    fn customers(&mut self, raw: Vec<raw::RawCustomers>, status: Option<ProjectStatus>) -> Vec<CustomerSource> {
        let mut out = Vec::with_capacity(raw.len());
        for (i, c) in raw.into_iter().enumerate() {
            let at = format!("customers[{i}]");
            if !c.role.fits(UserKind::Customer) {
                self.problem(
                    format!("{at}.role"),
                    format!(
                        "`{}` is a staff role; customers are customer_admin, customer_member or customer_viewer",
                        c.role
                    ),
                );
            }
            if c.invite == InviteMode::Now && status == Some(ProjectStatus::Draft) {
                self.problem(
                    format!("{at}.invite"),
                    "a draft project sends no invitations: use \"when_active\", or start the project active",
                );
            }
            let mut sources = Vec::new();
            if let Some(field) = c.primary_contact {
                sources.push(ContactSource::PrimaryContact { field });
            }
            if let Some(roles) = c.contact_roles {
                self.list_not_empty(&format!("{at}.contact_roles"), &roles);
                sources.push(ContactSource::ContactRoles(roles));
            }
            if let Some(labels) = c.association_labels {
                self.list_not_empty(&format!("{at}.association_labels"), &labels);
                sources.push(ContactSource::AssociationLabels(labels));
            }
            match c.company_contacts {
                Some(true) => sources.push(ContactSource::CompanyContacts),
                Some(false) => self.problem(format!("{at}.company_contacts"), "leave it out instead of setting it to false"),
                None => {}
            }
            if sources.len() != 1 {
                self.problem(
                    at.clone(),
                    "give exactly one of primary_contact, contact_roles, association_labels or company_contacts",
                );
                continue;
            }
            let from = sources.remove(0);
            out.push(CustomerSource {
                from,
                role: c.role,
                invite: c.invite,
            });
        }
        out
    }

    fn list_not_empty(&mut self, key: &str, list: &[String]) {
        if list.is_empty() || list.iter().any(|s| s.trim().is_empty()) {
            self.problem(key, "list at least one role or label, none of them empty");
        }
    }

    fn writeback(&mut self, i: usize, raw: raw::RawWriteback) -> Option<WritebackRule> {
        let at = format!("writeback[{i}]");
        let side = Side::Hub(raw.on);
        let raw_set = raw.set.unwrap_or_default();
        if raw_set.is_empty() && raw.activity.is_none() {
            self.problem(at.clone(), "a writeback sets fields (`set`), creates an `activity`, or both");
        }
        let mut set = BTreeMap::new();
        for (field, value) in raw_set {
            if let Some(text) = self.text(&format!("{at}.set.{field}"), &value, side) {
                set.insert(field, text);
            }
        }
        let status_values = self.status_values(&at, raw.status_values.unwrap_or_default());
        let activity = match raw.activity {
            Some(a) => {
                self.non_empty(&format!("{at}.activity.subject"), &a.subject);
                let subject = self.text(&format!("{at}.activity.subject"), &a.subject, side)?;
                let body = match a.body {
                    Some(b) => Some(self.text(&format!("{at}.activity.body"), &b, side)?),
                    None => None,
                };
                Some(ActivityTemplate { subject, body })
            }
            None => None,
        };
        Some(WritebackRule {
            on: raw.on,
            set,
            status_values,
            activity,
        })
    }

    fn status_values(&mut self, at: &str, raw: BTreeMap<String, String>) -> Vec<(ProjectStatus, String)> {
        let mut out = Vec::new();
        for (status, value) in raw {
            match status.parse::<ProjectStatus>() {
                Ok(s) => out.push((s, value)),
                Err(e) => self.problem(format!("{at}.status_values.{status}"), e.to_string()),
            }
        }
        out
    }
}

fn hub_extra(on: WritebackEvent) -> &'static str {
    match on {
        WritebackEvent::TaskCompleted => " and task.title",
        WritebackEvent::PhaseCompleted => " and phase.name",
        WritebackEvent::ProgressChanged | WritebackEvent::StatusChanged => "",
    }
}
