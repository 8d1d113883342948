//! The error every server function returns. It crosses the wire as JSON, so the browser can show
//! the same message the server chose; 5xx details stay in the server log, tagged with the request id.

use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in again.")]
    Unauthenticated,
    #[error("You don't have access to this.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooManyAttempts(String),
    #[error("Something went wrong on our side (request id {0}). Please try again; if it keeps happening, send this id to your admin.")]
    Internal(String),
    /// The request never reached the function or its answer could not be read (network, bad arguments).
    #[error("{0}")]
    Transport(String),
}

impl AppError {
    /// Bad input from the caller: on the server this also answers 400 (build `Invalid` through
    /// here, never directly, or the response would go out as 500).
    pub fn invalid(message: impl Into<String>) -> AppError {
        #[cfg(feature = "ssr")]
        crate::api::ctx::set_status(http::StatusCode::BAD_REQUEST);
        AppError::Invalid(message.into())
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(err: ServerFnErrorErr) -> Self {
        match err {
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::Deserialization(msg) => {
                // On the server this is the caller's fault: answer 400, not 500.
                #[cfg(feature = "ssr")]
                crate::api::ctx::set_status(http::StatusCode::BAD_REQUEST);
                AppError::Transport(format!("The request was malformed: {msg}"))
            }
            ServerFnErrorErr::Request(msg) => {
                AppError::Transport(format!("Could not reach the server ({msg}). Check your connection and try again."))
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;
    use backend::Error;

    /// Maps a core error to the wire, sets the HTTP status, and logs what the user must not see.
    impl From<Error> for AppError {
        fn from(err: Error) -> Self {
            let status = http::StatusCode::from_u16(err.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
            crate::api::ctx::set_status(status);
            match err {
                Error::Invalid(m) => AppError::Invalid(m),
                Error::Unauthenticated => AppError::Unauthenticated,
                Error::Forbidden => AppError::Forbidden,
                Error::NotFound => AppError::NotFound,
                Error::Conflict(m) => AppError::Conflict(m),
                Error::TooManyAttempts { message, .. } => AppError::TooManyAttempts(message),
                other => {
                    let request_id = crate::api::ctx::request_id().unwrap_or_else(|| "unknown".into());
                    tracing::error!(error = %other, %request_id, "server function failed");
                    AppError::Internal(request_id)
                }
            }
        }
    }
}
