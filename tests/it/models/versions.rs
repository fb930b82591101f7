//! Every released spec version: per-version registry and operation bodies
//! (VER-02), per-version status sets enforced by strict validation (CHK-05),
//! and conversions between versions that report every loss.

use crate::common;

use agentic_commerce::parse::registry::{self, Body, BodyError};
use agentic_commerce::parse::schema::validate;
use agentic_commerce::protocol::headers::Operation;
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::protocol::version::convert::{self, ConvertError, Document};
use common::{OfficialSchemas, VERSIONS, api_version, equivalent, examples_in, spec_dir};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

#[test]
fn every_released_version_has_a_registry_ver_02() {
    let mut previous = 0;
    for version in ApiVersion::RELEASED {
        let types = registry::types_for(version).unwrap();
        assert!(types.len() > 30, "{version}: {}", types.len());
        assert!(types.len() >= previous, "{version} has fewer types");
        previous = types.len();
        for name in [
            "agentic_checkout.CheckoutSessionCreateRequest",
            "agentic_checkout.CheckoutSession",
            "agentic_checkout_webhook.WebhookEvent",
            "delegate_payment.DelegatePaymentRequest",
        ] {
            assert!(
                registry::lookup_in(version, name).is_some(),
                "{version} {name}"
            );
        }
    }
    assert_eq!(
        registry::types_for(&ApiVersion::LATEST).map(<[_]>::len),
        Some(registry::types().len())
    );
    // Bundles only later versions have.
    assert!(registry::lookup_in(&ApiVersion::V2026_01_30, "cart.Cart").is_none());
    assert!(registry::lookup_in(&ApiVersion::V2026_04_17, "cart.Cart").is_some());
    assert!(registry::lookup_in(&ApiVersion::V2026_01_16, "discount.coupon").is_none());
    assert!(registry::lookup_in(&ApiVersion::V2026_01_30, "discount.coupon").is_some());
    // Before 2026-04-17 the webhook's order is a standalone EventDataOrder.
    assert!(
        registry::lookup_in(&ApiVersion::V2025_09_29, "agentic_checkout_webhook.Refund").is_some()
    );
    assert!(
        registry::lookup_in(&ApiVersion::V2026_04_17, "agentic_checkout_webhook.Refund").is_none()
    );
    let unknown: ApiVersion = "2027-01-01".parse().unwrap();
    assert!(registry::types_for(&unknown).is_none());
    assert!(registry::lookup_in(&unknown, "agentic_checkout.Item").is_none());
}

#[test]
fn unchanged_types_are_one_rust_type() {
    // 2025-12-12 did not change the delegate payment bundle: same Rust type.
    fn same<T: 'static, U: 'static>() -> bool {
        std::any::TypeId::of::<T>() == std::any::TypeId::of::<U>()
    }
    use agentic_commerce::spec::{v2025_09_29, v2025_12_12, v2026_01_30, v2026_04_17};
    assert!(same::<
        v2025_09_29::delegate_payment::DelegatePaymentResponse,
        v2025_12_12::delegate_payment::DelegatePaymentResponse,
    >());
    // The status set changed: distinct types.
    assert!(!same::<
        v2025_09_29::agentic_checkout::CheckoutStatus,
        v2025_12_12::agentic_checkout::CheckoutStatus,
    >());
    assert!(same::<
        v2026_01_30::agentic_checkout::CheckoutStatus,
        v2026_04_17::agentic_checkout::CheckoutStatus,
    >());
}

#[test]
fn older_versions_reject_newer_statuses_chk_05() {
    let Some(spec) = spec_dir("older_versions_reject_newer_statuses_chk_05") else {
        return;
    };
    let latest = convert::statuses(&ApiVersion::LATEST).unwrap();
    let mut rejected = 0;
    for version in VERSIONS.iter() {
        let api = api_version(version);
        let own = convert::statuses(&api).unwrap();
        let session = examples_in(&spec, version)
            .into_iter()
            .find(|e| e.id.ends_with("#get_checkout_session_response"))
            .unwrap()
            .value;
        let entry = registry::lookup_in(&api, "agentic_checkout.CheckoutSession").unwrap();
        let official = OfficialSchemas::load_version(&spec, version)
            .validator("agentic_checkout", "CheckoutSession");
        for status in latest.iter().chain(own) {
            let mut value = session.clone();
            value["status"] = Value::from(*status);
            let ours = validate(entry.shape(), &value);
            let known = own.contains(status);
            assert_eq!(ours.is_empty(), known, "{version} {status}: {ours:?}");
            assert_eq!(official.is_valid(&value), known, "{version} {status}");
            if !known {
                assert_eq!(ours.len(), 1);
                assert_eq!(ours[0].path.to_string(), "$.status");
                rejected += 1;
                // Lenient parsing keeps it (an open enum), strict rejects it.
                let body = registry::check_body(
                    &api,
                    Operation::RetrieveCheckoutSession,
                    Body::Response,
                    &value,
                    true,
                );
                assert!(matches!(body, Err(BodyError::Invalid { .. })));
                // The strict check alone names the same violation.
                match registry::validate_body(
                    &api,
                    Operation::RetrieveCheckoutSession,
                    Body::Response,
                    &value,
                ) {
                    Err(BodyError::Invalid { violations, .. }) => {
                        assert_eq!(violations[0].path.to_string(), "$.status");
                    }
                    other => panic!("{version}: {other:?}"),
                }
                assert!(
                    registry::check_body(
                        &api,
                        Operation::RetrieveCheckoutSession,
                        Body::Response,
                        &value,
                        false
                    )
                    .is_ok()
                );
            }
        }
    }
    // 6 + 5 + 5 newer statuses missing from the three oldest versions.
    assert_eq!(rejected, 16);
}

