//! Behaviour of the small wire and primitive types that the rest of the suite only reaches
//! indirectly: `Extra`, the id newtypes, `Currency`'s comparisons,
//! `Sensitive` (DP-19), `Patch` and `ApiVersion`'s trait impls.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hash::{BuildHasher as _, BuildHasherDefault, DefaultHasher};

use agentic_commerce::primitives::Currency;
use agentic_commerce::primitives::ids::{CheckoutSessionId, OrderId};
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::wire::{Extra, Patch, Sensitive};
use serde_json::{Map, Value, json};

fn hash_of<T: std::hash::Hash>(value: &T) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(value)
}

#[test]
fn extra_is_a_map_of_unknown_fields() {
    let mut extra = Extra::new();
    assert!(extra.is_empty());
    assert_eq!(extra.len(), 0);
    assert_eq!(extra.insert("b".to_owned(), json!(2)), None);
    assert_eq!(extra.insert("a".to_owned(), json!(1)), None);
    assert_eq!(extra.insert("a".to_owned(), json!(10)), Some(json!(1)));
    assert!(!extra.is_empty());
    assert_eq!(extra.len(), 2);
    assert!(extra.contains_key("a"));
    assert!(!extra.contains_key("c"));
    assert_eq!(extra.get("a"), Some(&json!(10)));
    // Iteration is in key order, by both `iter` and `&Extra: IntoIterator`.
    let keys: Vec<&String> = extra.iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["a", "b"]);
    let keys: Vec<&String> = (&extra).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["a", "b"]);
    assert_eq!(extra.as_map().len(), 2);
    assert_eq!(extra.remove("b"), Some(json!(2)));
    assert_eq!(extra.remove("b"), None);
    let map: Map<String, Value> = extra.clone().into_map();
    assert_eq!(Value::Object(map.clone()), json!({"a": 10}));
    assert_eq!(Extra::from(map), extra);
}

#[test]
fn id_newtypes_wrap_and_compare_with_strings() {
    let id = CheckoutSessionId::new("csn_1");
    assert_eq!(id.as_str(), "csn_1");
    assert_eq!(id.to_string(), "csn_1");
    assert_eq!(id, *"csn_1");
    assert_eq!(id, "csn_1");
    assert_ne!(id, "csn_2");
    assert_eq!(AsRef::<str>::as_ref(&id), "csn_1");
    assert_eq!(CheckoutSessionId::from("csn_1"), id);
    assert_eq!(CheckoutSessionId::from("csn_1".to_owned()), id);
    assert_eq!(OrderId::from("ord_1").as_str(), "ord_1");
}

#[test]
fn currency_compares_and_hashes_case_insensitively() {
    let lower = Currency::new("usd").unwrap();
    let upper: Currency = "USD".parse().unwrap();
    assert_eq!(lower, upper);
    assert_eq!(hash_of(&lower), hash_of(&upper));
    assert_ne!(hash_of(&lower), hash_of(&Currency::new("eur").unwrap()));
    assert_eq!(lower, *"USD");
    assert_eq!(upper, "usd");
    assert_ne!(upper, "eur");
    // Display keeps the case it was given.
    assert_eq!(lower.to_string(), "usd");
    assert_eq!(upper.to_string(), "USD");
    assert!("us".parse::<Currency>().is_err());
}

/// DP-19: a secret never reaches `Debug`, and can still be read on purpose.
#[test]
fn dp19_sensitive_redacts_debug_and_exposes_on_request() {
    let card = Sensitive::new("4242424242424242");
    assert_eq!(format!("{card:?}"), "[REDACTED]");
    assert_eq!(card.expose(), "4242424242424242");
    assert_eq!(card.char_count(), 16);
    assert_eq!(Sensitive::from("é1").char_count(), 2);
    assert_eq!(Sensitive::from("x".to_owned()).expose(), "x");
    assert_eq!(
        serde_json::to_value(&card).unwrap(),
        json!("4242424242424242")
    );
}

#[test]
fn patch_applies_absent_null_and_set() {
    let mut stored = Some(1);
    Patch::Absent.apply_to(&mut stored);
    assert_eq!(stored, Some(1));
    Patch::Set(2).apply_to(&mut stored);
    assert_eq!(stored, Some(2));
    Patch::Null.apply_to(&mut stored);
    assert_eq!(stored, None);
    Patch::from(3).apply_to(&mut stored);
    assert_eq!(stored, Some(3));
    assert_eq!(Patch::from(4).as_set(), Some(&4));
    assert_eq!(Patch::<i32>::Null.as_set(), None);
    assert_eq!(Patch::<i32>::Absent.as_set(), None);
}

#[test]
fn api_version_trait_impls_agree_with_the_date() {
    let v = ApiVersion::try_from("2026-04-17").unwrap();
    assert_eq!(v, ApiVersion::V2026_04_17);
    assert_eq!(v, *"2026-04-17");
    assert_eq!(v, "2026-04-17");
    assert_ne!(v, "2026-01-30");
    assert_eq!(format!("{v:?}"), "ApiVersion(2026-04-17)");
    assert_eq!(hash_of(&v), hash_of(&ApiVersion::V2026_04_17));
    assert_ne!(hash_of(&v), hash_of(&ApiVersion::V2026_01_30));
    assert!(ApiVersion::try_from("2026-13-01").is_err());
    assert!(ApiVersion::V2025_09_29 < v);
}
