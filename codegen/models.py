#!/usr/bin/env python3
"""Generates the Rust wire models of every released ACP spec version from the
official JSON Schemas and OpenAPI files.

Usage: python3 codegen/models.py [--spec DIR] [--check]

DIR is a checkout of the official spec repository's files (default:
$ACP_SPEC_DIR, else ../shared/acp-spec). With --check nothing is written; the
exit code is 1 when the committed files differ from what would be generated
(CI runs this when the spec folder is present).

The versions are discovered, not listed: every `DIR/spec/<YYYY-MM-DD>/` folder
is a released version (anything else there, such as `unreleased`, is ignored
unless `--unreleased-as YYYY-MM-DD` names the date to generate it under). Every
version gets a module `src/spec/vYYYY_MM_DD.rs` with one submodule per bundle
that version has, and `src/spec.rs` lists them all: the module declarations,
`ApiVersion`'s released constants and `ApiVersion::RELEASED`, and the
per-version tables of the registry (`registry::types_for`, hence `acp types`,
`acp validate --api-version` and strict validation) and of the checkout
statuses. `src/spec/patterns.rs` holds each distinct schema `pattern` once.
The working model, `src/spec/latest.rs`, is hand-written: see CONTRIBUTING.md.

Versions are generated oldest first. A type whose exact structure (members,
Rust types and shape) already exists in an older version is not defined
again: the newer version re-exports it (`pub use super::super::vOLD::...`), so
a type unchanged between versions is one Rust type.

The generator mirrors each schema exactly in a static `Shape` (used by strict
validation and by the property tests) and maps it onto idiomatic Rust types:
integer money fields become `Amount`, currencies `Currency`, ids opaque
newtypes, date-times `Timestamp`, `format: uri` strings `Uri` (the text kept
byte for byte, never normalized as `url::Url` would), card data `Sensitive`,
every string enum an open enum, and tagged `oneOf`s Rust enums. The tables below
hold the few decisions a schema cannot express (names of inline types, which
integers are money, which strings are ids or secrets).
"""

import argparse
import json
import os
import re
import sys

import yaml

VERSION_DIR = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# The path of `ApiVersion` that src/spec.rs implements the released constants on.
API_VERSION_PATH = "crate::protocol::version::ApiVersion"
VERSION = None  # the version being generated (set by Gen)
MOD = None

# Structures already defined by an older version: signature -> type info.
SHARED = {}

# Bundles in the order their types get a home module (first definer wins).
BUNDLES = [
    "agentic_checkout",
    "cart",
    "delegate_payment",
    "delegate_authentication",
    "discount",
    "extension",
    "feed",
]
# Bundles drawn from OpenAPI components rather than a JSON Schema file.
OAS_BUNDLES = {"agentic_checkout_webhook": "openapi.agentic_checkout_webhook.yaml"}

MONEY_FIELDS = {
    "amount", "amount_off", "charge", "max_amount", "presentment_amount",
    "subtotal", "unit_amount", "unit_price",
}
MONEY_OVERRIDES = {("delegate_authentication", "Amount", "value"): True}

ID_FIELDS = {
    ("CheckoutSession", "id"): "CheckoutSessionId",
    ("CheckoutSessionWithOrder", "id"): "CheckoutSessionId",
    ("CheckoutWithDiscount", "id"): "CheckoutSessionId",
    ("Order", "id"): "OrderId",
    ("Order", "checkout_session_id"): "CheckoutSessionId",
    ("EventDataOrder", "checkout_session_id"): "CheckoutSessionId",
    ("LineItem", "id"): "LineItemId",
    ("Item", "id"): "ItemId",
    ("PaymentHandler", "id"): "PaymentHandlerId",
    ("PaymentData", "handler_id"): "PaymentHandlerId",
    ("FulfillmentOptionShipping", "id"): "FulfillmentOptionId",
    ("FulfillmentOptionDigital", "id"): "FulfillmentOptionId",
    ("FulfillmentOptionPickup", "id"): "FulfillmentOptionId",
    ("FulfillmentOptionLocalDelivery", "id"): "FulfillmentOptionId",
    ("SelectedFulfillmentOption", "option_id"): "FulfillmentOptionId",
    ("Allowance", "checkout_session_id"): "CheckoutSessionId",
    ("Allowance", "merchant_id"): "MerchantId",
    ("DelegatePaymentResponse", "id"): "PaymentTokenId",
    ("DelegateAuthenticationCreateRequest", "merchant_id"): "MerchantId",
    ("DelegateAuthenticationCreateRequest", "checkout_session_id"): "CheckoutSessionId",
    ("DelegateAuthenticationAuthenticateRequest", "checkout_session_id"): "CheckoutSessionId",
    ("DelegateAuthenticationSession", "authentication_session_id"): "AuthenticationSessionId",
    ("DelegateAuthenticationSessionWithResult", "authentication_session_id"): "AuthenticationSessionId",
    ("WebhookOrder", "id"): "OrderId",
    ("EventDataOrder", "id"): "OrderId",
    ("CheckoutSessionCompleteRequest", "handler_id"): "PaymentHandlerId",
    ("Cart", "id"): "CartId",
    ("FeedMetadata", "id"): "FeedId",
    ("Product", "id"): "ProductId",
    ("Variant", "id"): "VariantId",
    # Older versions.
    ("CheckoutSession", "fulfillment_option_id"): "FulfillmentOptionId",
    ("CheckoutSessionWithOrder", "fulfillment_option_id"): "FulfillmentOptionId",
    ("CheckoutSessionUpdateRequest", "fulfillment_option_id"): "FulfillmentOptionId",
    ("SelectedShippingFulfillmentOption", "option_id"): "FulfillmentOptionId",
    ("SelectedDigitalFulfillmentOption", "option_id"): "FulfillmentOptionId",
}

# Card data and secrets, typed `Sensitive` (redacted in `Debug`, DP-19). Keyed
# by what cannot drift: (bundle, schema path, member), where the schema path is
# the official `$defs` name, followed by `.member` for each inline object on
# the way (`PaymentData.instrument.credential`). Never by Rust names, which
# renames and clash qualification change (`delegate_authentication:
# PaymentMethod` is `AuthenticationPaymentMethod` in Rust). An entry that no
# schema of any version has any more is an error, and `tests/sensitive_debug.rs`
# fails on any card/secret member left a plain `String`.
SENSITIVE_FIELDS = {
    ("delegate_payment", "PaymentMethodCard", "number"),
    ("delegate_payment", "PaymentMethodCard", "cvc"),
    ("delegate_payment", "PaymentMethodCard", "cryptogram"),
    ("delegate_authentication", "PaymentMethod", "number"),
    ("delegate_authentication", "AuthenticationResult", "three_ds_cryptogram"),
    ("delegate_authentication", "AuthenticationResult", "authentication_value"),
    ("agentic_checkout", "AuthenticationResult.outcome_details", "three_ds_cryptogram"),
    ("agentic_checkout", "PaymentData", "token"),
    ("agentic_checkout", "PaymentData.instrument.credential", "token"),
    ("agentic_checkout", "AffiliateAttribution", "token"),
}
SENSITIVE_USED = set()

