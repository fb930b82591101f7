//! Every wire type by its official name, `<bundle>.<Name>`, for tools that
//! pick a type at run time (the `acp validate` command, conformance tests).
//!
//! [`types`] and [`lookup`] serve the working model's version
//! ([`ApiVersion::LATEST`]);
//! [`types_for`] and [`lookup_in`] serve any released version (the version an
//! agent sent in `API-Version`). [`body_type`] names the type of an
//! operation's request or response body in a version (VER-02: a merchant
//! answers in the version the agent asked for).

use serde_json::Value;

use crate::parse::schema::{Shape, Violation, validate};
use crate::parse::{ParseError, from_value_with};
use crate::protocol::headers::Operation;
use crate::protocol::version::ApiVersion;

/// One official wire type: its name, its shape, and a lossless round trip
/// through its Rust type.
pub struct TypeEntry {
    bundle: &'static str,
    name: &'static str,
    shape: &'static Shape,
    roundtrip: fn(&Value, &Shape) -> Result<Value, ParseError>,
    debug: fn(&Value, &Shape) -> Result<String, ParseError>,
}

impl core::fmt::Debug for TypeEntry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "TypeEntry({}.{})", self.bundle, self.name)
    }
}

fn roundtrip<T: serde::Serialize + serde::de::DeserializeOwned>(
    value: &Value,
    shape: &Shape,
) -> Result<Value, ParseError> {
    let typed: T = from_value_with(value, shape)?;
    serde_json::to_value(&typed).map_err(|e| ParseError {
        path: crate::parse::json_path::JsonPath::root(),
        kind: crate::parse::ParseErrorKind::InvalidValue,
        message: e.to_string(),
    })
}

fn debug<T: serde::de::DeserializeOwned + core::fmt::Debug>(
    value: &Value,
    shape: &Shape,
) -> Result<String, ParseError> {
    let typed: T = from_value_with(value, shape)?;
    Ok(format!("{typed:?}"))
}

impl TypeEntry {
    pub(crate) const fn new<
        T: serde::Serialize + serde::de::DeserializeOwned + core::fmt::Debug,
    >(
        bundle: &'static str,
        name: &'static str,
        shape: &'static Shape,
    ) -> Self {
        Self {
            bundle,
            name,
            shape,
            roundtrip: roundtrip::<T>,
            debug: debug::<T>,
        }
    }

    /// The schema bundle (file stem), e.g. `agentic_checkout`.
    pub fn bundle(&self) -> &'static str {
        self.bundle
    }

    /// The official `$defs` (or OpenAPI component) name, e.g. `CheckoutSession`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// `<bundle>.<Name>`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.bundle, self.name)
    }

    /// The compiled-in official schema.
    pub fn shape(&self) -> &'static Shape {
        self.shape
    }

    /// Parses `value` leniently into the Rust type and serializes it back.
    ///
    /// # Errors
    /// [`ParseError`] when the Rust type cannot hold the value.
    pub fn roundtrip(&self, value: &Value) -> Result<Value, ParseError> {
        (self.roundtrip)(value, self.shape)
    }

    /// Parses `value` leniently into the Rust type and formats it with
    /// `{:?}`: what a log line of the parsed value shows. Card numbers, CVCs,
    /// cryptograms, authentication values and tokens print as `[REDACTED]`
    /// ([`crate::wire::Sensitive`], DP-19).
    ///
    /// # Errors
    /// [`ParseError`] when the Rust type cannot hold the value.
    pub fn debug(&self, value: &Value) -> Result<String, ParseError> {
        (self.debug)(value, self.shape)
    }

    /// Strictly validates `value` against the official schema; on success
    /// parses it and returns the re-serialized value.
    ///
    /// # Errors
    /// Every schema violation, or the parse error as a single violation.
    pub fn roundtrip_strict(&self, value: &Value) -> Result<Value, Vec<Violation>> {
        let violations = validate(self.shape, value);
        if !violations.is_empty() {
            return Err(violations);
        }
        self.roundtrip(value).map_err(|e| {
            vec![Violation {
                path: e.path,
                kind: crate::parse::schema::ViolationKind::Type,
                message: e.message,
            }]
        })
    }
}

