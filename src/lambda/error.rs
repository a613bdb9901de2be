//! The Lambda's errors, typed: which object, and whether another try may succeed.

use super::s3::SourceError;
use super::triggers::ObjectRef;

/// Why one object was not (fully) processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    /// Nothing was published: the object is worth another try (a transient fault, the
    /// invocation's time, an output that failed).
    #[error("s3://{bucket}/{key}: {reason}")]
    Retryable {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// What went wrong.
        reason: String,
    },
    /// Access to the object is denied: nothing was published, and trying again within this
    /// invocation would be denied again; the event is kept for a redrive once access is granted.
    #[error("s3://{bucket}/{key}: {reason}")]
    Denied {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// What went wrong, with the permissions to grant.
        reason: String,
    },
    /// The object cannot be read (to its end): what could be read was analysed and an
    /// `ingest-error` alert published; another try would give the same.
    #[error("s3://{bucket}/{key}: {reason}")]
    Permanent {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// What went wrong.
        reason: String,
    },
}

impl ObjectError {
    /// A retryable error about `object`.
    pub fn retryable(object: &ObjectRef, reason: impl Into<String>) -> ObjectError {
        ObjectError::Retryable {
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            reason: reason.into(),
        }
    }

    /// A permanent error about `object`.
    pub fn permanent(object: &ObjectRef, reason: impl Into<String>) -> ObjectError {
        ObjectError::Permanent {
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            reason: reason.into(),
        }
    }

    /// The source's own classification of a fault on `object`.
    pub fn from_source(object: &ObjectRef, e: SourceError) -> ObjectError {
        match e {
            SourceError::Transient(why) => ObjectError::retryable(object, why),
            SourceError::Permanent(why) => ObjectError::permanent(object, why),
            SourceError::Denied(reason) => ObjectError::Denied {
                bucket: object.bucket.clone(),
                key: object.key.clone(),
                reason,
            },
        }
    }

    /// Whether another try may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ObjectError::Retryable { .. } | ObjectError::Denied { .. }
        )
    }

    /// Whether another try within this invocation may succeed (not so for denied access).
    pub fn retry_now(&self) -> bool {
        matches!(self, ObjectError::Retryable { .. })
    }

    /// What went wrong, without the object's name.
    pub fn reason(&self) -> &str {
        match self {
            ObjectError::Retryable { reason, .. }
            | ObjectError::Denied { reason, .. }
            | ObjectError::Permanent { reason, .. } => reason,
        }
    }
}

/// The invocation failed: Lambda retries it (or sends it to the failure destination).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The event is not a trigger this function understands.
    #[error("event not understood: {0}")]
    Event(#[from] super::triggers::EventError),
    /// Some objects must be tried again; the first of them is named.
    #[error("{count} of {total} objects must be retried; first: {first}")]
    Objects {
        /// Objects to retry.
        count: usize,
        /// Objects in the event.
        total: usize,
        /// The first object to retry, and why.
        first: ObjectError,
    },
    /// The scheduled check could not read or write the state, or publish its alerts.
    #[error("scheduled check: {0}")]
    Scheduled(String),
}
