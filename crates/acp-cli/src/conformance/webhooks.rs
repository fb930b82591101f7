//! Webhook probes (`--webhook-listen`): the checker receives the merchant's order webhooks
//! during its run and judges them (WH-01..09).
//!
//! The listener is the crate's [`WebhookReceiver`] (signature with its freshness window,
//! parse in the version the `API-Version` header names, strict schema validation,
//! deduplication of redeliveries) mounted with `agentic-commerce-axum`. It is wrapped so that
//! the checker also sees what the receiver refuses: every answer other than `200` is recorded
//! with its reason.
//!
//! Checks (after the other probes, once the `order_create` of the purchase arrived or the wait
//! ran out):
//!
//! - `webhooks.received` (WH-09, MUST): the session the `complete` probe bought got an
//!   `order_create` whose `data.checkout_session_id` names it;
//! - `webhooks.signature` (WH-01..05, MUST): every request reaching the listener carried a
//!   valid, fresh `Merchant-Signature` (a refused one fails, with the receiver's reason);
//! - `webhooks.schema` (WH-06, WH-07, MUST): every event with a valid signature parsed
//!   strictly against its version's `WebhookEvent` schema, carries the full order
//!   (`data.type` `order`, `id` (from 2026-04-17), `checkout_session_id`, `permalink_url`,
//!   `status`) and, for
//!   the sessions this run completed, is written in the negotiated version (its `API-Version`
//!   header is the checker's `--api-version`). Events of other sessions (another agent's, or
//!   a late retry from an earlier run) are checked in the version their header names;
//! - `webhooks.order` (WH-09, SHOULD): per order (`data.id`; before 2026-04-17: the session id), in
//!   arrival order of the new
//!   (deduplicated) events: the first is `order_create`; there is no second `order_create`;
//!   once an event carried a terminal status (`completed`, `canceled`, or 2025-09-29's
//!   `fulfilled`), no later event carries another status. SHOULD: delivery is at least once
//!   with retries, so the spec does not promise arrival order.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use agentic_commerce::AcpError;
use agentic_commerce::engine::HttpEngine;
use agentic_commerce::engine::store::InMemoryStore;
use agentic_commerce::engine::webhooks::{Delivery, WebhookHandler, WebhookReceiver};
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::trust::webhook::{WebhookSecret, WebhookVerifier};
use serde_json::Value;

use super::report::{Level, Report};

/// How many events and refusals are kept (a merchant flooding the listener cannot exhaust
/// memory); beyond it they are counted only.
const MAX_RECORDS: usize = 1000;

/// Statuses after which an order's status does not change.
const TERMINAL: &[&str] = &["completed", "canceled", "fulfilled"];

/// One new event the receiver accepted.
#[derive(Debug, Clone)]
struct Event {
    version: ApiVersion,
    kind: String,
    data: Value,
}

/// One request the receiver refused.
#[derive(Debug, Clone)]
struct Refusal {
    status: u16,
    code: String,
    message: String,
    /// The error's JSONPath `param`, when it names one.
    param: Option<String>,
}

#[derive(Debug, Default)]
struct Log {
    events: Vec<Event>,
    refusals: Vec<Refusal>,
    dropped: usize,
}

/// What the listener saw, shared by the handler and the wrapper.
#[derive(Debug, Default)]
struct Recorder(Mutex<Log>);

