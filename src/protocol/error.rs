//! ACP protocol errors (ERR-01 … ERR-06): the flat `Error` object plus the HTTP status it is
//! sent with.
//!
//! [`AcpError`] wraps the generated wire type [`Error`]
//! (so it serializes to exactly the flat `{"type","code","message","param"?,"supported_versions"?}`
//! object, ERR-01, never an envelope) and adds what the wire object cannot carry: the HTTP status
//! and, for 409/429/503, the `Retry-After` header (ERR-06).
//!
//! `type` and `code` stay open: an error parsed from the wire with a value this crate does not
//! know keeps it and writes it back unchanged.
//!
//! # Constructors and their status (ERR-04, AC §3.1, DP §2.6)
//!
//! | Constructor | Status | `type` | `code` |
//! |---|---|---|---|
//! | [`AcpError::idempotency_key_required`] | 400 | `invalid_request` | `idempotency_key_required` |
//! | [`AcpError::idempotency_conflict`] | 422 | `invalid_request` | `idempotency_conflict` |
//! | [`AcpError::idempotency_in_flight`] | 409 + `Retry-After` | `invalid_request` | `idempotency_in_flight` |
//! | [`AcpError::requires_3ds`] (CHK-15) | 400, param `$.authentication_result` | `invalid_request` | `requires_3ds` |
//! | [`AcpError::invalid_signature`] | 401 | `invalid_request` | `invalid_signature` |
//! | [`AcpError::missing_api_version`] / [`AcpError::unsupported_api_version`] | 400 + `supported_versions` newest first | `invalid_request` | `missing_api_version` / `unsupported_api_version` |
//! | [`AcpError::not_found`] (CHK-18) | 404 | `invalid_request` | `not_found` |
//! | [`AcpError::method_not_allowed`], [`AcpError::cancel_not_allowed`] (CHK-17) | 405 | `invalid_request` | `method_not_allowed` |
//! | [`AcpError::invalid_request`] | 400 | `invalid_request` | caller's |
//! | [`AcpError::unprocessable`] | 422 | `invalid_request` | caller's |
//! | [`AcpError::rate_limited`] | 429 + `Retry-After` | `rate_limit_exceeded` | `too_many_requests` |
//! | [`AcpError::processing_error`] | 500 | `processing_error` | `processing_error` |
//! | [`AcpError::service_unavailable`] | 503 (+ `Retry-After`) | `service_unavailable` | `service_unavailable` |
//! | [`AcpError::invalid_card`] | 400 | `invalid_request` | `invalid_card` |
//! | [`AcpError::duplicate_request`] | 409 | `invalid_request` | `duplicate_request` |
//!
//! The delegate-payment codes (ERR-03) use the same constructors; [`AcpError::to_delegate_payment`]
//! converts to the delegate-payment wire type.
//!
//! `rate_limit_exceeded` is a `type` of the delegate-payment and delegate-authentication schemas
//! only; the checkout `ErrorType` enum (ERR-02) has no rate-limit type. [`AcpError::rate_limited`]
//! uses it anyway (kept as an unknown value of the open checkout enum) because it is the only
//! rate-limit type the protocol defines.
//!
//! # Conversions
//!
//! Every error of this crate that ends in an HTTP response converts into an [`AcpError`], reusing
//! the status, code and message the source module defines:
//! [`ParseError`], [`StrictError`], [`Violation`], [`VersionError`], [`IdempotencyRejection`],
//! [`WebhookError`], [`SignatureError`], and [`HeaderErrors`] (through
//! [`AcpError::from_header_errors`], which needs the server's supported versions).
//!
//! Schema violations map to 400 `invalid_request` with `param` = the JSONPath (CHK-09, ERR-05)
//! and a `code` per violated keyword:
//!
//! | Violation | `code` |
//! |---|---|
//! | `required` | `missing_required_field` (the code of the official MCP example) |
//! | `type` | `invalid_type` |
//! | `additionalProperties` | `unknown_field` |
//! | `enum`, `const` | `invalid_enum_value` |
//! | every other keyword (lengths, ranges, pattern, format, `oneOf` …) | `invalid_value` |
//!
//! A syntax error (not JSON at all) is `invalid_json`, with no `param`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::parse::json_path::JsonPath;
use crate::parse::registry::BodyError;
use crate::parse::schema::{Violation, ViolationKind};
use crate::parse::{ParseError, ParseErrorKind, StrictError};
use crate::protocol::headers::{AcpHeader, HeaderErrors, HeaderProblem, RetryAfter};
use crate::protocol::version::convert::ConvertError;
use crate::protocol::version::{ApiVersion, VersionError};
use crate::spec::latest::agentic_checkout::{CheckoutStatus, Error, ErrorType};
use crate::spec::latest::delegate_payment::{
    DelegatePaymentError, DelegatePaymentErrorCode, DelegatePaymentErrorType,
};
use crate::trust::allowance::{
    AllowanceViolation, AllowanceViolations, AuthorizeError, LedgerError,
};
use crate::trust::canonical::CanonicalJsonError;
use crate::trust::idempotency::IdempotencyRejection;
use crate::trust::signature::SignatureError;
use crate::trust::webhook::WebhookError;

