// Representative ACP payloads for the benchmarks (`benches/acp.rs`), the `acp bench` CLI and
// the adversarial tests. Shared with `include!`, so it is plain functions over `serde_json`.
//
// The shapes follow the richest official 2026-04-17 examples (a checkout session with payment
// handlers, interventions, line items with disclosures and custom attributes, fulfillment
// options, totals, marketing consent and links), but every value here is our own: the
// official example files are not copied.

/// A `CheckoutSession` with `line_items` line items, every field kind the official examples use.
#[allow(dead_code, clippy::too_many_lines)]
fn checkout_session_value(line_items: usize) -> serde_json::Value {
    let items: Vec<serde_json::Value> = (0..line_items)
        .map(|i| {
            let unit = 1_250 + i64::try_from(i % 97).unwrap_or(0) * 10;
            serde_json::json!({
                "id": format!("li_{i:05}"),
                "item": {"id": format!("sku_{i:05}")},
                "quantity": 1 + i % 3,
                "name": format!("Merino Wool Sock Pack #{i}"),
                "description": "Three pairs of mid-calf merino socks, reinforced heel and toe",
                "images": [
                    format!("https://shop.example.net/img/sku_{i:05}/front.webp"),
                    format!("https://shop.example.net/img/sku_{i:05}/back.webp")
                ],
                "unit_amount": unit,
                "custom_attributes": [
                    {"display_name": "Size", "value": "L"},
                    {"display_name": "Colour", "value": "Charcoal"}
                ],
                "disclosures": [
                    {"type": "disclaimer", "content_type": "plain", "content": "Final sale: no returns on opened packs."}
                ],
                "totals": [
                    {"type": "items_base_amount", "display_text": "Base", "amount": unit},
                    {"type": "discount", "display_text": "Discount", "amount": 0},
                    {"type": "subtotal", "display_text": "Subtotal", "amount": unit},
                    {"type": "tax", "display_text": "Tax", "amount": unit / 10},
                    {"type": "total", "display_text": "Total", "amount": unit + unit / 10}
                ]
            })
        })
        .collect();
    serde_json::json!({
        "id": "cs_01HZX8Q4R7BENCH",
        "protocol": {"version": "2026-04-17"},
        "capabilities": {
            "payment": {
                "handlers": [
                    {
                        "id": "card_tok",
                        "name": "dev.acp.tokenized.card",
                        "display_name": "Card",
                        "version": "2026-01-22",
                        "spec": "https://pay.example.net/handlers/card",
                        "requires_delegate_payment": true,
                        "requires_pci_compliance": false,
                        "psp": "stripe",
                        "config_schema": "https://pay.example.net/schemas/card/config.json",
                        "instrument_schemas": ["https://pay.example.net/schemas/card/instrument.json"],
                        "config": {
                            "merchant_id": "acct_bench_001",
                            "accepted_brands": ["visa", "mastercard", "amex"],
                            "accepted_funding_types": ["credit", "debit"],
                            "supports_3ds": true,
                            "environment": "production"
                        },
                        "display_order": 1
                    },
                    {
                        "id": "saved_pm",
                        "name": "dev.acp.seller_backed.saved_card",
                        "version": "2026-02-05",
                        "spec": "https://pay.example.net/handlers/saved",
                        "requires_delegate_payment": true,
                        "requires_pci_compliance": false,
                        "psp": "seller_managed",
                        "config_schema": "https://pay.example.net/schemas/saved/config.json",
                        "instrument_schemas": ["https://pay.example.net/schemas/saved/instrument.json"],
                        "config": {"payment_method_id": "pm_9876", "display_metadata": {"brand": "visa", "last4": "1881"}},
                        "display_order": 0
                    }
                ]
            },
            "interventions": {
                "supported": ["3ds", "address_verification"],
                "required": [],
                "enforcement": "conditional"
            }
        },
        "status": "ready_for_payment",
        "currency": "eur",
        "line_items": items,
        "fulfillment_details": {
            "name": "Ada Example",
            "phone_number": "493012345678",
            "email": "ada@example.org",
            "address": {
                "name": "Ada Example",
                "line_one": "Beispielstrasse 12",
                "line_two": "Hinterhaus",
                "city": "Berlin",
                "state": "BE",
                "country": "DE",
                "postal_code": "10115"
            }
        },
        "selected_fulfillment_options": [
            {"type": "shipping", "option_id": "ship_std", "item_ids": ["sku_00000"]}
        ],
        "totals": [
            {"type": "items_base_amount", "display_text": "Items", "amount": 1250},
            {"type": "subtotal", "display_text": "Subtotal", "amount": 1250},
            {"type": "tax", "display_text": "VAT", "amount": 125},
            {"type": "fulfillment", "display_text": "Shipping", "amount": 490},
            {"type": "fee", "display_text": "Handling", "amount": 50, "description": "Packaging"},
            {"type": "total", "display_text": "Total", "amount": 1915}
        ],
        "fulfillment_options": [
            {
                "type": "shipping",
                "id": "ship_std",
                "title": "Standard",
                "description": "3-5 business days",
                "carrier": "DHL",
                "earliest_delivery_time": "2026-05-04T08:00:00Z",
                "latest_delivery_time": "2026-05-06T18:00:00Z",
                "totals": [{"type": "total", "display_text": "Shipping", "amount": 490}]
            },
            {
                "type": "shipping",
                "id": "ship_exp",
                "title": "Express",
                "description": "Next business day",
                "carrier": "DHL",
                "earliest_delivery_time": "2026-05-02T08:00:00Z",
                "latest_delivery_time": "2026-05-02T18:00:00Z",
                "totals": [{"type": "total", "display_text": "Express", "amount": 1290}]
            }
        ],
        "marketing_consent_options": [
            {"channel": "email", "display_text": "News and offers", "privacy_policy_url": "https://shop.example.net/privacy", "is_subscribed": false}
        ],
        "messages": [
            {"type": "info", "content_type": "plain", "content": "Ships from Berlin."}
        ],
        "links": [
            {"type": "terms_of_use", "url": "https://shop.example.net/terms"},
            {"type": "return_policy", "url": "https://shop.example.net/returns"}
        ]
    })
}

