//! The engine's one error type. Each variant has a stable `code` that the binding hands to
//! JavaScript unchanged, so callers branch on codes, never on message text.

use std::fmt;

/// Everything an engine call can fail with.
///
/// The messages of the job and lock errors are BullMQ's, word for word, ending with
/// BullMQ's name of the operation (`Missing key for job 7. updateData`): services written
/// against BullMQ match on that text.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input rejected before anything was written to Redis.
    #[error("{message}")]
    Validation {
        /// The option or argument at fault, as the caller spelled it (`opts.delay`, `name`).
        field: String,
        /// The whole message, for people: `invalid <field>: <what is wrong>` (see
        /// [`Error::validation`]), or BullMQ's own wording where BullMQ has one
        /// ([`Error::validation_worded`]).
        message: String,
    },
    /// No job with this id exists in the queue.
    #[error("Missing key for job {id}. {command}")]
    JobNotFound {
        /// The queue's name (without the key prefix).
        queue: String,
        /// The job id asked for.
        id: String,
        /// The operation, by BullMQ's name for it (`updateData`, `reprocessJob`...).
        command: &'static str,
    },
    /// The job exists but is not in the state the operation needs.
    #[error("Job {id} is not in the {expected} state. {command}")]
    JobNotInState {
        /// The job's id.
        id: String,
        /// The state the operation needed ("delayed", "active", ...).
        expected: &'static str,
        /// The operation, by BullMQ's name for it.
        command: &'static str,
    },
    /// The job is the pending iteration of a job scheduler: it goes with its scheduler, not
    /// alone. Code `ERR_JOB_NOT_IN_STATE`.
    #[error("Job {id} belongs to a job scheduler and cannot be removed directly. {command}")]
    SchedulerJob {
        /// The job's id.
        id: String,
        /// The operation, by BullMQ's name for it.
        command: &'static str,
    },
    /// The job is running (a worker holds its lock), so it cannot be removed. Code
    /// `ERR_JOB_NOT_IN_STATE`.
    #[error("Job {id} could not be removed because it is locked by another worker")]
    JobLocked {
        /// The job's id.
        id: String,
    },
    /// A job scheduler's iteration for that time already exists. Code `ERR_JOB_NOT_IN_STATE`.
    #[error("Cannot create job scheduler iteration - job ID already exists. {command}")]
    IterationExists {
        /// The id the iteration would have had.
        id: String,
        /// The operation, by BullMQ's name for it.
        command: &'static str,
    },
    /// The job's lock is held by another worker (it was recovered as stalled and restarted).
    #[error("Lock mismatch for job {id}. Cmd {command} from active")]
    LockMismatch {
        /// The job's id.
        id: String,
        /// The operation, by BullMQ's name for it.
        command: &'static str,
    },
    /// The job's lock expired before the worker finished it.
    #[error("Missing lock for job {id}. {command}")]
    LockMissing {
        /// The job's id.
        id: String,
        /// The operation, by BullMQ's name for it.
        command: &'static str,
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
    /// The write reached the master, but fewer replicas than asked confirmed it in time
    /// (`redis.wait`): it would be lost if the master failed before replicating it.
    #[error(
        "stored on the master, but only {acked} of {wanted} replicas confirmed it within \
         {timeout_ms} ms (WAIT): it is lost if the master fails before replicating it"
    )]
    NotReplicated {
        /// Replicas asked for.
        wanted: u32,
        /// Replicas that confirmed.
        acked: u32,
        /// How long WAIT waited.
        timeout_ms: u64,
    },
}

/// Stable codes, one per variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// [`Error::Validation`]: `ERR_VALIDATION`.
    Validation,
    /// [`Error::JobNotFound`]: `ERR_JOB_NOT_FOUND`.
    JobNotFound,
    /// [`Error::JobNotInState`], [`Error::SchedulerJob`], [`Error::JobLocked`] and
    /// [`Error::IterationExists`]: `ERR_JOB_NOT_IN_STATE`.
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
    /// [`Error::NotReplicated`]: `ERR_NOT_REPLICATED`.
    NotReplicated,
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
            Self::NotReplicated => "ERR_NOT_REPLICATED",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// A [`Error::Validation`] for `field` (the caller's spelling of the input at fault),
    /// saying `invalid <field>: <problem>`.
    pub fn validation(field: &str, problem: impl std::fmt::Display) -> Self {
        Self::Validation {
            field: field.to_owned(),
            message: format!("invalid {field}: {problem}"),
        }
    }

    /// A [`Error::Validation`] for `field` whose message is `message` as given: BullMQ's
    /// wording where BullMQ's classes promise it (`Priority should not be float`).
    pub fn validation_worded(field: &str, message: impl Into<String>) -> Self {
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
            Self::JobNotInState { .. }
            | Self::SchedulerJob { .. }
            | Self::JobLocked { .. }
            | Self::IterationExists { .. } => ErrorCode::JobNotInState,
            Self::LockMismatch { .. } => ErrorCode::LockMismatch,
            Self::LockMissing { .. } => ErrorCode::LockMissing,
            Self::Redis(_) => ErrorCode::Connection,
            Self::Corrupt { .. } => ErrorCode::Corrupt,
            Self::Closed(_) => ErrorCode::Closed,
            Self::NotReplicated { .. } => ErrorCode::NotReplicated,
        }
    }
}

/// A result whose error is the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