/// Well-known ACP error codes (the `code` member). The wire `code` is free-form; these constants
/// name the values the spec and this crate use.
pub mod codes {
    /// 400: the `Idempotency-Key` header is missing (IDEM, ERR-03).
    pub const IDEMPOTENCY_KEY_REQUIRED: &str = "idempotency_key_required";
    /// 422: the key was used with a different body.
    pub const IDEMPOTENCY_CONFLICT: &str = "idempotency_conflict";
    /// 409: the first request with this key is still running.
    pub const IDEMPOTENCY_IN_FLIGHT: &str = "idempotency_in_flight";
    /// 4XX: complete in `authentication_required` without `authentication_result` (CHK-15).
    pub const REQUIRES_3DS: &str = "requires_3ds";
    /// 401: a request or webhook signature is missing or wrong.
    pub const INVALID_SIGNATURE: &str = "invalid_signature";
    /// 401: missing or unknown bearer token.
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// 413: the request body is over the server's cap.
    pub const REQUEST_TOO_LARGE: &str = "request_too_large";
    /// 409: a concurrent request changed the resource first.
    pub const CONCURRENT_MODIFICATION: &str = "concurrent_modification";
    /// 400: no `API-Version` header (VER-04).
    pub const MISSING_API_VERSION: &str = "missing_api_version";
    /// 400: an `API-Version` the server does not accept (VER-04).
    pub const UNSUPPORTED_API_VERSION: &str = "unsupported_api_version";
    /// 404: unknown resource (CHK-18).
    pub const NOT_FOUND: &str = "not_found";
    /// 405: the operation is not allowed in the resource's state (CHK-17).
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// 422: a checkout operation the session's status does not allow (this crate's code).
    pub const INVALID_STATE: &str = "invalid_state";
    /// 405: the checkout session reached its `expires_at` (the 2026-04-17 message code
    /// `expired`; see [`AcpError::session_expired`](super::AcpError::session_expired)).
    pub const EXPIRED: &str = "expired";
    /// 400: a required member is missing (the official MCP example's code).
    pub const MISSING_REQUIRED_FIELD: &str = "missing_required_field";
    /// 400: a member has the wrong JSON type.
    pub const INVALID_TYPE: &str = "invalid_type";
    /// 400: a member a closed schema does not allow.
    pub const UNKNOWN_FIELD: &str = "unknown_field";
    /// 400: a value outside its enum.
    pub const INVALID_ENUM_VALUE: &str = "invalid_enum_value";
    /// 400: a value breaking another schema keyword.
    pub const INVALID_VALUE: &str = "invalid_value";
    /// 400: the body is not JSON.
    pub const INVALID_JSON: &str = "invalid_json";
    /// 500: unexpected server failure.
    pub const PROCESSING_ERROR: &str = "processing_error";
    /// 503: temporary unavailability.
    pub const SERVICE_UNAVAILABLE: &str = "service_unavailable";
    /// 429: rate limit (delegate payment's code, ERR-03).
    pub const TOO_MANY_REQUESTS: &str = "too_many_requests";
    /// 400: card data is invalid (delegate payment, ERR-03).
    pub const INVALID_CARD: &str = "invalid_card";
    /// 409: the same tokenization was already requested (delegate payment, ERR-03).
    pub const DUPLICATE_REQUEST: &str = "duplicate_request";
}

/// The error `type` values (ERR-02, ERR-03).
pub mod types {
    /// Malformed request, missing fields, idempotency violations.
    pub const INVALID_REQUEST: &str = "invalid_request";
    /// Unexpected server-side failure.
    pub const PROCESSING_ERROR: &str = "processing_error";
    /// Temporary unavailability.
    pub const SERVICE_UNAVAILABLE: &str = "service_unavailable";
    /// Rate limit (delegate payment and delegate authentication schemas).
    pub const RATE_LIMIT_EXCEEDED: &str = "rate_limit_exceeded";
}

/// Why [`AcpError::new`] refused a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("HTTP status {0} is not an error status (400..=599)")]
pub struct InvalidStatus(pub u16);

/// An ACP protocol error: the flat wire [`Error`] plus the HTTP status it is sent with and an
/// optional `Retry-After`.
///
/// Serializes (and deserializes) as the flat wire object only (ERR-01); the status travels in
/// the HTTP status line.
#[derive(Debug, Clone, PartialEq)]
pub struct AcpError {
    status: u16,
    // Boxed so that `Result<_, AcpError>` stays small (the wire object is ~150 bytes).
    error: Box<Error>,
    retry_after: Option<RetryAfter>,
}

