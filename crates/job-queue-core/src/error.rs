//! The engine's one error type. Each variant has a stable `code` that the binding hands to
//! JavaScript unchanged, so callers branch on codes, never on message text.

use std::fmt;

/// Everything an engine call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input rejected before anything was written to Redis.
    #[error("invalid {field}: {message}")]
    Validation {
        /// The option or argument at fault, as the caller spelled it (`opts.delay`, `name`).
        field: String,
        /// What is wrong with it, for people.
        message: String,
    },
    /// No job with this id exists in the queue.
    #[error("job {id} not found in queue {queue}")]
    JobNotFound {
        /// The queue's name (without the key prefix).
        queue: String,
        /// The job id asked for.
        id: String,
    },
    /// The job exists but is not in the state the operation needs.
    #[error("job {id} is not {expected}")]
    JobNotInState {
        /// The job's id.
        id: String,
        /// The state the operation needed, in words ("delayed", "active", ...).
        expected: &'static str,
    },
    /// The job's lock is held by another worker (it was recovered as stalled and restarted).
    #[error("lock of job {id} is held by another worker")]
    LockMismatch {
        /// The job's id.
        id: String,
    },
    /// The job's lock expired before the worker finished it.
    #[error("lock of job {id} is missing")]
    LockMissing {
        /// The job's id.
        id: String,
    },
    /// Redis refused, dropped the connection, or answered something unexpected.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// A job hash that the engine cannot read (for example `opts` that is not JSON).
    #[error("job {id} is unreadable: {message}")]
    Corrupt {
        /// The job's id.
        id: String,
        /// What could not be read.
        message: String,
    },
    /// The worker or queue was closed.
    #[error("{0} is closed")]
    Closed(&'static str),
}

/// Stable codes, one per variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// [`Error::Validation`]: `ERR_VALIDATION`.
    Validation,
    /// [`Error::JobNotFound`]: `ERR_JOB_NOT_FOUND`.
    JobNotFound,
    /// [`Error::JobNotInState`]: `ERR_JOB_NOT_IN_STATE`.
    JobNotInState,
    /// [`Error::LockMismatch`]: `ERR_LOCK_MISMATCH`.
    LockMismatch,
    /// [`Error::LockMissing`]: `ERR_LOCK_MISSING`.
    LockMissing,
    /// [`Error::Redis`]: `ERR_CONNECTION`, whatever Redis did wrong (the call may be retried).
    Connection,
    /// [`Error::Corrupt`]: `ERR_CORRUPT_JOB`.
    Corrupt,
    /// [`Error::Closed`]: `ERR_CLOSED`.
    Closed,
}

impl ErrorCode {
    /// The code's text, as JavaScript sees it in `err.code` (stable across releases).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Validation => "ERR_VALIDATION",
            Self::JobNotFound => "ERR_JOB_NOT_FOUND",
            Self::JobNotInState => "ERR_JOB_NOT_IN_STATE",
            Self::LockMismatch => "ERR_LOCK_MISMATCH",
            Self::LockMissing => "ERR_LOCK_MISSING",
            Self::Connection => "ERR_CONNECTION",
            Self::Corrupt => "ERR_CORRUPT_JOB",
            Self::Closed => "ERR_CLOSED",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// A [`Error::Validation`] for `field` (the caller's spelling of the input at fault).
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The stable code of this error's variant.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Validation { .. } => ErrorCode::Validation,
            Self::JobNotFound { .. } => ErrorCode::JobNotFound,
            Self::JobNotInState { .. } => ErrorCode::JobNotInState,
            Self::LockMismatch { .. } => ErrorCode::LockMismatch,
            Self::LockMissing { .. } => ErrorCode::LockMissing,
            Self::Redis(_) => ErrorCode::Connection,
            Self::Corrupt { .. } => ErrorCode::Corrupt,
            Self::Closed(_) => ErrorCode::Closed,
        }
    }
}

/// A result whose error is the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
