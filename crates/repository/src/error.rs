#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// A unique constraint or index refused the row; carries its name.
    #[error("unique constraint `{0}` violated")]
    Unique(String),
    /// A check constraint refused the row; carries its name.
    #[error("check constraint `{0}` violated")]
    Check(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error(transparent)]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for RepoError {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &error {
            let constraint = db.constraint().unwrap_or_default().to_owned();
            match db.code().as_deref() {
                Some("23505") => return RepoError::Unique(constraint),
                Some("23514") => return RepoError::Check(constraint),
                _ => {}
            }
        }
        RepoError::Database(error)
    }
}

impl RepoError {
    pub fn is_unique(&self, constraint: &str) -> bool {
        matches!(self, RepoError::Unique(name) if name == constraint)
    }
}
