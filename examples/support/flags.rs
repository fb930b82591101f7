//! Minimal `--flag value` parsing with environment-variable fallbacks, for the example
//! binaries (no argument-parsing dependency).

#![allow(dead_code)] // Each binary that includes this module uses a different part of it.

use std::collections::BTreeMap;

/// Parsed flags.
#[derive(Debug, Default)]
pub(crate) struct Flags {
    values: BTreeMap<String, String>,
    switches: Vec<String>,
}

impl Flags {
    /// Parses `args` (without the program name). `switches` take no value.
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
                out.values.insert(bare.to_owned(), value);
            } else {
                return Err(format!("unknown flag {name}"));
            }
        }
        Ok(out)
    }

    /// The flag's value, else the environment variable `env`, else `None`.
    pub(crate) fn get(&self, name: &str, env: &str) -> Option<String> {
        self.values
            .get(name)
            .cloned()
            .or_else(|| std::env::var(env).ok().filter(|v| !v.is_empty()))
    }

    /// Whether a switch was given.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }
}
