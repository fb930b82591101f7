//! `type`-discriminated unions (`FulfillmentOption`, `Message`): every member order, every
//! variant, and the same errors whichever order the members come in.
//!
//! A union whose `type` is its first member is parsed in one pass; any other order is
//! captured and replayed. Both paths must give the same value and the same verdicts.

#![allow(clippy::unwrap_used)]

use agentic_commerce::parse;
use agentic_commerce::spec::v2026_04_17::agentic_checkout::{
    CheckoutSession, FulfillmentOption, Message,
};
use serde_json::{Value, json};

const ADDRESS: &str = r#"{"name":"Ada","line_one":"Beispielstrasse 12","city":"Berlin","state":"BE","country":"DE","postal_code":"10115"}"#;
const TOTALS: &str = r#"[{"type":"total","display_text":"Shipping","amount":490}]"#;

/// The members (other than `type`) of a valid object of each variant.
fn variants() -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let option = |extra: Vec<(&'static str, String)>| {
        let mut members = vec![
            ("id", r#""opt_1""#.to_owned()),
            ("title", r#""Standard""#.to_owned()),
            ("totals", TOTALS.to_owned()),
        ];
        members.extend(extra);
        members
    };
    vec![
        ("shipping", option(vec![("carrier", r#""DHL""#.to_owned())])),
        ("digital", option(vec![])),
        (
            "pickup",
            option(vec![(
                "location",
                format!(r#"{{"name":"Store","address":{ADDRESS}}}"#),
            )]),
        ),
        ("local_delivery", option(vec![])),
    ]
}

fn messages() -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let body = |code: Option<&str>| {
        let mut members = vec![
            ("content_type", r#""plain""#.to_owned()),
            ("content", r#""Ships from Berlin.""#.to_owned()),
        ];
        if let Some(code) = code {
            members.insert(0, ("code", format!("{code:?}")));
        }
        members
    };
    vec![
        ("info", body(None)),
        ("warning", body(Some("low_stock"))),
        ("error", body(Some("out_of_stock"))),
    ]
}

/// The object text with `type` (as raw JSON `tag`) inserted before member `at`.
fn object(members: &[(&str, String)], tag: &str, at: usize) -> String {
    let mut parts: Vec<String> = members.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
    parts.insert(at.min(parts.len()), format!("\"type\":{tag}"));
    format!("{{{}}}", parts.join(","))
}

fn error_of<T: serde::de::DeserializeOwned + std::fmt::Debug>(text: &str) -> String {
    serde_json::from_str::<T>(text).unwrap_err().to_string()
}

#[test]
fn every_variant_parses_the_same_whatever_the_position_of_type() {
    for (tag, members) in variants() {
        let tag_json = format!("{tag:?}");
        let first: FulfillmentOption =
            serde_json::from_str(&object(&members, &tag_json, 0)).unwrap();
        assert_eq!(first.kind(), tag);
        assert!(!matches!(first, FulfillmentOption::Unknown(_)), "{tag}");
        for at in 1..=members.len() {
            let text = object(&members, &tag_json, at);
            let other: FulfillmentOption = serde_json::from_str(&text).unwrap();
            assert_eq!(other, first, "{text}");
            // Through `Value` (another deserializer) and a reader (no borrowing) alike.
            let value: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                serde_json::from_value::<FulfillmentOption>(value.clone()).unwrap(),
                first
            );
            assert_eq!(
                serde_json::from_reader::<_, FulfillmentOption>(text.as_bytes()).unwrap(),
                first
            );
            assert_eq!(serde_json::to_value(&other).unwrap(), value);
        }
    }
    for (tag, members) in messages() {
        let tag_json = format!("{tag:?}");
        let first: Message = serde_json::from_str(&object(&members, &tag_json, 0)).unwrap();
        assert_eq!(first.kind(), tag);
        assert!(!matches!(first, Message::Unknown(_)), "{tag}");
        for at in 1..=members.len() {
            let text = object(&members, &tag_json, at);
            assert_eq!(
                serde_json::from_str::<Message>(&text).unwrap(),
                first,
                "{text}"
            );
        }
    }
}

#[test]
fn a_missing_type_is_an_error_in_any_order() {
    let (_, members) = &variants()[0];
    let parts: Vec<String> = members.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
    let text = format!("{{{}}}", parts.join(","));
    assert!(error_of::<FulfillmentOption>(&text).contains("missing field `type`"));
    assert!(error_of::<FulfillmentOption>("{}").contains("missing field `type`"));
}

#[test]
fn a_type_that_is_not_a_string_is_an_error_first_or_last() {
    let (_, members) = &variants()[0];
    for bad in ["1", "null", "[\"shipping\"]", "{\"a\":1}", "true"] {
        for at in [0, 1, members.len()] {
            let text = object(members, bad, at);
            let e = error_of::<FulfillmentOption>(&text);
            assert!(e.contains("`type` must be a string"), "{text}: {e}");
        }
    }
}

#[test]
fn a_repeated_type_is_rejected_first_or_last() {
    for (tag, members) in variants() {
        let tag_json = format!("{tag:?}");
        let n = members.len();
        for (a, b) in [(0, 0), (0, 1), (0, n), (1, n), (n, n)] {
            let once = object(&members, &tag_json, a);
            // Insert a second `type` member, with the same or a different value.
            for second in [tag_json.as_str(), "\"digital\"", "\"drone\""] {
                let mut parts: Vec<String> =
                    members.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
                parts.insert(a.min(parts.len()), format!("\"type\":{tag_json}"));
                parts.insert((b + 1).min(parts.len()), format!("\"type\":{second}"));
                let text = format!("{{{}}}", parts.join(","));
                assert_ne!(text, once);
                let e = error_of::<FulfillmentOption>(&text);
                assert!(e.contains("duplicate field `type`"), "{text}: {e}");
            }
        }
    }
}

#[test]
fn a_repeated_member_is_rejected_before_and_after_type() {
    let (_, members) = &variants()[0];
    for at in 0..=members.len() {
        for dup in ["\"id\":\"x\"", "\"x_ext\":1"] {
            let mut text = object(members, "\"shipping\"", at);
            text.pop();
            let twice = format!("{text},{dup},{dup}}}");
            let e = error_of::<FulfillmentOption>(&twice);
            assert!(e.contains("duplicate field"), "{twice}: {e}");
            // Also when the first copy precedes `type` and the second follows it.
            let mut parts: Vec<String> =
                members.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
            parts.insert(0, dup.to_owned());
            parts.push("\"type\":\"shipping\"".to_owned());
            parts.push(dup.to_owned());
            let split = format!("{{{}}}", parts.join(","));
            let e = error_of::<FulfillmentOption>(&split);
            assert!(e.contains("duplicate field"), "{split}: {e}");
        }
    }
}

#[test]
fn an_unknown_type_is_kept_whole_first_or_last_and_rejects_repeats() {
    let members = vec![("id", r#""d1""#.to_owned()), ("eta", "5".to_owned())];
    for at in 0..=members.len() {
        let text = object(&members, "\"drone\"", at);
        let parsed: FulfillmentOption = serde_json::from_str(&text).unwrap();
        let FulfillmentOption::Unknown(map) = &parsed else {
            panic!("{text}: {parsed:?}");
        };
        assert_eq!(parsed.kind(), "drone");
        assert_eq!(
            Value::Object(map.clone()),
            json!({"type": "drone", "id": "d1", "eta": 5})
        );
        let mut text = text;
        text.pop();
        let dup = format!("{text},\"eta\":6}}");
        assert!(error_of::<FulfillmentOption>(&dup).contains("duplicate field `eta`"));
        let dup_type = format!("{text},\"type\":\"drone\"}}");
        assert!(error_of::<FulfillmentOption>(&dup_type).contains("duplicate field `type`"));
    }
}

#[test]
fn a_union_that_is_not_an_object_is_an_error() {
    for bad in ["\"shipping\"", "[]", "1", "null"] {
        let e = error_of::<FulfillmentOption>(bad);
        assert!(e.contains("an object with a string `type`"), "{bad}: {e}");
    }
}

/// A session whose one fulfillment option is `option` (raw JSON).
fn session_with(option: &str) -> String {
    format!(
        r#"{{"id":"cs_1","capabilities":{{"payment":{{"handlers":[]}}}},"status":"ready_for_payment","currency":"usd","line_items":[],"fulfillment_options":[{option}],"totals":[],"messages":[],"links":[]}}"#
    )
}

#[test]
fn errors_inside_a_variant_carry_the_same_path_first_or_last() {
    let bad_totals = r#"[{"type":"total","display_text":"Shipping","amount":"x"}]"#;
    let members = vec![
        ("id", r#""opt_1""#.to_owned()),
        ("title", r#""Standard""#.to_owned()),
        ("totals", bad_totals.to_owned()),
    ];
    let missing_title = vec![
        ("id", r#""opt_1""#.to_owned()),
        ("totals", TOTALS.to_owned()),
    ];
    for at in 0..=members.len() {
        let text = session_with(&object(&members, "\"shipping\"", at));
        let e = parse::from_slice::<CheckoutSession>(text.as_bytes()).unwrap_err();
        assert_eq!(
            e.path.to_string(),
            "$.fulfillment_options[0].totals[0].amount",
            "{text}"
        );
        assert!(!e.message.contains(" at line "), "{e}");
    }
    for at in 0..=missing_title.len() {
        let text = session_with(&object(&missing_title, "\"shipping\"", at));
        let e = parse::from_slice::<CheckoutSession>(text.as_bytes()).unwrap_err();
        assert_eq!(
            e.path.to_string(),
            "$.fulfillment_options[0].title",
            "{text}"
        );
        assert!(e.message.contains("missing field `title`"), "{e}");
    }
    // And the valid session parses in both orders.
    let (_, good) = &variants()[0];
    for at in 0..=good.len() {
        let text = session_with(&object(good, "\"shipping\"", at));
        let s = parse::from_slice::<CheckoutSession>(text.as_bytes()).unwrap();
        assert!(matches!(
            s.fulfillment_options[0],
            FulfillmentOption::Shipping(_)
        ));
    }
}
