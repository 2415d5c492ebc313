//! Path families (<https://developers.hubspot.com/docs/api-reference/latest/overview>): the legacy numeric paths (`/crm/v3/…`,
//! `/crm/v4/…`, `/oauth/v1/…`) and the date-versioned ones (`/crm/objects/2026-03/…`).
//! Both take the same request and response shapes; only the prefixes differ.

/// The prefixes the client puts in front of each API family. Build one with
/// [`ApiPaths::legacy`] or [`ApiPaths::dated`], or set the fields for anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiPaths {
    /// Records, batch and search: `/crm/v3/objects` or `/crm/objects/2026-03`.
    pub objects: String,
    /// Per-record associations with labels: `/crm/v4/objects` or `/crm/objects/2026-03`.
    pub record_associations: String,
    /// Batch associations and labels: `/crm/v4/associations` or `/crm/associations/2026-03`.
    pub associations: String,
    /// Property definitions: `/crm/v3/properties` or `/crm/properties/2026-03`.
    pub properties: String,
    /// OAuth token endpoint: `/oauth/v1/token` or `/oauth/2026-03/token`.
    pub oauth_token: String,
    /// Account information and API usage: `/account-info/v3` or `/account-info/2026-03`.
    pub account_info: String,
    /// CRM owners (the users records are assigned to): `/crm/v3/owners` or `/crm/owners/2026-03`.
    pub owners: String,
}

/// The newest date version at the time of writing (2026-09 is announced).
pub const DEFAULT_DATE_VERSION: &str = "2026-03";

impl ApiPaths {
    /// `/crm/v3/…`, `/crm/v4/…`, `/oauth/v1/token`: supported until September 2027.
    pub fn legacy() -> Self {
        Self {
            objects: "/crm/v3/objects".into(),
            record_associations: "/crm/v4/objects".into(),
            associations: "/crm/v4/associations".into(),
            properties: "/crm/v3/properties".into(),
            oauth_token: "/oauth/v1/token".into(),
            account_info: "/account-info/v3".into(),
            owners: "/crm/v3/owners".into(),
        }
    }

    /// `/{api}/{version}/…` for a date version such as `2026-03`.
    pub fn dated(version: &str) -> Self {
        Self {
            objects: format!("/crm/objects/{version}"),
            record_associations: format!("/crm/objects/{version}"),
            associations: format!("/crm/associations/{version}"),
            properties: format!("/crm/properties/{version}"),
            oauth_token: format!("/oauth/{version}/token"),
            account_info: format!("/account-info/{version}"),
            owners: format!("/crm/owners/{version}"),
        }
    }
}

impl Default for ApiPaths {
    /// The legacy family: it is what every HubSpot account accepts today.
    fn default() -> Self {
        Self::legacy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dated_paths_put_the_version_after_the_api_name() {
        let p = ApiPaths::dated("2026-09");
        assert_eq!(p.objects, "/crm/objects/2026-09");
        assert_eq!(p.associations, "/crm/associations/2026-09");
        assert_eq!(p.properties, "/crm/properties/2026-09");
        assert_eq!(p.oauth_token, "/oauth/2026-09/token");
        assert_eq!(p.owners, "/crm/owners/2026-09");
    }

    #[test]
    fn legacy_paths_use_v3_for_objects_and_v4_for_associations() {
        let p = ApiPaths::legacy();
        assert_eq!(p.objects, "/crm/v3/objects");
        assert_eq!(p.record_associations, "/crm/v4/objects");
        assert_eq!(p.associations, "/crm/v4/associations");
    }
}
