//! Whether a project may move to another status: the domain's transitions
//! ([`ProjectStatus::transition`]), and what the project holds — a project is completed
//! only when none of its tasks is open. One function, so the engine (deciding inside
//! the change's transaction) and the pages (showing which actions are possible, and
//! why not) give the same answer in the same words.

use handoff_domain::ProjectStatus;

use super::error::Refusal;

/// Whether `from` may become `to` for a project with `open_tasks` tasks not completed.
pub fn check(from: ProjectStatus, to: ProjectStatus, open_tasks: u64) -> Result<(), Refusal> {
    from.transition(to)?;
    if to == ProjectStatus::Completed && open_tasks > 0 {
        return Err(Refusal::OpenTasks { open: open_tasks });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProjectStatus::*;

    #[test]
    fn a_project_with_open_tasks_is_not_completed_and_says_how_many() {
        assert_eq!(check(Active, Completed, 2), Err(Refusal::OpenTasks { open: 2 }));
        assert!(check(Active, Completed, 2).unwrap_err().to_string().contains("2 tasks open"));
        assert!(check(Active, Completed, 1).unwrap_err().to_string().contains("1 task open"));
        assert_eq!(check(Active, Completed, 0), Ok(()));
    }

    #[test]
    fn open_tasks_do_not_hold_back_other_steps_and_the_transitions_still_rule() {
        assert_eq!(check(Draft, Active, 5), Ok(()));
        assert_eq!(check(Active, Archived, 5), Ok(()));
        assert!(matches!(check(Draft, Completed, 0), Err(Refusal::Lifecycle(_))));
    }
}
