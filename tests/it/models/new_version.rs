//! Version agility (issue 18): a new spec release is parsed, validated and negotiable with no
//! hand edit.
//!
//! The test builds a synthetic next version: a copy of the newest released folder under a later
//! date, with one optional property (`synthetic_note`, a string of at most 64 characters) added to
//! `CheckoutSessionCreateRequest`. In a scratch copy of the crate it runs the generator over the
//! official spec plus that folder and builds the `acp` tool (renamed `acp_next`, so the workspace's
//! own `acp` binary in the shared target directory is left alone) and a small probe, reusing this
//! test's target directory for the dependencies. Then:
//!
//! - `ApiVersion::RELEASED` has the new date, `negotiate` accepts it, and it has statuses;
//! - `acp types --api-version <new>` lists the same names as the newest release;
//! - every official example of the newest release gives exactly the same `acp validate --strict`
//!   result (exit code and output) under the new version as under its own;
//! - a create request using the new property validates strictly and round-trips under the new
//!   version only, and a wrong value of it is reported at `$.synthetic_note`.
//!
//! Skipped with a printed reason when the spec folder, `python3` with `PyYAML` or `rustfmt` is
//! missing; under `CI=true` a missing prerequisite fails the test instead.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use crate::common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use agentic_commerce::protocol::version::ApiVersion;
use common::{examples_in, spec_dir};
use serde_json::{Value, json};

const NOTE: &str = "synthetic_note";

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips (prints why) or, under CI, fails.
fn missing(what: &str) {
    assert!(!ci(), "new_version: CI=true but {what}");
    println!("SKIPPED new_version: {what}");
}