# Names for inline (anonymous) objects and enums, keyed by "Owner.field".
INLINE_NAMES = {
    "CheckoutSession.status": "CheckoutStatus",
    "Total.type": "TotalType",
    "Link.type": "LinkType",
    "MessageInfo.content_type": "ContentType",
    "MessageInfo.severity": "MessageSeverity",
    "MessageInfo.resolution": "MessageResolution",
    "MessageWarning.code": "WarningCode",
    "MessageError.code": "ErrorCode",
    "Error.type": "ErrorType",
    "PaymentData.instrument": "PaymentInstrument",
    "PaymentInstrument.credential": "PaymentCredential",
    "PaymentData.payment_terms": "PaymentTerms",
    "FulfillmentOptionPickup.location": "PickupLocation",
    "FulfillmentOptionPickup.pickup_type": "PickupType",
    "FulfillmentOptionLocalDelivery.delivery_window": "DeliveryWindow",
    "FulfillmentOptionLocalDelivery.service_area": "ServiceArea",
    "SelectedFulfillmentOption.type": "FulfillmentType",
    "FulfillmentGroup.destination_type": "DestinationType",
    "Fulfillment.digital_delivery": "DigitalDelivery",
    "Fulfillment.type": "FulfillmentMethod",
    "AuthenticationMetadata.acquirer_details": "AcquirerDetails",
    "AuthenticationMetadata.directory_server": "DirectoryServer",
    "AuthenticationMetadata.flow_preference": "AuthenticationFlowPreference",
    "AuthenticationFlowPreference.type": "FlowType",
    "AuthenticationFlowPreference.challenge": "ChallengePreference",
    "AuthenticationFlowPreference.frictionless": "FrictionlessPreference",
    "ChallengePreference.type": "ChallengeType",
    "FrictionlessPreference.type": "FrictionlessType",
    "AuthenticationResult.outcome": "AuthenticationOutcome",
    "AuthenticationResult.outcome_details": "AuthenticationOutcomeDetails",
    "AuthenticationOutcomeDetails.electronic_commerce_indicator": "ElectronicCommerceIndicator",
    "IntentTrace.reason_code": "IntentReasonCode",
    "IntentTrace.metadata": "IntentTraceMetadata",
    "Buyer.account_type": "AccountType",
    "Buyer.authentication_status": "BuyerAuthenticationStatus",
    "TaxExemption.certificate_type": "CertificateType",
    "AffiliateAttribution.touchpoint": "Touchpoint",
    "AffiliateAttributionSource.type": "AttributionSourceType",
    "InterventionCapabilities.supported": "InterventionType",
    "InterventionCapabilities.required": "RequiredIntervention",
    "InterventionCapabilities.enforcement": "Enforcement",
    "InterventionCapabilities.display_context": "DisplayContext",
    "InterventionCapabilities.redirect_context": "RedirectContext",
    "LineItem.availability_status": "AvailabilityStatus",
    "WeightInfo.unit": "WeightUnit",
    "DimensionsInfo.unit": "DimensionUnit",
    "DiscountDetail.type": "DiscountDetailType",
    "DiscountDetail.source": "DiscountSource",
    "Disclosure.type": "DisclosureType",
    "Coupon.duration": "CouponDuration",
    "AppliedDiscount.method": "DiscountMethod",
    "GiftWrap.style": "GiftWrapStyle",
    "PaymentMethodObject.brands": "CardBrand",
    "PaymentMethodObject.funding_types": "FundingType",
    "DiscoveryResponse.transports": "Transport",
    "DiscoveryCapabilities.services": "DiscoveryService",
    "DiscoveryCapabilities.intervention_types": "InterventionType",
    "PaymentMethodCard.card_number_type": "CardNumberType",
    "PaymentMethodCard.display_card_funding_type": "FundingType",
    "PaymentMethodCard.checks_performed": "CardCheck",
    "Allowance.reason": "AllowanceReason",
    "RiskSignal.type": "RiskSignalType",
    "RiskSignal.action": "RiskAction",
    "PaymentMethod.type": "PaymentMethodType",
    "Channel.type": "ChannelType",
    "FlowPreference.challenge": "DelegateChallengePreference",
    "FlowPreference.frictionless": "DelegateFrictionlessPreference",
    "Action.type": "ActionType",
    "DelegateAuthenticationSession.status": "AuthenticationSessionStatus",
    "DelegateAuthenticationCreateRequest.acquirer_details": "DelegateAcquirerDetails",
    "DelegateAuthenticationAuthenticateRequest.fingerprint_completion": "FingerprintCompletion",
    "ExtensionMetadata.status": "ExtensionStatus",
    "CoreExtensions.discount": "DiscountExtensionMetadata",
    "UnitPrice.measure": "Measure",
    "UnitPrice.reference": "ReferenceMeasure",
    "OrderEventsResponse": "OrderEventsResponse",
    "delegate_payment:DelegatePaymentError.type": "DelegatePaymentErrorType",
    "delegate_payment:DelegatePaymentError.code": "DelegatePaymentErrorCode",
    "delegate_authentication:DelegateAuthenticationError.type": "DelegatePaymentErrorType",
    "delegate_authentication:DelegateAuthenticationError.code": "DelegateAuthenticationErrorCode",
    "agentic_checkout_webhook:WebhookError.type": "ErrorType",
    "feed:Availability.status": "FeedAvailabilityStatus",
    # Older versions (2025-09-29 .. 2026-01-16).
    "PaymentProvider.provider": "PaymentProviderName",
    "PaymentData.provider": "PaymentProviderName",
    "PaymentProvider.supported_payment_methods": "PaymentMethodType",
    "PaymentMethod.supported_card_networks": "CardNetwork",
    "AuthenticationProvider.provider": "AuthenticationProviderName",
    "AuthenticationProvider.supported_authentication_methods": "AuthenticationMethod",
    "AuthenticationMetadata.channel": "AuthenticationChannel",
    "AuthenticationChannel.type": "AuthenticationChannelType",
    "AuthenticationChannel.browser": "BrowserInfo",
    "EventDataOrder.status": "OrderStatus",
    "Refund.type": "RefundType",
    "WebhookEvent.type": "WebhookEventType",
}

# Rust names for defs whose $defs name is taken or unclear, keyed by
# "bundle:Def" or "Def".
DEF_RENAMES = {
    "CheckoutSessionBase": "CheckoutSession",
    "DelegateAuthenticationSessionBase": "DelegateAuthenticationSession",
    "delegate_payment:Address": "BillingAddress",
    "delegate_authentication:Amount": "AuthenticationAmount",
    "delegate_payment:Error": "DelegatePaymentError",
    "delegate_authentication:Error": "DelegateAuthenticationError",
    "delegate_authentication:AuthenticationResult": "DelegateAuthenticationResult",
    "delegate_authentication:PaymentMethod": "AuthenticationPaymentMethod",
    "feed:Error": "FeedError",
    "feed:Link": "FeedLink",
    "extension:extension_declaration": "ExtensionDeclarationEntry",
    "agentic_checkout_webhook:Error": "WebhookError",
    "oas_checkout:Order": "WebhookOrder",
    "oas_checkout:OrderConfirmation": "WebhookOrderConfirmation",
    "oas_checkout:Address": "WebhookAddress",
    "oas_checkout:Fulfillment": "WebhookFulfillment",
}

# Rust field names for wire names that are keywords.
FIELD_RENAMES = {"type": "kind", "ref": "reference", "match": "matches", "virtual": "is_virtual"}

# Named defs that map to hand-written types in `spec::common`.
HANDWRITTEN = {
    ("agentic_checkout", "AffiliateAttributionMetadata"): None,
}

