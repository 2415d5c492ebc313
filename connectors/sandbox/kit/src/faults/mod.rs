//! The fault switchboard: an ordered list of rules that decides, request by request, whether a
//! simulator answers normally, late, with an error, not at all, or carries a request out and
//! loses the answer, plus the token faults (revocation, forced expiry). It decides only *what*
//! happens; each simulator renders the outcome in its CRM's own wire format (`run`'s `render`).
//!
//! Rules are tried in order. `Slow` rules add their delay and let the search go on; the first
//! other rule that fires decides the outcome, and rules after it are not consulted (so their
//! shares do not advance). A rule fires on every matching request, or on an evenly spread
//! `share` of them (0.25 fires on every fourth: deterministic, not random), and at most `times`
//! times when that is set, after which it is removed.
//!
//! Rules have a flat JSON form (`wire`), which `admin` serves at `/__sandbox/faults` so that
//! another process can switch faults while the simulator runs.

mod admin;
mod wire;

pub use admin::{FAULTS_PATH, router as admin_router};
pub use wire::RuleError;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::lock;
use crate::serve::Tap;

/// What kind of request a simulator is answering, as far as faults care. Each simulator sorts
/// its own routes into these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A CRM API call that changes nothing (GET, search, batch read, query).
    Read,
    /// A CRM API call that creates, changes or deletes records.
    Write,
    /// The OAuth endpoints.
    Token,
    /// Anything else (version lists and the like).
    Other,
}

/// Which requests a rule applies to (`"on"` in JSON: `all`, `api`, `reads`, `writes`, `token`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    #[default]
    All,
    /// Reads and writes.
    Api,
    Reads,
    Writes,
    Token,
}

impl Scope {
    pub fn covers(self, class: Class) -> bool {
        match self {
            Scope::All => true,
            Scope::Api => matches!(class, Class::Read | Class::Write),
            Scope::Reads => class == Class::Read,
            Scope::Writes => class == Class::Write,
            Scope::Token => class == Class::Token,
        }
    }
}

/// What a rule does to the requests it fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The CRM's rate-limit answer, with `Retry-After: retry_after` when given.
    RateLimit { retry_after: Option<u64> },
    /// A server error with this status (500, 503, …).
    Error { status: u16 },
    /// The CRM's 401 for an expired or invalid session; the token itself stays valid.
    Unauthorized,
    /// Answers after this delay (otherwise normally, unless another rule fires too).
    Slow { delay: Duration },
    /// The request is carried out (a write is applied) but its answer never reaches the client.
    LostAnswer { mode: LostMode },
    /// No answer until the client gives up: held until the hold limit or shutdown.
    Hang,
}

/// How an answer is lost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LostMode {
    /// The connection is closed instead of answering.
    #[default]
    Drop,
    /// The answer is held past any client timeout (until the hold limit or shutdown), then the
    /// connection is closed.
    Hold,
}

/// One rule of the switchboard. As JSON (see `wire`): `{"id"?, "kind", "on"?, "times"?,
/// "share"?, "path"?, "status"?, "delay_ms"?, "retry_after"?, "mode"?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "wire::RuleDoc", into = "wire::RuleDoc")]
pub struct Rule {
    /// Names the rule for later changes; one is assigned when absent.
    pub id: Option<String>,
    pub fault: Fault,
    pub on: Scope,
    /// Fires at most this many more times, then is removed.
    pub times: Option<u32>,
    /// Fires on this share (0–1) of the matching requests, evenly spread; all when absent.
    pub share: Option<f64>,
    /// Only requests whose path starts with this.
    pub path: Option<String>,
}

impl Rule {
    pub fn new(fault: Fault) -> Self {
        Self {
            id: None,
            fault,
            on: Scope::All,
            times: None,
            share: None,
            path: None,
        }
    }

    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    pub fn on(mut self, scope: Scope) -> Self {
        self.on = scope;
        self
    }

    /// Only the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// An evenly spread share (0–1) of the matching requests.
    pub fn share(mut self, share: f64) -> Self {
        self.share = Some(clamp_share(share));
        self
    }

    /// Only requests whose path starts with `prefix`.
    pub fn path(mut self, prefix: impl Into<String>) -> Self {
        self.path = Some(prefix.into());
        self
    }
}

fn clamp_share(r: f64) -> f64 {
    if r.is_finite() { r.clamp(0.0, 1.0) } else { 0.0 }
}

/// A rule as it stands now: how often it fired, and (in `rule.times`) how often it still may.
/// As JSON: the rule's fields, its id included, plus `"fired"`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleState {
    #[serde(skip)]
    pub id: String,
    #[serde(flatten)]
    pub rule: Rule,
    pub fired: u64,
}

