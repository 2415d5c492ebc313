//! Starting and stopping the sandbox, and what tests can do with a running one.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::auth::Tokens;
use crate::config::Config;
use crate::error::Error;
use crate::events::ChangeSource;
use crate::faults::FaultControl;
use crate::objects::ObjectType;
use crate::ratelimit::RateLimiter;
use crate::state::{AppState, Shared};
use crate::store::{StoreError, prop_value};
use crate::util::{iso_ms, lock, read, write};
use crate::webhooks::{self, DeliveryAttempt, Hooks};
use sandbox_kit::consent::{Callbacks, Pending};
use sandbox_kit::{RequestLog, serve};

/// A running sandbox. Dropping it without `shutdown` leaves the server running until the runtime ends.
pub struct Sandbox {
    addr: SocketAddr,
    state: Shared,
    hooks: Arc<Hooks>,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
    dispatcher: JoinHandle<()>,
}

/// A record as stored, with computed properties filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSnapshot {
    pub id: u64,
    pub properties: BTreeMap<String, String>,
    pub created_at: String,
    pub updated_at: String,
    pub archived: bool,
}

/// Binds, loads the seed, spawns the server and the webhook dispatcher, and returns at once.
pub async fn start(mut config: Config) -> Result<Sandbox, Error> {
    // Large generated seeds take a moment to load; keep that off the async workers.
    let seed = std::mem::take(&mut config.seed);
    let portal_id = seed.portal_id;
    let built = serve::off_thread(move || seed.build_store()).await;
    let mut store = built.map_err(Error::SeedTask)??;
    config.seed.portal_id = portal_id;
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    store.set_event_sink(events_tx);
    let (listener, addr) = serve::bind(config.listen).await?;
    let (stop, stopped) = watch::channel(false);
    let state = app_state(&config, store, stopped.clone());
    let hooks = Arc::new(Hooks::new(
        config.webhook_target.clone(),
        config.subscriptions.clone(),
        config.client_secret.clone(),
        state.portal_id,
        config.app_id,
        config.webhook_retry,
        config.webhook_batch_window,
    ));
    let app = crate::http::router(state.clone());
    let server = serve::spawn(listener, app, stopped.clone(), "hubspot");
    let dispatcher = tokio::spawn(webhooks::dispatch(hooks.clone(), events_rx, stopped));
    tracing::info!("hubspot sandbox listening on http://{addr}");
    Ok(Sandbox {
        addr,
        state,
        hooks,
        stop,
        server,
        dispatcher,
    })
}

fn app_state(config: &Config, store: crate::store::Store, stopped: watch::Receiver<bool>) -> Shared {
    Arc::new(AppState {
        store: RwLock::new(store),
        tokens: Tokens::new(&config.private_app_tokens, config.access_token_ttl),
        limiter: RateLimiter::new(config.rate_limits),
        faults: Arc::new(FaultControl::new(&config.faults)),
        log: RequestLog::default(),
        client_id: config.client_id.clone(),
        client_secret: config.client_secret.clone(),
        portal_id: config.seed.portal_id.unwrap_or(config.portal_id),
        app_id: config.app_id,
        shutdown: stopped,
        hang_limit: serve::HOLD_LIMIT,
        callbacks: Callbacks {
            registered: config.redirect_uris.clone(),
            loopback: config.allow_loopback_redirects,
        },
        pending: Pending::new(Duration::from_secs(15 * 60)),
        auto_approve: config.auto_approve.clone(),
    })
}

fn to_map(props: &[(&str, &str)]) -> Map<String, Value> {
    props.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect()
}

impl Sandbox {
    /// `http://127.0.0.1:PORT`; point a client's base path here.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Runtime fault injection.
    pub fn faults(&self) -> &FaultControl {
        &self.state.faults
    }

    /// The request log (a shared handle).
    pub fn requests(&self) -> RequestLog {
        self.state.log.clone()
    }

