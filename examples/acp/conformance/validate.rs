//! Strict validation of what the merchant sent, with the crate's compiled-in official
//! schemas: sessions as `agentic_checkout.CheckoutSession` (or `CheckoutSessionWithOrder`),
//! every ACP error body as `agentic_checkout.Error` (ERR-01, ERR-02), discovery as
//! `agentic_checkout.DiscoveryResponse`.

use agentic_commerce::parse;
use agentic_commerce::registry;
use agentic_commerce::rules::{self, Finding};
use agentic_commerce::spec::v2026_04_17::agentic_checkout::{
    CheckoutSession, CheckoutSessionWithOrder, DiscoveryResponse,
};
use serde_json::Value;

use super::client::Exchange;

/// The first few violations as one line (`$.capabilities: missing required member; …`).
fn violations(list: &[agentic_commerce::schema::Violation]) -> String {
    let mut parts: Vec<String> = list
        .iter()
        .take(3)
        .map(|v| format!("{}: {}", v.path, v.message))
        .collect();
    if list.len() > 3 {
        parts.push(format!("and {} more", list.len() - 3));
    }
    parts.join("; ")
}

fn json_of(exchange: &Exchange) -> Result<&Value, String> {
    exchange
        .json
        .as_ref()
        .ok_or_else(|| format!("body is not JSON: {}", exchange.brief()))
}

/// The body strictly validated as `<bundle>.<Name>` from the registry.
///
/// # Errors
///
/// A readable list of schema violations.
pub(crate) fn strict(name: &str, value: &Value) -> Result<(), String> {
    let entry = registry::lookup(name).ok_or_else(|| format!("{name} is not a known type"))?;
    entry
        .roundtrip_strict(value)
        .map(|_| ())
        .map_err(|v| format!("not a valid {name}: {}", violations(&v)))
}

/// A checkout session body (strict `CheckoutSession`; CHK-04, CHK-05, NEG-02).
///
/// # Errors
///
/// Not JSON, or schema violations.
pub(crate) fn session(exchange: &Exchange) -> Result<&Value, String> {
    let value = json_of(exchange)?;
    parse::from_value_strict::<CheckoutSession>(value).map_err(|e| {
        format!(
            "not a valid CheckoutSession: {}",
            violations(&e.violations())
        )
    })?;
    Ok(value)
}

/// A session that may carry an order (strict `CheckoutSessionWithOrder` when `order` is
/// present, else `CheckoutSession`).
///
/// # Errors
///
/// Not JSON, or schema violations.
pub(crate) fn session_maybe_with_order(exchange: &Exchange) -> Result<&Value, String> {
    let value = json_of(exchange)?;
    if value.get("order").is_some() {
        parse::from_value_strict::<CheckoutSessionWithOrder>(value).map_err(|e| {
            format!(
                "not a valid CheckoutSessionWithOrder: {}",
                violations(&e.violations())
            )
        })?;
        Ok(value)
    } else {
        session(exchange)
    }
}

/// An ACP error body (strict `agentic_checkout.Error`, ERR-01, ERR-02) with the expected HTTP
/// status and, when given, `code`.
///
/// # Errors
///
/// Wrong status, wrong code, or not a valid `Error`.
pub(crate) fn error<'a>(
    exchange: &'a Exchange,
    status: u16,
    code: Option<&str>,
) -> Result<&'a Value, String> {
    if exchange.status != status {
        return Err(format!("expected HTTP {status}, got {}", exchange.brief()));
    }
    let value = json_of(exchange)?;
    strict("agentic_checkout.Error", value).map_err(|e| format!("{e} (body {value})"))?;
    if let Some(code) = code {
        if value["code"] != code {
            return Err(format!("expected code {code:?}, got {}", value["code"]));
        }
    }
    Ok(value)
}

/// A discovery document (strict `DiscoveryResponse`, DIS-03..06).
///
/// # Errors
///
/// Not JSON, or schema violations.
pub(crate) fn discovery(exchange: &Exchange) -> Result<&Value, String> {
    let value = json_of(exchange)?;
    parse::from_value_strict::<DiscoveryResponse>(value).map_err(|e| {
        format!(
            "not a valid DiscoveryResponse: {}",
            violations(&e.violations())
        )
    })?;
    Ok(value)
}

/// The session's `status`.
pub(crate) fn status(session: &Value) -> &str {
    session["status"].as_str().unwrap_or_default()
}

/// The business-rule findings (`agentic_commerce::rules`) of a session body that passed the
/// strict schema check; `None` when the body is not a strictly valid session.
pub(crate) fn business_rules(value: &Value) -> Option<Vec<Finding>> {
    let session = parse::from_value_strict::<CheckoutSession>(value).ok()?;
    Some(rules::check_session(&session))
}
