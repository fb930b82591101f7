//! The probes of how a merchant turns requests away: a wrong bearer token (401), a bad or
//! stale request signature (401), a duplicate sent while the original is still processing
//! (409 `idempotency_in_flight` with `Retry-After`) and an oversized body (413).

use std::time::Duration;

use agentic_commerce_client::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::client::{Client, Exchange, Post, Signing, Tweak, fresh_id};
use super::probes::{Settings, applies, to_bytes};
use super::report::{Level, Report};
use super::shapes;
use super::validate;
use agentic_commerce::protocol::version::ApiVersion;

/// The bearer token of `auth.wrong_bearer`: no merchant issues it.
pub(crate) const WRONG_BEARER: &str = "acp-conformance-wrong-token";
/// How old the correctly signed `signature.stale` request is: far outside any clock-skew
/// window (the crate's verifier allows 300 s in the past by default).
pub(crate) const STALE_BY: time::Duration = time::Duration::hours(1);
/// The default `--oversize-bytes`: 3 MiB, well above the 1 MiB request limit a merchant is
/// expected to apply (the crate's axum adapter's default) and above axum's own built-in
/// `DefaultBodyLimit` (2 MB), so a merchant on either default answers 413.
pub(crate) const DEFAULT_OVERSIZE_BYTES: usize = 3 << 20;
/// `idempotency.in_flight`: rounds of concurrent duplicates before "no overlap" is a failure.
pub(crate) const IN_FLIGHT_ATTEMPTS: u32 = 3;
/// Identical requests per round: the first starts processing, the others should collide.
pub(crate) const IN_FLIGHT_COPIES: u32 = 3;
/// Delay between the copies of a round (the first gets a head start to reserve the key).
pub(crate) const IN_FLIGHT_STAGGER: Duration = Duration::from_millis(10);

/// A fresh create request of the version under test.
fn create_body(settings: &Settings) -> Result<Value, String> {
    shapes::create(&settings.version, &settings.items[..1], &settings.currency).map(|r| r.body)
}

/// Runs the probes of this module.
pub(crate) async fn run(merchant: &Client, settings: &Settings, report: &mut Report) {
    wrong_bearer(merchant, settings, report).await;
    signatures(merchant, settings, report).await;
    oversize(merchant, settings, report).await;
    in_flight(merchant, settings, report).await;
}

/// A create with a bearer token the merchant never issued: 401 with an ACP error (HDR-01).
async fn wrong_bearer(merchant: &Client, settings: &Settings, report: &mut Report) {
    const RULES: &[&str] = &["HDR-01", "ERR-01", "ERR-02"];
    let body = match create_body(settings) {
        Ok(b) => b,
        Err(e) => return report.skip("auth.wrong_bearer", e),
    };
    let key = fresh_id("conformance-auth-");
    let answer = merchant
        .send_with(
            Method::POST,
            Post {
                path: "/checkout_sessions",
                body: &to_bytes(&body),
                key: Some(&key),
            },
            Tweak {
                bearer: Some(WRONG_BEARER),
                ..Tweak::default()
            },
        )
        .await;
    report.record(
        "auth.wrong_bearer",
        RULES,
        Level::Must,
        answer.and_then(|a| rejected(&settings.version, &a, 401)),
    );
}

/// An ACP error with `status`, described for the report.
fn rejected(version: &ApiVersion, answer: &Exchange, status: u16) -> Result<String, String> {
    validate::error(version, answer, status, None).map(|e| {
        format!(
            "HTTP {status} {} {}",
            e["type"].as_str().unwrap_or("?"),
            e["code"].as_str().unwrap_or("?")
        )
    })
}

