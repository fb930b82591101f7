//! The probes: each sends real requests to the merchant and records one or more checks in the
//! [`Report`]. They run in a fixed order because later probes reuse what earlier ones created
//! (the session from `create` is updated, retrieved, completed and then canceled).
//!
//! Every probe speaks the API version under test ([`Settings::version`]): its requests are
//! that version's shapes ([`shapes`]) and every answer is held to that version's schemas; a
//! probe of something the version does not define is recorded as not applicable.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::client::{Client, Exchange, Post, Version, fresh_id};
use super::report::{Level, Report};
use super::shapes;
use super::validate::{self, status};
use super::{carts, mcp, security};
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::protocol::version::convert::Document;
use agentic_commerce::rules::Finding;
use agentic_commerce::spec::latest::delegate_authentication::FingerprintCompletion;

/// An API version no merchant supports (well-formed, so only "unsupported" applies).
pub(crate) const UNSUPPORTED_VERSION: &str = "2000-01-01";
/// The token sent to `complete` when no PSP is configured: the merchant cannot charge it, so
/// any spec-conformant answer passes.
pub(crate) const TEST_TOKEN: &str = "vt_conformancetest";

/// What the probes need besides the merchant client.
pub(crate) struct Settings {
    /// Variant ids the merchant sells; the first is bought.
    pub(crate) items: Vec<String>,
    /// ISO 4217 currency of the sessions (lowercase).
    pub(crate) currency: String,
    /// A PSP that issues real delegated tokens (`--psp-url`).
    pub(crate) psp: Option<Client>,
    /// The API version under test (`--api-version`, a released version).
    pub(crate) version: ApiVersion,
    /// The merchant id for a delegated token's allowance when the session does not say it
    /// (`--merchant-id`; sessions before 2026-01-16 carry none).
    pub(crate) merchant_id: Option<String>,
    /// The MCP endpoint (`--mcp-url`); without it `{base_url}/mcp` when discovery offers MCP.
    pub(crate) mcp_url: Option<String>,
    /// Size of the `body.oversize` request (`--oversize-bytes`).
    pub(crate) oversize_bytes: usize,
}

/// Whether the probe `id` applies to the version under test; records it as not applicable
/// (with the reason) when it does not.
pub(crate) fn applies(version: &ApiVersion, report: &mut Report, id: &'static str) -> bool {
    match shapes::not_applicable(version, id) {
        Some(reason) => {
            report.not_applicable(id, reason);
            false
        }
        None => true,
    }
}

/// The merchant did not answer at all: exit 2.
#[derive(Debug)]
pub(crate) struct Unreachable(pub(crate) String);

/// Runs every probe against `merchant`; returns the ids of the sessions it bought (completed),
/// whose `order_create` webhooks the webhook probes wait for.
///
/// # Errors
///
/// [`Unreachable`] when the first request (discovery) gets no HTTP answer.
pub(crate) async fn run(
    merchant: &Client,
    settings: &Settings,
    report: &mut Report,
) -> Result<Vec<String>, Unreachable> {
    let mut bought = Vec::new();
    let v = &settings.version;
    let discovered = discovery(merchant, v, report).await?;
    let created = create(merchant, settings, report).await;
    negotiation(v, created.as_ref(), report);
    create_all_items(merchant, settings, report).await;
    missing_key(merchant, settings, report).await;
    malformed_json(merchant, v, report).await;
    let session_id = created
        .as_ref()
        .and_then(|s| s["id"].as_str())
        .map(str::to_owned);
    versions(merchant, v, session_id.as_deref(), report).await;
    retrieve_unknown(merchant, v, report).await;
    if let Some(created) = created {
        let updated = update(merchant, v, &created, report).await;
        let current = updated.unwrap_or(created);
        retrieve(merchant, v, &current, report).await;
        let completed = complete(merchant, settings, &current, report).await;
        cancel(merchant, settings, report).await;
        match completed {
            Some(id) => {
                cancel_completed(merchant, v, &id, report).await;
                bought.push(id);
            }
            None => report.skip("cancel.completed", "no session reached `completed`"),
        }
    } else {
        for id in ["update", "retrieve", "complete", "cancel.completed"] {
            report.skip(id, "needs the session from `create`, which failed");
        }
        cancel(merchant, settings, report).await;
    }
    security::run(merchant, settings, report).await;
    carts::run(merchant, settings, discovered.as_ref(), report).await;
    mcp::run(merchant, settings, discovered.as_ref(), report).await;
    business_rules(merchant, v, report);
    Ok(bought)
}

/// Rule IDs `agentic_commerce::rules::check_session` reports whose requirement is a MUST (or a
/// schema-level invariant): their error findings fail `session.rules`.
const MUST_RULES: &[&str] = &[
    "CHK-06", "CHK-11", "CHK-13", "CUR-01", "DSC-05", "DSC-06", "DSC-07", "DSC-08", "DSC-09",
    "EXT-01", "EXT-02", "EXT-03", "EXT-04", "MD-02", "ORD-02", "ORD-03", "ORD-05", "ORD-09",
    "ARITH-09", "ARITH-10",
];
/// Its rule IDs whose requirement is a SHOULD: any finding fails `session.rules.should`, as do
/// warnings under the rules above.
const SHOULD_RULES: &[&str] = &["CHK-07", "CHK-08", "CHK-09", "DSC-04"];

/// Whether a finding goes beyond the spec: the validator's CHK-09 also wants every message
/// `param` to resolve inside the session, but the spec only asks for an RFC 9535 JSONPath, and
/// conformant params name request members (`$.payment_data` on a decline) or members the buyer
/// still has to provide (a `missing` message), as the schema's own `MessageError` example does
/// (`$.items[0]`). Such findings are counted in the detail, never failed.
fn beyond_spec(finding: &Finding) -> bool {
    finding.rule == "CHK-09" && finding.message.contains("does not resolve")
}

