//! What a call or a client configuration can fail with.

use std::fmt;
use std::time::Duration;

use agentic_commerce::AcpError;
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::protocol::version::convert::{ConvertError, LossReport};
use agentic_commerce::trust::signature::SignatureError;

/// Why a call failed.
///
/// [`Error::Api`] is the server's ACP `Error` (`type`, `code`, `message`, `param`) with the
/// HTTP status it came with; the other variants say why no such answer was obtained.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an ACP error (ERR-01): status, `type`, `code`, `message`,
    /// `param` and `Retry-After` are in the [`AcpError`].
    Api {
        /// The error and its status.
        error: AcpError,
        /// The `Request-Id` the server echoed, if any (HDR-04).
        request_id: Option<String>,
        /// Attempts made.
        attempts: u32,
    },
    /// An answer with a status the operation does not define and a body that is not an ACP
    /// error (a proxy's HTML page, a redirect, a `404` without a body).
    UnexpectedStatus {
        /// The HTTP status.
        status: u16,
        /// The first 512 bytes of the body, lossily decoded.
        body: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The connection failed or broke, and no retry was left (or allowed).
    Transport {
        /// The failure, with its chain of causes.
        source: reqwest::Error,
        /// Attempts made.
        attempts: u32,
    },
    /// The last attempt ran past the per-attempt timeout and no retry was left.
    Timeout {
        /// The per-attempt timeout.
        after: Duration,
        /// Attempts made.
        attempts: u32,
    },
    /// The call's total deadline ([`RetryPolicy::deadline`](crate::RetryPolicy::deadline))
    /// ran out, during an attempt or because the next wait would have ended past it.
    DeadlineExceeded {
        /// The deadline.
        deadline: Duration,
        /// Attempts made.
        attempts: u32,
        /// The failure of the last attempt that finished, if one did: when the deadline cuts
        /// an attempt short, the one before it (a `5xx`, a timeout) is kept here.
        last: Option<Box<Error>>,
    },
    /// The response body is larger than the configured cap
    /// ([`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)); the
    /// client stopped reading at the cap.
    TooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// A success answer whose body is not the operation's response type (in the negotiated
    /// version), or cannot be upgraded to the 2026-04-17 model.
    Undecodable {
        /// The HTTP status.
        status: u16,
        /// Why (with the JSONPath of the failing value where known).
        reason: String,
    },
    /// The request cannot be carried to the negotiated (older) API version without losing
    /// something the caller set: nothing was sent.
    Downgrade {
        /// The negotiated version.
        version: ApiVersion,
        /// What could not be carried (empty when the conversion failed outright, see `reason`).
        losses: Vec<LossReport>,
        /// The conversion error, when there is one.
        reason: Option<Box<ConvertError>>,
    },
    /// The request body could not be serialized.
    Serialize(serde_json::Error),
    /// The request body could not be signed (not canonicalizable JSON, a failing key).
    Signing(SignatureError),
    /// A [raw request](crate::RawRequest) that cannot be sent as built: a header name or
    /// value HTTP cannot carry, a path or URL that does not parse, a URL that is neither
    /// `https://` nor allowed plain `http://`. Nothing was sent.
    InvalidRequest(String),
    /// The discovery document names no API version this client supports (VER-02).
    NoCommonVersion {
        /// The versions the client supports.
        ours: Vec<ApiVersion>,
        /// The versions the server lists (as sent).
        theirs: Vec<String>,
    },
}

impl Error {
    /// The ACP error the server sent, if that is what this is.
    pub fn api_error(&self) -> Option<&AcpError> {
        match self {
            Self::Api { error, .. } => Some(error),
            Self::DeadlineExceeded {
                last: Some(last), ..
            } => last.api_error(),
            _ => None,
        }
    }