# OpenAPI-only bodies added to a bundle: (bundle, name, file, pointer).
OAS_EXTRA = [
    ("feed", "UpsertProductsResponse", "openapi.feed.yaml", ["components", "schemas", "UpsertProductsResponse"]),
    ("agentic_checkout_webhook", "OrderEventsResponse", "openapi.agentic_checkout_webhook.yaml",
     ["paths", "/agentic_checkout/webhooks/order_events", "post", "responses", "200", "content", "application/json", "schema"]),
    ("cart", "CartCancelRequest", "openapi.cart.yaml",
     ["paths", "/carts/{id}/cancel", "post", "requestBody", "content", "application/json", "schema"]),
]

BUNDLE_DOCS = {
    "agentic_checkout": "Checkout sessions, orders, payment handlers, discounts, discovery (`schema.agentic_checkout.json`).",
    "cart": "Carts (`schema.cart.json`, plus the cancel body of `openapi.cart.yaml`).",
    "delegate_payment": "Delegated payment tokens (`schema.delegate_payment.json`).",
    "delegate_authentication": "Delegated 3-D Secure authentication (`schema.delegate_authentication.json`).",
    "discount": "The discount extension's standalone schema (`schema.discount.json`). Its types are the checkout discount types, re-exported.",
    "extension": "The extension framework (`schema.extension.json`).",
    "feed": "Agent-hosted product feeds (`schema.feed.json`, plus `UpsertProductsResponse` from `openapi.feed.yaml`).",
    "agentic_checkout_webhook": "Order webhooks (`openapi.agentic_checkout_webhook.yaml` components and 200 body).",
}


def pascal(name):
    if re.match(r"^[A-Z]", name) and "_" not in name:
        return name
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[_\-]", name) if p)


def snake_upper(name):
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    return s.upper()


def rust_doc(text, indent=""):
    if not text:
        return []
    out = []
    for line in str(text).strip().splitlines():
        line = line.rstrip().replace("\t", "    ")
        # Schema prose is plain text: keep rustdoc from reading it as links or HTML.
        parts = re.split(r"(`[^`]*`)", line)
        for i in range(0, len(parts), 2):
            p = parts[i].replace("[", "\\[").replace("]", "\\]").replace("<", "\\<").replace(">", "\\>")
            parts[i] = re.sub(r"(https?://[^\s)\\,]+[^\s)\\,.])", r"<\1>", p)
        line = "".join(parts)
        out.append(f"{indent}/// {line}".rstrip())
    return out


def rust_str(s):
    return json.dumps(s, ensure_ascii=False)


