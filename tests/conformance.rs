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

mod common;

use agentic_commerce::registry;
use agentic_commerce::schema::Violation;
use common::{Example, OfficialSchemas, equivalent, examples, spec_dir};

fn summary(violations: &[Violation]) -> Vec<String> {
    let mut out: Vec<String> = violations
        .iter()
        .map(|v| format!("{} {}", v.kind.as_str(), v.path))
        .collect();
    out.sort();
    out
}

/// Official examples that break the official schema, with the reason (from
/// the spec digest, section 12.1) and the exact defects strict validation must
/// report. Every other example must be valid.
const ERRATA: &[(&str, &str, &[&str])] = &[
    (
        "discount-extension/*.json#request",
        "Discount example requests carry `quantity` on line items (Item is closed since 2026-01-30) and omit the required `capabilities`.",
        &[],
    ),
    (
        "discount-extension/*.json#response",
        "Discount example responses use the RFC's `capabilities.payment_methods`, which the schema replaced with `payment.handlers`.",
        &["additional_property $.capabilities.payment_methods"],
    ),
    (
        "examples.agentic_checkout.json#authentication_result_denied_example",
        "`outcome_details` is all-or-nothing: the denied example omits the cryptogram and ECI.",
        &[
            "required $.outcome_details.electronic_commerce_indicator",
            "required $.outcome_details.three_ds_cryptogram",
        ],
    ),
    (
        "examples.agentic_checkout.json#webhook_order_*_event",
        "Webhook examples still use the pre-2026-04-17 EventDataOrder: legacy `refunds`, no Order `id`.",
        &["additional_property $.data.refunds", "required $.data.id"],
    ),
    (
        "examples.delegate_authentication.json#retrieve_session_response_{authenticated,attempted,not_authenticated,rejected,challenge_abandoned}",
        "DelegateAuthenticationSessionWithResult is unsatisfiable with a result: its closed base forbids `authentication_result`.",
        &["additional_property $.authentication_result"],
    ),
    (
        "examples.mcp.agentic_checkout.json#{get,update,complete,cancel}_checkout_session_response.result",
        "MCP get/update/complete/cancel results omit the required `fulfillment_options`.",
        &["required $.fulfillment_options"],
    ),
    (
        "examples.mcp.agentic_checkout.json#create_checkout_session_response.result",
        "The MCP create result uses link type `terms_of_service`, not in the Link type enum.",
        &["enum $.links[0].type"],
    ),
    (
        "examples.mcp.agentic_checkout.json#complete_checkout_session_request.params.arguments.payload",
        "The MCP complete payload sends `instrument: {token}` without `type` and `credential`.",
        &[
            "required $.payment_data.instrument.credential",
            "required $.payment_data.instrument.type",
        ],
    ),
    (
        "examples.mcp.agentic_checkout.json#update_checkout_session_request.params.arguments.payload",
        "The MCP update payload uses the 2025-12-12 nested `{type, shipping: {option_id, item_ids}}` form.",
        &[
            "additional_property $.selected_fulfillment_options[0].shipping",
            "required $.selected_fulfillment_options[0].item_ids",
            "required $.selected_fulfillment_options[0].option_id",
        ],
    ),
    (
        "examples.multi_item_checkout.json#create_multi_item_checkout_request",
        "The multi-item request omits the required `capabilities`.",
        &["required $.capabilities"],
    ),
    (
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

fn erratum(id: &str) -> Option<&'static (&'static str, &'static str, &'static [&'static str])> {
    ERRATA.iter().find(|(pattern, _, _)| matches(pattern, id))
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
    let official = OfficialSchemas::load(&spec);
    let all = examples(&spec);
    let mut errata_seen = 0;
    let mut used_patterns = std::collections::BTreeSet::new();
    for Example {
        id,
        type_name,
        value,
    } in &all
    {
        let entry = registry::lookup(type_name).unwrap_or_else(|| panic!("{type_name} registered"));
        let ours = agentic_commerce::schema::validate(entry.shape(), value);
        let (bundle, name) = type_name.split_once('.').unwrap();
        let official_valid = official.validator(bundle, name).is_valid(value);
        assert_eq!(
            ours.is_empty(),
            official_valid,
            "{id}: strict validation and the official schema disagree: {:?}",
            summary(&ours)
        );
        match erratum(id) {
            Some((pattern, reason, listed)) => {
                errata_seen += 1;
                used_patterns.insert(*pattern);
                assert!(!reason.is_empty());
                assert_eq!(
                    summary(&ours),
                    expected_defects(id, listed, value),
                    "{id}: erratum ({reason}) must report exactly its defects"
                );
            }
            None => assert!(ours.is_empty(), "{id} [{type_name}]: {:?}", summary(&ours)),
        }
    }
    assert_eq!(
        used_patterns.len(),
        ERRATA.len(),
        "every erratum matches an example"
    );
    println!(
        "{} official examples checked, {} valid, {errata_seen} listed errata",
        all.len(),
        all.len() - errata_seen
    );
    assert!(
        all.len() >= 90,
        "expected the full example set, found {}",
        all.len()
    );
}

#[test]
fn every_valid_official_example_round_trips_losslessly() {
    let Some(spec) = spec_dir("every_valid_official_example_round_trips_losslessly") else {
        return;
    };
    let mut count = 0;
    for Example {
        id,
        type_name,
        value,
    } in examples(&spec)
    {
        let entry = registry::lookup(type_name).unwrap();
        let valid = agentic_commerce::schema::validate(entry.shape(), &value).is_empty();
        match entry.roundtrip(&value) {
            Ok(out) => {
                equivalent(&value, &out, "$").unwrap_or_else(|e| panic!("{id}: {e}"));
                count += 1;
            }
            Err(e) => assert!(!valid, "{id}: a schema-valid example failed to parse: {e}"),
        }
    }
    println!("{count} official examples round-tripped");
}

/// Adds an unknown member to every object and replaces every value of an open
/// enum with a value no spec version defines.
fn inject_unknowns(
    shape: &agentic_commerce::schema::Shape,
    value: &mut serde_json::Value,
    counter: &mut usize,
) {
    use agentic_commerce::schema::Shape;
    match (shape.resolve(), value) {
        (Shape::Object(o), serde_json::Value::Object(map)) => {
            for field in o.fields {
                if let Some(member) = map.get_mut(field.name) {
                    inject_unknowns(field.shape, member, counter);
                }
            }
            if let agentic_commerce::schema::Additional::Shape(values) = o.additional {
                let known: Vec<&str> = o.fields.iter().map(|f| f.name).collect();
                for (k, member) in map.iter_mut() {
                    if !known.contains(&k.as_str()) {
                        inject_unknowns(values, member, counter);
                    }
                }
            }
            if matches!(o.additional, agentic_commerce::schema::Additional::Shape(_)) {
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
    for Example {
        id,
        type_name,
        value,
    } in examples(&spec)
    {
        let entry = registry::lookup(type_name).unwrap();
        if !agentic_commerce::schema::validate(entry.shape(), &value).is_empty() {
            continue;
        }
        let mut future = value.clone();
        let mut counter = 0;
        inject_unknowns(entry.shape(), &mut future, &mut counter);
        injected_total += counter;
        let out = entry
            .roundtrip(&future)
            .unwrap_or_else(|e| panic!("{id}: lenient parse of a future payload failed: {e}"));
        equivalent(&future, &out, "$").unwrap_or_else(|e| panic!("{id}: {e}"));
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