/// Every type of the working model's version ([`ApiVersion::LATEST`],
/// [`crate::spec::latest`]), sorted by qualified name.
pub fn types() -> &'static [TypeEntry] {
    crate::spec::latest::TYPES
}

/// Looks a type up by `<bundle>.<Name>` in the working model's version.
pub fn lookup(qualified_name: &str) -> Option<&'static TypeEntry> {
    find(types(), qualified_name)
}

/// Every type of a released version, sorted by qualified name; `None` for a
/// version this crate has no models for (an unreleased or unknown date).
pub fn types_for(version: &ApiVersion) -> Option<&'static [TypeEntry]> {
    crate::spec::types_for(version.as_str())
}

/// Looks a type up by `<bundle>.<Name>` in a released version. `None` when the
/// version has no models or does not define that name (e.g. `cart.Cart`
/// before 2026-04-17).
pub fn lookup_in(version: &ApiVersion, qualified_name: &str) -> Option<&'static TypeEntry> {
    find(types_for(version)?, qualified_name)
}

fn find(types: &'static [TypeEntry], qualified_name: &str) -> Option<&'static TypeEntry> {
    let (bundle, name) = qualified_name.split_once('.')?;
    types.iter().find(|t| t.bundle == bundle && t.name == name)
}

/// Which body of an operation: what the client sends or what the server answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Body {
    /// The request body.
    Request,
    /// The success (2xx) response body.
    Response,
}

/// The official `<bundle>.<Name>` of an operation's request or success
/// response body. `None` when the operation has no such body (a `GET` request)
/// or the body is not a named schema type (the discovery document before
/// 2026-04-17).
///
/// The names are the same in every version; [`lookup_in`] tells whether a
/// version has the type (carts, feeds and delegated authentication exist from
/// 2026-04-17 on).
pub fn body_type(operation: Operation, body: Body) -> Option<&'static str> {
    use Body::{Request, Response};
    use Operation as Op;
    Some(match (operation, body) {
        (Op::CreateCheckoutSession, Request) => "agentic_checkout.CheckoutSessionCreateRequest",
        (Op::UpdateCheckoutSession, Request) => "agentic_checkout.CheckoutSessionUpdateRequest",
        (Op::CompleteCheckoutSession, Request) => "agentic_checkout.CheckoutSessionCompleteRequest",
        (Op::CancelCheckoutSession, Request) => "agentic_checkout.CancelSessionRequest",
        (Op::CompleteCheckoutSession, Response) => "agentic_checkout.CheckoutSessionWithOrder",
        (
            Op::CreateCheckoutSession
            | Op::UpdateCheckoutSession
            | Op::RetrieveCheckoutSession
            | Op::CancelCheckoutSession,
            Response,
        ) => "agentic_checkout.CheckoutSession",
        (Op::OrderEventsWebhook, Request) => "agentic_checkout_webhook.WebhookEvent",
        (Op::OrderEventsWebhook, Response) => "agentic_checkout_webhook.OrderEventsResponse",
        (Op::DelegatePayment, Request) => "delegate_payment.DelegatePaymentRequest",
        (Op::DelegatePayment, Response) => "delegate_payment.DelegatePaymentResponse",
        (Op::CreateCart, Request) => "cart.CartCreateRequest",
        (Op::UpdateCart, Request) => "cart.CartUpdateRequest",
        (Op::CancelCart, Request) => "cart.CartCancelRequest",
        (Op::CreateCart | Op::UpdateCart | Op::RetrieveCart | Op::CancelCart, Response) => {
            "cart.Cart"
        }
        (Op::CreateFeed, Request) => "feed.CreateFeedRequest",
        (Op::CreateFeed | Op::RetrieveFeed, Response) => "feed.FeedMetadata",
        (Op::GetFeedProducts, Response) => "feed.ProductsResponse",
        (Op::UpsertFeedProducts, Request) => "feed.UpsertProductsRequest",
        (Op::UpsertFeedProducts, Response) => "feed.UpsertProductsResponse",
        (Op::CreateDelegateAuthentication, Request) => {
            "delegate_authentication.DelegateAuthenticationCreateRequest"
        }
        (Op::AuthenticateDelegateAuthentication, Request) => {
            "delegate_authentication.DelegateAuthenticationAuthenticateRequest"
        }
        (Op::CreateDelegateAuthentication | Op::AuthenticateDelegateAuthentication, Response) => {
            "delegate_authentication.DelegateAuthenticationSession"
        }
        (Op::RetrieveDelegateAuthentication, Response) => {
            "delegate_authentication.DelegateAuthenticationSessionWithResult"
        }
        (Op::Discovery, Response) => "agentic_checkout.DiscoveryResponse",
        _ => return None,
    })
}

