//! The probes: each sends real requests to the merchant and records one or more checks in the
//! [`Report`]. They run in a fixed order because later probes reuse what earlier ones created
//! (the session from `create` is updated, retrieved, completed and then canceled).

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::client::{Client, Exchange, Post, Version, fresh_id};
use super::report::{Level, Report};
use super::validate::{self, status};
use agentic_commerce::rules::Finding;

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
}

/// The merchant did not answer at all: exit 2.
#[derive(Debug)]
pub(crate) struct Unreachable(pub(crate) String);

/// Runs every probe against `merchant`.
///
/// # Errors
///
/// [`Unreachable`] when the first request (discovery) gets no HTTP answer.
pub(crate) async fn run(
    merchant: &Client,
    settings: &Settings,
    report: &mut Report,
) -> Result<(), Unreachable> {
    discovery(merchant, report).await?;
    let created = create(merchant, settings, report).await;
    create_all_items(merchant, settings, report).await;
    missing_key(merchant, settings, report).await;
    malformed_json(merchant, report).await;
    let session_id = created
        .as_ref()
        .and_then(|s| s["id"].as_str())
        .map(str::to_owned);
    versions(merchant, session_id.as_deref(), report).await;
    retrieve_unknown(merchant, report).await;
    if let Some(created) = created {
        let updated = update(merchant, &created, report).await;
        let current = updated.unwrap_or(created);
        retrieve(merchant, &current, report).await;
        let completed = complete(merchant, settings, &current, report).await;
        cancel(merchant, settings, report).await;
        match completed {
            Some(id) => cancel_completed(merchant, &id, report).await,
            None => report.skip("cancel.completed", "no session reached `completed`"),
        }
    } else {
        for id in ["update", "retrieve", "complete", "cancel.completed"] {
            report.skip(id, "needs the session from `create`, which failed");
        }
        cancel(merchant, settings, report).await;
    }
    business_rules(merchant, report);
    Ok(())
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
/// schema check.
fn business_rules(merchant: &Client, report: &mut Report) {
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
        let Some(findings) = validate::business_rules(body) else {
            continue;
        };
        checked += 1;
        for f in findings {
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
async fn discovery(merchant: &Client, report: &mut Report) -> Result<(), Unreachable> {
    let answer = merchant
        .get_public("/.well-known/acp.json")
        .await
        .map_err(Unreachable)?;
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
    Ok(())
}

/// A create request for `items`, declaring 3-D Secure support (NEG-01).
fn create_body(items: &[String], currency: &str) -> Value {
    json!({
        "currency": currency,
        "line_items": items.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
        "capabilities": {"interventions": {"supported": ["3ds"]}},
    })
}

fn to_bytes(value: &Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

/// A 201 with a strict session.
fn created_session(answer: &Result<Exchange, String>) -> Result<Value, String> {
    let answer = answer.as_ref().map_err(Clone::clone)?;
    if answer.status != 201 {
        return Err(format!("expected HTTP 201, got {}", answer.brief()));
    }
    let session = validate::session(answer)?;
    if session["line_items"].as_array().is_none_or(Vec::is_empty) {
        return Err("the session has no line_items".to_owned());
    }
    Ok(session.clone())
}

/// Create (CHK-01, CHK-04), the `Idempotency-Key` echo (HDR-04) and the three idempotency
/// outcomes on the same key (IDEM-05, IDEM-08..11). Returns the created session.
async fn create(merchant: &Client, settings: &Settings, report: &mut Report) -> Option<Value> {
    let items = &settings.items[..1];
    let body = create_body(items, &settings.currency);
    let key = fresh_id("conformance-create-");
    let first = merchant
        .post(Post {
            path: "/checkout_sessions",
            body: &to_bytes(&body),
            key: Some(&key),
        })
        .await;
    let created = created_session(&first);
    report.record(
        "create",
        &["CHK-01", "CHK-03", "CHK-04", "CHK-05", "NEG-02"],
        Level::Must,
        created
            .as_ref()
            .map(|s| {
                format!(
                    "HTTP 201, valid CheckoutSession {} ({})",
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
    same_key(merchant, &body, &key, &first, report).await;
    created.ok()
}

/// The same key again: with the same body (re-serialized: IDEM-05) a replay (IDEM-08,
/// IDEM-09), with another body a conflict (IDEM-11).
async fn same_key(
    merchant: &Client,
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
    report.record(
        "idempotency.replay",
        &["IDEM-05", "IDEM-08", "IDEM-10"],
        Level::Must,
        replayed,
    );
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
    let conflict = conflict.and_then(|c| {
        validate::error(&c, 422, Some("idempotency_conflict"))
            .map(|_| "HTTP 422 idempotency_conflict".to_owned())
    });
    report.record(
        "idempotency.conflict",
        &["IDEM-11", "ERR-01", "ERR-02"],
        Level::Must,
        conflict,
    );
}

/// A session holding every `--item`: still 201, problems (out of stock …) as messages (CHK-19).
async fn create_all_items(merchant: &Client, settings: &Settings, report: &mut Report) {
    let body = create_body(&settings.items, &settings.currency);
    let key = fresh_id("conformance-all-");
    let answer = merchant
        .post(Post {
            path: "/checkout_sessions",
            body: &to_bytes(&body),
            key: Some(&key),
        })
        .await;
    let result = created_session(&answer).map(|s| {
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
    let body = create_body(&settings.items[..1], &settings.currency);
    let answer = merchant
        .post(Post {
            path: "/checkout_sessions",
            body: &to_bytes(&body),
            key: None,
        })
        .await;
    let result = answer.and_then(|a| {
        validate::error(&a, 400, Some("idempotency_key_required"))?;
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
async fn malformed_json(merchant: &Client, report: &mut Report) {
    let key = fresh_id("conformance-bad-");
    let answer = merchant
        .post(Post {
            path: "/checkout_sessions",
            body: b"{\"currency\": \"usd\", ",
            key: Some(&key),
        })
        .await;
    let error = answer.and_then(|a| validate::error(&a, 400, None).cloned());
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
async fn versions(merchant: &Client, session: Option<&str>, report: &mut Report) {
    let id = session.map_or_else(|| fresh_id("cs_conformance_"), str::to_owned);
    let path = format!("/checkout_sessions/{id}");
    for (version, code, ids) in [
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
        let answer = merchant.get(&path, version).await;
        let rejected = answer.as_ref().map_err(Clone::clone).and_then(|a| {
            if !(400..500).contains(&a.status) {
                return Err(format!("expected a 4xx rejection, got {}", a.brief()));
            }
            validate::error(a, a.status, None).map(|_| format!("HTTP {} ACP error", a.status))
        });
        report.record(
            ids.0,
            &["VER-01", "VER-02", "ERR-01"],
            Level::Must,
            rejected,
        );
        let details = answer.and_then(|a| {
            let e = validate::error(&a, 400, Some(code))?;
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
async fn retrieve_unknown(merchant: &Client, report: &mut Report) {
    let path = format!("/checkout_sessions/{}", fresh_id("cs_conformance_unknown_"));
    let answer = merchant.get(&path, Version::Default).await;
    let result = answer.and_then(|a| {
        validate::error(&a, 404, None)
            .map(|e| format!("HTTP 404 {}", e["code"].as_str().unwrap_or("?")))
    });
    report.record(
        "retrieve.unknown",
        &["CHK-18", "ERR-01", "ERR-02"],
        Level::Must,
        result,
    );
}

/// A 200 with a strict session whose `id` is `id`.
fn session_answer(answer: &Result<Exchange, String>, id: &str) -> Result<Value, String> {
    let answer = answer.as_ref().map_err(Clone::clone)?;
    if answer.status != 200 {
        return Err(format!("expected HTTP 200, got {}", answer.brief()));
    }
    let session = validate::session_maybe_with_order(answer)?;
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

/// Buyer, address and the first offered fulfillment option (CHK-06). `item_ids` holds
/// line-item ids as the schema describes; a merchant that answers 400 to that is asked again
/// with the items' catalog ids (the detail says which form it took).
async fn update(merchant: &Client, created: &Value, report: &mut Report) -> Option<Value> {
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
    for (form, item_ids) in &forms {
        if let Some(option) = &option {
            body["selected_fulfillment_options"] =
                json!([{"type": option["type"], "option_id": option["id"], "item_ids": item_ids}]);
            chosen = option["id"].as_str().map(|o| (o.to_owned(), *form));
        }
        let answer = merchant
            .post(Post {
                path: &path,
                body: &to_bytes(&body),
                key: Some(&fresh_id("conformance-update-")),
            })
            .await;
        let retry = option.is_some() && answer.as_ref().is_ok_and(|a| a.status == 400);
        result = session_answer(&answer, &id);
        if !retry {
            break;
        }
    }
    let result = result.and_then(|s| {
        let offered: Vec<&str> = s["fulfillment_options"]
            .as_array()
            .map(|a| a.iter().filter_map(|o| o["id"].as_str()).collect())
            .unwrap_or_default();
        let selected: Vec<&str> = s["selected_fulfillment_options"]
            .as_array()
            .map(|a| a.iter().filter_map(|o| o["option_id"].as_str()).collect())
            .unwrap_or_default();
        if let Some(bad) = selected.iter().find(|o| !offered.contains(o)) {
            return Err(format!(
                "selected option {bad:?} is not among fulfillment_options {offered:?} (CHK-06)"
            ));
        }
        match &chosen {
            Some((option, form)) if selected.contains(&option.as_str()) => Ok(format!(
                "HTTP 200, {option} selected (item_ids as {form}), {}",
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
async fn retrieve(merchant: &Client, current: &Value, report: &mut Report) {
    let id = current["id"].as_str().unwrap_or_default();
    let answer = merchant
        .get(&format!("/checkout_sessions/{id}"), Version::Default)
        .await;
    let result = session_answer(&answer, id).and_then(|s| {
        if status(&s) == status(current) {
            Ok(format!("HTTP 200, valid CheckoutSession, {}", status(&s)))
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
    session: &Value,
    currency: &str,
    report: &mut Report,
) -> Option<String> {
    let id = session["id"].as_str().unwrap_or_default();
    let total = session["totals"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["type"] == "total"))
        .and_then(|t| t["amount"].as_i64())
        .unwrap_or(0);
    let merchant_id = session
        .pointer("/capabilities/payment/handlers/0/config/merchant_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let expires = (OffsetDateTime::now_utc() + time::Duration::minutes(15))
        .format(&Rfc3339)
        .unwrap_or_default();
    let body = json!({
        "payment_method": {"type": "card", "card_number_type": "fpan", "virtual": false, "number": "4242424242424242",
            "exp_month": "12", "exp_year": "2030", "name": "Ada Lovelace", "cvc": "123",
            "display_card_funding_type": "credit", "display_brand": "visa", "display_last4": "4242", "metadata": {}},
        "allowance": {"reason": "one_time", "max_amount": total, "currency": currency,
            "checkout_session_id": id, "merchant_id": merchant_id, "expires_at": expires},
        "risk_signals": [{"type": "card_testing", "score": 3, "action": "authorized"}],
        "metadata": {"source": "acp-conformance"}
    });
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
async fn complete(
    merchant: &Client,
    settings: &Settings,
    session: &Value,
    report: &mut Report,
) -> Option<String> {
    const RULES: &[&str] = &["CHK-10", "CHK-11", "CHK-12", "CHK-13", "CHK-21"];
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
    if before == "authentication_required" && !session["authentication_metadata"].is_object() {
        let why = "the session is authentication_required without authentication_metadata (CHK-13)";
        report.record("complete", RULES, Level::Must, Err(why.to_owned()));
        return None;
    }
    let Some(handler) = session
        .pointer("/capabilities/payment/handlers/0/id")
        .and_then(Value::as_str)
    else {
        report.record(
            "complete",
            RULES,
            Level::Must,
            Err("the session declares no payment handler (NEG-04)".to_owned()),
        );
        return None;
    };
    let real = match &settings.psp {
        Some(psp) => match delegate(psp, session, &settings.currency, report).await {
            Some(token) => Some(token),
            None => {
                report.skip("complete", "the PSP issued no delegated token");
                return None;
            }
        },
        None => None,
    };
    let token = real.clone().unwrap_or_else(|| TEST_TOKEN.to_owned());
    let mut body = json!({"payment_data": {"handler_id": handler, "instrument": {"type": "card",
        "credential": {"type": "spt", "token": token}}}});
    if before == "authentication_required" {
        // CHK-14: the agent sends the authentication result (a simulated success here).
        body["authentication_result"] = json!({"outcome": "authenticated", "outcome_details": {
            "three_ds_cryptogram": "AAABBBCCCDDDEEEFFF000111222=", "electronic_commerce_indicator": "05",
            "transaction_id": "ds_txn_conformance", "version": "2.2.0"}});
    }
    let path = format!("/checkout_sessions/{id}/complete");
    let answer = merchant
        .post(Post {
            path: &path,
            body: &to_bytes(&body),
            key: Some(&fresh_id("conformance-complete-")),
        })
        .await;
    let (result, completed) = judge_complete(answer, &id, real.is_some());
    report.record("complete", RULES, Level::Must, result);
    completed
}

/// Whether a complete answer conforms; returns the session id too when it reached `completed`.
/// With a real token (`real`) only an order or a 3-D Secure request passes.
fn judge_complete(
    answer: Result<Exchange, String>,
    id: &str,
    real: bool,
) -> (Result<String, String>, Option<String>) {
    let mut completed = None;
    let result = answer.and_then(|a| match a.status {
        200 => {
            let s = session_answer(&Ok(a.clone()), id)?;
            match status(&s) {
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
        400..=499 if !real => validate::error(&a, a.status, None).map(|e| {
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
    let body = create_body(&settings.items[..1], &settings.currency);
    let answer = merchant
        .post(Post {
            path: "/checkout_sessions",
            body: &to_bytes(&body),
            key: Some(&fresh_id("conformance-fresh-")),
        })
        .await;
    let Ok(fresh) = created_session(&answer) else {
        report.skip("cancel", "could not create a fresh session");
        report.skip("cancel.canceled", "could not create a fresh session");
        return;
    };
    let id = fresh["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("/checkout_sessions/{id}/cancel");
    let intent =
        json!({"intent_trace": {"reason_code": "other", "trace_summary": "ACP conformance probe"}});
    let answer = merchant
        .post(Post {
            path: &path,
            body: &to_bytes(&intent),
            key: Some(&fresh_id("conformance-cancel-")),
        })
        .await;
    let result = session_answer(&answer, &id).and_then(|s| match status(&s) {
        "canceled" => Ok("HTTP 200 canceled".to_owned()),
        other => Err(format!("status {other}, not canceled")),
    });
    report.record("cancel", &["CHK-16", "IT-01", "IT-02"], Level::Must, result);
    let again = merchant
        .post(Post {
            path: &path,
            body: b"{}",
            key: Some(&fresh_id("conformance-cancel-")),
        })
        .await;
    let result = again.and_then(|a| {
        validate::error(&a, 405, None)
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
async fn cancel_completed(merchant: &Client, id: &str, report: &mut Report) {
    let path = format!("/checkout_sessions/{id}/cancel");
    let answer = merchant
        .post(Post {
            path: &path,
            body: b"{}",
            key: Some(&fresh_id("conformance-cancel-")),
        })
        .await;
    let result = answer.and_then(|a| {
        validate::error(&a, 405, None)
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
    use agentic_commerce::json_path::JsonPath;

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
        let (test_token, done) = judge_complete(exchange(402, &error), "cs_1", false);
        assert_eq!(
            test_token.unwrap(),
            "HTTP 402 payment_declined for the test token"
        );
        assert_eq!(done, None);
        let (real_token, _) = judge_complete(exchange(402, &error), "cs_1", true);
        assert!(real_token.unwrap_err().contains("expected HTTP 200"));
        // A 4xx body that is not an ACP Error fails even for the test token (ERR-01).
        let (wrapped, _) = judge_complete(exchange(400, &json!({"error": error})), "cs_1", false);
        assert!(
            wrapped
                .unwrap_err()
                .contains("not a valid agentic_checkout.Error")
        );
        let (server_error, _) = judge_complete(exchange(500, &json!({})), "cs_1", false);
        assert!(server_error.is_err());
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
