//! An older agent's request reaches the 2026-04-17 logic with its meaning, or is refused
//! (issue 19): for generated requests of every released version and every official request
//! example, the effective order after `convert::upgrade_*` (items and quantities, the
//! selected options and the items they apply to, the address, the buyer) equals what the
//! request asked for; a request that cannot be carried is `Unrepresentable` at a path that
//! exists in the request as sent. Errors answered in an older version are valid for it.

use crate::common;

use std::collections::BTreeMap;

use agentic_commerce::parse::json_path::JsonPath;
use agentic_commerce::parse::registry;
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::protocol::version::convert::{self, ConvertError, Document, UpgradeDefaults};
use agentic_commerce::spec::v2026_04_17::agentic_checkout::CheckoutSession;
use common::{examples_in, spec_dir};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

/// What a request asks for, in version-independent terms.
#[derive(Debug, PartialEq)]
struct Order {
    /// Units per item id (`None`: the request does not name items).
    units: Option<BTreeMap<String, u64>>,
    /// The selected option per item id (`None`: no selection).
    selection: Option<BTreeMap<String, String>>,
    address: Option<Value>,
    contact: Option<Value>,
    buyer: Option<Value>,
}

fn id_of(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// The order an old request asks for; `session_items` are the items of the session an update
/// applies to (a 2025-09-29 option applies to every item).
fn asked(version: &ApiVersion, request: &Value, session_items: &[String]) -> Option<Order> {
    let v = version.as_str();
    let list = if v < "2026-01-30" {
        "items"
    } else {
        "line_items"
    };
    let units = match request.get(list).and_then(Value::as_array) {
        Some(items) => {
            let mut units = BTreeMap::new();
            for item in items {
                let n = match item.get("quantity") {
                    None => 1,
                    Some(q) => {
                        let q = q.as_f64()?;
                        if q.fract() != 0.0 || q < 1.0 {
                            return None;
                        }
                        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                        let n = q as u64;
                        n
                    }
                };
                *units.entry(id_of(&item["id"])).or_insert(0) += n;
            }
            Some(units)
        }
        None => None,
    };
    let selection = if v == "2025-09-29" {
        request.get("fulfillment_option_id").map(|id| {
            let items: Vec<String> = match &units {
                Some(units) => units.keys().cloned().collect(),
                None => session_items.to_vec(),
            };
            items.into_iter().map(|i| (i, id_of(id))).collect()
        })
    } else {
        request
            .get("selected_fulfillment_options")
            .and_then(Value::as_array)
            .map(|list| {
                let mut out = BTreeMap::new();
                for s in list {
                    let inner = if v < "2026-01-30" {
                        s.get(s["type"].as_str().unwrap_or_default())
                            .cloned()
                            .unwrap_or(Value::Null)
                    } else {
                        s.clone()
                    };
                    for item in inner["item_ids"].as_array().into_iter().flatten() {
                        out.insert(id_of(item), id_of(&inner["option_id"]));
                    }
                }
                out
            })
    };
    let (address, contact) = if v == "2025-09-29" {
        (request.get("fulfillment_address").cloned(), None)
    } else {
        let details = request.get("fulfillment_details");
        let contact = details.map(|d| {
            let mut d = d.clone();
            if let Value::Object(map) = &mut d {
                map.remove("address");
            }
            d
        });
        (
            details.and_then(|d| d.get("address")).cloned(),
            contact.filter(|c| c.as_object().is_some_and(|m| !m.is_empty())),
        )
    };
    Some(Order {
        units,
        selection,
        address,
        contact,
        buyer: request.get("buyer").cloned(),
    })
}

/// A 2026-04-17 session holding `items` and offering `option` (from the official example).
fn session_with(items: &[String], option: Option<&str>) -> Option<CheckoutSession> {
    let spec = spec_dir("session_with")?;
    let examples = examples_in(&spec, "2026-04-17");
    let mut session = examples
        .into_iter()
        .find(|e| e.id.ends_with("#create_checkout_session_response"))?
        .value;
    let line = session["line_items"][0].clone();
    session["line_items"] = items
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let mut l = line.clone();
            l["id"] = json!(format!("li_{i}"));
            l["item"]["id"] = json!(id);
            l
        })
        .collect();
    if let Some(option) = option {
        let mut o = session["fulfillment_options"][0].clone();
        o["id"] = json!(option);
        session["fulfillment_options"] = json!([o]);
    }
    session["selected_fulfillment_options"] = json!([]);
    agentic_commerce::parse::from_value(&session).ok()
}

