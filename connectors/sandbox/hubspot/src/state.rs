//! What every request handler shares.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::watch;

use crate::auth::Tokens;
use crate::faults::FaultControl;
use crate::ratelimit::RateLimiter;
use crate::store::Store;
use sandbox_kit::RequestLog;
use sandbox_kit::consent::{Callbacks, Pending};

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
    /// Where `authorize` may send the browser back to.
    pub callbacks: Callbacks,
    /// Authorization requests waiting on the consent page.
    pub pending: Pending<AuthRequest>,
    /// Approve at once as this user (`Config::auto_approve`).
    pub auto_approve: Option<String>,
}

/// An authorization request between the consent page and the user's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequest {
    pub redirect_uri: String,
    pub state: Option<String>,
    /// `scope` and `optional_scope`, all granted.
    pub scopes: Vec<String>,
    /// PKCE `code_challenge` (S256).
    pub code_challenge: Option<String>,
}

pub type Shared = Arc<AppState>;
