//! Strict validation of what the merchant sent, with the crate's compiled-in official
//! schemas of the version under test (`--api-version`): sessions as
//! `agentic_checkout.CheckoutSession` (or `CheckoutSessionWithOrder`), every ACP error body as
//! `agentic_checkout.Error` (ERR-01, ERR-02); discovery (2026-04-17 only) as
//! `agentic_checkout.DiscoveryResponse`.

use agentic_commerce::parse;
use agentic_commerce::parse::registry;
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::protocol::version::convert::{self as versioned, Document, UpgradeDefaults};
use agentic_commerce::rules::{self, Finding};
use agentic_commerce::spec::v2026_04_17::agentic_checkout::{CheckoutSession, DiscoveryResponse};
use serde_json::{Value, json};

use super::client::Exchange;

/// The first few violations as one line (`$.capabilities: missing required member; …`).
fn violations(list: &[parse::schema::Violation]) -> String {
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

/// A checkout session body, strictly `agentic_checkout.CheckoutSession` of `version`
/// (CHK-04, CHK-05, NEG-02; a status or member only later versions define fails).
///
/// # Errors
///
/// Not JSON, or schema violations.
pub(crate) fn session<'a>(
    version: &ApiVersion,
    exchange: &'a Exchange,
) -> Result<&'a Value, String> {
    let value = json_of(exchange)?;
    strict_in(version, "agentic_checkout.CheckoutSession", value)?;
    Ok(value)
}

/// A session that may carry an order: strict `CheckoutSessionWithOrder` of `version` when
/// `order` is present, else `CheckoutSession`. 2025-09-29's `CheckoutSessionWithOrder` is
/// unsatisfiable as published (its closed base forbids the `order` it requires): a 2025-09-29
/// answer is always held to `CheckoutSession`.
///
/// # Errors
///
/// Not JSON, or schema violations.
pub(crate) fn session_maybe_with_order<'a>(
    version: &ApiVersion,
    exchange: &'a Exchange,
) -> Result<&'a Value, String> {
    let value = json_of(exchange)?;
    if value.get("order").is_some() && *version != ApiVersion::V2025_09_29 {
        strict_in(version, "agentic_checkout.CheckoutSessionWithOrder", value)?;
        Ok(value)
    } else {
        session(version, exchange)
    }
}

/// `value` strictly validated as `<bundle>.<Name>` of `version`.
///
/// # Errors
///
/// The version has no such type, or a readable list of schema violations.
pub(crate) fn strict_in(version: &ApiVersion, name: &str, value: &Value) -> Result<(), String> {
    let entry = registry::lookup_in(version, name)
        .ok_or_else(|| format!("{name} is not a type of {version}"))?;
    let short = name.split_once('.').map_or(name, |(_, n)| n);
    entry
        .roundtrip_strict(value)
        .map(|_| ())
        .map_err(|v| format!("not a valid {version} {short}: {}", violations(&v)))
}

/// An ACP error body (strict `agentic_checkout.Error` of `version`, ERR-01, ERR-02) with the expected HTTP
/// status and, when given, `code`.
///
/// # Errors
///
/// Wrong status, wrong code, or not a valid `Error`.
pub(crate) fn error<'a>(
    version: &ApiVersion,
    exchange: &'a Exchange,
    status: u16,
    code: Option<&str>,
) -> Result<&'a Value, String> {
    if exchange.status != status {
        return Err(format!("expected HTTP {status}, got {}", exchange.brief()));
    }
    let value = json_of(exchange)?;
    strict_in(version, "agentic_checkout.Error", value)
        .map_err(|e| format!("{e} (body {value})"))?;
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
/// strict schema check of `version`; `None` when the body is not a strictly valid session.
/// An older version's session is first brought to 2026-04-17 with the crate's conversion (the
/// rules are written against it); a session before 2026-01-30 carries no `capabilities`, which
/// 2026-04-17 requires: an empty object stands in, and findings about what only later versions
/// define are the caller's to drop ([`only_later`]).
pub(crate) fn business_rules(version: &ApiVersion, value: &Value) -> Option<Vec<Finding>> {
    let latest = if *version == ApiVersion::LATEST {
        value.clone()
    } else {
        strict_in(version, "agentic_checkout.CheckoutSession", value).ok()?;
        let defaults = UpgradeDefaults::new().capabilities(json!({}));
        versioned::convert_with(
            Document::CheckoutSession,
            version,
            &ApiVersion::LATEST,
            value,
            &defaults,
        )
        .ok()?
        .value
    };
    let session = parse::from_value_strict::<CheckoutSession>(&latest).ok()?;
    Some(rules::check_session(&session))
}

