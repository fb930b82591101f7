//! The cart probes (rfc.cart, 2026-04-17): create (201), retrieve (200), full replacement
//! with PUT (200), cancel (200, the final state), then 404 for the canceled cart and for an
//! unknown one. Every cart answer is held strictly to the 2026-04-17 `cart.Cart` schema, every
//! error to `agentic_checkout.Error`, the way the checkout probes hold sessions.
//!
//! Carts are optional (CART-09: agents check discovery's `capabilities.services`): the probes
//! are skipped when the discovery document lists services without `carts`, or when there is
//! no such listing and `POST /carts` answers 404 (no cart endpoint).

use serde_json::{Value, json};

use super::client::{Client, Exchange, Post, Version, fresh_id};
use super::probes::{Settings, applies, to_bytes};
use super::report::{Level, Report};
use super::validate;
use agentic_commerce::protocol::version::ApiVersion;

/// Every check of this module, in the order they run.
pub(crate) const CHECKS: &[&str] = &[
    "cart.create",
    "cart.retrieve",
    "cart.update",
    "cart.cancel",
    "cart.retrieve.canceled",
    "cart.retrieve.unknown",
];

const CREATE_RULES: &[&str] = &["CART-01", "CART-03", "CART-05"];

/// Carts are a 2026-04-17 API: requests and answers are held to its types whatever
/// `--api-version` asked for (the probes only run in a 2026-04-17 run).
const CART_VERSION: ApiVersion = ApiVersion::V2026_04_17;

/// Whether the discovery document says carts are offered: `Some(false)` when it lists
/// `capabilities.services` without `carts`, `None` when there is no such list.
pub(crate) fn advertised(discovery: Option<&Value>) -> Option<bool> {
    discovery
        .and_then(|d| d.pointer("/capabilities/services"))
        .and_then(Value::as_array)
        .map(|services| services.iter().any(|s| s == "carts"))
}

/// A 2026-04-17 cart request, checked against its own schema first (the checker never sends
/// a shape the spec does not define).
fn request(name: &str, body: Value) -> Result<Value, String> {
    validate::strict_in(&CART_VERSION, name, &body)
        .map_err(|e| format!("the checker's request: {e}"))?;
    Ok(body)
}

/// `{"line_items": [{"id": …}, …]}` for `items`.
pub(crate) fn line_items(items: &[String]) -> Value {
    json!(items.iter().map(|id| json!({"id": id})).collect::<Vec<_>>())
}

