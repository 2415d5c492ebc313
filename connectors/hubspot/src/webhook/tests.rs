//! Known answers were computed with Python's hashlib/hmac from the B7 algorithms and
//! cross-checked with @hubspot/api-client 14's `Signature.getSignature`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};

use super::*;

const SECRET: &str = "my-secret";
const BODY: &[u8] = br#"[{"eventId":1}]"#;
const URI: &str = "https://example.com/webhooks/hubspot?a=1&b=2";
const TS: &str = "1700000000000";
const V1: &str = "50f2405f75d7d45e1994988ce2942415de0597195d939c15c6f6bb080d4a57c0";
const V2: &str = "6fbf099f687f1d64fc8fac5a9b6bb826c501902fbf0f198a81c0491fa2473fe7";
const V3: &str = "ZykCnUyj1YZ4G6rMIooM7VHBLAWWYULWUm0mwqu6wD8=";

fn at_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

fn verifier() -> Verifier {
    Verifier::new(SECRET.to_owned().into())
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

fn v3_headers(signature: &str, ts: &str) -> HeaderMap {
    headers(&[(SIGNATURE_V3_HEADER, signature), (TIMESTAMP_HEADER, ts)])
}

#[test]
fn v1_signature_matches_the_known_answer() {
    assert_eq!(sign_v1(SECRET, BODY), V1);
}

#[test]
fn v2_signature_matches_the_known_answer() {
    assert_eq!(sign_v2(SECRET, "POST", URI, BODY), V2);
}

#[test]
fn v3_signature_matches_the_known_answer() {
    assert_eq!(sign_v3(SECRET, "POST", URI, BODY, TS), V3);
    assert_eq!(V3.len(), 44, "standard padded base64 of 32 bytes");
}

#[test]
fn v3_signature_is_computed_over_the_decoded_uri() {
    let encoded = "https://example.com/hooks/a%3Ab%40c%21%24%27%28%29%2A%2C%3B?x=1%20y";
    let expected = "aWUBc2AbJlVKDoxUMf/HW9RBk6QAqbQ17dZ+angSF6A=";
    assert_eq!(sign_v3(SECRET, "POST", encoded, b"[]", TS), expected);
    assert_eq!(
        sign_v3(SECRET, "POST", "https://example.com/hooks/a:b@c!$'()*,;?x=1%20y", b"[]", TS),
        expected
    );
}

#[test]
fn uri_decoding_follows_the_documented_table_and_nothing_else() {
    let table = [
        ("%3A", ":"),
        ("%2F", "/"),
        ("%3F", "?"),
        ("%40", "@"),
        ("%21", "!"),
        ("%24", "$"),
        ("%27", "'"),
        ("%28", "("),
        ("%29", ")"),
        ("%2A", "*"),
        ("%2C", ","),
        ("%3B", ";"),
    ];
    for (escape, character) in table {
        assert_eq!(decode_uri(&format!("x{escape}y")), format!("x{character}y"), "{escape}");
        assert_eq!(decode_uri(&format!("x{}y", escape.to_ascii_lowercase())), format!("x{character}y"));
    }
    for kept in ["%20", "%26", "%3D", "%25", "%2", "%", "%zz", "%E2%82%AC"] {
        assert_eq!(decode_uri(&format!("a{kept}b")), format!("a{kept}b"), "{kept} stays encoded");
    }
    assert_eq!(decode_uri("https://h/p?q=1"), "https://h/p?q=1", "the query's ? is left as is");
    assert_eq!(decode_uri("https://h/é%3A€"), "https://h/é:€", "non-ASCII text survives");
}

#[test]
fn a_fresh_v3_request_is_accepted() {
    let now = at_ms(1_700_000_000_000 + 1_000);
    assert_eq!(
        verifier().verify("POST", URI, &v3_headers(V3, TS), BODY, now).unwrap(),
        SignatureVersion::V3
    );
}

#[test]
fn a_v3_request_signed_over_an_encoded_uri_verifies_against_the_uri_as_received() {
    let received = "https://example.com/hooks/a%3Ab?x=1";
    let signature = sign_v3(SECRET, "POST", "https://example.com/hooks/a:b?x=1", BODY, TS);
    let result = verifier().verify("POST", received, &v3_headers(&signature, TS), BODY, at_ms(1_700_000_000_000));
    assert_eq!(result.unwrap(), SignatureVersion::V3);
}

#[test]
fn a_tampered_body_is_a_mismatch() {
    let result = verifier().verify("POST", URI, &v3_headers(V3, TS), br#"[{"eventId":2}]"#, at_ms(1_700_000_000_000));
    assert!(matches!(result, Err(SignatureError::Mismatch)), "{result:?}");
}

#[test]
fn a_different_method_uri_or_secret_is_a_mismatch() {
    let now = at_ms(1_700_000_000_000);
    let h = v3_headers(V3, TS);
    assert!(matches!(
        verifier().verify("PUT", URI, &h, BODY, now),
        Err(SignatureError::Mismatch)
    ));
    assert!(matches!(
        verifier().verify("POST", "https://example.com/other", &h, BODY, now),
        Err(SignatureError::Mismatch)
    ));
    let other = Verifier::new("other".to_owned().into());
    assert!(matches!(other.verify("POST", URI, &h, BODY, now), Err(SignatureError::Mismatch)));
}

#[test]
fn a_signature_over_a_different_timestamp_is_a_mismatch() {
    let result = verifier().verify("POST", URI, &v3_headers(V3, "1700000000001"), BODY, at_ms(1_700_000_000_000));
    assert!(matches!(result, Err(SignatureError::Mismatch)), "{result:?}");
}

#[test]
fn a_timestamp_exactly_five_minutes_old_is_accepted_and_one_ms_older_is_stale() {
    let sent = 1_700_000_000_000;
    assert!(
        verifier()
            .verify("POST", URI, &v3_headers(V3, TS), BODY, at_ms(sent + 300_000))
            .is_ok()
    );
    let result = verifier().verify("POST", URI, &v3_headers(V3, TS), BODY, at_ms(sent + 300_001));
    assert!(matches!(result, Err(SignatureError::Stale { age_ms: 300_001 })), "{result:?}");
}

#[test]
fn a_timestamp_from_the_future_beyond_the_skew_is_rejected() {
    let sent = 1_700_000_000_000;
    let within = verifier().verify("POST", URI, &v3_headers(V3, TS), BODY, at_ms(sent - 30_000));
    assert!(within.is_ok(), "30 s ahead is within the default skew");
    let beyond = verifier().verify("POST", URI, &v3_headers(V3, TS), BODY, at_ms(sent - 30_001));
    assert!(
        matches!(beyond, Err(SignatureError::FromTheFuture { ahead_ms: 30_001 })),
        "{beyond:?}"
    );
    let strict = verifier().with_future_skew(Duration::ZERO);
    let result = strict.verify("POST", URI, &v3_headers(V3, TS), BODY, at_ms(sent - 1));
    assert!(matches!(result, Err(SignatureError::FromTheFuture { ahead_ms: 1 })), "{result:?}");
}

#[test]
fn a_stale_timestamp_is_rejected_before_the_signature_is_checked() {
    let result = verifier().verify("POST", URI, &v3_headers("not-even-base64", TS), BODY, at_ms(1_800_000_000_000));
    assert!(matches!(result, Err(SignatureError::Stale { .. })), "{result:?}");
}

#[test]
fn missing_headers_are_named() {
    let now = at_ms(1_700_000_000_000);
    let none = verifier().verify("POST", URI, &HeaderMap::new(), BODY, now);
    assert!(matches!(none, Err(SignatureError::Missing(SIGNATURE_V3_HEADER))), "{none:?}");
    let no_ts = verifier().verify("POST", URI, &headers(&[(SIGNATURE_V3_HEADER, V3)]), BODY, now);
    assert!(matches!(no_ts, Err(SignatureError::Missing(TIMESTAMP_HEADER))), "{no_ts:?}");
}

#[test]
fn malformed_timestamps_are_rejected() {
    let now = at_ms(1_700_000_000_000);
    for ts in [
        "",
        "abc",
        "-5",
        "1.7e12",
        "170000000000000000000000",
        " 1700000000000",
        "1700000000000 ",
    ] {
        let result = verifier().verify("POST", URI, &v3_headers(V3, ts), BODY, now);
        assert!(matches!(result, Err(SignatureError::Malformed(_))), "{ts:?}: {result:?}");
    }
    let mut h = v3_headers(V3, TS);
    h.insert(TIMESTAMP_HEADER, HeaderValue::from_bytes(b"17\xff").unwrap());
    assert!(matches!(
        verifier().verify("POST", URI, &h, BODY, now),
        Err(SignatureError::Malformed(_))
    ));
}

#[test]
fn a_plus_signed_timestamp_is_refused_even_when_signed_over_its_literal_text() {
    // `u64::from_str` accepts "+1700000000000"; the header must be digits only.
    let now = at_ms(1_700_000_000_000);
    let plus = "+1700000000000";
    let signature = sign_v3(SECRET, "POST", URI, BODY, plus);
    let result = verifier().verify("POST", URI, &v3_headers(&signature, plus), BODY, now);
    assert!(matches!(result, Err(SignatureError::Malformed(_))), "{result:?}");
    for ts in ["+0", "0x1", "1_700_000_000_000", "\u{0661}700000000000"] {
        let signature = sign_v3(SECRET, "POST", URI, BODY, ts);
        let result = verifier().verify("POST", URI, &v3_headers(&signature, ts), BODY, now);
        assert!(matches!(result, Err(SignatureError::Malformed(_))), "{ts:?}: {result:?}");
    }
}

#[test]
fn legacy_signatures_are_refused_unless_configured() {
    let h = headers(&[(SIGNATURE_HEADER, V1), (SIGNATURE_VERSION_HEADER, "v1")]);
    let result = verifier().verify("POST", URI, &h, BODY, SystemTime::now());
    assert!(matches!(result, Err(SignatureError::LegacyNotAllowed)), "{result:?}");
}

#[test]
fn v1_and_v2_are_accepted_when_configured() {
    let legacy = verifier().accept_legacy(true);
    let v1 = headers(&[(SIGNATURE_HEADER, V1), (SIGNATURE_VERSION_HEADER, "v1")]);
    assert_eq!(
        legacy.verify("POST", URI, &v1, BODY, SystemTime::now()).unwrap(),
        SignatureVersion::V1
    );
    let v2 = headers(&[(SIGNATURE_HEADER, &V2.to_ascii_uppercase()), (SIGNATURE_VERSION_HEADER, "V2")]);
    assert_eq!(
        legacy.verify("POST", URI, &v2, BODY, SystemTime::now()).unwrap(),
        SignatureVersion::V2
    );
}

#[test]
fn legacy_signatures_that_do_not_match_or_lack_a_version_are_rejected() {
    let legacy = verifier().accept_legacy(true);
    let wrong = headers(&[(SIGNATURE_HEADER, V2), (SIGNATURE_VERSION_HEADER, "v1")]);
    assert!(matches!(
        legacy.verify("POST", URI, &wrong, BODY, SystemTime::now()),
        Err(SignatureError::Mismatch)
    ));
    let unversioned = headers(&[(SIGNATURE_HEADER, V1)]);
    let result = legacy.verify("POST", URI, &unversioned, BODY, SystemTime::now());
    assert!(
        matches!(result, Err(SignatureError::Missing(SIGNATURE_VERSION_HEADER))),
        "{result:?}"
    );
    let unknown = headers(&[(SIGNATURE_HEADER, V1), (SIGNATURE_VERSION_HEADER, "v9")]);
    assert!(matches!(
        legacy.verify("POST", URI, &unknown, BODY, SystemTime::now()),
        Err(SignatureError::Malformed(_))
    ));
}

#[test]
fn v3_is_preferred_when_both_kinds_of_header_are_present() {
    let mut h = v3_headers(V3, TS);
    h.insert(SIGNATURE_HEADER, HeaderValue::from_static("garbage"));
    let result = verifier().verify("POST", URI, &h, BODY, at_ms(1_700_000_000_000));
    assert_eq!(result.unwrap(), SignatureVersion::V3);
}

#[test]
fn the_verifier_debug_output_hides_the_secret() {
    let shown = format!("{:?}", verifier());
    assert!(!shown.contains(SECRET), "{shown}");
}

const FIXTURE: &str = r#"[{"appId":3715530,"eventId":123,"subscriptionId":2764049,"portalId":123456,"occurredAt":1755648123000,
  "subscriptionType":"deal.propertyChange","attemptNumber":0,"objectId":4658499851,"changeSource":"USER",
  "sourceId":"userId:864745280","propertyName":"dealstage","propertyValue":"presentationscheduled"}]"#;

