//! Fault injection: the kit's switchboard, set at start (`Config::faults`) and changed at
//! runtime in process (`Sandbox::faults()`) or over HTTP (`/__sandbox/faults`). How each fault looks on the wire (HubSpot's error bodies,
//! the TEN_SECONDLY_ROLLING 429) is decided in `http::guard`.

use std::ops::Deref;
use std::time::Duration;

use sandbox_kit::Switchboard;
use sandbox_kit::faults::{Rule, Scope};

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
    /// Further rules (the same as `PUT /__sandbox/faults` takes), tried after the settings above.
    pub rules: Vec<Rule>,
}

/// Runtime control of faults; cheap to call from tests while requests run. Everything the
/// kit's [`Switchboard`] offers, plus HubSpot's name for a rate-limit burst.
#[derive(Debug, Clone)]
pub struct FaultControl(Switchboard);

impl Deref for FaultControl {
    type Target = Switchboard;

    fn deref(&self) -> &Switchboard {
        &self.0
    }
}

impl FaultControl {
    pub(crate) fn new(f: &Faults) -> Self {
        let board = Switchboard::new([], f.revoked_tokens.iter().cloned());
        board.set_error_rate(f.error_rate, f.error_status.unwrap_or(500));
        board.set_latency(f.latency);
        board.set_hang_rate(f.hang_rate);
        board.throttle_next(f.rate_limit_burst, Scope::All);
        for rule in &f.rules {
            board.put(rule.clone());
        }
        Self(board)
    }

    /// Answers the next `n` requests with HubSpot's 429 (TEN_SECONDLY_ROLLING).
    pub fn rate_limit_burst(&self, n: u32) {
        self.0.throttle_next(n, Scope::All);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandbox_kit::faults::{Class, Outcome, Probe, Refusal};

    fn decide(f: &FaultControl) -> Outcome {
        f.decide(Probe {
            class: Class::Read,
            path: "/",
        })
        .outcome
    }

    #[test]
    fn an_error_rate_fails_an_even_share_of_requests() {
        let f = FaultControl::new(&Faults::default());
        f.set_error_rate(0.25, 503);
        let fails = (0..100).filter(|_| decide(&f) == Outcome::Refuse(Refusal::Error(503))).count();
        assert_eq!(fails, 25);
    }

    #[test]
    fn one_shot_faults_come_before_rates_and_run_out() {
        let f = FaultControl::new(&Faults::default());
        f.fail_next(1, 500);
        f.rate_limit_burst(1);
        assert_eq!(decide(&f), Outcome::Refuse(Refusal::Error(500)));
        assert_eq!(decide(&f), Outcome::Refuse(Refusal::RateLimit { retry_after: None }));
        assert_eq!(decide(&f), Outcome::Pass);
    }
}