fn defaults(session: Option<&CheckoutSession>) -> UpgradeDefaults {
    let d = UpgradeDefaults::new()
        .currency("usd")
        .capabilities(json!({}))
        .payment_handler("stripe", "card_tokenized", "card", "spt")
        .quantity_as_repeated_items(1_000);
    match session {
        Some(s) => d.session(s),
        None => d,
    }
}

/// The property for one request: carried with the same effective order, or refused at paths
/// that exist in the request.
fn check(version: &ApiVersion, document: Document, request: &Value) -> Result<bool, String> {
    let session_items = vec!["item_s1".to_owned(), "item_s2".to_owned()];
    let option = request
        .get("fulfillment_option_id")
        .map_or_else(|| "opt".to_owned(), id_of);
    let session = session_with(&session_items, Some(&option));
    let latest = ApiVersion::V2026_04_17;
    match convert::convert_with(
        document,
        version,
        &latest,
        request,
        &defaults(session.as_ref()),
    ) {
        Ok(up) => {
            let want = asked(version, request, &session_items)
                .ok_or_else(|| format!("carried a request with a bad quantity: {request}"))?;
            let got = asked(&latest, &up.value, &session_items).ok_or("unreadable upgrade")?;
            if want == got {
                Ok(true)
            } else {
                Err(format!(
                    "{version} {document:?}\nasked {want:?}\ngot   {got:?}\nrequest {request}\nupgraded {}",
                    up.value
                ))
            }
        }
        Err(ConvertError::Unrepresentable { violations, .. }) => {
            for v in &violations {
                let mut parent = v.path.clone();
                // A refused member exists in the request (or its parent does, for a
                // member the target lacks inside a dropped object).
                if v.path.resolve(request).is_none() && {
                    parent.pop();
                    parent.resolve(request).is_none()
                } {
                    return Err(format!("{version}: refusal at {} not in {request}", v.path));
                }
            }
            Ok(false)
        }
        // Not representable as the target's required data (e.g. a fractional quantity read
        // by the final parse) or invalid input: never a silent change.
        Err(_) => Ok(false),
    }
}

#[test]
fn the_effective_order_survives_every_upgrade() {
    let mut carried = 0;
    for version in &ApiVersion::RELEASED[..4] {
        for document in [
            Document::CreateRequest,
            Document::UpdateRequest,
            Document::CompleteRequest,
        ] {
            let entry = registry::lookup_in(version, document.type_name()).unwrap();
            let mut runner = TestRunner::new(Config {
                cases: 48,
                failure_persistence: None,
                ..Config::default()
            });
            let count = std::cell::Cell::new(0);
            runner
                .run(&common::arbitrary::value(entry.shape()), |x| {
                    let Ok(x) = entry.roundtrip(&x) else {
                        return Ok(());
                    };
                    if check(version, document, &x).map_err(TestCaseError::fail)? {
                        count.set(count.get() + 1);
                    }
                    Ok(())
                })
                .unwrap_or_else(|e| panic!("{version} {document:?}: {e}"));
            carried += count.get();
        }
    }
    assert!(
        carried > 20,
        "only {carried} generated requests were carried"
    );
}

