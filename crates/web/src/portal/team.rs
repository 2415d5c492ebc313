//! A project's team: the onboarding team (owner and staff) and the customer's members,
//! and the form with which a customer admin invites a teammate.
//!
//! Who may invite is [`ProjectRole::invitable_roles`]: customer admins invite members
//! and viewers; members and viewers see the team without the form (a post from them
//! is refused). The invitation goes out through the outbox in the transaction that
//! adds the person ([`handoff_engine::invitations::invite_teammate`]).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::pages::render;
use super::session::CsrfForm;
use super::session::Customer;
use crate::WebState;
use crate::page_error::{PageError, PageResult};
use handoff_domain::people::ProjectRole;
use handoff_domain::profile::{FieldErrors, name};
use handoff_domain::{Email, ProjectId, UserId};
use handoff_engine::invitations::{NewTeammate, TeammateInvite, TeammateRefusal};
use handoff_store::TeamMember;

fn project_id(raw: &str) -> PageResult<ProjectId> {
    raw.parse().map_err(|_| PageError::NotFound)
}

/// How a role reads on the page.
pub(super) fn role_label(role: ProjectRole) -> &'static str {
    match role {
        ProjectRole::Owner => "Project owner",
        ProjectRole::Staff => "Onboarding team",
        ProjectRole::CustomerAdmin => "Admin",
        ProjectRole::CustomerMember => "Member",
        ProjectRole::CustomerViewer => "Viewer",
    }
}

#[derive(Serialize)]
struct MemberView {
    name: String,
    initials: String,
    title: Option<String>,
    /// Staff only: whom to write to.
    email: Option<String>,
    role: &'static str,
    /// Customers only: Active (has signed in), Invited, or Not invited yet.
    status: Option<Status>,
    picture_url: Option<String>,
    is_me: bool,
}

#[derive(Serialize)]
struct Status {
    /// For the stylesheet.
    key: &'static str,
    label: &'static str,
}

fn member_view(m: &TeamMember, me: UserId) -> MemberView {
    let staff = matches!(m.role, ProjectRole::Owner | ProjectRole::Staff);
    let name = m.user.display_name();
    MemberView {
        initials: initials(&name),
        name,
        title: m.user.title.clone(),
        email: staff.then(|| m.user.email.to_string()),
        role: role_label(m.role),
        status: (!staff).then_some(if m.signed_in {
            Status {
                key: "active",
                label: "Active",
            }
        } else if m.invited {
            Status {
                key: "invited",
                label: "Invited",
            }
        } else {
            Status {
                key: "not-invited",
                label: "Not invited yet",
            }
        }),
        picture_url: m.has_picture.then(|| format!("/profile/picture/{}", m.user.id)),
        is_me: m.user.id == me,
    }
}

/// `errors` with an empty message for each of `fields` that has none, so that the
/// template can test any field's error.
pub(super) fn every_field(mut errors: FieldErrors, fields: &[&'static str]) -> FieldErrors {
    for field in fields {
        errors.entry(field).or_default();
    }
    errors
}

/// Up to two letters for a person without a picture.
pub(super) fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

/// The invite form as posted (and shown again with its errors).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(super) struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    role: String,
}

#[derive(Serialize)]
struct RoleOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

/// What the page shows besides the members.
#[derive(Default)]
struct Extras {
    form: InviteForm,
    errors: FieldErrors,
    notice: Option<String>,
}

async fn page(state: &WebState, me: &Customer, project: ProjectId, role: ProjectRole, extras: Extras) -> PageResult<Response> {
    let details = state.store.project_details(project).await?.ok_or(PageError::NotFound)?;
    let team = state.store.team(project).await?;
    let (staff, customers): (Vec<&TeamMember>, Vec<&TeamMember>) =
        team.iter().partition(|m| matches!(m.role, ProjectRole::Owner | ProjectRole::Staff));
    let invitable = role.invitable_roles();
    let chosen = if extras.form.role.is_empty() {
        invitable.first().map_or("", |r| r.as_str())
    } else {
        extras.form.role.as_str()
    };
    #[derive(Serialize)]
    struct Page {
        project_name: String,
        project_href: String,
        invite_href: String,
        staff: Vec<MemberView>,
        customers: Vec<MemberView>,
        can_invite: bool,
        admins: Vec<String>,
        roles: Vec<RoleOption>,
        form: InviteForm,
        errors: FieldErrors,
        notice: Option<String>,
    }
    let body = Page {
        project_name: details.project.name.clone(),
        project_href: format!("/projects/{project}"),
        invite_href: format!("/projects/{project}/team/invite"),
        staff: staff.iter().map(|m| member_view(m, me.user.id)).collect(),
        customers: customers.iter().map(|m| member_view(m, me.user.id)).collect(),
        can_invite: !invitable.is_empty(),
        admins: customers
            .iter()
            .filter(|m| m.role == ProjectRole::CustomerAdmin)
            .map(|m| m.user.display_name())
            .collect(),
        roles: invitable
            .iter()
            .map(|r| RoleOption {
                value: r.as_str(),
                label: role_label(*r),
                selected: r.as_str() == chosen,
            })
            .collect(),
        form: extras.form,
        errors: every_field(extras.errors, &["email", "first_name", "last_name", "role"]),
        notice: extras.notice,
    };
    let title = format!("Team · {}", details.project.name);
    render(state, "team.html", &title, Some(me), &body)
}