#[test]
fn operation_bodies_per_version_ver_02() {
    let Some(spec) = spec_dir("operation_bodies_per_version_ver_02") else {
        return;
    };
    for version in VERSIONS.iter() {
        let api = api_version(version);
        for example in examples_in(&spec, version) {
            let (operation, body) = match example.id.split('#').nth(1).unwrap_or("") {
                "create_checkout_session_request" => {
                    (Operation::CreateCheckoutSession, Body::Request)
                }
                "update_checkout_session_response" => {
                    (Operation::UpdateCheckoutSession, Body::Response)
                }
                "delegate_payment_request" => (Operation::DelegatePayment, Body::Request),
                _ => continue,
            };
            let out = registry::check_body(&api, operation, body, &example.value, true)
                .unwrap_or_else(|e| panic!("{version} {}: {e}", example.id));
            registry::validate_body(&api, operation, body, &example.value)
                .unwrap_or_else(|e| panic!("{version} {}: {e}", example.id));
            equivalent(&example.value, &out, "$").unwrap();
        }
        let no_cart = registry::body_entry(&api, Operation::CreateCart, Body::Request);
        assert_eq!(no_cart.is_ok(), *version == "2026-04-17", "{version}");
        assert!(matches!(
            registry::body_entry(&api, Operation::RetrieveCheckoutSession, Body::Request),
            Err(BodyError::NoBody { .. })
        ));
    }
    let unknown: ApiVersion = "2030-01-01".parse().unwrap();
    assert!(matches!(
        registry::body_entry(&unknown, Operation::CreateCheckoutSession, Body::Request),
        Err(BodyError::UnsupportedVersion(_))
    ));
    assert!(matches!(
        registry::validate_body(
            &unknown,
            Operation::CreateCheckoutSession,
            Body::Request,
            &Value::Null
        ),
        Err(BodyError::UnsupportedVersion(_))
    ));
}

fn example(spec: &std::path::Path, version: &str, key: &str) -> Value {
    examples_in(spec, version)
        .into_iter()
        .find(|e| e.id.ends_with(&format!("#{key}")))
        .unwrap_or_else(|| panic!("{version} {key}"))
        .value
}

