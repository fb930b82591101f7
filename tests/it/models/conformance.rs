//! Conformance with the official ACP 2026-04-17 examples and schemas.
//!
//! Every official example is mapped to its type and must:
//! 1. round-trip losslessly through the Rust type (parse -> serialize is
//!    equivalent JSON), also with unknown fields and unknown enum values
//!    injected;
//! 2. get the same verdict from this crate's strict validation as from an
//!    independent JSON Schema validator (the `jsonschema` crate) running the
//!    official schema;
//! 3. be valid, unless it is listed in [`ERRATA`] with the reason, in which
//!    case strict validation must report exactly the listed defects.
//!
//! The tests skip, printing why, when the official spec folder is absent.

use crate::common;

use agentic_commerce::parse::registry;
use agentic_commerce::parse::schema::Violation;
use common::{
    Example, OfficialSchemas, VERSION, VERSIONS, api_version, equivalent, examples_in, spec_dir,
};

fn summary(violations: &[Violation]) -> Vec<String> {
    let mut out: Vec<String> = violations
        .iter()
        .map(|v| format!("{} {}", v.kind.as_str(), v.path))
        .collect();
    out.sort();
    out
}

/// Official examples that break the official schema of their version, with
/// the reason (from the spec digest, section 12.1) and the exact defects
/// strict validation must report. Every other example must be valid.
/// Columns: version, example id pattern, reason, defects.
const ERRATA: &[(&str, &str, &str, &[&str])] = &[
    // ---- 2025-09-29
    (
        "2025-09-29",
        "examples.agentic_checkout.json#complete_checkout_session_response",
        "The 2025-09-29 complete response has no `order`, which CheckoutSessionWithOrder requires (and its closed base forbids: the type is unsatisfiable in 2025-09-29).",
        &["required $.order"],
    ),
    // ---- 2026-01-16
    (
        "2026-01-16",
        "examples.capability_negotiation.json#*_request",
        "The capability negotiation file uses the abandoned `agent_capabilities` design, invalid in every version.",
        &["additional_property $.agent_capabilities"],
    ),
    (
        "2026-01-16",
        "examples.capability_negotiation.json#incompatible_payment_method_response",
        "Abandoned `seller_capabilities` design; `payment_provider` lacks the required `merchant_id` and `supported_payment_methods`; message code `payment_method_unsupported` is not in the enum.",
        &[
            "additional_property $.seller_capabilities",
            "enum $.messages[0].code",
            "required $.payment_provider.merchant_id",
            "required $.payment_provider.supported_payment_methods",
        ],
    ),
    (
        "2026-01-16",
        "examples.capability_negotiation.json#*_response",
        "Abandoned `seller_capabilities` design; `payment_provider` lacks the required `merchant_id` and `supported_payment_methods`.",
        &[
            "additional_property $.seller_capabilities",
            "required $.payment_provider.merchant_id",
            "required $.payment_provider.supported_payment_methods",
        ],
    ),
    // ---- 2026-01-30
    (
        "2026-01-30",
        "discount-extension/*.json#request",
        "Discount example requests carry `quantity` on line items (Item is closed since 2026-01-30) and omit the required `capabilities`.",
        &[],
    ),
    (
        "2026-01-30",
        "discount-extension/*.json#response",
        "Discount example responses use the RFC's `capabilities.payment_methods`, which the schema replaced with `payment.handlers`.",
        &["additional_property $.capabilities.payment_methods"],
    ),
    // ---- 2026-04-17
    (
        "2026-04-17",
        "discount-extension/*.json#request",
        "Discount example requests carry `quantity` on line items (Item is closed since 2026-01-30) and omit the required `capabilities`.",
        &[],
    ),
    (
        "2026-04-17",
        "discount-extension/*.json#response",
        "Discount example responses use the RFC's `capabilities.payment_methods`, which the schema replaced with `payment.handlers`.",
        &["additional_property $.capabilities.payment_methods"],
    ),
    (
        "2026-04-17",
        "examples.agentic_checkout.json#authentication_result_denied_example",
        "`outcome_details` is all-or-nothing: the denied example omits the cryptogram and ECI.",
        &[
            "required $.outcome_details.electronic_commerce_indicator",
            "required $.outcome_details.three_ds_cryptogram",
        ],
    ),
    (
        "2026-04-17",
        "examples.agentic_checkout.json#webhook_order_*_event",
        "Webhook examples still use the pre-2026-04-17 EventDataOrder: legacy `refunds`, no Order `id`.",
        &["additional_property $.data.refunds", "required $.data.id"],
    ),
    (
        "2026-04-17",
        "examples.delegate_authentication.json#retrieve_session_response_{authenticated,attempted,not_authenticated,rejected,challenge_abandoned}",
        "DelegateAuthenticationSessionWithResult is unsatisfiable with a result: its closed base forbids `authentication_result`.",
        &["additional_property $.authentication_result"],
    ),
    (
        "2026-04-17",
        "examples.mcp.agentic_checkout.json#{get,update,complete,cancel}_checkout_session_response.result",
        "MCP get/update/complete/cancel results omit the required `fulfillment_options`.",
        &["required $.fulfillment_options"],
    ),
    (
        "2026-04-17",
        "examples.mcp.agentic_checkout.json#create_checkout_session_response.result",
        "The MCP create result uses link type `terms_of_service`, not in the Link type enum.",
        &["enum $.links[0].type"],
    ),
    (
        "2026-04-17",
        "examples.mcp.agentic_checkout.json#complete_checkout_session_request.params.arguments.payload",
        "The MCP complete payload sends `instrument: {token}` without `type` and `credential`.",
        &[
            "required $.payment_data.instrument.credential",
            "required $.payment_data.instrument.type",
        ],
    ),
    (
        "2026-04-17",
        "examples.mcp.agentic_checkout.json#update_checkout_session_request.params.arguments.payload",
        "The MCP update payload uses the 2025-12-12 nested `{type, shipping: {option_id, item_ids}}` form.",
        &[
            "additional_property $.selected_fulfillment_options[0].shipping",
            "required $.selected_fulfillment_options[0].item_ids",
            "required $.selected_fulfillment_options[0].option_id",
        ],
    ),
    (
        "2026-04-17",
        "examples.multi_item_checkout.json#create_multi_item_checkout_request",
        "The multi-item request omits the required `capabilities`.",
        &["required $.capabilities"],
    ),
    (
        "2026-04-17",
        "examples.multi_item_checkout.json#create_multi_item_checkout_response",
        "The multi-item response omits `capabilities`, uses total type `base_amount` and puts `capabilities` inside `protocol`.",
        &[
            "additional_property $.protocol.capabilities",
            "enum $.line_items[0].totals[0].type",
            "enum $.line_items[1].totals[0].type",
            "required $.capabilities",
        ],
    ),
];

