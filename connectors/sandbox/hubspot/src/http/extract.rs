//! Request parsing: JSON bodies with HubSpot's malformed-JSON error, repeated query parameters,
//! and object types from paths.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::objects::ObjectType;

/// A JSON body; bad JSON gets HubSpot's 400 rather than axum's plain-text rejection.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::validation(format!("Could not read the request body: {e}")))?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::malformed_json(&e))
    }
}

/// Query parameters, keeping repeats (`properties=a&properties=b`).
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let q = parts.uri.query().unwrap_or("");
        Ok(Params(form_urlencoded::parse(q.as_bytes()).into_owned().collect()))
    }
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of a list parameter, whether repeated or comma-separated.
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        let values: Vec<String> = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
            .collect();
        let present = self.0.iter().any(|(k, _)| k == name);
        present.then_some(values)
    }

    pub fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

/// Resolves an object type named in a path, with HubSpot's error for unknown ones.
pub fn object_type(name: &str) -> Result<ObjectType, ApiError> {
    ObjectType::parse(name).ok_or_else(|| ApiError::validation(format!("Unable to infer object type from: {name}")))
}

/// Record ids are numeric in HubSpot; anything else cannot exist.
pub fn record_id(object: ObjectType, raw: &str) -> Result<u64, ApiError> {
    raw.trim().parse::<u64>().map_err(|_| ApiError::object_not_found(object, raw))
}
