//! Capability negotiation (RFC `capability_negotiation`): intersect what the
//! agent declares in a create request with what the seller offers, decide
//! whether they are compatible, and build the `capabilities` object of the
//! session response.
//!
//! # Rules
//!
//! - **NEG-03** `interventions.supported` in the response is agent ∩ seller,
//!   in the seller's order ([`intersect_interventions`]).
//! - **NEG-04** the response declares the seller's payment handlers; when the
//!   agent names handlers (`capabilities.payment.handlers[].name`), only
//!   seller handlers with one of those names are kept
//!   ([`filter_payment_handlers`]). An agent that names none gets the
//!   seller's whole list: the agent's declaration is a preference, never a
//!   security decision (NEG-07, NEG-08).
//! - **EXT-05** the response activates the extensions the agent declared and
//!   the seller has ([`intersect_extensions`]).
//! - **NEG-05** unknown capability values are never rejected: open enums keep
//!   them, and they take part in the intersection by their wire string (a
//!   value both sides declare is shared, even if this crate does not know
//!   it). Extension identifiers that do not parse are ignored and listed in
//!   [`Negotiation::ignored_extensions`].
//! - **NEG-09** compatible iff every `required` intervention is in the
//!   intersection (or none is required) and the interaction depth the seller
//!   expects is at most the agent's `max_interaction_depth`.
//! - **NEG-10 / CHK-24** when incompatible, [`Negotiation::messages`] gives a
//!   `MessageError` with code `intervention_required` and a `param` into the
//!   response capabilities, and [`Negotiation::status`] gives
//!   `not_ready_for_payment`.
//! - **NEG-11** defaults: `max_redirects` 0, `max_interaction_depth` 1,
//!   `enforcement` `conditional`. Request-only fields are never copied into
//!   the response (NEG-12: request capabilities are write-only).
//!
//! # Per API version
//!
//! Capability negotiation exists from 2026-01-30 on: that version added the
//! `capabilities` member to the create request and the session (required on
//! both). [`applies_to`] says whether a version has it and
//! [`negotiate_in`] refuses the versions that do not.
//!
//! | Version | Negotiation |
//! |---|---|
//! | 2025-09-29, 2025-12-12, 2026-01-16 | none: no `capabilities`; the seller's payment provider (`payment_provider`) is fixed, there is nothing to intersect |
//! | 2026-01-30 | everything above; `not_ready_for_payment` exists (the status NEG-10 sets); extension declarations as in 2026-01-30 |
//! | 2026-04-17 | everything above (the Rust types are 2026-04-17's; convert the session with [`crate::protocol::version::convert`] to answer 2026-01-30) |
//!
//! # Enforcement
//!
//! `required` interventions are enforced unless the seller's `enforcement`
//! is `optional`. With `conditional` (the default) the seller may need them
//! depending on risk; the negotiation cannot know the outcome in advance, so
//! it treats them as needed (NEG-07: required interventions are enforced
//! regardless of what the agent declares).

use std::collections::BTreeSet;

use crate::parse::json_path::JsonPath;
use crate::protocol::extensions::ExtensionId;
use crate::spec::common::Extensions;
use crate::spec::latest::agentic_checkout::{
    Capabilities, CheckoutSession, CheckoutStatus, DisclosureContentType, Enforcement, ErrorCode,
    ExtensionDeclaration, InterventionCapabilities, InterventionType, Message, MessageError,
    Payment, PaymentHandler, RequiredIntervention,
};

/// `max_redirects` when the agent does not send it (NEG-11).
pub const DEFAULT_MAX_REDIRECTS: i64 = 0;
/// `max_interaction_depth` when the agent does not send it (NEG-11).
pub const DEFAULT_MAX_INTERACTION_DEPTH: i64 = 1;

/// What the seller offers for a session.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SellerOffer {
    /// Interventions the seller can run, in the order it prefers.
    pub interventions: Vec<InterventionType>,
    /// Interventions the seller requires for this session.
    pub required: Vec<RequiredIntervention>,
    /// When `required` is enforced; `None` means `conditional` (NEG-11).
    pub enforcement: Option<Enforcement>,
    /// How deep the nested interactions the seller expects go (for example
    /// 1 for a 3DS challenge, 2 for a challenge inside a redirect).
    pub expected_interaction_depth: i64,
    /// Payment handlers the seller accepts.
    pub payment_handlers: Vec<PaymentHandler>,
    /// Extensions the seller has, as declared in responses.
    pub extensions: Vec<ExtensionDeclaration>,
}

