//! Minimal `--flag value` parsing with environment-variable fallbacks, for the example
//! binaries (no argument-parsing dependency).

#![allow(dead_code)] // Each binary that includes this module uses a different part of it.

use std::collections::BTreeMap;
use std::net::SocketAddr;

/// Parsed flags.
#[derive(Debug, Default)]
pub(crate) struct Flags {
    values: BTreeMap<String, Vec<String>>,
    switches: Vec<String>,
}

impl Flags {
    /// Parses `args` (without the program name). `switches` take no value; a valued flag may
    /// repeat ([`get_all`](Self::get_all)). `--help` and `-h` are always accepted
    /// ([`help`](Self::help)).
    ///
    /// # Errors
    ///
    /// A flag without a value, an unknown flag or a stray argument.
    pub(crate) fn parse(
        args: impl IntoIterator<Item = String>,
        valued: &[&str],
        switches: &[&str],
    ) -> Result<Self, String> {
        let mut out = Self::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
                None => (arg.clone(), None),
            };
            let bare = name.trim_start_matches("--");
            if arg == "--help" || arg == "-h" {
                out.switches.push("help".to_owned());
                continue;
            }
            if !name.starts_with("--") {
                return Err(format!("unexpected argument {arg:?}"));
            }
            if switches.contains(&bare) {
                out.switches.push(bare.to_owned());
            } else if valued.contains(&bare) {
                let value = match inline {
                    Some(v) => v,
                    None => args.next().ok_or(format!("{name} needs a value"))?,
                };
                out.values.entry(bare.to_owned()).or_default().push(value);
            } else {
                return Err(format!("unknown flag {name} (see --help)"));
            }
        }
        Ok(out)
    }

    /// The flag's value, else the environment variable `env`, else `None`.
    /// A repeated flag's last value wins.
    pub(crate) fn get(&self, name: &str, env: &str) -> Option<String> {
        self.values
            .get(name)
            .and_then(|v| v.last())
            .cloned()
            .or_else(|| std::env::var(env).ok().filter(|v| !v.is_empty()))
    }

    /// Every value of a repeatable flag, else the environment variable `env` split at commas,
    /// else empty.
    pub(crate) fn get_all(&self, name: &str, env: &str) -> Vec<String> {
        match self.values.get(name) {
            Some(values) => values.clone(),
            None => std::env::var(env)
                .ok()
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// Whether `--help` (or `-h`) was given.
    pub(crate) fn help(&self) -> bool {
        self.has("help")
    }

    /// Whether a switch was given.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }
}

/// Refuses built-in development credentials on a non-loopback address, and warns (one line on
/// stderr) when they are used on loopback. `dev_flags` names the flag that replaces each
/// development credential still in use.
///
/// # Errors
///
/// The refusal, naming the flags to set.
pub(crate) fn check_dev_credentials(
    program: &str,
    addr: SocketAddr,
    dev_flags: &[&str],
) -> Result<(), String> {
    if dev_flags.is_empty() {
        return Ok(());
    }
    let flags = dev_flags.join(", ");
    if addr.ip().is_loopback() {
        eprintln!(
            "{program}: warning: using built-in development credentials ({flags}); loopback only"
        );
        Ok(())
    } else {
        Err(format!(
            "refusing to listen on {addr} with built-in development credentials: set {flags}"
        ))
    }
}
