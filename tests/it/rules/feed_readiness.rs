//! The feed readiness linter (`rules::feed_readiness`, `FLINT-01` … `FLINT-18`): each rule
//! with a product that fails it and one that passes, the score arithmetic, the streaming
//! catalog linter and forward compatibility.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use agentic_commerce::parse;
use agentic_commerce::parse::json_path::JsonPath;
use agentic_commerce::rules::Severity;
use agentic_commerce::rules::feed_readiness::{
    CatalogLinter, ProductReport, READINESS_RULES, lint_product, readiness_rule, total_weight,
};
use agentic_commerce::spec::v2026_04_17::feed::Product;
use serde_json::{Value, json};

fn variant(id: &str, size: &str, gtin: &str) -> Value {
    json!({
        "id": id, "title": format!("Tee / {size}"),
        "description": {"markdown": "**Soft** cotton, 3 < 4 &amp; washable"},
        "url": format!("https://shop.example/p/1?size={size}"),
        "barcodes": [{"type": "GTIN", "value": gtin}],
        "price": {"amount": 2000, "currency": "USD"},
        "list_price": {"amount": 2500, "currency": "USD"},
        "unit_price": {"amount": 1000, "currency": "USD",
            "measure": {"value": 200, "unit": "g"}, "reference": {"value": 100, "unit": "g"}},
        "availability": {"available": true, "status": "in_stock"},
        "categories": [{"value": "Apparel > Shirts", "taxonomy": "google_product_category"}],
        "variant_options": [{"name": "Size", "value": size}],
        "seller": {"name": "Example Shop"}
    })
}

/// A product that satisfies every rule that applies to it (all but FLINT-12).
fn good() -> Value {
    json!({
        "id": "prod_1", "title": "Tee",
        "description": {"plain": "Soft cotton tee."},
        "url": "https://shop.example/p/1",
        "media": [{"type": "image", "url": "https://cdn.example/1.jpg", "alt_text": "Tee"}],
        "variants": [variant("var_1_s", "S", "4006381333931"), variant("var_1_m", "M", "036000291452")]
    })
}

fn lint(value: &Value) -> ProductReport {
    let product: Product = parse::from_value(value).unwrap();
    lint_product(&product, &JsonPath::root())
}

/// Applies `edit` to a copy of the good product.
fn with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut value = good();
    edit(&mut value);
    value
}

fn at<'v>(value: &'v mut Value, pointer: &str) -> &'v mut Value {
    value.pointer_mut(pointer).unwrap()
}

fn remove(value: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    at(value, parent)
        .as_object_mut()
        .unwrap()
        .remove(key)
        .unwrap();
}

/// `(param, severity, message)` of every finding of `rule`.
fn findings_of(report: &ProductReport, rule: &str) -> Vec<(String, Severity, String)> {
    report
        .findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| (f.param.to_string(), f.severity, f.message.clone()))
        .collect()
}

/// `value` breaks `rule` exactly at `params`, with the rule's severity and fix.
fn assert_fails(value: &Value, rule: &str, params: &[&str]) -> ProductReport {
    let report = lint(value);
    let found = findings_of(&report, rule);
    let paths: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(paths, params, "{rule}: {:#?}", report.findings);
    let entry = readiness_rule(rule).unwrap();
    for finding in report.findings.iter().filter(|f| f.rule == rule) {
        assert_eq!(finding.severity, entry.severity);
        assert_eq!(finding.fix, entry.fix);
        assert!(!finding.message.is_empty());
    }
    assert!(report.score < 1.0, "{rule}: score {}", report.score);
    report
}

fn assert_passes(value: &Value, rule: &str) {
    let report = lint(value);
    assert_eq!(findings_of(&report, rule), vec![], "{rule}");
}

#[test]
fn the_good_product_passes_every_rule() {
    let report = lint(&good());
    assert_eq!(report.findings, vec![]);
    assert!((report.score - 1.0).abs() < f64::EPSILON);
    // Every rule applies but FLINT-12 (no marketplace, no resale wording, no condition).
    assert_eq!(report.applicable_weight, total_weight() - 1);
    assert_eq!(report.id.as_deref(), Some("prod_1"));
}