class Gen:
    def __init__(self, spec_dir, version, folder=None):
        global VERSION, MOD
        VERSION = version
        MOD = "v" + version.replace("-", "_")
        self.spec_dir = spec_dir
        self.base = os.path.join(spec_dir, "spec", folder or VERSION)
        self.docs = {}
        self.bundles = {}
        for b in BUNDLES:
            if not os.path.exists(os.path.join(self.base, "json-schema", f"schema.{b}.json")):
                continue
            with open(os.path.join(self.base, "json-schema", f"schema.{b}.json")) as f:
                self.docs[b] = json.load(f)
            self.bundles[b] = self.docs[b]["$defs"]
        self.oas = {}
        for b, fname in OAS_BUNDLES.items():
            with open(os.path.join(self.base, "openapi", fname)) as f:
                doc = yaml.safe_load(f)
            self.oas[fname] = doc
            self.bundles[b] = dict(doc["components"]["schemas"])
        for bundle, name, fname, pointer in OAS_EXTRA:
            if bundle not in self.bundles:
                continue
            if fname not in self.oas:
                with open(os.path.join(self.base, "openapi", fname)) as f:
                    self.oas[fname] = yaml.safe_load(f)
            node = self.oas[fname]
            for p in pointer:
                node = node[p]
            self.bundles[bundle][name] = node
        with open(os.path.join(self.base, "openapi", "openapi.agentic_checkout.yaml")) as f:
            self.pseudo = {"oas_checkout": yaml.safe_load(f)["components"]["schemas"]}
        # Output state.
        self.types = {}  # rust name -> dict(kind, module, code, sig, doc ...)
        self.order = []  # rust names in definition order
        self.def_map = {}  # (bundle, def) -> rust name
        self.registry = []  # (bundle, def, rust name, shape static, has_wiretype)
        self.sig_index = {}  # signature -> rust name
        # Schema paths of the structs being defined, innermost last (see SENSITIVE_FIELDS).
        self.schema_path = []
        self.inline_path = None
        self.statics = {}  # module -> list of static code
        self.module_items = {b: [] for b in self.bundles}  # rust names defined per module
        self.reexports = {b: set() for b in self.bundles}
        # Types an older version defines, re-exported: module -> [(local name, older path)].
        self.older = {b: [] for b in self.bundles}

    @staticmethod
    def home(bundle):
        """The module that holds types first defined while reading `bundle`."""
        return "agentic_checkout_webhook" if bundle == "oas_checkout" else bundle

    # ----- references -------------------------------------------------------
    def resolve_ref(self, ref, bundle):
        if ref.startswith("#/components/schemas/"):
            return bundle, ref.split("/")[-1]
        if ref.startswith("#/$defs/"):
            return bundle, ref.split("/")[-1]
        m = re.match(r"^(?:\./)?(?:\.\./json-schema/)?schema\.(\w+)\.json#/\$defs/(\w+)$", ref)
        if m:
            return m.group(1), m.group(2)
        m = re.match(r"^\./openapi\.agentic_checkout\.yaml#/components/schemas/(\w+)$", ref)
        if m:
            # The webhook's Order is the checkout OpenAPI file's Order, which
            # differs from the JSON Schema's (no `client_reference_id`).
            return "oas_checkout", m.group(1)
        raise SystemExit(f"unknown $ref {ref} in {bundle}")

    def def_schema(self, bundle, name):
        if bundle in self.pseudo:
            return self.pseudo[bundle][name]
        return self.bundles[bundle][name]

    # ----- merging allOf ----------------------------------------------------
    def flatten(self, schema, bundle):
        """Returns (object schema with merged properties, forbidden list, bundle of props)."""
        if "allOf" not in schema:
            return schema, []
        props, required, forbidden = {}, list(schema.get("required", [])), []
        closed_sets = []
        additional = schema.get("additionalProperties")
        conditionals = []
        desc = schema.get("description")
        for part in schema["allOf"]:
            if "$ref" in part:
                b, n = self.resolve_ref(part["$ref"], bundle)
                sub, subforbidden = self.flatten(self.def_schema(b, n), b)
                sub = self.localize(sub, b)
                forbidden += subforbidden
            else:
                sub = part
            if "if" in sub:
                conditionals.append(sub)
                continue
            if "allOf" in sub and "properties" not in sub:
                for c in sub["allOf"]:
                    conditionals.append(c)
            for k, v in sub.get("properties", {}).items():
                if k in props and "const" in v and "$ref" not in v:
                    props[k] = dict(props[k], const=v["const"])
                else:
                    props[k] = v
            required += [r for r in sub.get("required", []) if r not in required]
            if sub.get("additionalProperties") is False:
                closed_sets.append(set(sub.get("properties", {}).keys()))
            for c in sub.get("allOf", []):
                if "if" in c:
                    conditionals.append(c)
        if schema.get("properties"):
            props.update(schema["properties"])
        for k in props:
            for closed in closed_sets:
                if k not in closed and k not in forbidden:
                    forbidden.append(k)
        merged = {"type": "object", "properties": props, "required": required}
        if desc:
            merged["description"] = desc
        if closed_sets:
            merged["additionalProperties"] = False
        elif additional is not None:
            merged["additionalProperties"] = additional
        if conditionals:
            merged["allOf"] = conditionals
        return merged, forbidden

    def localize(self, schema, bundle):
        """Rewrites relative refs inside `schema` so they resolve from any bundle."""
        def walk(s):
            if isinstance(s, dict):
                out = {}
                for k, v in s.items():
                    if k == "$ref" and isinstance(v, str):
                        b, n = self.resolve_ref(v, bundle)
                        out[k] = f"schema.{b}.json#/$defs/{n}" if b in self.bundles else f"@{b}/{n}"
                    else:
                        out[k] = walk(v)
                return out
            if isinstance(s, list):
                return [walk(x) for x in s]
            return s
        return walk(schema)

    # ----- type mapping -----------------------------------------------------
    def named(self, bundle, name):
        """Rust type for a named def, generating it on first use."""
        key = (bundle, name)
        if key in self.def_map:
            return self.def_map[key]
        schema = self.def_schema(bundle, name)
        rust = DEF_RENAMES.get(f"{bundle}:{name}") or DEF_RENAMES.get(name) or pascal(name)
        self.def_map[key] = None  # recursion guard
        rust = self.define(bundle, rust, schema, owner=name, def_name=name)
        self.def_map[key] = rust
        return rust

    def ref_target(self, ref, bundle):
        if ref.startswith("@"):
            b, n = ref[1:].split("/")
            return b, n
        return self.resolve_ref(ref, bundle)

    def field_type(self, bundle, owner, field, schema, required):
        """Returns (rust type, shape expression)."""
        if "const" in schema and "$ref" in schema:
            # A `const` merged over a referenced type by `allOf`: the constant decides.
            if isinstance(schema["const"], str):
                return self.string_type(bundle, owner, field, {"type": "string", "const": schema["const"]})
            return self.field_type(bundle, owner, field, {k: v for k, v in schema.items() if k != "$ref"}, required)
        if "$ref" in schema:
            b, n = self.ref_target(schema["$ref"], bundle)
            if (b, n) == ("agentic_checkout", "AffiliateAttributionMetadata"):
                self.registry_alias(b, n, "crate::spec::common::Metadata", self.shape_of_metadata(b))
                return "crate::spec::common::Metadata", self.shape_ref_static(b, n)
            rust = self.named(b, n)
            return self.type_path(rust, bundle), self.shape_ref(rust)
        if "allOf" in schema and len(schema["allOf"]) == 1 and "$ref" in schema["allOf"][0]:
            return self.field_type(bundle, owner, field, schema["allOf"][0], required)
        t = schema.get("type")
        ident = f"{owner}.{field}"
        if "const" in schema and not isinstance(schema["const"], str):
            rust_t = {"array": "Vec<String>", "boolean": "bool", "integer": "i64"}.get(t, "serde_json::Value")
            return rust_t, "&Shape::Const(%s)" % rust_str(json.dumps(schema["const"], separators=(",", ":")))
        if "allOf" in schema:
            name = self.inline_name(bundle, ident, owner, field)
            self.inline_path = self.member_path(owner, field)
            rust = self.define(bundle, name, schema, owner=name, def_name=None)
            return self.type_path(rust, bundle), self.shape_ref(rust)
        if "oneOf" in schema and t is None:
            refs = [o.get("$ref") for o in schema["oneOf"]]
            if all(refs):
                rust, shape = self.tagged_union(bundle, owner, field, schema)
                return self.type_path(rust, bundle), shape
        if owner == "Capabilities" and field == "extensions" and "oneOf" in schema:
            shape = self.extensions_shape(bundle, schema)
            decl = self.type_path(self.def_map[("agentic_checkout", "ExtensionDeclaration")], bundle)
            return f"crate::spec::common::Extensions<{decl}>", shape
        if isinstance(t, list) or ("oneOf" in schema and t is None):
            return "crate::spec::common::MetadataValue", "&crate::spec::common::METADATA_VALUE_SHAPE"
        if t == "string":
            return self.string_type(bundle, owner, field, schema)
        if t == "integer":
            money = field in MONEY_FIELDS or MONEY_OVERRIDES.get((bundle, owner, field))
            shape = "&Shape::Integer(IntegerShape { minimum: %s, maximum: %s })" % (
                opt_int(schema.get("minimum")), opt_int(schema.get("maximum")))
            return ("Amount" if money else "i64"), self.static_shape(shape)
        if t == "number":
            minimum, exclusive = schema.get("minimum"), schema.get("exclusiveMinimum")
            if exclusive is True:
                # Draft-04 syntax (2025-09-29 `Item.quantity`), invalid under the
                # declared 2020-12 dialect: read as its intent, `> minimum`.
                minimum, exclusive = None, minimum
            elif exclusive is False:
                exclusive = None
            shape = "&Shape::Number(NumberShape { minimum: %s, exclusive_minimum: %s, maximum: %s })" % (
                opt_float(minimum), opt_float(exclusive), opt_float(schema.get("maximum")))
            return "serde_json::Number", self.static_shape(shape)
        if t == "boolean":
            return "bool", "&BOOL_SHAPE"
        if t == "array":
            item_t, item_s = self.field_type(bundle, owner, field, schema.get("items", {}), True)
            shape = "&Shape::Array(ArrayShape { items: %s, min_items: %s, max_items: %s, unique: %s })" % (
                item_s, opt_int(schema.get("minItems")), opt_int(schema.get("maxItems")),
                "true" if schema.get("uniqueItems") else "false")
            return f"Vec<{item_t}>", self.static_shape(shape)
        if t == "object" or "properties" in schema:
            if "properties" in schema:
                name = self.inline_name(bundle, ident, owner, field)
                self.inline_path = self.member_path(owner, field)
                rust = self.define(bundle, name, schema, owner=name, def_name=None)
                return self.type_path(rust, bundle), self.shape_ref(rust)
            ap = schema.get("additionalProperties")
            if isinstance(ap, dict):
                vt, vs = self.field_type(bundle, owner, field, ap, True)
                shape = ("&Shape::Object(ObjectShape { name: %s, fields: &[], additional: Additional::Shape(%s), "
                         "any_of_required: &[], conditionals: &[], forbidden: &[], min_properties: None })") % (
                    rust_str(field), vs)
                return f"BTreeMap<String, {vt}>", self.static_shape(shape)
            return "serde_json::Map<String, serde_json::Value>", "&OPEN_OBJECT_SHAPE"
        if not schema or t is None:
            return "serde_json::Value", "&ANY_SHAPE"
        raise SystemExit(f"unhandled schema at {ident}: {schema}")

    def string_type(self, bundle, owner, field, schema):
        ident = f"{owner}.{field}"
        fmt = schema.get("format")
        shape_parts = {
            "min_length": opt_int(schema.get("minLength")),
            "max_length": opt_int(schema.get("maxLength")),
            "pattern": pattern_ref(schema.get("pattern")),
            "format": {"date-time": "Some(Format::DateTime)", "uri": "Some(Format::Uri)",
                       "email": "Some(Format::Email)", None: "None"}.get(fmt, "None"),
            "values": "None",
            "constant": opt_str(schema.get("const")),
            "representation": "None",
        }
        if fmt not in (None, "date-time", "uri", "email"):
            raise SystemExit(f"unknown format {fmt} at {ident}")
        rust = "String"
        if "enum" in schema:
            name = self.inline_name(bundle, ident, owner, field)
            rust = self.define_enum(bundle, name, schema["enum"], schema.get("description"))
            rust = self.type_path(rust, bundle)
            shape_parts["values"] = f"Some({rust}::KNOWN)"
        elif fmt == "date-time":
            rust = "Timestamp"
        elif fmt == "uri":
            rust = "Uri"
        elif field in ("currency", "presentment_currency"):
            rust = "Currency"
            shape_parts["representation"] = "Some(Representation::Currency)"
        elif (owner, field) in ID_FIELDS:
            rust = ID_FIELDS[(owner, field)]
        elif self.schema_path and (bundle, self.schema_path[-1], field) in SENSITIVE_FIELDS:
            SENSITIVE_USED.add((bundle, self.schema_path[-1], field))
            rust = "Sensitive"
        return rust, self.static_shape("&Shape::String(%s)" % string_shape(shape_parts))

    def member_path(self, owner, field):
        """The schema path of an inline object defined by member `field` of the struct being defined."""
        return f"{self.schema_path[-1] if self.schema_path else owner}.{field}"

    def inline_name(self, bundle, ident, owner, field):
        return (INLINE_NAMES.get(f"{bundle}:{ident}") or INLINE_NAMES.get(ident)
                or f"{pascal(owner)}{pascal(field)}")

    def static_shape(self, expr):
        return expr

    def shape_ref(self, rust):
        return "&" + self.types[rust]["shape_path"]

    def shape_ref_static(self, bundle, name):
        return "&crate::spec::common::METADATA_SHAPE"

    def shape_of_metadata(self, bundle):
        return "crate::spec::common::METADATA_SHAPE"

    def registry_alias(self, bundle, name, rust, static):
        key = (bundle, name)
        if any(r[0] == bundle and r[1] == name for r in self.registry):
            return
        self.registry.append((bundle, name, rust, "&" + static, False))

    def type_path(self, rust, bundle):
        """The canonical absolute path of a type (of its defining version)."""
        info = self.types.get(rust)
        if info is None:
            return rust
        return info["target"]

    def extensions_shape(self, bundle, schema):
        branches = []
        for b in schema["oneOf"]:
            _, s = self.field_type(bundle, "Capabilities", "extensions", b, True)
            branches.append(s)
        return "&Shape::OneOf(&[%s])" % ", ".join(branches)

    # ----- definitions ------------------------------------------------------
    def signature(self, kind, payload):
        return json.dumps([kind, payload], sort_keys=True)

    def define_enum(self, bundle, name, values, doc):
        sig = self.signature("enum", values)
        if sig in self.sig_index:
            return self.sig_index[sig]
        if name in self.types:
            name = name + "Value"
        if self.reuse_older(sig, name, bundle):
            return name
        variants = []
        for v in values:
            vn = pascal(re.sub(r"[^A-Za-z0-9_]", "_", str(v)))
            if re.match(r"^[0-9]", vn):
                vn = "V" + vn
            variants.append((vn, str(v)))
        lines = rust_doc(doc) or [f"/// `{name}` values."]
        lines.append("///")
        lines.append("/// An open enum: values this crate does not know are kept (see [`crate::wire`]).")
        lines.append("pub enum %s {" % name)
        for vn, v in variants:
            lines.append(f"    /// `{v}`")
            lines.append(f"    {vn} = {rust_str(v)},")
        lines.append("}")
        code = "wire_enum! {\n" + "\n".join("    " + l if l else "" for l in lines) + "\n}\n"
        code += (f"\nimpl WireType for {name} {{\n    const SCHEMA_NAME: &'static str = {rust_str(bundle + '.' + name)};\n"
                 f"    fn shape() -> &'static Shape {{\n        &{snake_upper(name)}_SHAPE\n    }}\n}}\n")
        static = snake_upper(name) + "_SHAPE"
        shape = "pub(crate) static %s: Shape = Shape::String(%s);" % (
            static, string_shape({"values": f"Some({name}::KNOWN)"}))
        self.add_type(name, bundle, "enum", code, shape, static, sig)
        return name

    def add_type(self, name, bundle, kind, code, shape_code, static, sig):
        home = self.home(bundle)
        self.types[name] = {
            "kind": kind, "module": home, "code": code, "shape": shape_code, "static": static,
            "shape_path": f"crate::spec::{MOD}::{home}::{static}",
            "target": f"crate::spec::{MOD}::{home}::{name}",
        }
        self.order.append(name)
        self.module_items[home].append(name)
        if sig:
            self.sig_index[sig] = name
            SHARED.setdefault(sig, dict(self.types[name]))

    def reuse_older(self, sig, name, bundle):
        """When an older version defines this exact structure, re-exports it
        under `name` and returns `name`; otherwise returns None."""
        older = SHARED.get(sig)
        if older is None:
            return None
        home = self.home(bundle)
        self.types[name] = {
            "kind": older["kind"], "module": home, "code": "", "shape": "", "static": older["static"],
            "shape_path": older["shape_path"], "target": older["target"],
        }
        self.older[home].append((name, older["target"]))
        self.sig_index[sig] = name
        return name

    def define(self, bundle, name, schema, owner, def_name):
        path = def_name if def_name is not None else (self.inline_path or name)
        self.inline_path = None
        schema = push_down_conditionals(schema)
        schema, forbidden = self.flatten(schema, bundle)
        t = schema.get("type")
        if "enum" in schema and t == "string":
            return self.define_enum(bundle, name, schema["enum"], schema.get("description"))
        if "oneOf" in schema and "properties" not in schema and all("$ref" in o for o in schema["oneOf"]):
            rust, _ = self.tagged_union(bundle, owner, None, schema, name=name)
            return rust
        if t != "object" and "properties" not in schema:
            # A named non-object def (string, array, map): a type alias plus a shape.
            rust_t, shape = self.field_type(bundle, owner, "value", schema, True)
            static = snake_upper(name) + "_SHAPE"
            doc = rust_doc(schema.get("description")) or [f"/// `{name}`."]
            code = "\n".join(doc) + f"\npub type {name} = {rust_t};\n"
            if shape.startswith("&Shape::"):
                shape_code = f"pub(crate) static {static}: Shape = {shape[1:]};"
                self.add_type(name, bundle, "alias", code, shape_code, static, None)
            else:
                self.add_type(name, bundle, "alias", code, "", static, None)
                self.types[name]["shape_path"] = shape[1:]
            return name
        # A struct. The tables (ids, secrets, inline names) are keyed by the
        # unqualified name even when a clash forces a qualified Rust name, so
        # a def identical to one already generated dedupes onto it.
        lookup = name
        if name in self.types:
            name = f"{pascal(bundle)}{name}"
        # Reserve the name before recursing into fields.
        self.types[name] = {"kind": "pending", "module": self.home(bundle), "static": snake_upper(name) + "_SHAPE",
                            "shape_path": f"crate::spec::{MOD}::{self.home(bundle)}::{snake_upper(name)}_SHAPE",
                            "target": f"crate::spec::{MOD}::{self.home(bundle)}::{name}"}
        props = schema.get("properties", {})
        required = schema.get("required", [])
        self.schema_path.append(path)
        tag = None
        fields = []
        shape_fields = []
        for fname, fs in props.items():
            if (fname == "type" and "const" in fs and fs.get("type", "string") == "string"
                    and fname in required):
                tag = fs["const"]
                shape_fields.append((fname, True, "&Shape::String(%s)" % string_shape(
                    {"constant": f"Some({rust_str(tag)})"})))
                continue
            rust_t, shape = self.field_type(bundle, lookup, fname, fs, fname in required)
            kind = "req" if fname in required else "opt"
            if lookup in ("CheckoutSessionUpdateRequest", "CheckoutUpdateRequestWithDiscount"):
                kind = "patch"
            fields.append((fname, kind, rust_t, fs.get("description")))
            shape_fields.append((fname, fname in required, shape))
        # Conditionals and anyOf.
        conds = []
        for c in schema.get("allOf", []):
            if "if" in c:
                member, consts = parse_if(c["if"])
                conds.append((member, consts, c["then"].get("required", [])))
        any_of = [a.get("required", []) for a in schema.get("anyOf", [])]
        for o in schema.get("oneOf", []) if "properties" in schema else []:
            member, consts = parse_if(o)
            conds.append((member, consts, o.get("required", [])))
        ap = schema.get("additionalProperties")
        if ap is False:
            additional = "Additional::Forbidden"
        elif isinstance(ap, dict):
            _, vs = self.field_type(bundle, name, "additional", ap, True)
            additional = f"Additional::Shape({vs})"
        else:
            additional = "Additional::Allowed"
        self.schema_path.pop()
        # Dedupe by structure: the same members with the same Rust types and shapes.
        sig = self.signature("object",
            [tag, fields and [(f, k, t) for f, k, t, _ in fields], shape_fields, additional,
             [(m, c, t) for m, c, t in conds], any_of, forbidden, schema.get("minProperties")])
        if sig in self.sig_index:
            del self.types[name]
            return self.sig_index[sig]
        del self.types[name]
        if self.reuse_older(sig, name, bundle):
            return name
        self.types[name] = {"kind": "pending"}
        # Code.
        lines = rust_doc(schema.get("description")) or [f"/// `{name}`."]
        if def_name:
            lines.append("///")
            lines.append(f"/// Official schema: `{bundle}.{def_name}` (ACP {VERSION}).")
        head = f"pub struct {name}"
        if tag is not None:
            head += f' [tag "type" = {rust_str(tag)}]'
        lines.append(head + " {")
        for fname, kind, rust_t, doc in fields:
            for d in rust_doc(doc, "    "):
                lines.append(d)
            if not doc:
                lines.append(f"    /// `{fname}`.")
            ident = FIELD_RENAMES.get(fname, fname)
            if not re.match(r"^[a-z_][a-z0-9_]*$", ident):
                ident = re.sub(r"[^a-z0-9_]", "_", ident.lower())
                if re.match(r"^[0-9]", ident):
                    ident = "n" + ident
            lines.append(f"    {kind} {ident} = {rust_str(fname)}: {rust_t},")
        lines.append("}")
        code = "wire_object! {\n" + "\n".join("    " + l if l else "" for l in lines) + "\n}\n"
        # Constructor with the required fields.
        req = [(FIELD_RENAMES.get(f, f), t) for f, k, t, _ in fields if k == "req"]
        args = ", ".join(f"{i}: {into_arg(t)}" for i, t in req)
        inits = []
        for fname, kind, rust_t, _ in fields:
            ident = FIELD_RENAMES.get(fname, fname)
            if kind == "req":
                expr = into_expr(ident, rust_t)
                inits.append(ident if expr == ident else f"{ident}: {expr}")
            elif kind == "opt":
                inits.append(f"{ident}: None")
            else:
                inits.append(f"{ident}: Patch::Absent")
        inits.append("extra: Extra::new()")
        code += f"\nimpl {name} {{\n    /// Builds a value from its required fields; optional fields start empty.\n"
        if len(req) > 7:
            code += "    #[allow(clippy::too_many_arguments)]\n"
        code += f"    pub fn new({args}) -> Self {{\n        Self {{\n"
        code += "".join(f"            {i},\n" for i in inits)
        code += "        }\n    }\n}\n"
        if not req:
            code += f"\nimpl Default for {name} {{\n    fn default() -> Self {{\n        Self::new()\n    }}\n}}\n"
        schema_name = f"{bundle}.{def_name}" if def_name else f"{bundle}.{name}"
        code += (f"\nimpl WireType for {name} {{\n    const SCHEMA_NAME: &'static str = {rust_str(schema_name)};\n"
                 f"    fn shape() -> &'static Shape {{\n        &{snake_upper(name)}_SHAPE\n    }}\n}}\n")
        static = snake_upper(name) + "_SHAPE"
        fs_code = ",\n".join(
            f"        FieldShape {{ name: {rust_str(n)}, required: {'true' if r else 'false'}, shape: {s} }}"
            for n, r, s in shape_fields)
        cond_code = ", ".join(
            "Conditional { member: %s, any_of: &[%s], then_required: &[%s] }" % (
                rust_str(m), ", ".join(cs), ", ".join(rust_str(x) for x in tr)) for m, cs, tr in conds)
        any_code = ", ".join("&[%s]" % ", ".join(rust_str(x) for x in a) for a in any_of)
        shape_code = (f"pub(crate) static {static}: Shape = Shape::Object(ObjectShape {{\n    name: {rust_str(def_name or name)},\n"
                      f"    fields: &[\n{fs_code}\n    ],\n    additional: {additional},\n"
                      f"    any_of_required: &[{any_code}],\n    conditionals: &[{cond_code}],\n"
                      f"    forbidden: &[{', '.join(rust_str(f) for f in forbidden)}],\n"
                      f"    min_properties: {opt_int(schema.get('minProperties'))},\n}});")
        del self.types[name]
        self.add_type(name, bundle, "struct", code, shape_code, static, sig)
        return name

    def tagged_union(self, bundle, owner, field, schema, name=None):
        variants = []
        for o in schema["oneOf"]:
            b, n = self.ref_target(o["$ref"], bundle)
            rust = self.named(b, n)
            target = self.def_schema(b, n)
            flat, _ = self.flatten(target, b)
            tag = flat.get("properties", {}).get("type", {}).get("const")
            if tag is None:
                raise SystemExit(f"oneOf branch {n} has no const type tag")
            variants.append((rust, tag))
        if name is None:
            names = {"fulfillment_options": "FulfillmentOption", "messages": "Message"}
            name = names.get(field) or f"{pascal(owner)}{pascal(field)}"
        sig = self.signature("union", [(self.type_path(r, bundle), t) for r, t in variants])
        if sig in self.sig_index:
            existing = self.sig_index[sig]
            return existing, self.shape_ref(existing)
        if self.reuse_older(sig, name, bundle):
            return name, self.shape_ref(name)
        lines = [f"/// One of the `{field or name}` variants, discriminated by `type`.", "///",
                 "/// A variant this crate does not know is kept whole in `Unknown`."]
        lines.append(f"pub enum {name} {{")
        for rust, tag in variants:
            vn = rust
            for prefix in ("FulfillmentOption", "Message"):
                if rust.startswith(prefix) and len(rust) > len(prefix):
                    vn = rust[len(prefix):]
            lines.append(f"    /// `type: {tag}`")
            lines.append(f"    {vn}({self.type_path(rust, bundle)}) = {rust_str(tag)},")
        lines.append("}")
        code = "wire_union! {\n" + "\n".join("    " + l for l in lines) + "\n}\n"
        static = snake_upper(name) + "_SHAPE"
        shape_code = "pub(crate) static %s: Shape = Shape::Tagged(TaggedShape { tag: \"type\", variants: &[%s] });" % (
            static, ", ".join(f"({rust_str(t)}, {self.shape_ref(r)})" for r, t in variants))
        code += (f"\nimpl WireType for {name} {{\n    const SCHEMA_NAME: &'static str = {rust_str(bundle + '.' + name)};\n"
                 f"    fn shape() -> &'static Shape {{\n        &{static}\n    }}\n}}\n")
        self.add_type(name, bundle, "union", code, shape_code, static, sig)
        return name, self.shape_ref(name)

    # ----- driving ----------------------------------------------------------
    def run(self):
        for bundle in list(self.bundles):
            for name in self.bundles[bundle]:
                if (bundle, name) == ("agentic_checkout", "AffiliateAttributionMetadata"):
                    self.registry_alias(bundle, name, "crate::spec::common::Metadata",
                                        "crate::spec::common::METADATA_SHAPE")
                    continue
                rust = self.named(bundle, name)
                info = self.types[rust]
                self.registry.append((bundle, name, info["target"],
                                      self.shape_ref(rust), info["kind"] in ("struct", "enum", "union")))
                if info["module"] != bundle:
                    self.reexports[bundle].add(rust)

    def render(self):
        files = {}
        header = (f"// @generated by codegen/models.py from the official ACP {VERSION} schemas. Do not edit.\n"
                  "// The schemas are (c) OpenAI and Stripe, Apache-2.0; see the spec repository's NOTICE.\n")
        for bundle in self.bundles:
            body = [header, f"//! {BUNDLE_DOCS[bundle]}\n", "#![allow(clippy::doc_markdown, clippy::too_many_lines, clippy::wildcard_imports)]\n",
                    "#[allow(unused_imports)]\nuse std::collections::BTreeMap;\n",
                    "#[allow(unused_imports)]\nuse crate::primitives::ids::*;",
                    "#[allow(unused_imports)]\nuse crate::primitives::{Amount, Currency, Timestamp, Uri};",
                    "#[allow(unused_imports)]\nuse crate::parse::schema::{Additional, ArrayShape, Conditional, Constant, FieldShape, Format, "
                    "IntegerShape, NumberShape, ObjectShape, Representation, Shape, StringShape, TaggedShape, WireType};",
                    "#[allow(unused_imports)]\nuse crate::spec::common::{ANY_SHAPE, BOOL_SHAPE, OPEN_OBJECT_SHAPE};",
                    "#[allow(unused_imports)]\nuse crate::wire::{Extra, Patch, Sensitive, wire_enum, wire_object, wire_union};\n"]
            older = sorted(self.older[bundle])
            if older:
                body.append("// Unchanged since an older version: the same Rust type, re-exported.")
            for name, target in older:
                path = target.replace("crate::spec::", "super::super::")
                alias = "" if path.endswith("::" + name) else f" as {name}"
                body.append(f"pub use {path}{alias};")
            for name in sorted(self.reexports[bundle]):
                info = self.types[name]
                body.append(f"pub use super::{info['module']}::{name};")
            if self.reexports[bundle] or older:
                body.append("")
            items = []
            for name in self.module_items[bundle]:
                info = self.types[name]
                items.append(info["code"])
                items.append(info["shape"] + "\n")
            items = "\n".join(items)
            # Types in scope through a re-export are named by their local name.
            for name, target in older:
                items = re.sub(re.escape(target) + r"\b", name, items)
            for name in self.reexports[bundle]:
                target = self.types[name]["target"]
                if not target.startswith(f"crate::spec::{MOD}::"):
                    items = re.sub(re.escape(target) + r"\b", name, items)
            items = items.replace(f"crate::spec::{MOD}::{bundle}::", "")
            items = items.replace(f"crate::spec::{MOD}::", "super::")
            for name in self.reexports[bundle]:
                items = re.sub(r"(?<![:\w])super::\w+::" + name + r"\b", name, items)
            body.append(items)
            text = "\n".join(body).rstrip() + "\n"
            files[f"src/spec/{MOD}/{bundle}.rs"] = text
        mod = [header, f"//! The ACP `{VERSION}` wire types, one module per official schema bundle.", "//!",
               f"//! Source: `spec/{VERSION}/json-schema/*.json` and `spec/{VERSION}/openapi/*.yaml` of the",
               "//! official repository. Types shared between bundles are defined once and re-exported;",
               "//! so are types unchanged since an older version (they are the older version's type).", ""]
        for bundle in self.bundles:
            mod.append(f"pub mod {bundle};")
        mod.append("")
        mod.append("/// Every `<bundle>.<Name>` this version defines, with its Rust type and shape.")
        mod.append("pub(crate) static TYPES: &[crate::parse::registry::TypeEntry] = &[")
        for bundle, name, path, shape, _ in sorted(self.registry, key=lambda r: (r[0], r[1])):
            mod.append(f"    crate::parse::registry::TypeEntry::new::<{path}>({rust_str(bundle)}, {rust_str(name)}, {shape}),")
        mod.append("];")
        files[f"src/spec/{MOD}.rs"] = ("\n".join(mod) + "\n").replace(f"crate::spec::{MOD}::", "")
        return files


