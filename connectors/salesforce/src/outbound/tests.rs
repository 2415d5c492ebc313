use secrecy::ExposeSecret;

use super::*;

const ORG: &str = "00D5e000000AbcdEAC";
const ACTION: &str = "04k5e000000Xyz1AAC";
const NOTE_1: &str = "04l5e00000AbCdEAAV";
const NOTE_2: &str = "04l5e00000AbCdFAAV";
const OPP_1: &str = "0065e00000FgHiJAAV";
const OPP_2: &str = "0065e00000FgHiKAAV";
const ACCOUNT: &str = "0015e00000QrStUAAV";

/// An envelope shaped exactly like Salesforce's Outbound Message WSDL sample (<https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging.htm>).
fn envelope(session: &str, notifications: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{ORG}</OrganizationId>
   <ActionId>{ACTION}</ActionId>
   {session}
   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/67.0/00D5e000000Abcd</EnterpriseUrl>
   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/67.0/00D5e000000Abcd</PartnerUrl>
   {notifications}
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>"#
    )
}

fn opportunity(note: &str, opp: &str, stage: &str) -> String {
    format!(
        r#"<Notification>
    <Id>{note}</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>{opp}</sf:Id>
     <sf:AccountId>{ACCOUNT}</sf:AccountId>
     <sf:Amount xsi:nil="true"/>
     <sf:Name>Acme &amp; Sons — Renewal</sf:Name>
     <sf:StageName>{stage}</sf:StageName>
    </sObject>
   </Notification>"#
    )
}

fn two_notifications() -> String {
    envelope(
        r#"<SessionId xsi:nil="true"/>"#,
        &(opportunity(NOTE_1, OPP_1, "Closed Won") + &opportunity(NOTE_2, OPP_2, "Negotiation")),
    )
}

#[test]
fn a_documented_envelope_with_two_notifications_parses_fully() {
    let message = parse(two_notifications().as_bytes()).unwrap();
    assert_eq!(message.organization_id, ORG);
    assert_eq!(message.action_id, ACTION);
    assert!(message.session_id.is_none(), "xsi:nil session id is absent");
    assert_eq!(
        message.enterprise_url.as_deref(),
        Some("https://acme.my.salesforce.com/services/Soap/c/67.0/00D5e000000Abcd")
    );
    assert!(message.partner_url.as_deref().unwrap().contains("/Soap/u/67.0/"));
    assert_eq!(message.notifications.len(), 2);

    let first = &message.notifications[0];
    assert_eq!(first.id, NOTE_1);
    assert_eq!(first.sobject.object_type, "Opportunity");
    assert_eq!(first.sobject.id, OPP_1);
    let fields = &first.sobject.fields;
    assert_eq!(fields["Id"].as_deref(), Some(OPP_1));
    assert_eq!(fields["AccountId"].as_deref(), Some(ACCOUNT));
    assert_eq!(fields["Amount"], None, "xsi:nil fields are None");
    assert_eq!(fields["Name"].as_deref(), Some("Acme & Sons — Renewal"));
    assert_eq!(fields["StageName"].as_deref(), Some("Closed Won"));
    assert_eq!(fields.len(), 5);

    let second = &message.notifications[1];
    assert_eq!((second.id.as_str(), second.sobject.id.as_str()), (NOTE_2, OPP_2));
    assert_eq!(second.sobject.fields["StageName"].as_deref(), Some("Negotiation"));
}

#[test]
fn a_session_id_is_kept_secret_and_out_of_debug_output() {
    let body = envelope(
        "<SessionId>00D5e!AQ4AQSECRETSESSION</SessionId>",
        &opportunity(NOTE_1, OPP_1, "Prospecting"),
    );
    let message = parse(body.as_bytes()).unwrap();
    assert_eq!(message.session_id.as_ref().unwrap().expose_secret(), "00D5e!AQ4AQSECRETSESSION");
    assert!(!format!("{message:?}").contains("SECRETSESSION"));
}

