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
    /// A project is completed when its work is: none of its tasks may be open.
    #[error("This project cannot be completed yet: {open} {} open. Complete {} first.", if *open == 1 { "task" } else { "tasks" }, if *open == 1 { "it" } else { "them" })]
    OpenTasks { open: u64 },
    // Members and emails from the console and the API (issue #13).
    #[error("{email} belongs to a staff user; add them to the onboarding team instead")]
    StaffAsCustomer { email: Email },
    #[error("{email} is a customer of another company; they cannot join this project")]
    OtherCompany { email: Email },
    #[error("no one has the address {email} yet: give a first name to add them as a new person")]
    NewPersonNeedsName { email: Email },
    #[error("{email} is not a staff member with an active account")]
    NotActiveStaff { email: Email },
    #[error("this person is not an active customer member of the project")]
    NotACustomerMember,
    #[error("this person is not on the project's onboarding team")]
    NotOnTeam,
    #[error("the project owner cannot be removed without choosing another owner from the team first")]
    OwnerNeedsSuccessor,
    #[error("the new owner must be someone else on the project's onboarding team")]
    SuccessorNotOnTeam,
    #[error("choose at least one customer member to email")]
    NoRecipients,
    #[error("the form's one-time code is missing or malformed (8 to 64 letters, digits or dashes)")]
    BadNonce,
    #[error("the project has no phase `{phase}`")]
    UnknownPhase { phase: String },
    #[error("there are no open tasks customers can see here, so there is nothing to email")]
    NothingOpen,
    #[error("task `{task}` is completed or not visible to customers; no reminder is sent")]
    TaskNotOpenForCustomers { task: String },
    #[error("customers cannot see a project that is {status}, so no email is sent")]
    HiddenFromCustomers { status: ProjectStatus },
    // Staff changing tasks (the console's Tasks tab and its API, #13).
    #[error("A task's status is pending, in progress or completed; `{given}` is none of them.")]
    UnknownTaskStatus { given: String },
    #[error("`{given}` is not a date: write it as YYYY-MM-DD, for example 2027-01-31.")]
    BadDueDate { given: String },
    #[error("There is no person with the id `{given}` to assign this task to.")]
    UnknownAssignee { given: String },
    #[error("{name} is not a customer admin or member of this project, so tasks here cannot be given to them.")]
    AssigneeNotOnProject { name: String },
    #[error("{name}'s staff account is revoked; give the task to someone who can sign in.")]
    AssigneeRevoked { name: String },
    #[error("Task `{task}` is internal: customers cannot see it, so only staff can be assigned to it.")]
    InternalTaskForCustomer { task: String },
    #[error("Task `{task}` is completed; reopen it before giving it to someone else.")]
    ReassignCompleted { task: String },
    #[error("This project is {status}: make it active again before reopening one of its tasks.")]
    ReopenInClosedProject { status: ProjectStatus },
    #[error("Task `{task}` is internal: customers cannot see it, so it takes internal notes only.")]
    SharedCommentOnInternalTask { task: String },
    #[error("{0}")]
    BadComment(String),
    #[error("Choose at least one task to reassign.")]
    NoTasksChosen,
    #[error("Reassign at most {max} tasks at once.")]
    TooManyTasks { max: usize },
    #[error("Nothing was reassigned: task `{task}` could not be ({reason})")]
    BulkReassign { task: String, reason: String },
    // Document review (console, #13).
    #[error("Say why the file is rejected: the customer reads the note.")]
    RejectionNeedsNote,
    #[error("A note is at most {max} characters.")]
    NoteTooLong { max: usize },
}