#[test]
fn flint01_product_without_variants() {
    assert_fails(
        &with(|p| p["variants"] = json!([])),
        "FLINT-01",
        &["$.variants"],
    );
    assert_passes(&good(), "FLINT-01");
}

#[test]
fn flint02_variant_without_price() {
    assert_fails(
        &with(|p| remove(p, "/variants/1/price")),
        "FLINT-02",
        &["$.variants[1].price"],
    );
    assert_passes(&good(), "FLINT-02");
}

#[test]
fn flint03_variant_without_availability() {
    let report = assert_fails(
        &with(|p| {
            remove(p, "/variants/0/availability");
            p["variants"][1]["availability"] = json!({});
        }),
        "FLINT-03",
        &["$.variants[0].availability", "$.variants[1].availability"],
    );
    let messages = findings_of(&report, "FLINT-03");
    assert_eq!(messages[0].2, "variant has no availability");
    assert!(messages[1].2.contains("neither `available` nor a `status`"));
    // A status alone (even one this version does not know) is enough.
    assert_passes(
        &with(|p| p["variants"][0]["availability"] = json!({"status": "coming_soon"})),
        "FLINT-03",
    );
}

#[test]
fn flint04_blank_variant_title() {
    assert_fails(
        &with(|p| p["variants"][0]["title"] = json!("  ")),
        "FLINT-04",
        &["$.variants[0].title"],
    );
    assert_passes(&good(), "FLINT-04");
}

#[test]
fn flint05_product_without_description() {
    // Product has none and only one variant has one.
    assert_fails(
        &with(|p| {
            remove(p, "/description");
            remove(p, "/variants/1/description");
        }),
        "FLINT-05",
        &["$.description"],
    );
    // Every variant described is enough.
    assert_passes(&with(|p| remove(p, "/description")), "FLINT-05");
}

#[test]
fn flint05_blank_description_counts_as_missing() {
    let report = lint(&with(|p| {
        p["description"] = json!({"plain": " "});
        remove(p, "/variants/0/description");
    }));
    assert_eq!(findings_of(&report, "FLINT-05").len(), 1);
}

#[test]
fn flint06_product_without_media() {
    assert_fails(&with(|p| remove(p, "/media")), "FLINT-06", &["$.media"]);
    // Media on a variant only is enough.
    assert_passes(
        &with(|p| {
            remove(p, "/media");
            p["variants"][1]["media"] =
                json!([{"type": "image", "url": "https://cdn.example/m.jpg"}]);
        }),
        "FLINT-06",
    );
}

#[test]
fn flint07_urls_that_do_not_parse() {
    let report = assert_fails(
        &with(|p| {
            p["media"][0]["url"] = json!("https://");
            p["variants"][1]["url"] = json!("ftp://shop.example/p/1");
        }),
        "FLINT-07",
        &["$.media[0].url", "$.variants[1].url"],
    );
    let found = findings_of(&report, "FLINT-07");
    assert!(found[0].2.contains("does not parse"), "{}", found[0].2);
    assert!(found[1].2.contains("scheme `ftp`"), "{}", found[1].2);
    // 4 URLs, 2 bad: half of the weight.
    let lost = total_weight() - 1;
    assert!((report.satisfied_weight - (f64::from(lost) - 1.0)).abs() < 1e-9);
    assert_passes(&good(), "FLINT-07");
}

#[test]
fn flint08_gtin_check_digit() {
    let report = assert_fails(
        &with(|p| p["variants"][0]["barcodes"][0]["value"] = json!("4006381333932")),
        "FLINT-08",
        &["$.variants[0].barcodes[0].value"],
    );
    assert!(
        findings_of(&report, "FLINT-08")[0]
            .2
            .contains("check digit 2, expected 1")
    );
    assert_fails(
        &with(|p| {
            p["variants"][1]["barcodes"][0] = json!({"type": "UPC", "value": "4006381333931"});
        }),
        "FLINT-08",
        &["$.variants[1].barcodes[0].value"],
    );
    // Other schemes are not checked: an MPN may be anything.
    assert_passes(
        &with(|p| p["variants"][0]["barcodes"][0] = json!({"type": "MPN", "value": "TEE-S-01"})),
        "FLINT-08",
    );
    // The official feed example's GTIN-14.
    assert_passes(
        &with(|p| p["variants"][0]["barcodes"][0]["value"] = json!("00012345600029")),
        "FLINT-08",
    );
}

