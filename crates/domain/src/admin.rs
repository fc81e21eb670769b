//! Administrators: the operators who sign in with Google.

use chrono::{DateTime, Utc};

use crate::ids::AdminId;

/// An administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    pub id: AdminId,
    pub email: String,
    pub name: String,
    pub token_version: i32,
    pub created_at: DateTime<Utc>,
}
