use super::*;

fn page() -> QueryResult {
    serde_json::from_str(
        r#"{"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v67.0/query/01gD0000002HU6KIAW-2000",
        "records":[
          {"attributes":{"type":"Opportunity","url":"/services/data/v67.0/sobjects/Opportunity/0065e00000FgHiJAAV"},
           "Id":"0065e00000FgHiJAAV","Name":"Acme","Amount":1500.5,"IsWon":true,
           "SystemModstamp":"2026-05-07T22:07:19.000+0000",
           "Account":{"attributes":{"type":"Account","url":"/x"},"Name":"Acme Inc"},
           "OpportunityContactRoles":{"totalSize":2,"done":true,"records":[
             {"attributes":{"type":"OpportunityContactRole","url":"/y"},"Id":"00K5e00000AbCdEAAV","ContactId":"0035e00000AbCdEAAV",
              "Role":"Decision Maker","IsPrimary":true,
              "Contact":{"attributes":{"type":"Contact","url":"/z"},"Email":"ada@acme.test","FirstName":"Ada"}},
             {"attributes":{"type":"OpportunityContactRole","url":"/y2"},"Id":"00K5e00000AbCdFAAV","ContactId":"0035e00000AbCdFAAV",
              "Role":null,"IsPrimary":false,"Contact":null}]}},
          {"attributes":{"type":"Opportunity","url":"/u"},"Id":"0065e00000FgHiKAAV","Name":"Beta","Amount":null,
           "Account":null,"OpportunityContactRoles":null}
        ]}"#,
    )
    .unwrap()
}

#[test]
fn a_query_page_exposes_paging_and_totals() {
    let page = page();
    assert_eq!(page.total_size, 3);
    assert!(!page.done);
    assert_eq!(
        page.next_records_url.as_deref(),
        Some("/services/data/v67.0/query/01gD0000002HU6KIAW-2000")
    );
    assert_eq!(page.records.len(), 2);
}

#[test]
fn record_fields_parents_and_datetimes_are_readable() {
    let record = &page().records[0];
    assert_eq!(record.object_type(), Some("Opportunity"));
    assert_eq!(record.id(), Some("0065e00000FgHiJAAV"));
    assert_eq!(record.get("Amount").and_then(Value::as_f64), Some(1500.5));
    assert_eq!(record.get_bool("IsWon"), Some(true));
    assert_eq!(record.get_str("Account.Name"), Some("Acme Inc"));
    assert_eq!(record.get_str("account.name"), Some("Acme Inc"), "SOQL names are case-insensitive");
    assert_eq!(record.parent("Account").unwrap().object_type(), Some("Account"));
    assert_eq!(
        crate::datetime::soql_literal(record.system_modstamp().unwrap()),
        "2026-05-07T22:07:19Z"
    );
    assert!(!record.fields.contains_key("attributes"));
}

#[test]
fn child_subquery_rows_are_parsed_with_their_parents() {
    let record = &page().records[0];
    let roles = record.children("OpportunityContactRoles").unwrap();
    assert_eq!(roles.total_size, 2);
    assert!(roles.done);
    assert_eq!(roles.records[0].get_str("Role"), Some("Decision Maker"));
    assert_eq!(roles.records[0].get_str("Contact.Email"), Some("ada@acme.test"));
    assert_eq!(roles.records[1].get_str("Role"), None);
    assert!(roles.records[1].parent("Contact").is_none());
}

#[test]
fn null_parents_and_empty_subqueries_read_as_absent() {
    let record = &page().records[1];
    assert!(record.parent("Account").is_none());
    assert_eq!(record.get_str("Account.Name"), None);
    let roles = record.children("OpportunityContactRoles").unwrap();
    assert!(roles.records.is_empty() && roles.done);
    assert!(record.children("Missing").unwrap().records.is_empty());
}

#[test]
fn a_malformed_child_result_is_a_decode_error() {
    let record: Record = serde_json::from_str(r#"{"Id":"x","OpportunityContactRoles":{"records":"nope"}}"#).unwrap();
    assert!(matches!(record.children("OpportunityContactRoles"), Err(Error::Decode { .. })));
}

#[test]
fn records_convert_into_typed_structs() {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Opp {
        id: String,
        name: String,
        amount: Option<f64>,
    }
    let opp: Opp = page().records[1].to().unwrap();
    assert_eq!(
        (opp.id.as_str(), opp.name.as_str(), opp.amount),
        ("0065e00000FgHiKAAV", "Beta", None)
    );
}

#[test]
fn a_record_without_an_id_field_takes_its_id_from_the_attributes_url() {
    let record: Record = serde_json::from_str(
        r#"{"attributes":{"type":"Opportunity","url":"/services/data/v67.0/sobjects/Opportunity/0065e00000FgHiJAAV"},"Name":"A"}"#,
    )
    .unwrap();
    assert_eq!(record.id(), Some("0065e00000FgHiJAAV"));
    let odd: Record = serde_json::from_str(r#"{"attributes":{"type":"X","url":"/x/not-an-id"}}"#).unwrap();
    assert_eq!(odd.id(), None);
}

#[test]
fn a_last_page_without_next_url_is_done() {
    let last: QueryResult = serde_json::from_str(r#"{"totalSize":1,"done":true,"records":[{"Id":"a"}]}"#).unwrap();
    assert!(last.done && last.next_records_url.is_none());
    assert!(last.records[0].attributes.is_none());
}

#[test]
fn batch_sizes_outside_salesforce_bounds_are_refused() {
    let ok = QueryOptions {
        batch_size: Some(200),
        ..Default::default()
    };
    assert_eq!(ok.headers().unwrap(), vec![("Sforce-Query-Options", "batchSize=200".to_owned())]);
    for bad in [0, 199, 2001] {
        let options = QueryOptions {
            batch_size: Some(bad),
            ..Default::default()
        };
        assert!(options.headers().is_err(), "{bad}");
    }
}

#[test]
fn soql_literals_escape_quotes_and_backslashes() {
    assert_eq!(quote("O'Brien"), r"'O\'Brien'");
    assert_eq!(quote(r"a\b"), r"'a\\b'");
    assert_eq!(quote("x' OR Name != '"), r"'x\' OR Name != \''");
    assert_eq!(quote("line\nbreak"), r"'line\nbreak'");
}
