//! The API budget from `X-HubSpot-RateLimit-*` response headers (<https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines>).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::client::Client;
use crate::error::Result;
use crate::wire::Page;

/// A row of `GET /account-info/v3/api-usage/daily/private-apps`: the daily figures, which
/// HubSpot does not send as headers on OAuth calls.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DailyUsage {
    pub name: String,
    #[serde(default)]
    pub usage_limit: Option<u64>,
    #[serde(default)]
    pub current_usage: Option<u64>,
    #[serde(default)]
    pub collected_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub fetch_status: Option<String>,
    #[serde(default)]
    pub resets_at: Option<DateTime<Utc>>,
}

impl Client {
    /// The account's daily API usage (this call counts against it too).
    pub async fn daily_usage(&self) -> Result<Vec<DailyUsage>> {
        let url = self.url(&self.paths().account_info, &["api-usage", "daily", "private-apps"]);
        let page: Page<DailyUsage> = self.json(self.get(url, Vec::new())).await?;
        Ok(page.results)
    }
}
