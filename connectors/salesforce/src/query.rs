//! SOQL queries: `query` / `queryAll`, `nextRecordsUrl` paging, and the records they
//! return (<https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql.htm>).

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{Call, Client, Target};
use crate::error::{Error, Result};

/// `attributes` on every record: its type and REST URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    #[serde(rename = "type")]
    pub object_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A record as SOQL returns it: `attributes` plus the selected fields. Parent
/// relationships (`Contact.Email`) are nested records; child subqueries are nested
/// query results (see [`Record::children`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Attributes>,
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

impl Record {
    pub fn object_type(&self) -> Option<&str> {
        self.attributes.as_ref().map(|a| a.object_type.as_str())
    }

    /// The `Id` field, or when it was not selected, the id at the end of
    /// `attributes.url` (`/services/data/v67.0/sobjects/Opportunity/006…`).
    pub fn id(&self) -> Option<&str> {
        self.get_str("Id").or_else(|| {
            let url = self.attributes.as_ref()?.url.as_deref()?;
            url.rsplit('/').next().filter(|id| crate::id::normalize(id).is_some())
        })
    }

    /// A field by name; dotted paths follow parent relationships (`Contact.Email`).
    /// Names match case-insensitively, as in SOQL, preferring an exact match.
    pub fn get(&self, path: &str) -> Option<&Value> {
        let mut fields = &self.fields;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            let value = lookup(fields, part)?;
            if parts.peek().is_none() {
                return Some(value);
            }
            fields = value.as_object()?;
        }
        None
    }

    /// A string field; `None` when absent, null or not a string.
    pub fn get_str(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(Value::as_str)
    }

    pub fn get_bool(&self, path: &str) -> Option<bool> {
        self.get(path).and_then(Value::as_bool)
    }

    /// A datetime field such as `SystemModstamp` or `LastModifiedDate`.
    pub fn get_datetime(&self, path: &str) -> Option<DateTime<Utc>> {
        self.get_str(path).and_then(crate::datetime::parse)
    }

    pub fn system_modstamp(&self) -> Option<DateTime<Utc>> {
        self.get_datetime("SystemModstamp")
    }

    /// A parent relationship (`Account`, `Contact`) as a record; `None` when absent or null.
    pub fn parent(&self, relationship: &str) -> Option<Record> {
        let value = self.get(relationship)?;
        value.is_object().then(|| serde_json::from_value(value.clone()).ok()).flatten()
    }

    /// A child subquery's rows (`OpportunityContactRoles`). Salesforce writes `null`
    /// for a subquery with no rows, which comes back as an empty result. A child result
    /// with `done: false` has more rows behind its `next_records_url`.
    pub fn children(&self, relationship: &str) -> Result<QueryResult> {
        match self.get(relationship) {
            None | Some(Value::Null) => Ok(QueryResult::default()),
            Some(value) => QueryResult::deserialize(value).map_err(|e| Error::decode(relationship, e)),
        }
    }

    /// The fields as a typed struct (the `attributes` key is left out).
    pub fn to<T: DeserializeOwned>(&self) -> Result<T> {
        T::deserialize(Value::Object(self.fields.clone())).map_err(|e| Error::decode("record", e))
    }
}

fn lookup<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    fields
        .get(name)
        .or_else(|| fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// One page of a query (or a child subquery's rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResult<R = Record> {
    /// Rows in the whole result set, not in this page.
    #[serde(default)]
    pub total_size: u64,
    #[serde(default = "yes")]
    pub done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_records_url: Option<String>,
    #[serde(default = "Vec::new")]
    pub records: Vec<R>,
}

fn yes() -> bool {
    true
}

impl<R> Default for QueryResult<R> {
    fn default() -> Self {
        Self {
            total_size: 0,
            done: true,
            next_records_url: None,
            records: Vec::new(),
        }
    }
}

/// How a query runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryOptions {
    /// `queryAll`: include soft-deleted (`IsDeleted = true`) and archived rows.
    pub include_deleted: bool,
    /// Rows per page, 200 to 2,000 (`Sforce-Query-Options: batchSize=N`). Salesforce
    /// may return fewer; child rows count toward it.
    pub batch_size: Option<u32>,
}

impl QueryOptions {
    fn headers(&self) -> Result<Vec<(&'static str, String)>> {
        match self.batch_size {
            None => Ok(Vec::new()),
            Some(n @ 200..=2000) => Ok(vec![("Sforce-Query-Options", format!("batchSize={n}"))]),
            Some(n) => Err(Error::InvalidInput(format!("batch size {n} is outside 200..=2000"))),
        }
    }
}

impl Client {
    /// The first page of a SOQL query.
    pub async fn query(&self, soql: &str) -> Result<QueryResult> {
        self.query_with(soql, QueryOptions::default()).await
    }

    /// The first page of a SOQL query, with options.
    pub async fn query_with(&self, soql: &str, options: QueryOptions) -> Result<QueryResult> {
        let resource = if options.include_deleted { "queryAll" } else { "query" };
        let mut call = Call::get(Target::Api(resource));
        call.query.push(("q", soql.to_owned()));
        call.headers = options.headers()?;
        self.execute(&call).await?.json(resource)
    }

    /// The page behind a `nextRecordsUrl` (of a query or of a child subquery).
    pub async fn query_more(&self, next_records_url: &str, options: QueryOptions) -> Result<QueryResult> {
        let mut call = Call::get(Target::ServerPath(next_records_url));
        call.headers = options.headers()?;
        self.execute(&call).await?.json("nextRecordsUrl")
    }

    /// Pages through a query lazily: one call per [`QueryPager::next_page`].
    pub fn query_pages(&self, soql: &str, options: QueryOptions) -> QueryPager {
        QueryPager {
            client: self.clone(),
            soql: soql.to_owned(),
            options,
            state: PagerState::NotStarted,
        }
    }

    /// Every row of a query, all pages fetched. For large results prefer
    /// [`Client::query_pages`], which lets the caller store each page as it comes.
    pub async fn query_all_records(&self, soql: &str, options: QueryOptions) -> Result<Vec<Record>> {
        let mut pager = self.query_pages(soql, options);
        let mut records = Vec::new();
        while let Some(page) = pager.next_page().await? {
            records.extend(page.records);
        }
        Ok(records)
    }
}

/// A query read page by page.
pub struct QueryPager {
    client: Client,
    soql: String,
    options: QueryOptions,
    state: PagerState,
}

enum PagerState {
    NotStarted,
    Next(String),
    Finished,
}

impl QueryPager {
    /// The next page, or `None` once the last page was returned. After an error the
    /// same page can be asked for again.
    pub async fn next_page(&mut self) -> Result<Option<QueryResult>> {
        let page = match &self.state {
            PagerState::Finished => return Ok(None),
            PagerState::NotStarted => self.client.query_with(&self.soql, self.options).await?,
            PagerState::Next(url) => self.client.query_more(url, self.options).await?,
        };
        self.state = match (&page.done, &page.next_records_url) {
            (false, Some(url)) => PagerState::Next(url.clone()),
            _ => PagerState::Finished,
        };
        Ok(Some(page))
    }

    /// The locator of the page to be read next, to resume after a restart (locators
    /// expire after about 15 minutes of inactivity).
    pub fn next_records_url(&self) -> Option<&str> {
        match &self.state {
            PagerState::Next(url) => Some(url),
            _ => None,
        }
    }
}

/// A SOQL string literal: `'O\'Brien'`. Use it for every value put into a query.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests;
