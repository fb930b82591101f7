//! `validate` and `types`: the typed models from the command line.

use std::process::ExitCode;

use agentic_commerce::parse::registry;
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::{AcpError, JsonPath};
use serde_json::Value;

use crate::args::read_stdin;

/// Flags of `acp validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    /// The wire type, `<bundle>.<Name>` (`acp types` lists them).
    #[arg(long = "type", value_name = "BUNDLE.NAME")]
    type_name: String,
    /// Strict validation: every violation of the official schema, each with its JSONPath.
    #[arg(long)]
    strict: bool,
    /// A released API version (default: the latest).
    #[arg(long, value_name = "DATE")]
    api_version: Option<String>,
}

/// Flags of `acp types`.
#[derive(Debug, clap::Args)]
pub(crate) struct TypesArgs {
    /// A released API version (default: the latest).
    #[arg(long, value_name = "DATE")]
    api_version: Option<String>,
}

/// `acp validate --type <bundle>.<Name> [--api-version <date>] [--strict]`.
pub(crate) fn validate(parsed: &ValidateArgs) -> ExitCode {
    let name = parsed.type_name.as_str();
    let version = match api_version(parsed.api_version.as_deref()) {
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
            &JsonPath::root(),
        )],
        Ok(value) => {
            let result = if parsed.strict {
                entry.roundtrip_strict(&value).map_err(|violations| {
                    violations
                        .iter()
                        .map(|v| acp_error(v.kind.as_str(), &v.message, &v.path))
                        .collect()
                })
            } else {
                entry
                    .roundtrip(&value)
                    .map_err(|e| vec![acp_error("invalid", &e.message, &e.path)])
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

/// One ACP `Error` object (`invalid_request` with `code`, `message` and `param`), built by the
/// library's `AcpError` like every other ACP error.
fn acp_error(code: &str, message: &str, param: &JsonPath) -> Value {
    AcpError::invalid_request(code, message, param).to_json()
}

/// `--api-version <date>`, a released version (default: the latest).
fn api_version(text: Option<&str>) -> Result<ApiVersion, String> {
    let Some(text) = text else {
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
pub(crate) fn types(parsed: &TypesArgs) -> ExitCode {
    let version = match api_version(parsed.api_version.as_deref()) {
        Ok(v) => v,
        Err(e) => return crate::usage_error(&e),
    };
    for entry in registry::types_for(&version).unwrap_or_default() {
        println!("{}", entry.qualified_name());
    }
    ExitCode::SUCCESS
}