def push_down_conditionals(schema):
    """Moves an `if`/`then` rule about a nested inline object's member into
    that object (2025-12-12 `AuthenticationMetadata`: `if channel.browser.
    javascript_enabled` then `channel.browser` requires five members). An
    absent parent satisfies both sides vacuously, so the rule is the same."""
    rules = [c for c in schema.get("allOf", []) if "if" in c and nested_rule(c)]
    if not rules:
        return schema
    schema = json.loads(json.dumps(schema))
    schema["allOf"] = [c for c in schema["allOf"] if not ("if" in c and nested_rule(c))]
    if not schema["allOf"]:
        del schema["allOf"]
    for rule in rules:
        node_if, node_then, target = rule["if"], rule["then"], schema
        while True:
            (member, sub_if), = node_if["properties"].items()
            sub_then = node_then["properties"][member]
            target = target["properties"][member]
            if nested_rule({"if": sub_if, "then": sub_then}):
                node_if, node_then = sub_if, sub_then
                continue
            target.setdefault("allOf", []).append({"if": sub_if, "then": sub_then})
            break
    return schema


def nested_rule(rule):
    props = rule["if"].get("properties", {})
    if len(props) != 1:
        return False
    (member, sub), = props.items()
    return "properties" in sub and "properties" in rule["then"]