/// What the simulator is to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// Answer at once with this refusal instead of running the request.
    Refuse(Refusal),
    /// Hold the request, then answer `Refusal::HoldEnded`.
    Hang,
    /// Carry the request out, then lose its answer.
    Lose(LostMode),
}

/// An answer a simulator renders in its CRM's own shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    RateLimit {
        retry_after: Option<u64>,
    },
    Error(u16),
    /// The CRM's 401 for an expired session.
    Unauthorized,
    /// A held request is let go (hold limit or shutdown): the CRM's timeout/unavailable answer.
    HoldEnded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Added before the outcome, whatever it is.
    pub delay: Duration,
    pub outcome: Outcome,
}

/// The request a decision is asked for.
#[derive(Debug, Clone, Copy)]
pub struct Probe<'a> {
    pub class: Class,
    pub path: &'a str,
}

#[derive(Debug)]
struct Armed {
    id: String,
    rule: Rule,
    acc: f64,
    fired: u64,
}

impl Armed {
    fn applies(&self, p: &Probe<'_>) -> bool {
        self.rule.on.covers(p.class) && self.rule.path.as_deref().is_none_or(|prefix| p.path.starts_with(prefix))
    }

    /// Whether the rule fires on this (matching) request; counts the firing.
    fn fire(&mut self) -> bool {
        if self.rule.times == Some(0) {
            return false;
        }
        if let Some(share) = self.rule.share.filter(|s| *s < 1.0) {
            if share <= 0.0 {
                return false;
            }
            self.acc += share;
            if self.acc < 1.0 - 1e-9 {
                return false;
            }
            self.acc -= 1.0;
        }
        self.fired += 1;
        if let Some(n) = &mut self.rule.times {
            *n -= 1;
        }
        true
    }

    fn state(&self) -> RuleState {
        let mut rule = self.rule.clone();
        rule.id = Some(self.id.clone());
        RuleState {
            id: self.id.clone(),
            rule,
            fired: self.fired,
        }
    }
}

#[derive(Debug, Default)]
struct Board {
    rules: Vec<Armed>,
    serial: u64,
    revoked: HashSet<String>,
    revoke_all_before: Option<Instant>,
    expired_before: Option<Instant>,
}

/// The ids the convenience setters use, in the order they take precedence: one-shot faults
/// before rates, hangs before errors.
const SETTER_IDS: [&str; 6] = ["latency", "hang_next", "fail_next", "throttle_next", "hang_rate", "error_rate"];

fn setter_rank(id: &str) -> usize {
    SETTER_IDS.iter().position(|s| *s == id).unwrap_or(SETTER_IDS.len())
}

impl Board {
    fn armed(&mut self, rule: Rule) -> Armed {
        let id = match &rule.id {
            Some(id) => id.clone(),
            None => loop {
                self.serial += 1;
                let id = format!("r{}", self.serial);
                if !self.rules.iter().any(|a| a.id == id) {
                    break id;
                }
            },
        };
        Armed {
            id,
            rule,
            acc: 0.0,
            fired: 0,
        }
    }

    /// Replaces the rule with the same id in place, or inserts it: rules of the convenience
    /// setters at their rank, others at the end.
    fn put(&mut self, rule: Rule) -> String {
        let armed = self.armed(rule);
        let id = armed.id.clone();
        if let Some(slot) = self.rules.iter_mut().find(|a| a.id == id) {
            *slot = armed;
        } else {
            let rank = setter_rank(&id);
            let at = self
                .rules
                .iter()
                .position(|a| setter_rank(&a.id) > rank)
                .unwrap_or(self.rules.len());
            let at = if rank < SETTER_IDS.len() { at } else { self.rules.len() };
            self.rules.insert(at, armed);
        }
        id
    }

    fn remove(&mut self, id: &str) -> bool {
        let before = self.rules.len();
        self.rules.retain(|a| a.id != id);
        self.rules.len() != before
    }
}

/// Runtime control of faults; clones share one switchboard, cheap to call while requests run.
#[derive(Debug, Clone, Default)]
pub struct Switchboard {
    board: Arc<Mutex<Board>>,
}

impl Switchboard {
    /// A switchboard starting with `rules` (in order) and these tokens revoked.
    pub fn new(rules: impl IntoIterator<Item = Rule>, revoked_tokens: impl IntoIterator<Item = String>) -> Self {
        let sb = Self::default();
        {
            let mut b = lock(&sb.board);
            for r in rules {
                b.put(r);
            }
            b.revoked = revoked_tokens.into_iter().collect();
        }
        sb
    }

    /// The rules, in the order they are tried.
    pub fn rules(&self) -> Vec<RuleState> {
        lock(&self.board).rules.iter().map(Armed::state).collect()
    }

    /// Adds a rule, or replaces the one with the same id (keeping its place); returns its id.
    pub fn put(&self, rule: Rule) -> String {
        lock(&self.board).put(rule)
    }

