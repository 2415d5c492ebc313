//! What every request handler shares.

use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use tokio::sync::watch;

use crate::auth::Tokens;
use crate::cursors::Cursors;
use crate::faults::FaultControl;
use crate::jwt::Verifier;
use crate::store::Store;
use crate::util::lock;
use sandbox_kit::RequestLog;
use sandbox_kit::consent::{Callbacks, Pending};

pub struct AppState {
    /// One lock for the whole org: reads are short and parallel, writes are brief.
    pub store: Arc<RwLock<Store>>,
    pub tokens: Tokens,
    pub faults: Arc<FaultControl>,
    pub log: RequestLog,
    pub usage: ApiUsage,
    pub client_id: String,
    pub client_secret: String,
    pub username: String,
    pub organization_id: String,
    pub verifier: Verifier,
    /// `http://127.0.0.1:PORT`, returned as `instance_url`.
    pub base_url: String,
    pub cursors: Cursors,
    /// Flips to true on shutdown, so hanging requests let go.
    pub shutdown: watch::Receiver<bool>,
    /// How long an injected hang lasts at most before the sandbox answers 503.
    pub hang_limit: Duration,
    /// The API routes without the guards, for composite subrequests (set once at start).
    pub inner: OnceLock<Router>,
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
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub login_hint: Option<String>,
}

pub type Shared = Arc<AppState>;

/// The org's daily API request count: a 24-hour window from the first call (a simplification
/// of Salesforce's rolling 24 hours).
#[derive(Debug)]
pub struct ApiUsage {
    pub limit: Option<u64>,
    state: Mutex<(Instant, u64)>,
}

/// The `Max` shown when no limit is configured (an Unlimited-edition-sized allocation).
pub const UNLIMITED_MAX: u64 = 5_000_000;

impl ApiUsage {
    pub fn new(limit: Option<u64>) -> Self {
        Self {
            limit,
            state: Mutex::new((Instant::now(), 0)),
        }
    }

    fn roll(s: &mut (Instant, u64)) {
        if s.0.elapsed() >= Duration::from_secs(86_400) {
            *s = (Instant::now(), 0);
        }
    }

    /// Counts one call; `Err` (with the usage) when the allocation is already spent.
    pub fn take(&self) -> Result<(u64, u64), (u64, u64)> {
        let mut s = lock(&self.state);
        Self::roll(&mut s);
        let max = self.limit.unwrap_or(UNLIMITED_MAX);
        if self.limit.is_some_and(|l| s.1 >= l) {
            return Err((s.1, max));
        }
        s.1 += 1;
        Ok((s.1, max))
    }

    /// (used, max) without counting.
    pub fn peek(&self) -> (u64, u64) {
        let mut s = lock(&self.state);
        Self::roll(&mut s);
        (s.1, self.limit.unwrap_or(UNLIMITED_MAX))
    }
}