/// The crate's business-rule validator on every 2xx session answer that passed the strict
/// schema check of `version` (an older version's session brought to 2026-04-17 first;
/// findings about what `version` does not define are left out).
fn business_rules(merchant: &Client, version: &ApiVersion, report: &mut Report) {
    let (mut checked, mut ignored) = (0_usize, 0_usize);
    let (mut must, mut should) = (Vec::new(), Vec::new());
    for (request, answer) in merchant.answers() {
        let Some(body) = answer
            .json
            .as_ref()
            .filter(|_| (200..300).contains(&answer.status))
        else {
            continue;
        };
        let Some(findings) = validate::business_rules(version, body) else {
            continue;
        };
        checked += 1;
        for f in findings {
            if validate::only_later(version, &f) {
                continue;
            }
            if beyond_spec(&f) {
                ignored += 1;
                continue;
            }
            let line = format!("{request}: {} {} at {}", f.rule, f.message, f.param);
            if f.is_error() && !SHOULD_RULES.contains(&f.rule) {
                must.push(line);
            } else {
                should.push(line);
            }
        }
    }
    if checked == 0 {
        report.skip("session.rules", "no strictly valid session answer to check");
        report.skip(
            "session.rules.should",
            "no strictly valid session answer to check",
        );
        return;
    }
    let summarize = |list: &[String], note: &str| {
        if list.is_empty() {
            Ok(format!(
                "{checked} session answer(s) checked, no findings{note}"
            ))
        } else {
            let mut shown: Vec<String> = list.iter().take(3).cloned().collect();
            if list.len() > 3 {
                shown.push(format!("and {} more", list.len() - 3));
            }
            Err(format!(
                "{} finding(s) in {checked} session answer(s): {}{note}",
                list.len(),
                shown.join("; ")
            ))
        }
    };
    let note = if ignored == 0 {
        String::new()
    } else {
        format!(" ({ignored} message param(s) not resolving inside the session: allowed)")
    };
    report.record(
        "session.rules",
        MUST_RULES,
        Level::Must,
        summarize(&must, ""),
    );
    report.record(
        "session.rules.should",
        SHOULD_RULES,
        Level::Should,
        summarize(&should, &note),
    );
}

/// `GET /.well-known/acp.json`: 200 with a strict `DiscoveryResponse`, or 404 (not published).
/// Sent in every version (an unreachable merchant stops the run), judged from 2026-04-17 on.
/// Returns the document (a 200 JSON object) for the probes of optional services (carts, MCP).
async fn discovery(
    merchant: &Client,
    version: &ApiVersion,
    report: &mut Report,
) -> Result<Option<Value>, Unreachable> {
    let answer = merchant
        .get_public("/.well-known/acp.json")
        .await
        .map_err(Unreachable)?;
    let document = answer
        .json
        .clone()
        .filter(|d| answer.status == 200 && d.is_object());
    if !applies(version, report, "discovery") {
        return Ok(document);
    }
    let result = match answer.status {
        404 => Ok("HTTP 404: no discovery document published (allowed, DIS-09)".to_owned()),
        200 => validate::discovery(&answer).and_then(|doc| {
            let versions: Vec<&str> = doc["protocol"]["supported_versions"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            let latest = doc["protocol"]["version"].as_str().unwrap_or_default();
            if doc["protocol"]["name"] != "acp" {
                Err(format!("protocol.name is {}, not \"acp\" (DIS-04)", doc["protocol"]["name"]))
            } else if versions.is_empty() {
                Err("protocol.supported_versions is empty (DIS-05)".to_owned())
            } else if !versions.windows(2).all(|w| w[0] < w[1]) || versions.last() != Some(&latest) {
                Err(format!("supported_versions {versions:?} must be oldest first and end with version {latest:?} (DIS-05)"))
            } else {
                Ok(format!("HTTP 200, valid DiscoveryResponse, versions {versions:?}"))
            }
        }),
        _ => Err(format!("expected HTTP 200 or 404, got {}", answer.brief())),
    };
    report.record(
        "discovery",
        &[
            "DIS-01", "DIS-02", "DIS-03", "DIS-04", "DIS-05", "DIS-06", "DIS-09",
        ],
        Level::Must,
        result,
    );
    Ok(document)
}

/// A JSON value as request body bytes.
pub(crate) fn to_bytes(value: &Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

/// A 201 with a strict session of `version`.
fn created_session(
    version: &ApiVersion,
    answer: &Result<Exchange, String>,
) -> Result<Value, String> {
    let answer = answer.as_ref().map_err(Clone::clone)?;
    if answer.status != 201 {
        return Err(format!("expected HTTP 201, got {}", answer.brief()));
    }
    let session = validate::session(version, answer)?;
    if session["line_items"].as_array().is_none_or(Vec::is_empty) {
        return Err("the session has no line_items".to_owned());
    }
    Ok(session.clone())
}

/// Create (CHK-01, CHK-04), the `Idempotency-Key` echo (HDR-04) and the three idempotency
/// outcomes on the same key (IDEM-05, IDEM-08..11). Returns the created session.
async fn create(merchant: &Client, settings: &Settings, report: &mut Report) -> Option<Value> {
    let v = &settings.version;
    let rules: &'static [&'static str] = if shapes::since(v, &ApiVersion::V2026_01_30) {
        &["CHK-01", "CHK-03", "CHK-04", "CHK-05", "NEG-02"]
    } else {
        &["CHK-01", "CHK-03", "CHK-04", "CHK-05"]
    };
    let body = match shapes::create(v, &settings.items[..1], &settings.currency) {
        Ok(request) => request.body,
        Err(e) => {
            report.record("create", rules, Level::Must, Err(e));
            return None;
        }
    };
    let key = fresh_id("conformance-create-");
    let first = merchant
        .post(Post {
            path: "/checkout_sessions",
            body: &to_bytes(&body),
            key: Some(&key),
        })
        .await;
    let created = created_session(v, &first);
    report.record(
        "create",
        rules,
        Level::Must,
        created
            .as_ref()
            .map(|s| {
                format!(
                    "HTTP 201, valid {v} CheckoutSession {} ({})",
                    s["id"].as_str().unwrap_or("?"),
                    status(s)
                )
            })
            .map_err(Clone::clone),
    );
    let Ok(first) = first else {
        for id in [
            "create.idempotency_key_echo",
            "idempotency.replay",
            "idempotency.replayed_header",
            "idempotency.conflict",
        ] {
            report.skip(id, "create got no HTTP answer");
        }
        return None;
    };
    let echo = match first.header("idempotency-key") {
        Some(v) if v == key => Ok("Idempotency-Key echoed".to_owned()),
        Some(v) => Err(format!("Idempotency-Key echoed as {v:?}, sent {key:?}")),
        None => Err("response has no Idempotency-Key header".to_owned()),
    };
    report.record(
        "create.idempotency_key_echo",
        &["HDR-04"],
        Level::Must,
        echo,
    );
    same_key(merchant, v, &body, &key, &first, report).await;
    created.ok()
}

/// Capability negotiation on the created session (2026-01-30 on): the merchant declares its
/// payment handlers (NEG-04) and supports no intervention the agent did not offer (NEG-03:
/// the agent offered `3ds` only). `capabilities` itself is required by the schema (NEG-02).
fn negotiation(version: &ApiVersion, created: Option<&Value>, report: &mut Report) {
    if !applies(version, report, "negotiation") {
        return;
    }
    let Some(session) = created else {
        report.skip(
            "negotiation",
            "needs the session from `create`, which failed",
        );
        return;
    };
    let capabilities = &session["capabilities"];
    let handlers = capabilities
        .pointer("/payment/handlers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let extra: Vec<&str> = capabilities
        .pointer("/interventions/supported")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|i| *i != "3ds")
                .collect()
        })
        .unwrap_or_default();
    let result = if !capabilities.is_object() {
        Err("the session has no capabilities (NEG-02)".to_owned())
    } else if handlers == 0 {
        Err("capabilities.payment.handlers is empty or absent (NEG-04)".to_owned())
    } else if !extra.is_empty() {
        Err(format!(
            "interventions.supported has {extra:?}, which the agent did not offer (NEG-03)"
        ))
    } else {
        Ok(format!(
            "{handlers} payment handler(s); interventions within the agent's [\"3ds\"]"
        ))
    };
    report.record(
        "negotiation",
        &["NEG-02", "NEG-03", "NEG-04"],
        Level::Must,
        result,
    );
}

