//! Starting and stopping the sandbox, and what tests can do with a running one.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::auth::Tokens;
use crate::config::Config;
use crate::cursors::Cursors;
use crate::error::Error;
use crate::faults::FaultControl;
use crate::jwt::Verifier;
use crate::outbound::{self, Outbound, OutboundAttempt};
use crate::state::{ApiUsage, AppState, Shared};
use crate::store::{DmlError, Store};
use crate::util::{read, write};
use sandbox_kit::consent::{Callbacks, Pending};
use sandbox_kit::{RequestLog, serve};

/// A running sandbox. Dropping it without `shutdown` leaves the server running until the runtime ends.
pub struct Sandbox {
    addr: SocketAddr,
    state: Shared,
    outbound: Arc<Outbound>,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
    dispatcher: JoinHandle<()>,
}

/// Binds, loads the seed, spawns the server and the outbound-message dispatcher, and returns at once.
pub async fn start(mut config: Config) -> Result<Sandbox, Error> {
    if crate::ids::normalize(&config.organization_id).as_deref() != Some(config.organization_id.as_str())
        || !config.organization_id.starts_with("00D")
    {
        return Err(Error::OrganizationId(config.organization_id));
    }
    let verifier = Verifier::from_pem(&config.jwt_public_key_pem).map_err(Error::PublicKey)?;
    // Large generated seeds take a moment to load; keep that off the async workers.
    let seed = std::mem::take(&mut config.seed);
    let username = config.username.clone();
    let built = serve::off_thread(move || seed.build_store(&username)).await;
    let mut store = built.map_err(Error::SeedTask)??;
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    store.set_event_sink(events_tx);
    let (listener, addr) = serve::bind(config.listen).await?;
    let base_url = format!("http://{addr}");
    let outbound = Arc::new(Outbound::new(
        &store,
        &config.outbound_rules,
        config.outbound_target.clone(),
        config.outbound_retry,
        &config.organization_id,
        &base_url,
    ));
    let (stop, stopped) = watch::channel(false);
    let state = app_state(&config, store, verifier, base_url, stopped.clone());
    let _ = state.inner.set(crate::http::inner_router(state.clone()));
    let app = crate::http::router(state.clone());
    let server = serve::spawn(listener, app, stopped.clone(), "salesforce");
    let dispatcher = tokio::spawn(outbound::dispatch(outbound.clone(), state.store.clone(), events_rx, stopped));
    tracing::info!("salesforce sandbox listening on http://{addr}");
    Ok(Sandbox {
        addr,
        state,
        outbound,
        stop,
        server,
        dispatcher,
    })
}

fn app_state(config: &Config, store: Store, verifier: Verifier, base_url: String, stopped: watch::Receiver<bool>) -> Shared {
    Arc::new(AppState {
        store: Arc::new(RwLock::new(store)),
        tokens: Tokens::new(config.access_token_ttl),
        faults: Arc::new(FaultControl::new(&config.faults)),
        log: RequestLog::default(),
        usage: ApiUsage::new(config.daily_api_limit),
        client_id: config.client_id.clone(),
        client_secret: config.client_secret.clone(),
        username: config.username.clone(),
        organization_id: config.organization_id.clone(),
        verifier,
        base_url,
        cursors: Cursors::default(),
        shutdown: stopped,
        hang_limit: serve::HOLD_LIMIT,
        inner: OnceLock::new(),
        callbacks: Callbacks {
            registered: config.redirect_uris.clone(),
            loopback: config.allow_loopback_redirects,
        },
        pending: Pending::new(Duration::from_secs(15 * 60)),
        auto_approve: config.auto_approve.clone(),
    })
}

