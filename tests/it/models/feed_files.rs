//! The offline product feed files (RFC product feeds §3.4: `metadata.json` holds `FeedMetadata`,
//! `products.jsonl` one `Product` per line): lossless round trips of the official examples and
//! of generated products, line-numbered errors, the line-length bound, unknown members.

#![allow(clippy::unwrap_used)]

use std::io::BufRead;

use crate::common;

use agentic_commerce::StrictError;
use agentic_commerce::parse::feed_files::{
    FeedFileError, Mode, ProductsReader, ProductsResponseWriter, ProductsWriter, read_metadata,
    stream_products_response, write_metadata,
};
use agentic_commerce::parse::schema::WireType as _;
use agentic_commerce::parse::{self, ParseErrorKind};
use agentic_commerce::spec::latest::feed::{FeedMetadata, Product, ProductsResponse};
use common::spec_dir;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

/// Export: the response's products as `products.jsonl` bytes.
fn export(response: &ProductsResponse) -> Vec<u8> {
    let mut writer = ProductsWriter::new(Vec::new());
    for product in &response.products {
        writer.write(product).unwrap();
    }
    assert_eq!(writer.written(), response.products.len() as u64);
    writer.finish().unwrap()
}

/// Import: `products.jsonl` bytes back to a response, failing on the first bad line.
fn import(jsonl: &[u8], mode: Mode) -> Result<ProductsResponse, FeedFileError> {
    let products = ProductsReader::new(jsonl)
        .mode(mode)
        .collect::<Result<Vec<Product>, _>>()?;
    Ok(ProductsResponse::new(products))
}

/// The round trip every snapshot must survive: equal values, byte-identical re-export, and the
/// streamed `ProductsResponse` equal to serializing the whole value.
fn assert_lossless(response: &ProductsResponse, mode: Mode) {
    let jsonl = export(response);
    let back = import(&jsonl, mode).unwrap();
    assert_eq!(&back, response);
    assert_eq!(export(&back), jsonl, "re-export must be byte-identical");
    assert_eq!(jsonl.lines().count(), response.products.len());

    let mut writer = ProductsResponseWriter::new(Vec::new()).unwrap();
    for product in &back.products {
        writer.write(product).unwrap();
    }
    let streamed = writer.finish().unwrap();
    assert_eq!(streamed, parse::to_vec(response).unwrap());

    // And the document streams back into the same products.
    let mut again = Vec::new();
    let extra = stream_products_response(streamed.as_slice(), mode, |p| {
        again.push(p);
        Ok(())
    })
    .unwrap();
    assert!(extra.is_empty());
    assert_eq!(again, response.products);
}

#[test]
fn official_feed_examples_round_trip_through_the_files() {
    let Some(spec) = spec_dir("official_feed_examples_round_trip_through_the_files") else {
        return;
    };
    let path = spec.join("examples/2026-04-17/examples.feed.json");
    let examples: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut checked = 0;
    // The products response and the upsert request share the `{"products": [...]}` shape.
    for key in [
        "get_products_response",
        "upsert_products_request_single_product",
    ] {
        let bytes = serde_json::to_vec(&examples[key]).unwrap();
        let response: ProductsResponse = parse::from_slice_strict(&bytes).unwrap();
        assert!(!response.products.is_empty(), "{key}");
        assert_lossless(&response, Mode::Strict);
        // Nothing of the official JSON is lost on the way.
        let jsonl = export(&response);
        let lines: Vec<Value> = jsonl
            .lines()
            .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
            .collect();
        assert_eq!(Value::Array(lines), examples[key]["products"], "{key}");
        checked += 1;
    }
    for key in ["get_feed_response", "create_feed_response"] {
        let bytes = serde_json::to_vec(&examples[key]).unwrap();
        let metadata: FeedMetadata = parse::from_slice_strict(&bytes).unwrap();
        let mut file = Vec::new();
        write_metadata(&mut file, &metadata).unwrap();
        assert_eq!(
            read_metadata(file.as_slice(), Mode::Strict).unwrap(),
            metadata
        );
        let written: Value = serde_json::from_slice(&file).unwrap();
        assert_eq!(written, examples[key]);
        checked += 1;
    }
    assert_eq!(checked, 4);
}

/// Adds `future_*` members (a newer spec's fields) to the object and to its first variant.
fn with_unknown_members(mut product: Value, marker: u32) -> Value {
    product["future_product_field"] = serde_json::json!({"marker": marker, "list": [1, "two"]});
    if let Some(variant) = product["variants"].get_mut(0) {
        variant["future_variant_field"] = Value::from(format!("v{marker}"));
    }
    product
}

