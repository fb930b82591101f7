//! DP-19: card data and secrets never reach `Debug` (a log line of a parsed
//! value).
//!
//! 1. [`every_secret_member_of_every_version_is_redacted_in_debug`] walks every
//!    registry type of every released version. For each type it builds a
//!    value holding every member (a unique marker string in each free-text
//!    string), parses it into the Rust type and formats it with `{:?}`. Every
//!    member whose name says it carries a card number, CVC, cryptogram,
//!    authentication value, token or credential (and every string below such
//!    a member) must be absent from the output, i.e. a
//!    [`agentic_commerce::wire::Sensitive`], unless [`NOT_SECRET`] lists it
//!    with a reason. A future schema adding, say, a `cvc` member that the
//!    generator maps to `String` fails this test.
//! 2. [`official_examples_with_card_data_print_no_card_data`] parses every
//!    official example holding such members and checks that its `Debug`
//!    output contains none of their values.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use agentic_commerce::parse::registry::{self, TypeEntry};
use agentic_commerce::parse::schema::{Additional, Format, Representation, Shape};
use common::{VERSIONS, api_version, examples_in, spec_dir};
use serde_json::{Map, Value};

/// Whether a member name says it carries card data or a secret (DP-19).
fn carries_secret(member: &str) -> bool {
    const PARTS: &[&str] = &[
        "cvc",
        "cvv",
        "cryptogram",
        "authentication_value",
        "token",
        "credential",
        "secret",
        "password",
        "card_number",
    ];
    member == "number" || member == "pan" || PARTS.iter().any(|p| member.contains(p))
}

/// Members whose name matches [`carries_secret`] but that carry no secret:
/// (object shape name, member, reason). Every entry must still match a member
/// somewhere (checked), so the list cannot go stale. Below a secret member,
/// a `type` member names the kind of secret (`credential.type`) and is not
/// one either.
const NOT_SECRET: &[(&str, &str, &str)] = &[(
    "PaymentMethodCard",
    "card_number_type",
    "which kind of number the card carries (`fpan`, `network_token`), not the number",
)];

/// How deep optional members are filled before only required ones are.
const MAX_DEPTH: u32 = 10;

#[derive(Default)]
struct Builder {
    next: usize,
    /// (path, marker) of every free-text string that must stay out of `Debug`.
    secret: Vec<(String, String)>,
    /// Markers of the other strings (some must show up: `Debug` prints fields).
    plain: Vec<String>,
    /// `NOT_SECRET` entries that matched.
    exempted: Vec<(&'static str, &'static str)>,
}

impl Builder {
    fn marker(&mut self) -> String {
        self.next += 1;
        format!("zq{:06}qz", self.next)
    }

    fn build(&mut self, shape: &'static Shape, path: &str, secret: bool, depth: u32) -> Value {
        match shape.resolve() {
            Shape::Bool => Value::Bool(true),
            Shape::Integer(i) => {
                let v = i.minimum.unwrap_or(1).max(1);
                Value::from(i.maximum.map_or(v, |max| v.min(max)))
            }
            Shape::Number(n) => {
                let v = n
                    .minimum
                    .or(n.exclusive_minimum.map(|m| m + 1.0))
                    .unwrap_or(1.0);
                Value::from(n.maximum.map_or(v, |max| v.min(max)))
            }
            Shape::String(s) => {
                if let Some(c) = s.constant {
                    return Value::from(c);
                }
                if let Some(values) = s.values {
                    return Value::from(values[0]);
                }
                match (s.format, s.representation) {
                    (Some(Format::DateTime), _) => Value::from("2026-01-01T00:00:00Z"),
                    (Some(Format::Uri), _) => Value::from("https://example.com/x"),
                    (Some(Format::Email), _) => Value::from("a@example.com"),
                    (_, Some(Representation::Currency)) => Value::from("usd"),
                    _ => {
                        let m = self.marker();
                        if secret {
                            self.secret.push((path.to_owned(), m.clone()));
                        } else {
                            self.plain.push(m.clone());
                        }
                        Value::String(m)
                    }
                }
            }
            Shape::Array(a) => {
                let n = if depth > MAX_DEPTH {
                    a.min_items.unwrap_or(0)
                } else {
                    a.min_items.unwrap_or(1).max(1)
                };
                (0..n)
                    .map(|i| self.build(a.items, &format!("{path}[{i}]"), secret, depth + 1))
                    .collect()
            }
            Shape::Object(o) => {
                let mut map = Map::new();
                for f in o.fields {
                    if depth > MAX_DEPTH && !f.required {
                        continue;
                    }
                    let mut member_secret = secret && f.name != "type";
                    if carries_secret(f.name) {
                        if let Some(&(owner, member, _)) = NOT_SECRET
                            .iter()
                            .find(|(owner, member, _)| *owner == o.name && *member == f.name)
                        {
                            self.exempted.push((owner, member));
                        } else {
                            member_secret = true;
                        }
                    }
                    let child = format!("{path}.{}", f.name);
                    map.insert(
                        f.name.to_owned(),
                        self.build(f.shape, &child, member_secret, depth + 1),
                    );
                }
                if let Additional::Shape(s) = &o.additional {
                    let child = format!("{path}.k");
                    map.insert("k".to_owned(), self.build(s, &child, secret, depth + 1));
                }
                Value::Object(map)
            }
            Shape::OneOf(branches) => self.build(branches[0], path, secret, depth + 1),
            Shape::Tagged(t) => {
                // Every variant is a registry type of its own, walked there.
                self.build(t.variants[0].1, path, secret, depth)
            }
            Shape::Const(text) => serde_json::from_str(text).unwrap(),
            _ => Value::Object(Map::new()),
        }
    }
}