#[test]
fn a_property_change_batch_parses_into_typed_events() {
    let events = parse_batch(FIXTURE.as_bytes()).unwrap();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(
        (e.event_id, e.subscription_id, e.portal_id, e.app_id),
        (123, 2_764_049, 123_456, Some(3_715_530))
    );
    assert_eq!(e.occurred_at, 1_755_648_123_000);
    assert_eq!(e.object_id, Some(4_658_499_851));
    assert_eq!(e.property_name.as_deref(), Some("dealstage"));
    assert_eq!(e.property_value.as_deref(), Some("presentationscheduled"));
    assert_eq!(e.change_source.as_deref(), Some("USER"));
    assert_eq!(e.object_type(), "deal");
    assert_eq!(e.change(), "propertyChange");
    assert!(e.extra.is_empty());
}

#[test]
fn the_legacy_event_type_key_is_accepted() {
    let body =
        r#"[{"eventId":1,"subscriptionId":2,"portalId":3,"occurredAt":4,"eventType":"contact.creation","attemptNumber":1,"objectId":5}]"#;
    let events = parse_batch(body.as_bytes()).unwrap();
    assert_eq!(events[0].subscription_type, "contact.creation");
    assert_eq!(events[0].object_type(), "contact");
}

#[test]
fn association_and_unknown_fields_are_kept() {
    let body = r#"[{"eventId":1,"subscriptionId":2,"portalId":3,"occurredAt":4,"subscriptionType":"deal.associationChange",
        "attemptNumber":0,"objectId":5,"associationType":"DEAL_TO_CONTACT","fromObjectId":5,"toObjectId":6,
        "associationRemoved":false,"isPrimaryAssociation":true,"sourceId":"x","futureField":{"a":1}}]"#;
    let e = &parse_batch(body.as_bytes()).unwrap()[0];
    assert_eq!(e.association_type.as_deref(), Some("DEAL_TO_CONTACT"));
    assert_eq!(
        (e.from_object_id, e.to_object_id, e.association_removed),
        (Some(5), Some(6), Some(false))
    );
    assert_eq!(e.is_primary_association, Some(true));
    assert_eq!(e.extra["futureField"]["a"], 1);
    let round_trip: Event = serde_json::from_str(&serde_json::to_string(e).unwrap()).unwrap();
    assert_eq!(&round_trip, e);
}