/// One reason the agent and seller are not compatible (NEG-09).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Incompatibility {
    /// A required intervention is not in the intersection.
    MissingRequiredIntervention {
        /// The intervention.
        intervention: RequiredIntervention,
        /// Its index in the response's `interventions.required`.
        index: usize,
    },
    /// The seller expects deeper nested interactions than the agent handles.
    InteractionDepthExceeded {
        /// Depth the seller expects.
        expected: i64,
        /// The agent's `max_interaction_depth` (default 1).
        max: i64,
    },
}

impl Incompatibility {
    /// The JSONPath, inside the session response, that this problem is
    /// about.
    pub fn param(&self) -> JsonPath {
        let interventions = JsonPath::root().key("capabilities").key("interventions");
        match self {
            Self::MissingRequiredIntervention { index, .. } => {
                interventions.key("required").index(*index)
            }
            Self::InteractionDepthExceeded { .. } => interventions,
        }
    }

    /// A human-readable sentence for the buyer-facing message.
    pub fn describe(&self) -> String {
        match self {
            Self::MissingRequiredIntervention { intervention, .. } => format!(
                "This checkout requires the `{}` intervention, which the agent does not support.",
                intervention.as_str()
            ),
            Self::InteractionDepthExceeded { expected, max } => format!(
                "This checkout needs nested interactions {expected} levels deep; \
                 the agent handles at most {max}."
            ),
        }
    }
}

/// The result of negotiating one session's capabilities.
#[derive(Clone, Debug, PartialEq)]
pub struct Negotiation {
    /// The `capabilities` object to return in the session response.
    pub capabilities: Capabilities,
    /// Why the two sides are incompatible; empty when compatible (NEG-09).
    pub incompatibilities: Vec<Incompatibility>,
    /// Agent extension identifiers that were ignored because they do not
    /// parse (NEG-05: ignored, not rejected).
    pub ignored_extensions: Vec<String>,
}

impl Negotiation {
    /// Whether the agent and seller are compatible (NEG-09).
    pub fn is_compatible(&self) -> bool {
        self.incompatibilities.is_empty()
    }

    /// The session status an incompatible negotiation forces
    /// (`not_ready_for_payment`), or `None` when compatible.
    pub fn status(&self) -> Option<CheckoutStatus> {
        (!self.is_compatible()).then_some(CheckoutStatus::NotReadyForPayment)
    }

    /// The session messages to add: one `intervention_required` error per
    /// incompatibility (NEG-10, CHK-24), each with a `param` that resolves
    /// inside the response's `capabilities`.
    pub fn messages(&self) -> Vec<MessageError> {
        self.incompatibilities
            .iter()
            .map(|problem| {
                let mut message = MessageError::new(
                    ErrorCode::InterventionRequired,
                    DisclosureContentType::Plain,
                    problem.describe(),
                );
                // No `severity`/`resolution`: the buyer cannot resolve an
                // agent capability gap, and the spec assigns none here.
                message.param = Some(problem.param().to_string());
                message
            })
            .collect()
    }
}

impl Negotiation {
    /// Writes the outcome into a session response: replaces its
    /// `capabilities` (NEG-02), and when incompatible sets `status` to
    /// `not_ready_for_payment` and appends the `intervention_required`
    /// messages (NEG-10, CHK-24). A compatible outcome leaves `status` and
    /// `messages` as they are.
    pub fn apply_to(&self, session: &mut CheckoutSession) {
        session.capabilities = self.capabilities.clone();
        if let Some(status) = self.status() {
            session.status = status;
        }
        session
            .messages
            .extend(self.messages().into_iter().map(Message::from));
    }
}

