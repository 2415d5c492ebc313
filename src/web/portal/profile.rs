//! The signed-in person's profile: names, time zone, title and phone (one form), their
//! picture (its own form), and pictures served to the people who may see them.
//!
//! Email and company are shown, never written: the email is how a person is matched
//! across CRMs and invitations, and the company comes from the CRM. Values posted for
//! them are ignored. Changes are recorded in the activity trail without a project
//! (`profile.updated` names the fields that changed, not their values).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::csrf::CsrfForm;
use super::error::{PortalError, PortalResult};
use super::pages::render;
use super::session::Customer;
use crate::app::AppState;
use crate::domain::UserId;
use crate::domain::profile::{FieldErrors, Profile, ProfileInput, TIMEZONES};

/// The profile form as posted (and shown again with its errors).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(super) struct ProfileForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    timezone: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    phone: String,
}

impl ProfileForm {
    fn of(me: &Customer) -> Self {
        let u = &me.user;
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        ProfileForm {
            first_name: text(&u.first_name),
            last_name: text(&u.last_name),
            timezone: text(&u.timezone),
            title: text(&u.title),
            phone: text(&u.phone),
        }
    }

    fn input(&self) -> ProfileInput<'_> {
        ProfileInput {
            first_name: &self.first_name,
            last_name: &self.last_name,
            timezone: &self.timezone,
            title: &self.title,
            phone: &self.phone,
        }
    }
}

/// What the page shows besides the form's values.
#[derive(Default)]
pub(super) struct Extras {
    pub errors: FieldErrors,
    pub picture_error: Option<String>,
    pub notice: Option<&'static str>,
}

#[derive(Serialize)]
struct TimezoneOption {
    name: String,
    selected: bool,
}

/// The profile page for `me`, with `form`'s values.
async fn page(state: &AppState, me: &Customer, form: ProfileForm, extras: Extras) -> PortalResult<Response> {
    let company = match me.user.company_id {
        Some(id) => state.store.company(id).await?.map(|c| c.name),
        None => None,
    };
    let picture = state.store.picture(me.user.id).await?;
    // The list, plus the person's current zone if the list no longer has it.
    let mut timezones: Vec<TimezoneOption> = TIMEZONES
        .iter()
        .map(|tz| TimezoneOption {
            name: (*tz).to_owned(),
            selected: *tz == form.timezone,
        })
        .collect();
    if !form.timezone.is_empty() && !timezones.iter().any(|t| t.selected) {
        timezones.insert(
            0,
            TimezoneOption {
                name: form.timezone.clone(),
                selected: true,
            },
        );
    }
    #[derive(Serialize)]
    struct Page {
        form: ProfileForm,
        email: String,
        company: Option<String>,
        timezones: Vec<TimezoneOption>,
        picture_url: Option<String>,
        initials: String,
        max_picture_kb: usize,
        errors: FieldErrors,
        picture_error: Option<String>,
        notice: Option<&'static str>,
    }
    let body = Page {
        form,
        email: me.user.email.to_string(),
        company,
        timezones,
        picture_url: picture.map(|p| format!("/profile/picture/{}?v={}", me.user.id, p.updated_at.timestamp_micros())),
        initials: super::team::initials(&me.user.display_name()),
        max_picture_kb: MAX_PICTURE_BYTES / 1024,
        errors: super::team::every_field(extras.errors, &["first_name", "last_name", "timezone", "title", "phone"]),
        picture_error: extras.picture_error,
        notice: extras.notice,
    };
    render(state, "profile.html", "Your profile", Some(me), &body)
}

/// The page again with an error: 422, values as posted.
/// `form` is `None` for the picture's form: the text fields show what is saved.
pub(super) async fn invalid(state: &AppState, me: &Customer, form: Option<ProfileForm>, extras: Extras) -> PortalResult<Response> {
    let form = form.unwrap_or_else(|| ProfileForm::of(me));
    let mut response = page(state, me, form, extras).await?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

#[derive(Deserialize)]
pub(super) struct ProfileQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// `GET /profile`.
pub(super) async fn view(State(state): State<AppState>, me: Customer, Query(q): Query<ProfileQuery>) -> PortalResult<Response> {
    let notice = match q.saved.as_deref() {
        Some("picture") => Some("Your picture was saved."),
        Some("picture-removed") => Some("Your picture was removed."),
        Some(_) => Some("Your profile was saved."),
        None => None,
    };
    let extras = Extras {
        notice,
        ..Extras::default()
    };
    page(&state, &me, ProfileForm::of(&me), extras).await
}

/// `POST /profile`: the text fields. Email and company, if posted, are ignored.
pub(super) async fn save(State(state): State<AppState>, form: CsrfForm<ProfileForm>) -> PortalResult<Response> {
    let CsrfForm { customer: me, form } = form;
    match Profile::parse(&form.input(), me.user.timezone.as_deref()) {
        Ok(profile) => {
            state.store.update_profile(me.user.id, &profile).await?;
            Ok(Redirect::to("/profile?saved=1").into_response())
        }
        Err(errors) => {
            let extras = Extras {
                errors,
                ..Extras::default()
            };
            invalid(&state, &me, Some(form), extras).await
        }
    }
}

/// The largest picture accepted.
pub const MAX_PICTURE_BYTES: usize = 2 * 1024 * 1024;

/// `GET /profile/picture/{user_id}`: to the person and to people who share an active,
/// customer-visible project with them; "not found" for everyone else and for people
/// without a picture alike. Served with the type its bytes were sniffed to be, never
/// sniffed again by the browser, revalidated by its ETag.
pub(super) async fn picture(
    State(state): State<AppState>,
    me: Customer,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> PortalResult<Response> {
    let user: UserId = user_id.parse().map_err(|_| PortalError::NotFound)?;
    if !state.store.shares_a_project(me.user.id, user).await? {
        return Err(PortalError::NotFound);
    }
    let picture = state.store.picture(user).await?.ok_or(PortalError::NotFound)?;
    let etag = format!("\"{}\"", picture.updated_at.timestamp_micros());
    let etag = HeaderValue::from_str(&etag).map_err(|e| PortalError::Internal(e.into()))?;
    let content_type = HeaderValue::from_str(&picture.content_type).map_err(|e| PortalError::Internal(e.into()))?;
    let cache = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache")),
        (
            header::HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ),
    ];
    if headers.get(header::IF_NONE_MATCH) == Some(&etag) {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok((
        cache,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static("inline")),
        ],
        picture.bytes,
    )
        .into_response())
}
