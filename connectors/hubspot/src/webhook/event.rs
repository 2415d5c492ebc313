//! Webhook event batches (<https://developers.hubspot.com/docs/guides/api/app-management/webhooks>).

use std::fmt;

use serde::de::{IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// HubSpot sends at most this many events per request.
pub const MAX_EVENTS_PER_BATCH: usize = 100;

/// One webhook event. Unknown keys are kept in [`Event::extra`], so newer payloads
/// (generic `object.*` subscriptions and the like) lose nothing.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub event_id: u64,
    pub subscription_id: u64,
    pub portal_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<u64>,
    /// When the change happened, in ms since the epoch. Deliveries arrive out of order.
    pub occurred_at: i64,
    /// `deal.propertyChange`, `contact.creation`, `object.associationChange`, …
    /// (the legacy docs call it `eventType`).
    #[serde(alias = "eventType")]
    pub subscription_type: String,
    /// 0 on the first delivery, then one more per retry.
    #[serde(default)]
    pub attempt_number: u32,
    /// Absent on association changes, which name `fromObjectId` and `toObjectId`
    /// instead; see [`Event::record_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property_value: Option<String>,
    /// `CRM_UI`, `API`, `IMPORT`, `INTEGRATION`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_source: Option<String>,
    /// For example `userId:864745280`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// `NEW`, `CREATED`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_flag: Option<String>,
    /// Generic (`object.*`) subscriptions name the object type here: `0-3` for deals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_type_id: Option<String>,
    /// `DEAL_TO_CONTACT`, `CONTACT_TO_DEAL`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub association_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_object_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_object_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub association_removed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_primary_association: Option<bool>,
    /// Merge events: the record that survived, the ones merged into it, and the new id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_object_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_object_ids: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_object_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_properties_moved: Option<u64>,
    /// Any other keys of the payload, as sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Event {
    /// A key that is the same for every delivery of one event and differs between
    /// events. `eventId` alone is not guaranteed unique (<https://developers.hubspot.com/docs/guides/api/app-management/webhooks>), so the key
    /// combines it with the account, subscription, time, type and object, plus what
    /// changed; `attemptNumber` is left out because it grows with each retry.
    pub fn dedupe_key(&self) -> String {
        let mut key = format!(
            "{}:{}:{}:{}:{}:{}",
            self.portal_id,
            self.subscription_id,
            self.event_id,
            self.occurred_at,
            self.subscription_type,
            self.record_id().map(|id| id.to_string()).unwrap_or_default()
        );
        if let Some(name) = &self.property_name {
            key.push(':');
            key.push_str(name);
        }
        if let Some(association) = &self.association_type {
            let to = self.to_object_id.map(|id| id.to_string()).unwrap_or_default();
            let removed = if self.association_removed == Some(true) { "-" } else { "+" };
            key.push_str(&format!(":{association}{removed}{to}"));
        }
        key
    }

    /// The record the event is about: `objectId`, or for an association change the
    /// `fromObjectId` side (the record of the subscription's own type).
    pub fn record_id(&self) -> Option<u64> {
        self.object_id.or(self.from_object_id)
    }

    /// The object part of the subscription type: `deal` for `deal.propertyChange`,
    /// `object` for generic subscriptions (see [`Event::object_type_id`] there).
    pub fn object_type(&self) -> &str {
        self.subscription_type
            .split_once('.')
            .map_or(self.subscription_type.as_str(), |(object, _)| object)
    }

    /// The change part of the subscription type: `propertyChange` for `deal.propertyChange`.
    pub fn change(&self) -> &str {
        self.subscription_type.split_once('.').map_or("", |(_, change)| change)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("webhook body is not a JSON array of events: {0}")]
    Json(#[from] serde_json::Error),
    #[error("webhook body holds no events")]
    Empty,
    #[error("webhook body holds {count} events, more than the {MAX_EVENTS_PER_BATCH} HubSpot sends")]
    TooMany { count: usize },
}

/// Parses a webhook body: a JSON array of 1..=100 events. A longer array is refused
/// without deserializing the events past the 100th.
pub fn parse_batch(body: &[u8]) -> Result<Vec<Event>, ParseError> {
    match serde_json::from_slice::<Bounded>(body)? {
        Bounded::Events(events) if events.is_empty() => Err(ParseError::Empty),
        Bounded::Events(events) => Ok(events),
        Bounded::TooMany(count) => Err(ParseError::TooMany { count }),
    }
}

enum Bounded {
    Events(Vec<Event>),
    TooMany(usize),
}

impl<'de> Deserialize<'de> for Bounded {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(BoundedVisitor)
    }
}

struct BoundedVisitor;

impl<'de> Visitor<'de> for BoundedVisitor {
    type Value = Bounded;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an array of at most {MAX_EVENTS_PER_BATCH} webhook events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bounded, A::Error> {
        let mut events = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_EVENTS_PER_BATCH));
        while events.len() < MAX_EVENTS_PER_BATCH {
            match seq.next_element::<Event>()? {
                Some(event) => events.push(event),
                None => return Ok(Bounded::Events(events)),
            }
        }
        // Count the rest without building them, for the error message.
        let mut count = events.len();
        while seq.next_element::<IgnoredAny>()?.is_some() {
            count += 1;
        }
        if count == MAX_EVENTS_PER_BATCH {
            Ok(Bounded::Events(events))
        } else {
            Ok(Bounded::TooMany(count))
        }
    }
}
