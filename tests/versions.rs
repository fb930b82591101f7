//! Every released spec version: per-version registry and operation bodies
//! (VER-02), per-version status sets enforced by strict validation (CHK-05),
//! and conversions between versions that report every loss.

mod common;

use agentic_commerce::headers::Operation;
use agentic_commerce::registry::{self, Body, BodyError};
use agentic_commerce::schema::validate;
use agentic_commerce::version::ApiVersion;
use agentic_commerce::versioned::{self, ConvertError, Document};
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
    let latest = versioned::statuses(&ApiVersion::LATEST).unwrap();
    let mut rejected = 0;
    for version in VERSIONS {
        let api = api_version(version);
        let own = versioned::statuses(&api).unwrap();
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
    for version in VERSIONS {
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
    let converted = versioned::upgrade_update_request(&ApiVersion::V2025_09_29, &old).unwrap();
    let json = serde_json::to_value(&converted.value).unwrap();
    if let Some(id) = old.get("fulfillment_option_id") {
        assert_eq!(json["selected_fulfillment_options"][0]["option_id"], *id);
        assert!(json.get("fulfillment_option_id").is_none());
    }
    // Every quantity other than 1 is reported lost (2026-01-30 requests have none).
    let quantities = old["items"].as_array().map_or(0, |items| {
        items.iter().filter(|i| i["quantity"] != json!(1)).count()
    });
    let quantity_losses = converted
        .losses
        .iter()
        .filter(|l| l.what.contains("quantity"))
        .count();
    assert_eq!(quantity_losses, quantities, "{:?}", converted.losses);
}

#[test]
fn an_old_create_request_needs_currency_and_capabilities() {
    let Some(spec) = spec_dir("an_old_create_request_needs_currency_and_capabilities") else {
        return;
    };
    let old = example(&spec, "2026-01-16", "create_checkout_session_request");
    match versioned::upgrade_create_request(&ApiVersion::V2026_01_16, &old) {
        Err(ConvertError::Incomplete { violations, .. }) => {
            let mut paths: Vec<String> = violations.iter().map(|v| v.path.to_string()).collect();
            paths.sort();
            assert_eq!(paths, ["$.capabilities", "$.currency"]);
        }
        other => panic!("{other:?}"),
    }
    // 2026-01-30 -> 2026-04-17 is lossless for requests.
    let recent = example(&spec, "2026-01-30", "create_checkout_session_request");
    let up = versioned::upgrade_create_request(&ApiVersion::V2026_01_30, &recent).unwrap();
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
    let down = versioned::downgrade_checkout_session(&typed, &ApiVersion::V2026_01_30).unwrap();
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
    let down = versioned::downgrade_webhook_event(&event, &ApiVersion::V2025_09_29).unwrap();
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
    let losses = match versioned::convert(
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
        for document in Document::ALL {
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
                let Ok(down) = versioned::convert(document, newer, older, &x) else {
                    return Ok(());
                };
                if !down.is_lossless() {
                    return Ok(());
                }
                lossless.set(lossless.get() + 1);
                let up = versioned::convert(document, older, newer, &down.value)
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
                let Ok(x) = versioned::convert(document, older, newer, &y) else {
                    return Ok(());
                };
                if !x.is_lossless() {
                    return Ok(());
                }
                upgraded.set(upgraded.get() + 1);
                let down = versioned::convert(document, newer, older, &x.value)
                    .map_err(|e| TestCaseError::fail(format!("downgrade failed: {e}")))?;
                if !down.is_lossless() {
                    return Err(TestCaseError::fail(format!(
                        "downgrade of an upgraded value lost {:?}\ny = {y}",
                        down.losses
                    )));
                }
                equivalent(&y, &down.value, "$").map_err(TestCaseError::fail)?;
                let again = versioned::convert(document, older, newer, &down.value)
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