/// Why a body could not be handled in the requested version.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The crate has no models for this version (unreleased or unknown).
    #[error("API version {0} is not a released version this crate models")]
    UnsupportedVersion(String),
    /// The operation has no such body, or the version does not have it.
    #[error("{operation:?} has no {body:?} body in API version {version}")]
    NoBody {
        /// The operation.
        operation: Operation,
        /// Which body.
        body: Body,
        /// The version.
        version: String,
    },
    /// The body breaks the version's schema (strict) or its Rust type (lenient).
    #[error("the body does not match {type_name} of API version {version}: {violations:?}")]
    Invalid {
        /// `<bundle>.<Name>` in that version.
        type_name: &'static str,
        /// The version.
        version: String,
        /// Every defect, each with its JSONPath (usable as the ACP `param`).
        violations: Vec<Violation>,
    },
}

/// The type of `operation`'s `body` in `version`.
///
/// # Errors
/// [`BodyError::UnsupportedVersion`] or [`BodyError::NoBody`].
pub fn body_entry(
    version: &ApiVersion,
    operation: Operation,
    body: Body,
) -> Result<&'static TypeEntry, BodyError> {
    let types =
        types_for(version).ok_or_else(|| BodyError::UnsupportedVersion(version.to_string()))?;
    body_type(operation, body)
        .and_then(|name| find(types, name))
        .ok_or_else(|| BodyError::NoBody {
            operation,
            body,
            version: version.to_string(),
        })
}

/// Parses a body of `operation` with the Rust type of `version` and returns
/// its re-serialized JSON: the body as this crate understands it in that
/// version, nothing lost (unknown members are kept). With `strict`, the body
/// must also satisfy the version's official schema, so a 2025-09-29 body with a
/// status only later versions define is rejected.
///
/// Use it to check what an agent sent (or what you are about to answer) in the
/// agent's version; to run one business logic for every version, convert with
/// [`crate::protocol::version::convert`] instead.
///
/// # Errors
/// [`BodyError`]: an unsupported version, an operation without that body, or
/// every defect of the body.
pub fn check_body(
    version: &ApiVersion,
    operation: Operation,
    body: Body,
    value: &Value,
    strict: bool,
) -> Result<Value, BodyError> {
    let entry = body_entry(version, operation, body)?;
    if strict {
        validate_entry(entry, version, operation, body, value)?;
    }
    entry.roundtrip(value).map_err(|e| BodyError::Invalid {
        type_name: body_type(operation, body).unwrap_or_default(),
        version: version.to_string(),
        violations: vec![Violation {
            path: e.path,
            kind: crate::parse::schema::ViolationKind::Type,
            message: e.message,
        }],
    })
}

/// Checks a body of `operation` against the official schema of `version`, without parsing
/// it into a Rust type: the strict half of [`check_body`], for a caller that parses the body
/// into its type itself (once).
///
/// # Errors
/// [`BodyError`]: an unsupported version, an operation without that body, or every schema
/// violation of the body.
pub fn validate_body(
    version: &ApiVersion,
    operation: Operation,
    body: Body,
    value: &Value,
) -> Result<(), BodyError> {
    let entry = body_entry(version, operation, body)?;
    validate_entry(entry, version, operation, body, value)
}

fn validate_entry(
    entry: &TypeEntry,
    version: &ApiVersion,
    operation: Operation,
    body: Body,
    value: &Value,
) -> Result<(), BodyError> {
    let violations = validate(entry.shape, value);
    if violations.is_empty() {
        return Ok(());
    }
    Err(BodyError::Invalid {
        type_name: body_type(operation, body).unwrap_or_default(),
        version: version.to_string(),
        violations,
    })
}