impl fmt::Display for AcpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}/{}: {}",
            self.status,
            self.error.kind.as_str(),
            self.error.code,
            self.error.message
        )?;
        if let Some(param) = &self.error.param {
            write!(f, " (at {param})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AcpError {}

impl Serialize for AcpError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.error.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for AcpError {
    /// Reads the flat wire object; the status is inferred with [`AcpError::default_status`].
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Error::deserialize(deserializer).map(Self::from_wire)
    }
}

impl AcpError {
    /// An error with an explicit status.
    ///
    /// # Errors
    /// [`InvalidStatus`] when `status` is not in `400..=599`.
    pub fn new(status: u16, error: Error) -> Result<Self, InvalidStatus> {
        if (400..=599).contains(&status) {
            Ok(Self {
                status,
                error: Box::new(error),
                retry_after: None,
            })
        } else {
            Err(InvalidStatus(status))
        }
    }

    /// An error read from the wire, with the status [`default_status`](Self::default_status)
    /// infers from its `type` and `code`.
    pub fn from_wire(error: Error) -> Self {
        let status = Self::default_status(error.kind.as_str(), &error.code);
        Self {
            status,
            error: Box::new(error),
            retry_after: None,
        }
    }

    /// The status a well-known `code` is sent with; for other codes, the status of the `type`
    /// (`invalid_request` 400, `rate_limit_exceeded` 429, `service_unavailable` 503, anything
    /// else 500).
    pub fn default_status(kind: &str, code: &str) -> u16 {
        match code {
            codes::IDEMPOTENCY_CONFLICT | codes::INVALID_STATE => 422,
            codes::IDEMPOTENCY_IN_FLIGHT
            | codes::DUPLICATE_REQUEST
            | codes::CONCURRENT_MODIFICATION => 409,
            codes::INVALID_SIGNATURE | codes::UNAUTHORIZED => 401,
            codes::REQUEST_TOO_LARGE => 413,
            codes::NOT_FOUND => 404,
            codes::METHOD_NOT_ALLOWED => 405,
            codes::TOO_MANY_REQUESTS => 429,
            _ => match kind {
                types::INVALID_REQUEST => 400,
                types::RATE_LIMIT_EXCEEDED => 429,
                types::SERVICE_UNAVAILABLE => 503,
                _ => 500,
            },
        }
    }

    fn build(status: u16, kind: &str, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            error: Box::new(Error::new(ErrorType::from(kind), code, message)),
            retry_after: None,
        }
    }

    fn invalid(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self::build(status, types::INVALID_REQUEST, code, message)
    }

    // -- idempotency -------------------------------------------------------------------------

    /// 400 `idempotency_key_required`, with the official example's message.
    pub fn idempotency_key_required() -> Self {
        Self::invalid(
            400,
            codes::IDEMPOTENCY_KEY_REQUIRED,
            "Idempotency-Key header is required",
        )
    }

    /// 422 `idempotency_conflict` (IDEM-11), with the official example's message.
    pub fn idempotency_conflict() -> Self {
        Self::from(IdempotencyRejection::Conflict)
    }

    /// 409 `idempotency_in_flight` with `Retry-After` (IDEM-12), with the official example's
    /// message.
    pub fn idempotency_in_flight(retry_after: RetryAfter) -> Self {
        Self::from(IdempotencyRejection::InFlight { retry_after })
    }

    // -- checkout ----------------------------------------------------------------------------

    /// 400 `requires_3ds` with `param` `$.authentication_result` (CHK-15): complete was called
    /// in `authentication_required` without an `authentication_result`.
    pub fn requires_3ds() -> Self {
        Self::invalid(
            400,
            codes::REQUIRES_3DS,
            "This checkout session requires issuer authentication. The request must include \
             'authentication_result' as provided by the issuer authentication flow.",
        )
        .with_param(&JsonPath::root().key("authentication_result"))
    }

    /// 404 `not_found` (CHK-18). `what` names the resource, e.g. `"checkout session"`; do not
    /// put client-supplied ids in it.
    pub fn not_found(what: &str) -> Self {
        Self::invalid(404, codes::NOT_FOUND, format!("The {what} was not found"))
    }

    /// 405 `method_not_allowed` with a message.
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::invalid(405, codes::METHOD_NOT_ALLOWED, message)
    }

    /// 405 `method_not_allowed` for cancel of a `completed` or `canceled` session (CHK-17).
    pub fn cancel_not_allowed(status: &CheckoutStatus) -> Self {
        Self::method_not_allowed(format!(
            "The checkout session is {status} and cannot be canceled"
        ))
    }

    /// 405 `expired`: the checkout session reached its `expires_at` and accepts no update,
    /// complete or cancel; the agent starts a new session. The status is the one every
    /// operation on a terminal session gets (the spec's 405 for cancel of a completed or
    /// canceled session, CHK-17); the code is the 2026-04-17 message code `expired` (an
    /// Error's `code` is implementation-defined). No `param`: no request member is at fault.
    pub fn session_expired() -> Self {
        Self::invalid(
            405,
            codes::EXPIRED,
            "The checkout session has expired; create a new checkout session",
        )
    }

    // -- generic -----------------------------------------------------------------------------

    /// 400 `invalid_request` with a caller-chosen code and the JSONPath of the offending value.
    pub fn invalid_request(code: &str, message: impl Into<String>, param: &JsonPath) -> Self {
        Self::invalid(400, code, message).with_param(param)
    }

    /// 422 `invalid_request`: the request is well-formed but cannot be processed (semantic
    /// validation).
    pub fn unprocessable(code: &str, message: impl Into<String>) -> Self {
        Self::invalid(422, code, message)
    }

    /// 401 `unauthorized`: the bearer token is missing or unknown (HDR-01).
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::invalid(401, codes::UNAUTHORIZED, message)
    }

    /// 413 `request_too_large`: the body exceeds the server's cap of `limit` bytes.
    pub fn request_too_large(limit: usize) -> Self {
        Self::invalid(
            413,
            codes::REQUEST_TOO_LARGE,
            format!("the request body exceeds {limit} bytes"),
        )
    }

    /// 409 `concurrent_modification` with `Retry-After`: a concurrent request changed the
    /// resource (`what`) between this request's read and its write; nothing was applied and the
    /// same request may be retried (its idempotency key was released).
    pub fn concurrent_modification(what: &str, retry_after: RetryAfter) -> Self {
        Self::invalid(
            409,
            codes::CONCURRENT_MODIFICATION,
            format!("the {what} was changed by a concurrent request; retry"),
        )
        .with_retry_after(retry_after)
    }

    /// 401 `invalid_signature`.
    pub fn invalid_signature(message: impl Into<String>) -> Self {
        Self::invalid(401, codes::INVALID_SIGNATURE, message)
    }

    /// 400 `missing_api_version` with `supported_versions` newest first (VER-03..05).
    pub fn missing_api_version(supported: &[ApiVersion]) -> Self {
        Self::from(VersionError::Missing {
            supported_versions: newest_first(supported),
        })
    }

    /// 400 `unsupported_api_version` with `supported_versions` newest first (VER-03..05).
    pub fn unsupported_api_version(requested: &str, supported: &[ApiVersion]) -> Self {
        Self::from(VersionError::Unsupported {
            requested: requested.to_owned(),
            supported_versions: newest_first(supported),
        })
    }

    /// 429 `rate_limit_exceeded` / `too_many_requests` with `Retry-After` (ERR-04, ERR-06).
    pub fn rate_limited(retry_after: RetryAfter) -> Self {
        Self::build(
            429,
            types::RATE_LIMIT_EXCEEDED,
            codes::TOO_MANY_REQUESTS,
            "Too many requests, please retry later",
        )
        .with_retry_after(retry_after)
    }

    /// 500 `processing_error`. The message is sent to the client: no internal details.
    pub fn processing_error(message: impl Into<String>) -> Self {
        Self::build(
            500,
            types::PROCESSING_ERROR,
            codes::PROCESSING_ERROR,
            message,
        )
    }

    /// 503 `service_unavailable`, with `Retry-After` when given (ERR-06 says SHOULD).
    pub fn service_unavailable(
        message: impl Into<String>,
        retry_after: Option<RetryAfter>,
    ) -> Self {
        let mut error = Self::build(
            503,
            types::SERVICE_UNAVAILABLE,
            codes::SERVICE_UNAVAILABLE,
            message,
        );
        error.retry_after = retry_after;
        error
    }

    // -- delegate payment --------------------------------------------------------------------

    /// 400 `invalid_card` with the JSONPath of the card field (ERR-03).
    pub fn invalid_card(message: impl Into<String>, param: &JsonPath) -> Self {
        Self::invalid(400, codes::INVALID_CARD, message).with_param(param)
    }

    /// 409 `duplicate_request` (ERR-03). The spec gives no status for this code; 409 is the
    /// status DP §2.6 uses for idempotency-class conflicts.
    pub fn duplicate_request(message: impl Into<String>) -> Self {
        Self::invalid(409, codes::DUPLICATE_REQUEST, message)
    }

    // -- builders ----------------------------------------------------------------------------

    /// Sets `param` to a JSONPath (CHK-09, ERR-05).
    #[must_use]
    pub fn with_param(mut self, param: &JsonPath) -> Self {
        self.error.param = Some(param.to_string());
        self
    }

    /// Replaces the message.
    #[must_use]
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.error.message = message.into();
        self
    }

    /// Sets the `Retry-After` header value.
    #[must_use]
    pub fn with_retry_after(mut self, retry_after: RetryAfter) -> Self {
        self.retry_after = Some(retry_after);
        self
    }

    // -- accessors ---------------------------------------------------------------------------

    /// The HTTP status (400..=599).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The wire error object.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The wire error object, consuming `self`.
    pub fn into_error(self) -> Error {
        *self.error
    }

    /// The `type`.
    pub fn kind(&self) -> &ErrorType {
        &self.error.kind
    }

    /// The `code`.
    pub fn code(&self) -> &str {
        &self.error.code
    }

    /// The `message`.
    pub fn message(&self) -> &str {
        &self.error.message
    }

    /// The `param` (a JSONPath), if any.
    pub fn param(&self) -> Option<&str> {
        self.error.param.as_deref()
    }

    /// The `supported_versions`, if any.
    pub fn supported_versions(&self) -> Option<&[String]> {
        self.error.supported_versions.as_deref()
    }

    /// The `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<RetryAfter> {
        self.retry_after
    }

    /// Headers to send with the error (`Retry-After` when set).
    pub fn response_headers(&self) -> Vec<(&'static str, String)> {
        self.retry_after
            .map(|r| (AcpHeader::RetryAfter.as_str(), r.to_header_value()))
            .into_iter()
            .collect()
    }

    /// The flat JSON object (ERR-01).
    pub fn to_json(&self) -> serde_json::Value {
        // Serializing the wire Error cannot fail: it holds only strings and a JSON map.
        serde_json::to_value(&*self.error).unwrap_or_else(|_| {
            serde_json::json!({
                "type": types::PROCESSING_ERROR,
                "code": codes::PROCESSING_ERROR,
                "message": "error serialization failed",
            })
        })
    }

    /// The delegate-payment wire error (ERR-03). `type` and `code` are copied as strings; a
    /// value outside the delegate-payment enums (e.g. `missing_api_version`) is kept as an
    /// unknown value of the open enum rather than dropped.
    pub fn to_delegate_payment(&self) -> DelegatePaymentError {
        let mut out = DelegatePaymentError::new(
            DelegatePaymentErrorType::from(self.error.kind.as_str()),
            DelegatePaymentErrorCode::from(self.error.code.as_str()),
            self.error.message.clone(),
        );
        out.param.clone_from(&self.error.param);
        out.supported_versions
            .clone_from(&self.error.supported_versions);
        out.extra = self.error.extra.clone();
        out
    }

    /// An error read as a delegate-payment wire error, with the inferred status.
    pub fn from_delegate_payment(error: &DelegatePaymentError) -> Self {
        let mut wire = Error::new(
            ErrorType::from(error.kind.as_str()),
            error.code.as_str(),
            error.message.clone(),
        );
        wire.param.clone_from(&error.param);
        wire.supported_versions
            .clone_from(&error.supported_versions);
        wire.extra = error.extra.clone();
        Self::from_wire(wire)
    }

    /// Sets `supported_versions`, newest first and without duplicates (VER-03, VER-05).
    fn with_supported_versions(mut self, supported: &[ApiVersion]) -> Self {
        self.error.supported_versions = Some(
            newest_first(supported)
                .iter()
                .map(|v| v.as_str().to_owned())
                .collect(),
        );
        self
    }

    /// The error for header problems (the primary problem, see
    /// [`HeaderErrors::primary`]); `supported` fills `supported_versions` for `API-Version`
    /// problems. There is no `From` impl because the supported versions are the server's.
    pub fn from_header_errors(errors: &HeaderErrors, supported: &[ApiVersion]) -> Self {
        Self::from_header_problem(errors.primary(), supported)
    }

    /// The error for one header problem; `supported` fills `supported_versions` for
    /// `API-Version` problems (VER-03) and is ignored otherwise.
    pub fn from_header_problem(problem: &HeaderProblem, supported: &[ApiVersion]) -> Self {
        let out = Self::build(
            problem.status(),
            problem.error_type(),
            problem.code(),
            problem.message(),
        );
        if problem.header() == AcpHeader::ApiVersion {
            out.with_supported_versions(supported)
        } else {
            out
        }
    }

    /// The error for the first violation of a list (400 `invalid_request`, `param` = its
    /// JSONPath); `None` for an empty list.
    pub fn from_violations(violations: &[Violation]) -> Option<Self> {
        violations.first().map(Self::from)
    }

    /// The same error with every `param` prefixed by `prefix` (for example `$.payload` when the
    /// body sits inside an MCP `arguments.payload`).
    #[must_use]
    pub fn with_param_prefix(mut self, prefix: &JsonPath) -> Self {
        if let Some(param) = &self.error.param {
            if let Ok(inner) = JsonPath::parse(param) {
                let mut path = prefix.clone();
                for segment in inner.segments() {
                    path.push(segment.clone());
                }
                self.error.param = Some(path.to_string());
            }
        }
        self
    }
}

