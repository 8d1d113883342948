//! The one error type of the server-only core. Each variant says what a caller can do about it;
//! the host maps them to HTTP statuses (400/403/404/409/429/500) and never leaks internals.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is wrong; the message says what to fix.
    #[error("{0}")]
    Invalid(String),
    /// Not signed in (or the session expired).
    #[error("Please sign in.")]
    Unauthenticated,
    /// Signed in, but not allowed.
    #[error("You don't have access to this.")]
    Forbidden,
    /// Missing — or not visible to this caller, which must look the same.
    #[error("Not found.")]
    NotFound,
    /// Clashes with existing data (a taken email or slug…).
    #[error("{0}")]
    Conflict(String),
    /// Throttled; try again later.
    #[error("{message}")]
    TooManyAttempts { message: String, retry_after_secs: u64 },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }

    /// HTTP status for this error.
    pub fn status(&self) -> u16 {
        match self {
            Error::Invalid(_) => 400,
            Error::Unauthenticated => 401,
            Error::Forbidden => 403,
            Error::NotFound => 404,
            Error::Conflict(_) => 409,
            Error::TooManyAttempts { .. } => 429,
            Error::Database(_) | Error::Migrate(_) | Error::Internal(_) => 500,
        }
    }

    /// Whether the message may be shown to the user as is (5xx details are logged, not shown).
    pub fn is_user_facing(&self) -> bool {
        self.status() < 500
    }
}

/// True when a database error is a unique-constraint violation (same meaning on both backends).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// The one place a unique-constraint violation becomes a user-facing error: `.map_err(on_unique(||
/// Error::Conflict(..)))`. Any other database error passes through unchanged. (SQLite does not
/// report constraint names the way PostgreSQL does, so this matches on the kind, not the name.)
pub fn on_unique<F: FnOnce() -> Error>(then: F) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| if is_unique_violation(&e) { then() } else { e.into() }
}
