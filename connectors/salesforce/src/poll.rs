//! Incremental polling by `SystemModstamp` (<https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_getupdated.htm>).
//!
//! `SystemModstamp` (not `LastModifiedDate`) changes on automated updates too and is
//! indexed. A transaction that runs long can commit rows stamped before the time a
//! poll ran, so each poll starts an overlap window before the cursor; callers dedupe
//! on `(Id, SystemModstamp)`, which keeps repeated edits of one record apart.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::datetime::soql_literal;
use crate::error::{Error, Result};
use crate::query::Record;

/// No official figure exists; five minutes covers ordinary long transactions.
pub const DEFAULT_OVERLAP: Duration = Duration::minutes(5);

/// Contact-role columns read in the same query as the opportunity.
pub const DEFAULT_CONTACT_ROLE_FIELDS: &[&str] = &[
    "Id",
    "ContactId",
    "Role",
    "IsPrimary",
    "SystemModstamp",
    "Contact.Email",
    "Contact.FirstName",
    "Contact.LastName",
];

/// The relationship name of OpportunityContactRole under Opportunity.
pub const CONTACT_ROLES_RELATIONSHIP: &str = "OpportunityContactRoles";

/// Builds the SOQL for one incremental poll:
/// `SELECT … FROM O WHERE SystemModstamp >= cursor − overlap ORDER BY SystemModstamp, Id`.
#[derive(Debug, Clone)]
pub struct PollQuery {
    object: String,
    fields: Vec<String>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    overlap: Duration,
    contact_roles: Option<Vec<String>>,
}

impl PollQuery {
    /// `Id` and `SystemModstamp` are always selected; `fields` adds to them.
    pub fn new(object: &str, fields: &[&str]) -> Self {
        Self {
            object: object.to_owned(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            since: None,
            until: None,
            overlap: DEFAULT_OVERLAP,
            contact_roles: None,
        }
    }

    /// The cursor: the largest `SystemModstamp` durably processed. Without one the
    /// query reads everything (a backfill).
    pub fn since(mut self, cursor: DateTime<Utc>) -> Self {
        self.since = Some(cursor);
        self
    }

    /// An exclusive upper bound, to read a fixed window.
    pub fn until(mut self, end: DateTime<Utc>) -> Self {
        self.until = Some(end);
        self
    }

    pub fn overlap(mut self, overlap: Duration) -> Self {
        self.overlap = overlap;
        self
    }

    /// Adds the `OpportunityContactRoles` subquery with [`DEFAULT_CONTACT_ROLE_FIELDS`].
    pub fn with_contact_roles(self) -> Self {
        self.contact_role_fields(DEFAULT_CONTACT_ROLE_FIELDS)
    }

    /// Adds the `OpportunityContactRoles` subquery with the given columns.
    pub fn contact_role_fields(mut self, fields: &[&str]) -> Self {
        self.contact_roles = Some(fields.iter().map(|f| (*f).to_owned()).collect());
        self
    }

    /// Where this poll's window starts: the cursor minus the overlap.
    pub fn window_start(&self) -> Option<DateTime<Utc>> {
        self.since.map(|cursor| cursor - self.overlap)
    }

    /// The SOQL text. Names are checked, so no caller input can change the query's shape.
    pub fn soql(&self) -> Result<String> {
        let mut conditions = Vec::new();
        if let Some(start) = self.window_start() {
            conditions.push(format!("SystemModstamp >= {}", soql_literal(start)));
        }
        if let Some(end) = self.until {
            conditions.push(format!("SystemModstamp < {}", soql_literal(end)));
        }
        self.build(&conditions)
    }

    /// The same columns for the given records (`WHERE Id IN (…)`), e.g. to read the
    /// records an Outbound Message named. The time window is not applied. Keep `ids`
    /// to a few hundred: SOQL text is limited to 100,000 characters.
    pub fn soql_for_ids<S: AsRef<str>>(&self, ids: &[S]) -> Result<String> {
        if ids.is_empty() {
            return Err(Error::InvalidInput("no ids to read".into()));
        }
        let mut quoted = Vec::with_capacity(ids.len());
        for id in ids {
            let id = crate::id::normalize(id.as_ref())
                .ok_or_else(|| Error::InvalidInput(format!("{:?} is not a Salesforce id", id.as_ref())))?;
            quoted.push(format!("'{id}'"));
        }
        self.build(&[format!("Id IN ({})", quoted.join(", "))])
    }

    fn build(&self, conditions: &[String]) -> Result<String> {
        check_name(&self.object, false)?;
        let mut columns = vec!["Id".to_owned(), "SystemModstamp".to_owned()];
        for field in &self.fields {
            check_name(field, true)?;
            if !columns.iter().any(|c| c.eq_ignore_ascii_case(field)) {
                columns.push(field.clone());
            }
        }
        if let Some(role_fields) = &self.contact_roles {
            for field in role_fields {
                check_name(field, true)?;
            }
            columns.push(format!("(SELECT {} FROM {CONTACT_ROLES_RELATIONSHIP})", role_fields.join(", ")));
        }
        let mut soql = format!("SELECT {} FROM {}", columns.join(", "), self.object);
        if !conditions.is_empty() {
            soql.push_str(" WHERE ");
            soql.push_str(&conditions.join(" AND "));
        }
        // Id breaks ties, so rows sharing a stamp come back in a stable order.
        soql.push_str(" ORDER BY SystemModstamp, Id");
        Ok(soql)
    }
}

fn check_name(name: &str, allow_path: bool) -> Result<()> {
    let valid_part = |p: &str| {
        !p.is_empty()
            && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && p.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
    };
    let ok = if allow_path {
        name.split('.').all(valid_part)
    } else {
        valid_part(name)
    };
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!("{name:?} is not a field or object API name")))
    }
}

