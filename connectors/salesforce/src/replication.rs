//! `getUpdated` and `getDeleted`: which records changed or were deleted in a window
//! (<https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_getupdated.htm>).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;

use crate::client::{Call, Client, Target, check_api_name};
use crate::error::{Error, Result};

/// `GET /sobjects/{O}/updated/`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdatedRecords {
    #[serde(default)]
    pub ids: Vec<String>,
    /// Use this as the next window's start: during a long transaction it is that
    /// transaction's start, not the requested end.
    #[serde(deserialize_with = "crate::datetime::deserialize")]
    pub latest_date_covered: DateTime<Utc>,
}

/// `GET /sobjects/{O}/deleted/`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedRecords {
    #[serde(default)]
    pub deleted_records: Vec<DeletedRecord>,
    /// The oldest point the delete log still covers.
    #[serde(default, deserialize_with = "crate::datetime::deserialize_opt")]
    pub earliest_date_available: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::datetime::deserialize")]
    pub latest_date_covered: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedRecord {
    pub id: String,
    #[serde(deserialize_with = "crate::datetime::deserialize")]
    pub deleted_date: DateTime<Utc>,
}

impl DeletedRecords {
    /// Whether the delete log was purged past `start`: deletes in between are lost and
    /// only a full resync can find them.
    pub fn log_purged_since(&self, start: DateTime<Utc>) -> bool {
        self.earliest_date_available.is_some_and(|earliest| earliest > start)
    }
}

/// Replication parameters are ISO 8601 in UTC; Salesforce ignores the seconds.
fn param(dt: DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::Secs, false)
}

impl Client {
    /// Ids of `object` records created or updated in `[start, end)` (at most 30 days
    /// back; start must be before end).
    pub async fn get_updated(&self, object: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<UpdatedRecords> {
        self.replication(object, "updated", start, end).await
    }

    /// `object` records deleted in `[start, end)` (at most 15 days back).
    pub async fn get_deleted(&self, object: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<DeletedRecords> {
        self.replication(object, "deleted", start, end).await
    }

    async fn replication<T: serde::de::DeserializeOwned>(
        &self,
        object: &str,
        kind: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<T> {
        check_api_name("object", object)?;
        if start >= end {
            return Err(Error::InvalidInput("the window's start must be before its end".into()));
        }
        let path = format!("sobjects/{object}/{kind}/");
        let mut call = Call::get(Target::Api(&path));
        call.query = vec![("start", param(start)), ("end", param(end))];
        self.execute(&call).await?.json(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_get_updated_response_is_parsed() {
        let updated: UpdatedRecords =
            serde_json::from_str(r#"{"ids":["a00D0000008pQR5IAM"],"latestDateCovered":"2013-05-08T21:20:00.000+0000"}"#).unwrap();
        assert_eq!(updated.ids, vec!["a00D0000008pQR5IAM".to_owned()]);
        assert_eq!(param(updated.latest_date_covered), "2013-05-08T21:20:00+00:00");
    }

    #[test]
    fn the_documented_get_deleted_response_is_parsed_and_purges_are_detected() {
        let deleted: DeletedRecords = serde_json::from_str(
            r#"{"deletedRecords":[{"id":"a00D0000008pQRAIA2","deletedDate":"2013-05-07T22:07:19.000+0000"}],
               "earliestDateAvailable":"2013-05-03T15:57:00.000+0000","latestDateCovered":"2013-05-08T21:20:00.000+0000"}"#,
        )
        .unwrap();
        assert_eq!(deleted.deleted_records[0].id, "a00D0000008pQRAIA2");
        let before = crate::datetime::parse("2013-05-01T00:00:00Z").unwrap();
        let after = crate::datetime::parse("2013-05-04T00:00:00Z").unwrap();
        assert!(deleted.log_purged_since(before));
        assert!(!deleted.log_purged_since(after));
    }

    #[test]
    fn a_response_with_a_bad_date_fails_to_parse() {
        assert!(serde_json::from_str::<UpdatedRecords>(r#"{"ids":[],"latestDateCovered":"soon"}"#).is_err());
    }
}