fn newest_first(supported: &[ApiVersion]) -> Vec<ApiVersion> {
    let mut versions = supported.to_vec();
    versions.sort_by(|a, b| b.cmp(a));
    versions.dedup();
    versions
}

/// The `code` for a violated schema keyword (see the [module docs](self#conversions)).
pub fn violation_code(kind: ViolationKind) -> &'static str {
    match kind {
        ViolationKind::Required => codes::MISSING_REQUIRED_FIELD,
        ViolationKind::Type => codes::INVALID_TYPE,
        ViolationKind::AdditionalProperty => codes::UNKNOWN_FIELD,
        ViolationKind::Enum | ViolationKind::Const => codes::INVALID_ENUM_VALUE,
        ViolationKind::Pattern
        | ViolationKind::Format
        | ViolationKind::MinLength
        | ViolationKind::MaxLength
        | ViolationKind::Minimum
        | ViolationKind::ExclusiveMinimum
        | ViolationKind::Maximum
        | ViolationKind::MinItems
        | ViolationKind::MaxItems
        | ViolationKind::UniqueItems
        | ViolationKind::MinProperties
        | ViolationKind::OneOf
        | ViolationKind::AnyOf => codes::INVALID_VALUE,
    }
}

impl From<&Violation> for AcpError {
    fn from(v: &Violation) -> Self {
        Self::invalid_request(violation_code(v.kind), v.message.clone(), &v.path)
    }
}

