//! Headers the portal's and the console's pages share: the security headers every
//! response carries unless it set its own (each area brings its content policy), and
//! the caching of their hashed static files.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// No framing, no sniffing, no referrer to other sites (link URLs hold tokens), and
/// the area's content security policy; headers the handler set are kept.
pub(crate) fn secure(mut response: Response, content_security_policy: &'static str) -> Response {
    let headers = [
        ("content-security-policy", content_security_policy),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("x-frame-options", "DENY"),
    ];
    let map = response.headers_mut();
    for (name, value) in headers {
        map.entry(HeaderName::from_static(name)).or_insert(HeaderValue::from_static(value));
    }
    response
}

/// A static file cached for a year: its URL carries a hash of the content.
pub(crate) fn immutable_asset(content_type: &'static str, body: impl IntoResponse) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        body,
    )
        .into_response()
}