/// Whether a finding only concerns what `version` does not define: capability negotiation,
/// extensions and the discount extension start in 2026-01-30, and a 2025-09-29 complete is
/// answered without `order` (its `CheckoutSessionWithOrder` is unsatisfiable as published).
pub(crate) fn only_later(version: &ApiVersion, finding: &Finding) -> bool {
    let rule = finding.rule;
    (*version < ApiVersion::V2026_01_30
        && ["NEG-", "EXT-", "DSC-"].iter().any(|p| rule.starts_with(p)))
        || (*version == ApiVersion::V2025_09_29
            && rule == "CHK-11"
            && finding.param.to_string() == "$.order")
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentic_commerce::parse::json_path::JsonPath;

    fn answer(body: &Value) -> Exchange {
        Exchange {
            status: 200,
            headers: Vec::new(),
            raw: body.to_string().into_bytes(),
            json: Some(body.clone()),
        }
    }

    /// A minimal 2026-04-17 session: one line, no tax, nothing selected.
    fn latest_session() -> Value {
        let totals = |kinds: &[&str]| -> Value {
            kinds
                .iter()
                .map(|k| json!({"type": k, "display_text": k, "amount": if *k == "discount" || *k == "tax" { 0 } else { 1000 }}))
                .collect()
        };
        json!({"id": "cs_1", "status": "ready_for_payment", "currency": "usd",
            "capabilities": {"payment": {"handlers": []}},
            "line_items": [{"id": "li_1", "item": {"id": "var_1"}, "quantity": 1,
                "totals": totals(&["items_base_amount", "discount", "subtotal", "tax", "total"])}],
            "totals": totals(&["subtotal", "total"]),
            "fulfillment_options": [], "messages": [], "links": []})
    }

    #[test]
    fn a_session_in_another_version_is_reported() {
        let latest = latest_session();
        assert_eq!(
            session(&ApiVersion::LATEST, &answer(&latest)).unwrap(),
            &latest
        );
        // The same answer to a 2025-09-29 agent: wrong shape, named with its paths.
        let wrong = session(&ApiVersion::V2025_09_29, &answer(&latest)).unwrap_err();
        assert!(
            wrong.starts_with("not a valid 2025-09-29 CheckoutSession: "),
            "{wrong}"
        );
        assert!(wrong.contains("$.capabilities"), "{wrong}");
        // Brought down with the crate's conversion, it is valid there.
        let old = versioned::convert(
            Document::CheckoutSession,
            &ApiVersion::LATEST,
            &ApiVersion::V2025_12_12,
            &latest,
        )
        .unwrap()
        .value;
        session(&ApiVersion::V2025_12_12, &answer(&old)).unwrap();
        assert!(session(&ApiVersion::LATEST, &answer(&old)).is_err());
        // Its business rules are checked after bringing it back up.
        assert!(business_rules(&ApiVersion::V2025_12_12, &old).is_some());
        assert!(business_rules(&ApiVersion::V2025_12_12, &latest).is_none());
    }

    #[test]
    fn an_error_with_a_later_member_is_reported() {
        let body = json!({"type": "invalid_request", "code": "unsupported_api_version",
            "message": "no", "supported_versions": ["2026-04-17"]});
        let exchange = Exchange {
            status: 400,
            ..answer(&body)
        };
        error_ok(&ApiVersion::LATEST, &exchange);
        let old = error(&ApiVersion::V2026_01_30, &exchange, 400, None).unwrap_err();
        assert!(old.contains("$.supported_versions"), "{old}");
    }

    fn error_ok(version: &ApiVersion, exchange: &Exchange) {
        error(version, exchange, 400, Some("unsupported_api_version")).unwrap();
    }

    #[test]
    fn findings_on_what_a_version_lacks_are_dropped() {
        let order = Finding::error("CHK-11", JsonPath::root().key("order"), "no order");
        assert!(only_later(&ApiVersion::V2025_09_29, &order));
        assert!(!only_later(&ApiVersion::V2025_12_12, &order));
        let neg = Finding::error("NEG-04", JsonPath::root(), "no handler");
        assert!(only_later(&ApiVersion::V2026_01_16, &neg));
        assert!(!only_later(&ApiVersion::V2026_01_30, &neg));
    }
}
