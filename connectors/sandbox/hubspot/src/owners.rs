//! The CRM users who can own records (`/crm/v3/owners`). Seeds list them; the store, the
//! property catalog and the OAuth consent page read them.

use serde::{Deserialize, Serialize};

/// A CRM user who can own records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub user_id: u64,
    #[serde(default)]
    pub archived: bool,
}
