//! Delivering the outbox: each kind of row has its worker (a plain function the
//! scheduled job calls and tests drive directly), and all share one retry policy and
//! one lease.
//!
//! - [`email`]: invitation emails over SMTP.
//! - [`writeback`]: CRM writebacks, batched per connection.

use chrono::{DateTime, Duration, Utc};

pub mod email;
// Console task emails (issue #13).
mod task_digest;
pub mod writeback;

/// How long a claimed row is reserved for the worker that claimed it; a worker that
/// dies mid-delivery lets another retry it after this.
pub const LEASE: Duration = Duration::minutes(5);

/// After this many attempts a transient failure is dead-lettered too.
pub const MAX_ATTEMPTS: i32 = 8;

/// The wait before attempt `n + 1`: 30 s, doubling, at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    Duration::seconds((30i64 << exp).min(3600))
}

/// When a row whose attempt number `attempts` failed is tried again, or `None` when it
/// is dead-lettered: a permanent failure (the receiver refused it for good) or the
/// last attempt.
pub fn retry_at(attempts: i32, permanent: bool, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (!permanent && attempts < MAX_ATTEMPTS).then(|| now + backoff(attempts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_thirty_seconds_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(7), Duration::seconds(1920));
        assert_eq!(backoff(8), Duration::seconds(3600));
        assert_eq!(backoff(20), Duration::seconds(3600));
        assert_eq!(backoff(0), Duration::seconds(30));
    }

    #[test]
    fn a_permanent_failure_or_the_last_attempt_is_dead_lettered() {
        let now = Utc::now();
        assert_eq!(retry_at(1, false, now), Some(now + Duration::seconds(30)));
        assert_eq!(retry_at(1, true, now), None);
        assert_eq!(retry_at(MAX_ATTEMPTS, false, now), None);
    }
}