def normalize_paths(value):
    return json.loads(re.sub(r"(super|crate::spec::\w+)::\w+::", "", json.dumps(value)))


def shape_deref(expr):
    return expr[1:] if expr.startswith("&") else "*" + expr


def strip_docs(schema):
    def walk(s):
        if isinstance(s, dict):
            return {k: walk(v) for k, v in s.items() if k not in ("description", "example", "examples", "title", "default")}
        if isinstance(s, list):
            return [walk(x) for x in s]
        return s
    return [walk(schema)]


def parse_if(cond):
    props = cond.get("properties", {})
    (member, spec), = props.items()
    if "enum" in spec:
        values = spec["enum"]
    else:
        values = [spec["const"]]
    consts = []
    for v in values:
        if isinstance(v, bool):
            consts.append(f"Constant::Bool({'true' if v else 'false'})")
        else:
            consts.append(f"Constant::Str({rust_str(v)})")
    return member, consts


def into_arg(t):
    if t in ("String", "Sensitive") or t in set(ID_FIELDS.values()):
        return "impl Into<" + t + ">"
    return t


def into_expr(ident, t):
    if t in ("String", "Sensitive") or t in set(ID_FIELDS.values()):
        return f"{ident}.into()"
    return ident


def opt_int(v):
    if v is None:
        return "None"
    if isinstance(v, bool):
        raise SystemExit("boolean bound")
    return f"Some({int(v)})"


