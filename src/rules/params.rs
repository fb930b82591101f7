//! Message `param` paths (CHK-09): each must be an RFC 9535 JSONPath (an
//! error otherwise). A path that does not resolve inside the session is only a
//! warning: a `missing` message legitimately names a member that is absent,
//! and a payment decline names the request's `$.payment_data`.

use serde_json::Value;

use super::Finding;
use crate::parse::json_path::JsonPath;
use crate::spec::latest::agentic_checkout::{CheckoutSession, Message};

/// Runs the checks of this module.
pub fn check(session: &CheckoutSession, out: &mut Vec<Finding>) {
    // The session as JSON, made only when a message has a param to resolve (most have none).
    let mut value: Option<Value> = None;
    for (i, message) in session.messages.iter().enumerate() {
        let param = match message {
            Message::Info(m) => m.param.as_deref(),
            Message::Warning(m) => m.param.as_deref(),
            Message::Error(m) => m.param.as_deref(),
            Message::Unknown(map) => map.get("param").and_then(Value::as_str),
        };
        let Some(param) = param else { continue };
        let path = JsonPath::root().key("messages").index(i).key("param");
        let target = match JsonPath::parse(param) {
            Ok(target) => target,
            Err(e) => {
                out.push(Finding::error(
                    "CHK-09",
                    path,
                    format!("param {param:?} is not a JSONPath: {e}"),
                ));
                continue;
            }
        };
        let document = match &mut value {
            Some(document) => document,
            None => match serde_json::to_value(session) {
                Ok(document) => value.insert(document),
                Err(e) => {
                    out.push(Finding::error(
                        "CHK-09",
                        JsonPath::root(),
                        format!(
                            "the session could not be serialized to resolve message params: {e}"
                        ),
                    ));
                    return;
                }
            },
        };
        if target.resolve(document).is_none() {
            out.push(Finding::warning(
                "CHK-09",
                path,
                format!("param {param:?} does not resolve inside the session"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chk09_params_must_parse_and_should_resolve() {
        let s: CheckoutSession = serde_json::from_value(json!({
            "id": "cs", "capabilities": {}, "status": "incomplete", "currency": "usd",
            "line_items": [{"id": "li", "item": {"id": "i"}, "quantity": 1, "totals": []}],
            "fulfillment_options": [], "totals": [], "links": [],
            "messages": [
                {"type": "error", "code": "out_of_stock", "param": "$.line_items[0].item.id", "content_type": "plain", "content": "x"},
                {"type": "error", "code": "invalid", "param": "line_items[0]", "content_type": "plain", "content": "x"},
                {"type": "warning", "code": "low_stock", "param": "$.line_items[3]", "content_type": "plain", "content": "x"},
                {"type": "info", "content_type": "plain", "content": "no param"}
            ]
        }))
        .unwrap();
        let mut out = Vec::new();
        check(&s, &mut out);
        let got: Vec<_> = out.iter().map(|f| (f.rule, f.param.to_string())).collect();
        assert_eq!(
            got,
            [
                ("CHK-09", "$.messages[1].param".to_owned()),
                ("CHK-09", "$.messages[2].param".to_owned()),
            ]
        );
        assert!(out[0].is_error());
        assert!(!out[1].is_error());
    }
}
