//! Workflows against the live field catalogs of their connections: every field a
//! workflow names exists on the trigger's object with a type that fits its use, every
//! picklist value it writes or waits for is one the CRM has, writebacks only target
//! fields the integration may update, and its contact roles (association labels) exist.
//!
//! This is the I/O around the pure checks of the definition module
//! ([`Workflow::validate_against`], [`Workflow::validate_contact_roles`]): it asks each
//! connection (through the `Crm` seam) once per object for its catalog and once for
//! its contact roles, however many workflows use them. `handoff check` prints what it
//! finds; `handoff serve` does not run a workflow found invalid.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::definition::{ContactSource, Problem, Workflow};
use handoff_domain::change::ObjectKind;
use handoff_domain::field_catalog::FieldCatalog;
use handoff_sync::process::Crms;
use handoff_sync::{Crm, CrmError};

/// What live validation found for one workflow.
#[derive(Debug)]
pub enum Verdict {
    /// The connection's catalog was read and the workflow fits it.
    Valid,
    /// The workflow does not fit the connection: it must not run.
    Invalid(Vec<Problem>),
    /// The connection could not be asked (unreachable, rate limited, credentials
    /// refused): the workflow is neither known valid nor invalid.
    Unchecked(Arc<CrmError>),
    /// Its connection is not configured, so it never runs and there is nothing to ask.
    NoConnection,
}

/// The file a workflow was loaded from, as the loader names it in problems.
pub fn workflow_file(dir: &Path, workflow: &Workflow) -> String {
    dir.join(format!("{}.toml", workflow.name)).display().to_string()
}

/// Checks every workflow (loaded from `dir`) against its trigger connection; one
/// verdict per workflow, in order.
pub async fn validate_live(workflows: &[Workflow], dir: &Path, crms: &Crms) -> Vec<Verdict> {
    let mut asked = Asked::default();
    let mut verdicts = Vec::with_capacity(workflows.len());
    for w in workflows {
        let Some(crm) = crms.get(&w.trigger.connection) else {
            verdicts.push(Verdict::NoConnection);
            continue;
        };
        verdicts.push(validate_one(w, &workflow_file(dir, w), crm.as_ref(), &mut asked).await);
    }
    verdicts
}

async fn validate_one(w: &Workflow, file: &str, crm: &dyn Crm, asked: &mut Asked) -> Verdict {
    let catalog = match asked.catalog(crm, w.trigger.object).await {
        Ok(c) => c,
        Err(e) => return Verdict::Unchecked(e),
    };
    let mut problems = w.validate_against(&catalog, file);
    let filters_on_roles = w
        .customers
        .iter()
        .any(|c| matches!(c.from, ContactSource::ContactRoles(_) | ContactSource::AssociationLabels(_)));
    if filters_on_roles {
        let roles = match asked.roles(crm).await {
            Ok(r) => r,
            Err(e) => return Verdict::Unchecked(e),
        };
        let known: Vec<&str> = roles.iter().map(String::as_str).collect();
        problems.extend(w.validate_contact_roles(&known, file));
    }
    if problems.is_empty() {
        Verdict::Valid
    } else {
        Verdict::Invalid(problems)
    }
}

/// Longest wait for one answer: a CRM that does not answer (a black-holed address)
/// must not hold up `handoff serve`'s start or `handoff check` for the connector's
/// full call timeout. A describe answers in a second or two.
const ASK_TIMEOUT: Duration = Duration::from_secs(20);

type Answer<T> = Result<Arc<T>, Arc<CrmError>>;

async fn ask<T>(question: impl std::future::Future<Output = Result<T, CrmError>>) -> Answer<T> {
    match tokio::time::timeout(ASK_TIMEOUT, question).await {
        Ok(answer) => answer.map(Arc::new).map_err(Arc::new),
        Err(_) => Err(Arc::new(CrmError::Unavailable(format!(
            "no answer within {} s",
            ASK_TIMEOUT.as_secs()
        )))),
    }
}

