//! End-to-end tests of `acp feed lint` (the readiness linter, `rules::feed_readiness`): human
//! and `--json` output, a file or standard input, a `ProductsResponse` or JSON Lines, and the
//! exit codes (0 clean or warnings only, 1 an error finding, 2 unreadable input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};

use crate::common;

fn lint(args: &[&str], stdin: &[u8]) -> Output {
    let mut all = vec!["feed", "lint"];
    all.extend_from_slice(args);
    common::cli::run_acp(&all, stdin)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json_out(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

/// A product with every rule met but a missing price on its second variant (FLINT-02, an
/// error) when `broken`.
fn product(id: &str, broken: bool) -> Value {
    let variant = |v: &str, size: &str| {
        let mut value = json!({
            "id": format!("{id}_{v}"), "title": format!("Tee / {size}"),
            "barcodes": [{"type": "GTIN", "value": "4006381333931"}],
            "price": {"amount": 2000, "currency": "USD"},
            "availability": {"available": true, "status": "in_stock"},
            "categories": [{"value": "Apparel"}],
            "variant_options": [{"name": "Size", "value": size}],
            "seller": {"name": "Example Shop"}
        });
        if broken && v == "m" {
            value.as_object_mut().unwrap().remove("price");
        }
        value
    };
    json!({
        "id": id, "title": "Tee", "description": {"plain": "Soft cotton tee."},
        "media": [{"type": "image", "url": "https://cdn.example/1.jpg"}],
        "variants": [variant("s", "S"), variant("m", "M")]
    })
}

/// A file in a fresh temporary directory.
fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("acp-feed-lint-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn cli_example_catalog_is_agent_ready() {
    let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/catalog.json");
    let o = lint(&[catalog.to_str().unwrap()], b"");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let text = stdout(&o);
    assert!(
        text.starts_with("catalog: 5 products (0 invalid), 6 variants: score 100.0%"),
        "{text}"
    );
    assert!(
        text.contains("findings: 0 errors, 0 warnings, 0 infos"),
        "{text}"
    );
}

#[test]
fn cli_human_output_lists_findings_with_paths_and_fixes_and_exits_1() {
    let feed = json!({"products": [product("p1", false), product("p2", true)]});
    let path = temp_file(
        "feed.json",
        serde_json::to_string_pretty(&feed).unwrap().as_bytes(),
    );
    let o = lint(&[path.to_str().unwrap()], b"");
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let text = stdout(&o);
    // Only the product with findings is listed, then the catalog.
    assert!(!text.contains("p1 ("), "{text}");
    assert!(text.contains("p2 ($.products[1]): score "), "{text}");
    assert!(
        text.contains("  error   FLINT-02 $.products[1].variants[1].price: variant has no price"),
        "{text}"
    );
    assert!(
        text.contains("fix: Add `price: {amount, currency}`"),
        "{text}"
    );
    assert!(
        text.contains("catalog: 2 products (0 invalid), 4 variants: score "),
        "{text}"
    );
    assert!(
        text.contains("findings: 1 errors, 0 warnings, 0 infos"),
        "{text}"
    );
    assert!(
        text.contains("FLINT-02 error   weight 5       1 products      1 findings"),
        "{text}"
    );
}

#[test]
fn cli_json_output_has_every_product_and_the_summary() {
    let feed = json!({"products": [product("p1", false), product("p2", true)]});
    let o = lint(&["--json", "-"], feed.to_string().as_bytes());
    assert_eq!(o.status.code(), Some(1));
    let out = json_out(&o);
    let products = out["products"].as_array().unwrap();
    assert_eq!(products.len(), 2);
    assert_eq!(products[0]["id"], "p1");
    assert_eq!(products[0]["index"], 0);
    assert_eq!(products[0]["param"], "$.products[0]");
    assert_eq!(products[0]["score"], 1.0);
    assert_eq!(products[0]["findings"], json!([]));
    assert!(products[0].get("line").is_none());
    let finding = &products[1]["findings"][0];
    assert_eq!(finding["rule"], "FLINT-02");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["param"], "$.products[1].variants[1].price");
    assert_eq!(finding["message"], "variant has no price");
    assert!(finding["fix"].as_str().unwrap().contains("price"));
    let score = products[1]["score"].as_f64().unwrap();
    let (satisfied, applicable) = (
        products[1]["satisfied_weight"].as_f64().unwrap(),
        products[1]["applicable_weight"].as_f64().unwrap(),
    );
    assert!((score - satisfied / applicable).abs() < 1e-12);
    assert!(
        (applicable - satisfied - 2.5).abs() < 1e-12,
        "half of FLINT-02's 5"
    );
    let summary = &out["summary"];
    assert_eq!(summary["products"], 2);
    assert_eq!(summary["variants"], 4);
    assert_eq!(summary["errors"], 1);
    assert_eq!(summary["rules"].as_array().unwrap().len(), 18);
    assert_eq!(
        summary["rules"][1],
        json!({"rule": "FLINT-02", "severity": "error", "weight": 5, "findings": 1, "products_failing": 1})
    );
}

#[test]
fn cli_jsonl_on_stdin_reports_line_numbers_and_bad_lines() {
    let mut input = String::new();
    input.push_str(&product("p1", false).to_string());
    input.push_str("\n\n");
    input.push_str(&json!({"id": "p2", "title": "No variants member"}).to_string());
    input.push('\n');
    input.push_str(&product("p1", false).to_string()); // duplicate ids
    input.push('\n');
    let o = lint(&["--json", "-"], input.as_bytes());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = json_out(&o);
    let products = out["products"].as_array().unwrap();
    assert_eq!(products.len(), 3);
    assert_eq!(products[0]["line"], 1);
    assert_eq!(products[0]["param"], "$");
    assert_eq!(products[1]["line"], 3);
    assert_eq!(products[1]["id"], Value::Null);
    assert_eq!(products[1]["score"], 0.0);
    assert_eq!(products[1]["findings"][0]["rule"], "SCHEMA");
    assert_eq!(products[1]["findings"][0]["param"], "$.variants");
    assert_eq!(products[2]["line"], 4);
    assert_eq!(products[2]["index"], 2);
    let dup: Vec<&str> = products[2]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["param"].as_str().unwrap())
        .collect();
    assert_eq!(dup, ["$.id", "$.variants[0].id", "$.variants[1].id"]);
    assert_eq!(out["summary"]["invalid_products"], 1);

    // The same input in text: products by line.
    let text = stdout(&lint(&["-"], input.as_bytes()));
    assert!(
        text.contains("(invalid product) (line 3): score 0.0%"),
        "{text}"
    );
    assert!(text.contains("p1 (line 4): score "), "{text}");
}