/// The cursor to store after the given records are durably processed: the largest
/// `SystemModstamp` among them (never earlier than `previous`).
pub fn next_cursor<'a>(previous: Option<DateTime<Utc>>, records: impl IntoIterator<Item = &'a Record>) -> Option<DateTime<Utc>> {
    records.into_iter().filter_map(Record::system_modstamp).chain(previous).max()
}

/// One OpportunityContactRole row as read by the poll subquery.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContactRole {
    pub id: String,
    pub contact_id: Option<String>,
    pub role: Option<String>,
    #[serde(default)]
    pub is_primary: bool,
    /// `Contact.Email`; `None` when not selected, empty, or the contact is gone.
    #[serde(skip)]
    pub email: Option<String>,
    #[serde(skip)]
    pub first_name: Option<String>,
    #[serde(skip)]
    pub last_name: Option<String>,
}

/// The contact roles of an opportunity read with [`PollQuery::with_contact_roles`].
/// Rows beyond the first page of the subquery (rare: more than a few hundred roles on
/// one opportunity) are behind `children(..).next_records_url`; this reads only the
/// rows present.
pub fn contact_roles(opportunity: &Record) -> Result<Vec<ContactRole>> {
    let rows = opportunity.children(CONTACT_ROLES_RELATIONSHIP)?;
    rows.records
        .iter()
        .map(|row| {
            let mut role: ContactRole = row.to()?;
            role.email = row.get_str("Contact.Email").map(str::to_owned);
            role.first_name = row.get_str("Contact.FirstName").map(str::to_owned);
            role.last_name = row.get_str("Contact.LastName").map(str::to_owned);
            Ok(role)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn cursor() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 30).unwrap()
    }

    #[test]
    fn the_poll_query_starts_an_overlap_before_the_cursor_and_orders_by_stamp_then_id() {
        let soql = PollQuery::new("Opportunity", &["Name", "StageName", "Id"])
            .since(cursor())
            .soql()
            .unwrap();
        assert_eq!(
            soql,
            "SELECT Id, SystemModstamp, Name, StageName FROM Opportunity WHERE SystemModstamp >= 2026-05-01T11:55:30Z ORDER BY SystemModstamp, Id"
        );
    }

    #[test]
    fn the_contact_role_subquery_reads_contact_emails_in_the_same_call() {
        let soql = PollQuery::new("Opportunity", &["StageName"])
            .since(cursor())
            .until(cursor() + Duration::hours(1))
            .overlap(Duration::zero())
            .with_contact_roles()
            .soql()
            .unwrap();
        assert!(soql.contains(
            "(SELECT Id, ContactId, Role, IsPrimary, SystemModstamp, Contact.Email, Contact.FirstName, Contact.LastName FROM OpportunityContactRoles)"
        ));
        assert!(soql.contains("WHERE SystemModstamp >= 2026-05-01T12:00:30Z AND SystemModstamp < 2026-05-01T13:00:30Z"));
    }

    #[test]
    fn without_a_cursor_the_poll_reads_everything_in_order() {
        let soql = PollQuery::new("Contact", &[]).soql().unwrap();
        assert_eq!(soql, "SELECT Id, SystemModstamp FROM Contact ORDER BY SystemModstamp, Id");
    }

    #[test]
    fn a_query_by_ids_reads_the_same_columns_for_checked_ids() {
        let query = PollQuery::new("Opportunity", &["Name"]).since(cursor()).with_contact_roles();
        let soql = query.soql_for_ids(&["0065e00000FgHiJ", "0065e00000FgHiKAAV"]).unwrap();
        assert!(soql.starts_with("SELECT Id, SystemModstamp, Name, (SELECT "));
        assert!(soql.ends_with("FROM Opportunity WHERE Id IN ('0065e00000FgHiJAAV', '0065e00000FgHiKAAV') ORDER BY SystemModstamp, Id"));
        assert!(query.soql_for_ids(&["0065e00000FgHiJ' OR Name != '"]).is_err());
        assert!(query.soql_for_ids::<&str>(&[]).is_err());
    }

    #[test]
    fn names_that_would_inject_soql_are_refused() {
        assert!(PollQuery::new("Opportunity WHERE 1=1", &[]).soql().is_err());
        assert!(PollQuery::new("Opportunity", &["Name, (SELECT Id FROM X)"]).soql().is_err());
        assert!(
            PollQuery::new("Opportunity", &[])
                .contact_role_fields(&["Contact.Email", ""])
                .soql()
                .is_err()
        );
        assert!(PollQuery::new("Custom__c", &["Account.Owner.Email", "My_Field__c"]).soql().is_ok());
    }

    #[test]
    fn the_next_cursor_is_the_largest_stamp_seen_and_never_moves_back() {
        let records: Vec<Record> = serde_json::from_value(serde_json::json!([
            {"Id": "a", "SystemModstamp": "2026-05-01T12:00:00.000+0000"},
            {"Id": "b", "SystemModstamp": "2026-05-01T12:05:00.000+0000"},
            {"Id": "c"}
        ]))
        .unwrap();
        let next = next_cursor(Some(cursor()), &records).unwrap();
        assert_eq!(soql_literal(next), "2026-05-01T12:05:00Z");
        assert_eq!(next_cursor(Some(cursor()), &records[..1]), Some(cursor()));
        assert_eq!(next_cursor(None, &[]), None);
    }

    #[test]
    fn contact_roles_come_out_typed_with_their_contact_details() {
        let opp: Record = serde_json::from_value(serde_json::json!({
            "Id": "0065e00000FgHiJAAV",
            "OpportunityContactRoles": {"totalSize": 2, "done": true, "records": [
                {"attributes": {"type": "OpportunityContactRole"}, "Id": "00K1", "ContactId": "0031", "Role": "Economic Buyer",
                 "IsPrimary": true, "Contact": {"attributes": {"type": "Contact"}, "Email": "a@b.test", "FirstName": "A", "LastName": "B"}},
                {"Id": "00K2", "ContactId": "0032", "Role": null, "IsPrimary": false, "Contact": null}
            ]}
        }))
        .unwrap();
        let roles = contact_roles(&opp).unwrap();
        assert_eq!(roles.len(), 2);
        assert_eq!(roles[0].role.as_deref(), Some("Economic Buyer"));
        assert!(roles[0].is_primary);
        assert_eq!(roles[0].email.as_deref(), Some("a@b.test"));
        assert_eq!(roles[1].email, None);
        assert_eq!(roles[1].role, None);
    }
}
