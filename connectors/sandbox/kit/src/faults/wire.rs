//! The JSON form of a rule: one flat object, checked when it becomes a `Rule`.
//!
//! ```json
//! {"id": "slow-writes", "kind": "slow", "on": "writes", "delay_ms": 1500}
//! {"kind": "error", "status": 503, "share": 0.25}
//! {"kind": "rate_limit", "on": "api", "times": 3, "retry_after": 2}
//! {"kind": "unauthorized", "on": "reads", "times": 1}
//! {"kind": "lost_answer", "on": "writes", "times": 1, "mode": "drop"}
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Fault, LostMode, Rule, Scope};

/// The fault kinds by their JSON names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Kind {
    RateLimit,
    Error,
    Unauthorized,
    Slow,
    LostAnswer,
    Hang,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::RateLimit => "rate_limit",
            Kind::Error => "error",
            Kind::Unauthorized => "unauthorized",
            Kind::Slow => "slow",
            Kind::LostAnswer => "lost_answer",
            Kind::Hang => "hang",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RuleDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    kind: Kind,
    #[serde(default)]
    on: Scope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    times: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    share: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delay_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mode: Option<LostMode>,
}

/// Why a rule (or a set of rules) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RuleError(pub String);

impl TryFrom<RuleDoc> for Rule {
    type Error = RuleError;

    fn try_from(d: RuleDoc) -> Result<Self, RuleError> {
        let bad = |m: String| Err(RuleError(m));
        for (field, present, kind) in [
            ("status", d.status.is_some(), Kind::Error),
            ("delay_ms", d.delay_ms.is_some(), Kind::Slow),
            ("retry_after", d.retry_after.is_some(), Kind::RateLimit),
            ("mode", d.mode.is_some(), Kind::LostAnswer),
        ] {
            if present && d.kind != kind {
                return bad(format!("`{field}` applies only to kind {}", kind.name()));
            }
        }
        let fault = match d.kind {
            Kind::RateLimit => Fault::RateLimit {
                retry_after: d.retry_after,
            },
            Kind::Error => match d.status.unwrap_or(500) {
                status @ 400..=599 => Fault::Error { status },
                status => return bad(format!("status {status} is not an error status (400-599)")),
            },
            Kind::Unauthorized => Fault::Unauthorized,
            Kind::Slow => match d.delay_ms {
                Some(ms) if ms > 0 => Fault::Slow {
                    delay: Duration::from_millis(ms),
                },
                _ => return bad("kind slow needs `delay_ms` above 0".into()),
            },
            Kind::LostAnswer => Fault::LostAnswer {
                mode: d.mode.unwrap_or_default(),
            },
            Kind::Hang => Fault::Hang,
        };
        if let Some(share) = d.share
            && !(share > 0.0 && share <= 1.0)
        {
            return bad(format!("share {share} is not above 0 and at most 1"));
        }
        if d.times == Some(0) {
            return bad("`times` must be at least 1 (leave it out for no limit)".into());
        }
        if let Some(id) = &d.id
            && (id.is_empty() || id.len() > 100 || id.contains('/'))
        {
            return bad(format!("rule id {id:?} must have 1 to 100 characters and no '/'"));
        }
        Ok(Rule {
            id: d.id,
            fault,
            on: d.on,
            times: d.times,
            share: d.share,
            path: d.path,
        })
    }
}

impl From<Rule> for RuleDoc {
    fn from(r: Rule) -> Self {
        let (mut status, mut delay_ms, mut retry_after, mut mode) = (None, None, None, None);
        let kind = match r.fault {
            Fault::RateLimit { retry_after: after } => {
                retry_after = after;
                Kind::RateLimit
            }
            Fault::Error { status: s } => {
                status = Some(s);
                Kind::Error
            }
            Fault::Unauthorized => Kind::Unauthorized,
            Fault::Slow { delay } => {
                delay_ms = Some(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
                Kind::Slow
            }
            Fault::LostAnswer { mode: m } => {
                mode = Some(m);
                Kind::LostAnswer
            }
            Fault::Hang => Kind::Hang,
        };
        RuleDoc {
            id: r.id,
            kind,
            on: r.on,
            times: r.times,
            share: r.share,
            path: r.path,
            status,
            delay_ms,
            retry_after,
            mode,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(v: serde_json::Value) -> Result<Rule, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn rules_round_trip_through_json() {
        let rule = parse(json!({"kind": "slow", "on": "writes", "delay_ms": 1500, "times": 2, "path": "/x"})).unwrap();
        assert_eq!(
            rule,
            Rule::new(Fault::Slow {
                delay: Duration::from_millis(1500)
            })
            .on(Scope::Writes)
            .times(2)
            .path("/x")
        );
        let back = serde_json::to_value(&rule).unwrap();
        assert_eq!(
            back,
            json!({"kind": "slow", "on": "writes", "delay_ms": 1500, "times": 2, "path": "/x"})
        );
        let lost = parse(json!({"kind": "lost_answer"})).unwrap();
        assert_eq!(lost.fault, Fault::LostAnswer { mode: LostMode::Drop });
        assert_eq!(parse(json!({"kind": "error"})).unwrap().fault, Fault::Error { status: 500 });
    }

    #[test]
    fn malformed_rules_are_refused_with_a_reason() {
        for (doc, says) in [
            (json!({"kind": "slow"}), "delay_ms"),
            (json!({"kind": "error", "delay_ms": 5}), "applies only to kind slow"),
            (json!({"kind": "error", "status": 200}), "not an error status"),
            (json!({"kind": "hang", "share": 1.5}), "share"),
            (json!({"kind": "hang", "times": 0}), "times"),
            (json!({"kind": "hang", "id": "a/b"}), "rule id"),
            (json!({"kind": "explode"}), "unknown variant"),
            (json!({"kind": "hang", "nxet": 1}), "unknown field"),
        ] {
            let err = parse(doc.clone()).unwrap_err();
            assert!(err.contains(says), "{doc}: {err}");
        }
    }
}
