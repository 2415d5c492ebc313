//! A route as the portal and the console declare them: method, path, the access it
//! claims, and its handler. Each area's router is built from its table of these alone,
//! so no route exists outside a table, and the authorization tests hold every entry to
//! its declared access.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::MethodRouter;

use crate::WebState;

/// One method on one path, with its declared access and its handler.
pub struct Route<A> {
    pub method: Method,
    /// axum's pattern, `{name}` for a parameter.
    pub path: &'static str,
    pub access: A,
    pub(crate) handler: MethodRouter<WebState>,
}

impl<A: std::fmt::Debug> std::fmt::Debug for Route<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({:?})", self.method, self.path, self.access)
    }
}

impl<A> Route<A> {
    pub fn get<H, T>(path: &'static str, access: A, handler: H) -> Self
    where
        H: Handler<T, WebState>,
        T: 'static,
    {
        Self {
            method: Method::GET,
            path,
            access,
            handler: axum::routing::get(handler),
        }
    }

    pub fn post<H, T>(path: &'static str, access: A, handler: H) -> Self
    where
        H: Handler<T, WebState>,
        T: 'static,
    {
        Self {
            method: Method::POST,
            path,
            access,
            handler: axum::routing::post(handler),
        }
    }

    /// The path's parameters, in order (`/projects/{id}/tasks/{key}` → `id`, `key`).
    pub fn params(&self) -> impl Iterator<Item = &'static str> {
        self.path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|s| s.trim_start_matches('*'))
    }
}