#[test]
fn generated_products_round_trip_losslessly() {
    let product = common::arbitrary::value(Product::shape());
    let strategy = (
        prop::collection::vec((product, any::<bool>(), any::<u32>()), 0..6),
        any::<bool>(),
    );
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |(products, crlf)| {
            let values: Vec<Value> = products
                .into_iter()
                .map(|(p, unknown, marker)| {
                    if unknown {
                        with_unknown_members(p, marker)
                    } else {
                        p
                    }
                })
                .collect();
            let bytes = serde_json::to_vec(&serde_json::json!({ "products": values })).unwrap();
            let response: ProductsResponse = parse::from_slice(&bytes).unwrap();
            assert_lossless(&response, Mode::Lenient);
            // CRLF line ends (a file edited on Windows) read the same.
            if crlf {
                let jsonl = export(&response);
                let crlf_text = String::from_utf8(jsonl).unwrap().replace('\n', "\r\n");
                prop_assert_eq!(
                    import(crlf_text.as_bytes(), Mode::Lenient).unwrap(),
                    response
                );
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn unknown_members_survive_export_and_import() {
    // Unknown members after the known ones: the order the crate writes them in.
    let line = r#"{"id":"p1","variants":[{"id":"v1","title":"T","availability":{"status":"a_status_from_2027"},"future_variant":true}],"future_top":{"x":[1,2]}}"#;
    let product = ProductsReader::new(format!("{line}\n").as_bytes())
        .next()
        .unwrap()
        .unwrap();
    assert!(product.extra.contains_key("future_top"));
    assert!(product.variants[0].extra.contains_key("future_variant"));
    let jsonl = export(&ProductsResponse::new(vec![product]));
    assert_eq!(String::from_utf8(jsonl).unwrap(), format!("{line}\n"));
    // Strict mode refuses what lenient keeps, pointing at the member.
    let err = ProductsReader::new(line.as_bytes())
        .mode(Mode::Strict)
        .next()
        .unwrap()
        .unwrap_err();
    assert_eq!(err.line(), Some(1));
    let FeedFileError::Product {
        error: StrictError::Violations(list),
        ..
    } = &err
    else {
        panic!("{err}");
    };
    let paths: Vec<String> = list.iter().map(|v| v.path.to_string()).collect();
    assert!(paths.contains(&"$.future_top".to_owned()), "{paths:?}");
    assert!(
        paths.contains(&"$.variants[0].future_variant".to_owned()),
        "{paths:?}"
    );
}

#[test]
fn a_malformed_line_is_an_error_naming_its_line() {
    let good = r#"{"id":"p","variants":[]}"#;
    let text = format!("{good}\n{good}\n{{\"id\":\"p3\",\"variants\":[\n{good}\n");
    let results: Vec<_> = ProductsReader::new(text.as_bytes()).collect();
    assert_eq!(results.len(), 4, "reading goes on after a bad line");
    let err = results[2].as_ref().unwrap_err();
    assert_eq!(err.line(), Some(3));
    assert!(matches!(
        err,
        FeedFileError::Product { line: 3, error: StrictError::Parse(e) }
            if matches!(e.kind, ParseErrorKind::Syntax { .. })
    ));
    assert!(
        err.to_string().starts_with("products.jsonl line 3: "),
        "{err}"
    );
    assert!(results[3].is_ok());

    // A product of the wrong shape: the line and the JSONPath inside the product.
    let text = format!("{good}\n\n{{\"id\":\"p\",\"variants\":[{{\"id\":\"v\",\"title\":5}}]}}\n");
    let err = import(text.as_bytes(), Mode::Lenient).unwrap_err();
    assert_eq!(err.line(), Some(3), "blank lines count");
    assert_eq!(err.path().unwrap().to_string(), "$.variants[0].title");
}

#[test]
fn an_oversized_line_is_an_error_not_an_allocation() {
    // 64 MiB without a line break, read with a 1 KiB limit: the reader never holds more than
    // the limit, reports the line and goes on.
    struct Endless {
        left: usize,
    }
    impl std::io::Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.left);
            buf[..n].fill(b'x');
            self.left -= n;
            Ok(n)
        }
    }
    let huge = std::io::BufReader::new(Endless { left: 64 << 20 });
    let tail = &b"\n{\"id\":\"after\",\"variants\":[]}\n"[..];
    let reader = ProductsReader::new(std::io::Read::chain(huge, tail)).max_line_bytes(1024);
    let results: Vec<_> = reader.collect();
    assert_eq!(results.len(), 2);
    assert!(matches!(
        results[0],
        Err(FeedFileError::LineTooLong { line: 1, max: 1024 })
    ));
    assert_eq!(results[1].as_ref().unwrap().id, "after");
}

#[test]
fn an_empty_feed_is_zero_products_both_ways() {
    let empty = ProductsResponse::new(Vec::new());
    assert_eq!(export(&empty), b"");
    assert_lossless(&empty, Mode::Strict);
    assert_eq!(import(b"", Mode::Strict).unwrap(), empty);
    // Lenient reading skips blank lines; strict reports them.
    assert_eq!(import(b"\n\r\n  \n", Mode::Lenient).unwrap(), empty);
    let err = import(b"\n", Mode::Strict).unwrap_err();
    assert!(matches!(err, FeedFileError::BlankLine { line: 1 }));
}

#[test]
fn metadata_json_holds_feed_metadata() {
    let meta = read_metadata(
        &br#"{"id":"feed_1","target_country":"US","updated_at":"2026-03-01T00:00:00Z","future":1}"#
            [..],
        Mode::Lenient,
    )
    .unwrap();
    assert_eq!(meta.id, "feed_1");
    assert!(meta.extra.contains_key("future"));
    let err = read_metadata(
        &br#"{"id":"feed_1","target_country":"usa"}"#[..],
        Mode::Strict,
    )
    .unwrap_err();
    assert_eq!(err.path().unwrap().to_string(), "$.target_country");
    assert!(err.to_string().starts_with("metadata.json: "), "{err}");
}
