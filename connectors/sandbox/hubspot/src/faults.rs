//! Fault injection: error rates, 429 bursts, latency, hanging requests and token revocation,
//! set at start (`Config::faults`) and changed at runtime (`Sandbox::faults()`).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::util::lock;

/// Faults active from the start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Share of requests (0.0–1.0) that fail with `error_status`, spread evenly (deterministic).
    pub error_rate: f64,
    /// 500 or 503 (any status is accepted).
    pub error_status: Option<u16>,
    /// Added to every response.
    pub latency: Duration,
    /// Share of requests that never get an answer (until the client gives up).
    pub hang_rate: f64,
    /// The first this many requests get HubSpot's 429 (TEN_SECONDLY_ROLLING).
    pub rate_limit_burst: u32,
    /// Tokens (access, refresh or private-app) that are revoked.
    pub revoked_tokens: Vec<String>,
}

/// What the fault layer does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Error(u16),
    RateLimited,
    Hang,
}

#[derive(Debug, Default)]
struct State {
    error_rate: f64,
    error_status: u16,
    error_acc: f64,
    fail_next: u32,
    fail_next_status: u16,
    burst_429: u32,
    latency: Duration,
    hang_rate: f64,
    hang_acc: f64,
    hang_next: u32,
    revoked: HashSet<String>,
    expired_before: Option<Instant>,
}

/// Runtime control of faults; cheap to call from tests while requests run.
#[derive(Debug)]
pub struct FaultControl {
    state: Mutex<State>,
}

impl FaultControl {
    pub(crate) fn new(f: &Faults) -> Self {
        let state = State {
            error_rate: f.error_rate.clamp(0.0, 1.0),
            error_status: f.error_status.unwrap_or(500),
            latency: f.latency,
            hang_rate: f.hang_rate.clamp(0.0, 1.0),
            burst_429: f.rate_limit_burst,
            revoked: f.revoked_tokens.iter().cloned().collect(),
            ..State::default()
        };
        Self { state: Mutex::new(state) }
    }

    /// Fails `rate` of the requests (evenly spread: 0.25 fails every fourth) with `status`.
    pub fn set_error_rate(&self, rate: f64, status: u16) {
        let mut s = lock(&self.state);
        s.error_rate = if rate.is_finite() { rate.clamp(0.0, 1.0) } else { 0.0 };
        s.error_status = status;
        s.error_acc = 0.0;
    }

    /// Fails exactly the next `n` requests with `status`.
    pub fn fail_next(&self, n: u32, status: u16) {
        let mut s = lock(&self.state);
        s.fail_next = n;
        s.fail_next_status = status;
    }

    /// Answers the next `n` requests with HubSpot's 429 (TEN_SECONDLY_ROLLING).
    pub fn rate_limit_burst(&self, n: u32) {
        lock(&self.state).burst_429 = n;
    }

    pub fn set_latency(&self, latency: Duration) {
        lock(&self.state).latency = latency;
    }

    /// The next `n` requests hang: no answer until the client times out or the sandbox stops.
    pub fn hang_next(&self, n: u32) {
        lock(&self.state).hang_next = n;
    }

    pub fn set_hang_rate(&self, rate: f64) {
        let mut s = lock(&self.state);
        s.hang_rate = if rate.is_finite() { rate.clamp(0.0, 1.0) } else { 0.0 };
        s.hang_acc = 0.0;
    }

    /// Revokes an access, refresh or private-app token: calls with it get 401.
    pub fn revoke_token(&self, token: &str) {
        lock(&self.state).revoked.insert(token.to_string());
    }

    pub fn restore_token(&self, token: &str) {
        lock(&self.state).revoked.remove(token);
    }

    /// Makes every OAuth access token issued so far expired, to exercise refresh.
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

    pub(crate) fn is_revoked(&self, token: &str) -> bool {
        lock(&self.state).revoked.contains(token)
    }

    pub(crate) fn expired_before(&self) -> Option<Instant> {
        lock(&self.state).expired_before
    }

    /// Decides one request's fate; counters make rates deterministic rather than random.
    pub(crate) fn decide(&self) -> (Duration, Outcome) {
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
        if s.burst_429 > 0 {
            s.burst_429 -= 1;
            return (latency, Outcome::RateLimited);
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
        let fails = (0..100).filter(|_| f.decide().1 == Outcome::Error(503)).count();
        assert_eq!(fails, 25);
    }

    #[test]
    fn one_shot_faults_come_before_rates_and_run_out() {
        let f = FaultControl::new(&Faults::default());
        f.fail_next(1, 500);
        f.rate_limit_burst(1);
        assert_eq!(f.decide().1, Outcome::Error(500));
        assert_eq!(f.decide().1, Outcome::RateLimited);
        assert_eq!(f.decide().1, Outcome::Pass);
    }
}
