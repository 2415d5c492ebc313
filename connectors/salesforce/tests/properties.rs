//! Properties of the parsers that face outside input: ids and Outbound Messages.

use crm_salesforce::{id, outbound};
use proptest::prelude::*;

const VALID: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>
 <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
  <OrganizationId>00D5e000000AbcdEAC</OrganizationId><ActionId>04k5e000000Xyz1AAC</ActionId>
  <SessionId xsi:nil="true"/>
  <Notification><Id>04l5e00000AbCdEAAV</Id>
   <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>0065e00000FgHiJAAV</sf:Id><sf:StageName>Won</sf:StageName></sObject>
  </Notification></notifications></soapenv:Body></soapenv:Envelope>"#;

fn id15() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9]{15}"
}

proptest! {
    #[test]
    fn every_18_character_id_made_from_a_15_character_id_is_valid(id in id15()) {
        let full = id::to_18(&id).unwrap();
        prop_assert!(id::is_valid_18(&full));
        prop_assert_eq!(&full[..15], id.as_str());
        prop_assert_eq!(id::normalize(&full), Some(full.clone()));
    }

    #[test]
    fn flipping_the_case_of_any_letter_invalidates_the_id(id in id15(), at in 0usize..15) {
        let full = id::to_18(&id).unwrap();
        let c = full.as_bytes()[at];
        prop_assume!(c.is_ascii_alphabetic());
        let mut bytes = full.into_bytes();
        bytes[at] ^= 0x20;
        prop_assert!(!id::is_valid_18(&String::from_utf8(bytes).unwrap()));
    }

    #[test]
    fn id_checks_never_panic_on_any_string(s in "\\PC{0,24}") {
        let _ = id::to_18(&s);
        let _ = id::is_valid_18(&s);
        let _ = id::normalize(&s);
    }

    #[test]
    fn outbound_parsing_never_panics_on_arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = outbound::parse(&body);
    }

    #[test]
    fn outbound_parsing_never_panics_on_a_mutated_valid_message(
        cuts in proptest::collection::vec((0usize..VALID.len(), any::<u8>()), 1..6)
    ) {
        let mut body = VALID.as_bytes().to_vec();
        for (at, byte) in cuts {
            body[at] = byte;
        }
        let _ = outbound::parse(&body);
    }
}

#[test]
fn the_message_the_mutations_start_from_is_valid() {
    let message = outbound::parse(VALID.as_bytes()).unwrap();
    assert_eq!(message.notifications[0].sobject.fields["StageName"].as_deref(), Some("Won"));
}
