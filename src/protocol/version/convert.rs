//! Serving agents on every released spec version with one business logic.
//!
//! A merchant must answer in the `API-Version` the agent sent (VER-02), but
//! wants to write its checkout logic once, against the latest version. This
//! module converts the checkout documents between adjacent released versions
//! and chains the steps across several versions:
//!
//! - [`upgrade_create_request`], [`upgrade_update_request`] and
//!   [`upgrade_complete_request`] turn an older agent's request into the
//!   2026-04-17 type;
//! - [`downgrade_checkout_session`], [`downgrade_checkout_session_with_order`]
//!   and [`downgrade_webhook_event`] turn a 2026-04-17 response or webhook
//!   into the wire form of an older version;
//! - [`convert`] does either between any two released versions.
//!
//! Conversion works on the wire form. Each step applies the explicit
//! mappings of that version change (for example `fulfillment_address` ↔
//! `fulfillment_details.address`, `fulfillment_option_id` ↔
//! `selected_fulfillment_options`, order status `delivered` ↔ `completed`),
//! then walks the target version's compiled-in schema and removes every
//! member, enum value and union variant that version does not define. Nothing
//! is dropped silently: every information loss is a [`LossReport`] with the
//! JSONPath of the value in the input. When the target version requires data
//! the source cannot supply (a 2026-01-30 create request needs `currency` and
//! `capabilities`, which no earlier request carries), the conversion fails
//! with [`ConvertError::Incomplete`] listing the missing members, so the
//! caller can decide; nothing is invented. A merchant that wants to serve
//! such requests passes [`UpgradeDefaults`] (its currency, capabilities and
//! the payment handler standing for the old `stripe` provider) to
//! [`convert_with`] or the `upgrade_*_request_with` functions; each value
//! taken from them is listed in [`Converted::supplied`].
//!
//! What maps between 2026-01-16 and 2026-01-30 (the largest change):
//!
//! | 2026-01-16 | 2026-01-30 | Notes |
//! |---|---|---|
//! | line item `base_amount`, `discount`, `subtotal`, `tax`, `total` | line item `totals` of type `items_base_amount`, `discount`, `subtotal`, `tax`, `total` | captions as in the official examples; other captions or total types are reported; a missing `discount` is 0 only when subtotal = base amount (reported); any other missing amount is `Incomplete` |
//! | `line_items[].item.quantity` | `line_items[].quantity` | exact |
//! | `buyer.first_name`, `last_name` (required) | optional, plus `full_name` | a buyer without both names is not sent (reported): the spec defines no split of `full_name` |
//! | `payment_data {token, provider}` | `payment_data {handler_id, instrument}` | only with [`UpgradeDefaults::payment_handler`]; otherwise `Incomplete` |
//! | request `items[].quantity` | none | an item listed `quantity` times with [`UpgradeDefaults::quantity_as_repeated_items`]; otherwise a quantity other than 1 is [`ConvertError::Unrepresentable`] |
//!
//! A request is carried with its meaning or not at all: every upgrade of a
//! create, update or complete request that would lose something (a quantity,
//! a member the newer version lacks, a 2025-09-29 option whose items or type
//! are only known from the session, see [`UpgradeDefaults::session`]) fails
//! with [`ConvertError::Unrepresentable`], each violation at its JSONPath in
//! the request as sent. Responses and webhooks going down keep reporting
//! their losses. [`path_in`] and [`error_in`] put an error's `param` and body
//! in an older version's shape.
//!
//! 2025-09-29 fulfillment options require `subtotal` and `tax`: an option
//! whose `totals` has no such entries makes the downgrade `Incomplete`. Its
//! `CheckoutSessionWithOrder` is unsatisfiable (the closed session base
//! forbids the `order` it requires), so a conversion to it always ends in
//! `Incomplete`; answer 2025-09-29 complete requests with a `CheckoutSession`,
//! as the official 2025-09-29 example does.
//!
//! [`statuses`] gives each version's checkout status set; strict validation
//! of a version (its generated shapes) rejects statuses only later versions
//! define.

use serde_json::{Map, Value};

use crate::parse::json_path::JsonPath;
use crate::parse::registry::{self, TypeEntry};
use crate::parse::schema::{Additional, Shape, Violation, ViolationKind, validate};
use crate::protocol::version::ApiVersion;
use crate::spec;
use crate::spec::latest::{agentic_checkout as latest, agentic_checkout_webhook as latest_webhook};

/// The checkout session statuses a released version defines, in schema order
/// (CHK-05); `None` for a version this crate has no models for.
///
/// 2025-09-29 has five, 2025-12-12 and 2026-01-16 add `authentication_required`,
/// 2026-01-30 and 2026-04-17 have eleven.
pub fn statuses(version: &ApiVersion) -> Option<&'static [&'static str]> {
    spec::checkout_statuses(version.as_str())
}

/// A checkout document that can be converted between versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Document {
    /// `CheckoutSessionCreateRequest`.
    CreateRequest,
    /// `CheckoutSessionUpdateRequest`.
    UpdateRequest,
    /// `CheckoutSessionCompleteRequest`.
    CompleteRequest,
    /// `CheckoutSession` (create, update, retrieve and cancel responses).
    CheckoutSession,
    /// `CheckoutSessionWithOrder` (the complete response).
    CheckoutSessionWithOrder,
    /// The order webhook's `WebhookEvent`.
    WebhookEvent,
}

impl Document {
    /// Every document.
    pub const ALL: &'static [Self] = &[
        Self::CreateRequest,
        Self::UpdateRequest,
        Self::CompleteRequest,
        Self::CheckoutSession,
        Self::CheckoutSessionWithOrder,
        Self::WebhookEvent,
    ];

    /// The official `<bundle>.<Name>` (the same in every version).
    pub fn type_name(self) -> &'static str {
        match self {
            Self::CreateRequest => "agentic_checkout.CheckoutSessionCreateRequest",
            Self::UpdateRequest => "agentic_checkout.CheckoutSessionUpdateRequest",
            Self::CompleteRequest => "agentic_checkout.CheckoutSessionCompleteRequest",
            Self::CheckoutSession => "agentic_checkout.CheckoutSession",
            Self::CheckoutSessionWithOrder => "agentic_checkout.CheckoutSessionWithOrder",
            Self::WebhookEvent => "agentic_checkout_webhook.WebhookEvent",
        }
    }

    fn is_session(self) -> bool {
        matches!(self, Self::CheckoutSession | Self::CheckoutSessionWithOrder)
    }

    fn is_request(self) -> bool {
        matches!(
            self,
            Self::CreateRequest | Self::UpdateRequest | Self::CompleteRequest
        )
    }
}

/// Information a conversion step could not carry into the target version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LossReport {
    /// Where the value was, in the document being converted at that step.
    pub path: JsonPath,
    /// What was lost and why.
    pub what: String,
}

impl core::fmt::Display for LossReport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.path, self.what)
    }
}

/// A converted value and every loss the conversion reported.
#[derive(Clone, Debug, PartialEq)]
pub struct Converted<T> {
    /// The value in the target version.
    pub value: T,
    /// Empty when the conversion kept every piece of information.
    pub losses: Vec<LossReport>,
    /// The values taken from the caller's [`UpgradeDefaults`] because the
    /// source version does not carry them (empty without defaults).
    pub supplied: Vec<Supplied>,
}

/// A value of the converted document that the caller supplied through
/// [`UpgradeDefaults`] instead of carrying it from the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Supplied {
    /// Where the value is, in the converted document.
    pub path: JsonPath,
    /// What was supplied and why.
    pub what: String,
}

impl core::fmt::Display for Supplied {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.path, self.what)
    }
}

/// How an old card payment (`payment_data {token, provider}`, before
/// 2026-01-30) maps to a 2026-01-30 payment handler: the merchant names the
/// handler it declared for that provider and the instrument and credential
/// types of the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyPayment {
    /// The old `provider` this mapping is for (`stripe` is the only value any
    /// released version defines).
    pub provider: String,
    /// The `handler_id` the upgraded request names.
    pub handler_id: String,
    /// `instrument.type` (for example `card`).
    pub instrument_type: String,
    /// `instrument.credential.type` (for example `spt`).
    pub credential_type: String,
}

