//! What can go wrong with a change the engine makes: a rule refused it (nothing
//! changed; the words are for the person who asked), or the store failed.

use handoff_domain::lifecycle::TransitionError;
use handoff_domain::people::{ProjectRole, UserKind};
use handoff_domain::{Email, ProjectId, ProjectStatus};
use handoff_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A rule refused the change, checked inside the transaction that would make it.
    #[error("{0}")]
    Refused(#[from] Refusal),
    /// Not found (`StoreError::NotFound`), or the database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl EngineError {
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        EngineError::Store(StoreError::not_found(what, id))
    }

    /// The refusal, if a rule refused the change.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            EngineError::Refused(r) => Some(r),
            EngineError::Store(_) => None,
        }
    }
}

pub type EngineResult<T> = Result<T, EngineError>;

/// Why a rule refused a change. Each reads as a sentence for whoever asked (a staff
/// member at the CLI or console, an integration, a customer in the portal).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    Lifecycle(#[from] TransitionError),
    /// An archived project is a closed record: its history no longer changes.
    #[error("This project is archived; its tasks can no longer change.")]
    ProjectArchived,
    #[error("task `{task}` is blocked: it waits for {}", waits_for.join(", "))]
    Blocked { task: String, waits_for: Vec<String> },
    #[error("This task is already completed.")]
    TaskCompleted,
    #[error("This task is already completed; it takes no more files.")]
    NoFilesAfterCompletion,
    #[error("This task takes at most {max} file(s).")]
    TooManyFiles { max: u32 },
    #[error("Someone has already taken this task.")]
    AlreadyTaken,
    #[error("Tasks can be assigned only to a teammate on this project.")]
    NotATeammate,
    /// Drafts (and archived projects) are invisible to customers, so nobody is sent a
    /// link to one.
    #[error("project {project} is {status}: customers cannot see it, so no invitation is sent")]
    NotVisibleToCustomers { project: ProjectId, status: ProjectStatus },
    #[error("no master key (HANDOFF_MASTER_KEY): invitation links cannot be made without one")]
    NoMasterKey,
    #[error("a {inviter} cannot invite a {role}")]
    CannotInviteRole { inviter: ProjectRole, role: ProjectRole },
    #[error("the role {role} is for {} users, and this user is {kind}", role.side())]
    RoleDoesNotFit { role: ProjectRole, kind: UserKind },
    #[error("a company needs a name")]
    CompanyNeedsName,
    #[error("{email} is a customer user; a staff account needs an email of its own")]
    CustomerEmailForStaff { email: Email },
    #[error("CRM user {connection}:{crm_user} is already linked to another handoff user")]
    CrmUserLinkedElsewhere { connection: String, crm_user: String },
    // Document review (console, #13).
    #[error("Say why the file is rejected: the customer reads the note.")]
    RejectionNeedsNote,
    #[error("A note is at most {max} characters.")]
    NoteTooLong { max: usize },
}