/// The catalog ids of the cart's line items.
fn item_ids(cart: &Value) -> Vec<&str> {
    cart["line_items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| l.pointer("/item/id").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

/// A strict 2026-04-17 `Cart` answered with `status` (and with `id`, when given), with every
/// requested item present or a message explaining its absence (CART-05).
pub(crate) fn judge_cart(
    answer: &Result<Exchange, String>,
    status: u16,
    id: Option<&str>,
    requested: &[String],
) -> Result<Value, String> {
    let a = answer.as_ref().map_err(Clone::clone)?;
    if a.status != status {
        return Err(format!("expected HTTP {status}, got {}", a.brief()));
    }
    let cart = a
        .json
        .as_ref()
        .ok_or_else(|| format!("body is not JSON: {}", a.brief()))?;
    validate::strict_in(&CART_VERSION, "cart.Cart", cart)?;
    if let Some(id) = id {
        if cart["id"] != id {
            return Err(format!("answered cart {} instead of {id}", cart["id"]));
        }
    }
    let present = item_ids(cart);
    let missing: Vec<&String> = requested
        .iter()
        .filter(|i| !present.contains(&i.as_str()))
        .collect();
    let messages = cart["messages"].as_array().map_or(0, Vec::len);
    if !missing.is_empty() && messages == 0 {
        return Err(format!(
            "requested items {missing:?} are not in the cart and no message says why (CART-05)"
        ));
    }
    Ok(cart.clone())
}

fn describe(cart: &Value, status: u16) -> String {
    format!(
        "HTTP {status}, valid 2026-04-17 Cart {} ({} line item(s), {} {} total(s))",
        cart["id"].as_str().unwrap_or("?"),
        cart["line_items"].as_array().map_or(0, Vec::len),
        cart["currency"].as_str().unwrap_or("?"),
        cart["totals"].as_array().map_or(0, Vec::len),
    )
}

/// A 404 with an ACP error (CART-02).
fn not_found(answer: Result<Exchange, String>) -> Result<String, String> {
    answer.and_then(|a| {
        validate::error(&CART_VERSION, &a, 404, None)
            .map(|e| format!("HTTP 404 {}", e["code"].as_str().unwrap_or("?")))
    })
}

/// Runs the cart probes (`discovery`: the discovery document, when the merchant serves one).
pub(crate) async fn run(
    merchant: &Client,
    settings: &Settings,
    discovery: Option<&Value>,
    report: &mut Report,
) {
    let v = &settings.version;
    // Every id is recorded as not applicable, so no short-circuit.
    let applicable: Vec<bool> = CHECKS.iter().map(|id| applies(v, report, id)).collect();
    if applicable.contains(&false) {
        return;
    }
    let offered = advertised(discovery);
    if offered == Some(false) {
        for id in CHECKS {
            report.skip(
                id,
                format!(
                    "the discovery document's capabilities.services {} do not include \"carts\" (carts are optional, CART-09)",
                    discovery
                        .and_then(|d| d.pointer("/capabilities/services"))
                        .unwrap_or(&Value::Null)
                ),
            );
        }
        return;
    }
    let created = create(merchant, settings, offered.is_some(), report).await;
    match created {
        Created::NotOffered => return,
        Created::Failed => {
            for id in &CHECKS[1..5] {
                report.skip(id, "needs the cart from `cart.create`, which failed");
            }
        }
        Created::Cart(cart) => lifecycle(merchant, settings, &cart, report).await,
    }
    let path = format!("/carts/{}", fresh_id("cart_conformance_unknown_"));
    let answer = merchant.get(&path, Version::Default).await;
    report.record(
        "cart.retrieve.unknown",
        &["CART-02", "ERR-01"],
        Level::Must,
        not_found(answer),
    );
}

enum Created {
    Cart(Value),
    Failed,
    NotOffered,
}

/// `POST /carts` with the first `--item`: 201 and a strict cart (CART-01, CART-03).
async fn create(
    merchant: &Client,
    settings: &Settings,
    listed: bool,
    report: &mut Report,
) -> Created {
    let requested = settings.items[..1].to_vec();
    let body = match request(
        "cart.CartCreateRequest",
        json!({"line_items": line_items(&requested)}),
    ) {
        Ok(b) => b,
        Err(e) => {
            report.record("cart.create", CREATE_RULES, Level::Must, Err(e));
            return Created::Failed;
        }
    };
    let answer = merchant
        .post(Post {
            path: "/carts",
            body: &to_bytes(&body),
            key: Some(&fresh_id("conformance-cart-")),
        })
        .await;
    if !listed && answer.as_ref().is_ok_and(|a| a.status == 404) {
        for id in CHECKS {
            report.skip(
                id,
                "POST /carts answered 404 and no discovery document lists carts: the merchant offers none (CART-09)",
            );
        }
        return Created::NotOffered;
    }
    let result = judge_cart(&answer, 201, None, &requested);
    report.record(
        "cart.create",
        CREATE_RULES,
        Level::Must,
        result
            .as_ref()
            .map(|c| describe(c, 201))
            .map_err(Clone::clone),
    );
    result.map_or(Created::Failed, Created::Cart)
}

/// Retrieve, full replacement, cancel, then retrieve of the canceled cart.
async fn lifecycle(merchant: &Client, settings: &Settings, cart: &Value, report: &mut Report) {
    let id = cart["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("/carts/{id}");
    let answer = merchant.get(&path, Version::Default).await;
    report.record(
        "cart.retrieve",
        &["CART-01", "CART-03"],
        Level::Must,
        judge_cart(&answer, 200, Some(&id), &settings.items[..1]).map(|c| describe(&c, 200)),
    );

    // Full replacement: the second item instead of the first (or the first with a buyer).
    let (replacement, dropped) = match settings.items.get(1) {
        Some(second) if *second != settings.items[0] => {
            (vec![second.clone()], Some(settings.items[0].as_str()))
        }
        _ => (settings.items[..1].to_vec(), None),
    };
    let mut body = json!({"line_items": line_items(&replacement)});
    if dropped.is_none() {
        body["buyer"] =
            json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"});
    }
    let result = match request("cart.CartUpdateRequest", body) {
        Ok(body) => {
            let answer = merchant
                .put(Post {
                    path: &path,
                    body: &to_bytes(&body),
                    key: Some(&fresh_id("conformance-cart-put-")),
                })
                .await;
            judge_cart(&answer, 200, Some(&id), &replacement).and_then(|c| match dropped {
                Some(old) if item_ids(&c).contains(&old) => Err(format!(
                    "{old} is still in the cart after a full replacement without it (CART-01)"
                )),
                _ => Ok(describe(&c, 200)),
            })
        }
        Err(e) => Err(e),
    };
    report.record(
        "cart.update",
        &["CART-01", "CART-03", "CART-04", "CART-05"],
        Level::Must,
        result,
    );

    let answer = merchant
        .post(Post {
            path: &format!("{path}/cancel"),
            body: b"{}",
            key: Some(&fresh_id("conformance-cart-cancel-")),
        })
        .await;
    report.record(
        "cart.cancel",
        &["CART-01", "CART-08"],
        Level::Must,
        judge_cart(&answer, 200, Some(&id), &[]).map(|c| describe(&c, 200)),
    );
    let answer = merchant.get(&path, Version::Default).await;
    report.record(
        "cart.retrieve.canceled",
        &["CART-02", "CART-08", "ERR-01"],
        Level::Must,
        not_found(answer),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::unnecessary_wraps)] // what `send` hands to the judges
    fn answer(status: u16, body: &Value) -> Result<Exchange, String> {
        Ok(Exchange {
            status,
            headers: Vec::new(),
            raw: to_bytes(body),
            json: Some(body.clone()),
        })
    }

    fn cart(items: &[&str], messages: &Value) -> Value {
        json!({"id": "cart_1", "currency": "usd",
            "line_items": items.iter().enumerate().map(|(n, id)| json!({"id": format!("li_{n}"),
                "item": {"id": id}, "quantity": 1,
                "totals": [{"type": "items_base_amount", "display_text": "Base", "amount": 1000},
                           {"type": "total", "display_text": "Total", "amount": 1000}]})).collect::<Vec<_>>(),
            "totals": [{"type": "subtotal", "display_text": "Subtotal", "amount": 1000},
                       {"type": "total", "display_text": "Total", "amount": 1000}],
            "messages": messages.clone()})
    }

    fn items(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn cart_01_03_a_strict_cart_with_the_status_and_id_passes() {
        let c = cart(&["var_1"], &json!([]));
        let ok = judge_cart(&answer(201, &c), 201, None, &items(&["var_1"])).unwrap();
        assert_eq!(
            describe(&ok, 201),
            "HTTP 201, valid 2026-04-17 Cart cart_1 (1 line item(s), usd 2 total(s))"
        );
        assert!(
            judge_cart(&answer(200, &c), 201, None, &[])
                .unwrap_err()
                .starts_with("expected HTTP 201")
        );
        assert!(
            judge_cart(&answer(200, &c), 200, Some("cart_2"), &[])
                .unwrap_err()
                .contains("instead of cart_2")
        );
        // CART-03: currency is required.
        let mut no_currency = c.clone();
        no_currency.as_object_mut().unwrap().remove("currency");
        let e = judge_cart(&answer(200, &no_currency), 200, None, &[]).unwrap_err();
        assert!(
            e.contains("not a valid 2026-04-17 Cart") && e.contains("$.currency"),
            "{e}"
        );
        // A checkout-only member is not a cart member (strict).
        let mut extra = c;
        extra["status"] = json!("ready_for_payment");
        assert!(judge_cart(&answer(200, &extra), 200, None, &[]).is_err());
    }

    #[test]
    fn cart_05_a_dropped_item_needs_a_message() {
        let silent = cart(&["var_1"], &json!([]));
        let e = judge_cart(
            &answer(200, &silent),
            200,
            None,
            &items(&["var_1", "var_2"]),
        )
        .unwrap_err();
        assert!(e.contains("CART-05") && e.contains("var_2"), "{e}");
        let said = cart(
            &["var_1"],
            &json!([{"type": "error", "code": "out_of_stock", "content_type": "plain",
                "content": "var_2 is sold out", "severity": "high", "resolution": "requires_buyer_input"}]),
        );
        // Whether the message itself is valid is the schema's business.
        let r = judge_cart(&answer(200, &said), 200, None, &items(&["var_1", "var_2"]));
        assert!(
            r.as_ref().map_or_else(|e| !e.contains("CART-05"), |_| true),
            "{r:?}"
        );
    }

    #[test]
    fn cart_09_discovery_services_decide_whether_carts_are_probed() {
        assert_eq!(advertised(None), None);
        assert_eq!(advertised(Some(&json!({"protocol": {}}))), None);
        assert_eq!(
            advertised(Some(&json!({"capabilities": {"services": ["checkout"]}}))),
            Some(false)
        );
        assert_eq!(
            advertised(Some(
                &json!({"capabilities": {"services": ["checkout", "carts"]}})
            )),
            Some(true)
        );
    }

    #[test]
    fn cart_requests_are_valid_2026_04_17_requests() {
        let create = request(
            "cart.CartCreateRequest",
            json!({"line_items": line_items(&items(&["var_1"]))}),
        )
        .unwrap();
        assert_eq!(create, json!({"line_items": [{"id": "var_1"}]}));
        request(
            "cart.CartUpdateRequest",
            json!({"line_items": line_items(&items(&["var_1"])),
                "buyer": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}}),
        )
        .unwrap();
        // An empty cart is not a create request (minItems 1).
        assert!(request("cart.CartCreateRequest", json!({"line_items": []})).is_err());
    }

    #[test]
    fn cart_02_only_a_404_acp_error_passes() {
        let e = json!({"type": "invalid_request", "code": "not_found", "message": "no cart"});
        assert_eq!(not_found(answer(404, &e)).unwrap(), "HTTP 404 not_found");
        assert!(not_found(answer(200, &cart(&["v"], &json!([])))).is_err());
        assert!(not_found(answer(404, &json!({"error": e}))).is_err());
    }
}
