//! Errors: the ones the simulated API answers with, and the ones its library calls return.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The error type a response carries in `x-amzn-errortype`, which the SDK maps to a typed
/// variant (e.g. `CreateUserError::DuplicateResourceException`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ErrorKind {
    /// 409: the username already exists in the instance.
    DuplicateResourceException,
    /// 400: a parameter value is invalid (unknown profile id, bad username, …).
    InvalidParameterException,
    /// 400: the request as a whole is invalid (malformed body, unsupported combination).
    InvalidRequestException,
    /// 404: the instance or user does not exist.
    ResourceNotFoundException,
    /// 429: the per-operation rate quota is exhausted; retryable.
    ThrottlingException,
    /// 429: a resource quota (users per instance) is exhausted; not retryable.
    LimitExceededException,
    /// 500: a server-side failure; retryable.
    InternalServiceException,
    /// 403: the request carries no SigV4 `Authorization` header.
    MissingAuthenticationTokenException,
    /// 403: the `Authorization` header is not a well-formed SigV4 header.
    IncompleteSignatureException,
    /// 404: no Connect operation matches the method and path.
    UnknownOperationException,
}

impl ErrorKind {
    /// Every kind, in a stable order.
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::DuplicateResourceException,
        ErrorKind::InvalidParameterException,
        ErrorKind::InvalidRequestException,
        ErrorKind::ResourceNotFoundException,
        ErrorKind::ThrottlingException,
        ErrorKind::LimitExceededException,
        ErrorKind::InternalServiceException,
        ErrorKind::MissingAuthenticationTokenException,
        ErrorKind::IncompleteSignatureException,
        ErrorKind::UnknownOperationException,
    ];

    /// The wire name, as sent in `x-amzn-errortype`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::DuplicateResourceException => "DuplicateResourceException",
            ErrorKind::InvalidParameterException => "InvalidParameterException",
            ErrorKind::InvalidRequestException => "InvalidRequestException",
            ErrorKind::ResourceNotFoundException => "ResourceNotFoundException",
            ErrorKind::ThrottlingException => "ThrottlingException",
            ErrorKind::LimitExceededException => "LimitExceededException",
            ErrorKind::InternalServiceException => "InternalServiceException",
            ErrorKind::MissingAuthenticationTokenException => "MissingAuthenticationTokenException",
            ErrorKind::IncompleteSignatureException => "IncompleteSignatureException",
            ErrorKind::UnknownOperationException => "UnknownOperationException",
        }
    }

    /// The HTTP status Connect uses for this error type.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::InvalidParameterException | ErrorKind::InvalidRequestException => 400,
            ErrorKind::MissingAuthenticationTokenException
            | ErrorKind::IncompleteSignatureException => 403,
            ErrorKind::ResourceNotFoundException | ErrorKind::UnknownOperationException => 404,
            ErrorKind::DuplicateResourceException => 409,
            ErrorKind::ThrottlingException | ErrorKind::LimitExceededException => 429,
            ErrorKind::InternalServiceException => 500,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given is not an error type the simulator can answer with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error type {0:?}; expected e.g. ThrottlingException, InternalServiceException")]
pub struct UnknownErrorKind(pub String);

impl FromStr for ErrorKind {
    type Err = UnknownErrorKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownErrorKind(s.to_owned()))
    }
}

