use std::time::Duration;

use crm_salesforce::{id, outbound};
use sandbox_salesforce::Config;
use serde_json::json;

use super::{env_with, fast_retries};

#[tokio::test]
async fn the_simulators_outbound_message_for_a_closed_won_deal_parses() {
    let config = Config {
        // Nothing listens there: the attempt is recorded with the envelope it carried.
        outbound_target: Some("http://127.0.0.1:9/webhooks/salesforce".into()),
        ..Config::for_tests()
    };
    let env = env_with(config, Duration::from_secs(5), fast_retries(0)).await;
    let opportunity = env
        .sandbox
        .ids("Opportunity")
        .into_iter()
        .find(|id| env.sandbox.record("Opportunity", id).unwrap()["StageName"] != "Closed Won")
        .unwrap();
    env.sandbox
        .update_record("Opportunity", &opportunity, &[("StageName", json!("Closed Won"))])
        .unwrap();
    let attempts = env.sandbox.wait_for_outbound(Duration::from_secs(5), |a| !a.is_empty()).await;
    let attempt = attempts.first().expect("an outbound message was sent");

    let message = outbound::parse(attempt.body.as_bytes()).unwrap();
    assert_eq!(message.organization_id, env.sandbox.organization_id());
    assert!(id::is_valid_18(&message.action_id));
    let ids: Vec<&str> = message.notifications.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, attempt.notification_ids.iter().map(String::as_str).collect::<Vec<_>>());
    let sobject = &message.notifications[0].sobject;
    assert_eq!(sobject.object_type, "Opportunity");
    assert_eq!(sobject.id, opportunity);
    assert_eq!(sobject.fields["StageName"].as_deref(), Some("Closed Won"));
}