/// The same key again: with the same body (re-serialized: IDEM-05) a replay (IDEM-08,
/// IDEM-09), with another body a conflict (IDEM-11).
async fn same_key(
    merchant: &Client,
    version: &ApiVersion,
    body: &Value,
    key: &str,
    first: &Exchange,
    report: &mut Report,
) {
    // The same body with other key order and whitespace is the same request (IDEM-05).
    let pretty = serde_json::to_string_pretty(body)
        .unwrap_or_default()
        .into_bytes();
    let replay = merchant
        .post(Post {
            path: "/checkout_sessions",
            body: &pretty,
            key: Some(key),
        })
        .await;
    let replayed = replay.as_ref().map_err(Clone::clone).and_then(|r| {
        if r.status != first.status {
            Err(format!(
                "replay answered HTTP {}, the original {} ({})",
                r.status,
                first.status,
                r.brief()
            ))
        } else if r.json.is_none() || r.json != first.json {
            Err(format!(
                "replayed body differs from the original: {}",
                r.brief()
            ))
        } else {
            Ok(format!(
                "HTTP {} with the original body (no second session)",
                r.status
            ))
        }
    });
    // Before 2026-04-17 the key is only a listed header; its replay and conflict semantics
    // (SEP #120) are specified from 2026-04-17 on.
    let latest = shapes::since(version, &ApiVersion::V2026_04_17);
    let level = if latest { Level::Must } else { Level::Should };
    report.record(
        "idempotency.replay",
        &["IDEM-05", "IDEM-08", "IDEM-10"],
        level,
        replayed,
    );
    same_key_conflict(merchant, version, body, key, report).await;
    if !applies(version, report, "idempotency.replayed_header") {
        return;
    }
    let header = match &replay {
        Ok(r) => match r.header("idempotent-replayed") {
            Some(v) if v.eq_ignore_ascii_case("true") => Ok("Idempotent-Replayed: true".to_owned()),
            Some(v) => Err(format!("Idempotent-Replayed: {v}")),
            None => Err("replay has no Idempotent-Replayed header".to_owned()),
        },
        Err(e) => Err(e.clone()),
    };
    report.record(
        "idempotency.replayed_header",
        &["IDEM-09"],
        Level::Should,
        header,
    );
}

/// The same key with another body: 422 `idempotency_conflict` from 2026-04-17 on (IDEM-11);
/// before, a 4xx ACP error of the version (its `Error.type` has `request_not_idempotent`).
async fn same_key_conflict(
    merchant: &Client,
    version: &ApiVersion,
    body: &Value,
    key: &str,
    report: &mut Report,
) {
    // A buyer with both names is a valid create member in every version.
    let mut other = body.clone();
    other["buyer"] =
        json!({"first_name": "Conformance", "last_name": "Probe", "email": "probe@example.com"});
    let conflict = merchant
        .post(Post {
            path: "/checkout_sessions",
            body: &to_bytes(&other),
            key: Some(key),
        })
        .await;
    let latest = shapes::since(version, &ApiVersion::V2026_04_17);
    let conflict = conflict.and_then(|c| {
        if latest {
            validate::error(version, &c, 422, Some("idempotency_conflict"))
                .map(|_| "HTTP 422 idempotency_conflict".to_owned())
        } else if (400..500).contains(&c.status) {
            validate::error(version, &c, c.status, None).map(|e| {
                format!(
                    "HTTP {} {} {}",
                    c.status,
                    e["type"].as_str().unwrap_or("?"),
                    e["code"].as_str().unwrap_or("?")
                )
            })
        } else {
            Err(format!("expected a 4xx ACP error, got {}", c.brief()))
        }
    });
    report.record(
        "idempotency.conflict",
        &["IDEM-11", "ERR-01", "ERR-02"],
        if latest { Level::Must } else { Level::Should },
        conflict,
    );
}