/// The tokenized-card payment handler (`dev.acp.tokenized.card`, version 2026-01-22): cards the
/// agent delegates to the seller's PSP (`psp`) as a scoped token (`requires_delegate_payment`),
/// with `config.merchant_id` naming the merchant the tokens are bound to (DP-10). Add
/// `display_name`, accepted brands and the like to the result as needed.
pub fn tokenized_card_handler(id: &str, psp: &str, merchant_id: &str) -> PaymentHandler {
    const BASE: &str = "https://acp.dev/schemas/handlers/tokenized.card";
    let uri = |text: &str| crate::primitives::Uri::from_trusted(text.to_owned());
    let mut config = serde_json::Map::new();
    config.insert("merchant_id".to_owned(), merchant_id.into());
    config.insert("psp".to_owned(), psp.into());
    PaymentHandler::new(
        id,
        "dev.acp.tokenized.card",
        "2026-01-22",
        uri("https://acp.dev/handlers/tokenized.card"),
        true,
        false,
        psp,
        uri(&format!("{BASE}/config.json")),
        vec![uri(&format!("{BASE}/instrument.json"))],
        config,
    )
}

/// Agent ∩ seller interventions in the seller's order, compared by wire
/// string, without duplicates (NEG-03, NEG-05).
pub fn intersect_interventions(
    agent: &[InterventionType],
    seller: &[InterventionType],
) -> Vec<InterventionType> {
    let agent: BTreeSet<&str> = agent.iter().map(InterventionType::as_str).collect();
    let mut seen = BTreeSet::new();
    seller
        .iter()
        .filter(|v| agent.contains(v.as_str()) && seen.insert(v.as_str()))
        .cloned()
        .collect()
}

/// The seller's handlers, keeping only those whose `name` the agent lists
/// when it lists any (NEG-04). Seller order is kept.
pub fn filter_payment_handlers(
    agent: Option<&Payment>,
    seller: &[PaymentHandler],
) -> Vec<PaymentHandler> {
    let names: BTreeSet<&str> = agent
        .map(|p| p.handlers.iter().map(|h| h.name.as_str()).collect())
        .unwrap_or_default();
    seller
        .iter()
        .filter(|h| names.is_empty() || names.contains(h.name.as_str()))
        .cloned()
        .collect()
}

/// The seller's extension declarations that some agent identifier asks for
/// (EXT-05), in seller order, plus the agent identifiers that were ignored
/// because they do not parse (NEG-05). A seller declaration whose name does
/// not parse is never activated.
pub fn intersect_extensions(
    agent: &[String],
    seller: &[ExtensionDeclaration],
) -> (Vec<ExtensionDeclaration>, Vec<String>) {
    let mut wanted = Vec::new();
    let mut ignored = Vec::new();
    for id in agent {
        match ExtensionId::parse(id) {
            Ok(parsed) => wanted.push(parsed),
            Err(_) => ignored.push(id.clone()),
        }
    }
    let mut seen = BTreeSet::new();
    let active = seller
        .iter()
        .filter(|decl| {
            ExtensionId::parse(&decl.name).is_ok_and(|offered| {
                wanted.iter().any(|w| w.is_satisfied_by(&offered)) && seen.insert(decl.name.clone())
            })
        })
        .cloned()
        .collect();
    (active, ignored)
}

/// The extension identifiers in an agent's `capabilities.extensions`. An
/// agent that (wrongly) sends declarations is read by their names (NEG-06:
/// lenient).
fn agent_extension_ids(agent: &Capabilities) -> Vec<String> {
    match &agent.extensions {
        None => Vec::new(),
        Some(Extensions::Identifiers(ids)) => ids.clone(),
        Some(Extensions::Declarations(decls)) => decls.iter().map(|d| d.name.clone()).collect(),
    }
}

