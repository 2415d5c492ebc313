//! The Members tab of a project (`/console/projects/{id}/members`): the customers on
//! it with their contact role, project role, invitation state and when they were last
//! seen, and the onboarding team; staff add and remove customers, resend, revoke or
//! regenerate links, and add or remove staff. Every change is one engine call (one
//! transaction with its activity entry); the page answers with a redirect to itself and
//! a notice (post, redirect, get), or with the form again and what was wrong.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::pages::{Section, render};
use super::project_frame::{self, ProjectFrame, ProjectTab};
use super::session::{Staff, StaffForm};
use crate::WebState;
use crate::csrf::NoFields;
use crate::page_error::{PageError, PageResult};
use handoff_domain::people::{Actor, MembershipStatus, ProjectRole, User};
use handoff_domain::profile::name;
use handoff_domain::{Email, ProjectId, UserId};
use handoff_engine::EngineError;
use handoff_engine::members::{MemberAdded, NewMember, StaffAdded};
use handoff_store::{InvitationInfo, StaffAccount};

const SOURCE: &str = "console";

/// The customer roles staff may give, most capable first.
const CUSTOMER_ROLES: [ProjectRole; 3] = [ProjectRole::CustomerAdmin, ProjectRole::CustomerMember, ProjectRole::CustomerViewer];

fn role_label(role: ProjectRole) -> &'static str {
    match role {
        ProjectRole::Owner => "Owner",
        ProjectRole::Staff => "Team",
        ProjectRole::CustomerAdmin => "Customer admin",
        ProjectRole::CustomerMember => "Member",
        ProjectRole::CustomerViewer => "Viewer",
    }
}

/// Where a member's latest link stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum LinkState {
    /// No link yet, or one queued and not yet sent.
    Waiting,
    Sent,
    Used,
    Expired,
    Revoked,
}

impl LinkState {
    fn of(invitation: Option<&InvitationInfo>, now: DateTime<Utc>) -> Self {
        match invitation {
            None => LinkState::Waiting,
            Some(i) if i.revoked_at.is_some() => LinkState::Revoked,
            Some(i) if i.used_at.is_some() => LinkState::Used,
            Some(i) if i.expires_at <= now => LinkState::Expired,
            Some(i) if i.sent_at.is_some() => LinkState::Sent,
            Some(_) => LinkState::Waiting,
        }
    }

    fn label(self, invitation: Option<&InvitationInfo>) -> &'static str {
        match (self, invitation) {
            (LinkState::Waiting, None) => "Not invited yet",
            (LinkState::Waiting, Some(_)) => "Waiting to be sent",
            (LinkState::Sent, _) => "Link sent",
            (LinkState::Used, _) => "Signed in",
            (LinkState::Expired, _) => "Link expired",
            (LinkState::Revoked, _) => "Link revoked",
        }
    }

    /// A link that would still sign someone in.
    fn live(self, invitation: Option<&InvitationInfo>) -> bool {
        matches!(self, LinkState::Sent) || (self == LinkState::Waiting && invitation.is_some())
    }
}

#[derive(Serialize)]
struct CustomerView {
    user_id: String,
    name: String,
    email: String,
    role: &'static str,
    contact_role: Option<String>,
    link_state: LinkState,
    link_label: &'static str,
    /// When the latest link stops working (if it is live).
    link_expires: Option<String>,
    /// The live link's id, for Revoke.
    live_invitation: Option<String>,
    last_seen: Option<String>,
}