impl From<Violation> for AcpError {
    fn from(v: Violation) -> Self {
        Self::from(&v)
    }
}

impl From<&ParseError> for AcpError {
    fn from(e: &ParseError) -> Self {
        match e.kind {
            ParseErrorKind::Syntax { .. } => Self::invalid(
                400,
                codes::INVALID_JSON,
                format!("The request body is not valid JSON: {}", e.message),
            ),
            // A lenient parse fails only on values the type cannot hold; the kind says which.
            ParseErrorKind::MissingField => {
                Self::invalid_request(codes::MISSING_REQUIRED_FIELD, e.message.clone(), &e.path)
            }
            ParseErrorKind::InvalidType => {
                Self::invalid_request(codes::INVALID_TYPE, e.message.clone(), &e.path)
            }
            ParseErrorKind::InvalidValue => {
                Self::invalid_request(codes::INVALID_VALUE, e.message.clone(), &e.path)
            }
        }
    }
}

impl From<ParseError> for AcpError {
    fn from(e: ParseError) -> Self {
        Self::from(&e)
    }
}

impl From<&StrictError> for AcpError {
    /// The first violation (see [`StrictError::violations`] for all of them).
    fn from(e: &StrictError) -> Self {
        match e {
            StrictError::Parse(p) => Self::from(p),
            StrictError::Violations(list) => Self::from(list.first()),
        }
    }
}