    pub fn set_webhook_target(&self, target: Option<String>) {
        self.hooks.set_target(target);
    }

    /// Every webhook delivery attempt so far.
    pub fn webhook_attempts(&self) -> Vec<DeliveryAttempt> {
        lock(&self.hooks.attempts).clone()
    }

    /// Waits until `done` holds for the attempts so far, or `timeout` passes; returns the attempts.
    pub async fn wait_for_webhooks(&self, timeout: Duration, done: impl Fn(&[DeliveryAttempt]) -> bool) -> Vec<DeliveryAttempt> {
        serve::wait_until(&self.hooks.progress, timeout, || self.webhook_attempts(), |a| done(a)).await
    }

    /// Creates a record as a user in HubSpot's UI would (fires webhooks with changeSource CRM_UI).
    pub fn create_record(&self, t: ObjectType, props: &[(&str, &str)]) -> Result<u64, StoreError> {
        write(&self.state.store).create(t, &to_map(props), &[], ChangeSource::Ui)
    }

    /// Updates a record as a user in the UI would; an empty value clears a property.
    pub fn update_record(&self, t: ObjectType, id: u64, props: &[(&str, &str)]) -> Result<(), StoreError> {
        write(&self.state.store).update(t, id, &to_map(props), ChangeSource::Ui)
    }

    pub fn archive_record(&self, t: ObjectType, id: u64) -> Result<(), StoreError> {
        write(&self.state.store).archive(t, id, ChangeSource::Ui)
    }

    /// Associates two records as a user would, with labels by name (none: the unlabelled default).
    pub fn associate(&self, from: (ObjectType, u64), to: (ObjectType, u64), labels: &[&str]) -> Result<(), StoreError> {
        let mut store = write(&self.state.store);
        for (t, id) in [from, to] {
            if store.get(t, id).is_none() {
                return Err(StoreError::NotFound {
                    object: t,
                    id: id.to_string(),
                });
            }
        }
        let mut keys = BTreeSet::new();
        for label in labels {
            let def = store
                .assoc_types
                .between(from.0, to.0)
                .into_iter()
                .find(|d| d.label.as_deref() == Some(*label));
            let def = def.ok_or(StoreError::BadAssociationType { from: from.0, type_id: 0 })?;
            keys.insert(def.key);
        }
        store.associate(from, to, &keys, false, ChangeSource::Ui);
        Ok(())
    }

    /// Ids of the records of type `to` associated with `from`, ascending.
    pub fn associated(&self, from: (ObjectType, u64), to: ObjectType) -> Vec<u64> {
        read(&self.state.store).graph.list(from, to).into_iter().map(|(id, _)| id).collect()
    }

    /// A record (archived ones too), with `hs_object_id` and the timestamps among its properties.
    pub fn record(&self, t: ObjectType, id: u64) -> Option<RecordSnapshot> {
        let store = read(&self.state.store);
        let rec = store.table(t).records.get(&id)?;
        let mut properties = rec.props.clone();
        for name in ["hs_object_id", t.created_property(), t.modified_property()] {
            if let Some(v) = prop_value(rec, name) {
                properties.insert(name.to_string(), v.into_owned());
            }
        }
        Some(RecordSnapshot {
            id,
            properties,
            created_at: iso_ms(rec.created_ms),
            updated_at: iso_ms(rec.updated_ms),
            archived: rec.is_archived(),
        })
    }

    /// Live (not archived) records of a type.
    pub fn count(&self, t: ObjectType) -> usize {
        read(&self.state.store).table(t).live_count()
    }

    /// Ids of live records of a type, ascending.
    pub fn ids(&self, t: ObjectType) -> Vec<u64> {
        read(&self.state.store)
            .table(t)
            .records
            .values()
            .filter(|r| !r.is_archived())
            .map(|r| r.id)
            .collect()
    }

    /// Stops accepting requests, lets in-flight ones finish (hanging ones get 504) and stops webhook delivery.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        let _ = self.dispatcher.await;
    }
}