/// Negotiates the capabilities of a session: `agent` is the request's
/// `capabilities`, `seller` what the seller offers.
///
/// The response `capabilities` always has `interventions` (with
/// `supported`, `required` and `enforcement`, NEG-02/NEG-03), `payment` when
/// the seller has handlers, and `extensions` when at least one is active
/// (`extensions: []` is invalid against the official schema, EXT-01).
pub fn negotiate(agent: &Capabilities, seller: &SellerOffer) -> Negotiation {
    let agent_interventions = agent.interventions.as_ref();
    let agent_supported = agent_interventions
        .and_then(|i| i.supported.as_deref())
        .unwrap_or_default();
    let supported = intersect_interventions(agent_supported, &seller.interventions);
    let enforcement = seller
        .enforcement
        .clone()
        .unwrap_or(Enforcement::Conditional);

    let mut incompatibilities = Vec::new();
    if enforcement != Enforcement::Optional {
        let shared: BTreeSet<&str> = supported.iter().map(InterventionType::as_str).collect();
        for (index, required) in seller.required.iter().enumerate() {
            if !shared.contains(required.as_str()) {
                incompatibilities.push(Incompatibility::MissingRequiredIntervention {
                    intervention: required.clone(),
                    index,
                });
            }
        }
    }
    let max = agent_interventions
        .and_then(|i| i.max_interaction_depth)
        .unwrap_or(DEFAULT_MAX_INTERACTION_DEPTH);
    if seller.expected_interaction_depth > max {
        incompatibilities.push(Incompatibility::InteractionDepthExceeded {
            expected: seller.expected_interaction_depth,
            max,
        });
    }

    let mut interventions = InterventionCapabilities::new();
    interventions.supported = Some(supported);
    interventions.required = Some(seller.required.clone());
    interventions.enforcement = Some(enforcement);

    let (active, ignored_extensions) =
        intersect_extensions(&agent_extension_ids(agent), &seller.extensions);

    let mut capabilities = Capabilities::new();
    capabilities.interventions = Some(interventions);
    let handlers = filter_payment_handlers(agent.payment.as_ref(), &seller.payment_handlers);
    if !seller.payment_handlers.is_empty() {
        capabilities.payment = Some(Payment::new(handlers));
    }
    if !active.is_empty() {
        capabilities.extensions = Some(Extensions::Declarations(active));
    }
    Negotiation {
        capabilities,
        incompatibilities,
        ignored_extensions,
    }
}

/// Whether capability negotiation exists in API `version` (2026-01-30 and
/// later: the versions whose session has `capabilities`).
pub fn applies_to(version: &crate::protocol::version::ApiVersion) -> bool {
    crate::parse::registry::lookup_in(version, "agentic_checkout.Capabilities").is_some()
}

/// Why [`negotiate_in`] cannot negotiate.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotNegotiable {
    /// A version this crate has no models for.
    #[error("API version {0} is not a released version this crate models")]
    UnsupportedVersion(String),
    /// The version predates capability negotiation (before 2026-01-30).
    #[error("API version {0} has no capability negotiation (it began in 2026-01-30)")]
    NoCapabilities(String),
}

/// [`negotiate`] for a session served in API `version`: refuses the versions
/// without capability negotiation, and checks that the status an
/// incompatible outcome sets ([`Negotiation::status`],
/// `not_ready_for_payment`) exists in that version (CHK-05).
///
/// # Errors
/// [`NotNegotiable`].
pub fn negotiate_in(
    version: &crate::protocol::version::ApiVersion,
    agent: &Capabilities,
    seller: &SellerOffer,
) -> Result<Negotiation, NotNegotiable> {
    let statuses = crate::protocol::version::convert::statuses(version)
        .ok_or_else(|| NotNegotiable::UnsupportedVersion(version.to_string()))?;
    if !applies_to(version) {
        return Err(NotNegotiable::NoCapabilities(version.to_string()));
    }
    let negotiation = negotiate(agent, seller);
    // Every version with capabilities defines it; checked so a future
    // version that dropped it cannot get a status it lacks.
    if !statuses.contains(&CheckoutStatus::NotReadyForPayment.as_str()) {
        return Err(NotNegotiable::UnsupportedVersion(version.to_string()));
    }
    Ok(negotiation)
}

/// The agent's `max_redirects`, defaulting to 0 (NEG-11).
pub fn max_redirects(agent: &Capabilities) -> i64 {
    agent
        .interventions
        .as_ref()
        .and_then(|i| i.max_redirects)
        .unwrap_or(DEFAULT_MAX_REDIRECTS)
}

