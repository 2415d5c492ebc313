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

use super::pages::render;
use super::session::CsrfForm;
use super::session::Customer;
use crate::WebState;
use crate::page_error::{PageError, PageResult};
use handoff_domain::UserId;
use handoff_domain::profile::{FieldErrors, Profile, ProfileInput, TIMEZONES};

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
async fn page(state: &WebState, me: &Customer, form: ProfileForm, extras: Extras) -> PageResult<Response> {
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
pub(super) async fn invalid(state: &WebState, me: &Customer, form: Option<ProfileForm>, extras: Extras) -> PageResult<Response> {
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
pub(super) async fn view(State(state): State<WebState>, me: Customer, Query(q): Query<ProfileQuery>) -> PageResult<Response> {
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
pub(super) async fn save(State(state): State<WebState>, form: CsrfForm<ProfileForm>) -> PageResult<Response> {
    let CsrfForm { who: me, form } = form;
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
    State(state): State<WebState>,
    me: Customer,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> PageResult<Response> {
    let user: UserId = user_id.parse().map_err(|_| PageError::NotFound)?;
    if !state.store.shares_a_project(me.user.id, user).await? {
        return Err(PageError::NotFound);
    }
    let picture = state.store.picture(user).await?.ok_or(PageError::NotFound)?;
    let etag = format!("\"{}\"", picture.updated_at.timestamp_micros());
    let etag = HeaderValue::from_str(&etag).map_err(|e| PageError::Internal(e.into()))?;
    let content_type = HeaderValue::from_str(&picture.content_type).map_err(|e| PageError::Internal(e.into()))?;
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

/// What a request to the picture form may carry beyond the picture: the token and the
/// multipart framing. Past [`MAX_PICTURE_BYTES`] plus this, the request is cut off.
const PICTURE_REQUEST_SLACK: usize = 64 * 1024;
/// An oversized picture is read to the end (and thrown away) up to this much, so the
/// browser gets the page that says why instead of a broken connection.
const PICTURE_DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// The image type of a picture, recognised by its first bytes (never by the name or
/// the type the browser sent) with the same check as task uploads: PNG, JPEG, WebP or
/// GIF. SVG is not among them: it can carry script. (Pictures are kept in the database
/// rather than on disk, see 0012_profiles.sql, so only the check is shared.)
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    super::file_type::sniff(bytes, true)
        .filter(|t| super::file_type::FileType::IMAGES.contains(t))
        .map(super::file_type::FileType::mime)
}

/// `POST /profile/picture` as a route: its body may be larger than axum's default
/// limit (2 MB) by the form's framing.
pub(super) fn picture_route() -> super::PortalRoute {
    let mut route = super::PortalRoute::post("/profile/picture", super::Access::SignedIn, upload_picture);
    route.handler = route
        .handler
        .layer(axum::extract::DefaultBodyLimit::max(PICTURE_DRAIN_LIMIT + PICTURE_REQUEST_SLACK));
    route
}

/// What the picture form held.
#[derive(Default)]
struct PictureForm {
    csrf: Option<String>,
    picture: Option<Vec<u8>>,
    too_large: bool,
}

/// Reads the form: the token (short), the picture up to [`MAX_PICTURE_BYTES`] (the
/// rest of a larger one is read and dropped), other fields ignored.
async fn read_picture_form(mut multipart: axum::extract::Multipart) -> PageResult<PictureForm> {
    let bad = |_| PageError::BadRequest("The form could not be read. Go back and try again.".into());
    let mut form = PictureForm::default();
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        match field.name() {
            Some("csrf") => {
                let mut token = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    token.extend_from_slice(&chunk);
                    if token.len() > 256 {
                        return Err(PageError::Forbidden);
                    }
                }
                form.csrf = Some(String::from_utf8_lossy(&token).into_owned());
            }
            Some("picture") => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    if form.too_large || bytes.len() + chunk.len() > MAX_PICTURE_BYTES {
                        form.too_large = true;
                        bytes = Vec::new();
                    } else {
                        bytes.extend_from_slice(&chunk);
                    }
                }
                form.picture = Some(bytes);
            }
            _ => while field.chunk().await.map_err(bad)?.is_some() {},
        }
    }
    Ok(form)
}

/// `POST /profile/picture` (multipart: `csrf`, then `picture`). Nothing is stored
/// unless the token is right, the file is at most [`MAX_PICTURE_BYTES`] and its
/// content is a PNG, JPEG, WebP or GIF image.
pub(super) async fn upload_picture(
    State(state): State<WebState>,
    me: Customer,
    headers: HeaderMap,
    multipart: axum::extract::Multipart,
) -> PageResult<Response> {
    if !crate::csrf::same_site(&headers) {
        return Err(PageError::Forbidden);
    }
    let form = read_picture_form(multipart).await?;
    if !form.csrf.is_some_and(|t| crate::form_token::verify(&me.session_secret, &t)) {
        tracing::info!("a picture upload without a valid form token was refused");
        return Err(PageError::Forbidden);
    }
    if form.too_large {
        let message = format!("The picture is larger than {} KB. Choose a smaller one.", MAX_PICTURE_BYTES / 1024);
        return refuse_picture(&state, &me, StatusCode::PAYLOAD_TOO_LARGE, message).await;
    }
    let bytes = form.picture.unwrap_or_default();
    if bytes.is_empty() {
        return refuse_picture(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, "Choose a picture to upload.".into()).await;
    }
    let Some(content_type) = image_type(&bytes) else {
        let message = "This file is not a PNG, JPEG, WebP or GIF image.".to_owned();
        return refuse_picture(&state, &me, StatusCode::UNSUPPORTED_MEDIA_TYPE, message).await;
    };
    state.store.set_picture(me.user.id, content_type, &bytes).await?;
    Ok(Redirect::to("/profile?saved=picture").into_response())
}

/// The profile page with `message` beside the picture's field.
async fn refuse_picture(state: &WebState, me: &Customer, status: StatusCode, message: String) -> PageResult<Response> {
    let extras = Extras {
        picture_error: Some(message),
        ..Extras::default()
    };
    let mut response = invalid(state, me, None, extras).await?;
    *response.status_mut() = status;
    Ok(response)
}

/// `POST /profile/remove-picture`.
pub(super) async fn remove_picture(State(state): State<WebState>, form: CsrfForm<crate::csrf::NoFields>) -> PageResult<Response> {
    state.store.remove_picture(form.who.user.id).await?;
    Ok(Redirect::to("/profile?saved=picture-removed").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_recognised_by_their_first_bytes() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some("image/jpeg"));
        assert_eq!(image_type(b"GIF89a\x01\x00"), Some("image/gif"));
        assert_eq!(image_type(b"RIFF\x24\x00\x00\x00WEBPVP8 "), Some("image/webp"));
        for not in [
            &b"<svg xmlns='http://www.w3.org/2000/svg'/>"[..],
            b"<html>",
            b"RIFF\x24\x00\x00\x00WAVE",
            b"\x89PN",
            b"",
        ] {
            assert_eq!(image_type(not), None, "{not:?}");
        }
    }
}