impl From<StrictError> for AcpError {
    fn from(e: StrictError) -> Self {
        Self::from(&e)
    }
}

impl From<&VersionError> for AcpError {
    /// `{"type","code","message","supported_versions"}` with [`VersionError::status`].
    fn from(e: &VersionError) -> Self {
        Self::build(e.status(), e.error_type(), e.code(), e.message())
            .with_supported_versions(e.supported_versions())
    }
}

impl From<VersionError> for AcpError {
    fn from(e: VersionError) -> Self {
        Self::from(&e)
    }
}

impl From<&IdempotencyRejection> for AcpError {
    fn from(e: &IdempotencyRejection) -> Self {
        Self::from(*e)
    }
}

impl From<IdempotencyRejection> for AcpError {
    fn from(e: IdempotencyRejection) -> Self {
        let mut out = Self::build(e.status(), e.error_type(), e.code(), e.message());
        if let IdempotencyRejection::InFlight { retry_after } = e {
            out.retry_after = Some(retry_after);
        }
        out
    }
}

impl From<&WebhookError> for AcpError {
    /// The 401 `{"type":"invalid_request","code":"invalid_signature","message":…}` (WH-05).
    fn from(e: &WebhookError) -> Self {
        Self::invalid(e.http_status(), codes::INVALID_SIGNATURE, e.acp_message())
    }
}

impl From<WebhookError> for AcpError {
    fn from(e: WebhookError) -> Self {
        Self::from(&e)
    }
}

impl From<&BodyError> for AcpError {
    /// 400: the first violation for a body that does not match its type (with its `param`),
    /// otherwise `invalid_value` with the error's text.
    fn from(e: &BodyError) -> Self {
        match e {
            BodyError::Invalid { violations, .. } => Self::from_violations(violations)
                .unwrap_or_else(|| Self::invalid(400, codes::INVALID_VALUE, e.to_string())),
            _ => Self::invalid(400, codes::INVALID_VALUE, e.to_string()),
        }
    }
}

impl From<BodyError> for AcpError {
    fn from(e: BodyError) -> Self {
        Self::from(&e)
    }
}

impl From<&ConvertError> for AcpError {
    /// 400: the first violation of a request that cannot be carried to the version the logic
    /// is written for (with its `param`), otherwise `invalid_value` with the error's text.
    fn from(e: &ConvertError) -> Self {
        let violations = match e {
            ConvertError::Unparsable { violations, .. }
            | ConvertError::Incomplete { violations, .. }
            | ConvertError::Unrepresentable { violations, .. } => violations.as_slice(),
            _ => &[],
        };
        Self::from_violations(violations)
            .unwrap_or_else(|| Self::invalid(400, codes::INVALID_VALUE, e.to_string()))
    }
}

impl From<ConvertError> for AcpError {
    fn from(e: ConvertError) -> Self {
        Self::from(&e)
    }
}

impl From<&CanonicalJsonError> for AcpError {
    /// 400 `invalid_json`: the body cannot be canonicalized (RFC 8785).
    fn from(e: &CanonicalJsonError) -> Self {
        Self::invalid(400, codes::INVALID_JSON, e.to_string())
    }
}

impl From<CanonicalJsonError> for AcpError {
    fn from(e: CanonicalJsonError) -> Self {
        Self::from(&e)
    }
}

impl From<&AllowanceViolations> for AcpError {
    /// 402 `invalid_request` with the first violation's code and the public message (no value
    /// of the token's allowance).
    fn from(e: &AllowanceViolations) -> Self {
        let code = e.iter().next().map_or("declined", AllowanceViolation::code);
        Self::build(402, types::INVALID_REQUEST, code, e.to_string())
    }
}

impl From<AllowanceViolations> for AcpError {
    fn from(e: AllowanceViolations) -> Self {
        Self::from(&e)
    }
}

impl From<&LedgerError> for AcpError {
    /// 402 `already_used` (DP-11, `param` `$.token`), or 503 `ledger_unavailable`.
    fn from(e: &LedgerError) -> Self {
        match e {
            LedgerError::AlreadyUsed => Self::build(
                402,
                types::INVALID_REQUEST,
                e.code(),
                "payment token has already been used (DP-11)",
            )
            .with_param(&JsonPath::root().key("token")),
            LedgerError::Unavailable => {
                Self::build(503, types::SERVICE_UNAVAILABLE, e.code(), e.to_string())
            }
        }
    }
}

impl From<LedgerError> for AcpError {
    fn from(e: LedgerError) -> Self {
        Self::from(&e)
    }
}

impl From<&AuthorizeError> for AcpError {
    fn from(e: &AuthorizeError) -> Self {
        match e {
            AuthorizeError::Allowance(v) => Self::from(v),
            AuthorizeError::Ledger(l) => Self::from(l),
        }
    }
}

impl From<AuthorizeError> for AcpError {
    fn from(e: AuthorizeError) -> Self {
        Self::from(&e)
    }
}