fn copy_dir(from: &Path, to: &Path, skip: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target, &[]);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn run(bin: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `<target>/<profile>` of the running test binary (`<target>/<profile>/deps/new_version-…`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

const PROBE: &str = r#"//! Prints what the crate knows of one API version (built by tests/it/models/new_version.rs).

use agentic_commerce::protocol::version::{ApiVersion, negotiate};

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_default();
    let Ok(version) = arg.parse::<ApiVersion>() else {
        println!("unparsable");
        return;
    };
    let released: Vec<&str> = ApiVersion::RELEASED.iter().map(ApiVersion::as_str).collect();
    println!("released={}", released.join(","));
    println!("is_released={}", version.is_released());
    match negotiate(ApiVersion::RELEASED, Some(version.as_str())) {
        Ok(v) => println!("negotiated={v}"),
        Err(e) => println!("negotiated=error {}", e.code()),
    }
    println!("latest={}", ApiVersion::LATEST);
    let statuses = agentic_commerce::protocol::version::convert::statuses(&version).map_or(0, <[_]>::len);
    println!("statuses={statuses}");
}
"#;

#[test]
fn a_synthetic_next_version_is_parsed_validated_and_negotiable_with_no_hand_edit() {
    let Some(spec) = spec_dir("new_version") else {
        return;
    };
    let python_ok = Command::new("python3")
        .args(["-c", "import yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !python_ok {
        return missing("python3 with PyYAML (pip install pyyaml) is needed to run the generator");
    }
    if !Command::new("rustfmt")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return missing("rustfmt is needed to run the generator");
    }

    let newest = ApiVersion::RELEASED.last().unwrap().clone();
    let next_date = newest.date().next_day().unwrap();
    let next = ApiVersion::from_date(next_date).unwrap();
    assert!(!next.is_released(), "{next} is already released");
    let (newest, next) = (newest.as_str().to_owned(), next.as_str().to_owned());

    // A scratch copy of the crate and of the spec, plus the synthetic folder.
    // A fixed path: the scratch package keeps its build hashes from run to run.
    let scratch = std::env::temp_dir().join("acp-new-version");
    let _ = std::fs::remove_dir_all(&scratch);
    let krate = scratch.join("crate");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(manifest, &krate, &["target", ".git", "fuzz"]);
    // The `acp` binary under another name, so the shared target's `acp` stays ours.
    let cli_manifest = krate.join("crates").join("acp-cli").join("Cargo.toml");
    let cli = std::fs::read_to_string(&cli_manifest).unwrap();
    assert!(cli.contains("[[bin]]\nname = \"acp\"\n"), "{cli}");
    std::fs::write(
        &cli_manifest,
        cli.replace(
            "[[bin]]\nname = \"acp\"\n",
            "[[bin]]\nname = \"acp_next\"\n",
        ),
    )
    .unwrap();
    std::fs::write(krate.join("examples").join("new_version_probe.rs"), PROBE).unwrap();
    let spec_copy = scratch.join("spec");
    copy_dir(&spec, &spec_copy, &[]);
    let folder = spec_copy.join("spec").join(&next);
    copy_dir(&spec_copy.join("spec").join(&newest), &folder, &[]);
    // Edited by Python, which keeps the members' order (serde_json here would sort them).
    let schema_path = folder
        .join("json-schema")
        .join("schema.agentic_checkout.json");
    let edit = format!(
        "import json, sys\n\
         p = sys.argv[1]\n\
         d = json.load(open(p))\n\
         d['$defs']['CheckoutSessionCreateRequest']['properties']['{NOTE}'] = \
         {{'type': 'string', 'maxLength': 64, 'description': 'A note.'}}\n\
         json.dump(d, open(p, 'w'), indent=2)\n"
    );
    let edited = Command::new("python3")
        .args(["-c", &edit])
        .arg(&schema_path)
        .output()
        .unwrap();
    assert!(
        edited.status.success(),
        "adding {NOTE} to {newest}'s CheckoutSessionCreateRequest failed:\n{}",
        String::from_utf8_lossy(&edited.stderr)
    );

    // The generator discovers the new folder; nothing else changes.
    let generated = Command::new("python3")
        .arg(krate.join("codegen").join("models.py"))
        .arg("--spec")
        .arg(&spec_copy)
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "the generator failed on the synthetic version:\n{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let module = format!("v{}", next.replace('-', "_"));
    let spec_rs = std::fs::read_to_string(krate.join("src").join("spec.rs")).unwrap();
    assert!(spec_rs.contains(&format!("pub mod {module};")), "{spec_rs}");

    // Build in this test's target directory (its dependencies are already built there).
    let profile = profile_dir();
    let target = profile.parent().unwrap();
    let mut features = Vec::new();
    if cfg!(feature = "ed25519") {
        features.push("ed25519");
    }
    if cfg!(feature = "es256") {
        features.push("es256");
    }
    let profile_args: Vec<String> = match profile.file_name().unwrap().to_str().unwrap() {
        "debug" => Vec::new(),
        "release" => vec!["--release".to_owned()],
        custom => vec!["--profile".to_owned(), custom.to_owned()],
    };
    // The probe (a root-package example) and the renamed CLI binary of the scratch workspace.
    let mut probe_build = Command::new(env!("CARGO"));
    probe_build
        .args(["build", "--quiet", "-p", "agentic-commerce", "--example"])
        .arg("new_version_probe")
        .arg("--no-default-features")
        .args(&profile_args)
        .arg("--manifest-path")
        .arg(krate.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target);
    if !features.is_empty() {
        probe_build.args(["--features", &features.join(",")]);
    }
    let mut cli_build = Command::new(env!("CARGO"));
    cli_build
        .args([
            "build",
            "--quiet",
            "-p",
            "agentic-commerce-cli",
            "--bin",
            "acp_next",
        ])
        .args(&profile_args)
        .arg("--manifest-path")
        .arg(krate.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target);
    for mut build in [probe_build, cli_build] {
        let compiled = build.output().unwrap();
        assert!(
            compiled.status.success(),
            "cargo build of the crate with the synthetic version {next} failed:\n{}",
            String::from_utf8_lossy(&compiled.stderr)
        );
    }
    let examples = profile.join("examples");
    let acp = profile.join(format!("acp_next{}", std::env::consts::EXE_SUFFIX));
    let probe = examples.join(format!("new_version_probe{}", std::env::consts::EXE_SUFFIX));

    // ApiVersion, negotiation and the status table know the new version; the working model
    // (ApiVersion::LATEST) did not move.
    let probed = stdout(&run(&probe, &[&next], b""));
    assert!(probed.contains(&format!(",{newest},{next}\n")), "{probed}");
    assert!(probed.contains("is_released=true"), "{probed}");
    assert!(probed.contains(&format!("negotiated={next}\n")), "{probed}");
    assert!(
        probed.contains(&format!("latest={}\n", ApiVersion::LATEST)),
        "{probed}"
    );
    assert!(!probed.contains("statuses=0"), "{probed}");
    let unknown = stdout(&run(&probe, &["2999-01-01"], b""));
    assert!(unknown.contains("is_released=false"), "{unknown}");
    assert!(
        unknown.contains("negotiated=error unsupported_api_version"),
        "{unknown}"
    );

    // The registry: the same names as the newest release; an unknown date is refused.
    let types_next = run(&acp, &["types", "--api-version", &next], b"");
    let types_newest = run(&acp, &["types", "--api-version", &newest], b"");
    assert!(types_next.status.success(), "{types_next:?}");
    assert!(stdout(&types_next).lines().count() > 10);
    assert_eq!(stdout(&types_next), stdout(&types_newest));
    assert!(
        !run(&acp, &["types", "--api-version", "2999-01-01"], b"")
            .status
            .success()
    );

    // Every official example of the newest release: the same strict result in both versions.
    let all = examples_in(&spec, &newest);
    assert!(!all.is_empty(), "no official examples for {newest}");
    let mut valid = Vec::new();
    for example in &all {
        let body = serde_json::to_vec(&example.value).unwrap();
        let at = |version: &str| {
            run(
                &acp,
                &[
                    "validate",
                    "--type",
                    example.type_name,
                    "--api-version",
                    version,
                    "--strict",
                ],
                &body,
            )
        };
        let (in_next, in_newest) = (at(&next), at(&newest));
        assert_eq!(
            (in_next.status.code(), stdout(&in_next)),
            (in_newest.status.code(), stdout(&in_newest)),
            "{}: {next} and {newest} disagree",
            example.id
        );
        if in_next.status.success() {
            valid.push(example);
            let back: Value = serde_json::from_slice(&in_next.stdout).unwrap();
            common::equivalent(&example.value, &back, "$")
                .unwrap_or_else(|e| panic!("{}: not a lossless round trip: {e}", example.id));
        }
    }
    assert!(
        valid.len() * 2 > all.len(),
        "{} of {} examples valid",
        valid.len(),
        all.len()
    );

    // The new property: known (validated, kept) in the new version only.
    let create = valid
        .iter()
        .find(|e| e.type_name == "agentic_checkout.CheckoutSessionCreateRequest")
        .expect("a valid official create request example");
    let mut with_note = create.value.clone();
    with_note[NOTE] = json!("leave at the door");
    let body = serde_json::to_vec(&with_note).unwrap();
    let validate = |version: &str, body: &[u8]| {
        run(
            &acp,
            &[
                "validate",
                "--type",
                "agentic_checkout.CheckoutSessionCreateRequest",
                "--api-version",
                version,
                "--strict",
            ],
            body,
        )
    };
    let accepted = validate(&next, &body);
    assert!(accepted.status.success(), "{}", stdout(&accepted));
    let back: Value = serde_json::from_slice(&accepted.stdout).unwrap();
    assert_eq!(back[NOTE], "leave at the door");
    let refused = validate(&newest, &body);
    assert!(!refused.status.success(), "{newest} has no {NOTE}");
    assert!(stdout(&refused).contains(NOTE), "{}", stdout(&refused));
    for wrong in [json!(7), json!("x".repeat(65))] {
        let mut bad = create.value.clone();
        bad[NOTE] = wrong.clone();
        let out = validate(&next, &serde_json::to_vec(&bad).unwrap());
        assert!(!out.status.success(), "{NOTE}: {wrong} accepted");
        assert!(
            stdout(&out).contains(&format!("\"param\":\"$.{NOTE}\"")),
            "{}",
            stdout(&out)
        );
    }

    let _ = std::fs::remove_dir_all(&scratch);
}
