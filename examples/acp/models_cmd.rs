//! `validate` and `types`: the typed models from the command line.

use std::process::ExitCode;

use agentic_commerce::parse::registry;
use agentic_commerce::protocol::version::ApiVersion;
use serde_json::{Value, json};

use crate::args::{Args, read_stdin};

/// `acp validate --type <bundle>.<Name> [--api-version <date>] [--strict]`.
pub(crate) fn validate(args: &[String]) -> ExitCode {
    let parsed = match Args::parse(args, &["strict"])
        .and_then(|a| a.only(&["type", "strict", "api-version"]).map(|()| a))
    {
        Ok(a) => a,
        Err(e) => return crate::usage_error(&e),
    };
    let name = match parsed.req("type") {
        Ok(n) => n,
        Err(e) => return crate::usage_error(&e),
    };
    let version = match api_version(&parsed) {
        Ok(v) => v,
        Err(e) => return crate::usage_error(&e),
    };
    let Some(entry) = registry::lookup_in(&version, name) else {
        return crate::usage_error(&format!(
            "unknown type `{name}` in API version {version}; `acp types --api-version {version}` \
             lists the supported names"
        ));
    };
    let input = match read_stdin() {
        Ok(b) => b,
        Err(e) => return crate::usage_error(&e),
    };
    let errors: Vec<Value> = match serde_json::from_slice::<Value>(&input) {
        Err(e) => vec![acp_error(
            "invalid_json",
            &format!("request body is not valid JSON: {e}"),
            "$",
        )],
        Ok(value) => {
            let result = if parsed.has("strict") {
                entry.roundtrip_strict(&value).map_err(|violations| {
                    violations
                        .iter()
                        .map(|v| acp_error(v.kind.as_str(), &v.message, &v.path.to_string()))
                        .collect()
                })
            } else {
                entry
                    .roundtrip(&value)
                    .map_err(|e| vec![acp_error("invalid", &e.message, &e.path.to_string())])
            };
            match result {
                Ok(out) => {
                    println!("{out}");
                    return ExitCode::SUCCESS;
                }
                Err(errors) => errors,
            }
        }
    };
    println!("{}", Value::Array(errors));
    ExitCode::from(1)
}

fn acp_error(code: &str, message: &str, param: &str) -> Value {
    json!({
        "type": "invalid_request",
        "code": code,
        "message": message,
        "param": param,
    })
}

/// `--api-version <date>`, a released version (default: the latest).
fn api_version(parsed: &Args) -> Result<ApiVersion, String> {
    let Some(text) = parsed.opt("api-version")? else {
        return Ok(ApiVersion::LATEST);
    };
    let version: ApiVersion = text
        .parse()
        .map_err(|e| format!("--api-version `{text}`: {e}"))?;
    if registry::types_for(&version).is_none() {
        let released: Vec<&str> = ApiVersion::RELEASED
            .iter()
            .map(ApiVersion::as_str)
            .collect();
        return Err(format!(
            "--api-version {version} is not a released version ({})",
            released.join(", ")
        ));
    }
    Ok(version)
}

/// `acp types [--api-version <date>]`.
pub(crate) fn types(args: &[String]) -> ExitCode {
    let parsed = match Args::parse(args, &[]).and_then(|a| a.only(&["api-version"]).map(|()| a)) {
        Ok(a) => a,
        Err(e) => return crate::usage_error(&e),
    };
    let version = match api_version(&parsed) {
        Ok(v) => v,
        Err(e) => return crate::usage_error(&e),
    };
    for entry in registry::types_for(&version).unwrap_or_default() {
        println!("{}", entry.qualified_name());
    }
    ExitCode::SUCCESS
}
