//! Input shared by the `acp` subcommands (the flags are parsed by clap, in `main.rs`).

/// Reads all of standard input as bytes.
pub(crate) fn read_stdin() -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    Ok(buf)
}