#[test]
fn cli_a_line_over_the_limit_is_one_invalid_product_not_an_allocation() {
    // Leading blank lines shift the numbering; a 9 MiB line is over the 8 MiB line limit.
    let mut input = String::from("\n\n");
    input.push_str(&product("p1", false).to_string());
    input.push('\n');
    input.push_str(r#"{"id": ""#);
    input.push_str(&"x".repeat(9 << 20));
    input.push_str("\"}\n");
    input.push_str(&product("p3", false).to_string());
    input.push('\n');
    let o = lint(&["--json", "-"], input.as_bytes());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o).len());
    let out = json_out(&o);
    let lines: Vec<&Value> = out["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["line"])
        .collect();
    assert_eq!(lines, [&json!(3), &json!(4), &json!(5)]);
    let long = &out["products"][1]["findings"][0];
    assert_eq!(long["rule"], "SCHEMA");
    assert!(
        long["message"].as_str().unwrap().contains("longer than"),
        "{long}"
    );
    assert_eq!(out["products"][2]["id"], "p3");
}

#[test]
fn cli_warnings_only_exit_0_and_one_line_envelope_is_read() {
    let mut p = product("p1", false);
    p["variants"][0].as_object_mut().unwrap().remove("seller");
    let o = lint(&["-"], json!({"products": [p]}).to_string().as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("warning FLINT-11 $.products[0].variants[0].seller"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn cli_unreadable_input_exits_2() {
    let missing = lint(&["/nonexistent/feed.json"], b"");
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("cannot read /nonexistent/feed.json")
    );
    for bad in [
        &b"not json\n"[..],
        b"[1, 2]\n",
        b"{\n  \"items\": []\n}\n",
        b"{\"products\": []}\n{\"id\": \"x\"}\n",
    ] {
        let o = lint(&["-"], bad);
        assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(bad));
        assert!(!o.stderr.is_empty());
    }
    // No file argument: a usage error.
    assert_eq!(
        common::cli::run_acp(&["feed", "lint"], b"").status.code(),
        Some(2)
    );
    // Empty input is an empty catalog.
    let empty = lint(&["--json", "-"], b"");
    assert_eq!(empty.status.code(), Some(0));
    assert_eq!(json_out(&empty)["summary"]["products"], 0);
}
