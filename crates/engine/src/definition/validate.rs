//! Checking a workflow against the connection's field catalog: every field it names
//! exists, has a type that fits its use, every literal picklist value is one the CRM
//! has, and writebacks only target fields the integration may update.

use super::condition::{Scalar, Test, date_of};
use super::placeholder::{Placeholder, ProjectValue, Text};
use super::{CLOSE_DATE_FIELDS, ContactSource, Event, GoalDate, Problem, STAGE_FIELDS, StartDate, TemplateChoice, Workflow, WritebackRule};
use handoff_domain::change::ObjectKind;
use handoff_domain::field_catalog::{FieldCatalog, FieldInfo, FieldKind};

/// Salesforce's object for the org's users, which owner and team lookups point at.
const USER_OBJECT: &str = "User";

struct Check<'a> {
    workflow: &'a Workflow,
    catalog: &'a FieldCatalog,
    file: &'a str,
    problems: Vec<Problem>,
}

impl Workflow {
    /// Every problem with this workflow on the connection whose `catalog` describes the
    /// trigger's object; empty when the workflow may run.
    pub fn validate_against(&self, catalog: &FieldCatalog, file: &str) -> Vec<Problem> {
        let mut c = Check {
            workflow: self,
            catalog,
            file,
            problems: Vec::new(),
        };
        c.object();
        c.trigger();
        c.template();
        c.project();
        c.customers();
        for (i, rule) in self.writeback.iter().enumerate() {
            c.writeback(&format!("writeback[{i}]"), rule);
        }
        c.problems
    }
}

