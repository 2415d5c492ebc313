//! `/console/projects`: every project, by name, with its company, status, progress,
//! owner, goal date and overdue tasks; filtered by status and owner, searched by the
//! project's or the company's name, and paged by a keyset cursor (`?after=`), 50 a page.
//! The filters live in the store's query (`Store::console_projects`); this module reads
//! them from the address and shows the page.

use axum::extract::{Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::pages::{Section, render};
use super::session::Staff;
use crate::WebState;
use crate::page_error::{PageError, PageResult};
use handoff_domain::{ProjectStatus, UserId};
use handoff_store::{ProjectCursor, ProjectFilter, ProjectListing};

/// Projects on one page of the list.
pub(super) const PAGE_SIZE: u32 = 50;

/// The list's address query as sent; every field optional, an empty one meaning "any".
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl ListQuery {
    /// The filter it asks for, or what in it is not right.
    fn filter(&self) -> Result<ProjectFilter, PageError> {
        let status = given(&self.status)
            .map(str::parse::<ProjectStatus>)
            .transpose()
            .map_err(|e| PageError::BadRequest(e.to_string()))?;
        let owner = given(&self.owner)
            .map(str::parse::<UserId>)
            .transpose()
            .map_err(|_| PageError::BadRequest("The owner filter does not name a staff member.".into()))?;
        let after = given(&self.after)
            .map(|a| {
                ProjectCursor::parse(a)
                    .ok_or_else(|| PageError::BadRequest("This page link is not valid; start again from the first page.".into()))
            })
            .transpose()?;
        Ok(ProjectFilter {
            status,
            owner,
            search: given(&self.q).map(str::to_owned),
            after,
        })
    }

    /// The list's address with these filters, starting after `after`.
    fn href(&self, after: Option<&ProjectCursor>) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [("status", &self.status), ("owner", &self.owner), ("q", &self.q)] {
            if let Some(v) = given(value) {
                query.append_pair(name, v);
            }
        }
        if let Some(cursor) = after {
            query.append_pair("after", &cursor.token());
        }
        let query = query.finish();
        if query.is_empty() {
            "/console/projects".to_owned()
        } else {
            format!("/console/projects?{query}")
        }
    }

    fn is_filtered(&self) -> bool {
        [&self.status, &self.owner, &self.q].into_iter().any(|v| given(v).is_some())
    }
}

/// A project as a line of the list or the dashboard shows it.
#[derive(Debug, Serialize)]
pub(super) struct ListingView {
    href: String,
    name: String,
    company: Option<String>,
    status: &'static str,
    percent: u8,
    completed: usize,
    total: usize,
    owner: Option<String>,
    /// The signed-in staff member owns it.
    mine: bool,
    goal_date: Option<NaiveDate>,
    overdue: u64,
}

impl ListingView {
    pub(super) fn of(listing: &ProjectListing, me: &Staff) -> Self {
        let project = &listing.project;
        ListingView {
            href: format!("/console/projects/{}", project.id),
            name: project.name.clone(),
            company: project.company_name.clone(),
            status: project.status.as_str(),
            percent: listing.progress.percent(),
            completed: listing.progress.completed,
            total: listing.progress.total,
            owner: listing.owner.as_ref().map(|o| o.name.clone()),
            mine: listing.owner.as_ref().is_some_and(|o| o.id == me.id()),
            goal_date: project.goal_date,
            overdue: listing.overdue_tasks,
        }
    }
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct ListPage {
    projects: Vec<ListingView>,
    statuses: Vec<Choice>,
    owners: Vec<Choice>,
    q: String,
    filtered: bool,
    /// The first page of the same filters, shown past the first page.
    first_href: Option<String>,
    next_href: Option<String>,
    clear_href: &'static str,
}

/// The day tasks are overdue before: today, in UTC (the server's clock).
pub(super) fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// `GET /console/projects`.
pub(super) async fn list(State(state): State<WebState>, me: Staff, Query(query): Query<ListQuery>) -> PageResult<Response> {
    let filter = query.filter()?;
    let page = state.store.console_projects(&filter, today(), PAGE_SIZE).await?;
    let staff = state.store.staff_accounts().await?;
    let statuses = ProjectStatus::ALL
        .iter()
        .map(|s| Choice {
            value: s.as_str().to_owned(),
            label: capitalized(s.as_str()),
            selected: filter.status == Some(*s),
        })
        .collect();
    let owners = staff
        .iter()
        .map(|a| Choice {
            value: a.user.id.to_string(),
            label: if a.is_active() {
                a.user.display_name()
            } else {
                format!("{} (revoked)", a.user.display_name())
            },
            selected: filter.owner == Some(a.user.id),
        })
        .collect();
    let body = ListPage {
        projects: page.projects.iter().map(|p| ListingView::of(p, &me)).collect(),
        statuses,
        owners,
        q: given(&query.q).unwrap_or_default().to_owned(),
        filtered: query.is_filtered(),
        first_href: filter.after.is_some().then(|| query.href(None)),
        next_href: page.next.as_ref().map(|c| query.href(Some(c))),
        clear_href: "/console/projects",
    };
    render(&state, "console/projects.html", "Projects", Some(&me), Section::Projects, &body)
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_keeps_the_filters_and_drops_empty_ones() {
        let query = ListQuery {
            status: Some("active".into()),
            owner: Some(String::new()),
            q: Some("acme & co".into()),
            after: None,
        };
        assert_eq!(query.href(None), "/console/projects?status=active&q=acme+%26+co");
        assert_eq!(ListQuery::default().href(None), "/console/projects");
        assert!(query.is_filtered());
        assert!(!ListQuery::default().is_filtered());
    }

    #[test]
    fn a_bad_filter_is_a_bad_request() {
        for query in [
            ListQuery {
                status: Some("live".into()),
                ..ListQuery::default()
            },
            ListQuery {
                owner: Some("sam".into()),
                ..ListQuery::default()
            },
            ListQuery {
                after: Some("junk".into()),
                ..ListQuery::default()
            },
        ] {
            assert!(matches!(query.filter(), Err(PageError::BadRequest(_))), "{query:?}");
        }
    }
}
