//! The Tasks tab's phases and rows, rendered once and kept in memory, so showing a
//! 200-task project costs one small query and a copy instead of four queries and a
//! render of every row.
//!
//! The rows (console/_task_phases.html) depend on nothing but the project and the day:
//! no session data (the CSRF token sits in one form outside them), and the due-date
//! flags ("overdue", "due soon") are relative to today. Everything else they show —
//! tasks, statuses, dependencies, phases, assignees' names — bumps the project's
//! `page_version` through triggers (migrations 0014 and 0018). So a rendered list is
//! labelled with the version read *before* its data was loaded and the day it was
//! rendered on, and is served only while both still hold; the argument for why that is
//! never stale is the portal's (portal/page_cache.rs). Each process keeps its own and
//! checks it against the shared version.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::NaiveDate;
use serde::Serialize;

use super::pages::render_fragment;
use super::project_frame::{ProjectFrame, ProjectTab};
use super::tasks::TaskRow;
use crate::WebState;
use crate::page_error::{PageError, PageResult};
use crate::versioned::Versioned;
use handoff_domain::ProjectId;

/// How many projects' lists a process keeps: a 200-task list is some 120 KB, so this
/// bounds the cache near 25 MB.
const CAPACITY: usize = 200;

/// One project's Tasks tab, less what depends on the visitor.
#[derive(Debug)]
pub struct TaskList {
    /// The day the due-date flags were computed for.
    day: NaiveDate,
    pub project_name: String,
    pub frame: ProjectFrame,
    /// console/_task_phases.html, rendered.
    pub phases_html: String,
}

#[derive(Clone)]
pub struct TaskListCache {
    inner: Arc<Mutex<Versioned<TaskList>>>,
    /// How many lists were rendered (a hit renders none): for tests and diagnostics.
    renders: Arc<AtomicU64>,
}

impl Default for TaskListCache {
    fn default() -> Self {
        Self {
            inner: Arc::new(Mutex::new(Versioned::with_capacity(CAPACITY))),
            renders: Arc::default(),
        }
    }
}

impl std::fmt::Debug for TaskListCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskListCache").field("projects", &self.lock().len()).finish()
    }
}

#[derive(Serialize)]
struct PhaseView {
    name: String,
    completed: usize,
    total: usize,
    tasks: Vec<TaskRow>,
}

#[derive(Serialize)]
struct Phases {
    phases: Vec<PhaseView>,
}

impl TaskListCache {
    /// The Tasks tab of `project` as of now, from memory when it is current; not found
    /// if there is no such project.
    pub async fn get(&self, state: &WebState, project: ProjectId, today: NaiveDate) -> PageResult<Arc<TaskList>> {
        let version = state.store.project_page_version(project).await?.ok_or(PageError::NotFound)?;
        if let Some(list) = self.lock().current(project, version).filter(|l| l.day == today) {
            return Ok(list);
        }
        let list = Arc::new(render(state, project, today, &HashSet::new()).await?);
        self.lock().keep(project, version, Arc::clone(&list));
        Ok(list)
    }

    /// How many lists have been rendered since the process started.
    pub fn renders(&self) -> u64 {
        self.renders.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, Versioned<TaskList>> {
        // Every step leaves the map consistent, so a panic elsewhere while it was held
        // does not make it unusable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The Tasks tab of `project` with the `selected` tasks ticked, rendered from the
/// database now (a refused bulk reassignment shows its ticks again this way; it is not
/// kept).
pub async fn render(state: &WebState, project: ProjectId, today: NaiveDate, selected: &HashSet<String>) -> PageResult<TaskList> {
    state.console_tasks.renders.fetch_add(1, Ordering::Relaxed);
    let details = state.store.project_details(project).await?.ok_or(PageError::NotFound)?;
    let names = state.store.task_assignee_names(project).await?;
    let phases = details
        .phases
        .iter()
        .map(|phase| {
            let progress = details.phase_progress(phase);
            PhaseView {
                name: phase.name.clone(),
                completed: progress.completed,
                total: progress.total,
                tasks: details
                    .tasks_in(phase)
                    .map(|t| TaskRow {
                        selected: selected.contains(t.key.as_str()),
                        ..TaskRow::of(&details, t, &names, today)
                    })
                    .collect(),
            }
        })
        .collect();
    let phases_html = render_fragment("console/_task_phases.html", &Phases { phases })?;
    let frame = ProjectFrame::of(&details, ProjectTab::Tasks);
    Ok(TaskList {
        day: today,
        frame,
        project_name: details.project.name,
        phases_html,
    })
}