impl Check<'_> {
    fn problem(&mut self, key: &str, message: String) {
        self.problems.push(self.workflow.problem(self.file, key, message));
    }

    fn object(&mut self) {
        let wanted = self.workflow.trigger.object;
        if ObjectKind::from_crm(&self.catalog.object) != Some(wanted) {
            let message = format!("the field catalog is for `{}`, not a {}", self.catalog.object, wanted.as_str());
            self.problem("trigger.object", message);
        }
    }

    /// The field, or a problem naming it as unknown.
    fn field(&mut self, key: &str, name: &str) -> Option<&FieldInfo> {
        let found = self.catalog.get(name);
        if found.is_none() {
            let message = format!("{} has no field `{name}`", self.catalog.object);
            self.problems.push(self.workflow.problem(self.file, key, message));
        }
        found
    }

    /// A field read through a path (`Account.Name`): the lookup is checked, not the field
    /// on the other object, which this catalog does not describe.
    fn path(&mut self, key: &str, path: &str) {
        if self.catalog.resolve(path).is_none() {
            self.problem(key, format!("{} has no field `{path}`", self.catalog.object));
        }
    }

    fn kind_is(&mut self, key: &str, field: &FieldInfo, allowed: &[FieldKind], use_: &str) {
        if !allowed.contains(&field.kind) {
            let names: Vec<&str> = allowed.iter().map(|k| k.as_str()).collect();
            let message = format!(
                "`{}` is a {} field; {use_} needs {}",
                field.name,
                field.kind.as_str(),
                names.join(" or ")
            );
            self.problem(key, message);
        }
    }

    /// A user-lookup field must point at the CRM's users: one pointing elsewhere (a
    /// team field set to a Partner__c → Account lookup) would have every poll ask for
    /// the Account's Email, which it does not have. Only Salesforce describes targets;
    /// HubSpot's user lookups are its owner properties, which point at owners.
    fn points_at_users(&mut self, key: &str, field: &FieldInfo) {
        let Some(lookup) = self.catalog.relationships.values().find(|r| r.lookup == field.name) else {
            return;
        };
        if !lookup.points_to.is_empty() && !lookup.points_to.iter().any(|o| o == USER_OBJECT) {
            let message = format!(
                "`{}` looks up {}; a CRM user lookup must point at {USER_OBJECT}",
                field.name,
                lookup.points_to.join(" or ")
            );
            self.problem(key, message);
        }
    }

    /// A literal value for a field, as a filter or a trigger value.
    fn literal(&mut self, key: &str, field: &FieldInfo, value: &Scalar) {
        if let Some(reason) = literal_problem(field, value) {
            self.problem(key, reason);
        }
    }

    fn trigger(&mut self) {
        let t = &self.workflow.trigger;
        match &t.event {
            Event::Created | Event::Updated => {}
            Event::FieldBecomes { field, value } => {
                if let Some(f) = self.field("trigger.field", field).cloned() {
                    self.literal("trigger.value", &f, value);
                }
            }
            Event::EntersStage { stage } => match STAGE_FIELDS.iter().find_map(|n| self.catalog.get(n)).cloned() {
                Some(f) => self.literal("trigger.stage", &f, &Scalar::Text(stage.clone())),
                None => {
                    let message = format!("{} has no stage field ({})", self.catalog.object, STAGE_FIELDS.join(" or "));
                    self.problem("trigger.stage", message);
                }
            },
        }
        let Some(condition) = &t.condition else { return };
        let list = match condition.mode {
            super::Mode::All => "all",
            super::Mode::Any => "any",
        };
        for (i, clause) in condition.clauses.iter().enumerate() {
            let at = format!("trigger.condition.{list}[{i}]");
            let Some(f) = self.field(&format!("{at}.field"), &clause.field).cloned() else {
                continue;
            };
            if matches!(clause.test, Test::Gt(_) | Test::Lt(_)) && !(f.kind.is_numeric() || f.kind.is_temporal()) {
                let message = format!("`{}` is a {} field; gt and lt compare numbers and dates", f.name, f.kind.as_str());
                self.problem(&format!("{at}.op"), message);
                continue;
            }
            let values_key = if matches!(clause.test, Test::In(_) | Test::NotIn(_)) {
                "values"
            } else {
                "value"
            };
            for value in clause.test.values() {
                self.literal(&format!("{at}.{values_key}"), &f, value);
            }
        }
    }

    fn template(&mut self) {
        let TemplateChoice::ByField { field, map, .. } = &self.workflow.template else {
            return;
        };
        let Some(f) = self.field("template.by_field", field).cloned() else {
            return;
        };
        self.kind_is(
            "template.by_field",
            &f,
            &[FieldKind::Picklist, FieldKind::Text, FieldKind::Other],
            "choosing a template",
        );
        if f.kind == FieldKind::Picklist {
            for value in map.keys().filter(|v| !f.options.contains(v)) {
                let message = format!("`{value}` is not a value of `{}` ({})", f.name, f.options.join(", "));
                self.problem(&format!("template.map.{value}"), message);
            }
        }
    }

    fn record_text(&mut self, key: &str, text: &Text) {
        for p in text.placeholders() {
            if let Placeholder::Field(path) = p {
                self.path(key, path);
            }
        }
    }

    fn date_field(&mut self, key: &str, name: &str, use_: &str) {
        if let Some(f) = self.field(key, name).cloned() {
            self.kind_is(key, &f, &[FieldKind::Date, FieldKind::Datetime], use_);
        }
    }

    fn project(&mut self) {
        let p = &self.workflow.project;
        self.record_text("project.name", &p.name);
        if let Some(w) = &p.welcome_message {
            self.record_text("project.welcome_message", w);
        }
        match &p.start {
            StartDate::Today => {}
            StartDate::Field(f) => self.date_field("project.start", f, "the start date"),
            StartDate::CloseDate => {
                if !CLOSE_DATE_FIELDS.iter().any(|n| self.catalog.get(n).is_some()) {
                    let message = format!("{} has no close date ({})", self.catalog.object, CLOSE_DATE_FIELDS.join(" or "));
                    self.problem("project.start", message);
                }
            }
        }
        if let Some(GoalDate::Field(f)) = &p.goal {
            self.date_field("project.goal", f, "the goal date");
        }
        let users = p.owner_field.iter().map(|f| ("project.owner_field".to_owned(), f));
        let team = p
            .team_fields
            .iter()
            .enumerate()
            .map(|(i, f)| (format!("project.team_fields[{i}]"), f));
        for (key, name) in users.chain(team).collect::<Vec<_>>() {
            if let Some(f) = self.field(&key, name).cloned() {
                self.kind_is(&key, &f, &[FieldKind::Reference], "a CRM user lookup");
                self.points_at_users(&key, &f);
            }
        }
        for (custom, crm_field) in &p.custom_fields {
            self.path(&format!("project.custom_fields.{custom}"), crm_field);
        }
    }

    fn customers(&mut self) {
        for (i, source) in self.workflow.customers.iter().enumerate() {
            if let ContactSource::PrimaryContact { field } = &source.from {
                let key = format!("customers[{i}].primary_contact");
                if let Some(f) = self.field(&key, field).cloned() {
                    self.kind_is(&key, &f, &[FieldKind::Reference], "a contact lookup");
                }
            }
        }
    }

    fn writeback(&mut self, at: &str, rule: &WritebackRule) {
        for (name, text) in &rule.set {
            let key = format!("{at}.set.{name}");
            let Some(f) = self.field(&key, name).cloned() else { continue };
            if !f.updateable {
                self.problem(
                    &key,
                    format!("`{name}` is read-only in {}: handoff cannot write it", self.catalog.object),
                );
                continue;
            }
            self.set_value(&key, &f, text, rule);
        }
        for (status, word) in &rule.status_values {
            let targets: Vec<FieldInfo> = rule
                .set
                .iter()
                .filter(|(_, t)| t.single() == Some(&Placeholder::Project(ProjectValue::Status)))
                .filter_map(|(n, _)| self.catalog.get(n).cloned())
                .filter(|f| f.kind == FieldKind::Picklist && !f.options.contains(word))
                .collect();
            for f in targets {
                let message = format!("`{word}` is not a value of `{}` ({})", f.name, f.options.join(", "));
                self.problem(&format!("{at}.status_values.{status}"), message);
            }
        }
    }

    /// The value written to a field must fit its type: literals are checked like
    /// trigger values; a lone placeholder by what it holds; mixed text only goes to text.
    fn set_value(&mut self, key: &str, f: &FieldInfo, text: &Text, rule: &WritebackRule) {
        use FieldKind as K;
        if let Some(literal) = text.literal() {
            return self.literal(key, f, &Scalar::Text(literal.to_owned()));
        }
        let (allowed, what): (&[FieldKind], &str) = match text.single() {
            Some(Placeholder::Project(ProjectValue::Progress)) => (&[K::Number, K::Percent, K::Text, K::Other], "a percentage"),
            Some(Placeholder::Project(ProjectValue::Status)) => (&[K::Picklist, K::Text, K::Other], "the project status"),
            Some(Placeholder::Project(ProjectValue::Url)) => (&[K::Url, K::Text, K::Other], "a link"),
            Some(Placeholder::Project(ProjectValue::StartDate | ProjectValue::GoalDate)) => {
                (&[K::Date, K::Datetime, K::Text, K::Other], "a date")
            }
            _ => (&[K::Text, K::Other], "free text"),
        };
        if !allowed.contains(&f.kind) {
            let message = format!(
                "`{}` is a {} field and cannot hold {what} (`{}`)",
                f.name,
                f.kind.as_str(),
                text.as_str()
            );
            return self.problem(key, message);
        }
        if f.kind == K::Picklist && text.single() == Some(&Placeholder::Project(ProjectValue::Status)) && rule.status_values.is_empty() {
            let message = format!(
                "`{}` is a picklist ({}): say which of its values each project status writes, in `status_values`",
                f.name,
                f.options.join(", ")
            );
            self.problem(key, message);
        }
    }
}

/// Why a literal cannot be a value of the field, if it cannot.
fn literal_problem(field: &FieldInfo, value: &Scalar) -> Option<String> {
    let text = value.to_text();
    let name = &field.name;
    match field.kind {
        FieldKind::Picklist if !field.options.contains(&text) => {
            Some(format!("`{text}` is not a value of `{name}` ({})", field.options.join(", ")))
        }
        FieldKind::Number | FieldKind::Percent if text.trim().parse::<f64>().is_err() => {
            Some(format!("`{name}` is a {} field; `{text}` is not a number", field.kind.as_str()))
        }
        FieldKind::Boolean if !matches!(text.as_str(), "true" | "false") => {
            Some(format!("`{name}` is a boolean field; `{text}` is not true or false"))
        }
        FieldKind::Date | FieldKind::Datetime if date_of(&text).is_none() => Some(format!(
            "`{name}` is a {} field; `{text}` is not a date (YYYY-MM-DD)",
            field.kind.as_str()
        )),
        _ => None,
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