/// What each connection answered during one validation, failures included: a CRM that
/// is down is asked once, not once per workflow.
#[derive(Default)]
struct Asked {
    catalogs: HashMap<(String, ObjectKind), Answer<FieldCatalog>>,
    roles: HashMap<String, Answer<Vec<String>>>,
}

impl Asked {
    async fn catalog(&mut self, crm: &dyn Crm, object: ObjectKind) -> Answer<FieldCatalog> {
        let key = (crm.connection().to_owned(), object);
        if let Some(answer) = self.catalogs.get(&key) {
            return answer.clone();
        }
        let answer = ask(crm.field_catalog(object)).await;
        self.catalogs.insert(key, answer.clone());
        answer
    }

    async fn roles(&mut self, crm: &dyn Crm) -> Answer<Vec<String>> {
        if let Some(answer) = self.roles.get(crm.connection()) {
            return answer.clone();
        }
        let answer = ask(crm.contact_roles_known()).await;
        self.roles.insert(crm.connection().to_owned(), answer.clone());
        answer
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use chrono::{DateTime, Utc};

    use super::*;
    use crate::definition::parse;
    use handoff_domain::change::RecordChange;
    use handoff_domain::connection_health::Budget;
    use handoff_domain::field_catalog::{FieldInfo, FieldKind};
    use handoff_sync::Crm;
    use handoff_sync::crm::{ActivityWrite, BoxFuture, ChangePage, FieldWrite, RowOutcome};

    /// A CRM that answers catalog questions only, counting them.
    struct Fake {
        name: &'static str,
        down: bool,
        catalogs: AtomicUsize,
        roles: AtomicUsize,
    }

    impl Fake {
        fn new(name: &'static str, down: bool) -> Arc<Self> {
            Arc::new(Fake {
                name,
                down,
                catalogs: AtomicUsize::new(0),
                roles: AtomicUsize::new(0),
            })
        }
    }

    fn unused<'a, T: Send + 'a>() -> BoxFuture<'a, Result<T, CrmError>> {
        Box::pin(async { Err(CrmError::Rejected("not in this test".into())) })
    }