/// Data a merchant supplies so an older request upgrades to a version that
/// requires members the older version lacks (2026-01-30 made `currency` and
/// `capabilities` required on the create request and replaced the payment
/// provider with payment handlers). Nothing is invented: a member is only
/// filled when the input lacks it, and every filled member is listed in
/// [`Converted::supplied`].
///
/// ```
/// use agentic_commerce::protocol::version::convert::UpgradeDefaults;
/// let defaults = UpgradeDefaults::new()
///     .currency("usd")
///     .capabilities(serde_json::json!({"payment": {"handlers": []}}))
///     .payment_handler("stripe", "card_tokenized", "card", "spt");
/// assert_eq!(defaults.currency_code(), Some("usd"));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpgradeDefaults {
    currency: Option<String>,
    capabilities: Option<Value>,
    payments: Vec<LegacyPayment>,
    /// The most units a request may list once per unit (`None`: quantities
    /// other than 1 are refused).
    repeated_units: Option<usize>,
    /// The session an update request applies to.
    session: Option<SessionContext>,
}

/// What an update request's conversion needs from the session it applies to:
/// the item ids of its lines and the type of each offered option.
#[derive(Clone, Debug, Default, PartialEq)]
struct SessionContext {
    item_ids: Vec<Value>,
    options: Vec<(Value, String)>,
}

impl UpgradeDefaults {
    /// No defaults: the plain `upgrade_*` behaviour.
    pub fn new() -> Self {
        Self::default()
    }

    /// The session currency (the merchant's; an ISO 4217 code, lowercase as
    /// the spec's examples write it) for a create request that has none.
    #[must_use]
    pub fn currency(mut self, currency: impl Into<String>) -> Self {
        self.currency = Some(currency.into());
        self
    }

    /// The `capabilities` (a 2026-01-30-or-later `Capabilities` JSON object)
    /// for a create request or session that has none.
    #[must_use]
    pub fn capabilities(mut self, capabilities: Value) -> Self {
        self.capabilities = Some(capabilities);
        self
    }

    /// Maps the old payment `provider` to a payment handler (see
    /// [`LegacyPayment`]); may be called once per provider.
    #[must_use]
    pub fn payment_handler(
        mut self,
        provider: impl Into<String>,
        handler_id: impl Into<String>,
        instrument_type: impl Into<String>,
        credential_type: impl Into<String>,
    ) -> Self {
        self.payments.push(LegacyPayment {
            provider: provider.into(),
            handler_id: handler_id.into(),
            instrument_type: instrument_type.into(),
            credential_type: credential_type.into(),
        });
        self
    }

    /// Declares that the merchant's 2026-04-17 logic reads an item listed `n`
    /// times as `n` units (2026-01-30 and later requests have no
    /// `quantity`): an older request's `items[i].quantity` of `n` is then
    /// carried as `n` copies of the item, as long as the request lists at
    /// most `max_units` units in all. Without this, or beyond `max_units`, a
    /// quantity other than 1 makes the upgrade
    /// [`ConvertError::Unrepresentable`] at that quantity: it is never
    /// dropped.
    #[must_use]
    pub fn quantity_as_repeated_items(mut self, max_units: usize) -> Self {
        self.repeated_units = Some(max_units);
        self
    }

    /// The 2026-04-17 session an update request applies to. A 2025-09-29
    /// update selects one `fulfillment_option_id` for every item of the
    /// session; when the request carries no `items`, the selection's
    /// `item_ids` are the session's line items (`line_items[].item.id`) and
    /// its `type` the offered option's. Without the session, such a request
    /// is [`ConvertError::Unrepresentable`] at `$.fulfillment_option_id`.
    #[must_use]
    pub fn session(mut self, session: &latest::CheckoutSession) -> Self {
        let json = serde_json::to_value(session).unwrap_or(Value::Null);
        let mut context = SessionContext::default();
        for line in json["line_items"].as_array().into_iter().flatten() {
            if let Some(id) = line.get("item").and_then(|i| i.get("id")) {
                if !context.item_ids.contains(id) {
                    context.item_ids.push(id.clone());
                }
            }
        }
        for option in json["fulfillment_options"].as_array().into_iter().flatten() {
            if let (Some(id), Some(kind)) =
                (option.get("id"), option.get("type").and_then(Value::as_str))
            {
                context.options.push((id.clone(), kind.to_owned()));
            }
        }
        self.session = Some(context);
        self
    }

    /// The configured currency.
    pub fn currency_code(&self) -> Option<&str> {
        self.currency.as_deref()
    }
}

impl<T> Converted<T> {
    /// Whether nothing was lost.
    pub fn is_lossless(&self) -> bool {
        self.losses.is_empty()
    }
}

/// Why a conversion failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// A version this crate has no models for.
    #[error("API version {0} is not a released version this crate models")]
    UnsupportedVersion(String),
    /// The input is not a document of the source version.
    #[error("the input is not a {type_name} of API version {version}: {violations:?}")]
    Unparsable {
        /// `<bundle>.<Name>`.
        type_name: &'static str,
        /// The source version.
        version: String,
        /// Why.
        violations: Vec<Violation>,
    },
    /// The target version requires data the source does not carry.
    #[error("a {type_name} of API version {version} needs data the input lacks: {violations:?}")]
    Incomplete {
        /// `<bundle>.<Name>`.
        type_name: &'static str,
        /// The version the data is missing for.
        version: String,
        /// The missing or unrepresentable members, each with its JSONPath.
        violations: Vec<Violation>,
        /// The losses reported before the failure.
        losses: Vec<LossReport>,
    },
    /// A request carries something the target version cannot express (a
    /// quantity, an option selection whose items are unknown, a member the
    /// target does not define). A request is never converted with a changed
    /// meaning: serve it by refusing it at `violations[].path`.
    #[error("a {type_name} of API version {version} cannot be carried to {target}: {violations:?}")]
    Unrepresentable {
        /// `<bundle>.<Name>`.
        type_name: &'static str,
        /// The source version (the one the violation paths are in).
        version: String,
        /// The version the request was converted to.
        target: String,
        /// What cannot be carried, each with its JSONPath in the input.
        violations: Vec<Violation>,
    },
}

/// The index in [`ApiVersion::RELEASED`] of the working model's version.
fn latest_index() -> usize {
    ApiVersion::RELEASED
        .iter()
        .position(|v| *v == ApiVersion::LATEST)
        .unwrap_or(ApiVersion::RELEASED.len() - 1)
}

fn version_index(version: &ApiVersion) -> Result<usize, ConvertError> {
    ApiVersion::RELEASED
        .iter()
        .position(|v| v == version)
        .ok_or_else(|| ConvertError::UnsupportedVersion(version.to_string()))
}

fn entry(index: usize, document: Document) -> Result<&'static TypeEntry, ConvertError> {
    let version = &ApiVersion::RELEASED[index];
    registry::lookup_in(version, document.type_name())
        .ok_or_else(|| ConvertError::UnsupportedVersion(version.to_string()))
}

/// Converts `value`, a `document` of version `from`, to version `to`, one
/// adjacent version at a time, and returns the target version's wire form
/// (parsed by that version's Rust type and re-serialized) with every loss.
///
/// # Errors
/// [`ConvertError::UnsupportedVersion`] for an unreleased version,
/// [`ConvertError::Unparsable`] when `value` does not parse as the source
/// type, [`ConvertError::Incomplete`] when the target requires data the input
/// lacks.
pub fn convert(
    document: Document,
    from: &ApiVersion,
    to: &ApiVersion,
    value: &Value,
) -> Result<Converted<Value>, ConvertError> {
    convert_with(document, from, to, value, &UpgradeDefaults::new())
}