#[test]
fn the_dedupe_key_ignores_the_attempt_number_and_separates_different_changes() {
    let first = parse_batch(FIXTURE.as_bytes()).unwrap().remove(0);
    let retry = Event {
        attempt_number: 3,
        ..first.clone()
    };
    assert_eq!(first.dedupe_key(), retry.dedupe_key());
    let same_id_other_change = Event {
        occurred_at: first.occurred_at + 1,
        ..first.clone()
    };
    assert_ne!(first.dedupe_key(), same_id_other_change.dedupe_key());
    let other_property = Event {
        property_name: Some("amount".into()),
        ..first.clone()
    };
    assert_ne!(first.dedupe_key(), other_property.dedupe_key());
    let other_portal = Event {
        portal_id: 1,
        ..first.clone()
    };
    assert_ne!(first.dedupe_key(), other_portal.dedupe_key());
}

#[test]
fn association_added_and_removed_have_different_dedupe_keys() {
    let body = r#"[{"eventId":1,"subscriptionId":2,"portalId":3,"occurredAt":4,"subscriptionType":"deal.associationChange",
        "objectId":5,"associationType":"DEAL_TO_CONTACT","fromObjectId":5,"toObjectId":6,"associationRemoved":false}]"#;
    let added = parse_batch(body.as_bytes()).unwrap().remove(0);
    let removed = Event {
        association_removed: Some(true),
        ..added.clone()
    };
    assert_ne!(added.dedupe_key(), removed.dedupe_key());
}

