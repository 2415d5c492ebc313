//! The portal's routes as one table: [`super::routes`] lists every method and path with
//! the access it declares, and [`super::router`] is built from that list alone, so no
//! portal route exists outside it.
//!
//! The declaration is what tests/portal/authz.rs holds each route to: it sends every
//! route, as every kind of visitor (a member of the project, a customer of another
//! project at the same company, a customer of another company, and someone signed
//! out), and fails when anyone gets further than the declared access allows or a
//! refused request changed the database. The checks themselves stay in the handlers
//! (the [`super::Customer`] and [`super::CsrfForm`] extractors,
//! [`super::Customer::role_in`]); a handler that forgets one fails that test.
//!
//! Adding a route: one line in [`super::routes`], e.g.
//! `PortalRoute::get("/projects/{id}/files/{file}", ProjectMember, files::download)`.
//! A new path parameter (`{file}`) also needs a value in the test's `fill`.

/// Who may use a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (sign-in pages, stylesheets).
    Public,
    /// Any signed-in customer; the route shows or changes only their own things. When
    /// its path names something (`/profile/picture/{user_id}`), only those who may see
    /// that thing get it; to everyone else it does not exist (404).
    SignedIn,
    /// Members of the project in the path's `{id}` (any role, viewers included); to
    /// everyone else the project does not exist.
    ProjectMember,
    /// Members of the project who may change it (not viewers); others as for
    /// [`Access::ProjectMember`].
    ProjectEditor,
}

/// One portal route: method, path, declared access, handler.
pub type PortalRoute = crate::route::Route<Access>;

#[cfg(test)]
mod tests {
    use super::*;

    async fn nothing() {}

    #[test]
    fn parameters_are_read_from_the_pattern() {
        let route = PortalRoute::get("/projects/{id}/tasks/{key}", Access::ProjectMember, nothing);
        assert_eq!(route.params().collect::<Vec<_>>(), ["id", "key"]);
        assert_eq!(format!("{route:?}"), "GET /projects/{id}/tasks/{key} (ProjectMember)");
    }
}