/// [`convert`] with merchant-supplied [`UpgradeDefaults`] for the members an
/// upgrade needs and the input cannot carry; each one used is listed in
/// [`Converted::supplied`]. Defaults only apply when converting to a newer
/// version.
///
/// # Errors
/// As [`convert`]; [`ConvertError::Incomplete`] when a required member is
/// still missing after the defaults.
pub fn convert_with(
    document: Document,
    from: &ApiVersion,
    to: &ApiVersion,
    value: &Value,
    defaults: &UpgradeDefaults,
) -> Result<Converted<Value>, ConvertError> {
    let source = version_index(from)?;
    let target = version_index(to)?;
    let input = entry(source, document)?;
    let mut current = input
        .roundtrip(value)
        .map_err(|e| ConvertError::Unparsable {
            type_name: document.type_name(),
            version: from.to_string(),
            violations: vec![Violation {
                path: e.path,
                kind: ViolationKind::Type,
                message: e.message,
            }],
        })?;
    let mut losses = Vec::new();
    let mut supplied = Vec::new();
    let mut refusals = Vec::new();
    // For each loss, the version index of the document its path is in.
    let mut loss_at = Vec::new();
    let mut index = source;
    while index != target {
        let next = if target > index { index + 1 } else { index - 1 };
        let step = Step {
            document,
            version: ApiVersion::RELEASED[next].as_str(),
            losses: &mut losses,
            defaults,
            supplied: &mut supplied,
            refusals: &mut refusals,
        };
        if next > index {
            step.up(index, &mut current);
        } else {
            step.down(next, &mut current);
        }
        let shape = entry(next, document)?.shape();
        prune(
            &mut current,
            shape,
            &JsonPath::root(),
            ApiVersion::RELEASED[next].as_str(),
            &mut losses,
        );
        loss_at.resize(losses.len(), next);
        index = next;
    }
    if document.is_request() && target > source {
        // A request is carried with its meaning or refused: what the target
        // cannot express is named at its path in the caller's version.
        refusals.extend(losses.iter().zip(&loss_at).map(|(loss, at)| Violation {
            path: path_between(document, *at, source, &loss.path),
            kind: ViolationKind::AdditionalProperty,
            message: loss.what.clone(),
        }));
        if !refusals.is_empty() {
            return Err(ConvertError::Unrepresentable {
                type_name: document.type_name(),
                version: from.to_string(),
                target: to.to_string(),
                violations: refusals,
            });
        }
    }
    if document.is_session() && target < source {
        session_message_params(&mut current, source, target);
    }
    if target > source {
        supply_required(document, target, &mut current, defaults, &mut supplied);
    }
    let output = entry(target, document)?;
    let mut missing: Vec<Violation> = validate(output.shape(), &current)
        .into_iter()
        .filter(|v| v.kind == ViolationKind::Required)
        .collect();
    if document == Document::CompleteRequest && target >= 3 {
        missing.extend(payment_alternative_missing(&current));
    }
    let incomplete = |violations| ConvertError::Incomplete {
        type_name: document.type_name(),
        version: to.to_string(),
        violations,
        losses: losses.clone(),
    };
    if !missing.is_empty() {
        return Err(incomplete(missing));
    }
    let value = output.roundtrip(&current).map_err(|e| {
        incomplete(vec![Violation {
            path: e.path,
            kind: ViolationKind::Type,
            message: e.message,
        }])
    })?;
    Ok(Converted {
        value,
        losses,
        supplied,
    })
}

/// From 2026-01-30, `PaymentData` needs `handler_id` and `instrument`, or a
/// `purchase_order_number` (an `anyOf` the compiled shapes do not enforce).
/// An old `{token, provider}` the merchant did not map has neither.
fn payment_alternative_missing(value: &Value) -> Option<Violation> {
    let payment = value.get("payment_data")?;
    let has = |key: &str| payment.get(key).is_some();
    if (has("handler_id") && has("instrument")) || has("purchase_order_number") {
        return None;
    }
    Some(Violation {
        path: JsonPath::root().key("payment_data").key("handler_id"),
        kind: ViolationKind::Required,
        message: "a payment handler (`handler_id` and `instrument`) or a \
                  `purchase_order_number` is required: map the old payment provider \
                  with `UpgradeDefaults::payment_handler`"
            .into(),
    })
}

/// Fills the members 2026-01-30 made required (`currency` on the create
/// request, `capabilities` on the create request and the session) from the
/// merchant's defaults when the upgraded document lacks them.
fn supply_required(
    document: Document,
    target: usize,
    value: &mut Value,
    defaults: &UpgradeDefaults,
    supplied: &mut Vec<Supplied>,
) {
    // Index 3 is 2026-01-30, the first version requiring both.
    let Value::Object(map) = value else { return };
    if target < 3 {
        return;
    }
    let mut fill = |key: &str, default: Option<Value>, what: &str| {
        if let (false, Some(default)) = (map.contains_key(key), default) {
            map.insert(key.to_owned(), default);
            supplied.push(Supplied {
                path: JsonPath::root().key(key),
                what: what.to_owned(),
            });
        }
    };
    if document == Document::CreateRequest {
        fill(
            "currency",
            defaults.currency.clone().map(Value::String),
            "the merchant's currency: requests before 2026-01-30 carry none",
        );
    }
    if document == Document::CreateRequest || document.is_session() {
        fill(
            "capabilities",
            defaults.capabilities.clone(),
            "the merchant's capabilities: documents before 2026-01-30 carry none",
        );
    }
}

fn upgrade_typed<T: serde::de::DeserializeOwned>(
    document: Document,
    from: &ApiVersion,
    value: &Value,
    defaults: &UpgradeDefaults,
) -> Result<Converted<T>, ConvertError> {
    let converted = convert_with(document, from, &ApiVersion::LATEST, value, defaults)?;
    let typed = serde_json::from_value(converted.value).map_err(|e| ConvertError::Incomplete {
        type_name: document.type_name(),
        version: ApiVersion::LATEST.to_string(),
        violations: vec![Violation {
            path: JsonPath::root(),
            kind: ViolationKind::Type,
            message: e.to_string(),
        }],
        losses: converted.losses.clone(),
    })?;
    Ok(Converted {
        value: typed,
        losses: converted.losses,
        supplied: converted.supplied,
    })
}

fn downgrade_typed<T: serde::Serialize>(
    document: Document,
    value: &T,
    to: &ApiVersion,
) -> Result<Converted<Value>, ConvertError> {
    let json = serde_json::to_value(value).map_err(|e| ConvertError::Unparsable {
        type_name: document.type_name(),
        version: ApiVersion::LATEST.to_string(),
        violations: vec![Violation {
            path: JsonPath::root(),
            kind: ViolationKind::Type,
            message: e.to_string(),
        }],
    })?;
    convert(document, &ApiVersion::LATEST, to, &json)
}

/// An agent's create request in version `from`, as the 2026-04-17 type.
///
/// # Errors
/// See [`convert`]. Requests older than 2026-01-30 lack the `currency` and
/// `capabilities` 2026-01-30 requires: [`ConvertError::Incomplete`].
pub fn upgrade_create_request(
    from: &ApiVersion,
    value: &Value,
) -> Result<Converted<latest::CheckoutSessionCreateRequest>, ConvertError> {
    upgrade_typed(
        Document::CreateRequest,
        from,
        value,
        &UpgradeDefaults::new(),
    )
}

/// [`upgrade_create_request`] with the merchant's [`UpgradeDefaults`] for
/// what the older request cannot carry; every default used is listed in
/// [`Converted::supplied`].
///
/// # Errors
/// See [`convert_with`].
pub fn upgrade_create_request_with(
    from: &ApiVersion,
    value: &Value,
    defaults: &UpgradeDefaults,
) -> Result<Converted<latest::CheckoutSessionCreateRequest>, ConvertError> {
    upgrade_typed(Document::CreateRequest, from, value, defaults)
}

/// An agent's update request in version `from`, as the 2026-04-17 type.
///
/// # Errors
/// See [`convert`].
pub fn upgrade_update_request(
    from: &ApiVersion,
    value: &Value,
) -> Result<Converted<latest::CheckoutSessionUpdateRequest>, ConvertError> {
    upgrade_typed(
        Document::UpdateRequest,
        from,
        value,
        &UpgradeDefaults::new(),
    )
}

/// [`upgrade_update_request`] with the merchant's [`UpgradeDefaults`] for
/// what the older request cannot carry; every default used is listed in
/// [`Converted::supplied`].
///
/// # Errors
/// See [`convert_with`].
pub fn upgrade_update_request_with(
    from: &ApiVersion,
    value: &Value,
    defaults: &UpgradeDefaults,
) -> Result<Converted<latest::CheckoutSessionUpdateRequest>, ConvertError> {
    upgrade_typed(Document::UpdateRequest, from, value, defaults)
}