/// The agent's `max_interaction_depth`, defaulting to 1 (NEG-11).
pub fn max_interaction_depth(agent: &Capabilities) -> i64 {
    agent
        .interventions
        .as_ref()
        .and_then(|i| i.max_interaction_depth)
        .unwrap_or(DEFAULT_MAX_INTERACTION_DEPTH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn caps(v: serde_json::Value) -> Capabilities {
        serde_json::from_value(v).unwrap()
    }

    fn handler(id: &str, name: &str) -> PaymentHandler {
        serde_json::from_value(json!({
            "id": id, "name": name, "version": "2026-01-22",
            "spec": "https://acp.dev/h", "requires_delegate_payment": true,
            "requires_pci_compliance": false, "psp": "stripe",
            "config_schema": "https://acp.dev/c.json",
            "instrument_schemas": ["https://acp.dev/i.json"],
            "config": {"merchant_id": "acct_1", "psp": "stripe"}
        }))
        .unwrap()
    }

    fn iv(values: &[&str]) -> Vec<InterventionType> {
        values.iter().map(|v| InterventionType::from(*v)).collect()
    }

    fn seller() -> SellerOffer {
        SellerOffer {
            interventions: iv(&["address_verification", "3ds", "biometric"]),
            required: vec![RequiredIntervention::V3ds],
            enforcement: None,
            expected_interaction_depth: 1,
            payment_handlers: vec![
                handler("card", "dev.acp.tokenized.card"),
                handler("saved", "dev.acp.seller_backed.saved_card"),
            ],
            extensions: vec![
                ExtensionDeclaration::new("discount"),
                ExtensionDeclaration::new("com.example.loyalty@2026-01-01"),
            ],
        }
    }

    #[test]
    fn neg03_supported_is_the_intersection_in_seller_order() {
        let agent = caps(json!({"interventions":{"supported":["biometric","3ds","face_scan"]}}));
        let n = negotiate(&agent, &seller());
        let i = n.capabilities.interventions.as_ref().unwrap();
        assert_eq!(i.supported.as_deref().unwrap(), iv(&["3ds", "biometric"]));
        assert_eq!(i.required.as_deref().unwrap(), [RequiredIntervention::V3ds]);
        assert_eq!(i.enforcement, Some(Enforcement::Conditional));
        // Request-only fields never reach the response (NEG-12).
        assert_eq!(i.max_interaction_depth, None);
        assert!(n.is_compatible());
        assert_eq!(n.status(), None);
        assert!(n.messages().is_empty());
    }

    #[test]
    fn neg05_unknown_values_are_kept_and_shared_when_both_sides_list_them() {
        let agent = caps(json!({"interventions":{"supported":["face_scan","3ds"]}}));
        let mut offer = seller();
        offer
            .interventions
            .push(InterventionType::from("face_scan"));
        let n = negotiate(&agent, &offer);
        let supported = n.capabilities.interventions.unwrap().supported.unwrap();
        assert_eq!(supported, iv(&["3ds", "face_scan"]));
        assert!(!supported[1].is_known());
    }

    #[test]
    fn neg09_missing_required_intervention_is_incompatible_with_message() {
        let agent = caps(json!({"interventions":{"supported":[]}}));
        let n = negotiate(&agent, &seller());
        assert!(!n.is_compatible());
        assert_eq!(
            n.incompatibilities,
            [Incompatibility::MissingRequiredIntervention {
                intervention: RequiredIntervention::V3ds,
                index: 0
            }]
        );
        assert_eq!(n.status(), Some(CheckoutStatus::NotReadyForPayment));
        let messages = n.messages();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].code, ErrorCode::InterventionRequired);
        let param = messages[0].param.clone().unwrap();
        assert_eq!(param, "$.capabilities.interventions.required[0]");
        // The param resolves inside a response carrying these capabilities.
        let session = json!({"capabilities": serde_json::to_value(&n.capabilities).unwrap()});
        let resolved = JsonPath::parse(&param).unwrap().resolve(&session).cloned();
        assert_eq!(resolved, Some(json!("3ds")));
        let wire = serde_json::to_value(&messages[0]).unwrap();
        assert_eq!(wire["type"], "error");
        assert_eq!(wire["code"], "intervention_required");
    }

    #[test]
    fn neg02_apply_to_sets_capabilities_and_only_blocks_when_incompatible() {
        let mut session: CheckoutSession = serde_json::from_value(json!({
            "id": "cs", "capabilities": {}, "status": "ready_for_payment", "currency": "usd",
            "line_items": [], "fulfillment_options": [], "totals": [], "messages": [], "links": []
        }))
        .unwrap();
        let ok = negotiate(
            &caps(json!({"interventions":{"supported":["3ds"]}})),
            &seller(),
        );
        ok.apply_to(&mut session);
        assert_eq!(session.status, CheckoutStatus::ReadyForPayment);
        assert!(session.messages.is_empty());
        assert_eq!(session.capabilities, ok.capabilities);
        let bad = negotiate(&Capabilities::new(), &seller());
        bad.apply_to(&mut session);
        assert_eq!(session.status, CheckoutStatus::NotReadyForPayment);
        assert_eq!(session.messages.len(), 1);
        assert_eq!(session.messages[0].kind(), "error");
    }

    #[test]
    fn neg09_optional_enforcement_does_not_block() {
        let agent = caps(json!({"interventions":{"supported":[]}}));
        let mut offer = seller();
        offer.enforcement = Some(Enforcement::Optional);
        let n = negotiate(&agent, &offer);
        assert!(n.is_compatible());
        let always = SellerOffer {
            enforcement: Some(Enforcement::Always),
            ..seller()
        };
        assert!(!negotiate(&agent, &always).is_compatible());
    }

    #[test]
    fn neg09_neg11_interaction_depth_defaults_to_one() {
        let mut offer = seller();
        offer.required.clear();
        offer.expected_interaction_depth = 2;
        let agent = caps(json!({"interventions":{"supported":["3ds"]}}));
        assert_eq!(max_interaction_depth(&agent), 1);
        assert_eq!(max_redirects(&agent), 0);
        let n = negotiate(&agent, &offer);
        assert_eq!(
            n.incompatibilities,
            [Incompatibility::InteractionDepthExceeded {
                expected: 2,
                max: 1
            }]
        );
        assert_eq!(
            n.messages()[0].param.as_deref(),
            Some("$.capabilities.interventions")
        );
        let deep = caps(json!({"interventions":{"supported":["3ds"],"max_interaction_depth":2}}));
        assert!(negotiate(&deep, &offer).is_compatible());
        // No capabilities at all: depth 1 still applies.
        offer.expected_interaction_depth = 1;
        assert!(negotiate(&Capabilities::new(), &offer).is_compatible());
    }

    #[test]
    fn neg04_handlers_filtered_by_agent_names_else_all() {
        let n = negotiate(&Capabilities::new(), &seller());
        let names: Vec<_> = n
            .capabilities
            .payment
            .unwrap()
            .handlers
            .into_iter()
            .map(|h| h.id.0)
            .collect();
        assert_eq!(names, ["card", "saved"]);
        let agent = Capabilities {
            payment: Some(Payment::new(vec![handler(
                "x",
                "dev.acp.seller_backed.saved_card",
            )])),
            ..Capabilities::new()
        };
        let n = negotiate(&agent, &seller());
        let names: Vec<_> = n
            .capabilities
            .payment
            .unwrap()
            .handlers
            .into_iter()
            .map(|h| h.id.0)
            .collect();
        assert_eq!(names, ["saved"]);
        let none = SellerOffer {
            payment_handlers: vec![],
            ..seller()
        };
        assert!(negotiate(&agent, &none).capabilities.payment.is_none());
    }

    #[test]
    fn ext05_extensions_activated_when_both_sides_have_them() {
        let agent =
            caps(json!({"extensions":["discount@2026-01-27","com.example.loyalty","Bad Name"]}));
        let n = negotiate(&agent, &seller());
        match n.capabilities.extensions {
            Some(Extensions::Declarations(d)) => {
                let names: Vec<_> = d.iter().map(|d| d.name.as_str()).collect();
                assert_eq!(names, ["discount", "com.example.loyalty@2026-01-01"]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(n.ignored_extensions, ["Bad Name"]);
        let none = negotiate(&caps(json!({"extensions":["other"]})), &seller());
        assert!(none.capabilities.extensions.is_none());
        let pinned = negotiate(
            &caps(json!({"extensions":["com.example.loyalty@2025-01-01"]})),
            &seller(),
        );
        assert!(pinned.capabilities.extensions.is_none());
    }

    #[test]
    fn neg03_official_example_capabilities_round_trip() {
        // The official create response: supported [3ds, address_verification].
        let agent = caps(
            json!({"interventions":{"supported":["3ds","address_verification"],
            "display_context":"native","max_redirects":1,"max_interaction_depth":2}}),
        );
        let offer = SellerOffer {
            interventions: iv(&["3ds", "address_verification", "biometric"]),
            required: vec![],
            ..SellerOffer::default()
        };
        let n = negotiate(&agent, &offer);
        assert_eq!(
            serde_json::to_value(&n.capabilities).unwrap(),
            json!({"interventions":{"supported":["3ds","address_verification"],"required":[],"enforcement":"conditional"}})
        );
        assert_eq!(max_redirects(&agent), 1);
    }

    fn values() -> impl Strategy<Value = Vec<InterventionType>> {
        proptest::collection::vec(
            prop_oneof![
                Just("3ds".to_owned()),
                Just("biometric".to_owned()),
                Just("address_verification".to_owned()),
                "[a-z_]{1,6}",
            ],
            0..8,
        )
        .prop_map(|v| {
            v.iter()
                .map(|s| InterventionType::from(s.as_str()))
                .collect()
        })
    }

    fn set(v: &[InterventionType]) -> BTreeSet<String> {
        v.iter().map(|x| x.as_str().to_owned()).collect()
    }

    proptest! {
        #[test]
        fn neg03_intersection_is_commutative_in_membership(a in values(), b in values()) {
            prop_assert_eq!(set(&intersect_interventions(&a, &b)), set(&intersect_interventions(&b, &a)));
        }

        #[test]
        fn neg03_intersection_is_idempotent(a in values(), b in values()) {
            let once = intersect_interventions(&a, &b);
            prop_assert_eq!(&intersect_interventions(&once, &b), &once);
            prop_assert_eq!(&intersect_interventions(&a, &once), &once);
            prop_assert_eq!(set(&intersect_interventions(&a, &a)), set(&a));
        }

        #[test]
        fn neg03_intersection_never_invents_values(a in values(), b in values()) {
            let out = intersect_interventions(&a, &b);
            let (sa, sb) = (set(&a), set(&b));
            for v in &out {
                prop_assert!(sa.contains(v.as_str()) && sb.contains(v.as_str()));
            }
            prop_assert_eq!(set(&out), sa.intersection(&sb).cloned().collect::<BTreeSet<_>>());
            prop_assert_eq!(set(&out).len(), out.len());
        }

        #[test]
        fn neg09_compatible_iff_required_subset_of_intersection(
            a in values(), s in values(), r in values(), depth in 0i64..4, max in proptest::option::of(0i64..4)
        ) {
            let mut agent = InterventionCapabilities::new();
            agent.supported = Some(a.clone());
            agent.max_interaction_depth = max;
            let agent = Capabilities { interventions: Some(agent), ..Capabilities::new() };
            let offer = SellerOffer {
                interventions: s.clone(),
                required: r.iter().map(|x| RequiredIntervention::from(x.as_str())).collect(),
                expected_interaction_depth: depth,
                ..SellerOffer::default()
            };
            let n = negotiate(&agent, &offer);
            let shared = set(&intersect_interventions(&a, &s));
            let expected = set(&r).is_subset(&shared) && depth <= max.unwrap_or(1);
            prop_assert_eq!(n.is_compatible(), expected);
            prop_assert_eq!(n.messages().len(), n.incompatibilities.len());
        }
    }

    #[test]
    fn the_tokenized_card_handler_is_a_valid_2026_04_17_handler() {
        let handler = tokenized_card_handler("card", "stripe", "acct_1");
        let value = serde_json::to_value(&handler).unwrap();
        crate::parse::from_value_strict::<PaymentHandler>(&value).unwrap();
        assert_eq!(value["config"]["merchant_id"], "acct_1");
        assert_eq!(value["requires_delegate_payment"], true);
        for uri in [&handler.spec, &handler.config_schema] {
            crate::primitives::Uri::parse(uri.as_str()).unwrap();
        }
    }
}