#[test]
fn other_namespace_prefixes_and_character_references_are_understood() {
    let body = format!(
        r#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><e:Body>
        <o:notifications xmlns:o="http://soap.sforce.com/2005/09/outbound"><o:OrganizationId>{ORG}</o:OrganizationId>
        <o:ActionId>{ACTION}</o:ActionId><o:Notification><o:Id>{NOTE_1}</o:Id>
        <o:sObject i:type="x:Contact" xmlns:x="urn:sobject.enterprise.soap.sforce.com"><x:Id>{OPP_1}</x:Id>
        <x:Title>VP &#x2013; Sales &lt;EMEA&gt;</x:Title><x:Notes><![CDATA[a <b> & c]]></x:Notes><x:Phone i:nil="1"/>
        </o:sObject></o:Notification></o:notifications></e:Body></e:Envelope>"#
    );
    let message = parse(body.as_bytes()).unwrap();
    let sobject = &message.notifications[0].sobject;
    assert_eq!(sobject.object_type, "Contact");
    assert_eq!(sobject.fields["Title"].as_deref(), Some("VP – Sales <EMEA>"));
    assert_eq!(sobject.fields["Notes"].as_deref(), Some("a <b> & c"));
    assert_eq!(sobject.fields["Phone"], None);
    assert_eq!(message.enterprise_url, None);
}