#[derive(Deserialize)]
pub(super) struct TeamQuery {
    #[serde(default)]
    invited: Option<String>,
}

/// `GET /projects/{id}/team`.
pub(super) async fn view(
    State(state): State<WebState>,
    me: Customer,
    Path(id): Path<String>,
    Query(q): Query<TeamQuery>,
) -> PageResult<Response> {
    let project = project_id(&id)?;
    let role = me.role_in(project)?;
    // After an invitation (post, redirect, get): name the person, if they are a member.
    let notice = match q.invited.and_then(|u| u.parse::<UserId>().ok()) {
        Some(user) => state
            .store
            .team(project)
            .await?
            .into_iter()
            .find(|m| m.user.id == user)
            .map(|m| format!("We emailed an invitation to {} ({}).", m.user.display_name(), m.user.email)),
        None => None,
    };
    let extras = Extras {
        notice,
        ..Extras::default()
    };
    page(&state, &me, project, role, extras).await
}

/// `POST /projects/{id}/team/invite`.
pub(super) async fn invite(State(state): State<WebState>, Path(id): Path<String>, form: CsrfForm<InviteForm>) -> PageResult<Response> {
    let CsrfForm { who: me, form } = form;
    let project = project_id(&id)?;
    let role = me.role_in(project)?;
    if role.invitable_roles().is_empty() {
        return Err(PageError::Refused(
            "Only your company's admins on this project can invite teammates. Ask one of them, or your onboarding team.".into(),
        ));
    }
    let teammate = match parse_invite(&form, role) {
        Ok(t) => t,
        Err(errors) => return invalid(&state, &me, project, role, form, errors).await,
    };
    let refused = |message: &str| {
        let mut errors = FieldErrors::new();
        errors.insert("email", message.to_owned());
        errors
    };
    match state.engine.invite_teammate(project, me.user.id, &teammate).await? {
        TeammateInvite::Invited { user, .. } => Ok(Redirect::to(&format!("/projects/{project}/team?invited={user}")).into_response()),
        TeammateInvite::AlreadyMember { .. } => {
            let notice = format!("{} is already on the team: nothing was sent.", teammate.email);
            page(
                &state,
                &me,
                project,
                role,
                Extras {
                    notice: Some(notice),
                    ..Extras::default()
                },
            )
            .await
        }
        TeammateInvite::Refused(why) => {
            let message = match why {
                TeammateRefusal::Staff => {
                    "This address belongs to someone on the onboarding team; they cannot be invited as a customer teammate."
                }
                TeammateRefusal::OtherCompany => {
                    "This person belongs to another company and cannot be invited from here. Ask your onboarding team."
                }
                TeammateRefusal::Removed => {
                    "This person's access to the project was removed. Ask your onboarding team if they should have it back."
                }
            };
            invalid(&state, &me, project, role, form, refused(message)).await
        }
    }
}

/// The page again, with the values as posted and the errors beside their fields.
async fn invalid(
    state: &WebState,
    me: &Customer,
    project: ProjectId,
    role: ProjectRole,
    form: InviteForm,
    errors: FieldErrors,
) -> PageResult<Response> {
    let mut response = page(
        state,
        me,
        project,
        role,
        Extras {
            form,
            errors,
            notice: None,
        },
    )
    .await?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

fn parse_invite(form: &InviteForm, inviter: ProjectRole) -> Result<NewTeammate, FieldErrors> {
    let mut errors = FieldErrors::new();
    let email = Email::parse(&form.email)
        .map_err(|_| errors.insert("email", "Enter an email address, like name@example.com.".into()))
        .ok();
    let first_name = name(&form.first_name, true)
        .map_err(|e| errors.insert("first_name", e))
        .ok()
        .flatten();
    let last_name = name(&form.last_name, false)
        .map_err(|e| errors.insert("last_name", e))
        .ok()
        .flatten();
    let invitable = inviter.invitable_roles();
    let role = if form.role.is_empty() {
        invitable.first().copied()
    } else {
        form.role.parse::<ProjectRole>().ok().filter(|r| invitable.contains(r))
    };
    if role.is_none() {
        errors.insert("role", "Choose one of the roles listed.".into());
    }
    match (email, first_name, role) {
        (Some(email), Some(first_name), Some(role)) if errors.is_empty() => Ok(NewTeammate {
            email,
            first_name,
            last_name,
            role,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(email: &str, first: &str, role: &str) -> InviteForm {
        InviteForm {
            email: email.into(),
            first_name: first.into(),
            last_name: String::new(),
            role: role.into(),
        }
    }

    #[test]
    fn an_invite_names_its_bad_fields() {
        let errors = parse_invite(&form("nope", "", "customer_admin"), ProjectRole::CustomerAdmin).unwrap_err();
        assert_eq!(errors.keys().copied().collect::<Vec<_>>(), ["email", "first_name", "role"]);
        let ok = parse_invite(&form(" Ana@Acme.example ", "Ana", ""), ProjectRole::CustomerAdmin).unwrap();
        assert_eq!((ok.email.as_str(), ok.role), ("ana@acme.example", ProjectRole::CustomerMember));
        assert!(parse_invite(&form("ana@acme.example", "Ana", "customer_viewer"), ProjectRole::CustomerMember).is_err());
    }

    #[test]
    fn initials_take_the_first_letters_of_two_words() {
        assert_eq!(initials("dana scully"), "DS");
        assert_eq!(initials("Omar"), "O");
        assert_eq!(initials("Ana María de la Cruz"), "AM");
    }
}
