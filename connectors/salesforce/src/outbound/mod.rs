//! Salesforce Outbound Messages: parsing the SOAP notification and writing the Ack
//! (<https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging.htm>).
//!
//! Outbound Messages carry no signature. Whoever receives them should check the
//! `OrganizationId`, keep the endpoint URL secret, and acknowledge (`ack(true)`) only
//! after the notifications are durably stored: Salesforce retries unacknowledged
//! messages for 24 hours, so a lost Ack costs a duplicate, a premature one costs data.

mod xml;

use std::collections::BTreeMap;

use secrecy::SecretString;

use crate::id;
use xml::{Element, truncate};

/// The content type of both the notification and the acknowledgement.
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// SOAP 1.1, which is what Salesforce sends.
pub const SOAP_ENVELOPE_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The namespace of `notifications` and `notificationsResponse`.
pub const OUTBOUND_NS: &str = "http://soap.sforce.com/2005/09/outbound";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Salesforce sends between 1 and 100 `Notification` elements per message.
pub const MAX_NOTIFICATIONS: usize = 100;

/// One Outbound Message as Salesforce posted it.
#[derive(Debug, Clone)]
pub struct OutboundMessage {
    /// The sending org's 18-character id; compare it with the org you expect.
    pub organization_id: String,
    /// The outbound-message action (`04k…`).
    pub action_id: String,
    /// Present only when the action is set to "Send Session ID". A secret.
    pub session_id: Option<SecretString>,
    pub enterprise_url: Option<String>,
    pub partner_url: Option<String>,
    pub notifications: Vec<Notification>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The notification id (`04l…`): stable across redeliveries, so the dedupe key.
    pub id: String,
    pub sobject: SObject,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SObject {
    /// The object type, `Opportunity` from `xsi:type="sf:Opportunity"`.
    pub object_type: String,
    /// The record id (the `Id` field), 18 characters.
    pub id: String,
    /// Every field sent, by API name, including `Id`; `xsi:nil="true"` becomes `None`.
    /// Values are the record's values when the message was sent, not when the change
    /// happened.
    pub fields: BTreeMap<String, Option<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("the body is not UTF-8")]
    NotUtf8,
    #[error("malformed XML: {0}")]
    Xml(String),
    #[error("document type declarations are not accepted")]
    DocType,
    #[error("unknown entity &{0};")]
    UnknownEntity(String),
    #[error("the document is nested too deeply or has too many elements")]
    TooLarge,
    #[error("not a SOAP 1.1 envelope with a body")]
    NotEnvelope,
    #[error("the SOAP body is not an Outbound Message notifications element")]
    NotNotifications,
    #[error("missing element {0}")]
    Missing(&'static str),
    #[error("element {0} appears more than once")]
    Duplicate(String),
    #[error("{0} notifications; a message carries 1 to 100")]
    NotificationCount(usize),
    #[error("{element} is not a valid 18-character Salesforce id: {value:?}")]
    InvalidId { element: &'static str, value: String },
    #[error("sObject has no xsi:type naming its object type")]
    MissingObjectType,
    #[error("field {0} has child elements; only simple values are expected")]
    NestedField(String),
}

/// Parses the body of an Outbound Message POST.
pub fn parse(body: &[u8]) -> Result<OutboundMessage, OutboundError> {
    let text = std::str::from_utf8(body).map_err(|_| OutboundError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root = xml::parse_document(text)?;
    if !root.is(SOAP_ENVELOPE_NS, "Envelope") {
        return Err(OutboundError::NotEnvelope);
    }
    let body = single(&root, SOAP_ENVELOPE_NS, "Body").ok_or(OutboundError::NotEnvelope)?;
    let notifications = match body.children.as_slice() {
        [only] if only.is(OUTBOUND_NS, "notifications") => only,
        _ => return Err(OutboundError::NotNotifications),
    };
    message(notifications)
}

fn message(n: &Element) -> Result<OutboundMessage, OutboundError> {
    let organization_id = required_id(n, "OrganizationId")?;
    let action_id = required_id(n, "ActionId")?;
    let session_id = optional_value(n, "SessionId")?.map(SecretString::from);
    let enterprise_url = optional_value(n, "EnterpriseUrl")?;
    let partner_url = optional_value(n, "PartnerUrl")?;
    let count = n.child_elements("Notification").count();
    if count == 0 || count > MAX_NOTIFICATIONS {
        return Err(OutboundError::NotificationCount(count));
    }
    let notifications = n.child_elements("Notification").map(notification).collect::<Result<_, _>>()?;
    Ok(OutboundMessage {
        organization_id,
        action_id,
        session_id,
        enterprise_url,
        partner_url,
        notifications,
    })
}

fn notification(n: &Element) -> Result<Notification, OutboundError> {
    let id = required_id(n, "Id")?;
    let sobject = unique_child(n, "sObject")?.ok_or(OutboundError::Missing("sObject"))?;
    Ok(Notification {
        id,
        sobject: sobject_of(sobject)?,
    })
}

fn sobject_of(s: &Element) -> Result<SObject, OutboundError> {
    let object_type = s
        .attr(XSI_NS, "type")
        // `sf:Opportunity`: the prefix is whatever the sender bound; the local part names the type.
        .map(|t| t.rsplit(':').next().unwrap_or(t).trim())
        .filter(|t| !t.is_empty())
        .ok_or(OutboundError::MissingObjectType)?
        .to_owned();
    let mut fields = BTreeMap::new();
    for field in &s.children {
        if !field.children.is_empty() {
            return Err(OutboundError::NestedField(truncate(&field.local, 80)));
        }
        let value = if is_nil(field) { None } else { Some(field.text.clone()) };
        if fields.insert(field.local.clone(), value).is_some() {
            return Err(OutboundError::Duplicate(format!("sObject/{}", truncate(&field.local, 80))));
        }
    }
    let id = match fields.get("Id") {
        Some(Some(id)) if id::is_valid_18(id.trim()) => id.trim().to_owned(),
        Some(Some(id)) => {
            return Err(OutboundError::InvalidId {
                element: "sObject/Id",
                value: truncate(id, 40),
            });
        }
        _ => return Err(OutboundError::Missing("sObject/Id")),
    };
    Ok(SObject { object_type, id, fields })
}

fn is_nil(e: &Element) -> bool {
    matches!(e.attr(XSI_NS, "nil").map(str::trim), Some("true" | "1"))
}

fn single<'a>(parent: &'a Element, ns: &str, local: &str) -> Option<&'a Element> {
    let mut matching = parent.children.iter().filter(|c| c.is(ns, local));
    let first = matching.next()?;
    matching.next().is_none().then_some(first)
}

fn unique_child<'a>(parent: &'a Element, local: &'static str) -> Result<Option<&'a Element>, OutboundError> {
    let mut matching = parent.child_elements(local);
    let first = matching.next();
    if matching.next().is_some() {
        return Err(OutboundError::Duplicate(local.to_owned()));
    }
    Ok(first)
}

/// The trimmed text of an optional element; nil or empty means absent.
fn optional_value(parent: &Element, local: &'static str) -> Result<Option<String>, OutboundError> {
    Ok(unique_child(parent, local)?
        .filter(|e| !is_nil(e))
        .map(|e| e.text.trim().to_owned())
        .filter(|v| !v.is_empty()))
}

fn required_id(parent: &Element, local: &'static str) -> Result<String, OutboundError> {
    let value = optional_value(parent, local)?.ok_or(OutboundError::Missing(local))?;
    if !id::is_valid_18(&value) {
        return Err(OutboundError::InvalidId {
            element: local,
            value: truncate(&value, 40),
        });
    }
    Ok(value)
}

impl OutboundMessage {
    /// A key per notification, for storing each once however often the message is
    /// redelivered, in the order of [`OutboundMessage::notifications`].
    ///
    /// The notification id alone (`om:<id>`) when it occurs once in the message, as it
    /// always does from Salesforce. When one message carries the same id more than once,
    /// the id cannot tell them apart, and keying by it alone stored only the first while
    /// the whole message was acknowledged: the rest was lost for good. Refusing such a
    /// message instead would not help: Salesforce sends the same message again for 24
    /// hours and then drops it, with every other notification in it. So those
    /// notifications are keyed by id, record and `SystemModstamp`
    /// (`om:<id>:<record>:<modstamp>`): copies that are the same change (same record,
    /// same stamp, so the same values) are stored once, different changes each, and a
    /// redelivery of the message gives the same keys. Storing one change twice costs
    /// nothing downstream, where record changes are deduplicated by record, stamp and
    /// content; dropping one would lose it.
    pub fn dedupe_keys(&self) -> Vec<String> {
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for n in &self.notifications {
            *count.entry(n.id.as_str()).or_default() += 1;
        }
        self.notifications
            .iter()
            .map(|n| {
                if count[n.id.as_str()] == 1 {
                    format!("om:{}", n.id)
                } else {
                    let stamp = n.sobject.fields.get("SystemModstamp").cloned().flatten().unwrap_or_default();
                    format!("om:{}:{}:{stamp}", n.id, n.sobject.id)
                }
            })
            .collect()
    }
}

/// The SOAP acknowledgement, as the Outbound Messaging WSDL defines it
/// (`notificationsResponse` holding an `xsd:boolean` `Ack`). Salesforce redelivers a
/// message until it receives `true`.
pub fn ack(ack: bool) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<soapenv:Envelope xmlns:soapenv="{env}"><soapenv:Body>"#,
            r#"<notificationsResponse xmlns="{out}"><Ack>{ack}</Ack></notificationsResponse>"#,
            r#"</soapenv:Body></soapenv:Envelope>"#
        ),
        env = SOAP_ENVELOPE_NS,
        out = OUTBOUND_NS,
        ack = ack
    )
}

#[cfg(test)]
mod tests;