fn to_map(fields: &[(&str, Value)]) -> Map<String, Value> {
    fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

impl Sandbox {
    /// `http://127.0.0.1:PORT`: the login host and the `instance_url`.
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn organization_id(&self) -> &str {
        &self.state.organization_id
    }

    /// Runtime fault injection.
    pub fn faults(&self) -> &FaultControl {
        &self.state.faults
    }

    /// The request log (a shared handle).
    pub fn requests(&self) -> RequestLog {
        self.state.log.clone()
    }

    /// API calls counted against the daily allocation so far, and the allocation.
    pub fn api_usage(&self) -> (u64, u64) {
        self.state.usage.peek()
    }

    pub fn set_outbound_target(&self, target: Option<String>) {
        self.outbound.set_target(target);
    }

    /// Every outbound-message delivery attempt so far.
    pub fn outbound_attempts(&self) -> Vec<OutboundAttempt> {
        self.outbound.attempts()
    }

    /// Waits until `done` holds for the attempts so far, or `timeout` passes; returns the attempts.
    pub async fn wait_for_outbound(&self, timeout: Duration, done: impl Fn(&[OutboundAttempt]) -> bool) -> Vec<OutboundAttempt> {
        serve::wait_until(&self.outbound.progress, timeout, || self.outbound_attempts(), |a| done(a)).await
    }

    fn object(store: &Store, object: &str) -> Result<usize, DmlError> {
        store
            .schema
            .index_of(object)
            .ok_or_else(|| DmlError::new("NOT_FOUND", format!("sObject type '{object}' is not supported."), vec![]))
    }

    fn ui_user(store: &Store) -> String {
        store.admin_user.clone()
    }

    /// Creates a record as a user in Salesforce's UI would (outbound messages fire).
    pub fn create_record(&self, object: &str, fields: &[(&str, Value)]) -> Result<String, DmlError> {
        let mut store = write(&self.state.store);
        let o = Self::object(&store, object)?;
        let actor = Self::ui_user(&store);
        store.create(o, &to_map(fields), &actor)
    }

    /// Updates a record as a UI user would; `Value::Null` clears a field.
    pub fn update_record(&self, object: &str, id: &str, fields: &[(&str, Value)]) -> Result<(), DmlError> {
        let mut store = write(&self.state.store);
        let o = Self::object(&store, object)?;
        let actor = Self::ui_user(&store);
        let id = crate::ids::normalize(id).ok_or_else(DmlError::not_found)?;
        store.update(o, &id, &to_map(fields), &actor)
    }

    pub fn delete_record(&self, object: &str, id: &str) -> Result<(), DmlError> {
        let mut store = write(&self.state.store);
        let o = Self::object(&store, object)?;
        let actor = Self::ui_user(&store);
        let id = crate::ids::normalize(id).ok_or_else(DmlError::not_found)?;
        store.delete(o, &id, &actor)
    }

    /// A record (deleted ones too) with every field, system fields included, by canonical name.
    pub fn record(&self, object: &str, id: &str) -> Option<Map<String, Value>> {
        let store = read(&self.state.store);
        let o = store.schema.index_of(object)?;
        let id = crate::ids::normalize(id)?;
        let rec = store.tables[o].records.get(&id)?;
        Some(
            store
                .object(o)
                .fields
                .iter()
                .map(|f| (f.name.clone(), rec.value(&f.name)))
                .collect(),
        )
    }

    /// Live (not deleted) records of an object.
    pub fn count(&self, object: &str) -> usize {
        let store = read(&self.state.store);
        store.schema.index_of(object).map_or(0, |o| store.count_live(o))
    }

    /// Ids of live records of an object, in creation order.
    pub fn ids(&self, object: &str) -> Vec<String> {
        let store = read(&self.state.store);
        let Some(o) = store.schema.index_of(object) else {
            return Vec::new();
        };
        store.tables[o]
            .records
            .values()
            .filter(|r| r.deleted_ms.is_none())
            .map(|r| r.id.clone())
            .collect()
    }

    /// The id of the user API calls run as (`Config::username`).
    pub fn admin_user_id(&self) -> String {
        read(&self.state.store).admin_user.clone()
    }

    /// Stops accepting requests, lets in-flight ones finish (hanging ones get 503) and stops delivery.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        let _ = self.dispatcher.await;
    }
}
