//! Outbound messages (SOAP API Developer Guide, "Outbound Messaging"): workflow rules turn record changes into SOAP
//! `notifications` envelopes of at most 100 Notification elements, POSTed to the target and
//! redelivered with exponential backoff until the endpoint answers 200 with `<Ack>true</Ack>`.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::config::{OutboundRule, RetryPolicy, Trigger};
use crate::ids;
use crate::store::{Change, Record, Store};
use crate::util::{lock, read, write};

pub const MAX_NOTIFICATIONS: usize = 100;
/// The API version in the Enterprise and Partner URLs of each message.
const SOAP_VERSION: &str = "67.0";
/// How long the dispatcher gathers changes into one message.
const GATHER: Duration = Duration::from_millis(50);

/// One delivery attempt, as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundAttempt {
    /// 0 for the first delivery, then 1, 2, … for redeliveries.
    pub attempt: u32,
    pub rule: String,
    /// The record ids notified, in order.
    pub record_ids: Vec<String>,
    /// The Notification ids (stable across redeliveries: the receiver's dedupe key).
    pub notification_ids: Vec<String>,
    /// The receiver's status; `None` when it could not be reached or did not answer in time.
    pub status: Option<u16>,
    pub acked: bool,
    /// The SOAP envelope sent.
    pub body: String,
}

/// A rule with its object and fields resolved against the schema.
#[derive(Debug, Clone)]
struct ActiveRule {
    rule: OutboundRule,
    object: usize,
    field: Option<String>,
    fields: Vec<String>,
    action_id: String,
}

#[derive(Debug, Clone)]
struct Notification {
    id: String,
    record_id: String,
}

pub struct Outbound {
    target: RwLock<Option<String>>,
    rules: Vec<ActiveRule>,
    retry: RetryPolicy,
    org_id: String,
    base_url: String,
    attempts: Mutex<Vec<OutboundAttempt>>,
    /// Signalled after every attempt, so tests can wait without sleeping.
    pub progress: Notify,
    next_notification: Mutex<u64>,
}

impl Outbound {
    pub fn new(store: &Store, rules: &[OutboundRule], target: Option<String>, retry: RetryPolicy, org_id: &str, base_url: &str) -> Self {
        let active = rules.iter().enumerate().filter_map(|(i, r)| resolve_rule(store, r, i)).collect();
        Self {
            target: RwLock::new(target),
            rules: active,
            retry,
            org_id: org_id.to_string(),
            base_url: base_url.to_string(),
            attempts: Mutex::new(Vec::new()),
            progress: Notify::new(),
            next_notification: Mutex::new(0),
        }
    }

    pub fn set_target(&self, target: Option<String>) {
        *write(&self.target) = target;
    }

    pub fn attempts(&self) -> Vec<OutboundAttempt> {
        lock(&self.attempts).clone()
    }

    fn record(&self, a: OutboundAttempt) {
        lock(&self.attempts).push(a);
        self.progress.notify_waiters();
    }

    fn notification(&self, record_id: &str) -> Notification {
        let mut n = lock(&self.next_notification);
        *n += 1;
        Notification {
            id: ids::make("04l", *n),
            record_id: record_id.to_string(),
        }
    }
}

fn resolve_rule(store: &Store, r: &OutboundRule, i: usize) -> Option<ActiveRule> {
    let Some(object) = store.schema.index_of(&r.object) else {
        tracing::warn!("outbound rule {:?}: unknown object {}", r.name, r.object);
        return None;
    };
    let def = store.object(object);
    let field = match &r.field {
        Some(f) => Some(def.field(f).map(|d| d.name.clone()).or_else(|| {
            tracing::warn!("outbound rule {:?}: unknown field {f}", r.name);
            None
        })?),
        None => None,
    };
    let mut fields = vec!["Id".to_string()];
    fields.extend(
        r.fields
            .iter()
            .filter_map(|f| def.field(f).map(|d| d.name.clone()))
            .filter(|f| f != "Id"),
    );
    Some(ActiveRule {
        rule: r.clone(),
        object,
        field,
        fields,
        action_id: ids::make("04k", i as u64 + 1),
    })
}

fn criteria_met(rule: &ActiveRule, rec: &Record) -> bool {
    match (&rule.field, &rule.rule.equals) {
        (Some(f), Some(v)) => rec.value(f).as_str() == Some(v.as_str()),
        (Some(f), None) => rec.value(f).is_null(),
        _ => true,
    }
}

