//! Markdown content (MD-01, MD-02, MD-03): `content_type: markdown` messages
//! and disclosures must be `CommonMark` with no raw HTML.
//!
//! The content is parsed with `pulldown-cmark` (`CommonMark` core, no
//! extensions); every raw HTML block or inline HTML span it reports is an
//! error. Any string is valid `CommonMark`, so MD-01 adds nothing beyond this.

use pulldown_cmark::{Event, Options, Parser};

use super::Finding;
use crate::parse::json_path::JsonPath;
use crate::spec::latest::agentic_checkout::{CheckoutSession, DisclosureContentType, Message};

/// The raw HTML fragments in a markdown string, in document order.
pub fn raw_html(markdown: &str) -> Vec<String> {
    Parser::new_ext(markdown, Options::empty())
        .filter_map(|event| match event {
            Event::Html(html) | Event::InlineHtml(html) => Some(html.into_string()),
            _ => None,
        })
        .collect()
}

fn check_content(
    content_type: &DisclosureContentType,
    content: &str,
    path: JsonPath,
    out: &mut Vec<Finding>,
) {
    if *content_type != DisclosureContentType::Markdown {
        return;
    }
    let html = raw_html(content);
    if let Some(first) = html.first() {
        out.push(Finding::error(
            "MD-02",
            path,
            format!(
                "markdown content must not contain raw HTML ({} fragment(s), first: {:?})",
                html.len(),
                first.trim_end()
            ),
        ));
    }
}

/// Runs the checks of this module on messages and line-item disclosures.
pub fn check(session: &CheckoutSession, out: &mut Vec<Finding>) {
    let root = JsonPath::root();
    for (i, message) in session.messages.iter().enumerate() {
        let path = root.key("messages").index(i).key("content");
        match message {
            Message::Info(m) => check_content(&m.content_type, &m.content, path, out),
            Message::Warning(m) => check_content(&m.content_type, &m.content, path, out),
            Message::Error(m) => check_content(&m.content_type, &m.content, path, out),
            Message::Unknown(_) => {}
        }
    }
    for (i, line) in session.line_items.iter().enumerate() {
        for (j, disclosure) in line.disclosures.iter().flatten().enumerate() {
            let path = root
                .key("line_items")
                .index(i)
                .key("disclosures")
                .index(j)
                .key("content");
            check_content(&disclosure.content_type, &disclosure.content, path, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn md02_raw_html_is_found_in_blocks_and_inline() {
        assert!(
            raw_html("**Bold** and [link](https://x.example) and <https://auto.example>")
                .is_empty()
        );
        assert!(raw_html("`<b>code</b>` and\n\n    <div>indented code</div>").is_empty());
        assert_eq!(raw_html("Hello <b>world</b>"), ["<b>", "</b>"]);
        assert!(!raw_html("<div>\nblock\n</div>").is_empty());
        assert!(!raw_html("<!-- comment -->").is_empty());
        assert!(!raw_html("x <img src=x onerror=alert(1)>").is_empty());
    }

    #[test]
    fn md02_markdown_messages_and_disclosures_with_html_are_errors() {
        let s: CheckoutSession = serde_json::from_value(json!({
            "id": "cs", "capabilities": {}, "status": "incomplete", "currency": "usd",
            "line_items": [{"id": "li", "item": {"id": "i"}, "quantity": 1, "totals": [],
                "disclosures": [
                    {"type": "disclaimer", "content_type": "markdown", "content": "Fine *print*"},
                    {"type": "disclaimer", "content_type": "markdown", "content": "<script>x</script>"}]}],
            "fulfillment_options": [], "totals": [], "links": [],
            "messages": [
                {"type": "info", "content_type": "plain", "content": "<b>plain is not parsed</b>"},
                {"type": "warning", "code": "low_stock", "content_type": "markdown", "content": "Only <em>2</em> left"},
                {"type": "error", "code": "invalid", "content_type": "markdown", "content": "**Fix** it"}
            ]
        }))
        .unwrap();
        let mut out = Vec::new();
        check(&s, &mut out);
        let got: Vec<_> = out
            .iter()
            .map(|f| (f.rule, f.is_error(), f.param.to_string()))
            .collect();
        assert_eq!(
            got,
            [
                ("MD-02", true, "$.messages[1].content".to_owned()),
                (
                    "MD-02",
                    true,
                    "$.line_items[0].disclosures[1].content".to_owned()
                ),
            ]
        );
    }
}
