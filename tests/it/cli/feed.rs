//! End-to-end tests of `acp feed export` and `acp feed import` (the offline feed files of RFC
//! product feeds §3.4).

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use crate::common;

use common::cli::run_acp;
use serde_json::Value;

/// A fresh directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("acp-feed-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn arg(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// In the crate's serialized form (unknown members after the known ones), so the import's output
/// is byte-identical to it.
const RESPONSE: &str = r#"{"products":[{"id":"prod_classic_tee","title":"Classic Tee","variants":[{"id":"sku123-red-s","title":"Classic Tee - Red / Small","price":{"amount":1999,"currency":"USD"},"future_variant":[1]}]},{"id":"prod_mug","variants":[],"future":{"a":true}}]}"#;

#[test]
fn export_then_import_gives_back_the_same_bytes_through_stdin_and_stdout() {
    let dir = Scratch::new("roundtrip");
    let snapshot = dir.arg("snap");
    let out = run_acp(
        &[
            "feed",
            "export",
            "-",
            "--out",
            &snapshot,
            "--feed-id",
            "feed_8f3K2x",
            "--target-country",
            "US",
            "--updated-at",
            "2026-03-01T00:00:00Z",
        ],
        RESPONSE.as_bytes(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let jsonl = std::fs::read_to_string(dir.path().join("snap/products.jsonl")).unwrap();
    let lines: Vec<&str> = jsonl.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[1].contains(r#""future":{"a":true}"#),
        "unknown members kept"
    );
    let metadata: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("snap/metadata.json")).unwrap())
            .unwrap();
    assert_eq!(
        metadata,
        serde_json::json!({"id": "feed_8f3K2x", "target_country": "US", "updated_at": "2026-03-01T00:00:00Z"})
    );
    assert!(!dir.path().join("snap/.products.jsonl.tmp").exists());

    let out = run_acp(&["feed", "import", &snapshot], b"");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{RESPONSE}\n")
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 products"));

    // Through files, `--out FILE` and `--metadata FILE`: the same snapshot again.
    let input = dir.arg("response.json");
    std::fs::write(&input, RESPONSE).unwrap();
    let again = dir.arg("again");
    let out = run_acp(
        &[
            "feed",
            "export",
            &input,
            "--out",
            &again,
            "--metadata",
            &dir.arg("snap/metadata.json"),
        ],
        b"",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("again/products.jsonl")).unwrap(),
        jsonl
    );
    let back = dir.arg("back.json");
    let out = run_acp(&["feed", "import", &again, "--out", &back, "--strict"], b"");
    // Strict import refuses the unknown members the lenient one kept.
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("products.jsonl line 1"), "{stderr}");
    assert!(stderr.contains("$.variants[0].future_variant"), "{stderr}");
    assert!(!Path::new(&back).exists(), "no output file after a failure");
    let out = run_acp(&["feed", "import", &again, "--out", &back], b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&back).unwrap(),
        format!("{RESPONSE}\n")
    );
}

#[test]
fn import_names_the_bad_line_and_exits_1() {
    let dir = Scratch::new("badline");
    std::fs::write(dir.path().join("metadata.json"), r#"{"id":"feed_1"}"#).unwrap();
    std::fs::write(
        dir.path().join("products.jsonl"),
        "{\"id\":\"p\",\"variants\":[]}\n{\"id\":\"p2\",\"variants\":[{\"id\":\"v\"}]}\n",
    )
    .unwrap();
    let out = run_acp(&["feed", "import", dir.path().to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("products.jsonl line 2"), "{stderr}");
    assert!(stderr.contains("$.variants[0].title"), "{stderr}");

    // A line over --max-line-bytes.
    let out = run_acp(
        &[
            "feed",
            "import",
            dir.path().to_str().unwrap(),
            "--max-line-bytes",
            "10",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("line 1: longer than 10 bytes"), "{stderr}");

    // No metadata.json: not a snapshot (exit 2, as for any unreadable file).
    std::fs::remove_file(dir.path().join("metadata.json")).unwrap();
    let out = run_acp(&["feed", "import", dir.path().to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("metadata.json"));
}

#[test]
fn export_rejects_what_the_files_cannot_hold() {
    let dir = Scratch::new("export-errors");
    let snapshot = dir.arg("snap");
    // A bad product: its path in the document, and no half-written snapshot.
    let out = run_acp(
        &["feed", "export", "-", "--out", &snapshot, "--feed-id", "f"],
        br#"{"products":[{"id":"p","variants":[]},{"id":3,"variants":[]}]}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("$.products[1].id"), "{stderr}");
    assert!(!dir.path().join("snap/products.jsonl").exists());
    assert!(!dir.path().join("snap/.products.jsonl.tmp").exists());

    // A top-level member other than `products` has no place in the files: not silently lost.
    let out = run_acp(
        &["feed", "export", "-", "--out", &snapshot, "--feed-id", "f"],
        br#"{"products":[],"next_page":"x"}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("$.next_page"));

    // Metadata is checked too, and one of --metadata / --feed-id is required (usage error).
    let out = run_acp(
        &[
            "feed",
            "export",
            "-",
            "--out",
            &snapshot,
            "--feed-id",
            "f",
            "--target-country",
            "usa",
            "--strict",
        ],
        br#"{"products":[]}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("$.target_country"));
    let out = run_acp(
        &["feed", "export", "-", "--out", &snapshot],
        br#"{"products":[]}"#,
    );
    assert_eq!(out.status.code(), Some(2));

    // An empty feed is a valid snapshot: an empty products.jsonl.
    let out = run_acp(
        &["feed", "export", "-", "--out", &snapshot, "--feed-id", "f"],
        br#"{"products":[]}"#,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read(dir.path().join("snap/products.jsonl")).unwrap(),
        b""
    );
    let out = run_acp(&["feed", "import", &snapshot], b"");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"products\":[]}\n"
    );
}

#[test]
fn the_benchmark_generator_round_trips_byte_for_byte() {
    // PERFORMANCE.md's input: generated in the crate's serialized form, so export then import
    // must give it back unchanged (the same check the 1,000,000-product run makes with `cmp`).
    let dir = Scratch::new("generate");
    let out = run_acp(&["feed", "generate", "--products", "20"], b"");
    assert_eq!(out.status.code(), Some(0));
    let generated = out.stdout;
    let snapshot = dir.arg("snap");
    let out = run_acp(
        &[
            "feed",
            "export",
            "-",
            "--out",
            &snapshot,
            "--feed-id",
            "f",
            "--strict",
        ],
        &generated,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let jsonl = std::fs::read_to_string(dir.path().join("snap/products.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), 20);
    let out = run_acp(&["feed", "import", &snapshot, "--strict"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, generated);
}
