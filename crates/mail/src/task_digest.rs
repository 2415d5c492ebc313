//! The console's task emails to a customer member: their open tasks (all of them, or
//! one phase's) or a reminder for one task, each task with its link to the portal.

use serde::Serialize;

use super::render::{TASK_DIGEST_HTML, TASK_DIGEST_TEXT, check_link, present, render};
use super::{MailError, OutgoingEmail};
use handoff_domain::Email;

/// What the email is about; it decides the subject and the opening sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestKind {
    AllOpen,
    /// The phase's name.
    Phase(String),
    /// A reminder for one task (the only one listed).
    Reminder,
}

#[derive(Debug, Clone)]
pub struct DigestTask {
    pub title: String,
    pub phase: String,
    /// As the email shows it ("15 January 2027"), if the task has a due date.
    pub due: Option<String>,
    /// The task's page in the portal (absolute).
    pub url: String,
}

#[derive(Debug, Clone)]
pub struct TaskDigestEmail {
    pub to: Email,
    pub to_name: Option<String>,
    pub product_name: String,
    pub project_name: String,
    /// Who sent it from the console, if a person did.
    pub sender_name: Option<String>,
    pub kind: DigestKind,
    pub tasks: Vec<DigestTask>,
    /// The project's page in the portal (absolute).
    pub project_url: String,
}

#[derive(Serialize)]
struct View<'a> {
    to_name: Option<&'a str>,
    product_name: &'a str,
    project_name: &'a str,
    sender_name: Option<&'a str>,
    heading: String,
    intro: String,
    tasks: Vec<TaskView<'a>>,
    project_url: &'a str,
}

#[derive(Serialize)]
struct TaskView<'a> {
    title: &'a str,
    phase: &'a str,
    due: Option<&'a str>,
    url: &'a str,
}

/// Renders the email. Every link must be an absolute http(s) URL; an email listing no
/// task is refused (the caller sends nothing then).
pub fn render_task_digest(email: &TaskDigestEmail) -> Result<OutgoingEmail, MailError> {
    check_link(&email.project_url)?;
    for task in &email.tasks {
        check_link(&task.url)?;
    }
    let Some(first) = email.tasks.first() else {
        return Err(MailError::InvalidMessage("a task email needs at least one task".into()));
    };
    let project = email.project_name.trim();
    let (subject, heading, intro) = match &email.kind {
        DigestKind::AllOpen => (
            format!("Your open tasks on {project}"),
            "Your open tasks".to_owned(),
            format!("Here is what is still open on {project}."),
        ),
        DigestKind::Phase(phase) => (
            format!("{}: open tasks on {project}", phase.trim()),
            format!("Open tasks in {}", phase.trim()),
            format!("Here is what is still open in the {} phase of {project}.", phase.trim()),
        ),
        DigestKind::Reminder => (
            format!("Reminder: {} ({project})", first.title.trim()),
            "A friendly reminder".to_owned(),
            format!("This task on {project} is still open."),
        ),
    };
    let view = View {
        to_name: present(&email.to_name),
        product_name: email.product_name.trim(),
        project_name: project,
        sender_name: present(&email.sender_name),
        heading,
        intro,
        tasks: email
            .tasks
            .iter()
            .map(|t| TaskView {
                title: t.title.trim(),
                phase: t.phase.trim(),
                due: t.due.as_deref(),
                url: &t.url,
            })
            .collect(),
        project_url: &email.project_url,
    };
    let context = tera::Context::from_serialize(&view).map_err(|e| MailError::Template {
        template: TASK_DIGEST_HTML,
        message: e.to_string(),
    })?;
    Ok(OutgoingEmail {
        to: email.to.clone(),
        to_name: view.to_name.map(str::to_owned),
        subject,
        text: render(TASK_DIGEST_TEXT, &context)?,
        html: render(TASK_DIGEST_HTML, &context)?,
        message_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(kind: DigestKind) -> TaskDigestEmail {
        TaskDigestEmail {
            to: Email::parse("dana@acme.example").unwrap(),
            to_name: Some("Dana".into()),
            product_name: "handoff".into(),
            project_name: "Acme <onboarding>".into(),
            sender_name: Some("Sam Staff".into()),
            kind,
            tasks: vec![
                DigestTask {
                    title: "Sign the contract".into(),
                    phase: "Getting started".into(),
                    due: Some("15 January 2027".into()),
                    url: "https://hub.example.com/projects/p/tasks/sign-contract".into(),
                },
                DigestTask {
                    title: "Company profile".into(),
                    phase: "Setup".into(),
                    due: None,
                    url: "https://hub.example.com/projects/p/tasks/company-profile".into(),
                },
            ],
            project_url: "https://hub.example.com/projects/p".into(),
        }
    }

    #[test]
    fn both_parts_list_every_task_with_its_link_and_the_html_escapes() {
        let out = render_task_digest(&email(DigestKind::Phase("Setup".into()))).unwrap();
        assert_eq!(out.subject, "Setup: open tasks on Acme <onboarding>");
        for part in [&out.text, &out.html] {
            assert_eq!(
                part.matches("https://hub.example.com/projects/p/tasks/sign-contract").count(),
                1,
                "{part}"
            );
            assert_eq!(
                part.matches("https://hub.example.com/projects/p/tasks/company-profile").count(),
                1,
                "{part}"
            );
            assert!(part.contains("15 January 2027"), "{part}");
            assert!(part.contains("Sam Staff"), "{part}");
        }
        assert!(out.html.contains("Acme &lt;onboarding&gt;") && !out.html.contains("Acme <onboarding>"));
        assert!(out.text.contains("Acme <onboarding>"));
    }

    #[test]
    fn a_reminder_names_its_task_in_the_subject_and_an_empty_list_is_refused() {
        let out = render_task_digest(&email(DigestKind::Reminder)).unwrap();
        assert_eq!(out.subject, "Reminder: Sign the contract (Acme <onboarding>)");
        let mut empty = email(DigestKind::AllOpen);
        empty.tasks.clear();
        assert!(matches!(render_task_digest(&empty), Err(MailError::InvalidMessage(_))));
        let mut bad = email(DigestKind::AllOpen);
        bad.tasks[0].url = "javascript:alert(1)".into();
        assert!(render_task_digest(&bad).is_err());
    }
}
