//! End-to-end tests of `acp canonicalize` (the `acp` example binary).
//!
//! Cargo builds no `CARGO_BIN_EXE_*` for examples, so the test builds the example itself with
//! the same cargo (`env!("CARGO")`), the same target directory, profile and features as this
//! test binary (all derived from where this test executable lives and from `cfg!(feature)`),
//! then runs `<target>/<profile>/examples/acp`. When `cargo test` has already built the
//! example, that build is a no-op.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

fn acp() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        // <target>/<profile>/deps/cli_canonical-<hash>
        let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap().to_path_buf();
        let target_dir = profile_dir.parent().unwrap();
        let profile = profile_dir.file_name().unwrap().to_str().unwrap();
        let mut features = Vec::new();
        if cfg!(feature = "ed25519") {
            features.push("ed25519");
        }
        if cfg!(feature = "es256") {
            features.push("es256");
        }
        let mut build = Command::new(env!("CARGO"));
        build
            .args(["build", "--quiet", "--example", "acp", "--no-default-features"])
            .arg("--manifest-path")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
            .env("CARGO_TARGET_DIR", target_dir);
        if !features.is_empty() {
            build.args(["--features", &features.join(",")]);
        }
        match profile {
            "debug" => {}
            "release" => {
                build.arg("--release");
            }
            custom => {
                build.args(["--profile", custom]);
            }
        }
        let status = build.status().unwrap();
        assert!(status.success(), "building the acp example failed");
        profile_dir.join("examples").join(format!("acp{}", std::env::consts::EXE_SUFFIX))
    })
}

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(acp())
        .arg("canonicalize")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn canonical_bytes_without_trailing_newline() {
    let out = run(&[], b" {\"b\": 1.0, \"a\": [\"\\u00e9\", 1e21]}\n");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, "{\"a\":[\"\u{e9}\",1e+21],\"b\":1}".as_bytes());
    assert!(out.stderr.is_empty());
}

#[test]
fn duplicate_key_is_a_typed_error_with_a_jsonpath() {
    let out = run(&[], br#"{"x":{"a":1,"a":2}}"#);
    assert_eq!(out.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        error,
        serde_json::json!({
            "type": "invalid_request",
            "code": "duplicate_key",
            "message": "duplicate member name at $.x.a",
            "param": "$.x.a",
        })
    );
}

#[test]
fn syntax_error_omits_param() {
    let out = run(&[], b"[1,]");
    assert_eq!(out.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(error["code"], "syntax");
    assert_eq!(error["type"], "invalid_request");
    assert!(error.get("param").is_none());
}

#[test]
fn unknown_flags_and_arguments_are_usage_errors() {
    for args in [&["--pretty"][..], &["--pretty=1"], &["file.json"]] {
        let out = run(args, b"{}");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
    }
}
