//! The project lifecycle: Draft → Active → Completed → Converted → Archived.
//!
//! Only the transitions below are allowed. Beyond the straight line, three edges exist
//! because real projects need them: a Draft or Active project can be Archived (the deal
//! fell through), and a Completed project can be reopened to Active (a task was missed).
//! Converted and Archived are final except Converted → Archived.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    /// Configured, invisible to customers; no invitations are sent.
    Draft,
    Active,
    Completed,
    /// Handed over to the next team (e.g. customer success); optional.
    Converted,
    Archived,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a project cannot go from {from} to {to}; from {from} it can go to {allowed}")]
pub struct TransitionError {
    pub from: ProjectStatus,
    pub to: ProjectStatus,
    allowed: String,
}

impl ProjectStatus {
    pub const ALL: [ProjectStatus; 5] = [Self::Draft, Self::Active, Self::Completed, Self::Converted, Self::Archived];

    /// Where a project in this status may go next.
    pub fn next(self) -> &'static [ProjectStatus] {
        use ProjectStatus::*;
        match self {
            Draft => &[Active, Archived],
            Active => &[Completed, Archived],
            Completed => &[Active, Converted, Archived],
            Converted => &[Archived],
            Archived => &[],
        }
    }

    pub fn transition(self, to: ProjectStatus) -> Result<ProjectStatus, TransitionError> {
        if self.next().contains(&to) {
            return Ok(to);
        }
        let allowed = match self.next() {
            [] => "nowhere (it is final)".to_owned(),
            next => next.iter().map(ToString::to_string).collect::<Vec<_>>().join(" or "),
        };
        Err(TransitionError { from: self, to, allowed })
    }

    /// Customers see a project (and get invitations) only once it is live.
    pub fn visible_to_customers(self) -> bool {
        !matches!(self, ProjectStatus::Draft | ProjectStatus::Archived)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ProjectStatus::Draft => "draft",
            ProjectStatus::Active => "active",
            ProjectStatus::Completed => "completed",
            ProjectStatus::Converted => "converted",
            ProjectStatus::Archived => "archived",
        }
    }
}

impl fmt::Display for ProjectStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a project status (draft, active, completed, converted, archived)")]
pub struct UnknownStatus(pub String);

impl FromStr for ProjectStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::ProjectStatus::*;
    use super::*;

    #[test]
    fn the_happy_path_is_allowed() {
        let path = [Draft, Active, Completed, Converted, Archived];
        for pair in path.windows(2) {
            assert_eq!(pair[0].transition(pair[1]), Ok(pair[1]));
        }
    }

    #[test]
    fn skipping_ahead_or_going_back_from_final_states_is_refused() {
        assert!(Draft.transition(Completed).is_err());
        assert!(Draft.transition(Converted).is_err());
        assert!(Active.transition(Draft).is_err());
        assert!(Archived.transition(Active).is_err());
        assert!(Converted.transition(Active).is_err());
    }

    #[test]
    fn a_completed_project_can_be_reopened() {
        assert_eq!(Completed.transition(Active), Ok(Active));
    }

    #[test]
    fn the_refusal_says_where_the_project_can_go() {
        let err = Draft.transition(Completed).unwrap_err().to_string();
        assert!(err.contains("active or archived"), "{err}");
        let err = Archived.transition(Active).unwrap_err().to_string();
        assert!(err.contains("final"), "{err}");
    }

    #[test]
    fn statuses_round_trip_through_text() {
        for s in ProjectStatus::ALL {
            assert_eq!(s.as_str().parse::<ProjectStatus>(), Ok(s));
        }
        assert!("live".parse::<ProjectStatus>().is_err());
    }

    #[test]
    fn drafts_are_hidden_from_customers() {
        assert!(!Draft.visible_to_customers());
        assert!(Active.visible_to_customers());
    }
}
