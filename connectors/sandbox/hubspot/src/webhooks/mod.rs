//! Webhook delivery: changes become events, gathered into batches of at most 100, POSTed to
//! the target signed with v1 and v3 signatures, and retried with backoff on failure.

mod payload;
pub mod sign;

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::{Notify, Semaphore, watch};

use crate::config::{RetryPolicy, Subscription};
use crate::events::ChangeEvent;
use crate::util::{lock, now_ms, read, write};

pub const MAX_BATCH: usize = 100;
/// HubSpot's default number of concurrent requests per account.
const CONCURRENCY: usize = 10;

/// One delivery attempt, as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub attempt: u32,
    pub events: usize,
    /// The receiver's status; `None` when it could not be reached or did not answer in time.
    pub status: Option<u16>,
    pub delivered: bool,
}

pub struct Hooks {
    pub target: RwLock<Option<String>>,
    pub subscriptions: Vec<Subscription>,
    pub secret: String,
    pub portal_id: u64,
    pub app_id: u64,
    pub retry: RetryPolicy,
    pub window: Duration,
    pub attempts: Mutex<Vec<DeliveryAttempt>>,
    /// Signalled after every attempt, so tests can wait without sleeping.
    pub progress: Notify,
    next_event_id: Mutex<u64>,
}

impl Hooks {
    pub fn new(
        target: Option<String>,
        subscriptions: Vec<Subscription>,
        secret: String,
        portal_id: u64,
        app_id: u64,
        retry: RetryPolicy,
        window: Duration,
    ) -> Self {
        Self {
            target: RwLock::new(target),
            subscriptions,
            secret,
            portal_id,
            app_id,
            retry,
            window,
            attempts: Mutex::new(Vec::new()),
            progress: Notify::new(),
            next_event_id: Mutex::new(0),
        }
    }

    pub fn set_target(&self, target: Option<String>) {
        *write(&self.target) = target;
    }

    fn record(&self, a: DeliveryAttempt) {
        lock(&self.attempts).push(a);
        self.progress.notify_waiters();
    }

    /// Events for a batch of changes, with fresh event ids.
    fn events(&self, changes: &[ChangeEvent]) -> Vec<Value> {
        let ctx = payload::Context {
            subscriptions: &self.subscriptions,
            portal_id: self.portal_id,
            app_id: self.app_id,
        };
        let mut events: Vec<Value> = changes.iter().flat_map(|c| payload::events_for(&ctx, c)).collect();
        let mut next = lock(&self.next_event_id);
        for e in &mut events {
            *next += 1;
            e["eventId"] = Value::from(*next);
        }
        events
    }
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Gathers changes into batches and hands each to a delivery task until shutdown.
pub async fn dispatch(hooks: Arc<Hooks>, mut rx: UnboundedReceiver<ChangeEvent>, mut shutdown: watch::Receiver<bool>) {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let mut pending: Vec<Value> = Vec::new();
    loop {
        let first = tokio::select! {
            ev = rx.recv() => ev,
            _ = shutdown.wait_for(|s| *s) => None,
        };
        let Some(first) = first else { break };
        let mut changes = vec![first];
        // Wait a moment for more changes, so a burst (an import, a batch call) is batched.
        let deadline = tokio::time::Instant::now() + hooks.window;
        while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, rx.recv()).await {
            changes.push(ev);
        }
        pending.extend(hooks.events(&changes));
        let target = read(&hooks.target).clone();
        let Some(target) = target else {
            pending.clear();
            continue;
        };
        while !pending.is_empty() {
            let batch: Vec<Value> = pending.drain(..pending.len().min(MAX_BATCH)).collect();
            let (hooks, client, slots, target, shutdown) = (hooks.clone(), client.clone(), slots.clone(), target.clone(), shutdown.clone());
            tokio::spawn(async move {
                // The semaphore is never closed; failing to get a permit only means no limit.
                let _permit = slots.acquire_owned().await;
                deliver(&hooks, &client, &target, batch, shutdown).await;
            });
        }
    }
}

/// Delivers one batch: attempt 0, then up to `max_retries` retries with growing delays.
async fn deliver(hooks: &Hooks, client: &HttpClient, target: &str, mut batch: Vec<Value>, mut shutdown: watch::Receiver<bool>) {
    for attempt in 0..=hooks.retry.max_retries {
        for e in &mut batch {
            e["attemptNumber"] = Value::from(attempt);
        }
        let status = post(hooks, client, target, &batch).await;
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        hooks.record(DeliveryAttempt {
            attempt,
            events: batch.len(),
            status,
            delivered,
        });
        if delivered || attempt == hooks.retry.max_retries {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(hooks.retry.delay(attempt + 1)) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

async fn post(hooks: &Hooks, client: &HttpClient, target: &str, batch: &[Value]) -> Option<u16> {
    let body = serde_json::to_vec(batch).ok()?;
    let ts = now_ms().to_string();
    let req = hyper::Request::post(target)
        .header("content-type", "application/json")
        .header("user-agent", "HubSpot Connect 2.0 (http://dev.hubspot.com/) (sandbox)")
        .header("x-hubspot-signature", sign::v1(&hooks.secret, &body))
        .header("x-hubspot-signature-version", "v1")
        .header("x-hubspot-signature-v3", sign::v3(&hooks.secret, "POST", target, &body, &ts))
        .header("x-hubspot-request-timestamp", ts)
        .body(Full::new(Bytes::from(body)))
        .ok()?;
    let call = async {
        let resp = client.request(req).await.ok()?;
        let status = resp.status().as_u16();
        // Drain the body so the connection can be reused.
        let _ = resp.into_body().collect().await;
        Some(status)
    };
    tokio::time::timeout(hooks.retry.timeout, call).await.ok().flatten()
}
