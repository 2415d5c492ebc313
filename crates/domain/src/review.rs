//! Document review: staff approve an uploaded file or reject it with a note the
//! customer reads in the portal.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a file stands in review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Pending,
    Approved,
    Rejected,
}

impl ReviewStatus {
    pub const ALL: [ReviewStatus; 3] = [ReviewStatus::Pending, ReviewStatus::Approved, ReviewStatus::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Pending => "pending",
            ReviewStatus::Approved => "approved",
            ReviewStatus::Rejected => "rejected",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReviewStatus::Pending => "Pending",
            ReviewStatus::Approved => "Approved",
            ReviewStatus::Rejected => "Rejected",
        }
    }
}

impl fmt::Display for ReviewStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReviewStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ReviewStatus::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a review status (pending, approved or rejected)"))
    }
}

/// The longest note a rejection may carry.
pub const MAX_NOTE_CHARS: usize = 2000;

/// A reviewer's decision on a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve,
    /// Rejected, with what the customer should do about it.
    Reject {
        note: String,
    },
}

impl Decision {
    pub fn status(&self) -> ReviewStatus {
        match self {
            Decision::Approve => ReviewStatus::Approved,
            Decision::Reject { .. } => ReviewStatus::Rejected,
        }
    }

    pub fn note(&self) -> Option<&str> {
        match self {
            Decision::Approve => None,
            Decision::Reject { note } => Some(note),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_statuses_read_back_what_they_write() {
        for s in ReviewStatus::ALL {
            assert_eq!(s.as_str().parse::<ReviewStatus>(), Ok(s));
        }
        assert!("approve".parse::<ReviewStatus>().is_err());
    }
}
