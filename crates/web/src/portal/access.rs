//! One project as the signed-in person may see it: its page model (from the page
//! cache, see [`super::page_cache`]) and their role in it, or not found — a project
//! that is not theirs does not exist for them.

use std::sync::Arc;

use super::page_cache::ProjectPage;
use super::session::Customer;
use crate::WebState;
use crate::page_error::{PageError, PageResult};
use handoff_domain::ProjectId;
use handoff_domain::people::ProjectRole;

/// The project id in a path; one that does not parse is not found.
pub(super) fn project_id(raw: &str) -> PageResult<ProjectId> {
    raw.parse().map_err(|_| PageError::NotFound)
}

/// The project's page model and the person's role, or not found. The session check
/// read the membership and the page version, so a current model in memory costs no
/// query (see [`super::page_cache`]).
pub(super) async fn load(state: &WebState, me: &Customer, raw_id: &str) -> PageResult<(Arc<ProjectPage>, ProjectRole)> {
    let access = me.access(project_id(raw_id)?)?;
    let page = state
        .pages
        .get(&state.store, access.project, access.page_version)
        .await?
        .ok_or(PageError::NotFound)?;
    Ok((page, access.role))
}