    /// The HTTP status of the answer this error comes from, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { error, .. } => Some(error.status()),
            Self::UnexpectedStatus { status, .. } | Self::Undecodable { status, .. } => {
                Some(*status)
            }
            Self::DeadlineExceeded {
                last: Some(last), ..
            } => last.status(),
            _ => None,
        }
    }

    /// How many attempts were made (0 when nothing was sent).
    pub fn attempts(&self) -> u32 {
        match self {
            Self::Api { attempts, .. }
            | Self::UnexpectedStatus { attempts, .. }
            | Self::Transport { attempts, .. }
            | Self::Timeout { attempts, .. }
            | Self::DeadlineExceeded { attempts, .. } => *attempts,
            _ => 0,
        }
    }

    /// Whether a later call (with the same `Idempotency-Key`) could succeed: transport
    /// failures, timeouts, `5xx`, `409 idempotency_in_flight`, `429`.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::Timeout { .. } | Self::DeadlineExceeded { .. } => true,
            Self::Api { error, .. } => {
                error.status() >= 500
                    || error.status() == 429
                    || (error.status() == 409 && error.code() == IN_FLIGHT)
            }
            Self::UnexpectedStatus { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// The ACP error code of a `409` the client retries (IDEM-12).
pub(crate) const IN_FLIGHT: &str = "idempotency_in_flight";

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Api {
                error,
                request_id,
                attempts,
            } => {
                write!(f, "ACP error {error}")?;
                if let Some(id) = request_id {
                    write!(f, " [request {id}]")?;
                }
                write!(f, " after {attempts} attempt(s)")
            }
            Self::UnexpectedStatus {
                status, attempts, ..
            } => write!(
                f,
                "unexpected HTTP {status} without an ACP error after {attempts} attempt(s)"
            ),
            Self::Transport { source, attempts } => {
                write!(f, "transport failure after {attempts} attempt(s): {source}")?;
                let mut cause = std::error::Error::source(source);
                while let Some(e) = cause {
                    write!(f, ": {e}")?;
                    cause = e.source();
                }
                Ok(())
            }
            Self::Timeout { after, attempts } => write!(
                f,
                "attempt timed out after {after:?} ({attempts} attempt(s))"
            ),
            Self::DeadlineExceeded {
                deadline,
                attempts,
                last,
            } => {
                write!(
                    f,
                    "deadline of {deadline:?} exceeded after {attempts} attempt(s)"
                )?;
                if let Some(last) = last {
                    write!(f, "; last: {last}")?;
                }
                Ok(())
            }
            Self::TooLarge { limit } => write!(f, "response body larger than {limit} bytes"),
            Self::Undecodable { status, reason } => {
                write!(f, "HTTP {status} body is not the expected type: {reason}")
            }
            Self::Downgrade {
                version,
                losses,
                reason,
            } => {
                write!(f, "the request cannot be sent in API version {version}")?;
                if let Some(reason) = reason {
                    write!(f, ": {reason}")?;
                }
                for loss in losses {
                    write!(f, "; {loss}")?;
                }
                Ok(())
            }
            Self::Serialize(e) => write!(f, "request body: {e}"),
            Self::Signing(e) => write!(f, "request signature: {e}"),
            Self::InvalidRequest(why) => write!(f, "invalid request: {why}"),
            Self::NoCommonVersion { ours, theirs } => {
                let ours: Vec<&str> = ours.iter().map(ApiVersion::as_str).collect();
                write!(
                    f,
                    "no common API version: client {ours:?}, server {theirs:?}"
                )
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Api { error, .. } => Some(error),
            Self::Transport { source, .. } => Some(source),
            Self::DeadlineExceeded {
                last: Some(last), ..
            } => Some(last.as_ref()),
            Self::Downgrade {
                reason: Some(reason),
                ..
            } => Some(reason.as_ref()),
            Self::Serialize(e) => Some(e),
            Self::Signing(e) => Some(e),
            _ => None,
        }
    }
}

/// Why a client could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// The base URL does not parse, or has a scheme other than `https` (or `http` for a
    /// loopback host).
    InvalidBaseUrl(String),
    /// `http://` to a host that is not loopback: credentials and card data would travel in
    /// clear text (HDR-06).
    InsecureBaseUrl(String),
    /// The bearer token is not RFC 6750 `b64token` syntax.
    InvalidBearerToken,
    /// The supported-version list is empty.
    NoVersions,
    /// The HTTP client could not be built (TLS backend initialisation).
    Http(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidBaseUrl(why) => write!(f, "invalid base URL: {why}"),
            Self::InsecureBaseUrl(host) => write!(
                f,
                "plain http:// is only allowed to a loopback host, not {host}; use https://"
            ),
            Self::InvalidBearerToken => f.write_str("the bearer token is not a valid b64token"),
            Self::NoVersions => f.write_str("the client supports no API version"),
            Self::Http(why) => write!(f, "HTTP client: {why}"),
        }
    }
}

impl std::error::Error for BuildError {}