/// An agent's complete request in version `from`, as the 2026-04-17 type.
///
/// # Errors
/// See [`convert`]. Before 2026-01-30 the payment data names a provider, not
/// a payment handler: [`ConvertError::Incomplete`] (use
/// [`upgrade_complete_request_with`] and [`UpgradeDefaults::payment_handler`]).
pub fn upgrade_complete_request(
    from: &ApiVersion,
    value: &Value,
) -> Result<Converted<latest::CheckoutSessionCompleteRequest>, ConvertError> {
    upgrade_typed(
        Document::CompleteRequest,
        from,
        value,
        &UpgradeDefaults::new(),
    )
}

/// [`upgrade_complete_request`] with the merchant's [`UpgradeDefaults`] for
/// what the older request cannot carry; every default used is listed in
/// [`Converted::supplied`].
///
/// # Errors
/// See [`convert_with`].
pub fn upgrade_complete_request_with(
    from: &ApiVersion,
    value: &Value,
    defaults: &UpgradeDefaults,
) -> Result<Converted<latest::CheckoutSessionCompleteRequest>, ConvertError> {
    upgrade_typed(Document::CompleteRequest, from, value, defaults)
}

/// A 2026-04-17 checkout session in the wire form of version `to`.
///
/// # Errors
/// See [`convert`].
pub fn downgrade_checkout_session(
    session: &latest::CheckoutSession,
    to: &ApiVersion,
) -> Result<Converted<Value>, ConvertError> {
    downgrade_typed(Document::CheckoutSession, session, to)
}

/// A 2026-04-17 complete response in the wire form of version `to`.
///
/// # Errors
/// See [`convert`].
pub fn downgrade_checkout_session_with_order(
    session: &latest::CheckoutSessionWithOrder,
    to: &ApiVersion,
) -> Result<Converted<Value>, ConvertError> {
    downgrade_typed(Document::CheckoutSessionWithOrder, session, to)
}

/// A 2026-04-17 order webhook event in the wire form of version `to`
/// (before 2026-04-17 the event carries a standalone `EventDataOrder`).
///
/// # Errors
/// See [`convert`]. An order status with no pre-2026-04-17 equivalent is
/// [`ConvertError::Incomplete`] (the old `status` is a required closed enum).
pub fn downgrade_webhook_event(
    event: &latest_webhook::WebhookEvent,
    to: &ApiVersion,
) -> Result<Converted<Value>, ConvertError> {
    downgrade_typed(Document::WebhookEvent, event, to)
}

// ---------------------------------------------------------------------------
// Steps. `up(i)` converts version i to i + 1 in place; `down(i)` converts
// i + 1 to i. Members a version does not define are removed afterwards by
// `prune`, which reports them; the steps handle what maps.

struct Step<'a> {
    document: Document,
    /// The version being converted to.
    version: &'static str,
    losses: &'a mut Vec<LossReport>,
    defaults: &'a UpgradeDefaults,
    supplied: &'a mut Vec<Supplied>,
    /// What a request upgrade cannot carry, at its path in the source.
    refusals: &'a mut Vec<Violation>,
}

