//! Progress: the share of completed tasks.

use serde::Serialize;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub completed: usize,
    pub total: usize,
}

impl Progress {
    pub fn of<I: IntoIterator<Item = bool>>(completed_flags: I) -> Self {
        completed_flags.into_iter().fold(Self::default(), |p, done| Progress {
            completed: p.completed + usize::from(done),
            total: p.total + 1,
        })
    }

    /// Whole percent, rounded down, so a project shows 100% only when every task is done.
    /// An empty project is 0% (nothing has been done), not 100%.
    pub fn percent(self) -> u8 {
        if self.total == 0 {
            return 0;
        }
        // completed <= total, so the result is at most 100 and fits a u8.
        u8::try_from(self.completed * 100 / self.total).unwrap_or(100)
    }

    pub fn is_complete(self) -> bool {
        self.total > 0 && self.completed == self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_rounds_down_and_reaches_100_only_when_done() {
        let p = Progress::of([true, true, false]);
        assert_eq!((p.completed, p.total, p.percent()), (2, 3, 66));
        assert_eq!(Progress::of(vec![true; 199].into_iter().chain([false])).percent(), 99);
        assert_eq!(Progress::of([true, true]).percent(), 100);
    }

    #[test]
    fn an_empty_project_has_made_no_progress() {
        assert_eq!(Progress::of([]).percent(), 0);
        assert!(!Progress::of([]).is_complete());
    }
}
