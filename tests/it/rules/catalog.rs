//! The rules catalog (`rules::catalog::RULES`) covers every rule ID the crate reports, and
//! `RULES.md` is its rendering. Regenerate `RULES.md` with `ACP_BLESS=1 cargo test --test
//! rules_catalog`.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use agentic_commerce::parse::json_path::JsonPath;
use agentic_commerce::protocol::finding::Finding;
use agentic_commerce::rules::catalog::{self, Level, RULES};

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every string literal of the form `"ABC-12"` (a rule ID) in the library's hand-written
/// sources (the generated models under src/spec/ carry the spec's own text, not rule IDs).
fn rule_ids_in_src() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut ids = BTreeSet::new();
    for file in files {
        if file.starts_with(root.join("src/spec")) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for piece in text.split('"').skip(1).step_by(2) {
            let Some((prefix, number)) = piece.split_once('-') else {
                continue;
            };
            if (2..=6).contains(&prefix.len())
                && prefix.bytes().all(|b| b.is_ascii_uppercase())
                && number.len() == 2
                && number.bytes().all(|b| b.is_ascii_digit())
            {
                ids.insert(piece.to_owned());
            }
        }
    }
    ids
}

#[test]
fn every_rule_id_in_src_is_in_the_catalog_and_every_entry_is_used() {
    let used = rule_ids_in_src();
    // The scan sees the IDs of each family the crate reports.
    for id in [
        "CHK-06", "DP-03", "DP-11", "DIS-05", "EXT-04", "MD-02", "ORD-09", "ARITH-10",
    ] {
        assert!(used.contains(id), "{id} not found in src: {used:?}");
    }
    let catalog: BTreeSet<String> = RULES.iter().map(|r| r.id.to_owned()).collect();
    let missing: Vec<_> = used.difference(&catalog).collect();
    assert!(
        missing.is_empty(),
        "rule IDs used in src but not in RULES: {missing:?}"
    );
    let stale: Vec<_> = catalog.difference(&used).collect();
    assert!(stale.is_empty(), "RULES entries no code reports: {stale:?}");
}

#[test]
fn every_entry_has_text_and_a_source() {
    for rule in RULES {
        assert!(!rule.text.trim().is_empty(), "{}", rule.id);
        assert!(!rule.source.trim().is_empty(), "{}", rule.id);
        if rule.level == Level::Crate {
            assert!(rule.source.starts_with("this crate"), "{}", rule.id);
        } else {
            let cited = catalog::SOURCES
                .iter()
                .any(|(abbreviation, _)| rule.source.starts_with(abbreviation));
            assert!(
                cited,
                "{}: source {:?} names no known document",
                rule.id, rule.source
            );
        }
    }
}

#[test]
fn findings_resolve_to_their_catalog_entry() {
    let finding = Finding::error("CHK-13", JsonPath::root(), "no metadata");
    let rule = finding.catalog_entry().unwrap();
    assert_eq!(rule.id, "CHK-13");
    assert_eq!(rule.level, Level::Must);
    assert!(rule.text.contains("authentication_metadata"));
    // A caller's own rule ID (the CLI's `SCHEMA`) has no entry.
    assert!(
        Finding::error("SCHEMA", JsonPath::root(), "x")
            .catalog_entry()
            .is_none()
    );
}

#[test]
fn rules_md_is_the_rendered_catalog() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("RULES.md");
    let expected = catalog::markdown();
    if std::env::var_os("ACP_BLESS").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap();
    assert!(
        actual == expected,
        "RULES.md is stale: regenerate it with `ACP_BLESS=1 cargo test --test it rules::catalog`"
    );
}
