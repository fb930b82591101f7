//! A tiny, exact command-line parser shared by the `acp` subcommands.

use std::collections::BTreeMap;

/// Parsed `--flag value` pairs (a flag may repeat) and bare `--switch`es.
#[derive(Debug, Default)]
pub(crate) struct Args {
    values: BTreeMap<String, Vec<String>>,
    switches: Vec<String>,
}

impl Args {
    /// Parses `args`; `switches` names the flags that take no value.
    pub(crate) fn parse(args: &[String], switches: &[&str]) -> Result<Self, String> {
        let mut out = Self::default();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument `{arg}`"));
            };
            let (name, inline) = match name.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (name, None),
            };
            if switches.contains(&name) {
                if inline.is_some() {
                    return Err(format!("`--{name}` takes no value"));
                }
                out.switches.push(name.to_owned());
                continue;
            }
            let value = match inline {
                Some(v) => v,
                None => iter
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("`--{name}` needs a value"))?,
            };
            out.values.entry(name.to_owned()).or_default().push(value);
        }
        Ok(out)
    }

    /// The single value of `--name`, if given (an error if given twice).
    pub(crate) fn opt(&self, name: &str) -> Result<Option<&str>, String> {
        match self.values.get(name).map(Vec::as_slice) {
            None | Some([]) => Ok(None),
            Some([one]) => Ok(Some(one.as_str())),
            Some(_) => Err(format!("`--{name}` given more than once")),
        }
    }

    /// The single required value of `--name`.
    pub(crate) fn req(&self, name: &str) -> Result<&str, String> {
        self.opt(name)?
            .ok_or_else(|| format!("missing required `--{name}`"))
    }

    /// Every value of a repeatable `--name`.
    pub(crate) fn all(&self, name: &str) -> &[String] {
        self.values.get(name).map_or(&[], Vec::as_slice)
    }

    /// Whether the switch `--name` was given.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    /// Rejects any flag not in `known` (values and switches).
    pub(crate) fn only(&self, known: &[&str]) -> Result<(), String> {
        for name in self.values.keys().chain(self.switches.iter()) {
            if !known.contains(&name.as_str()) {
                return Err(format!("unknown flag `--{name}`"));
            }
        }
        Ok(())
    }
}

/// Reads all of standard input as bytes.
pub(crate) fn read_stdin() -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    Ok(buf)
}
