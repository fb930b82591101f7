//! Runs the `acp` example binary for end-to-end CLI tests.
//!
//! Cargo builds no `CARGO_BIN_EXE_*` for examples, so the helper builds the example itself with
//! the same cargo (`env!("CARGO")`), the same target directory, profile and features as the
//! running test binary (all derived from where the test executable lives and from
//! `cfg!(feature)`), then runs `<target>/<profile>/examples/acp`. When `cargo test` has already
//! built the example, that build is a no-op.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

pub fn acp_binary() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        // <target>/<profile>/deps/cli_canonical-<hash>
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .unwrap()
            .to_path_buf();
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
            .args([
                "build",
                "--quiet",
                "--example",
                "acp",
                "--no-default-features",
            ])
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
        profile_dir
            .join("examples")
            .join(format!("acp{}", std::env::consts::EXE_SUFFIX))
    })
}

pub fn run_acp(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(acp_binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A process that rejects its arguments exits without reading: ignore a broken pipe.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}