fn fires(rule: &ActiveRule, c: &Change) -> bool {
    let Some(after) = &c.after else { return false };
    if c.object != rule.object || !criteria_met(rule, after) {
        return false;
    }
    match (rule.rule.trigger, &c.before) {
        (Trigger::EveryEdit, _) | (_, None) => true,
        (Trigger::BecomesTrue, Some(before)) => !criteria_met(rule, before) || before.deleted_ms.is_some(),
    }
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Turns changes into messages and hands each to a delivery task, until shutdown.
pub async fn dispatch(
    ob: Arc<Outbound>,
    store: Arc<RwLock<Store>>,
    mut rx: UnboundedReceiver<Change>,
    mut shutdown: watch::Receiver<bool>,
) {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    loop {
        let first = tokio::select! {
            c = rx.recv() => c,
            _ = shutdown.wait_for(|s| *s) => None,
        };
        let Some(first) = first else { break };
        let mut changes = vec![first];
        // A moment's wait lets a burst (a collection update) share messages, as Salesforce batches.
        let deadline = Instant::now() + GATHER;
        while let Ok(Some(c)) = tokio::time::timeout_at(deadline, rx.recv()).await {
            changes.push(c);
        }
        let Some(target) = read(&ob.target).clone() else { continue };
        for (ri, rule) in ob.rules.iter().enumerate() {
            let notes: Vec<Notification> = changes.iter().filter(|c| fires(rule, c)).map(|c| ob.notification(&c.id)).collect();
            for chunk in notes.chunks(MAX_NOTIFICATIONS) {
                let job = Delivery {
                    ob: ob.clone(),
                    store: store.clone(),
                    client: client.clone(),
                    target: target.clone(),
                    rule: ri,
                    notes: chunk.to_vec(),
                };
                tokio::spawn(job.run(shutdown.clone()));
            }
        }
    }
}

struct Delivery {
    ob: Arc<Outbound>,
    store: Arc<RwLock<Store>>,
    client: HttpClient,
    target: String,
    rule: usize,
    notes: Vec<Notification>,
}

impl Delivery {
    /// Delivers until acknowledged, the retry window closes or the sandbox stops.
    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let Some(rule) = self.ob.rules.get(self.rule) else { return };
        let give_up = Instant::now() + self.ob.retry.give_up_after;
        for attempt in 0u32.. {
            // The payload carries the record's current values at send time, as in Salesforce.
            let body = envelope(&self.ob, rule, &read(&self.store), &self.notes);
            let (status, acked) = post(&self.client, &self.target, &body, self.ob.retry.timeout).await;
            self.ob.record(OutboundAttempt {
                attempt,
                rule: rule.rule.name.clone(),
                record_ids: self.notes.iter().map(|n| n.record_id.clone()).collect(),
                notification_ids: self.notes.iter().map(|n| n.id.clone()).collect(),
                status,
                acked,
                body,
            });
            let next = Instant::now() + self.ob.retry.delay(attempt + 1);
            if acked || next > give_up {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
        }
    }
}

/// POSTs one envelope; returns the status and whether the answer acknowledged it.
async fn post(client: &HttpClient, target: &str, body: &str, timeout: Duration) -> (Option<u16>, bool) {
    let req = hyper::Request::post(target)
        .header("content-type", "text/xml; charset=utf-8")
        .header("soapaction", "\"\"")
        .header("user-agent", "Jakarta Commons-HttpClient/3.1 (Salesforce sandbox)")
        .body(Full::new(Bytes::from(body.to_string())));
    let Ok(req) = req else { return (None, false) };
    let call = async {
        let resp = client.request(req).await.ok()?;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.ok()?.to_bytes();
        Some((status, is_ack(&String::from_utf8_lossy(&bytes))))
    };
    match tokio::time::timeout(timeout, call).await {
        Ok(Some((status, ack))) => (Some(status), status == 200 && ack),
        Ok(None) => (None, false),
        Err(_) => (None, false),
    }
}

/// Whether a response body holds an `Ack` element with true (any namespace prefix, WSDL's
/// `notificationsResponse` or the common `notifications` wrapper).
pub fn is_ack(body: &str) -> bool {
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let mut rest = compact.as_str();
    while let Some(i) = rest.find("Ack>") {
        let before = &rest[..i];
        // An opening tag: `<Ack>` or `<prefix:Ack>`.
        let opening = before.rfind('<').is_some_and(|j| {
            let name = &before[j + 1..];
            name.is_empty()
                || name
                    .strip_suffix(':')
                    .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'))
        });
        let value = &rest[i + 4..];
        if opening && (value.starts_with("true<") || value.starts_with("1<")) {
            return true;
        }
        rest = &rest[i + 4..];
    }
    false
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// A field value as SOAP writes it: datetimes end in `Z`, numbers and booleans as text.
fn soap_value(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(match s.strip_suffix("+0000") {
            Some(t) if s.len() == 28 => format!("{t}Z"),
            _ => s.clone(),
        }),
        other => Some(other.to_string()),
    }
}

fn envelope(ob: &Outbound, rule: &ActiveRule, store: &Store, notes: &[Notification]) -> String {
    let org15 = ob.org_id.get(..15).unwrap_or(&ob.org_id);
    let object = &store.object(rule.object).name;
    let mut x = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">"#,
    );
    x.push_str(&format!("<OrganizationId>{}</OrganizationId>", ob.org_id));
    x.push_str(&format!("<ActionId>{}</ActionId>", rule.action_id));
    x.push_str(r#"<SessionId xsi:nil="true"/>"#);
    x.push_str(&format!(
        "<EnterpriseUrl>{b}/services/Soap/c/{SOAP_VERSION}/{org15}</EnterpriseUrl><PartnerUrl>{b}/services/Soap/u/{SOAP_VERSION}/{org15}</PartnerUrl>",
        b = xml_escape(&ob.base_url)
    ));
    for n in notes {
        x.push_str(&format!(
            r#"<Notification><Id>{}</Id><sObject xsi:type="sf:{object}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">"#,
            n.id
        ));
        let rec = store.by_id(&n.record_id).map(|(_, r)| r);
        for f in &rule.fields {
            let value = rec
                .map(|r| r.value(f))
                .unwrap_or_else(|| serde_json::Value::String(n.record_id.clone()));
            if let Some(v) = soap_value(&value) {
                x.push_str(&format!("<sf:{f}>{}</sf:{f}>", xml_escape(&v)));
            }
        }
        x.push_str("</sObject></Notification>");
    }
    x.push_str("</notifications></soapenv:Body></soapenv:Envelope>");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_are_recognised_with_or_without_prefixes() {
        assert!(is_ack(
            "<soapenv:Envelope><soapenv:Body><notificationsResponse xmlns=\"x\"><Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"
        ));
        assert!(is_ack("<a:Ack> true </a:Ack>"));
        assert!(!is_ack("<Ack>false</Ack>"));
        assert!(!is_ack("<NoAck>true</NoAck>"));
        assert!(!is_ack(""));
    }
}
