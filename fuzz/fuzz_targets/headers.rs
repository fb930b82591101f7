//! Request header parsing from arbitrary name/value pairs, for every operation, plus version
//! negotiation on the raw `API-Version` value: typed errors only, never a panic.
#![no_main]

use agentic_commerce::AcpError;
use agentic_commerce::protocol::headers::{Operation, RequestHeaders};
use agentic_commerce::protocol::version::{ApiVersion, negotiate};
use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &[
    "authorization",
    "content-type",
    "api-version",
    "idempotency-key",
    "request-id",
    "signature",
    "timestamp",
    "accept-language",
    "user-agent",
    "merchant-signature",
    "Idempotent-Replayed",
    "retry-after",
];

const OPERATIONS: &[Operation] = &[
    Operation::CreateCheckoutSession,
    Operation::UpdateCheckoutSession,
    Operation::RetrieveCheckoutSession,
    Operation::CompleteCheckoutSession,
    Operation::CancelCheckoutSession,
    Operation::OrderEventsWebhook,
    Operation::DelegatePayment,
    Operation::CreateFeed,
];

fuzz_target!(|data: &[u8]| {
    let Some((&op, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    // Lines are `<name index byte><value>`; a name byte past the table is a raw header name.
    let mut pairs: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        let mut chars = line.chars();
        let Some(first) = chars.next() else { continue };
        let value: String = chars.collect();
        let index = first as usize;
        match NAMES.get(index % 16) {
            Some(name) => pairs.push(((*name).to_owned(), value)),
            None => match value.split_once(':') {
                Some((n, v)) => pairs.push((n.to_owned(), v.to_owned())),
                None => pairs.push((value.clone(), value)),
            },
        }
    }
    let operation = OPERATIONS[usize::from(op) % OPERATIONS.len()];
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let supported = [ApiVersion::V2026_01_30, ApiVersion::V2026_04_17];
    match RequestHeaders::parse_with_body(operation, borrowed.iter().copied(), op & 0x80 != 0) {
        Ok(headers) => {
            let _ = headers.echo_headers();
            let _ = headers.negotiate_version(&supported);
        }
        Err(errors) => {
            assert!(!errors.problems().is_empty());
            let _ = AcpError::from_header_errors(&errors, &supported).to_json();
            let _ = errors.status();
        }
    }
    for (_, value) in &borrowed {
        if let Ok(version) = negotiate(&supported, Some(value)) {
            assert!(supported.contains(&version));
        }
    }
});