    /// Replaces every rule (token faults stay) and returns their ids; refused when two rules
    /// share an id.
    pub fn replace(&self, rules: Vec<Rule>) -> Result<Vec<String>, RuleError> {
        let mut seen = HashSet::new();
        for id in rules.iter().filter_map(|r| r.id.as_deref()) {
            if !seen.insert(id) {
                return Err(RuleError(format!("rule id {id:?} is used twice")));
            }
        }
        let mut b = lock(&self.board);
        b.rules.clear();
        Ok(rules.into_iter().map(|r| b.put(r)).collect())
    }

    /// Removes a rule by id; false when there is none.
    pub fn remove(&self, id: &str) -> bool {
        lock(&self.board).remove(id)
    }

    fn put_or_remove(&self, id: &str, rule: Option<Rule>) {
        let mut b = lock(&self.board);
        match rule {
            Some(r) => {
                b.put(r.with_id(id));
            }
            None => {
                b.remove(id);
            }
        }
    }

    /// Fails `rate` of the requests (evenly spread: 0.25 fails every fourth) with `status`.
    pub fn set_error_rate(&self, rate: f64, status: u16) {
        let rate = clamp_share(rate);
        let rule = (rate > 0.0).then(|| Rule::new(Fault::Error { status }).share(rate));
        self.put_or_remove("error_rate", rule);
    }

    /// Fails exactly the next `n` requests with `status`.
    pub fn fail_next(&self, n: u32, status: u16) {
        let rule = (n > 0).then(|| Rule::new(Fault::Error { status }).times(n));
        self.put_or_remove("fail_next", rule);
    }

    /// Answers the next `n` requests in `scope` with the CRM's rate-limit error.
    pub fn throttle_next(&self, n: u32, scope: Scope) {
        let rule = (n > 0).then(|| Rule::new(Fault::RateLimit { retry_after: None }).times(n).on(scope));
        self.put_or_remove("throttle_next", rule);
    }

    /// Adds `latency` to every response.
    pub fn set_latency(&self, latency: Duration) {
        let rule = (!latency.is_zero()).then(|| Rule::new(Fault::Slow { delay: latency }));
        self.put_or_remove("latency", rule);
    }

    /// The next `n` requests hang: no answer until the client times out or the sandbox stops.
    pub fn hang_next(&self, n: u32) {
        let rule = (n > 0).then(|| Rule::new(Fault::Hang).times(n));
        self.put_or_remove("hang_next", rule);
    }

    /// A share of the requests hang.
    pub fn set_hang_rate(&self, rate: f64) {
        let rate = clamp_share(rate);
        let rule = (rate > 0.0).then(|| Rule::new(Fault::Hang).share(rate));
        self.put_or_remove("hang_rate", rule);
    }

    /// Revokes a token: calls with it get the CRM's 401 (refreshes with it fail).
    pub fn revoke_token(&self, token: &str) {
        lock(&self.board).revoked.insert(token.to_string());
    }

    pub fn restore_token(&self, token: &str) {
        lock(&self.board).revoked.remove(token);
    }

    /// Revokes every access and refresh token issued so far (an admin revoking the app).
    pub fn revoke_all_tokens(&self) {
        lock(&self.board).revoke_all_before = Some(Instant::now());
    }

    /// Expires every access token issued so far (refresh tokens stay valid).
    pub fn expire_access_tokens(&self) {
        lock(&self.board).expired_before = Some(Instant::now());
    }

    /// Back to no faults at all: every rule, revocation and forced expiry goes.
    pub fn clear(&self) {
        let mut b = lock(&self.board);
        let serial = b.serial;
        *b = Board {
            serial,
            ..Board::default()
        };
    }

    pub fn is_revoked(&self, token: &str) -> bool {
        lock(&self.board).revoked.contains(token)
    }

    /// When `expire_access_tokens` was last called.
    pub fn expired_before(&self) -> Option<Instant> {
        lock(&self.board).expired_before
    }

    /// Whether a token issued at `issued` is revoked (by itself or with all others) or, for an
    /// access token, force-expired.
    pub fn invalidates(&self, token: &str, issued: Instant, access: bool) -> bool {
        let b = lock(&self.board);
        b.revoked.contains(token)
            || b.revoke_all_before.is_some_and(|t| issued <= t)
            || (access && b.expired_before.is_some_and(|t| issued <= t))
    }