impl Recorder {
    fn with<T>(&self, f: impl FnOnce(&mut Log) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl WebhookHandler for Recorder {
    async fn order_event(&self, delivery: &Delivery) -> Result<(), AcpError> {
        let event = Event {
            version: delivery.version.clone(),
            kind: delivery.event_type().to_owned(),
            data: delivery.raw["data"].clone(),
        };
        self.with(|log| {
            if log.events.len() < MAX_RECORDS {
                log.events.push(event);
            } else {
                log.dropped += 1;
            }
        });
        Ok(())
    }
}

type Receiver = WebhookReceiver<Arc<Recorder>, InMemoryStore>;

/// The receiver, recording every answer it refuses.
struct Recording {
    receiver: Receiver,
    recorder: Arc<Recorder>,
}

impl HttpEngine for Recording {
    fn max_body_bytes(&self) -> usize {
        self.receiver.max_body_bytes()
    }

    async fn handle_request(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> http::Response<Vec<u8>> {
        let answer = self.receiver.handle(parts, body).await;
        let status = answer.status().as_u16();
        if status != 200 {
            let error: Value = serde_json::from_slice(answer.body()).unwrap_or(Value::Null);
            let refusal = Refusal {
                status,
                code: error["code"].as_str().unwrap_or("?").to_owned(),
                message: error["message"].as_str().unwrap_or_default().to_owned(),
                param: error["param"].as_str().map(str::to_owned),
            };
            self.recorder.with(|log| {
                if log.refusals.len() < MAX_RECORDS {
                    log.refusals.push(refusal);
                } else {
                    log.dropped += 1;
                }
            });
        }
        answer
    }
}

/// A running listener.
pub(crate) struct Listener {
    addr: SocketAddr,
    recorder: Arc<Recorder>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Listener {
    /// Listens on `addr`, verifying with `secret`.
    ///
    /// # Errors
    ///
    /// The secret is too short or the address cannot be bound.
    pub(crate) async fn start(addr: &str, secret: &str) -> Result<Self, String> {
        let secret = WebhookSecret::new(secret.as_bytes().to_vec())
            .map_err(|e| format!("`--webhook-secret`: {e}"))?;
        let recorder = Arc::new(Recorder::default());
        let receiver = WebhookReceiver::builder(
            WebhookVerifier::new(secret),
            Arc::clone(&recorder),
            InMemoryStore::default(),
        )
        .strict(true)
        .build();
        let engine = Arc::new(Recording {
            receiver,
            recorder: Arc::clone(&recorder),
        });
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("`--webhook-listen` {addr:?}: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("`--webhook-listen` {addr:?}: {e}"))?;
        let router = agentic_commerce_axum::router(engine).into_router();
        let task = tokio::spawn(async move {
            // The listener only ends with the run (the task is aborted on drop).
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            addr,
            recorder,
            task,
        })
    }

    /// The bound address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits up to `wait` for an `order_create` of each of `sessions`, then records the checks.
    pub(crate) async fn judge(
        &self,
        version: &ApiVersion,
        sessions: &[String],
        wait: Duration,
        report: &mut Report,
    ) {
        let deadline = tokio::time::Instant::now() + wait;
        while !self
            .recorder
            .with(|log| missing(&log.events, sessions).is_empty())
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (events, refusals, dropped) = self
            .recorder
            .with(|log| (log.events.clone(), log.refusals.clone(), log.dropped));
        record(version, sessions, wait, &events, &refusals, dropped, report);
    }
}

/// Records the four checks when there is no listener.
pub(crate) fn skip(report: &mut Report, reason: &str) {
    for id in ALL {
        report.skip(id, reason);
    }
}

const ALL: [&str; 4] = [
    "webhooks.received",
    "webhooks.signature",
    "webhooks.schema",
    "webhooks.order",
];

/// The sessions of `sessions` without an `order_create` among `events`.
fn missing<'a>(events: &[Event], sessions: &'a [String]) -> Vec<&'a str> {
    sessions
        .iter()
        .filter(|s| {
            !events.iter().any(|e| {
                e.kind == "order_create" && e.data["checkout_session_id"].as_str() == Some(s)
            })
        })
        .map(String::as_str)
        .collect()
}

fn record(
    version: &ApiVersion,
    sessions: &[String],
    wait: Duration,
    events: &[Event],
    refusals: &[Refusal],
    dropped: usize,
    report: &mut Report,
) {
    let summary = format!(
        "{} new event(s), {} refused request(s){}",
        events.len(),
        refusals.len(),
        if dropped > 0 {
            format!(", {dropped} more not kept")
        } else {
            String::new()
        }
    );

    if sessions.is_empty() {
        report.skip("webhooks.received", "no purchase completed during the run");
    } else {
        let lost = missing(events, sessions);
        let result = if lost.is_empty() {
            Ok(format!(
                "order_create for {} completed session(s); {summary}",
                sessions.len()
            ))
        } else {
            Err(format!(
                "no order_create within {} s for completed session(s) {} (WH-09); {summary}",
                wait.as_secs(),
                lost.join(", ")
            ))
        };
        report.record("webhooks.received", &["WH-09"], Level::Must, result);
    }

    let signature: Vec<String> = refusals
        .iter()
        .filter(|r| r.status == 401)
        .map(|r| format!("401 {}: {}", r.code, r.message))
        .collect();
    if events.is_empty() && refusals.is_empty() {
        for id in ["webhooks.signature", "webhooks.schema", "webhooks.order"] {
            report.skip(id, "no webhook reached the listener");
        }
        return;
    }
    let result = if signature.is_empty() {
        Ok(format!("every request was signed validly; {summary}"))
    } else {
        Err(format!(
            "{} request(s) refused for their signature: {}",
            signature.len(),
            first_few(&signature)
        ))
    };
    report.record(
        "webhooks.signature",
        &["WH-01", "WH-02", "WH-03", "WH-04", "WH-05"],
        Level::Must,
        result,
    );

    let problems = schema_problems(version, sessions, events, refusals);
    let result = if problems.is_empty() {
        Ok(format!(
            "{} event(s) strictly valid, full orders, in their version",
            events.len()
        ))
    } else {
        Err(first_few(&problems))
    };
    report.record(
        "webhooks.schema",
        &["WH-06", "WH-07", "WH-08"],
        Level::Must,
        result,
    );

    let order = order_problems(events);
    let result = if order.is_empty() {
        Ok(format!(
            "{} event(s): every order began with order_create, no status after a terminal one",
            events.len()
        ))
    } else {
        Err(first_few(&order))
    };
    report.record("webhooks.order", &["WH-09"], Level::Should, result);
}

/// The `webhooks.schema` findings: refusals other than the signature's, events of this run's
/// sessions in another version than the negotiated one, and orders missing required members.
fn schema_problems(
    version: &ApiVersion,
    sessions: &[String],
    events: &[Event],
    refusals: &[Refusal],
) -> Vec<String> {
    let ours = |e: &Event| {
        e.data["checkout_session_id"]
            .as_str()
            .is_some_and(|s| sessions.iter().any(|x| x == s))
    };
    let mut problems: Vec<String> = refusals
        .iter()
        .filter(|r| r.status != 401)
        .map(|r| match &r.param {
            Some(param) => format!("refused {} {} at {param}: {}", r.status, r.code, r.message),
            None => format!("refused {} {}: {}", r.status, r.code, r.message),
        })
        .collect();
    for e in events {
        let id = order_key(e).unwrap_or("?");
        if ours(e) && e.version != *version {
            problems.push(format!(
                "{} of order {id} is in API-Version {}, not the negotiated {version}",
                e.kind, e.version
            ));
        }
        if e.data["type"] != "order" {
            problems.push(format!(
                "{} of order {id}: data.type is {}, not \"order\" (WH-07)",
                e.kind, e.data["type"]
            ));
        }
        for member in ["id", "checkout_session_id", "permalink_url", "status"] {
            // EventDataOrder has no order id before 2026-04-17 (the session id names the order).
            let absent_in_version = member == "id" && e.version != ApiVersion::LATEST;
            if !absent_in_version && !e.data[member].is_string() {
                problems.push(format!(
                    "{} of order {id}: data.{member} is missing (WH-06, WH-07)",
                    e.kind
                ));
            }
        }
    }
    problems
}

/// The ordering rules of the module docs, per order in arrival order.
fn order_problems(events: &[Event]) -> Vec<String> {
    let mut seen: Vec<(&str, bool, Option<&str>)> = Vec::new(); // (order, created, terminal)
    let mut out = Vec::new();
    for e in events {
        let Some(id) = order_key(e) else {
            continue;
        };
        let status = e.data["status"].as_str();
        let index = seen.iter().position(|(o, ..)| *o == id).unwrap_or_else(|| {
            seen.push((id, false, None));
            seen.len() - 1
        });
        let (_, created, terminal) = &mut seen[index];
        match (e.kind.as_str(), *created) {
            ("order_create", true) => out.push(format!("order {id}: a second order_create")),
            ("order_create", false) => *created = true,
            (kind, false) => out.push(format!("order {id}: {kind} before its order_create")),
            _ => {}
        }
        if let Some(t) = *terminal {
            if status != Some(t) {
                out.push(format!(
                    "order {id}: {} with status {} after the terminal status {t}",
                    e.kind,
                    status.unwrap_or("?")
                ));
            }
        } else if let Some(s) = status.filter(|s| TERMINAL.contains(s)) {
            *terminal = Some(s);
        }
    }
    out
}

/// The order an event is about: `data.id`, or its session before orders had ids in events
/// (before 2026-04-17).
fn order_key(e: &Event) -> Option<&str> {
    e.data["id"]
        .as_str()
        .or_else(|| e.data["checkout_session_id"].as_str())
}

/// The first three of `items`, and how many more.
fn first_few(items: &[String]) -> String {
    let mut out = items.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
    if items.len() > 3 {
        let _ = write!(out, "; and {} more", items.len() - 3);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: &str, id: &str, status: &str) -> Event {
        Event {
            version: ApiVersion::LATEST,
            kind: kind.to_owned(),
            data: json!({"type": "order", "id": id, "checkout_session_id": "cs_1",
                "permalink_url": "https://m.example/o", "status": status}),
        }
    }

    #[test]
    fn order_rules_accept_a_lifecycle_and_flag_each_violation() {
        let good = [
            event("order_create", "o1", "created"),
            event("order_update", "o1", "shipped"),
            event("order_update", "o1", "completed"),
            event("order_update", "o1", "completed"),
        ];
        assert!(order_problems(&good).is_empty());
        let bad = [
            event("order_update", "o2", "confirmed"),
            event("order_create", "o3", "created"),
            event("order_create", "o3", "created"),
            event("order_update", "o3", "canceled"),
            event("order_update", "o3", "shipped"),
        ];
        let problems = order_problems(&bad);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("o2: order_update before its order_create"));
        assert!(problems[1].contains("a second order_create"));
        assert!(problems[2].contains("after the terminal status canceled"));
    }

    #[test]
    fn events_in_another_version_fail_only_for_this_runs_sessions() {
        let mut old = event("order_create", "o1", "created");
        old.version = ApiVersion::V2025_09_29;
        let mut report = Report::default();
        record(
            &ApiVersion::LATEST,
            &["cs_other".to_owned()],
            Duration::from_secs(1),
            std::slice::from_ref(&old),
            &[],
            0,
            &mut report,
        );
        let schema = report.checks.iter().find(|c| c.id == "webhooks.schema");
        assert!(schema.is_some_and(|c| c.passed), "{:?}", report.checks);
        let mut report = Report::default();
        record(
            &ApiVersion::LATEST,
            &["cs_1".to_owned()],
            Duration::from_secs(1),
            &[old],
            &[],
            0,
            &mut report,
        );
        let schema = report.checks.iter().find(|c| c.id == "webhooks.schema");
        assert!(
            schema.is_some_and(|c| !c.passed && c.detail.contains("not the negotiated")),
            "{:?}",
            report.checks
        );
    }
}