/// Why a simulated Connect call failed. Each variant maps to one [`ErrorKind`]; its
/// `Display` text is the `Message` of the response body.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// CreateUser for a username the instance already has. Text follows Connect's.
    #[error(
        "The user {username} is already associated with the Amazon Connect instance {instance_id}"
    )]
    DuplicateUsername {
        /// The username asked for.
        username: String,
        /// The instance it already exists in.
        instance_id: String,
    },
    /// The instance id names no seeded instance.
    #[error("Instance not found: {0}")]
    InstanceNotFound(String),
    /// The user id names no user of the instance.
    #[error("User not found for id {user_id} in instance {instance_id}")]
    UserNotFound {
        /// The instance searched.
        instance_id: String,
        /// The user id asked for.
        user_id: String,
    },
    /// A required request member is absent.
    #[error("{0} is required")]
    MissingParameter(&'static str),
    /// The routing profile id is not one of the instance's.
    #[error("Routing profile {0} does not exist in this instance")]
    UnknownRoutingProfile(String),
    /// Some security profile ids are not the instance's.
    #[error("Security profile(s) {} do not exist in this instance", .0.join(", "))]
    UnknownSecurityProfiles(Vec<String>),
    /// The hierarchy group id is not one of the instance's.
    #[error("Hierarchy group {0} does not exist in this instance")]
    UnknownHierarchyGroup(String),
    /// Connect takes 1 to 10 security profiles per user.
    #[error("SecurityProfileIds must contain between 1 and 10 items, got {0}")]
    SecurityProfileCount(usize),
    /// The username breaks the instance's username rules.
    #[error("Invalid username {username:?}: {rule}")]
    InvalidUsername {
        /// The username given.
        username: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// SAML instances take no password: the IdP authenticates.
    #[error("Password is not allowed for instances using SAML for identity management")]
    PasswordOnSaml,
    /// CONNECT_MANAGED instances need a password for each new user.
    #[error("Password is required for instances using Amazon Connect for identity management")]
    PasswordRequired,
    /// The password breaks Connect's password rules.
    #[error("Password must be 8-64 characters with upper case, lower case and a digit")]
    WeakPassword,
    /// DirectoryUserId only applies to instances with an existing directory.
    #[error("DirectoryUserId is only allowed for instances using an existing directory")]
    DirectoryUserIdNotAllowed,
    /// An identity-info member is absent or malformed.
    #[error("Invalid IdentityInfo: {0}")]
    InvalidIdentityInfo(&'static str),
    /// The phone configuration is malformed.
    #[error("Invalid PhoneConfig: {0}")]
    InvalidPhoneConfig(&'static str),
    /// `maxResults` is outside the operation's range.
    #[error("maxResults must be between 1 and {max}, got {given}")]
    InvalidMaxResults {
        /// The value given.
        given: String,
        /// The operation's maximum.
        max: u32,
    },
    /// `nextToken` was not issued by this operation.
    #[error("The nextToken is invalid or expired")]
    InvalidNextToken,
    /// The body is not the JSON this operation takes.
    #[error("Request body is not valid: {0}")]
    MalformedBody(String),
    /// A search criterion the simulator does not implement.
    #[error("Unsupported search criteria: {0}")]
    UnsupportedSearch(String),
    /// Tags break Connect's tag rules (at most 50 per resource, keys 1–128 characters of
    /// letters, digits, spaces and `_.:/=+-@` not starting with `aws:`, values at most 256).
    #[error("Invalid tags: {0}")]
    InvalidTags(String),
    /// `resourceArn` is not an ARN.
    #[error("{0} is not a valid resource ARN")]
    InvalidResourceArn(String),
    /// No resource of the simulator has this ARN.
    #[error("Resource not found: {0}")]
    ResourceNotFound(String),
    /// The ARN names an instance resource the simulator does not tag (only users).
    #[error("connect-sim tags only users; {0} is not a user ARN")]
    UntaggableResource(String),
    /// The instance's users-per-instance quota is reached.
    #[error("The quota of {limit} users per instance has been reached for instance {instance_id}")]
    UserQuotaExceeded {
        /// The instance.
        instance_id: String,
        /// Its quota.
        limit: usize,
    },
    /// The operation's token bucket is empty.
    #[error("Rate exceeded")]
    Throttled,
    /// Fault injection chose to fail this call.
    #[error("Injected fault: {0}")]
    Injected(ErrorKind),
    /// The request has no `Authorization` header.
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,
    /// The `Authorization` header is not a SigV4 header.
    #[error(
        "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' of the AWS4-HMAC-SHA256 scheme"
    )]
    IncompleteSignature,
    /// No operation matches the method and path.
    #[error("Unknown operation {method} {path}")]
    UnknownOperation {
        /// The HTTP method.
        method: String,
        /// The request path.
        path: String,
    },
}

impl ApiError {
    /// The error type sent to the client.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ApiError::DuplicateUsername { .. } => ErrorKind::DuplicateResourceException,
            ApiError::InstanceNotFound(_)
            | ApiError::UserNotFound { .. }
            | ApiError::ResourceNotFound(_) => ErrorKind::ResourceNotFoundException,
            ApiError::MissingParameter(_)
            | ApiError::UnknownRoutingProfile(_)
            | ApiError::UnknownSecurityProfiles(_)
            | ApiError::UnknownHierarchyGroup(_)
            | ApiError::SecurityProfileCount(_)
            | ApiError::InvalidUsername { .. }
            | ApiError::PasswordOnSaml
            | ApiError::PasswordRequired
            | ApiError::WeakPassword
            | ApiError::InvalidIdentityInfo(_)
            | ApiError::InvalidPhoneConfig(_)
            | ApiError::InvalidMaxResults { .. }
            | ApiError::InvalidNextToken
            | ApiError::InvalidTags(_)
            | ApiError::InvalidResourceArn(_) => ErrorKind::InvalidParameterException,
            ApiError::DirectoryUserIdNotAllowed
            | ApiError::UntaggableResource(_)
            | ApiError::MalformedBody(_)
            | ApiError::UnsupportedSearch(_) => ErrorKind::InvalidRequestException,
            ApiError::UserQuotaExceeded { .. } => ErrorKind::LimitExceededException,
            ApiError::Throttled => ErrorKind::ThrottlingException,
            ApiError::Injected(kind) => *kind,
            ApiError::MissingAuthenticationToken => ErrorKind::MissingAuthenticationTokenException,
            ApiError::IncompleteSignature => ErrorKind::IncompleteSignatureException,
            ApiError::UnknownOperation { .. } => ErrorKind::UnknownOperationException,
        }
    }
}