#[test]
fn flint09_variant_without_barcode_is_info() {
    let report = assert_fails(
        &with(|p| remove(p, "/variants/1/barcodes")),
        "FLINT-09",
        &["$.variants[1].barcodes"],
    );
    assert!(!report.has_errors());
    assert_eq!(findings_of(&report, "FLINT-09")[0].1, Severity::Info);
    assert_passes(&good(), "FLINT-09");
}

#[test]
fn flint10_variant_without_category() {
    assert_fails(
        &with(|p| {
            p["variants"][0]["categories"] = json!([]);
            p["variants"][1]["categories"] = json!([{"value": " "}]);
        }),
        "FLINT-10",
        &["$.variants[0].categories", "$.variants[1].categories"],
    );
    assert_passes(&good(), "FLINT-10");
}

#[test]
fn flint11_variant_without_seller() {
    let report = assert_fails(
        &with(|p| {
            remove(p, "/variants/0/seller");
            p["variants"][1]["seller"] = json!({"links": []});
        }),
        "FLINT-11",
        &["$.variants[0].seller", "$.variants[1].seller"],
    );
    assert_eq!(findings_of(&report, "FLINT-11")[1].2, "seller has no name");
    assert_passes(&good(), "FLINT-11");
}

#[test]
fn flint12_condition_where_it_applies() {
    let report = assert_fails(
        &with(|p| {
            p["variants"][0]["marketplace"] = json!({"name": "Example Marketplace"});
            p["variants"][1]["title"] = json!("Tee / M (Refurbished)");
        }),
        "FLINT-12",
        &["$.variants[0].condition", "$.variants[1].condition"],
    );
    assert_eq!(report.applicable_weight, total_weight());
    assert_fails(
        &with(|p| p["variants"][0]["condition"] = json!([])),
        "FLINT-12",
        &["$.variants[0].condition"],
    );
    assert_passes(
        &with(|p| {
            p["variants"][0]["marketplace"] = json!({"name": "Example Marketplace"});
            p["variants"][0]["condition"] = json!(["new"]);
        }),
        "FLINT-12",
    );
    // "unused" is not resale wording.
    assert_passes(
        &with(|p| p["variants"][0]["title"] = json!("Tee, unused tags")),
        "FLINT-12",
    );
}

#[test]
fn flint13_currencies_differ_across_variants() {
    let report = assert_fails(
        &with(|p| p["variants"][1]["price"]["currency"] = json!("EUR")),
        "FLINT-13",
        &["$.variants[1].price.currency"],
    );
    assert!(
        findings_of(&report, "FLINT-13")[0]
            .2
            .contains("`EUR` differs from `USD`")
    );
    assert_fails(
        &with(|p| p["variants"][0]["list_price"]["currency"] = json!("CAD")),
        "FLINT-13",
        &["$.variants[0].list_price.currency"],
    );
    assert_passes(&good(), "FLINT-13");
}

#[test]
fn flint14_list_price_below_price() {
    assert_fails(
        &with(|p| p["variants"][0]["list_price"]["amount"] = json!(1999)),
        "FLINT-14",
        &["$.variants[0].list_price"],
    );
    assert_passes(
        &with(|p| p["variants"][0]["list_price"]["amount"] = json!(2000)),
        "FLINT-14",
    );
}

