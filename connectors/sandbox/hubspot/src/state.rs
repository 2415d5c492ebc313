//! What every request handler shares.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::watch;

use crate::auth::Tokens;
use crate::faults::FaultControl;
use crate::ratelimit::RateLimiter;
use crate::store::Store;
use sandbox_kit::RequestLog;

pub struct AppState {
    /// One lock for the whole CRM: reads are short and parallel, writes are rare and brief.
    pub store: RwLock<Store>,
    pub tokens: Tokens,
    pub limiter: RateLimiter,
    pub faults: Arc<FaultControl>,
    pub log: RequestLog,
    pub client_id: String,
    pub client_secret: String,
    pub portal_id: u64,
    pub app_id: u64,
    /// Flips to true on shutdown, so hanging requests let go.
    pub shutdown: watch::Receiver<bool>,
    /// How long an injected hang lasts at most before the sandbox answers 504.
    pub hang_limit: Duration,
}

pub type Shared = Arc<AppState>;