    /// Decides one request's fate.
    pub fn decide(&self, probe: Probe<'_>) -> Decision {
        let mut b = lock(&self.board);
        let mut delay = Duration::ZERO;
        let mut outcome = Outcome::Pass;
        for a in b.rules.iter_mut().filter(|a| a.applies(&probe)) {
            let would = match a.rule.fault {
                Fault::Slow { delay: d } => {
                    if a.fire() {
                        delay += d;
                    }
                    continue;
                }
                Fault::RateLimit { retry_after } => Outcome::Refuse(Refusal::RateLimit { retry_after }),
                Fault::Error { status } => Outcome::Refuse(Refusal::Error(status)),
                Fault::Unauthorized => Outcome::Refuse(Refusal::Unauthorized),
                Fault::LostAnswer { mode } => Outcome::Lose(mode),
                Fault::Hang => Outcome::Hang,
            };
            if outcome == Outcome::Pass && a.fire() {
                outcome = would;
            }
        }
        b.rules.retain(|a| a.rule.times != Some(0));
        Decision { delay, outcome }
    }
}

/// Waits until `limit` passes or the simulator shuts down.
pub async fn hold(shutdown: &watch::Receiver<bool>, limit: Duration) {
    let mut stop = shutdown.clone();
    tokio::select! {
        _ = tokio::time::sleep(limit) => {}
        _ = stop.wait_for(|s| *s) => {}
    }
}

/// Runs a request under a decision: waits the delay, then passes the request on, or answers
/// with `render` (the CRM's own shape for the refusal). A hang is held first (until
/// `hold_limit` or shutdown) and then rendered as `Refusal::HoldEnded`. A lost answer runs the
/// request, then cuts the connection (one accepted by `serve::spawn`) instead of answering;
/// the response returned is never sent, but the request log notes its status.
pub async fn run(
    decision: Decision,
    req: Request,
    next: Next,
    shutdown: &watch::Receiver<bool>,
    hold_limit: Duration,
    render: impl FnOnce(Refusal) -> Response,
) -> Response {
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    match decision.outcome {
        Outcome::Pass => next.run(req).await,
        Outcome::Refuse(r) => render(r),
        Outcome::Hang => {
            hold(shutdown, hold_limit).await;
            render(Refusal::HoldEnded)
        }
        Outcome::Lose(mode) => {
            let tap = req.extensions().get::<ConnectInfo<Tap>>().map(|c| c.0.clone());
            let resp = next.run(req).await;
            if mode == LostMode::Hold {
                hold(shutdown, hold_limit).await;
            }
            match tap {
                Some(t) => t.cut(),
                None => tracing::warn!("an answer was to be lost, but its connection cannot be cut"),
            }
            resp
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(class: Class) -> Probe<'static> {
        Probe { class, path: "/x" }
    }

    #[test]
    fn an_error_rate_fails_an_even_share_of_requests() {
        let f = Switchboard::default();
        f.set_error_rate(0.25, 503);
        let fails = (0..100)
            .filter(|_| f.decide(probe(Class::Read)).outcome == Outcome::Refuse(Refusal::Error(503)))
            .count();
        assert_eq!(fails, 25);
    }

    #[test]
    fn one_shot_faults_come_before_rates_and_run_out() {
        let f = Switchboard::default();
        f.set_error_rate(0.5, 500);
        f.throttle_next(1, Scope::Api);
        f.fail_next(1, 503);
        let outcomes: Vec<Outcome> = [Class::Read, Class::Token, Class::Read, Class::Read, Class::Read]
            .into_iter()
            .map(|c| f.decide(probe(c)).outcome)
            .collect();
        let limited = Outcome::Refuse(Refusal::RateLimit { retry_after: None });
        let error = |s| Outcome::Refuse(Refusal::Error(s));
        assert_eq!(outcomes, [error(503), Outcome::Pass, limited, error(500), Outcome::Pass]);
        assert_eq!(f.rules().len(), 1, "the one-shot rules are gone");
    }

    #[test]
    fn latency_adds_to_every_outcome_and_clear_removes_everything() {
        let f = Switchboard::new(
            [Rule::new(Fault::Slow {
                delay: Duration::from_millis(5),
            })],
            ["t".to_string()],
        );
        f.hang_next(1);
        let d = f.decide(probe(Class::Write));
        assert_eq!((d.delay, d.outcome), (Duration::from_millis(5), Outcome::Hang));
        assert!(f.is_revoked("t"));
        f.clear();
        assert_eq!(f.decide(probe(Class::Write)).delay, Duration::ZERO);
        assert!(!f.is_revoked("t") && f.rules().is_empty());
    }

    #[test]
    fn forced_expiry_hits_access_tokens_only_and_revoke_all_hits_both() {
        let f = Switchboard::default();
        let issued = Instant::now();
        f.expire_access_tokens();
        assert!(f.invalidates("a", issued, true) && !f.invalidates("r", issued, false));
        f.revoke_all_tokens();
        assert!(f.invalidates("r", issued, false));
        assert!(!f.invalidates("new", Instant::now() + Duration::from_secs(1), false));
    }
}