/// A session holding every `--item`: still 201, problems (out of stock …) as messages (CHK-19).
async fn create_all_items(merchant: &Client, settings: &Settings, report: &mut Report) {
    let v = &settings.version;
    let body = match shapes::create(v, &settings.items, &settings.currency) {
        Ok(request) => request.body,
        Err(e) => {
            report.record(
                "create.all_items",
                &["CHK-01", "CHK-04", "CHK-19"],
                Level::Must,
                Err(e),
            );
            return;
        }
    };
    let key = fresh_id("conformance-all-");
    let answer = merchant
        .post(Post {
            path: "/checkout_sessions",
            body: &to_bytes(&body),
            key: Some(&key),
        })
        .await;
    let result = created_session(v, &answer).map(|s| {
        let messages = s["messages"].as_array().map_or(0, Vec::len);
        format!(
            "HTTP 201 for {} item(s), {} ({messages} message(s))",
            settings.items.len(),
            status(&s)
        )
    });
    report.record(
        "create.all_items",
        &["CHK-01", "CHK-04", "CHK-19"],
        Level::Must,
        result,
    );
}

/// A POST without `Idempotency-Key`: 400 `idempotency_key_required` (IDEM-04).
async fn missing_key(merchant: &Client, settings: &Settings, report: &mut Report) {
    let v = &settings.version;
    if !applies(v, report, "idempotency.key_required") {
        return;
    }
    let body = match shapes::create(v, &settings.items[..1], &settings.currency) {
        Ok(request) => request.body,
        Err(e) => {
            report.skip("idempotency.key_required", e);
            return;
        }
    };
    let answer = merchant
        .post(Post {
            path: "/checkout_sessions",
            body: &to_bytes(&body),
            key: None,
        })
        .await;
    let result = answer.and_then(|a| {
        validate::error(v, &a, 400, Some("idempotency_key_required"))?;
        if a.json
            .as_ref()
            .is_some_and(|b| b["type"] != "invalid_request")
        {
            return Err(format!("type must be invalid_request: {}", a.brief()));
        }
        Ok("HTTP 400 idempotency_key_required".to_owned())
    });
    report.record(
        "idempotency.key_required",
        &["IDEM-01", "IDEM-04", "ERR-01"],
        Level::Must,
        result,
    );
}

/// A body that is not JSON: 400 with an ACP error (MUST), whose `param` is a JSONPath
/// (SHOULD, CHK-09).
async fn malformed_json(merchant: &Client, version: &ApiVersion, report: &mut Report) {
    let key = fresh_id("conformance-bad-");
    let answer = merchant
        .post(Post {
            path: "/checkout_sessions",
            body: b"{\"currency\": \"usd\", ",
            key: Some(&key),
        })
        .await;
    let error = answer.and_then(|a| validate::error(version, &a, 400, None).cloned());
    report.record(
        "malformed_json",
        &["HDR-05", "ERR-01", "ERR-02"],
        Level::Must,
        error
            .as_ref()
            .map(|e| format!("HTTP 400 {}", e["code"].as_str().unwrap_or("?")))
            .map_err(Clone::clone),
    );
    let param = match &error {
        Ok(e) => match e["param"].as_str() {
            Some(p) if p.starts_with('$') => Ok(format!("param {p}")),
            Some(p) => Err(format!("param {p:?} is not a JSONPath")),
            None => Err("the error has no param".to_owned()),
        },
        Err(e) => Err(e.clone()),
    };
    report.record(
        "malformed_json.param",
        &["CHK-09", "ERR-05"],
        Level::Should,
        param,
    );
}

/// Missing and unsupported `API-Version` (VER-01..05), probed on a retrieve.
async fn versions(
    merchant: &Client,
    version: &ApiVersion,
    session: Option<&str>,
    report: &mut Report,
) {
    let id = session.map_or_else(|| fresh_id("cs_conformance_"), str::to_owned);
    let path = format!("/checkout_sessions/{id}");
    for (sent, code, ids) in [
        (
            Version::Omit,
            "missing_api_version",
            ("version.missing", "version.missing.details"),
        ),
        (
            Version::Value(UNSUPPORTED_VERSION),
            "unsupported_api_version",
            ("version.unsupported", "version.unsupported.details"),
        ),
    ] {
        // Both checks of a pair apply from the same version on.
        if !applies(version, report, ids.0) {
            applies(version, report, ids.1);
            continue;
        }
        let answer = merchant.get(&path, sent).await;
        let rejected = answer.as_ref().map_err(Clone::clone).and_then(|a| {
            if !(400..500).contains(&a.status) {
                return Err(format!("expected a 4xx rejection, got {}", a.brief()));
            }
            validate::error(version, a, a.status, None)
                .map(|_| format!("HTTP {} ACP error", a.status))
        });
        report.record(
            ids.0,
            &["VER-01", "VER-02", "ERR-01"],
            Level::Must,
            rejected,
        );
        let details = answer.and_then(|a| {
            let e = validate::error(version, &a, 400, Some(code))?;
            let listed = e["supported_versions"].as_array().map_or(0, Vec::len);
            if listed == 0 {
                return Err("no supported_versions in the error".to_owned());
            }
            Ok(format!(
                "HTTP 400 {code}, {listed} supported version(s) listed"
            ))
        });
        report.record(
            ids.1,
            &["VER-03", "VER-04", "VER-05"],
            Level::Should,
            details,
        );
    }
}

/// Retrieve of an id that does not exist: 404 ACP error (CHK-18).
async fn retrieve_unknown(merchant: &Client, version: &ApiVersion, report: &mut Report) {
    let path = format!("/checkout_sessions/{}", fresh_id("cs_conformance_unknown_"));
    let answer = merchant.get(&path, Version::Default).await;
    let result = answer.and_then(|a| {
        validate::error(version, &a, 404, None)
            .map(|e| format!("HTTP 404 {}", e["code"].as_str().unwrap_or("?")))
    });
    report.record(
        "retrieve.unknown",
        &["CHK-18", "ERR-01", "ERR-02"],
        Level::Must,
        result,
    );
}