fn batch_of(n: usize) -> String {
    let one =
        r#"{"eventId":1,"subscriptionId":2,"portalId":3,"occurredAt":4,"subscriptionType":"deal.creation","attemptNumber":0,"objectId":5}"#;
    format!("[{}]", vec![one; n].join(","))
}

#[test]
fn a_batch_of_one_hundred_events_is_accepted() {
    assert_eq!(parse_batch(batch_of(100).as_bytes()).unwrap().len(), 100);
}

#[test]
fn a_batch_of_more_than_one_hundred_events_is_refused() {
    let result = parse_batch(batch_of(101).as_bytes());
    assert!(matches!(result, Err(ParseError::TooMany { count: 101 })), "{result:?}");
}

#[test]
fn an_empty_batch_is_refused() {
    assert!(matches!(parse_batch(b"[]"), Err(ParseError::Empty)));
}

#[test]
fn bodies_that_are_not_event_arrays_are_refused() {
    for body in [&b"{}"[..], b"", b"not json", b"[{\"eventId\":1}]", b"[1,2]", b"[{}] trailing"] {
        assert!(
            matches!(parse_batch(body), Err(ParseError::Json(_))),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn an_association_change_without_object_id_names_its_record_by_from_object_id() {
    let body = br#"[{"eventId":1,"subscriptionId":2,"portalId":3,"appId":4,"occurredAt":5,"subscriptionType":"deal.associationChange",
        "attemptNumber":0,"associationType":"DEAL_TO_CONTACT","fromObjectId":30,"toObjectId":10,"associationRemoved":true}]"#;
    let events = parse_batch(body).unwrap();
    assert_eq!(events[0].object_id, None);
    assert_eq!(events[0].record_id(), Some(30));
    assert!(events[0].dedupe_key().contains(":30:"), "{}", events[0].dedupe_key());
}