/// A create signed over another body (SIG-04), and one correctly signed an hour ago
/// (SIG-05): both 401 with an ACP error. Only when the checker signs (`--signing-secret`).
async fn signatures(merchant: &Client, settings: &Settings, report: &mut Report) {
    if !merchant.signs() {
        for id in ["signature.invalid", "signature.stale"] {
            report.skip(
                id,
                "the checker does not sign (no --signing-secret): a bad signature cannot be told from a missing one",
            );
        }
        return;
    }
    let body = match create_body(settings) {
        Ok(b) => to_bytes(&b),
        Err(e) => {
            report.skip("signature.invalid", e.clone());
            report.skip("signature.stale", e);
            return;
        }
    };
    let stale = OffsetDateTime::now_utc() - STALE_BY;
    let cases: [(&'static str, &'static [&'static str], Signing); 2] = [
        (
            "signature.invalid",
            &["SIG-04", "ERR-01"],
            Signing::OtherBody,
        ),
        ("signature.stale", &["SIG-05", "ERR-01"], Signing::At(stale)),
    ];
    for (id, rules, signing) in cases {
        let key = fresh_id("conformance-sig-");
        let answer = merchant
            .send_with(
                Method::POST,
                Post {
                    path: "/checkout_sessions",
                    body: &body,
                    key: Some(&key),
                },
                Tweak {
                    signing,
                    ..Tweak::default()
                },
            )
            .await;
        // Verifying signatures is a SHOULD for checkout (SIG-04, SIG-05); the 401 is the
        // digest's mapping of a failed request signature (by analogy with webhooks, WH-05).
        report.record(
            id,
            rules,
            Level::Should,
            answer.and_then(|a| rejected(&settings.version, &a, 401)),
        );
    }
}

/// `value` (a JSON object) with a `padding` string member making its serialization exactly
/// `size` bytes (or as small as it gets, when `value` alone is larger).
pub(crate) fn padded(value: &Value, size: usize) -> Vec<u8> {
    let mut out = value.clone();
    out["padding"] = json!("");
    let base = to_bytes(&out).len();
    out["padding"] = json!("x".repeat(size.saturating_sub(base)));
    to_bytes(&out)
}

/// A create request of `--oversize-bytes` (valid JSON, padded with a string member): 413.
/// The spec sets no request size limit, so this is a SHOULD with no rule ID: it checks that a
/// merchant bounds what it buffers (the crate's axum adapter defaults to 1 MiB).
async fn oversize(merchant: &Client, settings: &Settings, report: &mut Report) {
    let body = match create_body(settings) {
        Ok(b) => padded(&b, settings.oversize_bytes),
        Err(e) => return report.skip("body.oversize", e),
    };
    let key = fresh_id("conformance-oversize-");
    let answer = merchant
        .post(Post {
            path: "/checkout_sessions",
            body: &body,
            key: Some(&key),
        })
        .await;
    report.record(
        "body.oversize",
        &[],
        Level::Should,
        judge_oversize(&settings.version, answer, body.len()),
    );
}

/// Whether the answer to an oversized body is a 413 (an ACP error body is noted, not required).
pub(crate) fn judge_oversize(
    version: &ApiVersion,
    answer: Result<Exchange, String>,
    size: usize,
) -> Result<String, String> {
    let a = answer.map_err(|e| {
        format!("expected HTTP 413 for a {size}-byte body, got no HTTP answer: {e}")
    })?;
    if a.status != 413 {
        return Err(format!(
            "expected HTTP 413 for a {size}-byte body, got {}",
            a.brief()
        ));
    }
    let body = match validate::error(version, &a, 413, None) {
        Ok(e) => format!("ACP error {}", e["code"].as_str().unwrap_or("?")),
        Err(_) => "body is not an ACP error".to_owned(),
    };
    Ok(format!("HTTP 413 for a {size}-byte body ({body})"))
}

/// What one round of concurrent duplicates showed.
#[derive(Debug)]
pub(crate) enum Overlap {
    /// One request ran; these collided with it.
    Observed(Vec<Exchange>),
    /// Every copy answered after the original finished (replays): try again.
    NotObserved(String),
    /// A wrong answer: fails at once.
    Broken(String),
}

/// Classifies the answers to identical concurrent requests (same key, same body).
pub(crate) fn classify_in_flight(answers: &[Result<Exchange, String>]) -> Overlap {
    let mut ok: Vec<&Exchange> = Vec::new();
    let mut conflicts = Vec::new();
    for answer in answers {
        match answer {
            Err(e) => return Overlap::Broken(format!("no HTTP answer: {e}")),
            Ok(a) if (200..300).contains(&a.status) => ok.push(a),
            Ok(a) if a.status == 409 => conflicts.push(a.clone()),
            Ok(a) => {
                return Overlap::Broken(format!(
                    "expected 2xx or HTTP 409 for a duplicate, got {}",
                    a.brief()
                ));
            }
        }
    }
    let Some(first) = ok.first() else {
        return Overlap::Broken(format!(
            "none of {} identical requests succeeded: {}",
            answers.len(),
            conflicts.first().map(Exchange::brief).unwrap_or_default()
        ));
    };
    let mut ids: Vec<String> = ok
        .iter()
        .map(|a| a.body()["id"].as_str().unwrap_or("?").to_owned())
        .collect();
    ids.dedup();
    if ids.len() > 1 {
        return Overlap::Broken(format!(
            "one Idempotency-Key created {} sessions {ids:?}: the request ran more than once (IDEM-08, IDEM-10)",
            ids.len()
        ));
    }
    if ok.iter().any(|a| a.status != first.status) {
        return Overlap::Broken(
            "the successful copies answered different statuses (IDEM-08)".to_owned(),
        );
    }
    if conflicts.is_empty() {
        Overlap::NotObserved(format!(
            "all {} copies answered HTTP {} (the original had finished)",
            answers.len(),
            first.status
        ))
    } else {
        Overlap::Observed(conflicts)
    }
}

/// `Retry-After` as delta-seconds (the OpenAPI document: an integer).
pub(crate) fn retry_after(answer: &Exchange) -> Result<String, String> {
    match answer.header("retry-after") {
        Some(v) if v.trim().parse::<u64>().is_ok() => Ok(format!("Retry-After: {}", v.trim())),
        Some(v) => Err(format!("Retry-After {v:?} is not a number of seconds")),
        None => Err("the 409 has no Retry-After header".to_owned()),
    }
}

/// Identical creates sent together while the first is processing: one runs, the others get
/// 409 `idempotency_in_flight` (IDEM-12, MUST) with `Retry-After` (IDEM-12 SHOULD; the
/// OpenAPI document marks the header required). Up to [`IN_FLIGHT_ATTEMPTS`] rounds with fresh
/// keys when the copies did not overlap (a merchant faster than the stagger).
async fn in_flight(merchant: &Client, settings: &Settings, report: &mut Report) {
    const RULES: &[&str] = &["IDEM-12", "ERR-01", "ERR-02"];
    let v = &settings.version;
    if !applies(v, report, "idempotency.in_flight") {
        applies(v, report, "idempotency.retry_after");
        return;
    }
    let body = match create_body(settings) {
        Ok(b) => to_bytes(&b),
        Err(e) => {
            report.skip("idempotency.in_flight", e.clone());
            report.skip("idempotency.retry_after", e);
            return;
        }
    };
    let mut misses = Vec::new();
    for round in 1..=IN_FLIGHT_ATTEMPTS {
        let key = fresh_id("conformance-inflight-");
        let answers = merchant
            .post_concurrently(
                Post {
                    path: "/checkout_sessions",
                    body: &body,
                    key: Some(&key),
                },
                IN_FLIGHT_COPIES,
                IN_FLIGHT_STAGGER,
            )
            .await;
        match classify_in_flight(&answers) {
            Overlap::Broken(why) => {
                report.record("idempotency.in_flight", RULES, Level::Must, Err(why));
                report.skip(
                    "idempotency.retry_after",
                    "no 409 in-flight answer to inspect",
                );
                return;
            }
            Overlap::NotObserved(why) => misses.push(format!("round {round}: {why}")),
            Overlap::Observed(conflicts) => {
                let errors: Result<Vec<_>, String> = conflicts
                    .iter()
                    .map(|c| validate::error(v, c, 409, Some("idempotency_in_flight")))
                    .collect();
                report.record(
                    "idempotency.in_flight",
                    RULES,
                    Level::Must,
                    errors.map(|_| {
                        format!(
                            "one of {IN_FLIGHT_COPIES} concurrent copies ran, {} got HTTP 409 idempotency_in_flight (round {round})",
                            conflicts.len()
                        )
                    }),
                );
                let headers: Result<Vec<String>, String> =
                    conflicts.iter().map(retry_after).collect();
                report.record(
                    "idempotency.retry_after",
                    &["IDEM-12"],
                    Level::Should,
                    headers.map(|h| h.join(", ")),
                );
                return;
            }
        }
    }
    // Inconclusive, not failed: every copy was answered consistently (replays of one
    // create), but none arrived while the original was still running, so the in-flight
    // behaviour was never exercised.
    report.skip(
        "idempotency.in_flight",
        format!(
            "inconclusive: no overlap observed in {IN_FLIGHT_ATTEMPTS} rounds of {IN_FLIGHT_COPIES} concurrent copies ({}); a merchant that finishes a create within {} ms cannot be probed: give it simulated latency (the example merchant's --latency-ms)",
            misses.join("; "),
            IN_FLIGHT_STAGGER.as_millis()
        ),
    );
    report.skip(
        "idempotency.retry_after",
        "no 409 in-flight answer to inspect",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::unnecessary_wraps)] // what `send` hands to the judges
    fn answer(status: u16, headers: &[(&str, &str)], body: &Value) -> Result<Exchange, String> {
        Ok(Exchange {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            raw: to_bytes(body),
            json: Some(body.clone()),
        })
    }

    fn in_flight_error() -> Value {
        json!({"type": "invalid_request", "code": "idempotency_in_flight", "message": "busy"})
    }

    #[test]
    fn padding_makes_the_body_exactly_the_size_asked() {
        let body = json!({"currency": "usd", "line_items": [{"id": "var_1"}]});
        for size in [100, 1 << 20, 3 << 20] {
            let bytes = padded(&body, size);
            assert_eq!(bytes.len(), size);
            let back: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(back["line_items"], body["line_items"]);
        }
        // Smaller than the request itself: the bare request with an empty padding.
        assert_eq!(
            padded(&body, 1),
            to_bytes(&json!({"currency": "usd", "line_items": [{"id": "var_1"}], "padding": ""}))
        );
    }

    #[test]
    fn an_oversized_body_passes_only_with_413() {
        let v = ApiVersion::LATEST;
        let error =
            json!({"type": "invalid_request", "code": "request_too_large", "message": "big"});
        assert_eq!(
            judge_oversize(&v, answer(413, &[], &error), 10).unwrap(),
            "HTTP 413 for a 10-byte body (ACP error request_too_large)"
        );
        let plain = Ok(Exchange {
            status: 413,
            headers: Vec::new(),
            raw: b"length limit exceeded".to_vec(),
            json: None,
        });
        assert!(
            judge_oversize(&v, plain, 10)
                .unwrap()
                .contains("not an ACP error")
        );
        assert!(
            judge_oversize(&v, answer(400, &[], &error), 10)
                .unwrap_err()
                .contains("expected HTTP 413")
        );
        assert_eq!(
            judge_oversize(&v, Err("reset".into()), 10).unwrap_err(),
            "expected HTTP 413 for a 10-byte body, got no HTTP answer: reset"
        );
    }

    #[test]
    fn idem_12_concurrent_duplicates_are_classified() {
        let session = json!({"id": "cs_1"});
        let busy = answer(409, &[("retry-after", "1")], &in_flight_error());
        match classify_in_flight(&[answer(201, &[], &session), busy.clone(), busy.clone()]) {
            Overlap::Observed(c) => {
                assert_eq!(c.len(), 2);
                assert_eq!(retry_after(&c[0]).unwrap(), "Retry-After: 1");
            }
            other => panic!("{other:?}"),
        }
        // Replays only: the copies did not overlap.
        assert!(matches!(
            classify_in_flight(&[answer(201, &[], &session), answer(201, &[], &session)]),
            Overlap::NotObserved(_)
        ));
        // Two sessions for one key: executed twice.
        let other = json!({"id": "cs_2"});
        match classify_in_flight(&[answer(201, &[], &session), answer(201, &[], &other)]) {
            Overlap::Broken(why) => assert!(why.contains("IDEM-10"), "{why}"),
            o => panic!("{o:?}"),
        }
        // Another status, or nobody succeeding, is wrong at once.
        assert!(matches!(
            classify_in_flight(&[answer(201, &[], &session), answer(500, &[], &json!({}))]),
            Overlap::Broken(_)
        ));
        assert!(matches!(
            classify_in_flight(&[busy.clone(), busy]),
            Overlap::Broken(_)
        ));
    }

    #[test]
    fn retry_after_must_be_seconds() {
        let e = in_flight_error();
        assert!(retry_after(&answer(409, &[], &e).unwrap()).is_err());
        assert!(
            retry_after(&answer(409, &[("Retry-After", "soon")], &e).unwrap())
                .unwrap_err()
                .contains("not a number")
        );
        assert_eq!(
            retry_after(&answer(409, &[("retry-after", " 2 ")], &e).unwrap()).unwrap(),
            "Retry-After: 2"
        );
    }
}