/// A `CheckoutSessionCreateRequest` with buyer, address and intervention capabilities.
#[allow(dead_code)]
fn create_request_value() -> serde_json::Value {
    serde_json::json!({
        "currency": "eur",
        "line_items": [{"id": "sku_00001", "name": "Merino Wool Sock Pack", "unit_amount": 1250}, {"id": "sku_00002"}],
        "capabilities": {
            "interventions": {
                "supported": ["3ds", "address_verification"],
                "display_context": "webview",
                "redirect_context": "in_app",
                "max_redirects": 1,
                "max_interaction_depth": 1
            }
        },
        "fulfillment_details": {
            "name": "Ada Example",
            "phone_number": "493012345678",
            "email": "ada@example.org",
            "address": {
                "name": "Ada Example",
                "line_one": "Beispielstrasse 12",
                "line_two": "",
                "city": "Berlin",
                "state": "BE",
                "country": "DE",
                "postal_code": "10115"
            }
        },
        "order_notes": "Please ring twice."
    })
}

/// An `Order` with two line items and one tracked shipment.
#[allow(dead_code)]
fn order_value() -> serde_json::Value {
    let events: Vec<serde_json::Value> = ["processing", "shipped", "in_transit", "delivered"]
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            serde_json::json!({
                "id": format!("evt_{i}"),
                "type": kind,
                "occurred_at": format!("2026-05-0{}T10:00:00Z", i + 1),
                "description": "Status update from the carrier",
                "location": "Leipzig, DE"
            })
        })
        .collect();
    serde_json::json!({
        "id": "ord_bench_789",
        "checkout_session_id": "cs_01HZX8Q4R7BENCH",
        "permalink_url": "https://shop.example.net/orders/ord_bench_789",
        "order_number": "B-2026-0789",
        "status": "completed",
        "line_items": [
            {
                "id": "li_a", "title": "Trail Runner GTX", "product_id": "prod_trail",
                "description": "Waterproof trail running shoe",
                "image_url": "https://shop.example.net/img/trail.webp",
                "url": "https://shop.example.net/p/trail",
                "quantity": {"ordered": 1, "current": 1, "fulfilled": 1},
                "unit_price": 15990, "subtotal": 15990, "status": "fulfilled"
            },
            {
                "id": "li_b", "title": "Running Socks", "product_id": "prod_socks",
                "quantity": {"ordered": 2, "current": 2, "fulfilled": 2},
                "unit_price": 1290, "subtotal": 2580, "status": "fulfilled"
            }
        ],
        "fulfillments": [
            {
                "id": "ful_1", "type": "shipping", "status": "delivered",
                "line_items": [{"id": "li_a", "quantity": 1}, {"id": "li_b", "quantity": 2}],
                "carrier": "DHL", "tracking_number": "00340434161234567890",
                "tracking_url": "https://track.example.net/00340434161234567890",
                "destination": {
                    "name": "Ada Example", "line_one": "Beispielstrasse 12", "city": "Berlin",
                    "state": "BE", "country": "DE", "postal_code": "10115"
                },
                "estimated_delivery": {"earliest": "2026-05-04T08:00:00Z", "latest": "2026-05-04T18:00:00Z"},
                "events": events
            }
        ],
        "totals": [
            {"type": "subtotal", "display_text": "Subtotal", "amount": 18570},
            {"type": "tax", "display_text": "VAT", "amount": 2965},
            {"type": "total", "display_text": "Total", "amount": 21535}
        ],
        "confirmation": {"confirmation_number": "C-0789", "confirmation_email_sent": true, "receipt_url": "https://shop.example.net/r/0789"},
        "support": {"email": "help@shop.example.net", "phone": "+49-30-1234567", "hours": "Mo-Fr 9-17", "help_center_url": "https://shop.example.net/help"}
    })
}