#[test]
fn flint15_unit_price_consistency() {
    let cases = [
        (
            "/variants/0/unit_price/amount",
            json!(3000),
            "does not match price",
        ),
        (
            "/variants/0/unit_price/measure/unit",
            json!("ml"),
            "different dimensions",
        ),
        (
            "/variants/0/unit_price/measure/value",
            json!(0),
            "not positive",
        ),
        (
            "/variants/0/unit_price/reference/value",
            json!(0),
            "not positive",
        ),
    ];
    for (pointer, bad, message) in cases {
        let report = assert_fails(
            &with(|p| *at(p, pointer) = bad.clone()),
            "FLINT-15",
            &["$.variants[0].unit_price"],
        );
        assert!(
            findings_of(&report, "FLINT-15")[0].2.contains(message),
            "{pointer}"
        );
    }
    // 2000 for 200 g is 10000 per kg: units convert within a dimension.
    assert_passes(
        &with(|p| {
            p["variants"][0]["unit_price"]["amount"] = json!(10_000);
            p["variants"][0]["unit_price"]["reference"] = json!({"value": 1, "unit": "kg"});
        }),
        "FLINT-15",
    );
    // Rounded to the minor unit: 2000 for 0.75 l → 266.67 per 100 ml.
    assert_passes(
        &with(|p| {
            p["variants"][0]["unit_price"] = json!({"amount": 267, "currency": "USD",
                "measure": {"value": 0.75, "unit": "l"}, "reference": {"value": 100, "unit": "ml"}});
        }),
        "FLINT-15",
    );
}

#[test]
fn flint16_raw_html_in_plain_or_markdown() {
    let report = assert_fails(
        &with(|p| {
            p["description"]["plain"] = json!("<p>Soft cotton</p>");
            p["variants"][1]["description"]["markdown"] = json!("Soft\n\n<div>cotton</div>\n");
        }),
        "FLINT-16",
        &["$.description.plain", "$.variants[1].description.markdown"],
    );
    let found = findings_of(&report, "FLINT-16");
    assert!(found[0].2.contains("`<p>`"), "{}", found[0].2);
    assert!(found[1].2.contains("<div>"), "{}", found[1].2);
    assert_fails(
        &with(|p| p["description"]["plain"] = json!("Tom &amp; Jerry")),
        "FLINT-16",
        &["$.description.plain"],
    );
    // HTML belongs in `html`; `3 < 4 &amp;` in markdown is CommonMark, not raw HTML.
    assert_passes(
        &with(|p| p["description"]["html"] = json!("<p>Soft</p>")),
        "FLINT-16",
    );
}

#[test]
fn flint17_duplicated_ids() {
    assert_fails(
        &with(|p| p["variants"][1]["id"] = json!("var_1_s")),
        "FLINT-17",
        &["$.variants[1].id"],
    );
    assert_passes(&good(), "FLINT-17");
    // Across products: the streaming linter remembers every id.
    let mut catalog = CatalogLinter::new();
    let first: Product = parse::from_value(&good()).unwrap();
    let root = |i: usize| JsonPath::root().key("products").index(i);
    assert!(catalog.push(&first, &root(0)).findings.is_empty());
    let again = catalog.push(&first, &root(1));
    let found = findings_of(&again, "FLINT-17");
    let paths: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        paths,
        [
            "$.products[1].id",
            "$.products[1].variants[0].id",
            "$.products[1].variants[1].id"
        ]
    );
    assert!(found[0].2.contains("product #1"), "{}", found[0].2);
    let other: Product = parse::from_value(&with(|p| p["id"] = json!("prod_2"))).unwrap();
    let report = catalog.push(&other, &root(2));
    assert_eq!(findings_of(&report, "FLINT-17").len(), 2);
    assert!(catalog.has_errors());
}

#[test]
fn flint18_options_that_do_not_distinguish_variants() {
    let report = assert_fails(
        &with(|p| p["variants"][1]["variant_options"] = json!([{"name": "size", "value": " s "}])),
        "FLINT-18",
        &["$.variants[1].variant_options"],
    );
    assert!(
        findings_of(&report, "FLINT-18")[0]
            .2
            .contains("same options as variants[0]")
    );
    assert_fails(
        &with(|p| remove(p, "/variants/0/variant_options")),
        "FLINT-18",
        &["$.variants[0].variant_options"],
    );
    // A single variant needs no options.
    let single = with(|p| {
        let first = p["variants"][0].clone();
        p["variants"] = json!([first]);
        remove(p, "/variants/0/variant_options");
    });
    assert_passes(&single, "FLINT-18");
    assert_eq!(lint(&single).findings, vec![]);
}