/// Matches an example id against an errata pattern: `*` matches any run and
/// `{a,b}` any one of the alternatives.
fn matches(pattern: &str, id: &str) -> bool {
    if let (Some(open), Some(close)) = (pattern.find('{'), pattern.find('}')) {
        return pattern[open + 1..close].split(',').any(|alt| {
            matches(
                &format!("{}{alt}{}", &pattern[..open], &pattern[close + 1..]),
                id,
            )
        });
    }
    glob(pattern, id)
}

fn glob(pattern: &str, id: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = id;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(pos) = rest.find(part) else {
                return false;
            };
            rest = &rest[pos + part.len()..];
        }
    }
    rest.is_empty()
}

type Erratum = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

fn erratum(version: &str, id: &str) -> Option<&'static Erratum> {
    ERRATA
        .iter()
        .find(|(v, pattern, _, _)| *v == version && matches(pattern, id))
}

/// The defects of an erratum whose list depends on the example (discount
/// requests: one `quantity` per line item).
fn expected_defects(id: &str, listed: &[&str], value: &serde_json::Value) -> Vec<String> {
    if id.starts_with("discount-extension/") && id.ends_with("#request") {
        let mut out = vec!["required $.capabilities".to_owned()];
        for i in 0..value["line_items"].as_array().map_or(0, Vec::len) {
            out.push(format!("additional_property $.line_items[{i}].quantity"));
        }
        out.sort();
        return out;
    }
    listed.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn every_official_example_is_valid_or_a_listed_erratum() {
    let Some(spec) = spec_dir("every_official_example_is_valid_or_a_listed_erratum") else {
        return;
    };
    let mut used_patterns = std::collections::BTreeSet::new();
    let mut unexpected = Vec::new();
    for version in VERSIONS.iter() {
        let api = api_version(version);
        let official = OfficialSchemas::load_version(&spec, version);
        let all = examples_in(&spec, version);
        let mut errata_seen = 0;
        for Example {
            id,
            type_name,
            value,
        } in &all
        {
            let entry = registry::lookup_in(&api, type_name)
                .unwrap_or_else(|| panic!("{version} {type_name} registered"));
            let ours = agentic_commerce::parse::schema::validate(entry.shape(), value);
            let (bundle, name) = type_name.split_once('.').unwrap();
            let official_valid = official.validator(bundle, name).is_valid(value);
            assert_eq!(
                ours.is_empty(),
                official_valid,
                "{version} {id}: strict validation and the official schema disagree: {:?}",
                summary(&ours)
            );
            match erratum(version, id) {
                Some((_, pattern, reason, listed)) => {
                    errata_seen += 1;
                    used_patterns.insert((*version, *pattern));
                    assert!(!reason.is_empty());
                    assert_eq!(
                        summary(&ours),
                        expected_defects(id, listed, value),
                        "{version} {id}: erratum ({reason}) must report exactly its defects"
                    );
                }
                None => {
                    if !ours.is_empty() {
                        unexpected.push(format!(
                            "{version} {id} [{type_name}]: {:?}",
                            summary(&ours)
                        ));
                    }
                }
            }
        }
        println!(
            "{version}: {} official examples checked, {} valid, {errata_seen} listed errata",
            all.len(),
            all.len() - errata_seen
        );
        if *version == VERSION {
            assert!(
                all.len() >= 90,
                "expected the full example set, found {}",
                all.len()
            );
        } else {
            assert!(all.len() >= 15, "{version}: found {} examples", all.len());
        }
    }
    assert!(
        unexpected.is_empty(),
        "invalid examples not listed as errata:\n{}",
        unexpected.join("\n")
    );
    assert_eq!(
        used_patterns.len(),
        ERRATA.len(),
        "every erratum matches an example"
    );
}

/// VER-01: the 2025-09-29 bundle writes `Item.quantity > 0` in draft-04 form
/// (`minimum: 0, exclusiveMinimum: true`). The crate reads it as "greater than
/// 0", not as the naive 2020-12 reading `exclusiveMinimum: 1`: quantity 1 and
/// 2.5 are valid, 0 and -1 are not.
#[test]
fn v2025_09_29_quantity_is_exclusive_minimum_zero() {
    let entry = registry::lookup_in(
        &agentic_commerce::protocol::version::ApiVersion::V2025_09_29,
        "agentic_checkout.Item",
    )
    .unwrap();
    for (quantity, valid) in [
        (serde_json::json!(1), true),
        (serde_json::json!(2.5), true),
        (serde_json::json!(0.01), true),
        (serde_json::json!(0), false),
        (serde_json::json!(-1), false),
    ] {
        let value = serde_json::json!({"id": "item_1", "quantity": quantity});
        let violations = agentic_commerce::parse::schema::validate(entry.shape(), &value);
        assert_eq!(violations.is_empty(), valid, "{quantity}: {violations:?}");
        if !valid {
            assert_eq!(summary(&violations), ["exclusive_minimum $.quantity"]);
        }
    }
    let Some(spec) = spec_dir("v2025_09_29_quantity_is_exclusive_minimum_zero") else {
        return;
    };
    // The official file really has the draft-04 form (so the fix is needed).
    let text = std::fs::read_to_string(
        spec.join("spec/2025-09-29/json-schema/schema.agentic_checkout.json"),
    )
    .unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(common::fix_draft04_exclusive_minimum(&mut doc), 1);
}

#[test]
fn every_valid_official_example_round_trips_losslessly() {
    let Some(spec) = spec_dir("every_valid_official_example_round_trips_losslessly") else {
        return;
    };
    for version in VERSIONS.iter() {
        let api = api_version(version);
        let mut count = 0;
        let all = examples_in(&spec, version);
        for Example {
            id,
            type_name,
            value,
        } in &all
        {
            let entry = registry::lookup_in(&api, type_name).unwrap();
            let valid = agentic_commerce::parse::schema::validate(entry.shape(), value).is_empty();
            match entry.roundtrip(value) {
                Ok(out) => {
                    equivalent(value, &out, "$").unwrap_or_else(|e| panic!("{version} {id}: {e}"));
                    count += 1;
                }
                Err(e) => assert!(
                    !valid,
                    "{version} {id}: a schema-valid example failed to parse: {e}"
                ),
            }
        }
        println!(
            "{version}: {count}/{} official examples round-tripped",
            all.len()
        );
    }
}

/// Adds an unknown member to every object and replaces every value of an open
/// enum with a value no spec version defines.
fn inject_unknowns(
    shape: &agentic_commerce::parse::schema::Shape,
    value: &mut serde_json::Value,
    counter: &mut usize,
) {
    use agentic_commerce::parse::schema::Shape;
    match (shape.resolve(), value) {
        (Shape::Object(o), serde_json::Value::Object(map)) => {
            for field in o.fields {
                if let Some(member) = map.get_mut(field.name) {
                    inject_unknowns(field.shape, member, counter);
                }
            }
            if let agentic_commerce::parse::schema::Additional::Shape(values) = o.additional {
                let known: Vec<&str> = o.fields.iter().map(|f| f.name).collect();
                for (k, member) in map.iter_mut() {
                    if !known.contains(&k.as_str()) {
                        inject_unknowns(values, member, counter);
                    }
                }
            }
            if matches!(
                o.additional,
                agentic_commerce::parse::schema::Additional::Shape(_)
            ) {
                // A typed map: a new key must still have a value of the map's type.
                return;
            }
            *counter += 1;
            map.insert(
                format!("x_future_field_{counter}"),
                serde_json::json!({"nested": [1, "two", null], "flag": true}),
            );
        }
        (Shape::Array(a), serde_json::Value::Array(items)) => {
            for item in items {
                inject_unknowns(a.items, item, counter);
            }
        }
        (Shape::Tagged(t), v @ serde_json::Value::Object(_)) => {
            let tag = v[t.tag].as_str().unwrap_or_default().to_owned();
            if let Some((_, variant)) = t.variants.iter().find(|(name, _)| *name == tag) {
                inject_unknowns(variant, v, counter);
            }
        }
        (Shape::String(s), v @ serde_json::Value::String(_)) if s.values.is_some() => {
            *counter += 1;
            *v = serde_json::Value::String(format!("future_value_{counter}"));
        }
        _ => {}
    }
}

#[test]
fn unknown_fields_and_enum_values_survive_a_round_trip() {
    let Some(spec) = spec_dir("unknown_fields_and_enum_values_survive_a_round_trip") else {
        return;
    };
    let mut injected_total = 0;
    for (
        version,
        Example {
            id,
            type_name,
            value,
        },
    ) in VERSIONS
        .iter()
        .flat_map(|v| examples_in(&spec, v).into_iter().map(move |e| (*v, e)))
    {
        let entry = registry::lookup_in(&api_version(version), type_name).unwrap();
        if !agentic_commerce::parse::schema::validate(entry.shape(), &value).is_empty() {
            continue;
        }
        let mut future = value.clone();
        let mut counter = 0;
        inject_unknowns(entry.shape(), &mut future, &mut counter);
        injected_total += counter;
        let out = entry.roundtrip(&future).unwrap_or_else(|e| {
            panic!("{version} {id}: lenient parse of a future payload failed: {e}")
        });
        equivalent(&future, &out, "$").unwrap_or_else(|e| panic!("{version} {id}: {e}"));
        // Strict validation reports the additions (unless every object is open).
        if counter > 0 {
            assert!(
                entry.roundtrip_strict(&future).is_err() || counter == 0,
                "{id}"
            );
        }
    }
    assert!(injected_total > 500, "injected {injected_total}");
    println!("{injected_total} unknown members and enum values injected and preserved");
}