impl From<&SignatureError> for AcpError {
    /// Status and code from [`SignatureError::http_status`] / [`SignatureError::code`]; the
    /// `type` is `processing_error` for a 500 and `invalid_request` otherwise.
    fn from(e: &SignatureError) -> Self {
        let status = e.http_status();
        let kind = if status >= 500 {
            types::PROCESSING_ERROR
        } else {
            types::INVALID_REQUEST
        };
        Self::build(status, kind, e.code(), e.to_string())
    }
}

impl From<SignatureError> for AcpError {
    fn from(e: SignatureError) -> Self {
        Self::from(&e)
    }
}

impl From<AcpError> for Error {
    fn from(e: AcpError) -> Self {
        *e.error
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use serde_json::json;

    #[test]
    fn trust_errors_convert_without_hand_built_json() {
        use crate::trust::allowance::{AllowanceReason, AllowanceTerms, ProposedCharge, check};
        use time::macros::datetime;
        let now = datetime!(2026-04-17 12:00:00 UTC);
        let terms = AllowanceTerms {
            reason: AllowanceReason::one_time(),
            max_amount: 100,
            currency: "usd".into(),
            checkout_session_id: "cs_1".into(),
            merchant_id: "m_1".into(),
            expires_at: now,
        };
        let charge = ProposedCharge {
            amount: 500,
            currency: "usd".into(),
            checkout_session_id: "cs_1".into(),
            merchant_id: "m_1".into(),
        };
        let violations = check(&terms, &charge, now - time::Duration::minutes(1)).unwrap_err();
        let e = AcpError::from(&violations);
        assert_eq!((e.status(), e.code()), (402, "amount_exceeded"));
        assert!(!e.message().contains("100"), "{}", e.message());

        let used = AcpError::from(LedgerError::AlreadyUsed);
        assert_eq!(
            (used.status(), used.code(), used.param()),
            (402, "already_used", Some("$.token"))
        );
        let down = AcpError::from(AuthorizeError::Ledger(LedgerError::Unavailable));
        assert_eq!((down.status(), down.code()), (503, "ledger_unavailable"));
        assert_eq!(down.kind().as_str(), types::SERVICE_UNAVAILABLE);

        let bad = crate::trust::canonical::canonicalize_exact(b"{").unwrap_err();
        assert_eq!(AcpError::from(bad).code(), codes::INVALID_JSON);
    }

    #[test]
    fn err_01_serializes_flat_without_optional_members() {
        let e = AcpError::idempotency_key_required();
        assert_eq!(
            e.to_json(),
            json!({"type":"invalid_request","code":"idempotency_key_required",
                   "message":"Idempotency-Key header is required"})
        );
        assert_eq!(serde_json::to_value(&e).unwrap(), e.to_json());
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn chk_15_requires_3ds_has_param() {
        let e = AcpError::requires_3ds();
        assert_eq!(e.status(), 400);
        assert_eq!(e.param(), Some("$.authentication_result"));
        assert_eq!(e.code(), "requires_3ds");
        assert_eq!(e.kind(), &ErrorType::InvalidRequest);
    }

    #[test]
    fn err_06_in_flight_and_rate_limit_carry_retry_after() {
        let e = AcpError::idempotency_in_flight(RetryAfter::from_secs(3));
        assert_eq!(e.status(), 409);
        assert_eq!(e.response_headers(), vec![("Retry-After", "3".to_owned())]);
        let r = AcpError::rate_limited(RetryAfter::from_secs(7));
        assert_eq!(r.status(), 429);
        assert_eq!(r.kind().as_str(), "rate_limit_exceeded");
        assert!(!r.kind().is_known(), "not in the checkout ErrorType enum");
        assert_eq!(r.response_headers(), vec![("Retry-After", "7".to_owned())]);
        assert!(
            AcpError::idempotency_conflict()
                .response_headers()
                .is_empty()
        );
    }

    #[test]
    fn ver_05_supported_versions_newest_first_deduplicated() {
        let e = AcpError::unsupported_api_version(
            "1999-01-01",
            &[
                ApiVersion::V2025_09_29,
                ApiVersion::V2026_01_30,
                ApiVersion::V2025_09_29,
            ],
        );
        assert_eq!(e.status(), 400);
        assert_eq!(e.code(), "unsupported_api_version");
        assert_eq!(
            e.supported_versions().unwrap(),
            &["2026-01-30".to_owned(), "2025-09-29".to_owned()]
        );
        let m = AcpError::missing_api_version(&[ApiVersion::V2026_01_30]);
        assert_eq!(m.code(), "missing_api_version");
    }

    #[test]
    fn statuses_of_every_constructor() {
        let table = [
            (AcpError::idempotency_key_required(), 400),
            (AcpError::idempotency_conflict(), 422),
            (
                AcpError::idempotency_in_flight(RetryAfter::from_secs(1)),
                409,
            ),
            (AcpError::requires_3ds(), 400),
            (AcpError::invalid_signature("bad"), 401),
            (AcpError::not_found("checkout session"), 404),
            (AcpError::method_not_allowed("no"), 405),
            (
                AcpError::cancel_not_allowed(&CheckoutStatus::Completed),
                405,
            ),
            (
                AcpError::invalid_request("x", "y", &JsonPath::root().key("a")),
                400,
            ),
            (AcpError::unprocessable(codes::INVALID_STATE, "y"), 422),
            (AcpError::rate_limited(RetryAfter::from_secs(1)), 429),
            (AcpError::processing_error("boom"), 500),
            (AcpError::service_unavailable("later", None), 503),
            (AcpError::invalid_card("bad", &JsonPath::root()), 400),
            (AcpError::duplicate_request("dup"), 409),
        ];
        for (error, status) in table {
            assert_eq!(error.status(), status, "{error}");
            // The inferred status of the wire form agrees with the constructor (round trip).
            let back: AcpError = serde_json::from_value(error.to_json()).unwrap();
            assert_eq!(back.status(), status, "{error}");
            assert_eq!(back.error(), error.error());
        }
    }

    #[test]
    fn new_rejects_non_error_status() {
        let wire = Error::new(ErrorType::InvalidRequest, "x", "y");
        assert_eq!(AcpError::new(200, wire.clone()), Err(InvalidStatus(200)));
        assert_eq!(AcpError::new(418, wire).unwrap().status(), 418);
    }

    #[test]
    fn unknown_type_and_code_are_kept() {
        let value = json!({"type":"teapot_error","code":"short_and_stout","message":"m",
                           "param":"$.x","future":1});
        let e: AcpError = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(e.kind().as_str(), "teapot_error");
        assert_eq!(e.status(), 500);
        assert_eq!(e.to_json(), value);
    }

    #[test]
    fn chk_09_violation_maps_to_param_and_code() {
        let v = Violation {
            path: JsonPath::root().key("line_items").index(0).key("id"),
            kind: ViolationKind::Required,
            message: "missing".into(),
        };
        let e = AcpError::from(&v);
        assert_eq!(e.status(), 400);
        assert_eq!(e.code(), "missing_required_field");
        assert_eq!(e.param(), Some("$.line_items[0].id"));
    }

    #[test]
    fn parse_errors_map_to_400() {
        use crate::spec::latest::agentic_checkout::CheckoutSessionCreateRequest;
        let syntax = crate::parse::from_str::<CheckoutSessionCreateRequest>("{").unwrap_err();
        let e = AcpError::from(&syntax);
        assert_eq!(
            (e.status(), e.code(), e.param()),
            (400, "invalid_json", None)
        );
        let data = crate::parse::from_str::<CheckoutSessionCreateRequest>(
            r#"{"currency":"usd","capabilities":{}}"#,
        )
        .unwrap_err();
        let e = AcpError::from(data);
        assert_eq!(e.code(), "missing_required_field");
        assert_eq!(e.param(), Some("$.line_items"));
        let strict = crate::parse::from_value_strict::<CheckoutSessionCreateRequest>(
            &json!({"currency":"usd","capabilities":{},"line_items":[{"id":"a"}],"bogus":1}),
        )
        .unwrap_err();
        let e = AcpError::from(strict);
        assert_eq!(e.code(), "unknown_field");
        assert_eq!(e.param(), Some("$.bogus"));
    }

    #[test]
    fn conversions_reuse_source_modules() {
        let w = AcpError::from(WebhookError::Mismatch);
        assert_eq!((w.status(), w.code()), (401, "invalid_signature"));
        assert_eq!(w.message(), WebhookError::Mismatch.acp_message());
        let s = AcpError::from(SignatureError::Mismatch);
        assert_eq!((s.status(), s.code()), (401, "invalid_signature"));
        let f = AcpError::from(SignatureError::SigningFailed);
        assert_eq!((f.status(), f.kind().as_str()), (500, "processing_error"));
        let i = AcpError::from(IdempotencyRejection::InFlight {
            retry_after: RetryAfter::from_secs(5),
        });
        assert_eq!(i.retry_after(), Some(RetryAfter::from_secs(5)));
    }

    #[test]
    fn header_errors_convert_with_supported_versions() {
        use crate::protocol::headers::{Operation, RequestHeaders};
        let errors = RequestHeaders::parse(
            Operation::CreateCheckoutSession,
            [
                ("authorization", "Bearer t"),
                ("idempotency-key", "k"),
                ("content-type", "application/json"),
            ],
        )
        .unwrap_err();
        let e = AcpError::from_header_errors(&errors, &[ApiVersion::V2026_01_30]);
        assert_eq!(e.status(), 400);
        assert_eq!(e.code(), "missing_api_version");
        assert_eq!(e.supported_versions().unwrap(), &["2026-01-30".to_owned()]);
    }

    #[test]
    fn err_03_delegate_payment_conversion_round_trips() {
        let e = AcpError::invalid_card(
            "Invalid card number provided",
            &JsonPath::root().key("payment_method").key("number"),
        );
        let dp = e.to_delegate_payment();
        assert_eq!(dp.code, DelegatePaymentErrorCode::InvalidCard);
        assert_eq!(dp.kind, DelegatePaymentErrorType::InvalidRequest);
        let back = AcpError::from_delegate_payment(&dp);
        assert_eq!(back, e);
        let r = AcpError::rate_limited(RetryAfter::from_secs(1)).to_delegate_payment();
        assert_eq!(r.kind, DelegatePaymentErrorType::RateLimitExceeded);
        assert_eq!(r.code, DelegatePaymentErrorCode::TooManyRequests);
    }

    #[test]
    fn param_prefix() {
        let e = AcpError::invalid_request("x", "y", &JsonPath::root().key("currency"))
            .with_param_prefix(&JsonPath::root().key("payload"));
        assert_eq!(e.param(), Some("$.payload.currency"));
    }
}