    impl Crm for Fake {
        fn connection(&self) -> &str {
            self.name
        }
        fn fetch<'a>(&'a self, _: ObjectKind, _: &'a [String]) -> BoxFuture<'a, Result<Vec<RecordChange>, CrmError>> {
            unused()
        }
        fn changed_since<'a>(
            &'a self,
            _: ObjectKind,
            _: Option<&'a str>,
            _: Option<&'a str>,
        ) -> BoxFuture<'a, Result<ChangePage, CrmError>> {
            unused()
        }
        fn deleted_since<'a>(&'a self, _: ObjectKind, _: DateTime<Utc>) -> BoxFuture<'a, Result<Vec<RecordChange>, CrmError>> {
            unused()
        }
        fn write_fields<'a>(&'a self, _: ObjectKind, _: &'a [FieldWrite]) -> BoxFuture<'a, Result<Vec<RowOutcome>, CrmError>> {
            unused()
        }
        fn log_activities<'a>(&'a self, _: ObjectKind, _: &'a [ActivityWrite]) -> BoxFuture<'a, Result<Vec<RowOutcome>, CrmError>> {
            unused()
        }
        fn activity_logged<'a>(&'a self, _: ObjectKind, _: &'a ActivityWrite, _: DateTime<Utc>) -> BoxFuture<'a, Result<bool, CrmError>> {
            unused()
        }
        fn check_access<'a>(&'a self) -> BoxFuture<'a, Result<String, CrmError>> {
            unused()
        }
        fn field_catalog<'a>(&'a self, _: ObjectKind) -> BoxFuture<'a, Result<FieldCatalog, CrmError>> {
            self.catalogs.fetch_add(1, Ordering::SeqCst);
            let down = self.down;
            Box::pin(async move {
                if down {
                    return Err(CrmError::Unavailable("connection refused".into()));
                }
                let fields = vec![
                    FieldInfo::new("dealname", FieldKind::Text),
                    FieldInfo::new("hs_object_id", FieldKind::Number).read_only(),
                ];
                Ok(FieldCatalog::new("deals", fields))
            })
        }
        fn contact_roles_known<'a>(&'a self) -> BoxFuture<'a, Result<Vec<String>, CrmError>> {
            self.roles.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Ok(vec!["Decision maker".to_owned()]) })
        }
        fn budget(&self) -> Budget {
            Budget::default()
        }
        fn calls_made(&self) -> u64 {
            0
        }
    }

    fn workflow(name: &str, connection: &str, extra: &str) -> Workflow {
        let text = format!(
            "[trigger]\nconnection = \"{connection}\"\nobject = \"deal\"\nevent = \"created\"\n\n[template]\nname = \"saas-onboarding\"\n\n\
             [project]\nname = \"{{{{ dealname }}}}\"\nstart = \"today\"\n{extra}"
        );
        parse(&format!("workflows/{name}.toml"), &text).unwrap_or_else(|e| panic!("{e}"))
    }

    const LABELS: &str = "\n[[customers]]\nassociation_labels = [\"Decision maker\"]\nrole = \"customer_admin\"\ninvite = \"silently\"\n";

    #[tokio::test]
    async fn each_connection_is_asked_once_and_each_workflow_judged() {
        let (up, down) = (Fake::new("up", false), Fake::new("down", true));
        let mut crms = Crms::default();
        crms.insert(up.clone());
        crms.insert(down.clone());
        let bad = "\n[[writeback]]\non = \"status_changed\"\nset = { hs_object_id = \"{{ project.url }}\" }\n";
        let workflows = [
            workflow("good", "up", LABELS),
            workflow("also-good", "up", LABELS),
            workflow("bad", "up", bad),
            workflow("unreachable", "down", ""),
            workflow("elsewhere", "down", ""),
            workflow("unconfigured", "nowhere", ""),
        ];
        let verdicts = validate_live(&workflows, Path::new("workflows"), &crms).await;
        assert!(matches!(verdicts[0], Verdict::Valid), "{verdicts:?}");
        assert!(matches!(verdicts[1], Verdict::Valid), "{verdicts:?}");
        let Verdict::Invalid(problems) = &verdicts[2] else {
            panic!("{verdicts:?}")
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].file, "workflows/bad.toml");
        assert_eq!(problems[0].key, "writeback[0].set.hs_object_id");
        assert!(problems[0].message.contains("read-only"), "{problems:?}");
        assert!(matches!(&verdicts[3], Verdict::Unchecked(e) if e.is_retryable()), "{verdicts:?}");
        assert!(matches!(&verdicts[4], Verdict::Unchecked(_)), "{verdicts:?}");
        assert!(matches!(verdicts[5], Verdict::NoConnection), "{verdicts:?}");
        assert_eq!(up.catalogs.load(Ordering::SeqCst), 1);
        assert_eq!(up.roles.load(Ordering::SeqCst), 1);
        assert_eq!(down.catalogs.load(Ordering::SeqCst), 1, "a CRM that is down is asked once");
        assert_eq!(down.roles.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn an_unknown_association_label_makes_the_workflow_invalid() {
        let up = Fake::new("up", false);
        let mut crms = Crms::default();
        crms.insert(up);
        let workflows = [workflow("labels", "up", &LABELS.replace("Decision maker", "Champion"))];
        let verdicts = validate_live(&workflows, Path::new("workflows"), &crms).await;
        let Verdict::Invalid(problems) = &verdicts[0] else {
            panic!("{verdicts:?}")
        };
        assert_eq!(problems[0].key, "customers[0].association_labels");
        assert!(problems[0].message.contains("`Champion`"), "{problems:?}");
        assert!(problems[0].line.is_some());
    }
}