#[derive(Serialize)]
struct StaffView {
    user_id: String,
    name: String,
    email: String,
    role: &'static str,
    is_owner: bool,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// The add-customer form as posted (and shown again with what was wrong).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(super) struct AddCustomerForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    contact_role: String,
    /// `now` or `later`.
    #[serde(default)]
    invite: String,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(super) struct AddStaffForm {
    #[serde(default)]
    email: String,
    /// A checkbox: present when the person becomes the owner.
    #[serde(default)]
    owner: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct RemoveStaffForm {
    /// The team member who becomes owner, when the owner leaves.
    #[serde(default)]
    new_owner: String,
}

#[derive(Deserialize)]
pub(super) struct Done {
    #[serde(default)]
    done: Option<String>,
}

/// The notice after a change, by the fixed key the redirect carries (never text from
/// the request).
fn notice(done: &str) -> Option<&'static str> {
    Some(match done {
        "added" => "The customer was added. No email was sent: invite them when you are ready.",
        "invited" => "The customer was added and an invitation is on its way.",
        "waiting" => "The customer was added. Their invitation goes out when the project is activated.",
        "already-member" => "That person is already a member of this project; nothing changed.",
        "removed" => "The customer was removed. Their links no longer work and the project is closed to them.",
        "already-removed" => "That customer had been removed already; nothing changed.",
        "resent" => "A fresh link is on its way; their earlier links no longer work.",
        "regenerated" => "The link was regenerated: the old one no longer works and the new one is on its way.",
        "revoked" => "The link was revoked; it signs no one in any more.",
        "not-revoked" => "That link was already used or revoked; nothing changed.",
        "staff-added" => "The staff member joined the onboarding team.",
        "owner-changed" => "The project has a new owner; the previous owner stays on the team.",
        "staff-already" => "That staff member is already on the team; nothing changed.",
        "staff-removed" => "The staff member left the onboarding team.",
        _ => return None,
    })
}

/// What the page shows besides the members.
#[derive(Default)]
struct Extras {
    notice: Option<&'static str>,
    error: Option<String>,
    customer_form: AddCustomerForm,
    staff_form: AddStaffForm,
}

#[derive(Serialize)]
struct Body {
    frame: ProjectFrame,
    /// Whether customers can see the project (a Draft sends no links yet).
    visible: bool,
    customers: Vec<CustomerView>,
    removed: Vec<CustomerView>,
    team: Vec<StaffView>,
    roles: Vec<Choice>,
    staff_choices: Vec<Choice>,
    owner_choices: Vec<Choice>,
    customer_form: AddCustomerForm,
    staff_form: AddStaffForm,
    notice: Option<&'static str>,
    error: Option<String>,
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%-d %b %Y, %H:%M UTC").to_string()
}

fn customer_view(
    user: &User,
    role: ProjectRole,
    contact_role: Option<&String>,
    links: &[&InvitationInfo],
    seen: Option<&DateTime<Utc>>,
) -> CustomerView {
    let latest = links.first().copied();
    let state = LinkState::of(latest, Utc::now());
    let live = state.live(latest);
    CustomerView {
        user_id: user.id.to_string(),
        name: user.display_name(),
        email: user.email.to_string(),
        role: role_label(role),
        contact_role: contact_role.cloned(),
        link_state: state,
        link_label: state.label(latest),
        link_expires: latest.filter(|_| live).map(|i| when(i.expires_at)),
        live_invitation: latest.filter(|_| live).map(|i| i.id.to_string()),
        last_seen: seen.copied().map(when),
    }
}

async fn page(state: &WebState, me: &Staff, id: &str, extras: Extras) -> PageResult<Response> {
    let (details, frame) = project_frame::load(state, id, ProjectTab::Members).await?;
    let project = details.project.id;
    let members = state.store.project_members(project).await?;
    let invitations = state.store.project_invitations(project).await?;
    let seen = state.store.members_last_seen(project).await?;
    let mut links: HashMap<UserId, Vec<&InvitationInfo>> = HashMap::new();
    for invitation in &invitations {
        links.entry(UserId::from_uuid(invitation.user_id)).or_default().push(invitation);
    }
    let (mut customers, mut removed, mut team) = (Vec::new(), Vec::new(), Vec::new());
    for (m, user) in &members {
        let is_staff = matches!(m.role, ProjectRole::Owner | ProjectRole::Staff);
        match (is_staff, m.status) {
            (true, MembershipStatus::Active) => team.push(StaffView {
                user_id: user.id.to_string(),
                name: user.display_name(),
                email: user.email.to_string(),
                role: role_label(m.role),
                is_owner: m.role == ProjectRole::Owner,
            }),
            (true, MembershipStatus::Deactivated) => {}
            (false, status) => {
                let own = links.get(&user.id).map_or(&[][..], Vec::as_slice);
                let view = customer_view(user, m.role, m.contact_role.as_ref(), own, seen.get(&user.id));
                if status == MembershipStatus::Active {
                    customers.push(view);
                } else {
                    removed.push(view);
                }
            }
        }
    }
    team.sort_by_key(|s| (!s.is_owner, s.name.to_lowercase()));
    let chosen_role = if extras.customer_form.role.is_empty() {
        ProjectRole::CustomerMember.as_str()
    } else {
        extras.customer_form.role.as_str()
    };
    let roles = CUSTOMER_ROLES
        .iter()
        .map(|r| Choice {
            value: r.as_str().into(),
            label: role_label(*r).into(),
            selected: r.as_str() == chosen_role,
        })
        .collect();
    let on_team: Vec<&str> = team.iter().map(|s| s.email.as_str()).collect();
    let staff_choices = state
        .store
        .staff_accounts()
        .await?
        .into_iter()
        .filter(StaffAccount::is_active)
        .map(|a| {
            // Someone on the team already is listed too: ticking "owner" hands them the project.
            let note = if on_team.contains(&a.user.email.as_str()) {
                ", on the team"
            } else {
                ""
            };
            Choice {
                selected: a.user.email.as_str() == extras.staff_form.email,
                value: a.user.email.to_string(),
                label: format!("{} ({}{note})", a.user.display_name(), a.user.email),
            }
        })
        .collect();
    let owner_choices = team
        .iter()
        .filter(|s| !s.is_owner)
        .map(|s| Choice {
            value: s.user_id.clone(),
            label: s.name.clone(),
            selected: false,
        })
        .collect();
    let body = Body {
        visible: details.project.status.visible_to_customers(),
        frame,
        customers,
        removed,
        team,
        roles,
        staff_choices,
        owner_choices,
        customer_form: extras.customer_form,
        staff_form: extras.staff_form,
        notice: extras.notice,
        error: extras.error,
    };
    let title = format!("Members · {}", details.project.name);
    render(state, "console/members.html", &title, Some(me), Section::Projects, &body)
}

/// The page again with what went wrong, nothing changed.
async fn page_with_error(
    state: &WebState,
    me: &Staff,
    id: &str,
    status: StatusCode,
    error: String,
    extras: Extras,
) -> PageResult<Response> {
    let mut response = page(
        state,
        me,
        id,
        Extras {
            error: Some(error),
            ..extras
        },
    )
    .await?;
    *response.status_mut() = status;
    Ok(response)
}

/// A refusal becomes the page with its reason (409); anything else stays an error.
async fn refused_or(state: &WebState, me: &Staff, id: &str, e: EngineError, extras: Extras) -> PageResult<Response> {
    match e {
        EngineError::Refused(r) => page_with_error(state, me, id, StatusCode::CONFLICT, r.to_string(), extras).await,
        other => Err(other.into()),
    }
}

fn project_id(raw: &str) -> PageResult<ProjectId> {
    raw.parse().map_err(|_| PageError::NotFound)
}

fn user_id(raw: &str) -> PageResult<UserId> {
    raw.parse().map_err(|_| PageError::NotFound)
}

fn back(project: ProjectId, done: &str) -> Response {
    Redirect::to(&format!("/console/projects/{project}/members?done={done}#notice")).into_response()
}

/// `GET /console/projects/{id}/members`.
pub(super) async fn view(State(state): State<WebState>, me: Staff, Path(id): Path<String>, Query(q): Query<Done>) -> PageResult<Response> {
    let extras = Extras {
        notice: q.done.as_deref().and_then(notice),
        ..Extras::default()
    };
    page(&state, &me, &id, extras).await
}

/// The add-customer form, parsed; Err: what to tell the person.
fn parse_customer(form: &AddCustomerForm) -> Result<NewMember, String> {
    let email =
        Email::parse(&form.email).map_err(|_| format!("“{}” is not an email address, like name@example.com.", form.email.trim()))?;
    let first_name = name(&form.first_name, false).map_err(|e| format!("First name: {e}"))?;
    let last_name = name(&form.last_name, false).map_err(|e| format!("Last name: {e}"))?;
    let role = form
        .role
        .parse::<ProjectRole>()
        .ok()
        .filter(|r| CUSTOMER_ROLES.contains(r))
        .ok_or("Choose one of the customer roles listed.")?;
    let contact_role = form.contact_role.split_whitespace().collect::<Vec<_>>().join(" ");
    if contact_role.chars().count() > 100 {
        return Err("The contact role is too long (100 characters at most).".into());
    }
    let invite_now = match form.invite.as_str() {
        "now" => true,
        "later" => false,
        _ => return Err("Choose whether to invite them now or later.".into()),
    };
    Ok(NewMember {
        email,
        first_name,
        last_name,
        role,
        contact_role: (!contact_role.is_empty()).then_some(contact_role),
        invite_now,
    })
}

/// `POST /console/projects/{id}/members`: adds a customer.
pub(super) async fn add_customer(
    State(state): State<WebState>,
    Path(id): Path<String>,
    form: StaffForm<AddCustomerForm>,
) -> PageResult<Response> {
    let StaffForm { who: me, form } = form;
    let project = project_id(&id)?;
    let extras = || Extras {
        customer_form: form.clone(),
        ..Extras::default()
    };
    let new = match parse_customer(&form) {
        Ok(new) => new,
        Err(message) => return page_with_error(&state, &me, &id, StatusCode::UNPROCESSABLE_ENTITY, message, extras()).await,
    };
    let visible = state
        .store
        .project_details(project)
        .await?
        .ok_or(PageError::NotFound)?
        .project
        .status
        .visible_to_customers();
    match state.engine.add_customer(project, &new, Actor::User(me.id()), SOURCE).await {
        Ok(MemberAdded::AlreadyMember { .. }) => Ok(back(project, "already-member")),
        Ok(MemberAdded::Added { invitation: Some(_), .. }) => Ok(back(project, "invited")),
        Ok(MemberAdded::Added { .. }) if new.invite_now && !visible => Ok(back(project, "waiting")),
        Ok(MemberAdded::Added { .. }) => Ok(back(project, "added")),
        Err(e) => refused_or(&state, &me, &id, e, extras()).await,
    }
}

/// `POST /console/projects/{id}/members/{user}/remove`.
pub(super) async fn remove_customer(
    State(state): State<WebState>,
    Path((id, user)): Path<(String, String)>,
    form: StaffForm<NoFields>,
) -> PageResult<Response> {
    let me = form.who;
    let (project, user) = (project_id(&id)?, user_id(&user)?);
    match state.engine.remove_customer(project, user, Actor::User(me.id()), SOURCE).await {
        Ok(true) => Ok(back(project, "removed")),
        Ok(false) => Ok(back(project, "already-removed")),
        Err(e) => refused_or(&state, &me, &id, e, Extras::default()).await,
    }
}

/// `POST /console/projects/{id}/members/{user}/resend`: a fresh link emailed.
pub(super) async fn resend(
    State(state): State<WebState>,
    Path((id, user)): Path<(String, String)>,
    form: StaffForm<NoFields>,
) -> PageResult<Response> {
    let me = form.who;
    let (project, user) = (project_id(&id)?, user_id(&user)?);
    let email = customer_email(&state, project, user).await?;
    match state.engine.resend_invitation(project, &email, Actor::User(me.id()), SOURCE).await {
        Ok(_) => Ok(back(project, "resent")),
        Err(e) => refused_or(&state, &me, &id, e, Extras::default()).await,
    }
}

/// `POST /console/projects/{id}/members/{user}/regenerate`.
pub(super) async fn regenerate(
    State(state): State<WebState>,
    Path((id, user)): Path<(String, String)>,
    form: StaffForm<NoFields>,
) -> PageResult<Response> {
    let me = form.who;
    let (project, user) = (project_id(&id)?, user_id(&user)?);
    match state.engine.regenerate_link(project, user, Actor::User(me.id()), SOURCE).await {
        Ok(_) => Ok(back(project, "regenerated")),
        Err(e) => refused_or(&state, &me, &id, e, Extras::default()).await,
    }
}

/// `POST /console/projects/{id}/invitations/{invitation}/revoke`: only a link of this
/// project; any other id is not found.
pub(super) async fn revoke(
    State(state): State<WebState>,
    Path((id, invitation)): Path<(String, String)>,
    form: StaffForm<NoFields>,
) -> PageResult<Response> {
    let me = form.who;
    let project = project_id(&id)?;
    let invitation: uuid::Uuid = invitation.parse().map_err(|_| PageError::NotFound)?;
    let info = state.store.invitation(invitation).await?.ok_or(PageError::NotFound)?;
    if info.project_id != project.as_uuid() {
        return Err(PageError::NotFound);
    }
    use handoff_engine::invitations::InvitationRevocation::Revoked;
    match state.engine.revoke_invitation(invitation, Actor::User(me.id()), SOURCE).await? {
        Revoked { .. } => Ok(back(project, "revoked")),
        _ => Ok(back(project, "not-revoked")),
    }
}

/// The address of a customer of the project (active or not); not found otherwise.
async fn customer_email(state: &WebState, project: ProjectId, user: UserId) -> PageResult<Email> {
    state
        .store
        .project_members(project)
        .await?
        .into_iter()
        .find(|(m, u)| u.id == user && !matches!(m.role, ProjectRole::Owner | ProjectRole::Staff))
        .map(|(_, u)| u.email)
        .ok_or(PageError::NotFound)
}

/// `POST /console/projects/{id}/staff`: a staff member joins the team (as owner if
/// ticked).
pub(super) async fn add_staff(
    State(state): State<WebState>,
    Path(id): Path<String>,
    form: StaffForm<AddStaffForm>,
) -> PageResult<Response> {
    let StaffForm { who: me, form } = form;
    let project = project_id(&id)?;
    let extras = || Extras {
        staff_form: form.clone(),
        ..Extras::default()
    };
    let Ok(email) = Email::parse(&form.email) else {
        let message = "Choose a staff member to add.".to_owned();
        return page_with_error(&state, &me, &id, StatusCode::UNPROCESSABLE_ENTITY, message, extras()).await;
    };
    let owner = form.owner.is_some();
    match state
        .engine
        .add_team_member(project, &email, owner, Actor::User(me.id()), SOURCE)
        .await
    {
        Ok(StaffAdded::Added { .. }) => Ok(back(project, "staff-added")),
        Ok(StaffAdded::AlreadyOnTeam { changed: true, .. }) => Ok(back(project, "owner-changed")),
        Ok(StaffAdded::AlreadyOnTeam { .. }) => Ok(back(project, "staff-already")),
        Err(e) => refused_or(&state, &me, &id, e, extras()).await,
    }
}

/// `POST /console/projects/{id}/staff/{user}/remove`: the owner leaves only with a
/// `new_owner` from the team.
pub(super) async fn remove_staff(
    State(state): State<WebState>,
    Path((id, user)): Path<(String, String)>,
    form: StaffForm<RemoveStaffForm>,
) -> PageResult<Response> {
    let StaffForm { who: me, form } = form;
    let (project, user) = (project_id(&id)?, user_id(&user)?);
    let new_owner = match form.new_owner.trim() {
        "" => None,
        raw => Some(
            raw.parse::<UserId>()
                .map_err(|_| PageError::BadRequest("Choose the new owner from the team.".into()))?,
        ),
    };
    match state
        .engine
        .remove_team_member(project, user, new_owner, Actor::User(me.id()), SOURCE)
        .await
    {
        Ok(_) => Ok(back(project, "staff-removed")),
        Err(e) => refused_or(&state, &me, &id, e, Extras::default()).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(email: &str, role: &str, invite: &str) -> AddCustomerForm {
        AddCustomerForm {
            email: email.into(),
            role: role.into(),
            invite: invite.into(),
            ..AddCustomerForm::default()
        }
    }

    #[test]
    fn the_add_form_refuses_a_bad_address_a_staff_role_and_a_missing_choice() {
        assert!(
            parse_customer(&form("not an email", "customer_member", "now"))
                .unwrap_err()
                .contains("not an email")
        );
        assert!(parse_customer(&form("ana@acme.example", "owner", "now")).is_err());
        assert!(parse_customer(&form("ana@acme.example", "customer_member", "")).is_err());
        let ok = parse_customer(&form(" Ana@Acme.example ", "customer_viewer", "later")).unwrap();
        assert_eq!(
            (ok.email.as_str(), ok.role, ok.invite_now),
            ("ana@acme.example", ProjectRole::CustomerViewer, false)
        );
    }

    #[test]
    fn only_known_notice_keys_show_a_notice() {
        assert!(notice("removed").is_some());
        assert!(notice("<script>").is_none());
    }
}
