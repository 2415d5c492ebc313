//! Turns store changes into HubSpot webhook events for the configured subscriptions.

use serde_json::{Value, json};

use crate::config::Subscription;
use crate::events::{ChangeEvent, ChangeKind, ChangeSource};

pub struct Context<'a> {
    pub subscriptions: &'a [Subscription],
    pub portal_id: u64,
    pub app_id: u64,
}

fn subscribed<'a>(ctx: &'a Context, kind: &str, object: &str, property: Option<&str>) -> impl Iterator<Item = &'a Subscription> {
    let wanted = format!("{object}.{kind}");
    ctx.subscriptions.iter().filter(move |s| {
        s.active
            && s.subscription_type == wanted
            && (property.is_none() || s.property_name.is_none() || s.property_name.as_deref() == property)
    })
}

fn base(ctx: &Context, sub: &Subscription, ev: &ChangeEvent) -> Value {
    let (source, source_id) = match ev.source {
        ChangeSource::Api => ("INTEGRATION", ctx.app_id.to_string()),
        ChangeSource::Ui => ("CRM_UI", "userId:91000001".to_string()),
    };
    json!({
        "eventId": 0,
        "subscriptionId": sub.id,
        "portalId": ctx.portal_id,
        "appId": ctx.app_id,
        "occurredAt": ev.at_ms,
        "subscriptionType": sub.subscription_type,
        "attemptNumber": 0,
        "objectId": ev.id,
        "changeSource": source,
        "sourceId": source_id,
    })
}

/// The events one change produces (possibly none). Event ids are filled in by the dispatcher.
pub fn events_for(ctx: &Context, ev: &ChangeEvent) -> Vec<Value> {
    let object = ev.object.singular();
    let mut out = Vec::new();
    match &ev.kind {
        ChangeKind::Created { properties } => {
            for sub in subscribed(ctx, "creation", object, None) {
                let mut e = base(ctx, sub, ev);
                e["changeFlag"] = json!("CREATED");
                out.push(e);
            }
            // Values set on creation also reach propertyChange subscribers, as in HubSpot.
            for (name, value) in properties {
                out.extend(property_events(ctx, ev, name, value));
            }
        }
        ChangeKind::PropertyChanged { name, value } => out.extend(property_events(ctx, ev, name, value)),
        ChangeKind::Deleted => {
            for sub in subscribed(ctx, "deletion", object, None) {
                let mut e = base(ctx, sub, ev);
                e["changeFlag"] = json!("DELETED");
                out.push(e);
            }
        }
        ChangeKind::Association { to, removed, primary, .. } => {
            for sub in subscribed(ctx, "associationChange", object, None) {
                let mut e = base(ctx, sub, ev);
                if let Some(m) = e.as_object_mut() {
                    m.remove("objectId");
                }
                e["associationType"] = json!(format!("{}_TO_{}", ev.object.upper(), to.0.upper()));
                e["fromObjectId"] = json!(ev.id);
                e["toObjectId"] = json!(to.1);
                e["associationRemoved"] = json!(removed);
                e["isPrimaryAssociation"] = json!(primary);
                out.push(e);
            }
        }
    }
    out
}

fn property_events(ctx: &Context, ev: &ChangeEvent, name: &str, value: &str) -> Vec<Value> {
    subscribed(ctx, "propertyChange", ev.object.singular(), Some(name))
        .map(|sub| {
            let mut e = base(ctx, sub, ev);
            e["propertyName"] = json!(name);
            e["propertyValue"] = json!(value);
            e
        })
        .collect()
}
