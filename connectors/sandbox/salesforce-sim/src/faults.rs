//! Fault injection: error rates, REQUEST_LIMIT_EXCEEDED bursts, latency, hanging requests and
//! token revocation, set at start (`Config::faults`) and changed at runtime (`Sandbox::faults()`).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::util::lock;

/// Faults active from the start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Share of requests (0.0–1.0) that fail with `error_status`, spread evenly (deterministic).
    pub error_rate: f64,
    /// 500 or 503 (any status is accepted); 500 when unset.
    pub error_status: Option<u16>,
    /// Added to every response.
    pub latency: Duration,
    /// Share of requests that get no answer until the client gives up.
    pub hang_rate: f64,
    /// The first this many API requests get 403 REQUEST_LIMIT_EXCEEDED.
    pub limit_burst: u32,
    /// Access or refresh tokens that are revoked.
    pub revoked_tokens: Vec<String>,
}

/// What the fault layer does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Error(u16),
    LimitExceeded,
    Hang,
}

#[derive(Debug, Default)]
struct State {
    error_rate: f64,
    error_status: u16,
    error_acc: f64,
    fail_next: u32,
    fail_next_status: u16,
    limit_burst: u32,
    latency: Duration,
    hang_rate: f64,
    hang_acc: f64,
    hang_next: u32,
    revoked: HashSet<String>,
    revoke_all_before: Option<Instant>,
    expired_before: Option<Instant>,
}

/// Runtime control of faults; cheap to call from tests while requests run.
#[derive(Debug)]
pub struct FaultControl {
    state: Mutex<State>,
}

fn rate(r: f64) -> f64 {
    if r.is_finite() { r.clamp(0.0, 1.0) } else { 0.0 }
}

impl FaultControl {
    pub(crate) fn new(f: &Faults) -> Self {
        let state = State {
            error_rate: rate(f.error_rate),
            error_status: f.error_status.unwrap_or(500),
            latency: f.latency,
            hang_rate: rate(f.hang_rate),
            limit_burst: f.limit_burst,
            revoked: f.revoked_tokens.iter().cloned().collect(),
            ..State::default()
        };
        Self { state: Mutex::new(state) }
    }

    /// Fails `rate` of the requests (evenly spread: 0.25 fails every fourth) with `status`.
    pub fn set_error_rate(&self, error_rate: f64, status: u16) {
        let mut s = lock(&self.state);
        s.error_rate = rate(error_rate);
        s.error_status = status;
        s.error_acc = 0.0;
    }

    /// Fails exactly the next `n` requests with `status`.
    pub fn fail_next(&self, n: u32, status: u16) {
        let mut s = lock(&self.state);
        s.fail_next = n;
        s.fail_next_status = status;
    }

    /// Answers the next `n` API requests with 403 REQUEST_LIMIT_EXCEEDED.
    pub fn limit_burst(&self, n: u32) {
        lock(&self.state).limit_burst = n;
    }

    pub fn set_latency(&self, latency: Duration) {
        lock(&self.state).latency = latency;
    }

    /// The next `n` requests hang: no answer until the client times out or the sandbox stops.
    pub fn hang_next(&self, n: u32) {
        lock(&self.state).hang_next = n;
    }

    pub fn set_hang_rate(&self, hang_rate: f64) {
        let mut s = lock(&self.state);
        s.hang_rate = rate(hang_rate);
        s.hang_acc = 0.0;
    }

    /// Revokes an access or refresh token: calls with it get 401 INVALID_SESSION_ID.
    pub fn revoke_token(&self, token: &str) {
        lock(&self.state).revoked.insert(token.to_string());
    }

    pub fn restore_token(&self, token: &str) {
        lock(&self.state).revoked.remove(token);
    }

    /// Revokes every access and refresh token issued so far (an admin revoking the connected app).
    pub fn revoke_all_tokens(&self) {
        lock(&self.state).revoke_all_before = Some(Instant::now());
    }

    /// Expires every access token issued so far (refresh tokens stay valid).
    pub fn expire_access_tokens(&self) {
        lock(&self.state).expired_before = Some(Instant::now());
    }

    /// Back to no faults at all (revocations and forced expiry included).
    pub fn clear(&self) {
        *lock(&self.state) = State {
            error_status: 500,
            ..State::default()
        };
    }

    /// Whether a token issued at `issued` is revoked or was force-expired.
    pub(crate) fn invalidates(&self, token: &str, issued: Instant, access: bool) -> bool {
        let s = lock(&self.state);
        s.revoked.contains(token)
            || s.revoke_all_before.is_some_and(|t| issued <= t)
            || (access && s.expired_before.is_some_and(|t| issued <= t))
    }

    /// Decides one request's fate; counters make rates deterministic rather than random.
    /// `api` is false for the OAuth endpoints, which REQUEST_LIMIT_EXCEEDED does not affect.
    pub(crate) fn decide(&self, api: bool) -> (Duration, Outcome) {
        let mut guard = lock(&self.state);
        let s = &mut *guard;
        let latency = s.latency;
        if s.hang_next > 0 {
            s.hang_next -= 1;
            return (latency, Outcome::Hang);
        }
        if s.fail_next > 0 {
            s.fail_next -= 1;
            return (latency, Outcome::Error(s.fail_next_status));
        }
        if api && s.limit_burst > 0 {
            s.limit_burst -= 1;
            return (latency, Outcome::LimitExceeded);
        }
        if step(&mut s.hang_acc, s.hang_rate) {
            return (latency, Outcome::Hang);
        }
        if step(&mut s.error_acc, s.error_rate) {
            return (latency, Outcome::Error(s.error_status));
        }
        (latency, Outcome::Pass)
    }
}

/// Accumulates `rate` and fires whenever the sum passes one.
fn step(acc: &mut f64, rate: f64) -> bool {
    if rate <= 0.0 {
        return false;
    }
    *acc += rate;
    if *acc >= 1.0 - 1e-9 {
        *acc -= 1.0;
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_rate_fails_an_even_share_of_requests() {
        let f = FaultControl::new(&Faults::default());
        f.set_error_rate(0.25, 503);
        let fails = (0..100).filter(|_| f.decide(true).1 == Outcome::Error(503)).count();
        assert_eq!(fails, 25);
    }

    #[test]
    fn one_shot_faults_come_before_rates_and_run_out() {
        let f = FaultControl::new(&Faults::default());
        f.fail_next(1, 500);
        f.limit_burst(1);
        assert_eq!(f.decide(true).1, Outcome::Error(500));
        assert_eq!(f.decide(false).1, Outcome::Pass);
        assert_eq!(f.decide(true).1, Outcome::LimitExceeded);
        assert_eq!(f.decide(true).1, Outcome::Pass);
    }
}
