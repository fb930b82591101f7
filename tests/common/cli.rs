//! Runs the `acp` binary (the workspace member `crates/acp-cli`) for end-to-end CLI tests.
//!
//! Cargo sets `CARGO_BIN_EXE_*` only for binaries of the package under test, and `acp` lives
//! in another workspace member, so the helper builds it with the same cargo
//! (`env!("CARGO")`), the same target directory and profile as the running test binary (derived
//! from where the test executable lives): `cargo build -p agentic-commerce-cli --bin acp`, then
//! runs `<target>/<profile>/acp`. When `cargo test --workspace` has already built it, that
//! build is (nearly) a no-op.

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
        let mut build = Command::new(env!("CARGO"));
        build
            .args([
                "build",
                "--quiet",
                "--package",
                "agentic-commerce-cli",
                "--bin",
                "acp",
            ])
            .arg("--manifest-path")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
            .env("CARGO_TARGET_DIR", target_dir);
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
        assert!(status.success(), "building the acp binary failed");
        profile_dir.join(format!("acp{}", std::env::consts::EXE_SUFFIX))
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