/// A feed `ProductsResponse` page with `products` products of two variants each.
#[allow(dead_code)]
fn feed_page_value(products: usize) -> serde_json::Value {
    let products: Vec<serde_json::Value> = (0..products)
        .map(|i| {
            let variants: Vec<serde_json::Value> = ["S", "M"]
                .iter()
                .map(|size| {
                    serde_json::json!({
                        "id": format!("var_{i:05}_{size}"),
                        "title": format!("Linen Shirt {i} / {size}"),
                        "url": format!("https://shop.example.net/p/{i}?size={size}"),
                        "price": {"amount": 4990 + i64::try_from(i % 50).unwrap_or(0), "currency": "EUR"},
                        "availability": {"available": true, "status": "in_stock"},
                        "media": [{"type": "image", "url": format!("https://shop.example.net/img/{i}.webp"), "alt_text": "Front"}]
                    })
                })
                .collect();
            serde_json::json!({
                "id": format!("prod_{i:05}"),
                "title": format!("Linen Shirt {i}"),
                "description": {"plain": "Breathable linen shirt, relaxed fit."},
                "url": format!("https://shop.example.net/p/{i}"),
                "variants": variants
            })
        })
        .collect();
    serde_json::json!({ "products": products })
}

/// Compact JSON bytes of a value.
#[allow(dead_code)]
fn to_bytes(value: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// A JSON webhook body of at least `size` bytes (an order event padded with a description).
#[allow(dead_code)]
fn webhook_body(size: usize) -> Vec<u8> {
    let base = serde_json::json!({
        "type": "order_update",
        "data": {"type": "order", "checkout_session_id": "cs_01HZX8Q4R7BENCH", "permalink_url": "https://shop.example.net/orders/1", "status": "shipped", "note": ""}
    });
    let mut body = to_bytes(&base);
    let pad = size.saturating_sub(body.len());
    let mut value = base;
    value["data"]["note"] = serde_json::Value::String("x".repeat(pad));
    body.clear();
    body.extend(to_bytes(&value));
    body
}

/// A `CheckoutSession` of spec version 2025-09-29, the version the published
/// `agentic-commerce-protocol` 0.2.0 crate models (line items carry `base_amount` … `total`
/// and `item.quantity`), read by both crates with no member either leaves unknown. That crate
/// reads `fulfillment_options` and `messages` adjacently tagged (`{"type":…,"data":{…}}`),
/// which no ACP payload is, so both lists are empty here.
#[allow(dead_code)]
fn published_crate_payload() -> serde_json::Value {
    let items: Vec<serde_json::Value> = (0..20)
        .map(|i| {
            serde_json::json!({
                "id": format!("li_{i:03}"),
                "item": {"id": format!("sku_{i:03}"), "quantity": 1},
                "base_amount": 1_250, "discount": 0, "subtotal": 1_250, "tax": 125, "total": 1_375
            })
        })
        .collect();
    serde_json::json!({
        "id": "cs_shared_001",
        "payment_provider": {"provider": "stripe", "supported_payment_methods": ["card"]},
        "status": "ready_for_payment",
        "currency": "usd",
        "line_items": items,
        "fulfillment_options": [],
        "totals": [
            {"type": "subtotal", "display_text": "Subtotal", "amount": 25_000},
            {"type": "tax", "display_text": "Tax", "amount": 2_500},
            {"type": "total", "display_text": "Total", "amount": 27_500}
        ],
        "messages": [],
        "links": [{"type": "terms_of_use", "url": "https://shop.example.net/terms"}]
    })
}