/// A seed (instances, profiles, users) could not be read or is inconsistent.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The seed file could not be read.
    #[error("cannot read seed file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The seed is not valid JSON of the seed format.
    #[error("seed is not valid JSON of the seed format: {0}")]
    Parse(#[from] serde_json::Error),
    /// An instance id is empty or longer than Connect allows (100).
    #[error("instance id {0:?} must be 1 to 100 characters")]
    InvalidInstanceId(String),
    /// Two instances share an id.
    #[error("instance {0} is defined twice")]
    DuplicateInstance(String),
    /// Two resources of one instance share an id.
    #[error("instance {instance_id}: id {id} is defined twice")]
    DuplicateResourceId {
        /// The instance.
        instance_id: String,
        /// The repeated id.
        id: String,
    },
    /// A seeded user was rejected by the same rules CreateUser applies.
    #[error("instance {instance_id}: seeded user {username:?} rejected: {source}")]
    User {
        /// The instance.
        instance_id: String,
        /// The user's name.
        username: String,
        /// Why CreateUser would refuse it.
        source: ApiError,
    },
}

/// The state file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// Reading, writing or renaming the file failed.
    #[error("state file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The file exists but does not hold a simulator state.
    #[error("state file {path} is not a connect-sim state: {source}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parse failure.
        source: serde_json::Error,
    },
    /// The state could not be serialised.
    #[error("cannot serialise state: {0}")]
    Serialise(#[source] serde_json::Error),
}

/// A fault setting is out of range or a fault spec cannot be parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultSpecError {
    /// The probability is not within 0..=1.
    #[error("error probability must be within 0 and 1, got {0}")]
    Probability(f64),
    /// An item is not `key=value` with a known key.
    #[error(
        "fault spec item {0:?} is not one of error-rate=P, latency=DURATION, fail=OPERATION:ERROR:COUNT"
    )]
    Item(String),
    /// A number or duration does not parse.
    #[error("fault spec value {0:?} is not a valid number or duration (e.g. 250ms, 2s)")]
    Value(String),
    /// An operation name does not parse.
    #[error(transparent)]
    Operation(#[from] crate::operation::UnknownOperationName),
    /// An error type name does not parse.
    #[error(transparent)]
    ErrorKind(#[from] UnknownErrorKind),
}

/// A rate-limit setting is invalid or its spec cannot be parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RateSpecError {
    /// A rate must be a positive, finite number of requests per second.
    #[error("rate must be a positive number of requests per second, got {0:?}")]
    Rate(String),
    /// A burst must be a whole number of at least 1.
    #[error("burst must be a whole number of at least 1, got {0:?}")]
    Burst(String),
    /// A per-operation override is not `OPERATION=RATE[/s][:BURST]`.
    #[error("per-operation rate {0:?} is not OPERATION=RATE[/s][:BURST]")]
    Override(String),
    /// An operation name does not parse.
    #[error(transparent)]
    Operation(#[from] crate::operation::UnknownOperationName),
}

/// A library call on the simulator failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The seed was rejected.
    #[error(transparent)]
    Seed(#[from] SeedError),
    /// The state file could not be loaded or saved.
    #[error(transparent)]
    Persist(#[from] PersistError),
    /// The fault settings are invalid.
    #[error(transparent)]
    Faults(#[from] FaultSpecError),
    /// The rate limits are invalid.
    #[error(transparent)]
    Rate(#[from] RateSpecError),
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The bound socket's address could not be read.
    #[error("cannot read the bound address: {0}")]
    LocalAddr(#[source] std::io::Error),
    /// The server task failed while serving.
    #[error("server failed: {0}")]
    Serve(#[source] std::io::Error),
    /// The server task ended abnormally (panicked or was cancelled).
    #[error("server task ended abnormally: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// A library call named an instance the simulator does not have.
    #[error("instance not found: {0}")]
    InstanceNotFound(String),
    /// A library call was refused by the same rules the API applies.
    #[error(transparent)]
    Api(#[from] ApiError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_have_connect_statuses() {
        for kind in ErrorKind::ALL {
            assert_eq!(kind.as_str().parse::<ErrorKind>(), Ok(kind));
        }
        assert_eq!(ErrorKind::DuplicateResourceException.status(), 409);
        assert_eq!(ErrorKind::ThrottlingException.status(), 429);
        assert_eq!(ErrorKind::LimitExceededException.status(), 429);
        assert_eq!(ErrorKind::InternalServiceException.status(), 500);
    }

    #[test]
    fn duplicate_message_matches_connect() {
        let err = ApiError::DuplicateUsername {
            username: "jane@example.com".into(),
            instance_id: "inst-1".into(),
        };
        assert_eq!(
            err.to_string(),
            "The user jane@example.com is already associated with the Amazon Connect instance inst-1"
        );
        assert_eq!(err.kind(), ErrorKind::DuplicateResourceException);
    }
}
