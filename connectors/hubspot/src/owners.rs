//! CRM owners: the HubSpot users records are assigned to (`hubspot_owner_id` and custom
//! "HubSpot user" properties hold an owner's `id`). Read-only.
//!
//! - `GET /crm/v3/owners?limit&after&archived` lists them, paged like records.
//! - `GET /crm/v3/owners/{ownerId}` reads one (`idProperty=id` by default).
//!
//! An owner has two ids: `id`, the one records hold, and `userId`, the user's id in the
//! settings API, which cannot be used to assign records.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::objects::Page;
use crate::{Client, Result};

/// The most owners one list page returns.
pub const LIST_LIMIT: u32 = 500;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    /// `PERSON` or `QUEUE`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub user_id: Option<u64>,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub teams: Vec<OwnerTeam>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OwnerTeam {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub primary: bool,
}

impl Client {
    /// Every owner (active ones, or archived ones with `archived`), following paging.
    pub async fn owners(&self, archived: bool) -> Result<Vec<Owner>> {
        let url = self.url(&self.paths().owners, &[]);
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![("limit", LIST_LIMIT.to_string()), ("archived", archived.to_string())];
            if let Some(after) = &after {
                query.push(("after", after.clone()));
            }
            let page: Page<Owner> = self.json(self.get(url.clone(), query)).await?;
            let next = page.next_after().map(str::to_owned);
            all.extend(page.results);
            match next {
                Some(next) if Some(&next) != after.as_ref() => after = Some(next),
                _ => return Ok(all),
            }
        }
    }

    /// One owner by its owner id, or `None` when there is none.
    pub async fn owner(&self, id: &str) -> Result<Option<Owner>> {
        let url = self.url(&self.paths().owners, &[id]);
        match self.json(self.get(url, vec![("idProperty", "id".to_owned())])).await {
            Ok(o) => Ok(Some(o)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_parses_with_both_ids_and_teams() {
        let body = r#"{"id":"6166860","email":"jsmith@example.com","type":"PERSON","firstName":"John","lastName":"Smith",
            "userId":1296619,"createdAt":"2019-10-30T03:30:17.883Z","updatedAt":"2019-12-07T16:50:06.678Z","archived":false,
            "teams":[{"id":"178588","name":"West Coast Sales","primary":true}]}"#;
        let o: Owner = serde_json::from_str(body).unwrap();
        assert_eq!(o.id, "6166860");
        assert_eq!(o.user_id, Some(1_296_619));
        assert_eq!(o.email.as_deref(), Some("jsmith@example.com"));
        assert!(o.teams[0].primary);
        let page: Page<Owner> = serde_json::from_str(r#"{"results":[{"id":"1"}],"paging":{"next":{"after":"2"}}}"#).unwrap();
        assert_eq!(page.next_after(), Some("2"));
    }
}