def opt_float(v):
    if v is None:
        return "None"
    return f"Some({float(v)!r})"


def opt_str(v):
    return "None" if v is None else f"Some({rust_str(v)})"


# Every distinct schema `pattern`: its static's name in `src/spec/patterns.rs`.
PATTERNS = {}


def pattern_ref(pattern):
    """`Some(&PATTERN_<hash>)`: each distinct pattern is one static, compiled once, on first use."""
    if pattern is None:
        return "None"
    import hashlib
    name = "PATTERN_" + hashlib.sha256(pattern.encode()).hexdigest()[:10].upper()
    PATTERNS[pattern] = name
    return f"Some(&crate::spec::patterns::{name})"


def string_shape(parts):
    """A `StringShape` literal naming only its set options; the rest come from `StringShape::ANY`."""
    set_parts = [f"{k}: {v}" for k, v in parts.items() if v != "None"]
    if not set_parts:
        return "StringShape::ANY"
    return "StringShape { %s, ..StringShape::ANY }" % ", ".join(set_parts)


def discover_versions(spec_dir):
    """The released versions: every `spec/<YYYY-MM-DD>/` folder, oldest first."""
    root = os.path.join(spec_dir, "spec")
    if not os.path.isdir(root):
        raise SystemExit(f"no spec/ folder in {spec_dir} (pass --spec or set ACP_SPEC_DIR)")
    found = sorted(d for d in os.listdir(root) if VERSION_DIR.match(d) and os.path.isdir(os.path.join(root, d)))
    if not found:
        raise SystemExit(f"no spec/<YYYY-MM-DD>/ version folder in {spec_dir}")
    return found