#[test]
fn score_is_the_satisfied_share_of_applicable_weight() {
    // One of two variants without a price: half of FLINT-02's weight of 5 is lost.
    let applicable = total_weight() - 1;
    let report = lint(&with(|p| remove(p, "/variants/1/price")));
    assert_eq!(report.applicable_weight, applicable);
    assert!((report.satisfied_weight - (f64::from(applicable) - 2.5)).abs() < 1e-9);
    assert!((report.score - (f64::from(applicable) - 2.5) / f64::from(applicable)).abs() < 1e-9);

    let mut catalog = CatalogLinter::new();
    assert!(
        (catalog.summary().score - 1.0).abs() < f64::EPSILON,
        "empty catalog"
    );
    for (i, value) in [
        good(),
        with(|p| {
            p["id"] = json!("prod_2");
            p["variants"][0]["id"] = json!("var_2_s");
            p["variants"][1]["id"] = json!("var_2_m");
            remove(p, "/variants/1/price");
        }),
    ]
    .iter()
    .enumerate()
    {
        let product: Product = parse::from_value(value).unwrap();
        catalog.push(&product, &JsonPath::root().key("products").index(i));
    }
    catalog.push_invalid(
        JsonPath::root().key("products").index(2).key("variants"),
        "missing",
    );
    let summary = catalog.summary();
    assert_eq!(
        (summary.products, summary.invalid_products, summary.variants),
        (3, 1, 4)
    );
    assert_eq!(
        summary.applicable_weight,
        u64::from(2 * applicable + total_weight())
    );
    let satisfied = 2.0 * f64::from(applicable) - 2.5;
    assert!((summary.satisfied_weight - satisfied).abs() < 1e-9);
    assert!((summary.score - satisfied / f64::from(2 * applicable + total_weight())).abs() < 1e-9);
    assert_eq!((summary.errors, summary.warnings, summary.infos), (2, 0, 0));
    let price = summary.rules.iter().find(|r| r.rule == "FLINT-02").unwrap();
    assert_eq!(
        (price.findings, price.products_failing, price.weight),
        (1, 1, 5)
    );
    assert_eq!(summary.rules.len(), READINESS_RULES.len());
}

#[test]
fn paths_start_at_the_products_position() {
    let product: Product = parse::from_value(&with(|p| remove(p, "/variants/1/price"))).unwrap();
    let report = lint_product(&product, &JsonPath::root().key("products").index(7));
    assert_eq!(
        report.findings[0].param.to_string(),
        "$.products[7].variants[1].price"
    );
    assert_eq!(report.param.to_string(), "$.products[7]");
}

#[test]
fn unknown_fields_and_values_do_not_break_linting() {
    let value = with(|p| {
        p["launch_wave"] = json!(3);
        p["media"][0]["type"] = json!("hologram");
        p["variants"][0]["availability"]["status"] = json!("coming_soon");
        p["variants"][0]["barcodes"][0]["type"] = json!("GS1 DataMatrix");
        p["variants"][0]["subscription"] = json!({"interval": "month"});
        p["variants"][1]["condition"] = json!(["like_new"]);
    });
    let report = lint(&value);
    assert_eq!(report.findings, vec![]);
    assert!((report.score - 1.0).abs() < f64::EPSILON);
}

#[test]
fn the_official_upsert_example_lints() {
    let Some(spec) = crate::common::spec_dir("the_official_upsert_example_lints") else {
        return;
    };
    let path = spec.join("examples/2026-04-17/examples.feed.json");
    let examples: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let product = &examples["upsert_products_request_single_product"]["products"][0];
    let report = lint(product);
    // The example has no category and is sold through a marketplace without a condition.
    let rules: Vec<&str> = report.findings.iter().map(|f| f.rule).collect();
    assert_eq!(rules, ["FLINT-10", "FLINT-12"]);
    assert!(!report.has_errors());
}