#[test]
fn official_request_examples_keep_their_effective_order() {
    let Some(spec) = spec_dir("official_request_examples_keep_their_effective_order") else {
        return;
    };
    let mut carried = 0;
    for version in &ApiVersion::RELEASED[..4] {
        for example in examples_in(&spec, version.as_str()) {
            let key = example.id.rsplit('#').next().unwrap_or_default().to_owned();
            let document = if key.starts_with("create_checkout_session_request") {
                Document::CreateRequest
            } else if key.starts_with("update_checkout_session_request") {
                Document::UpdateRequest
            } else if key.starts_with("complete_") && key.ends_with("request") {
                Document::CompleteRequest
            } else {
                continue;
            };
            if check(version, document, &example.value).unwrap_or_else(|e| panic!("{key}: {e}")) {
                carried += 1;
            }
        }
    }
    assert!(carried >= 12, "{carried}");
}

#[test]
fn quantities_are_carried_or_refused_never_dropped() {
    let request = json!({"items": [{"id": "mug", "quantity": 3}, {"id": "tent", "quantity": 1}]});
    for version in &ApiVersion::RELEASED[..3] {
        let up = convert::upgrade_create_request_with(version, &request, &defaults(None))
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        let json = serde_json::to_value(&up.value).unwrap();
        let ids: Vec<&str> = json["line_items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["mug", "mug", "mug", "tent"], "{version}");
        // Without the merchant's convention, the quantity is refused where it was sent.
        match convert::upgrade_create_request_with(
            version,
            &request,
            &UpgradeDefaults::new()
                .currency("usd")
                .capabilities(json!({})),
        ) {
            Err(ConvertError::Unrepresentable { violations, .. }) => {
                assert_eq!(violations[0].path.to_string(), "$.items[0].quantity");
            }
            other => panic!("{version}: {other:?}"),
        }
        // Beyond the merchant's limit: refused too.
        let many = json!({"items": [{"id": "mug", "quantity": 1_000_000_000_u64}]});
        assert!(matches!(
            convert::upgrade_create_request_with(version, &many, &defaults(None)),
            Err(ConvertError::Unrepresentable { .. })
        ));
    }
    // 2025-09-29's decimal quantity: a fraction cannot be ordered.
    let half = json!({"items": [{"id": "mug", "quantity": 2.5}]});
    match convert::upgrade_create_request_with(&ApiVersion::V2025_09_29, &half, &defaults(None)) {
        Err(ConvertError::Unrepresentable { violations, .. }) => {
            assert_eq!(violations[0].path.to_string(), "$.items[0].quantity");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_lone_fulfillment_option_id_selects_for_the_sessions_items() {
    let Some(session) = session_with(&["a".to_owned(), "b".to_owned()], Some("ship")) else {
        assert!(std::env::var_os("CI").is_none(), "spec missing in CI");
        return;
    };
    let request = json!({"fulfillment_option_id": "ship"});
    let v = &ApiVersion::V2025_09_29;
    let up = convert::upgrade_update_request_with(v, &request, &defaults(Some(&session))).unwrap();
    let json = serde_json::to_value(&up.value).unwrap();
    assert_eq!(
        json["selected_fulfillment_options"],
        json!([{"type": "shipping", "option_id": "ship", "item_ids": ["a", "b"]}])
    );
    // Without the session, or for an option it does not offer: refused at the member.
    for d in [
        defaults(None),
        defaults(session_with(&[], Some("other")).as_ref()),
    ] {
        match convert::upgrade_update_request_with(v, &request, &d) {
            Err(ConvertError::Unrepresentable { violations, .. }) => {
                assert_eq!(violations[0].path.to_string(), "$.fulfillment_option_id");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn errors_take_the_callers_version_shape() {
    let error = json!({"type": "invalid_request", "code": "unsupported_api_version",
        "message": "API-Version \"2025-01-01\" is not supported",
        "supported_versions": ["2026-04-17", "2025-09-29"]});
    for version in ApiVersion::RELEASED {
        let out = convert::error_in(version, Document::CreateRequest, &error);
        registry::lookup_in(version, "agentic_checkout.Error")
            .unwrap()
            .roundtrip_strict(&out)
            .unwrap_or_else(|e| panic!("{version}: {e:?} {out}"));
        if *version != ApiVersion::V2026_04_17 {
            assert!(out.get("supported_versions").is_none(), "{version}");
            assert!(out["message"].as_str().unwrap().contains("2025-09-29"));
        }
    }
    let param = |v: &ApiVersion, d: Document, p: &str| {
        convert::path_in(v, d, &JsonPath::parse(p).unwrap()).to_string()
    };
    let old = &ApiVersion::V2025_09_29;
    assert_eq!(
        param(
            old,
            Document::UpdateRequest,
            "$.fulfillment_details.address.country"
        ),
        "$.fulfillment_address.country"
    );
    assert_eq!(
        param(
            old,
            Document::UpdateRequest,
            "$.selected_fulfillment_options[0].option_id"
        ),
        "$.fulfillment_option_id"
    );
    assert_eq!(
        param(
            &ApiVersion::V2025_12_12,
            Document::UpdateRequest,
            "$.selected_fulfillment_options[1].option_id"
        ),
        "$.selected_fulfillment_options[1]"
    );
    assert_eq!(
        param(
            &ApiVersion::V2026_01_16,
            Document::CreateRequest,
            "$.line_items[2].id"
        ),
        "$.items[2].id"
    );
    assert_eq!(
        param(old, Document::CompleteRequest, "$.payment_data.handler_id"),
        "$.payment_data.provider"
    );
    // A session's message about the address, downgraded to 2025-09-29.
    let error = json!({"type": "invalid_request", "code": "invalid", "message": "bad country",
        "param": "$.fulfillment_details.address.country"});
    let out = convert::error_in(old, Document::UpdateRequest, &error);
    assert_eq!(out["param"], "$.fulfillment_address.country");
}

/// A session that asks for 3-D Secure (2026-04-17: the agent gives the buyer's browser in its
/// `delegate_authentication` request) reaches every released version strictly valid: before
/// 2026-04-17, where the seller must give the browser details in
/// `authentication_metadata.channel` (2025-12-12 to 2026-01-30) or there is no
/// `authentication_required` (2025-09-29), as `not_ready_for_payment` with the `requires_3ds`
/// message that says why, reported as a loss.
#[test]
fn a_session_asking_for_3ds_reaches_every_version_valid_and_explained() {
    let session = json!({"id": "cs_3ds", "status": "authentication_required", "currency": "usd",
        "capabilities": {}, "line_items": [], "fulfillment_options": [], "messages": [],
        "links": [], "totals": [{"type": "total", "display_text": "Total", "amount": 95_000}],
        "authentication_metadata": {"directory_server": "visa",
            "acquirer_details": {"acquirer_bin": "400000", "acquirer_country": "US",
                "acquirer_merchant_id": "shop_1", "merchant_name": "Shop"}}});
    let session: CheckoutSession = agentic_commerce::parse::from_value(&session).unwrap();
    for version in ApiVersion::RELEASED {
        let out = convert::downgrade_checkout_session(&session, version)
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        registry::lookup_in(version, "agentic_checkout.CheckoutSession")
            .unwrap()
            .roundtrip_strict(&out.value)
            .unwrap_or_else(|e| panic!("{version}: {e:?} {}", out.value));
        let v = &out.value;
        match version.as_str() {
            "2026-04-17" => assert!(v["authentication_metadata"].get("channel").is_none()),
            _ => {
                assert_eq!(v["status"], "not_ready_for_payment");
                assert_eq!(v["messages"].as_array().unwrap().len(), 1, "{v}");
                assert_eq!(v["messages"][0]["code"], "requires_3ds", "{v}");
                assert!(v.get("authentication_metadata").is_none());
                let lost = out
                    .losses
                    .iter()
                    .map(|l| l.path.to_string())
                    .collect::<Vec<_>>();
                assert!(lost.contains(&"$.status".to_owned()), "{lost:?}");
            }
        }
    }
}
