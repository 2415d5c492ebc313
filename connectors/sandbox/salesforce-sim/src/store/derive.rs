//! Fields Salesforce fills in itself: defaults on create, formula-like fields (Name, IsClosed,
//! IsWon, Probability, Task.AccountId) and the one-primary-contact-role rule.

use serde_json::Value;

use super::{Record, Store};
use crate::schema::{FieldType, STAGES};

impl Store {
    pub(crate) fn fill_defaults(&self, object: usize, rec: &mut Record, actor: &str) {
        let obj = &self.schema.objects[object];
        for f in &obj.fields {
            if rec.fields.contains_key(&f.name) || !f.createable {
                continue;
            }
            if f.ftype == FieldType::Boolean {
                let default = obj.name == "User" && f.name == "IsActive";
                rec.fields.insert(f.name.clone(), Value::Bool(default));
            }
        }
        let mut set = |name: &str, v: Value| {
            rec.fields.entry(name.to_string()).or_insert(v);
        };
        match obj.name.as_str() {
            "Account" | "Contact" | "Opportunity" | "Task" => set("OwnerId", Value::String(actor.to_string())),
            _ => {}
        }
        if obj.name == "Task" {
            set("Status", Value::String("Not Started".into()));
            set("Priority", Value::String("Normal".into()));
        }
        if obj.name == "User" {
            let last = rec.text("LastName").unwrap_or("user").to_ascii_lowercase();
            rec.fields
                .entry("Alias".into())
                .or_insert(Value::String(last.chars().take(8).collect()));
        }
    }

    /// Recomputes derived fields; `before` is the previous version on update.
    pub(crate) fn derive(&self, object: usize, rec: &mut Record, before: Option<&Record>) {
        match self.schema.objects[object].name.as_str() {
            "Contact" | "User" => {
                let name = [rec.text("FirstName"), rec.text("LastName")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                rec.fields.insert("Name".into(), Value::String(name));
            }
            "Opportunity" => derive_stage(rec, before),
            "Task" => {
                let closed = rec.text("Status") == Some("Completed");
                rec.fields.insert("IsClosed".into(), Value::Bool(closed));
                let account = self.task_account(rec);
                match account {
                    Some(a) => rec.fields.insert("AccountId".into(), Value::String(a)),
                    None => rec.fields.remove("AccountId"),
                };
            }
            _ => {}
        }
    }

    /// A task's account: its WhatId when that is an account, the opportunity's account, or the contact's.
    fn task_account(&self, rec: &Record) -> Option<String> {
        if let Some(what) = rec.text("WhatId") {
            let (o, r) = self.by_id(what)?;
            return match self.schema.objects[o].name.as_str() {
                "Account" => Some(r.id.clone()),
                _ => r.text("AccountId").map(str::to_string),
            };
        }
        let who = rec.text("WhoId")?;
        self.by_id(who)?.1.text("AccountId").map(str::to_string)
    }

    /// Side effects on other records after a write: only one primary contact role per opportunity.
    pub(crate) fn after_write(&mut self, object: usize, rec: &Record, actor: &str) {
        if self.schema.objects[object].name != "OpportunityContactRole" {
            return;
        }
        if rec.fields.get("IsPrimary") != Some(&Value::Bool(true)) {
            return;
        }
        let Some(opp) = rec.text("OpportunityId") else { return };
        let others: Vec<String> = self
            .children(object, "OpportunityId", opp)
            .filter(|r| r.id != rec.id && r.deleted_ms.is_none() && r.fields.get("IsPrimary") == Some(&Value::Bool(true)))
            .map(|r| r.id.clone())
            .collect();
        for id in others {
            let mut body = serde_json::Map::new();
            body.insert("IsPrimary".into(), Value::Bool(false));
            if let Ok(values) = self.prepare_update(object, &id, &body) {
                let _ = self.apply_update(object, &id, values, actor);
            }
        }
    }
}

fn derive_stage(rec: &mut Record, before: Option<&Record>) {
    let stage = rec.text("StageName").unwrap_or("").to_string();
    let Some((_, probability, closed, won)) = STAGES.iter().find(|s| s.0 == stage) else {
        return;
    };
    let stage_changed = before.is_none_or(|b| b.text("StageName") != Some(stage.as_str()));
    let probability_given = before.map_or(rec.fields.contains_key("Probability"), |b| {
        b.fields.get("Probability") != rec.fields.get("Probability")
    });
    // Like Salesforce: a stage change resets the probability unless the same write sets one.
    if stage_changed && !probability_given {
        rec.fields.insert("Probability".into(), Value::from(*probability));
    }
    rec.fields.insert("IsClosed".into(), Value::Bool(*closed));
    rec.fields.insert("IsWon".into(), Value::Bool(*won));
}