fn check_entry(version: &str, entry: &TypeEntry, b: &mut Builder, failures: &mut Vec<String>) {
    let name = entry.qualified_name();
    let before = b.secret.len();
    let value = b.build(entry.shape(), "$", false, 0);
    let debug = match entry.debug(&value) {
        Ok(d) => d,
        Err(e) => {
            failures.push(format!(
                "{version} {name}: the built value does not parse: {e}"
            ));
            return;
        }
    };
    for (path, marker) in &b.secret[before..] {
        if debug.contains(marker.as_str()) {
            failures.push(format!(
                "{version} {name}: {path} prints in Debug (not `Sensitive`; or list it in NOT_SECRET with a reason)"
            ));
        }
    }
}

#[test]
fn every_secret_member_of_every_version_is_redacted_in_debug() {
    let mut failures = Vec::new();
    let mut b = Builder::default();
    let mut types = 0;
    for version in VERSIONS.iter() {
        let entries = registry::types_for(&api_version(version)).unwrap();
        for entry in entries {
            check_entry(version, entry, &mut b, &mut failures);
            types += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The walk is not vacuous: it found the card members and Debug prints the rest.
    assert!(types > 300, "walked only {types} types");
    for expected in [
        "$.payment_method.number",
        "$.payment_method.cvc",
        "$.payment_method.cryptogram",
    ] {
        assert!(
            b.secret.iter().any(|(p, _)| p == expected),
            "{expected} not walked"
        );
    }
    for (owner, member, _) in NOT_SECRET {
        assert!(
            b.exempted.contains(&(*owner, *member)),
            "NOT_SECRET lists {owner}.{member}, which no schema has any more"
        );
    }
}

#[test]
fn debug_prints_plain_members_so_the_walk_can_see_leaks() {
    // The walk above proves redaction by absence; absence only means something
    // if Debug prints an unredacted string member when there is one.
    let entry = registry::lookup("agentic_checkout.Buyer").unwrap();
    let mut b = Builder::default();
    let value = b.build(entry.shape(), "$", false, 0);
    let debug = entry.debug(&value).unwrap();
    assert!(!b.plain.is_empty());
    for m in &b.plain {
        assert!(debug.contains(m.as_str()), "{m} missing from {debug}");
    }
}

/// Every string at or below a member named by [`carries_secret`].
fn secrets_in(value: &Value, inherited: bool, out: &mut Vec<String>) {
    match value {
        Value::String(s) if inherited => out.push(s.clone()),
        Value::Array(items) => {
            for v in items {
                secrets_in(v, inherited, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                // A credential's `type` names the kind of credential, not the secret.
                let exempt = NOT_SECRET.iter().any(|(_, member, _)| member == k);
                let secret = (inherited && k != "type") || (carries_secret(k) && !exempt);
                secrets_in(v, secret, out);
            }
        }
        _ => {}
    }
}

/// Official examples with card data that their own Rust type cannot hold (errata also listed
/// in `tests/it/models/conformance.rs`), with the reason: there is no value to print for them.
const UNPARSEABLE_ERRATA: &[(&str, &str, &str)] = &[(
    "2026-04-17",
    "examples.mcp.agentic_checkout.json#complete_checkout_session_request.params.arguments.payload",
    "The MCP complete payload sends `instrument: {token}` without the required `type`.",
)];

#[test]
fn official_examples_with_card_data_print_no_card_data() {
    let Some(spec) = spec_dir("official_examples_with_card_data_print_no_card_data") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: the official spec folder is required"
        );
        return;
    };
    let mut failures = Vec::new();
    let mut checked = Vec::new();
    let mut unparsed = Vec::new();
    for version in VERSIONS.iter() {
        for example in examples_in(&spec, version) {
            let mut secrets = Vec::new();
            secrets_in(&example.value, false, &mut secrets);
            if secrets.is_empty() {
                continue;
            }
            let entry = registry::lookup_in(&api_version(version), example.type_name)
                .unwrap_or_else(|| panic!("{version} has no {}", example.type_name));
            let debug = match entry.debug(&example.value) {
                Ok(d) => d,
                Err(e) => {
                    // An example the Rust type cannot hold yields no value to print; only
                    // the listed errata may do that.
                    let listed = UNPARSEABLE_ERRATA
                        .iter()
                        .any(|(v, id, _)| v == version && *id == example.id);
                    if listed {
                        println!(
                            "{version} {}: listed erratum, not parsed ({e}), nothing to print",
                            example.id
                        );
                        unparsed.push(format!("{version} {}", example.id));
                    } else {
                        failures.push(format!("{version} {}: does not parse: {e}", example.id));
                    }
                    continue;
                }
            };
            for s in &secrets {
                // A leaked `String` prints quoted; a long value (a PAN, a
                // cryptogram) must not appear at all.
                let quoted = format!("{s:?}");
                let digits: String = s.chars().filter(char::is_ascii_digit).collect();
                if debug.contains(&quoted)
                    || (s.len() >= 8 && debug.contains(s.as_str()))
                    || (digits.len() >= 8 && debug.contains(&digits))
                {
                    failures.push(format!("{version} {}: {quoted} in Debug", example.id));
                }
            }
            checked.push(format!("{version} {}", example.id));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for (version, id, _) in UNPARSEABLE_ERRATA {
        assert!(
            unparsed.contains(&format!("{version} {id}")),
            "{version} {id} is listed as unparseable but parsed or was not found: remove it"
        );
    }
    for expected in [
        "examples.delegate_payment.json#delegate_payment_request",
        "examples.delegate_authentication.json#create_authentication_session_request",
    ] {
        assert!(
            checked.iter().any(|c| c.contains(expected)),
            "no example {expected} was checked: {checked:?}"
        );
    }
}
