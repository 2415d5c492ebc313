//! Upload tasks: adding a file (multipart, streamed through [`super::upload`]),
//! downloading one, and handing the task in once its files are there.
//!
//! Files go to `portal.upload_dir` under random names; the table `task_files` holds
//! what they are (the sanitised name, the type found in the content, size, SHA-256,
//! who uploaded it). A download is for members of the project (viewers included) and
//! is always an attachment of the checked type, `nosniff`.

use axum::extract::{Multipart, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};

use super::file_type::FileType;
use super::routes::{Access, PortalRoute};
use super::session::CsrfForm;
use super::session::Customer;
use super::tasks::{Action, Rejected, load_task, render_task};
use super::upload::{self, UploadPolicy};
use crate::WebState;
use crate::csrf::NoFields;
use crate::page_error::{PageError, PageResult};
use handoff_domain::TaskKind;
use handoff_domain::people::Actor;
use handoff_store::NewTaskFile;

const SOURCE: &str = "portal";

/// The upload route. axum's 2 MB default body limit is lifted on it: the limits are
/// enforced while streaming by [`upload::receive`] (the file) and [`upload::check_csrf`]
/// and [`upload::drain`] (the rest).
pub(super) fn upload_route(path: &'static str) -> PortalRoute {
    let mut route = PortalRoute::post(path, Access::ProjectEditor, add_file);
    route.handler = route.handler.layer(upload::body_limit());
    route
}

/// `POST /projects/{id}/tasks/{key}/files`: a multipart form with `csrf` first, then
/// `file`. A refused file (too large, a type the task does not take, empty) shows the
/// page again with the reason beside the file input; nothing of it is kept.
async fn add_file(
    State(state): State<WebState>,
    me: Customer,
    Path((id, key)): Path<(String, String)>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> PageResult<Response> {
    let result = receive_file(&state, &me, &id, &key, &headers, &mut multipart).await;
    if result.is_err() {
        upload::drain(&mut multipart).await;
    }
    result
}

async fn receive_file(
    state: &WebState,
    me: &Customer,
    id: &str,
    key: &str,
    headers: &HeaderMap,
    multipart: &mut Multipart,
) -> PageResult<Response> {
    upload::check_csrf(multipart, me, headers).await?;
    let loaded = load_task(state, me, id, key).await?;
    let TaskKind::Upload { accept, max_files } = &loaded.task().kind else {
        return Err(PageError::BadRequest("This task does not take files.".into()));
    };
    loaded.check(Action::Work)?;
    let policy = UploadPolicy {
        max_bytes: state.config.portal.max_upload_bytes,
        allowed: FileType::from_names(accept),
    };
    let mut field = loop {
        match multipart.next_field().await.map_err(|e| PageError::BadRequest(e.body_text()))? {
            Some(f) if f.name() == Some("file") => break Some(f),
            Some(_) => continue,
            None => break None,
        }
    };
    let received = match field.as_mut() {
        None => Err(upload::UploadError::Empty),
        Some(f) => {
            let name = f.file_name().map(str::to_owned);
            upload::receive(f, name.as_deref(), &state.config.portal.upload_dir, &policy).await
        }
    };
    drop(field);
    let received = match received {
        Ok(r) => r,
        Err(e) => {
            if let upload::UploadError::Storage(cause) = &e {
                tracing::error!(error = %cause, "cannot store an upload");
            }
            upload::drain(multipart).await;
            let status = e.status();
            let message = match e {
                upload::UploadError::TooLarge { max_bytes: None } => upload::UploadError::TooLarge {
                    max_bytes: Some(policy.max_bytes),
                }
                .message(),
                other => other.message(),
            };
            let rejected = Rejected::one(status, "file", message, Default::default());
            return render_task(state, me, &loaded, Some(rejected)).await;
        }
    };
    let file = NewTaskFile {
        storage_name: received.storage_name.clone(),
        original_name: received.original_name.clone(),
        content_type: received.file_type.mime().to_owned(),
        size_bytes: received.size,
        sha256: received.sha256.clone(),
    };
    let recorded = state
        .engine
        .add_task_file(
            loaded.page.details.project.id,
            key,
            Actor::User(me.user.id),
            SOURCE,
            &file,
            *max_files,
        )
        .await;
    if let Err(e) = recorded {
        received.discard().await;
        return Err(e.into());
    }
    Ok(Redirect::to(&format!("{}#files", loaded.task_href())).into_response())
}

/// `GET /projects/{id}/tasks/{key}/files/{file}`: for any member of the project.
pub(super) async fn download(
    State(state): State<WebState>,
    me: Customer,
    Path((id, key, file)): Path<(String, String, String)>,
) -> PageResult<Response> {
    let loaded = load_task(&state, &me, &id, &key).await?;
    let file_id: uuid::Uuid = file.parse().map_err(|_| PageError::NotFound)?;
    let file = state
        .store
        .task_file(loaded.page.details.project.id, loaded.task().id, file_id)
        .await?
        .ok_or(PageError::NotFound)?;
    upload::download(
        &state.config.portal.upload_dir,
        &file.storage_name,
        &file.original_name,
        &file.content_type,
    )
    .await
}

/// `POST /projects/{id}/tasks/{key}/files-done`: the files are all there; completes
/// the task (activity and CRM writebacks as for any completion).
pub(super) async fn hand_in(
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
    form: CsrfForm<NoFields>,
) -> PageResult<Response> {
    let me = &form.who;
    let loaded = load_task(&state, me, &id, &key).await?;
    if !matches!(loaded.task().kind, TaskKind::Upload { .. }) {
        return Err(PageError::BadRequest("This task does not take files.".into()));
    }
    loaded.check(Action::Work)?;
    if state.store.task_files(loaded.task().id).await?.is_empty() {
        return Err(PageError::Refused("Upload at least one file first.".into()));
    }
    state
        .engine
        .complete_task(loaded.page.details.project.id, &key, Actor::User(me.user.id), SOURCE)
        .await?;
    Ok(Redirect::to(&format!("/projects/{}#task-{key}", loaded.page.details.project.id)).into_response())
}