def module_name(version):
    return "v" + version.replace("-", "_")


def render_patterns():
    out = ["// @generated by codegen/models.py from the official ACP schemas. Do not edit.",
           "//! Every distinct `pattern` of the official schemas, once: each compiles on first use.", "",
           "use crate::parse::schema::Pattern;", ""]
    for pattern, name in sorted(PATTERNS.items(), key=lambda kv: kv[1]):
        out.append(f"pub(crate) static {name}: Pattern = Pattern::new({rust_str(pattern)});")
    return "\n".join(out) + "\n"


def render_spec(versions, statuses):
    """`src/spec.rs`: the module list and every table that lists the versions."""
    newest = versions[-1]
    out = [
        "// @generated by codegen/models.py from the `spec/<YYYY-MM-DD>/` folders of the official ACP spec. Do not edit.",
        "//! The wire types of each released ACP spec version, one module per version",
        f"//! date (`{module_name(newest)}`), each with one module per official schema bundle.",
        "//!",
        "//! Types are generated from the official JSON Schemas by the repository's code",
        "//! generator and checked against them by the conformance and property",
        "//! tests. The generator discovers the versions from the spec folder, so this",
        "//! file (the module list, [`ApiVersion::RELEASED`] and the per-version tables) is",
        "//! generated too.",
        "//!",
        "//! [`latest`] is the working model: the version the crate's hand-written logic",
        "//! is written against. It is chosen by hand and is not necessarily the newest",
        "//! version here; every version here parses, validates strictly and negotiates.",
        "",
        "pub mod common;",
        "pub mod latest;",
        "mod patterns;",
    ]
    out += [f"pub mod {module_name(v)};" for v in versions]
    out += ["", f"use {API_VERSION_PATH};", "", "impl ApiVersion {"]
    for i, v in enumerate(versions):
        y, m, d = v.split("-")
        doc = f"`{v}`, the initial release." if i == 0 else f"`{v}`."
        out.append(f"    /// {doc}")
        out.append(f"    pub const {module_name(v).upper()}: Self = Self::known(time::macros::date!({y} - {m} - {d}), {rust_str(v)});")
    out.append("")
    out.append("    /// Every released version, oldest first: each `spec/<YYYY-MM-DD>/` folder of the official spec.")
    out.append("    pub const RELEASED: &'static [Self] = &[" + ", ".join(f"Self::{module_name(v).upper()}" for v in versions) + "];")
    out.append("}")
    out.append("")
    out.append("/// Every type of a released version (`YYYY-MM-DD`), sorted by qualified name.")
    out.append("pub(crate) fn types_for(version: &str) -> Option<&'static [crate::parse::registry::TypeEntry]> {")
    out.append("    Some(match version {")
    out += [f"        {rust_str(v)} => {module_name(v)}::TYPES," for v in versions]
    out.append("        _ => return None,")
    out.append("    })")
    out.append("}")
    out.append("")
    out.append("/// The checkout session statuses of a released version (`YYYY-MM-DD`), in schema order.")
    out.append("pub(crate) fn checkout_statuses(version: &str) -> Option<&'static [&'static str]> {")
    out.append("    Some(match version {")
    out += [f"        {rust_str(v)} => {module_name(v)}::agentic_checkout::CheckoutStatus::KNOWN," for v in versions if v in statuses]
    out.append("        _ => return None,")
    out.append("    })")
    out.append("}")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spec", default=os.environ.get("ACP_SPEC_DIR") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "acp-spec"))
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--unreleased-as", metavar="YYYY-MM-DD",
                    help="also generate the spec folder's `unreleased` directory as this (newest) version")
    args = ap.parse_args()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    files = {}
    registry_total = types_total = 0
    versions = [(v, v) for v in discover_versions(args.spec)]
    if args.unreleased_as:
        if not VERSION_DIR.match(args.unreleased_as) or args.unreleased_as <= versions[-1][0]:
            raise SystemExit(f"--unreleased-as {args.unreleased_as}: give a YYYY-MM-DD after {versions[-1][0]}")
        versions.append((args.unreleased_as, "unreleased"))
    statuses = set()
    for version, folder in versions:
        gen = Gen(args.spec, version, folder)
        gen.run()
        files.update(gen.render())
        registry_total += len(gen.registry)
        types_total += sum(len(v) for v in gen.module_items.values())
        checkout = gen.module_items.get("agentic_checkout", [])
        if "CheckoutStatus" in set(checkout) | gen.reexports.get("agentic_checkout", set()) | {
                n for n, _ in gen.older.get("agentic_checkout", [])}:
            statuses.add(version)
    files["src/spec.rs"] = render_spec([v for v, _ in versions], statuses)
    files["src/spec/patterns.rs"] = render_patterns()
    unused = SENSITIVE_FIELDS - SENSITIVE_USED
    if unused:
        raise SystemExit(f"SENSITIVE_FIELDS entries no schema has: {sorted(unused)}")
    import subprocess
    for rel in list(files):
        out = subprocess.run(["rustfmt", "--edition", "2024"], input=files[rel], capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"rustfmt failed on {rel}: {out.stderr}")
        files[rel] = out.stdout
    stale = []
    for rel, text in files.items():
        path = os.path.join(root, rel)
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            stale.append(rel)
            if not args.check:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write(text)
    if args.check and stale:
        print("generated models are stale: " + ", ".join(stale), file=sys.stderr)
        sys.exit(1)
    print(f"{registry_total} schema names, {types_total} Rust types defined, {len(stale)} file(s) {'stale' if args.check else 'written'}")


if __name__ == "__main__":
    main()
