//! CRM search (<https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm>): filter groups (ORed) of filters (ANDed), one sort,
//! `limit` ≤ 200, offsets below 10,000, 5 requests per second.

use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::objects::{Object, Paging};

pub const MAX_LIMIT: u32 = 200;
/// Search returns at most this many results per query; `after` must stay below it.
pub const MAX_RESULTS: u32 = 10_000;
pub const MAX_FILTER_GROUPS: usize = 5;
pub const MAX_FILTERS_PER_GROUP: usize = 6;
pub const MAX_FILTERS: usize = 18;
/// HubSpot refuses longer request bodies.
pub const MAX_BODY_CHARS: usize = 3_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Operator {
    Lt,
    Lte,
    Gt,
    Gte,
    Eq,
    Neq,
    Between,
    In,
    NotIn,
    HasProperty,
    NotHasProperty,
    ContainsToken,
    NotContainsToken,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    pub property_name: String,
    pub operator: Operator,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The upper bound of `BETWEEN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_value: Option<String>,
    /// For `IN` / `NOT_IN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

impl Filter {
    pub fn new(property: impl Into<String>, operator: Operator, value: impl Into<String>) -> Self {
        Self {
            property_name: property.into(),
            operator,
            value: Some(value.into()),
            high_value: None,
            values: None,
        }
    }

    pub fn eq(property: impl Into<String>, value: impl Into<String>) -> Self {
        Self::new(property, Operator::Eq, value)
    }

    pub fn gt(property: impl Into<String>, value: impl Into<String>) -> Self {
        Self::new(property, Operator::Gt, value)
    }

    pub fn gte(property: impl Into<String>, value: impl Into<String>) -> Self {
        Self::new(property, Operator::Gte, value)
    }

    pub fn lt(property: impl Into<String>, value: impl Into<String>) -> Self {
        Self::new(property, Operator::Lt, value)
    }

    pub fn between(property: impl Into<String>, low: impl Into<String>, high: impl Into<String>) -> Self {
        Self {
            high_value: Some(high.into()),
            ..Self::new(property, Operator::Between, low)
        }
    }

    /// `IN`. HubSpot wants string values in lowercase (enumeration values are
    /// case-sensitive, so they are passed through unchanged).
    pub fn in_values<I: IntoIterator<Item = S>, S: Into<String>>(property: impl Into<String>, values: I) -> Self {
        let values = values.into_iter().map(Into::into).collect();
        Self {
            property_name: property.into(),
            operator: Operator::In,
            value: None,
            high_value: None,
            values: Some(values),
        }
    }

    pub fn has_property(property: impl Into<String>) -> Self {
        Self {
            property_name: property.into(),
            operator: Operator::HasProperty,
            value: None,
            high_value: None,
            values: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterGroup {
    pub filters: Vec<Filter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    Ascending,
    Descending,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sort {
    pub property_name: String,
    pub direction: Direction,
}

impl Sort {
    pub fn ascending(property: impl Into<String>) -> Self {
        Self {
            property_name: property.into(),
            direction: Direction::Ascending,
        }
    }

    pub fn descending(property: impl Into<String>) -> Self {
        Self {
            property_name: property.into(),
            direction: Direction::Descending,
        }
    }
}

/// A search request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchRequest {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filter_groups: Vec<FilterGroup>,
    /// HubSpot accepts at most one sort.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sorts: Vec<Sort>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    pub properties: Vec<String>,
    pub limit: u32,
    /// The offset of the first result, as HubSpot's `paging.next.after` gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

impl Default for SearchRequest {
    fn default() -> Self {
        Self {
            filter_groups: Vec::new(),
            sorts: Vec::new(),
            query: None,
            properties: Vec::new(),
            limit: 100,
            after: None,
        }
    }
}

impl SearchRequest {
    /// Checks HubSpot's documented limits, so a request that would be refused with a 400
    /// is not sent (and not counted against the budget).
    pub fn validate(&self) -> Result<()> {
        let invalid = |msg: String| Err(Error::InvalidRequest(msg));
        if self.limit == 0 || self.limit > MAX_LIMIT {
            return invalid(format!("search limit must be 1..={MAX_LIMIT}, got {}", self.limit));
        }
        if self.filter_groups.len() > MAX_FILTER_GROUPS {
            return invalid(format!(
                "at most {MAX_FILTER_GROUPS} filter groups, got {}",
                self.filter_groups.len()
            ));
        }
        if self.filter_groups.iter().any(|g| g.filters.len() > MAX_FILTERS_PER_GROUP) {
            return invalid(format!("at most {MAX_FILTERS_PER_GROUP} filters per group"));
        }
        let total: usize = self.filter_groups.iter().map(|g| g.filters.len()).sum();
        if total > MAX_FILTERS {
            return invalid(format!("at most {MAX_FILTERS} filters in total, got {total}"));
        }
        if self.sorts.len() > 1 {
            return invalid("HubSpot accepts a single sort".into());
        }
        if let Some(after) = &self.after {
            match after.parse::<u32>() {
                Ok(offset) if offset >= MAX_RESULTS => {
                    return invalid(format!("search cannot page past {MAX_RESULTS} results (after = {offset})"));
                }
                Ok(_) => {}
                Err(_) => return invalid(format!("search `after` must be a numeric offset, got {after:?}")),
            }
        }
        let size = serde_json::to_string(self).map(|s| s.chars().count()).unwrap_or(usize::MAX);
        if size > MAX_BODY_CHARS {
            return invalid(format!("search body is {size} characters, more than {MAX_BODY_CHARS}"));
        }
        Ok(())
    }
}

/// A page of search results. `total` counts every match, even past the 10,000 cap.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SearchPage {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub results: Vec<Object>,
    #[serde(default)]
    pub paging: Option<Paging>,
}

impl SearchPage {
    pub fn next_after(&self) -> Option<&str> {
        self.paging.as_ref()?.next.as_ref().map(|n| n.after.as_str())
    }
}

impl Client {
    /// One page of search results. Searches through one client are spaced to respect
    /// HubSpot's 5 requests per second (see `ClientBuilder::search_interval`).
    pub async fn search(&self, object_type: &str, request: &SearchRequest) -> Result<SearchPage> {
        request.validate()?;
        let url = self.url(&self.paths().objects, &[object_type, "search"]);
        let mut call = self.with_body(reqwest::Method::POST, url, request, true)?;
        call.search = true;
        self.json(call).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> SearchRequest {
        SearchRequest {
            filter_groups: vec![FilterGroup {
                filters: vec![Filter::gte("hs_lastmodifieddate", "1700000000000")],
            }],
            sorts: vec![Sort::ascending("hs_lastmodifieddate")],
            properties: vec!["dealname".into()],
            limit: 100,
            after: Some("0".into()),
            ..SearchRequest::default()
        }
    }

    #[test]
    fn a_search_request_serializes_in_hubspot_shape() {
        let json = serde_json::to_value(request()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"filterGroups":[{"filters":[{"propertyName":"hs_lastmodifieddate","operator":"GTE","value":"1700000000000"}]}],
                "sorts":[{"propertyName":"hs_lastmodifieddate","direction":"ASCENDING"}],"properties":["dealname"],"limit":100,"after":"0"})
        );
        let between = serde_json::to_value(Filter::between("amount", "1", "9")).unwrap();
        assert_eq!(
            between,
            serde_json::json!({"propertyName":"amount","operator":"BETWEEN","value":"1","highValue":"9"})
        );
        let not_in = serde_json::to_value(Filter {
            operator: Operator::NotIn,
            ..Filter::in_values("dealstage", ["a"])
        })
        .unwrap();
        assert_eq!(not_in["operator"], "NOT_IN");
    }

    #[test]
    fn limits_over_two_hundred_are_refused_before_sending() {
        assert!(request().validate().is_ok());
        assert!(SearchRequest { limit: 200, ..request() }.validate().is_ok());
        assert!(matches!(
            SearchRequest { limit: 201, ..request() }.validate(),
            Err(Error::InvalidRequest(_))
        ));
        assert!(SearchRequest { limit: 0, ..request() }.validate().is_err());
    }

    #[test]
    fn paging_past_ten_thousand_results_is_refused_before_sending() {
        assert!(
            SearchRequest {
                after: Some("9999".into()),
                ..request()
            }
            .validate()
            .is_ok()
        );
        assert!(
            SearchRequest {
                after: Some("10000".into()),
                ..request()
            }
            .validate()
            .is_err()
        );
        assert!(
            SearchRequest {
                after: Some("abc".into()),
                ..request()
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn too_many_filters_groups_or_sorts_are_refused() {
        let group = |n: usize| FilterGroup {
            filters: vec![Filter::has_property("a"); n],
        };
        assert!(
            SearchRequest {
                filter_groups: vec![group(1); 6],
                ..request()
            }
            .validate()
            .is_err()
        );
        assert!(
            SearchRequest {
                filter_groups: vec![group(7)],
                ..request()
            }
            .validate()
            .is_err()
        );
        assert!(
            SearchRequest {
                filter_groups: vec![group(6), group(6), group(6)],
                ..request()
            }
            .validate()
            .is_ok()
        );
        assert!(
            SearchRequest {
                filter_groups: vec![group(6), group(6), group(6), group(1)],
                ..request()
            }
            .validate()
            .is_err()
        );
        assert!(
            SearchRequest {
                sorts: vec![Sort::ascending("a"), Sort::ascending("b")],
                ..request()
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn oversized_bodies_are_refused() {
        let huge = SearchRequest {
            query: Some("x".repeat(MAX_BODY_CHARS)),
            ..request()
        };
        assert!(huge.validate().is_err());
    }

    #[test]
    fn a_search_page_reads_total_results_and_the_next_offset() {
        let page: SearchPage =
            serde_json::from_str(r#"{"total":38,"results":[{"id":"1","properties":{}}],"paging":{"next":{"after":"10"}}}"#).unwrap();
        assert_eq!(page.total, 38);
        assert_eq!(page.next_after(), Some("10"));
    }
}