/// A 200 with a strict session of `version` whose `id` is `id`.
fn session_answer(
    version: &ApiVersion,
    answer: &Result<Exchange, String>,
    id: &str,
) -> Result<Value, String> {
    let answer = answer.as_ref().map_err(Clone::clone)?;
    if answer.status != 200 {
        return Err(format!("expected HTTP 200, got {}", answer.brief()));
    }
    let session = validate::session_maybe_with_order(version, answer)?;
    if session["id"] != id {
        return Err(format!(
            "answered session {} instead of {id}",
            session["id"]
        ));
    }
    Ok(session.clone())
}

fn ids_of(session: &Value, pointer: &str) -> Vec<String> {
    session["line_items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| l.pointer(pointer).and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Buyer, address and the first offered fulfillment option (CHK-06), written in `version`
/// (2025-09-29: `fulfillment_address` and a lone `fulfillment_option_id`). `item_ids` holds
/// line-item ids as the schema describes; a merchant that answers 400 to that is asked again
/// with the items' catalog ids (the detail says which form it took).
async fn update(
    merchant: &Client,
    version: &ApiVersion,
    created: &Value,
    report: &mut Report,
) -> Option<Value> {
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("/checkout_sessions/{id}");
    let mut body = json!({
        "buyer": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        "fulfillment_details": {"name": "Ada Lovelace", "email": "ada@example.com", "address": {
            "name": "Ada Lovelace", "line_one": "12 Analytical Way", "city": "Portland",
            "state": "OR", "country": "US", "postal_code": "97201"}},
    });
    let option = created["fulfillment_options"]
        .as_array()
        .and_then(|a| a.first())
        .cloned();
    let mut forms = vec![("line item ids", ids_of(created, "/id"))];
    forms.push(("item ids", ids_of(created, "/item/id")));
    let mut result = Err("not sent".to_owned());
    let mut chosen = None;
    let mut sent: Vec<Value> = Vec::new();
    let mut dropped = Vec::new();
    for (form, item_ids) in &forms {
        if let Some(option) = &option {
            body["selected_fulfillment_options"] =
                json!([{"type": option["type"], "option_id": option["id"], "item_ids": item_ids}]);
        }
        let request = match shapes::request(version, Document::UpdateRequest, &body) {
            Ok(r) => r,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        // A version without `item_ids` (2025-09-29) writes both forms alike: sent once.
        if sent.contains(&request.body) {
            break;
        }
        if let Some(option) = &option {
            chosen = option["id"].as_str().map(|o| (o.to_owned(), *form));
        }
        dropped = request.dropped;
        let answer = merchant
            .post(Post {
                path: &path,
                body: &to_bytes(&request.body),
                key: Some(&fresh_id("conformance-update-")),
            })
            .await;
        sent.push(request.body);
        let retry = option.is_some() && answer.as_ref().is_ok_and(|a| a.status == 400);
        result = session_answer(version, &answer, &id);
        if !retry {
            break;
        }
    }
    let note = if dropped.is_empty() {
        String::new()
    } else {
        format!(
            "; not expressible in {version}, so not sent: {}",
            dropped.join("; ")
        )
    };
    let result = result.and_then(|s| {
        let offered: Vec<&str> = s["fulfillment_options"]
            .as_array()
            .map(|a| a.iter().filter_map(|o| o["id"].as_str()).collect())
            .unwrap_or_default();
        let selected = shapes::selected_options(&s);
        if let Some(bad) = selected.iter().find(|o| !offered.contains(&o.as_str())) {
            return Err(format!(
                "selected option {bad:?} is not among fulfillment_options {offered:?} (CHK-06)"
            ));
        }
        match &chosen {
            Some((option, form)) if selected.contains(option) => Ok(format!(
                "HTTP 200, {option} selected (item_ids as {form}), {}{note}",
                status(&s)
            )),
            Some((option, _)) => Err(format!(
                "{option} was accepted but is not in selected_fulfillment_options {selected:?}"
            )),
            None => Ok(format!(
                "HTTP 200 (no fulfillment options offered), {}",
                status(&s)
            )),
        }
        .map(|detail| (detail, s))
    });
    report.record(
        "update",
        &["CHK-02", "CHK-06"],
        Level::Must,
        result
            .as_ref()
            .map(|(d, _)| d.clone())
            .map_err(Clone::clone),
    );
    result.ok().map(|(_, s)| s)
}

/// Retrieve shows the current state (CHK-02).
async fn retrieve(merchant: &Client, version: &ApiVersion, current: &Value, report: &mut Report) {
    let id = current["id"].as_str().unwrap_or_default();
    let answer = merchant
        .get(&format!("/checkout_sessions/{id}"), Version::Default)
        .await;
    let result = session_answer(version, &answer, id).and_then(|s| {
        if status(&s) == status(current) {
            Ok(format!(
                "HTTP 200, valid {version} CheckoutSession, {}",
                status(&s)
            ))
        } else {
            Err(format!(
                "status {} but the last write answered {}",
                status(&s),
                status(current)
            ))
        }
    });
    report.record("retrieve", &["CHK-02", "CHK-04"], Level::Must, result);
}

/// Obtains a delegated token from the PSP for `session` (DP-01, DP-09, DP-10).
async fn delegate(
    psp: &Client,
    settings: &Settings,
    session: &Value,
    report: &mut Report,
) -> Option<String> {
    let currency = settings.currency.as_str();
    let Some(merchant_id) = shapes::merchant_id(session).or_else(|| settings.merchant_id.clone())
    else {
        report.record(
            "psp.delegate_payment",
            &["DP-01", "DP-09", "DP-10"],
            Level::Must,
            Err(format!(
                "a {} session names no merchant id for the allowance (DP-10): pass --merchant-id",
                settings.version
            )),
        );
        return None;
    };
    let expires = (OffsetDateTime::now_utc() + time::Duration::minutes(15))
        .format(&Rfc3339)
        .unwrap_or_default();
    let body = shapes::delegate(session, currency, &merchant_id, &expires, "acp-conformance");
    let answer = psp
        .post(Post {
            path: "/agentic_commerce/delegate_payment",
            body: &to_bytes(&body),
            key: Some(&fresh_id("conformance-dp-")),
        })
        .await;
    let result = answer.and_then(|a| {
        if a.status != 201 {
            return Err(format!("expected HTTP 201, got {}", a.brief()));
        }
        let value = a.body();
        validate::strict("delegate_payment.DelegatePaymentResponse", &value)?;
        value["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "no token id".to_owned())
    });
    report.record(
        "psp.delegate_payment",
        &["DP-01", "DP-09", "DP-10"],
        Level::Must,
        result
            .as_ref()
            .map(|t| format!("HTTP 201, token {t}"))
            .map_err(Clone::clone),
    );
    result.ok()
}

/// Complete (CHK-10, CHK-11; or CHK-12, CHK-13 when the merchant asks for 3-D Secure).
/// Returns the id of a completed session.
///
/// A session that is `authentication_required` is first completed without a result, which
/// must be refused (`complete.requires_3ds`, CHK-15); then, with a PSP, 3-D Secure runs there
/// (`psp.delegate_authentication`, DA-01..06) and complete carries its result (CHK-14) and,
/// from 2026-01-30 on, the provider's session id in the credential: the merchant must
/// complete. Without a PSP there is no result the merchant could verify, so `complete` is
/// skipped with the reason.
async fn complete(
    merchant: &Client,
    settings: &Settings,
    session: &Value,
    report: &mut Report,
) -> Option<String> {
    const RULES: &[&str] = &["CHK-10", "CHK-11", "CHK-12", "CHK-13", "CHK-21"];
    let v = &settings.version;
    let id = session["id"].as_str().unwrap_or_default().to_owned();
    let before = status(session).to_owned();
    if before != "ready_for_payment" && before != "authentication_required" {
        let why = format!(
            "the session is {before} after update, not ready_for_payment; messages: {}",
            session["messages"]
        );
        report.record("complete", RULES, Level::Must, Err(why));
        return None;
    }
    let three_ds = before == "authentication_required";
    if three_ds && !session["authentication_metadata"].is_object() {
        let why = "the session is authentication_required without authentication_metadata (CHK-13)";
        report.record("complete", RULES, Level::Must, Err(why.to_owned()));
        return None;
    }
    // The session must say how to pay before a token is worth delegating.
    if let Err(e) = shapes::complete(v, session, TEST_TOKEN, None) {
        report.record("complete", RULES, Level::Must, Err(e));
        return None;
    }
    let path = format!("/checkout_sessions/{id}/complete");
    if three_ds {
        requires_3ds(merchant, v, session, &path, report).await;
    }
    let real = match &settings.psp {
        Some(psp) => match delegate(psp, settings, session, report).await {
            Some(token) => Some(token),
            None => {
                report.skip("complete", "the PSP issued no delegated token");
                return None;
            }
        },
        None => None,
    };
    let authentication = match (&settings.psp, three_ds) {
        (Some(psp), true) => match authenticate(psp, session, report).await {
            Some(done) => Some(done),
            None => {
                report.skip("complete", "3-D Secure at the PSP did not authenticate");
                return None;
            }
        },
        (None, true) => {
            let why = "needs a PSP (--psp-url): the session is authentication_required and only \
                       a real delegate_authentication result can be verified by the merchant";
            report.skip("psp.delegate_authentication", why);
            report.skip("complete", why);
            return None;
        }
        (_, false) => None,
    };
    let token = real.clone().unwrap_or_else(|| TEST_TOKEN.to_owned());
    let presented = authentication.as_ref().map(|(id, r)| (id.as_str(), r));
    let body = match shapes::complete(v, session, &token, presented) {
        Ok(body) => body,
        Err(e) => {
            report.record("complete", RULES, Level::Must, Err(e));
            return None;
        }
    };
    let answer = merchant
        .post(Post {
            path: &path,
            body: &to_bytes(&body),
            key: Some(&fresh_id("conformance-complete-")),
        })
        .await;
    // From 2026-01-30 on the credential carries the provider's session id, so a merchant can
    // verify the result: it must complete. Before, it has no way to and may ask again.
    let backed = authentication.is_some() && shapes::since(v, &ApiVersion::V2026_01_30);
    let (result, completed) = judge_complete(v, answer, &id, real.is_some(), backed);
    report.record("complete", RULES, Level::Must, result);
    completed
}

/// Complete of an `authentication_required` session without `authentication_result`: a 4xx
/// `requires_3ds` error naming `$.authentication_result` (CHK-15).
async fn requires_3ds(
    merchant: &Client,
    version: &ApiVersion,
    session: &Value,
    path: &str,
    report: &mut Report,
) {
    let result = match shapes::complete(version, session, TEST_TOKEN, None) {
        Ok(body) => {
            let answer = merchant
                .post(Post {
                    path,
                    body: &to_bytes(&body),
                    key: Some(&fresh_id("conformance-complete-")),
                })
                .await;
            answer.and_then(|a| {
                if !(400..500).contains(&a.status) {
                    return Err(format!("expected HTTP 4xx, got {}", a.brief()));
                }
                let e = validate::error(version, &a, a.status, Some("requires_3ds"))?;
                if e["param"] == "$.authentication_result" {
                    Ok(format!("HTTP {} requires_3ds", a.status))
                } else {
                    Err(format!(
                        "param {}, not \"$.authentication_result\"",
                        e["param"]
                    ))
                }
            })
        }
        Err(e) => Err(e),
    };
    report.record("complete.requires_3ds", &["CHK-15"], Level::Must, result);
}

/// 3-D Secure at the PSP for an `authentication_required` session (its
/// `authentication_metadata`, CHK-13): create, authenticate and retrieve through the client
/// crate's typed calls (DA-01..06). Returns the provider's session id and the checkout's
/// `authentication_result` when the outcome lets the payment go ahead.
async fn authenticate(
    psp: &Client,
    session: &Value,
    report: &mut Report,
) -> Option<(String, Value)> {
    const RULES: &[&str] = &["DA-01", "DA-02", "DA-03", "DA-04", "DA-05", "DA-06"];
    let request = shapes::delegate_authentication(session);
    let run = match agentic_commerce::parse::from_value(&request) {
        Ok(request) => psp
            .acp()
            .authenticate_payment(&request, FingerprintCompletion::Y)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(format!("could not write the create request: {e}")),
    };
    let result = run.and_then(|done| {
        if done.may_authorize() {
            let result = serde_json::to_value(done.checkout_result()).map_err(|e| e.to_string())?;
            Ok((
                done.session_id().to_owned(),
                done.status().as_str().to_owned(),
                result,
            ))
        } else {
            Err(format!(
                "authentication session {} ended {} (DA-05, DA-06)",
                done.session_id(),
                done.status().as_str()
            ))
        }
    });
    report.record(
        "psp.delegate_authentication",
        RULES,
        Level::Must,
        result
            .as_ref()
            .map(|(id, status, _)| format!("authentication session {id} {status}"))
            .map_err(Clone::clone),
    );
    result.ok().map(|(id, _, r)| (id, r))
}

/// Whether a complete answer conforms; returns the session id too when it reached `completed`.
/// With a real token (`real`) only an order or a 3-D Secure request passes; after a 3-D Secure
/// result the merchant can verify (`backed`), only an order. A 2025-09-29
/// answer is a `CheckoutSession` without `order` (that version's `CheckoutSessionWithOrder` is
/// unsatisfiable; the order reaches the agent through the webhook).
fn judge_complete(
    version: &ApiVersion,
    answer: Result<Exchange, String>,
    id: &str,
    real: bool,
    backed: bool,
) -> (Result<String, String>, Option<String>) {
    let mut completed = None;
    let result = answer.and_then(|a| match a.status {
        200 => {
            let s = session_answer(version, &Ok(a.clone()), id)?;
            match status(&s) {
                "completed" if *version == ApiVersion::V2025_09_29 => {
                    completed = Some(id.to_owned());
                    Ok(
                        "HTTP 200 completed (2025-09-29: a CheckoutSession, no order member)"
                            .to_owned(),
                    )
                }
                "completed" => {
                    let order = &s["order"];
                    if !order.is_object() {
                        return Err("status completed without an order (CHK-11)".to_owned());
                    }
                    if order["checkout_session_id"] != id {
                        return Err(format!(
                            "order.checkout_session_id is {}, not {id} (CHK-11)",
                            order["checkout_session_id"]
                        ));
                    }
                    completed = Some(id.to_owned());
                    Ok(format!(
                        "HTTP 200 completed, order {}",
                        order["id"].as_str().unwrap_or("?")
                    ))
                }
                "authentication_required" if backed => Err(format!(
                    "authentication_required again after a 3-D Secure result the PSP backs \
                     (CHK-14): messages {}",
                    s["messages"]
                )),
                "authentication_required" if s["authentication_metadata"].is_object() => Ok(
                    "HTTP 200 authentication_required with authentication_metadata (3-D Secure)"
                        .to_owned(),
                ),
                "authentication_required" => Err(
                    "authentication_required without authentication_metadata (CHK-13)".to_owned(),
                ),
                other if !real => Ok(format!(
                    "HTTP 200 {other} for the test token (messages {})",
                    s["messages"]
                )),
                other => Err(format!(
                    "a real delegated token left the session {other}: messages {}",
                    s["messages"]
                )),
            }
        }
        400..=499 if !real => validate::error(version, &a, a.status, None).map(|e| {
            format!(
                "HTTP {} {} for the test token",
                a.status,
                e["code"].as_str().unwrap_or("?")
            )
        }),
        _ => Err(format!("expected HTTP 200, got {}", a.brief())),
    });
    (result, completed)
}

/// Cancel of a fresh session (CHK-16, IT-01), then of the same, now canceled session (CHK-17).
async fn cancel(merchant: &Client, settings: &Settings, report: &mut Report) {
    let v = &settings.version;
    let Ok(body) = shapes::create(v, &settings.items[..1], &settings.currency) else {
        report.skip("cancel", "could not write a create request");
        report.skip("cancel.canceled", "could not write a create request");
        return;
    };
    let answer = merchant
        .post(Post {
            path: "/checkout_sessions",
            body: &to_bytes(&body.body),
            key: Some(&fresh_id("conformance-fresh-")),
        })
        .await;
    let Ok(fresh) = created_session(v, &answer) else {
        report.skip("cancel", "could not create a fresh session");
        report.skip("cancel.canceled", "could not create a fresh session");
        return;
    };
    let id = fresh["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("/checkout_sessions/{id}/cancel");
    let intent = shapes::cancel(v);
    let answer = merchant
        .post(Post {
            path: &path,
            body: &to_bytes(&intent),
            key: Some(&fresh_id("conformance-cancel-")),
        })
        .await;
    let result = session_answer(v, &answer, &id).and_then(|s| match status(&s) {
        "canceled" => Ok("HTTP 200 canceled".to_owned()),
        other => Err(format!("status {other}, not canceled")),
    });
    // Intent traces start in 2025-12-12.
    let rules: &'static [&'static str] = if shapes::since(v, &ApiVersion::V2025_12_12) {
        &["CHK-16", "IT-01", "IT-02"]
    } else {
        &["CHK-16"]
    };
    report.record("cancel", rules, Level::Must, result);
    let again = merchant
        .post(Post {
            path: &path,
            body: b"{}",
            key: Some(&fresh_id("conformance-cancel-")),
        })
        .await;
    let result = again.and_then(|a| {
        validate::error(v, &a, 405, None)
            .map(|e| format!("HTTP 405 {}", e["code"].as_str().unwrap_or("?")))
    });
    report.record(
        "cancel.canceled",
        &["CHK-17", "ERR-01"],
        Level::Must,
        result,
    );
}

/// Cancel of a completed session: 405 (CHK-17).
async fn cancel_completed(merchant: &Client, version: &ApiVersion, id: &str, report: &mut Report) {
    let path = format!("/checkout_sessions/{id}/cancel");
    let answer = merchant
        .post(Post {
            path: &path,
            body: b"{}",
            key: Some(&fresh_id("conformance-cancel-")),
        })
        .await;
    let result = answer.and_then(|a| {
        validate::error(version, &a, 405, None)
            .map(|e| format!("HTTP 405 {}", e["code"].as_str().unwrap_or("?")))
    });
    report.record(
        "cancel.completed",
        &["CHK-17", "ERR-01"],
        Level::Must,
        result,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentic_commerce::parse::json_path::JsonPath;

    #[allow(clippy::unnecessary_wraps)] // what `send` hands to `judge_complete`
    fn exchange(status: u16, body: &Value) -> Result<Exchange, String> {
        Ok(Exchange {
            status,
            headers: Vec::new(),
            raw: to_bytes(body),
            json: Some(body.clone()),
        })
    }

    #[test]
    fn chk_10_complete_4xx_passes_only_for_the_test_token() {
        let error = json!({"type": "invalid_request", "code": "payment_declined", "message": "no"});
        let (test_token, done) = judge_complete(
            &ApiVersion::LATEST,
            exchange(402, &error),
            "cs_1",
            false,
            false,
        );
        assert_eq!(
            test_token.unwrap(),
            "HTTP 402 payment_declined for the test token"
        );
        assert_eq!(done, None);
        let (real_token, _) = judge_complete(
            &ApiVersion::LATEST,
            exchange(402, &error),
            "cs_1",
            true,
            false,
        );
        assert!(real_token.unwrap_err().contains("expected HTTP 200"));
        // A 4xx body that is not an ACP Error fails even for the test token (ERR-01).
        let (wrapped, _) = judge_complete(
            &ApiVersion::LATEST,
            exchange(400, &json!({"error": error})),
            "cs_1",
            false,
            false,
        );
        assert!(
            wrapped
                .unwrap_err()
                .contains("not a valid 2026-04-17 Error")
        );
        let (server_error, _) = judge_complete(
            &ApiVersion::LATEST,
            exchange(500, &json!({})),
            "cs_1",
            false,
            false,
        );
        assert!(server_error.is_err());
    }

    #[test]
    fn chk_14_a_backed_3ds_result_must_complete() {
        let browser = json!({"accept_header": "text/html", "ip_address": "192.0.2.1",
            "javascript_enabled": false, "language": "en-US", "user_agent": "t"});
        let session = json!({"id": "cs_1", "status": "authentication_required", "currency": "usd",
            "line_items": [], "totals": [], "fulfillment_options": [], "messages": [], "links": [],
            "authentication_metadata": {"channel": {"type": "browser", "browser": browser},
                "acquirer_details": {"acquirer_bin": "400000", "acquirer_country": "US",
                    "acquirer_merchant_id": "m", "merchant_name": "M"},
                "directory_server": "visa"}});
        let asked_again = || exchange(200, &session);
        let judge = |backed| {
            let version = ApiVersion::V2025_12_12;
            judge_complete(&version, asked_again(), "cs_1", true, backed).0
        };
        // Older versions' sessions cannot carry the id: asking again stays conformant ...
        assert!(judge(false).unwrap().contains("authentication_required"));
        // ... but not once the merchant could verify the result.
        assert!(judge(true).unwrap_err().contains("CHK-14"));
    }

    #[test]
    fn chk_11_a_completed_session_is_judged_in_the_version_asked() {
        let session = json!({"id": "cs_1", "status": "completed", "currency": "usd",
            "line_items": [], "totals": [], "fulfillment_options": [], "messages": [], "links": []});
        // 2025-09-29: a CheckoutSession without order is that version's complete answer.
        let (old, done) = judge_complete(
            &ApiVersion::V2025_09_29,
            exchange(200, &session),
            "cs_1",
            true,
            false,
        );
        assert!(old.unwrap().starts_with("HTTP 200 completed (2025-09-29"));
        assert_eq!(done.as_deref(), Some("cs_1"));
        // The same body to a 2025-12-12 agent has no order (CHK-11) ...
        let (dec, _) = judge_complete(
            &ApiVersion::V2025_12_12,
            exchange(200, &session),
            "cs_1",
            true,
            false,
        );
        assert!(dec.unwrap_err().contains("without an order"));
        // ... and to a 2026-04-17 agent lacks what that version requires.
        let (latest, done) = judge_complete(
            &ApiVersion::LATEST,
            exchange(200, &session),
            "cs_1",
            true,
            false,
        );
        assert!(
            latest
                .unwrap_err()
                .starts_with("not a valid 2026-04-17 CheckoutSession: $.capabilities")
        );
        assert_eq!(done, None);
        // A 2026-04-17 status a 2025-09-29 agent cannot read is reported.
        let mut newer = session.clone();
        newer["status"] = json!("complete_in_progress");
        let (unknown, _) = judge_complete(
            &ApiVersion::V2025_09_29,
            exchange(200, &newer),
            "cs_1",
            false,
            false,
        );
        assert!(unknown.unwrap_err().contains("$.status"));
    }

    #[test]
    fn chk_09_unresolvable_params_are_beyond_the_spec_but_unparsable_ones_are_not() {
        let at = JsonPath::root().key("messages");
        assert!(beyond_spec(&Finding::error(
            "CHK-09",
            at.clone(),
            "param \"$.payment_data\" does not resolve inside the session"
        )));
        assert!(!beyond_spec(&Finding::error(
            "CHK-09",
            at.clone(),
            "param \"x\" is not an RFC 9535 JSONPath"
        )));
        assert!(!beyond_spec(&Finding::error(
            "CHK-06",
            at,
            "does not resolve"
        )));
    }
}