impl Step<'_> {
    fn lose(&mut self, path: JsonPath, what: impl Into<String>) {
        self.losses.push(LossReport {
            path,
            what: what.into(),
        });
    }

    fn refuse(&mut self, path: JsonPath, kind: ViolationKind, message: impl Into<String>) {
        self.refusals.push(Violation {
            path,
            kind,
            message: message.into(),
        });
    }

    /// The `type` and `item_ids` a 2025-09-29 update's lone
    /// `fulfillment_option_id` stands for: the option applies to every item,
    /// those of the request or else those of the session
    /// ([`UpgradeDefaults::session`]); its type is the session's option's.
    /// `None` (refused) when the conversion cannot know them.
    fn request_selection(
        &mut self,
        map: &Map<String, Value>,
        id: &Value,
    ) -> Option<(String, Vec<Value>)> {
        let at = JsonPath::root().key("fulfillment_option_id");
        let Some(context) = self.defaults.session.clone() else {
            self.refuse(
                at,
                ViolationKind::Required,
                "a 2025-09-29 fulfillment option applies to every item of the session: \
                 the conversion needs the session (`UpgradeDefaults::session`)",
            );
            return None;
        };
        let Some((_, kind)) = context.options.iter().find(|(option, _)| option == id) else {
            self.refuse(
                at,
                ViolationKind::Enum,
                "not a fulfillment option this checkout session offers",
            );
            return None;
        };
        let mut ids = Vec::new();
        if map.contains_key("items") {
            for item in item_ids(map) {
                if !ids.contains(&item) {
                    ids.push(item);
                }
            }
        } else {
            ids = context.item_ids;
        }
        Some((kind.clone(), ids))
    }

    fn up(mut self, from: usize, value: &mut Value) {
        let Value::Object(map) = value else { return };
        match from {
            0 => self.up_2025_12_12(map),
            1 => self.up_2026_01_16(map),
            2 => self.up_2026_01_30(map),
            3 => self.up_2026_04_17(map),
            _ => {}
        }
    }

    fn down(mut self, to: usize, value: &mut Value) {
        let Value::Object(map) = value else { return };
        match to {
            0 => self.down_2025_09_29(map),
            1 => self.down_2025_12_12(map),
            2 => self.down_2026_01_16(map),
            3 => self.down_2026_01_30(map),
            _ => {}
        }
    }

    // ----- 2025-09-29 <-> 2025-12-12 ---------------------------------------

    fn up_2025_12_12(&mut self, map: &mut Map<String, Value>) {
        if matches!(
            self.document,
            Document::CreateRequest | Document::UpdateRequest
        ) || self.document.is_session()
        {
            if let Some(address) = map.remove("fulfillment_address") {
                let mut details = Map::new();
                details.insert("address".into(), address);
                map.insert("fulfillment_details".into(), Value::Object(details));
            }
        }
        if self.document == Document::UpdateRequest || self.document.is_session() {
            if let Some(id) = map.remove("fulfillment_option_id") {
                let (kind, item_ids) = if self.document.is_session() {
                    let kind = option_kind(map, &id).unwrap_or_else(|| {
                        self.lose(
                            JsonPath::root().key("fulfillment_option_id"),
                            "the option's type is not in the document: assumed `shipping`",
                        );
                        "shipping".to_owned()
                    });
                    (kind, item_ids(map))
                } else {
                    match self.request_selection(map, &id) {
                        Some(selection) => selection,
                        None => return,
                    }
                };
                let mut inner = Map::new();
                inner.insert("option_id".into(), id);
                inner.insert("item_ids".into(), Value::Array(item_ids));
                let mut option = Map::new();
                option.insert("type".into(), Value::String(kind.clone()));
                option.insert(kind, Value::Object(inner));
                map.insert(
                    "selected_fulfillment_options".into(),
                    Value::Array(vec![Value::Object(option)]),
                );
            }
        }
        // `Item.quantity` was a decimal: an integral value becomes an integer;
        // a fraction cannot be carried (the final parse reports it).
        for items in ["items"] {
            if let Some(Value::Array(list)) = map.get_mut(items) {
                for item in list {
                    integral_quantity(item);
                }
            }
        }
        if let Some(Value::Array(lines)) = map.get_mut("line_items") {
            for line in lines {
                if let Some(item) = line.get_mut("item") {
                    integral_quantity(item);
                }
            }
        }
    }

    fn down_2025_09_29(&mut self, map: &mut Map<String, Value>) {
        if let Some(details) = map.remove("fulfillment_details") {
            let path = JsonPath::root().key("fulfillment_details");
            if let Value::Object(mut details) = details {
                if let Some(address) = details.remove("address") {
                    map.insert("fulfillment_address".into(), address);
                } else if details.is_empty() {
                    self.lose(path.clone(), "empty `fulfillment_details` (no address)");
                }
                for key in details.keys() {
                    self.lose(
                        path.key(key),
                        format!("2025-09-29 has only the fulfillment address, not `{key}`"),
                    );
                }
            }
        }
        if let Some(Value::Array(selected)) = map.remove("selected_fulfillment_options") {
            let path = JsonPath::root().key("selected_fulfillment_options");
            if selected.is_empty() {
                self.lose(
                    path.clone(),
                    "an empty selection (2025-09-29 has one option id)",
                );
            }
            let all_items = item_ids(map);
            for (i, option) in selected.iter().enumerate() {
                let kind = option.get("type").and_then(Value::as_str).unwrap_or("");
                let inner = option.get(kind);
                let id = inner.and_then(|o| o.get("option_id")).cloned();
                let items = inner
                    .and_then(|o| o.get("item_ids"))
                    .cloned()
                    .unwrap_or(Value::Array(Vec::new()));
                let known_kind = option_kind(map, id.as_ref().unwrap_or(&Value::Null));
                if i > 0 {
                    self.lose(
                        path.index(i),
                        "2025-09-29 selects a single fulfillment option",
                    );
                } else if let Some(id) = id {
                    if self.document == Document::UpdateRequest && !map.contains_key("items") {
                        self.lose(
                            path.index(i).key(kind).key("item_ids"),
                            "2025-09-29 applies the option to every item of the session",
                        );
                    } else if items != Value::Array(all_items.clone()) {
                        self.lose(
                            path.index(i).key(kind).key("item_ids"),
                            "2025-09-29 applies the option to every item",
                        );
                    }
                    if known_kind.as_deref() != Some(kind) {
                        self.lose(
                            path.index(i).key("type"),
                            "the option's type is only known from the selection",
                        );
                    }
                    map.insert("fulfillment_option_id".into(), id);
                } else {
                    self.lose(path.index(i), "a selection without an option id");
                }
            }
        }
        if self.document.is_session()
            && map.get("status") == Some(&Value::from("authentication_required"))
        {
            // 2025-09-29 cannot say "authenticate first", only why the session cannot be paid.
            self.requires_3ds_instead(
                map,
                "API version 2025-09-29 has no `authentication_required`",
            );
        }
        self.map_status(map, &[("authentication_required", "not_ready_for_payment")]);
    }

    // ----- 2025-12-12 <-> 2026-01-16 ---------------------------------------

    fn up_2026_01_16(&mut self, map: &mut Map<String, Value>) {
        if !self.document.is_session() {
            return;
        }
        if let Some(Value::Array(options)) = map.get_mut("fulfillment_options") {
            for option in options {
                let Value::Object(option) = option else {
                    continue;
                };
                if let Some(subtitle) = option.remove("subtitle") {
                    option.insert("description".into(), subtitle);
                }
                let mut totals = Vec::new();
                for (kind, label) in OPTION_TOTALS {
                    if let Some(amount) = option.remove(kind) {
                        let mut total = Map::new();
                        total.insert("type".into(), Value::String(kind.to_owned()));
                        total.insert("display_text".into(), Value::String(label.to_owned()));
                        total.insert("amount".into(), amount);
                        totals.push(Value::Object(total));
                    }
                }
                option.insert("totals".into(), Value::Array(totals));
            }
        }
    }

    fn down_2025_12_12(&mut self, map: &mut Map<String, Value>) {
        if !self.document.is_session() {
            return;
        }
        let path = JsonPath::root().key("fulfillment_options");
        let mut lost = Vec::new();
        if let Some(Value::Array(options)) = map.get_mut("fulfillment_options") {
            for (i, option) in options.iter_mut().enumerate() {
                let Value::Object(option) = option else {
                    continue;
                };
                if let Some(description) = option.remove("description") {
                    option.insert("subtitle".into(), description);
                }
                let Some(Value::Array(totals)) = option.remove("totals") else {
                    continue;
                };
                let mut seen = Vec::new();
                for (j, total) in totals.into_iter().enumerate() {
                    let at = path.index(i).key("totals").index(j);
                    let kind = total.get("type").and_then(Value::as_str).unwrap_or("");
                    let label = OPTION_TOTALS.iter().find(|(k, _)| *k == kind);
                    match (label, total.get("amount")) {
                        (Some((kind, label)), Some(amount)) if !seen.contains(kind) => {
                            seen.push(*kind);
                            // Only the amount survives; the caption and order do not.
                            if total.get("display_text").and_then(Value::as_str) != Some(label)
                                || total.as_object().is_some_and(|t| t.len() > 3)
                            {
                                lost.push((
                                    at.clone(),
                                    "2025-12-12 keeps only the amount of an option total",
                                ));
                            }
                            option.insert((*kind).to_owned(), amount.clone());
                        }
                        _ => {
                            lost.push((at, "2025-12-12 options have only subtotal, tax and total"));
                        }
                    }
                }
                let order: Vec<&str> = OPTION_TOTALS
                    .iter()
                    .map(|(k, _)| *k)
                    .filter(|k| seen.contains(k))
                    .collect();
                if order != seen {
                    lost.push((path.index(i).key("totals"), "the order of the totals"));
                }
            }
        }
        for (at, what) in lost {
            self.lose(at, what);
        }
    }

    // ----- 2026-01-16 <-> 2026-01-30 ---------------------------------------

    fn up_2026_01_30(&mut self, map: &mut Map<String, Value>) {
        if matches!(
            self.document,
            Document::CreateRequest | Document::UpdateRequest
        ) {
            if let Some(Value::Array(items)) = map.remove("items") {
                let lines = self.items_to_lines(items);
                map.insert("line_items".into(), Value::Array(lines));
            }
        }
        if self.document.is_session() || self.document == Document::UpdateRequest {
            Self::flatten_selected(map);
        }
        if self.document.is_session() {
            Self::line_amounts_to_totals(map);
        }
        if self.document == Document::CompleteRequest {
            self.provider_to_handler(map);
        }
    }

    /// A 2026-01-16 request's `items[{id, quantity}]` become 2026-01-30
    /// `line_items[{id}]`, which have no quantity: an item of quantity `n`
    /// is listed `n` times when the merchant reads repeated items as units
    /// ([`UpgradeDefaults::quantity_as_repeated_items`]); any other quantity
    /// than 1 is refused, never dropped.
    fn items_to_lines(&mut self, items: Vec<Value>) -> Vec<Value> {
        let max = self.defaults.repeated_units;
        let mut units = 0_usize;
        let mut lines = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let Value::Object(mut item) = item else {
                continue;
            };
            let at = JsonPath::root().key("items").index(i).key("quantity");
            let copies = match item.remove("quantity") {
                None => 1,
                Some(quantity) => match (quantity.as_u64(), max) {
                    (Some(1), _) => 1,
                    (Some(0), _) => {
                        self.refuse(at, ViolationKind::Minimum, "a quantity must be at least 1");
                        continue;
                    }
                    (Some(n), Some(_)) => usize::try_from(n).unwrap_or(usize::MAX),
                    (Some(_), None) => {
                        self.refuse(
                            at,
                            ViolationKind::Maximum,
                            "2026-01-30 and later requests cannot express a quantity, and this \
                             merchant does not take a repeated item as units: send each item \
                             with quantity 1",
                        );
                        continue;
                    }
                    (None, _) => {
                        self.refuse(
                            at,
                            ViolationKind::Type,
                            "only whole units can be ordered (a quantity is an integer from \
                             2025-12-12 on)",
                        );
                        continue;
                    }
                },
            };
            units = units.saturating_add(copies);
            if let Some(max) = max.filter(|max| units > *max) {
                self.refuse(
                    at,
                    ViolationKind::Maximum,
                    format!("at most {max} units can be ordered in one request"),
                );
                continue;
            }
            lines.extend(std::iter::repeat_n(Value::Object(item), copies));
        }
        lines
    }

    /// A 2026-01-16 line item's five amounts become 2026-01-30 `totals`
    /// entries (the captions the official examples use), and the quantity
    /// moves from the item to the line.
    fn line_amounts_to_totals(map: &mut Map<String, Value>) {
        let Some(Value::Array(lines)) = map.get_mut("line_items") else {
            return;
        };
        for line in lines {
            let Value::Object(line) = line else { continue };
            let quantity = match line.get_mut("item") {
                Some(Value::Object(item)) => item.remove("quantity"),
                _ => None,
            };
            if let Some(quantity) = quantity {
                line.insert("quantity".into(), quantity);
            }
            let mut totals = Vec::new();
            for (key, kind, label) in LINE_TOTALS {
                if let Some(amount) = line.remove(key) {
                    let mut total = Map::new();
                    total.insert("type".into(), Value::from(kind));
                    total.insert("display_text".into(), Value::from(label));
                    total.insert("amount".into(), amount);
                    totals.push(Value::Object(total));
                }
            }
            line.insert("totals".into(), Value::Array(totals));
        }
    }

    /// A pre-2026-01-30 `payment_data {token, provider}` becomes the payment
    /// handler form when the merchant mapped that provider
    /// ([`UpgradeDefaults::payment_handler`]); otherwise the old members are
    /// reported lost and the upgrade is incomplete.
    fn provider_to_handler(&mut self, map: &mut Map<String, Value>) {
        let Some(Value::Object(payment)) = map.get_mut("payment_data") else {
            return;
        };
        let provider = payment.get("provider").and_then(Value::as_str);
        let Some(mapping) = self
            .defaults
            .payments
            .iter()
            .find(|m| Some(m.provider.as_str()) == provider)
        else {
            return;
        };
        let Some(token) = payment.remove("token") else {
            return;
        };
        payment.remove("provider");
        let mut credential = Map::new();
        credential.insert("type".into(), Value::from(mapping.credential_type.as_str()));
        credential.insert("token".into(), token);
        let mut instrument = Map::new();
        instrument.insert("type".into(), Value::from(mapping.instrument_type.as_str()));
        instrument.insert("credential".into(), Value::Object(credential));
        payment.insert(
            "handler_id".into(),
            Value::from(mapping.handler_id.as_str()),
        );
        payment.insert("instrument".into(), Value::Object(instrument));
        let path = JsonPath::root().key("payment_data");
        let what = format!(
            "the merchant's payment handler for provider `{}`",
            mapping.provider
        );
        for at in [
            path.key("handler_id"),
            path.key("instrument").key("type"),
            path.key("instrument").key("credential").key("type"),
        ] {
            self.supplied.push(Supplied {
                path: at,
                what: what.clone(),
            });
        }
    }

    fn flatten_selected(map: &mut Map<String, Value>) {
        if let Some(Value::Array(selected)) = map.get_mut("selected_fulfillment_options") {
            for option in selected {
                let Value::Object(option) = option else {
                    continue;
                };
                let kind = option
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                if let Some(Value::Object(inner)) = option.remove(&kind) {
                    option.extend(inner);
                }
            }
        }
    }

    fn down_2026_01_16(&mut self, map: &mut Map<String, Value>) {
        self.buyer_names(map);
        if matches!(
            self.document,
            Document::CreateRequest | Document::UpdateRequest
        ) {
            if let Some(lines) = map.remove("line_items") {
                // 2026-01-30 items carry no quantity; 2026-01-16 requires one.
                let lines = match lines {
                    Value::Array(lines) => lines
                        .into_iter()
                        .map(|line| match line {
                            Value::Object(mut line) => {
                                line.insert("quantity".into(), Value::from(1));
                                Value::Object(line)
                            }
                            other => other,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                map.insert("items".into(), Value::Array(lines));
            }
        }
        if self.document.is_session() || self.document == Document::UpdateRequest {
            if let Some(Value::Array(selected)) = map.get_mut("selected_fulfillment_options") {
                for option in selected {
                    let Value::Object(option) = option else {
                        continue;
                    };
                    let kind = option
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned();
                    let mut inner = Map::new();
                    for key in ["option_id", "item_ids"] {
                        if let Some(v) = option.remove(key) {
                            inner.insert(key.into(), v);
                        }
                    }
                    option.insert(kind, Value::Object(inner));
                }
            }
            if self.document.is_session() {
                self.line_totals_to_amounts(map);
            }
            self.map_status(
                map,
                &[
                    ("incomplete", "not_ready_for_payment"),
                    ("requires_escalation", "not_ready_for_payment"),
                    ("pending_approval", "in_progress"),
                    ("complete_in_progress", "in_progress"),
                    ("expired", "canceled"),
                ],
            );
        }
    }

    /// A 2026-01-16 buyer requires `first_name` and `last_name`. Later
    /// versions make them optional and add `full_name`; the spec defines no
    /// way to split a full name, so a buyer without both names is not sent
    /// (reported) rather than given invented names.
    fn buyer_names(&mut self, map: &mut Map<String, Value>) {
        let Some(Value::Object(buyer)) = map.get("buyer") else {
            return;
        };
        let missing: Vec<&str> = ["first_name", "last_name"]
            .into_iter()
            .filter(|k| !buyer.contains_key(*k))
            .collect();
        if missing.is_empty() {
            return;
        }
        map.remove("buyer");
        self.lose(
            JsonPath::root().key("buyer"),
            format!(
                "a {} buyer needs `first_name` and `last_name`; `{}` cannot be derived \
                 (the spec defines no split of `full_name`): the buyer is not sent",
                self.version,
                missing.join("`, `")
            ),
        );
    }

    /// The inverse of [`Step::line_amounts_to_totals`]: each line's
    /// `totals` entries of the five mapped types give the 2026-01-16 amounts
    /// (only the amount survives), the quantity moves into the item. A
    /// missing `discount` entry on a line whose subtotal equals its base
    /// amount is sent as a discount of 0 (reported); any other missing amount
    /// makes the conversion incomplete.
    fn line_totals_to_amounts(&mut self, map: &mut Map<String, Value>) {
        let path = JsonPath::root().key("line_items");
        let mut lost: Vec<(JsonPath, &str)> = Vec::new();
        if let Some(Value::Array(lines)) = map.get_mut("line_items") {
            for (i, line) in lines.iter_mut().enumerate() {
                let Value::Object(line) = line else { continue };
                if let Some(quantity) = line.remove("quantity") {
                    if let Some(Value::Object(item)) = line.get_mut("item") {
                        item.insert("quantity".into(), quantity);
                    }
                }
                let Some(Value::Array(totals)) = line.remove("totals") else {
                    continue;
                };
                let mut seen = Vec::new();
                for (j, total) in totals.into_iter().enumerate() {
                    let at = path.index(i).key("totals").index(j);
                    let kind = total.get("type").and_then(Value::as_str).unwrap_or("");
                    let mapped = LINE_TOTALS.iter().find(|(_, k, _)| *k == kind);
                    match (mapped, total.get("amount").filter(|a| a.is_i64())) {
                        (Some((key, _, label)), Some(amount)) if !seen.contains(key) => {
                            seen.push(*key);
                            if total.get("display_text").and_then(Value::as_str) != Some(label)
                                || total.as_object().is_some_and(|t| t.len() > 3)
                            {
                                lost.push((
                                    at,
                                    "2026-01-16 keeps only the amount of a line item total",
                                ));
                            }
                            line.insert((*key).to_owned(), amount.clone());
                        }
                        _ => lost.push((
                            at,
                            "2026-01-16 line items have only base amount, discount, \
                             subtotal, tax and total",
                        )),
                    }
                }
                let order: Vec<&str> = LINE_TOTALS
                    .iter()
                    .map(|(k, _, _)| *k)
                    .filter(|k| seen.contains(k))
                    .collect();
                if order != seen {
                    lost.push((path.index(i).key("totals"), "the order of the totals"));
                }
                if !seen.contains(&"discount")
                    && line.contains_key("base_amount")
                    && line.get("base_amount") == line.get("subtotal")
                {
                    line.insert("discount".into(), Value::from(0));
                    lost.push((
                        path.index(i).key("totals"),
                        "no `discount` total and subtotal = base amount: sent as a discount of 0",
                    ));
                }
            }
        }
        for (at, what) in lost {
            self.lose(at, what);
        }
    }

    // ----- 2026-01-30 <-> 2026-04-17 ---------------------------------------

    fn up_2026_04_17(&mut self, map: &mut Map<String, Value>) {
        if self.document.is_session() {
            if let Some(Value::Object(order)) = map.get_mut("order") {
                if order.get("status") == Some(&Value::from("delivered")) {
                    order.insert("status".into(), Value::from("completed"));
                }
            }
        }
        if self.document == Document::WebhookEvent {
            if let Some(Value::Object(data)) = map.get_mut("data") {
                // `refunds` is not an Order member: the prune reports it.
                // An EventDataOrder has no order `id`; the final check reports it.
                if data.get("status") == Some(&Value::from("fulfilled")) {
                    data.insert("status".into(), Value::from("completed"));
                }
            }
        }
    }

    fn down_2026_01_30(&mut self, map: &mut Map<String, Value>) {
        if self.document.is_session() {
            // Before 2026-04-17 the seller gives the buyer's browser details (`channel`), which a
            // 2026-04-17 seller leaves to the agent's `delegate_authentication` request.
            let browser = map
                .get("authentication_metadata")
                .map(|m| m.get("channel").and_then(|c| c.get("browser")));
            let required = [
                "accept_header",
                "ip_address",
                "javascript_enabled",
                "language",
                "user_agent",
            ];
            if browser
                .is_some_and(|b| b.is_none_or(|b| required.iter().any(|k| b.get(k).is_none())))
            {
                let why = "before 2026-04-17 the seller gives the buyer's browser details";
                self.requires_3ds_instead(map, why);
            }
            if let Some(Value::Object(order)) = map.get_mut("order") {
                let path = JsonPath::root().key("order").key("status");
                match order.get("status").and_then(Value::as_str) {
                    Some("completed") => {
                        order.insert("status".into(), Value::from("delivered"));
                    }
                    Some("delivered") => {
                        // 2026-04-17 renamed `delivered`; reading it back gives `completed`.
                        self.losses.push(LossReport {
                            path,
                            what: "`delivered` is not a 2026-04-17 order status".into(),
                        });
                    }
                    _ => {}
                }
            }
        }
        if self.document == Document::WebhookEvent {
            self.webhook_order_to_event_data(map);
        }
    }

    /// 2026-04-17 `data` is the full Order; earlier it is `EventDataOrder
    /// {type, checkout_session_id, permalink_url, status, refunds}`.
    fn webhook_order_to_event_data(&mut self, map: &mut Map<String, Value>) {
        let Some(Value::Object(data)) = map.get_mut("data") else {
            return;
        };
        let path = JsonPath::root().key("data");
        data.insert("type".into(), Value::from("order"));
        let status = data
            .get("status")
            .and_then(Value::as_str)
            .map(str::to_owned);
        match status.as_deref() {
            Some(s @ ("created" | "manual_review" | "confirmed" | "canceled" | "shipped")) => {
                data.insert("status".into(), Value::from(s));
            }
            Some("completed") => {
                data.insert("status".into(), Value::from("fulfilled"));
            }
            Some(other) => {
                let other = other.to_owned();
                data.remove("status");
                self.lose(
                    path.key("status"),
                    format!("order status `{other}` has no equivalent before 2026-04-17"),
                );
            }
            None => {}
        }
        let mut refunds = Vec::new();
        if let Some(Value::Array(adjustments)) = data.remove("adjustments") {
            for (i, adjustment) in adjustments.iter().enumerate() {
                let kind = match adjustment.get("type").and_then(Value::as_str) {
                    Some("refund") => "original_payment",
                    Some("credit") => "store_credit",
                    _ => {
                        self.lose(
                            path.key("adjustments").index(i),
                            "only refunds and credits exist before 2026-04-17",
                        );
                        continue;
                    }
                };
                let amount = adjustment.get("amount").filter(|a| a.is_i64());
                let Some(amount) = amount else {
                    self.lose(
                        path.key("adjustments").index(i),
                        "a refund without an integer amount",
                    );
                    continue;
                };
                if adjustment.as_object().is_some_and(|a| a.len() > 2) {
                    self.lose(
                        path.key("adjustments").index(i),
                        "a pre-2026-04-17 refund keeps only its kind and amount",
                    );
                }
                let mut refund = Map::new();
                refund.insert("type".into(), Value::from(kind));
                refund.insert("amount".into(), amount.clone());
                refunds.push(Value::Object(refund));
            }
        }
        data.insert("refunds".into(), Value::Array(refunds));
    }

    /// Maps a session status the target version lacks to its closest
    /// equivalent there, reporting the loss.
    /// A session asking for 3-D Secure that this version cannot carry: sent as
    /// `not_ready_for_payment` without `authentication_metadata`, with the `requires_3ds`
    /// message (a code every version defines) saying why and which version can.
    fn requires_3ds_instead(&mut self, map: &mut Map<String, Value>, why: &str) {
        let content = format!(
            "This purchase needs 3-D Secure authentication, which this API version cannot \
             carry ({why}): use API version 2026-04-17."
        );
        let message = serde_json::json!({"type": "error", "code": "requires_3ds",
            "content_type": "plain", "content": content});
        if let Some(Value::Array(messages)) = map.get_mut("messages") {
            messages.push(message);
        } else {
            map.insert("messages".into(), Value::Array(vec![message]));
        }
        if map.remove("authentication_metadata").is_some() {
            self.lose(
                JsonPath::root().key("authentication_metadata"),
                why.to_owned(),
            );
        }
        map.insert("status".into(), Value::from("not_ready_for_payment"));
        self.lose(
            JsonPath::root().key("status"),
            format!("`authentication_required` sent as `not_ready_for_payment` with a `requires_3ds` message: {why}"),
        );
    }

    fn map_status(&mut self, map: &mut Map<String, Value>, table: &[(&str, &str)]) {
        if !self.document.is_session() {
            return;
        }
        let Some(status) = map.get("status").and_then(Value::as_str) else {
            return;
        };
        if let Some((from, to)) = table.iter().find(|(from, _)| *from == status) {
            let what = format!(
                "status `{from}` does not exist in {}: sent as `{to}`",
                self.version
            );
            map.insert("status".into(), Value::from(*to));
            self.lose(JsonPath::root().key("status"), what);
        }
    }
}

/// The 2025-12-12 fulfillment option amounts and the captions they get as
/// 2026-01-16 totals.
const OPTION_TOTALS: [(&str, &str); 3] =
    [("subtotal", "Subtotal"), ("tax", "Tax"), ("total", "Total")];

/// A 2026-01-16 line item's amounts, the 2026-01-30 `totals` type each
/// becomes and its caption (as in the official 2026-01-30 examples).
const LINE_TOTALS: [(&str, &str, &str); 5] = [
    ("base_amount", "items_base_amount", "Base Amount"),
    ("discount", "discount", "Discount"),
    ("subtotal", "subtotal", "Subtotal"),
    ("tax", "tax", "Tax"),
    ("total", "total", "Total"),
];

/// `path`, a location in a `document` of the version at index `at`, as the
/// location of the same member in the version at index `to` (older): the
/// renamed members map back (`fulfillment_details.address` ↔
/// `fulfillment_address`, `selected_fulfillment_options` ↔
/// `fulfillment_option_id`, a request's `line_items` ↔ `items`, the payment
/// handler ↔ the provider and token); a flattened selection entry maps to
/// the nested entry.
fn path_between(document: Document, at: usize, to: usize, path: &JsonPath) -> JsonPath {
    use crate::parse::json_path::Segment;
    let key = |name: &str| Segment::Key(name.to_owned());
    let mut segments: Vec<Segment> = path.segments().to_vec();
    if at >= 3 && to <= 2 {
        if document.is_request() && segments.first() == Some(&key("line_items")) {
            segments[0] = key("items");
        }
        if document == Document::CompleteRequest && segments.first() == Some(&key("payment_data")) {
            match segments.get(1) {
                Some(Segment::Key(k)) if k == "handler_id" => {
                    segments.truncate(1);
                    segments.push(key("provider"));
                }
                Some(Segment::Key(k)) if k == "instrument" => {
                    segments.truncate(1);
                    segments.push(key("token"));
                }
                _ => {}
            }
        }
        let flattened = matches!(
            segments.get(2),
            Some(Segment::Key(k)) if k == "option_id" || k == "item_ids"
        );
        if segments.first() == Some(&key("selected_fulfillment_options")) && flattened {
            // The nested entry's type is not in the path: the entry itself.
            segments.truncate(2);
        }
    }
    if at >= 1 && to == 0 {
        match segments.first() {
            Some(Segment::Key(k)) if k == "fulfillment_details" => {
                if segments.get(1) == Some(&key("address")) {
                    segments.splice(0..2, [key("fulfillment_address")]);
                } else {
                    segments = vec![key("fulfillment_address")];
                }
            }
            Some(Segment::Key(k)) if k == "selected_fulfillment_options" => {
                segments = vec![key("fulfillment_option_id")];
            }
            _ => {}
        }
    }
    let mut out = JsonPath::root();
    for segment in segments {
        out.push(segment);
    }
    out
}

/// A JSONPath into a 2026-04-17 `document` (as an error's or a message's
/// `param` names it) as the path of the same member in `version`'s
/// `document`, so an agent of that version is pointed at what it sent
/// (CHK-09): for example `$.fulfillment_details.address` is
/// `$.fulfillment_address` in 2025-09-29, and a request's `$.line_items[0]`
/// is `$.items[0]` before 2026-01-30. A path into a member every version
/// shares is unchanged.
///
/// ```
/// use agentic_commerce::parse::json_path::JsonPath;
/// use agentic_commerce::protocol::version::ApiVersion;
/// use agentic_commerce::protocol::version::convert::{Document, path_in};
/// let path = JsonPath::parse("$.fulfillment_details.address.country").unwrap();
/// let old = path_in(&ApiVersion::V2025_09_29, Document::UpdateRequest, &path);
/// assert_eq!(old.to_string(), "$.fulfillment_address.country");
/// ```
pub fn path_in(version: &ApiVersion, document: Document, path: &JsonPath) -> JsonPath {
    let latest = latest_index();
    match ApiVersion::RELEASED.iter().position(|v| v == version) {
        Some(index) => path_between(document, latest, index, path),
        None => path.clone(),
    }
}

/// An ACP checkout `Error` (JSON, as the 2026-04-17 logic built it) in the
/// form an agent of `version` receives, for an error answering a `document`
/// request: its `param` names the member in `version`'s request
/// ([`path_in`]), and members `version`'s `Error` does not define are left
/// out, `supported_versions` (2026-04-17 only) moving into the `message`
/// (VER-03) so the body stays valid for that version's schema. Unchanged for
/// 2026-04-17, an unreleased version or a value that is not an object.
pub fn error_in(version: &ApiVersion, document: Document, error: &Value) -> Value {
    let Some(index) = ApiVersion::RELEASED.iter().position(|v| v == version) else {
        return error.clone();
    };
    let Some(entry) = registry::lookup_in(version, "agentic_checkout.Error") else {
        return error.clone();
    };
    let mut out = error.clone();
    let Value::Object(map) = &mut out else {
        return out;
    };
    if let Some(param) = map.get("param").and_then(Value::as_str) {
        if let Ok(path) = JsonPath::parse(param) {
            let latest = latest_index();
            let mapped = path_between(document, latest, index, &path).to_string();
            map.insert("param".into(), Value::String(mapped));
        }
    }
    let versions = map.get("supported_versions").cloned();
    let mut losses = Vec::new();
    prune(
        &mut out,
        entry.shape(),
        &JsonPath::root(),
        version.as_str(),
        &mut losses,
    );
    if let (Some(Value::Array(list)), Value::Object(map)) = (versions, &mut out) {
        if !map.contains_key("supported_versions") {
            let names: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
            let message = map.get("message").and_then(Value::as_str).unwrap_or("");
            let message = format!("{message} (supported versions: {})", names.join(", "));
            map.insert("message".into(), Value::String(message));
        }
    }
    out
}

/// Rewrites each `messages[].param` of a session downgraded from the version
/// at index `from` to the one at `to` with [`path_between`].
fn session_message_params(value: &mut Value, from: usize, to: usize) {
    let Some(Value::Array(messages)) = value.get_mut("messages") else {
        return;
    };
    for message in messages {
        let Some(param) = message.get("param").and_then(Value::as_str) else {
            continue;
        };
        if let Ok(path) = JsonPath::parse(param) {
            let mapped = path_between(Document::CheckoutSession, from, to, &path).to_string();
            message["param"] = Value::String(mapped);
        }
    }
}

/// The `type` of the fulfillment option `id` in a session's options.
fn option_kind(map: &Map<String, Value>, id: &Value) -> Option<String> {
    map.get("fulfillment_options")?
        .as_array()?
        .iter()
        .find(|o| o.get("id") == Some(id))?
        .get("type")?
        .as_str()
        .map(str::to_owned)
}

/// The ids of a session's line items (or a request's items).
fn item_ids(map: &Map<String, Value>) -> Vec<Value> {
    let list = map
        .get("line_items")
        .or_else(|| map.get("items"))
        .and_then(Value::as_array);
    list.map(|l| l.iter().filter_map(|x| x.get("id").cloned()).collect())
        .unwrap_or_default()
}

fn integral_quantity(item: &mut Value) {
    if let Some(q) = item.get("quantity").and_then(Value::as_f64) {
        if q.fract() == 0.0 && q.abs() < 9.0e15 && !item["quantity"].is_i64() {
            // The guard above keeps the cast exact.
            #[allow(clippy::cast_possible_truncation)]
            let integral = q as i64;
            item["quantity"] = Value::from(integral);
        }
    }
}

/// Removes from `value` what `shape` (a version's schema) does not define and
/// reports each removal. Returns true when the value itself cannot exist in
/// that version (an unknown enum value or union variant): the caller drops it
/// from an array or an optional member.
fn prune(
    value: &mut Value,
    shape: &Shape,
    path: &JsonPath,
    version: &str,
    losses: &mut Vec<LossReport>,
) -> bool {
    match shape.resolve() {
        Shape::Object(object) => {
            let Value::Object(map) = value else {
                return false;
            };
            let keys: Vec<String> = map.keys().cloned().collect();
            // A required member that cannot exist makes the object unable to.
            let mut invalid = false;
            for key in keys {
                let at = path.key(&key);
                let field = object
                    .fields
                    .iter()
                    .find(|f| f.name == key && !object.forbidden.contains(&f.name));
                let child = match (field, &object.additional) {
                    (Some(field), _) => Some(field.shape),
                    (None, Additional::Shape(values)) => Some(*values),
                    (None, Additional::Allowed) => None,
                    (None, _) => {
                        map.remove(&key);
                        losses.push(LossReport {
                            path: at,
                            what: format!("`{key}` does not exist in {version}"),
                        });
                        continue;
                    }
                };
                let Some(child) = child else { continue };
                let drop = map
                    .get_mut(&key)
                    .is_some_and(|member| prune(member, child, &at, version, losses));
                if drop {
                    if field.is_some_and(|f| f.required) {
                        invalid = true;
                    } else {
                        map.remove(&key);
                    }
                }
            }
            invalid
        }
        Shape::Array(array) => {
            let Value::Array(items) = value else {
                return false;
            };
            let mut kept = Vec::with_capacity(items.len());
            for (i, mut item) in std::mem::take(items).into_iter().enumerate() {
                if !prune(&mut item, array.items, &path.index(i), version, losses) {
                    kept.push(item);
                }
            }
            *items = kept;
            false
        }
        Shape::Tagged(tagged) => {
            let tag = value.get(tagged.tag).and_then(Value::as_str).unwrap_or("");
            match tagged.variants.iter().find(|(name, _)| *name == tag) {
                Some((_, variant)) => prune(value, variant, path, version, losses),
                None => {
                    losses.push(LossReport {
                        path: path.clone(),
                        what: format!("`{}: {tag}` does not exist in {version}", tagged.tag),
                    });
                    true
                }
            }
        }
        Shape::String(string) => match (string.values, value.as_str()) {
            (Some(values), Some(text)) if !values.contains(&text) => {
                losses.push(LossReport {
                    path: path.clone(),
                    what: format!("the value `{text}` does not exist in {version}"),
                });
                true
            }
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_sets_grow_with_versions_chk_05() {
        let sizes: Vec<usize> = ApiVersion::RELEASED
            .iter()
            .map(|v| statuses(v).map_or(0, <[_]>::len))
            .collect();
        assert_eq!(sizes, [5, 6, 6, 11, 11]);
        assert!(
            !statuses(&ApiVersion::V2025_09_29)
                .unwrap()
                .contains(&"authentication_required")
        );
        assert!(statuses(&"2027-01-01".parse().unwrap()).is_none());
    }

    #[test]
    fn prune_reports_every_removal() {
        let shape = registry::lookup_in(&ApiVersion::V2025_09_29, "agentic_checkout.Link")
            .unwrap()
            .shape();
        let mut links = Value::Array(vec![
            serde_json::json!({"type": "terms_of_use", "url": "https://a.example/t"}),
            serde_json::json!({"type": "return_policy", "url": "https://a.example/r"}),
        ]);
        let list = Shape::Array(crate::parse::schema::ArrayShape {
            items: shape,
            min_items: None,
            max_items: None,
            unique: false,
        });
        let mut losses = Vec::new();
        prune(
            &mut links,
            &list,
            &JsonPath::root(),
            "2025-09-29",
            &mut losses,
        );
        assert_eq!(links.as_array().map(Vec::len), Some(1));
        let paths: Vec<String> = losses.iter().map(|l| l.path.to_string()).collect();
        assert_eq!(paths, ["$[1].type"]);
    }
}