#[test]
fn an_old_update_request_upgrades_to_the_latest_type() {
    let Some(spec) = spec_dir("an_old_update_request_upgrades_to_the_latest_type") else {
        return;
    };
    let old = example(&spec, "2025-09-29", "update_checkout_session_request");
    // The official example carries only `fulfillment_option_id`: the option applies to every
    // item of the session, which the request does not name. Without the session it is refused
    // at that member, never converted into a selection of nothing (issue 19).
    match convert::upgrade_update_request(&ApiVersion::V2025_09_29, &old) {
        Err(ConvertError::Unrepresentable { violations, .. }) => {
            let paths: Vec<String> = violations.iter().map(|v| v.path.to_string()).collect();
            assert_eq!(paths, ["$.fulfillment_option_id"]);
        }
        other => panic!("{other:?}"),
    }
    // With items, the option applies to them.
    let with_items = json!({"items": [{"id": "item_1", "quantity": 1}],
        "fulfillment_option_id": old["fulfillment_option_id"]});
    match convert::upgrade_update_request(&ApiVersion::V2025_09_29, &with_items) {
        Err(ConvertError::Unrepresentable { violations, .. }) => {
            // The option's type is the session's: still refused without it.
            assert_eq!(violations[0].path.to_string(), "$.fulfillment_option_id");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_old_create_request_needs_currency_and_capabilities() {
    let Some(spec) = spec_dir("an_old_create_request_needs_currency_and_capabilities") else {
        return;
    };
    let old = example(&spec, "2026-01-16", "create_checkout_session_request");
    match convert::upgrade_create_request(&ApiVersion::V2026_01_16, &old) {
        Err(ConvertError::Incomplete { violations, .. }) => {
            let mut paths: Vec<String> = violations.iter().map(|v| v.path.to_string()).collect();
            paths.sort();
            assert_eq!(paths, ["$.capabilities", "$.currency"]);
        }
        other => panic!("{other:?}"),
    }
    // 2026-01-30 -> 2026-04-17 is lossless for requests.
    let recent = example(&spec, "2026-01-30", "create_checkout_session_request");
    let up = convert::upgrade_create_request(&ApiVersion::V2026_01_30, &recent).unwrap();
    assert!(up.is_lossless(), "{:?}", up.losses);
    equivalent(&recent, &serde_json::to_value(&up.value).unwrap(), "$").unwrap();
}

#[test]
fn latest_responses_downgrade_to_valid_older_documents() {
    let Some(spec) = spec_dir("latest_responses_downgrade_to_valid_older_documents") else {
        return;
    };
    let latest_session = example(&spec, "2026-04-17", "create_checkout_session_response");
    let typed: agentic_commerce::spec::v2026_04_17::agentic_checkout::CheckoutSession =
        serde_json::from_value(latest_session).unwrap();
    let down = convert::downgrade_checkout_session(&typed, &ApiVersion::V2026_01_30).unwrap();
    let entry =
        registry::lookup_in(&ApiVersion::V2026_01_30, "agentic_checkout.CheckoutSession").unwrap();
    assert_eq!(validate(entry.shape(), &down.value), []);
    // The 2026-04-17 session offers marketing consent; 2026-01-30 cannot say it.
    assert!(
        down.losses
            .iter()
            .any(|l| l.path.to_string() == "$.marketing_consent_options"),
        "{:?}",
        down.losses
    );
    // A webhook event becomes a standalone EventDataOrder.
    let event: agentic_commerce::spec::v2026_04_17::agentic_checkout_webhook::WebhookEvent =
        serde_json::from_value(json!({
            "type": "order_update",
            "data": {
                "type": "order", "id": "ord_1", "checkout_session_id": "cs_1",
                "permalink_url": "https://shop.example/o/1", "status": "completed",
                "adjustments": [{
                    "id": "adj_1", "type": "refund", "amount": 500, "status": "completed",
                    "occurred_at": "2026-05-01T10:00:00Z"
                }]
            }
        }))
        .unwrap();
    let down = convert::downgrade_webhook_event(&event, &ApiVersion::V2025_09_29).unwrap();
    assert_eq!(down.value["data"]["status"], "fulfilled");
    assert_eq!(
        down.value["data"]["refunds"],
        json!([{"type": "original_payment", "amount": 500}])
    );
    let lost: Vec<String> = down.losses.iter().map(ToString::to_string).collect();
    assert!(lost.iter().any(|l| l.starts_with("$.data.id:")), "{lost:?}");
    assert!(
        lost.iter().any(|l| l.starts_with("$.data.adjustments[0]:")),
        "{lost:?}"
    );
}

#[test]
fn a_status_an_old_version_lacks_is_mapped_and_reported_chk_05() {
    let Some(spec) = spec_dir("a_status_an_old_version_lacks_is_mapped_and_reported_chk_05") else {
        return;
    };
    let mut session = example(&spec, "2026-01-30", "get_checkout_session_response");
    session["status"] = json!("expired");
    let losses = match convert::convert(
        Document::CheckoutSession,
        &ApiVersion::V2026_01_30,
        &ApiVersion::V2026_01_16,
        &session,
    ) {
        Ok(down) => {
            assert_eq!(down.value["status"], "canceled");
            down.losses
        }
        Err(ConvertError::Incomplete { losses, .. }) => losses,
        Err(other) => panic!("{other}"),
    };
    let status: Vec<&str> = losses
        .iter()
        .filter(|l| l.path.to_string() == "$.status")
        .map(|l| l.what.as_str())
        .collect();
    assert_eq!(
        status,
        ["status `expired` does not exist in 2026-01-16: sent as `canceled`"]
    );
}

/// `upgrade(downgrade(x)) == x` for every value of a newer version whose
/// downgrade to the adjacent older version reports no loss.
#[test]
fn lossless_downgrades_upgrade_back_to_the_same_value() {
    let mut summary = Vec::new();
    let mut checked = 0;
    for pair in ApiVersion::RELEASED.windows(2) {
        let (older, newer) = (&pair[0], &pair[1]);
        for &document in Document::ALL {
            let entry = registry::lookup_in(newer, document.type_name()).unwrap();
            let mut runner = TestRunner::new(Config {
                cases: 24,
                failure_persistence: None,
                ..Config::default()
            });
            let lossless = std::cell::Cell::new(0u32);
            let result = runner.run(&common::arbitrary::value(entry.shape()), |x| {
                let x = entry
                    .roundtrip(&x)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let Ok(down) = convert::convert(document, newer, older, &x) else {
                    return Ok(());
                };
                if !down.is_lossless() {
                    return Ok(());
                }
                lossless.set(lossless.get() + 1);
                let up = convert::convert(document, older, newer, &down.value)
                    .map_err(|e| TestCaseError::fail(format!("upgrade failed: {e}")))?;
                if !up.is_lossless() {
                    return Err(TestCaseError::fail(format!(
                        "upgrade reported losses: {:?}",
                        up.losses
                    )));
                }
                equivalent(&x, &up.value, "$").map_err(|e| {
                    TestCaseError::fail(format!("{e}\nx = {x}\ndown = {}", down.value))
                })
            });
            if let Err(e) = result {
                panic!("{older} <- {newer} {document:?}: {e}");
            }
            // Values that fit the older version by construction: upgrades of
            // generated older values. Their downgrade must be lossless and give
            // the older value back, and upgrading that again gives `x`.
            let old_entry = registry::lookup_in(older, document.type_name()).unwrap();
            let upgraded = std::cell::Cell::new(0u32);
            let mut runner = TestRunner::new(Config {
                cases: 24,
                failure_persistence: None,
                ..Config::default()
            });
            let result = runner.run(&common::arbitrary::value(old_entry.shape()), |y| {
                let Ok(y) = old_entry.roundtrip(&y) else {
                    return Ok(());
                };
                let Ok(x) = convert::convert(document, older, newer, &y) else {
                    return Ok(());
                };
                if !x.is_lossless() {
                    return Ok(());
                }
                upgraded.set(upgraded.get() + 1);
                let down = convert::convert(document, newer, older, &x.value)
                    .map_err(|e| TestCaseError::fail(format!("downgrade failed: {e}")))?;
                if !down.is_lossless() {
                    return Err(TestCaseError::fail(format!(
                        "downgrade of an upgraded value lost {:?}\ny = {y}",
                        down.losses
                    )));
                }
                equivalent(&y, &down.value, "$").map_err(TestCaseError::fail)?;
                let again = convert::convert(document, older, newer, &down.value)
                    .map_err(|e| TestCaseError::fail(format!("upgrade failed: {e}")))?;
                equivalent(&x.value, &again.value, "$").map_err(TestCaseError::fail)
            });
            if let Err(e) = result {
                panic!("{older} -> {newer} {document:?}: {e}");
            }
            checked += lossless.get() + upgraded.get();
            summary.push(format!(
                "{older}<-{newer} {document:?}: {} lossless downgrades, {} lossless upgrades",
                lossless.get(),
                upgraded.get()
            ));
        }
    }
    println!("{}", summary.join("\n"));
    // Guards against the filters making the property vacuous.
    assert!(checked > 300, "only {checked} lossless conversions checked");
}

/// Every 2026-04-17 checkout session of the official examples downgrades to
/// every older version: line item amounts are rebuilt from the line's
/// `totals`, the quantity moves back into the item, and the result is valid
/// for that version's generated shape and its official JSON Schema.
#[test]
fn latest_sessions_downgrade_to_every_older_version_chk_05() {
    let Some(spec) = spec_dir("latest_sessions_downgrade_to_every_older_version_chk_05") else {
        return;
    };
    let sessions: Vec<(String, Value)> = examples_in(&spec, "2026-04-17")
        .into_iter()
        .filter(|e| {
            e.id.contains("examples.agentic_checkout.json#")
                && e.id.ends_with("_session_response")
                && !e.id.contains("complete")
        })
        .map(|e| (e.id, e.value))
        .collect();
    assert!(sessions.len() >= 3, "{sessions:?}");
    let mut converted = 0;
    for version in &ApiVersion::RELEASED[..4] {
        let official = OfficialSchemas::load_version(&spec, version.as_str())
            .validator("agentic_checkout", "CheckoutSession");
        let entry = registry::lookup_in(version, "agentic_checkout.CheckoutSession").unwrap();
        for (id, session) in &sessions {
            let typed: agentic_commerce::spec::v2026_04_17::agentic_checkout::CheckoutSession =
                serde_json::from_value(session.clone()).unwrap();
            let down = match convert::downgrade_checkout_session(&typed, version) {
                Ok(down) => down,
                // 2025-09-29 options require `subtotal` and `tax`; an option
                // with only a `total` cannot give them (not invented).
                Err(ConvertError::Incomplete { violations, .. })
                    if *version == ApiVersion::V2025_09_29 =>
                {
                    for v in &violations {
                        let path = v.path.to_string();
                        assert!(
                            path.starts_with("$.fulfillment_options[")
                                && (path.ends_with("].subtotal") || path.ends_with("].tax")),
                            "{id}: {path}"
                        );
                    }
                    let mut fuller = session.clone();
                    for option in fuller["fulfillment_options"].as_array_mut().unwrap() {
                        let total = option["totals"][0]["amount"].clone();
                        option["totals"] = json!([
                            {"type": "subtotal", "display_text": "Subtotal", "amount": total},
                            {"type": "tax", "display_text": "Tax", "amount": 0},
                            {"type": "total", "display_text": "Total", "amount": total}
                        ]);
                    }
                    let typed = serde_json::from_value(fuller).unwrap();
                    convert::downgrade_checkout_session(&typed, version)
                        .unwrap_or_else(|e| panic!("{id} -> {version}: {e}"))
                }
                Err(e) => panic!("{id} -> {version}: {e}"),
            };
            assert_eq!(
                validate(entry.shape(), &down.value),
                [],
                "{id} -> {version}"
            );
            assert!(official.is_valid(&down.value), "{id} -> {version}");
            if version.as_str() < "2026-01-30" {
                for (i, line) in session["line_items"].as_array().unwrap().iter().enumerate() {
                    let old = &down.value["line_items"][i];
                    assert_eq!(old["item"]["quantity"], line["quantity"], "{id}");
                    for (key, kind) in [
                        ("base_amount", "items_base_amount"),
                        ("discount", "discount"),
                        ("subtotal", "subtotal"),
                        ("tax", "tax"),
                        ("total", "total"),
                    ] {
                        let amount = line["totals"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .find(|t| t["type"] == kind)
                            .map(|t| t["amount"].clone());
                        assert_eq!(Some(old[key].clone()), amount, "{id} {version} {key}");
                    }
                }
            }
            converted += 1;
        }
    }
    assert_eq!(converted, sessions.len() * 4);
    // The complete response keeps its order in every version.
    let done = example(&spec, "2026-04-17", "complete_checkout_session_response");
    let typed: agentic_commerce::spec::v2026_04_17::agentic_checkout::CheckoutSessionWithOrder =
        serde_json::from_value(done.clone()).unwrap();
    for version in &ApiVersion::RELEASED[1..4] {
        let down = convert::downgrade_checkout_session_with_order(&typed, version)
            .unwrap_or_else(|e| panic!("{version}: {e:?}"));
        assert_eq!(down.value["order"]["id"], done["order"]["id"], "{version}");
        let entry =
            registry::lookup_in(version, "agentic_checkout.CheckoutSessionWithOrder").unwrap();
        assert_eq!(validate(entry.shape(), &down.value), [], "{version}");
    }
}

/// Line item amounts that are not in the `totals` list are not invented: a
/// missing `discount` is 0 only when subtotal = base amount (reported), any
/// other missing amount makes the downgrade incomplete.
#[test]
fn line_item_amounts_are_derived_only_when_exact() {
    let Some(spec) = spec_dir("line_item_amounts_are_derived_only_when_exact") else {
        return;
    };
    let mut session = example(&spec, "2026-01-30", "get_checkout_session_response");
    let totals = json!([
        {"type": "items_base_amount", "display_text": "Base Amount", "amount": 300},
        {"type": "subtotal", "display_text": "Subtotal", "amount": 300},
        {"type": "tax", "display_text": "Tax", "amount": 30},
        {"type": "total", "display_text": "Total", "amount": 330}
    ]);
    session["line_items"][0]["totals"] = totals.clone();
    let down = convert::convert(
        Document::CheckoutSession,
        &ApiVersion::V2026_01_30,
        &ApiVersion::V2026_01_16,
        &session,
    )
    .unwrap();
    assert_eq!(down.value["line_items"][0]["discount"], 0);
    assert!(
        down.losses
            .iter()
            .any(|l| l.path.to_string() == "$.line_items[0].totals"
                && l.what.contains("discount of 0")),
        "{:?}",
        down.losses
    );
    // Without a tax entry the old line item cannot be built.
    session["line_items"][0]["totals"] = json!([totals[0], totals[1], totals[3]]);
    match convert::convert(
        Document::CheckoutSession,
        &ApiVersion::V2026_01_30,
        &ApiVersion::V2026_01_16,
        &session,
    ) {
        Err(ConvertError::Incomplete { violations, .. }) => {
            let paths: Vec<String> = violations.iter().map(|v| v.path.to_string()).collect();
            assert_eq!(paths, ["$.line_items[0].tax"]);
        }
        other => panic!("{other:?}"),
    }
}

/// A buyer without first and last name cannot be a 2026-01-16 buyer: it is
/// not sent, and that is reported (the spec defines no split of `full_name`).
#[test]
fn a_buyer_without_names_is_reported_not_invented() {
    let Some(spec) = spec_dir("a_buyer_without_names_is_reported_not_invented") else {
        return;
    };
    let mut session = example(&spec, "2026-01-30", "get_checkout_session_response");
    session["buyer"] = json!({"email": "a@example.com", "full_name": "Ada Lovelace"});
    let down = convert::convert(
        Document::CheckoutSession,
        &ApiVersion::V2026_01_30,
        &ApiVersion::V2026_01_16,
        &session,
    )
    .unwrap();
    assert!(down.value.get("buyer").is_none());
    assert!(
        down.losses.iter().any(|l| l.path.to_string() == "$.buyer"),
        "{:?}",
        down.losses
    );
    // With both names the buyer is kept; full_name alone is reported.
    session["buyer"] = json!({"email": "a@example.com", "first_name": "Ada",
        "last_name": "Lovelace", "full_name": "Ada Lovelace"});
    let down = convert::convert(
        Document::CheckoutSession,
        &ApiVersion::V2026_01_30,
        &ApiVersion::V2026_01_16,
        &session,
    )
    .unwrap();
    assert_eq!(
        down.value["buyer"],
        json!({"email": "a@example.com", "first_name": "Ada", "last_name": "Lovelace"})
    );
    assert!(
        down.losses
            .iter()
            .any(|l| l.path.to_string() == "$.buyer.full_name"),
        "{:?}",
        down.losses
    );
}

/// With the merchant's defaults an old create request upgrades to
/// 2026-04-17; every supplied member is listed, none is reported as carried.
#[test]
fn old_requests_upgrade_with_merchant_defaults() {
    let Some(spec) = spec_dir("old_requests_upgrade_with_merchant_defaults") else {
        return;
    };
    let defaults = convert::UpgradeDefaults::new()
        .currency("usd")
        .capabilities(json!({"interventions": {"supported": ["3ds"]}}))
        .payment_handler("stripe", "card_tokenized", "card", "spt");
    for version in &ApiVersion::RELEASED[..3] {
        let mut old = example(&spec, version.as_str(), "create_checkout_session_request");
        if *version == ApiVersion::V2025_09_29 {
            // The example orders 2.5 units: a fraction cannot be ordered after 2025-09-29, so
            // it is refused at the quantity, never dropped (issue 19).
            match convert::upgrade_create_request_with(version, &old, &defaults) {
                Err(ConvertError::Unrepresentable { violations, .. }) => {
                    assert_eq!(violations[0].path.to_string(), "$.items[0].quantity");
                }
                other => panic!("{other:?}"),
            }
            old["items"][0]["quantity"] = json!(1);
        }
        let up = convert::upgrade_create_request_with(version, &old, &defaults)
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        let json = serde_json::to_value(&up.value).unwrap();
        assert_eq!(json["currency"], "usd");
        assert_eq!(json["capabilities"]["interventions"]["supported"][0], "3ds");
        let supplied: Vec<String> = up.supplied.iter().map(|s| s.path.to_string()).collect();
        assert_eq!(supplied, ["$.currency", "$.capabilities"], "{version}");
        // Without defaults: still incomplete.
        assert!(matches!(
            convert::upgrade_create_request(version, &old),
            Err(ConvertError::Incomplete { .. })
        ));
        let complete = example(&spec, version.as_str(), "complete_checkout_session_request");
        let up = convert::upgrade_complete_request_with(version, &complete, &defaults)
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        let json = serde_json::to_value(&up.value).unwrap();
        assert_eq!(json["payment_data"]["handler_id"], "card_tokenized");
        assert_eq!(
            json["payment_data"]["instrument"]["credential"]["token"],
            complete["payment_data"]["token"]
        );
        assert_eq!(up.supplied.len(), 3, "{:?}", up.supplied);
        assert!(
            !up.losses
                .iter()
                .any(|l| l.path.to_string().starts_with("$.payment_data")),
            "{:?}",
            up.losses
        );
        // A provider the merchant did not map cannot be carried: refused at the payment.
        let other = convert::UpgradeDefaults::new().payment_handler("adyen", "h", "card", "spt");
        match convert::upgrade_complete_request_with(version, &complete, &other) {
            Err(ConvertError::Unrepresentable { violations, .. }) => assert!(
                violations
                    .iter()
                    .all(|v| v.path.to_string().starts_with("$.payment_data")),
                "{violations:?}"
            ),
            other => panic!("{other:?}"),
        }
    }
    // Defaults never override what the request carries.
    let recent = example(&spec, "2026-01-30", "create_checkout_session_request");
    let up = convert::upgrade_create_request_with(
        &ApiVersion::V2026_01_30,
        &recent,
        &convert::UpgradeDefaults::new().currency("zzz"),
    )
    .unwrap();
    assert!(up.supplied.is_empty());
    assert_eq!(
        serde_json::to_value(&up.value).unwrap()["currency"],
        recent["currency"]
    );
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: 12,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Values `x` of `newer` whose downgrade to `older` loses nothing but the
/// members the merchant's defaults (taken from `x`) refill: the upgrade of
/// the downgrade is `x`. Returns how many values were checked.
fn down_up(older: &ApiVersion, newer: &ApiVersion, document: Document) -> u32 {
    let count = std::cell::Cell::new(0u32);
    let entry = registry::lookup_in(newer, document.type_name())
        .unwrap_or_else(|| panic!("{newer} {document:?}"));
    let refilled = |path: &str| match document {
        Document::CreateRequest => path == "$.currency" || path == "$.capabilities",
        Document::CheckoutSession | Document::CheckoutSessionWithOrder => path == "$.capabilities",
        _ => false,
    };
    let result = runner().run(&common::arbitrary::value(entry.shape()), |x| {
        let Ok(x) = entry.roundtrip(&x) else {
            return Ok(());
        };
        let Ok(down) = convert::convert(document, newer, older, &x) else {
            return Ok(());
        };
        if down.losses.iter().any(|l| !refilled(&l.path.to_string())) {
            return Ok(());
        }
        count.set(count.get() + 1);
        let mut defaults = convert::UpgradeDefaults::new();
        if let Some(c) = x.get("currency").and_then(Value::as_str) {
            defaults = defaults.currency(c);
        }
        if let Some(c) = x.get("capabilities") {
            defaults = defaults.capabilities(c.clone());
        }
        let up = convert::convert_with(document, older, newer, &down.value, &defaults)
            .map_err(|e| TestCaseError::fail(format!("upgrade failed: {e}")))?;
        if !up.is_lossless() {
            return Err(TestCaseError::fail(format!("{:?}", up.losses)));
        }
        equivalent(&x, &up.value, "$")
            .map_err(|e| TestCaseError::fail(format!("{e}\nx = {x}\ndown = {}", down.value)))
    });
    if let Err(e) = result {
        panic!("{older} <- {newer} {document:?}: {e}");
    }
    count.get()
}

/// Values `y` of `older` that upgrade to `newer` without loss: the downgrade
/// gives `y` back (losing only what the defaults supplied) and upgrading
/// that again gives the same value. Returns how many values were checked.
fn up_down_up(older: &ApiVersion, newer: &ApiVersion, document: Document) -> u32 {
    let count = std::cell::Cell::new(0u32);
    let entry = registry::lookup_in(older, document.type_name())
        .unwrap_or_else(|| panic!("{older} {document:?}"));
    let defaults = convert::UpgradeDefaults::new()
        .currency("usd")
        .capabilities(json!({}));
    let result = runner().run(&common::arbitrary::value(entry.shape()), |y| {
        let Ok(y) = entry.roundtrip(&y) else {
            return Ok(());
        };
        let Ok(x) = convert::convert_with(document, older, newer, &y, &defaults) else {
            return Ok(());
        };
        if !x.is_lossless() {
            return Ok(());
        }
        count.set(count.get() + 1);
        let down = convert::convert(document, newer, older, &x.value)
            .map_err(|e| TestCaseError::fail(format!("downgrade failed: {e}")))?;
        let supplied: Vec<String> = x.supplied.iter().map(|s| s.path.to_string()).collect();
        if let Some(l) = down
            .losses
            .iter()
            .find(|l| !supplied.contains(&l.path.to_string()))
        {
            return Err(TestCaseError::fail(format!("lost {l}\ny = {y}")));
        }
        equivalent(&y, &down.value, "$").map_err(TestCaseError::fail)?;
        let again = convert::convert_with(document, older, newer, &down.value, &defaults)
            .map_err(|e| TestCaseError::fail(format!("upgrade failed: {e}")))?;
        equivalent(&x.value, &again.value, "$").map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{older} -> {newer} {document:?}: {e}");
    }
    count.get()
}

/// `upgrade(downgrade(x)) == x` across every pair of released versions,
/// adjacent and chained, for values that fit the older version; the members
/// only newer versions require (`currency`, `capabilities`) come back from
/// the merchant's defaults.
#[test]
fn round_trips_across_every_pair_of_versions() {
    let mut checked = 0u32;
    let mut summary = Vec::new();
    let released = ApiVersion::RELEASED;
    for (i, older) in released.iter().enumerate() {
        for newer in &released[i + 1..] {
            for &document in Document::ALL {
                let down = down_up(older, newer, document);
                let up = up_down_up(older, newer, document);
                checked += down + up;
                summary.push(format!(
                    "{older}..{newer} {document:?}: {down} down-up, {up} up-down-up"
                ));
            }
        }
    }
    println!("{}", summary.join("\n"));
    // Guards against the filters making the property vacuous.
    assert!(checked > 300, "only {checked} round trips checked");
}

/// The official 2026-01-16 sessions upgrade to 2026-01-30 with the
/// merchant's capabilities (line item amounts become `totals`) and
/// downgrade back to themselves, apart from the members the upgrade reported
/// lost (the payment provider, replaced by handlers).
#[test]
fn official_2026_01_16_sessions_round_trip_through_2026_01_30() {
    let Some(spec) = spec_dir("official_2026_01_16_sessions_round_trip_through_2026_01_30") else {
        return;
    };
    let defaults = convert::UpgradeDefaults::new().capabilities(json!({}));
    let mut checked = 0;
    for example in examples_in(&spec, "2026-01-16") {
        if !example.id.ends_with("_session_response") || example.id.contains("complete") {
            continue;
        }
        let y = example.value;
        let up = convert::convert_with(
            Document::CheckoutSession,
            &ApiVersion::V2026_01_16,
            &ApiVersion::V2026_01_30,
            &y,
            &defaults,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", example.id));
        let lines = up.value["line_items"].as_array().unwrap();
        for (i, line) in lines.iter().enumerate() {
            assert_eq!(line["quantity"], y["line_items"][i]["item"]["quantity"]);
            assert_eq!(line["totals"][0]["type"], "items_base_amount");
            assert_eq!(
                line["totals"][0]["amount"],
                y["line_items"][i]["base_amount"]
            );
        }
        let mut expected = y.clone();
        for loss in &up.losses {
            let path = loss.path.to_string();
            let key = path.trim_start_matches("$.");
            assert!(!key.contains(['.', '[']), "{}: {loss}", example.id);
            expected.as_object_mut().unwrap().remove(key);
        }
        let down = convert::convert(
            Document::CheckoutSession,
            &ApiVersion::V2026_01_30,
            &ApiVersion::V2026_01_16,
            &up.value,
        )
        .unwrap();
        let lost: Vec<String> = down.losses.iter().map(|l| l.path.to_string()).collect();
        assert_eq!(lost, ["$.capabilities"], "{}", example.id);
        equivalent(&expected, &down.value, "$").unwrap_or_else(|e| panic!("{}: {e}", example.id));
        checked += 1;
    }
    assert!(checked >= 3, "{checked}");
}

#[test]
fn transitions_per_version_chk_05() {
    use agentic_commerce::checkout::{Event, TransitionError, transition_in};
    use agentic_commerce::spec::v2026_04_17::agentic_checkout::CheckoutStatus as S;
    let complete = Event::Complete {
        has_authentication_result: false,
    };
    for version in ApiVersion::RELEASED {
        let known = convert::statuses(version).unwrap();
        let processing = transition_in(version, &S::ReadyForPayment, complete).unwrap();
        assert!(
            known.contains(&processing.as_str()),
            "{version} {processing}"
        );
        let expected = if known.contains(&"complete_in_progress") {
            S::CompleteInProgress
        } else {
            S::InProgress
        };
        assert_eq!(processing, expected, "{version}");
        assert_eq!(
            transition_in(version, &processing, Event::PaymentAuthorized),
            Ok(S::Completed)
        );
        // Expiry exists only from 2026-01-30.
        let expire = transition_in(version, &S::ReadyForPayment, Event::Expire);
        assert_eq!(expire.is_ok(), known.contains(&"expired"), "{version}");
        if let Err(e) = expire {
            assert!(
                matches!(e, TransitionError::NotInVersion { ref status, .. } if status == "expired")
            );
            assert_eq!(e.to_acp_error().status(), 500);
        }
        // 3DS exists from 2025-12-12.
        let auth = transition_in(version, &S::ReadyForPayment, Event::AuthenticationRequired);
        assert_eq!(auth.is_ok(), known.contains(&"authentication_required"));
        // A current status the version lacks is refused.
        let from_incomplete = transition_in(version, &S::Incomplete, Event::Cancel);
        assert_eq!(from_incomplete.is_ok(), known.contains(&"incomplete"));
    }
    let unknown: ApiVersion = "2027-01-01".parse().unwrap();
    assert!(matches!(
        transition_in(&unknown, &S::ReadyForPayment, Event::Cancel),
        Err(TransitionError::UnsupportedVersion(_))
    ));
}

#[test]
fn negotiation_exists_from_2026_01_30_neg_09() {
    use agentic_commerce::protocol::capabilities::{
        NotNegotiable, SellerOffer, applies_to, negotiate_in,
    };
    use agentic_commerce::spec::v2026_04_17::agentic_checkout::Capabilities;
    let agent = Capabilities::new();
    let seller = SellerOffer::default();
    for version in ApiVersion::RELEASED {
        let applies = version.as_str() >= "2026-01-30";
        assert_eq!(applies_to(version), applies, "{version}");
        let outcome = negotiate_in(version, &agent, &seller);
        if applies {
            let negotiation = outcome.unwrap();
            assert!(negotiation.is_compatible());
        } else {
            assert_eq!(
                outcome.unwrap_err(),
                NotNegotiable::NoCapabilities(version.to_string())
            );
        }
    }
    let unknown: ApiVersion = "2027-01-01".parse().unwrap();
    assert!(matches!(
        negotiate_in(&unknown, &agent, &seller),
        Err(NotNegotiable::UnsupportedVersion(_))
    ));
}