#[test]
fn the_ack_follows_the_wsdl_and_parses_back_as_xml() {
    let yes = ack(true);
    assert!(
        yes.contains(r#"<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse>"#)
    );
    assert!(yes.contains(r#"xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/""#));
    assert!(ack(false).contains("<Ack>false</Ack>"));
    let root = xml::parse_document(&yes).unwrap();
    assert!(root.is(SOAP_ENVELOPE_NS, "Envelope"));
    let response = &root.children[0].children[0];
    assert!(response.is(OUTBOUND_NS, "notificationsResponse"));
    assert_eq!(response.children[0].text, "true");
    assert_eq!(CONTENT_TYPE, "text/xml; charset=utf-8");
}

fn error_of(body: &str) -> OutboundError {
    parse(body.as_bytes()).unwrap_err()
}

#[test]
fn a_missing_organization_id_is_refused() {
    let body = two_notifications().replace(&format!("<OrganizationId>{ORG}</OrganizationId>"), "");
    assert!(matches!(error_of(&body), OutboundError::Missing("OrganizationId")));
}

#[test]
fn ids_with_a_bad_checksum_or_length_are_refused() {
    let bad_org = two_notifications().replace(ORG, "00D5e000000AbcdAAA");
    assert!(matches!(
        error_of(&bad_org),
        OutboundError::InvalidId {
            element: "OrganizationId",
            ..
        }
    ));
    let short = two_notifications().replace(NOTE_1, "04l5e00000AbCdE");
    assert!(matches!(error_of(&short), OutboundError::InvalidId { element: "Id", .. }));
    let bad_record = two_notifications().replace(OPP_2, "0065e00000FgHiKAAA");
    assert!(matches!(
        error_of(&bad_record),
        OutboundError::InvalidId { element: "sObject/Id", .. }
    ));
}

#[test]
fn zero_or_more_than_a_hundred_notifications_are_refused() {
    let none = envelope("", "");
    assert!(matches!(error_of(&none), OutboundError::NotificationCount(0)));
    let many: String = (0..101).map(|_| opportunity(NOTE_1, OPP_1, "X")).collect();
    assert!(matches!(error_of(&envelope("", &many)), OutboundError::NotificationCount(101)));
    let hundred: String = (0..100).map(|_| opportunity(NOTE_1, OPP_1, "X")).collect();
    assert_eq!(parse(envelope("", &hundred).as_bytes()).unwrap().notifications.len(), 100);
}

#[test]
fn documents_that_are_not_notification_envelopes_are_refused() {
    assert!(matches!(error_of("<notifications/>"), OutboundError::NotEnvelope));
    let soap12 = two_notifications().replace(SOAP_ENVELOPE_NS, "http://www.w3.org/2003/05/soap-envelope");
    assert!(matches!(error_of(&soap12), OutboundError::NotEnvelope));
    let wrong_ns = two_notifications().replace(OUTBOUND_NS, "http://example.com/other");
    assert!(matches!(error_of(&wrong_ns), OutboundError::NotNotifications));
    let response = ack(true);
    assert!(matches!(error_of(&response), OutboundError::NotNotifications));
}

#[test]
fn a_notification_without_an_sobject_type_or_with_nested_fields_is_refused() {
    let untyped = two_notifications().replace(r#" xsi:type="sf:Opportunity""#, "");
    assert!(matches!(error_of(&untyped), OutboundError::MissingObjectType));
    let nested = two_notifications().replace("<sf:StageName>Closed Won</sf:StageName>", "<sf:Stage><sf:X>1</sf:X></sf:Stage>");
    assert!(matches!(error_of(&nested), OutboundError::NestedField(_)));
    let twice = two_notifications().replace("<sf:StageName>Closed Won</sf:StageName>", "<sf:Name>a</sf:Name>");
    assert!(matches!(error_of(&twice), OutboundError::Duplicate(_)));
}

#[test]
fn doctype_and_entity_tricks_are_refused() {
    let billion_laughs = format!(
        r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>{}"#,
        two_notifications()
            .replace(r#"<?xml version="1.0" encoding="UTF-8"?>"#, "")
            .replace("Closed Won", "&lol2;")
    );
    assert!(matches!(error_of(&billion_laughs), OutboundError::DocType));
    let external = r#"<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>"#;
    assert!(matches!(error_of(external), OutboundError::DocType));
    let undeclared = two_notifications().replace("Closed Won", "&xxe;");
    assert!(matches!(error_of(&undeclared), OutboundError::UnknownEntity(_)));
}

#[test]
fn hostile_or_broken_input_returns_errors_without_panicking() {
    let valid = two_notifications();
    let cases: Vec<Vec<u8>> = vec![
        vec![],
        b"   ".to_vec(),
        vec![0xff, 0xfe, 0x00],
        b"<".to_vec(),
        b"<a><b></a></b>".to_vec(),
        b"<a>&#0;</a>".to_vec(),
        b"<a>&#xFFFFFFFF;</a>".to_vec(),
        b"<x:a/>".to_vec(),
        b"<a/><b/>".to_vec(),
        b"text<a/>".to_vec(),
        b"<a attr='1' attr='2'/>".to_vec(),
        br#"<?xml version="1.0" encoding="ISO-8859-1"?><a/>"#.to_vec(),
        "<a>".repeat(10_000).into_bytes(),
        valid.as_bytes()[..valid.len() / 2].to_vec(),
    ];
    for case in cases {
        assert!(parse(&case).is_err(), "accepted {:?}", String::from_utf8_lossy(&case));
    }
    // Every prefix of a valid message: none may panic, and only the whole one succeeds.
    for end in (0..valid.len()).filter(|&i| valid.is_char_boundary(i)) {
        let _ = parse(&valid.as_bytes()[..end]);
    }
    assert!(parse(valid.as_bytes()).is_ok());
}

#[test]
fn a_byte_order_mark_is_tolerated() {
    let body = format!("\u{feff}{}", two_notifications());
    assert!(parse(body.as_bytes()).is_ok());
}

#[test]
fn dedupe_keys_are_the_notification_id_and_tell_apart_different_changes_sharing_one() {
    let message = parse(two_notifications().as_bytes()).unwrap();
    assert_eq!(message.dedupe_keys(), [format!("om:{NOTE_1}"), format!("om:{NOTE_2}")]);
    // One id twice: two records, then the same record at another stamp, then an exact copy.
    let stamped = |opp: &str, stamp: &str| {
        opportunity(NOTE_1, opp, "Closed Won").replace("</sObject>", &format!("<sf:SystemModstamp>{stamp}</sf:SystemModstamp></sObject>"))
    };
    let body = envelope(
        "",
        &[
            stamped(OPP_1, "2026-11-23T10:15:00.000Z"),
            stamped(OPP_2, "2026-11-23T10:15:00.000Z"),
            stamped(OPP_1, "2026-11-23T10:16:00.000Z"),
            stamped(OPP_1, "2026-11-23T10:15:00.000Z"),
        ]
        .concat(),
    );
    let keys = parse(body.as_bytes()).unwrap().dedupe_keys();
    assert_eq!(
        keys,
        [
            format!("om:{NOTE_1}:{OPP_1}:2026-11-23T10:15:00.000Z"),
            format!("om:{NOTE_1}:{OPP_2}:2026-11-23T10:15:00.000Z"),
            format!("om:{NOTE_1}:{OPP_1}:2026-11-23T10:16:00.000Z"),
            format!("om:{NOTE_1}:{OPP_1}:2026-11-23T10:15:00.000Z"),
        ]
    );
    // The same message again gives the same keys.
    assert_eq!(parse(body.as_bytes()).unwrap().dedupe_keys(), keys);
}
