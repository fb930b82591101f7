//! Shared helpers for the integration tests: locating the official spec,
//! building the official JSON Schema validator, mapping official examples to
//! types, and comparing JSON up to the normalizations the crate may apply.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::cast_possible_truncation,
    clippy::many_single_char_names,
    clippy::redundant_closure_for_method_calls,
    clippy::map_unwrap_or
)]

pub mod arbitrary;
pub mod cli;

use std::path::PathBuf;

use serde_json::{Map, Value};

pub const VERSION: &str = "2026-04-17";

/// Every released version, oldest first: `ApiVersion::RELEASED`, which the generator builds from
/// the spec folder's `spec/<YYYY-MM-DD>/` directories, so a new release is checked here (its
/// examples, its errata) with no edit.
pub static VERSIONS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    agentic_commerce::protocol::version::ApiVersion::RELEASED
        .iter()
        .map(agentic_commerce::protocol::version::ApiVersion::as_str)
        .collect()
});

/// Waits until `done`, polling every 20 ms; fails the test after `limit`. For a state another
/// task reaches, where a fixed sleep could end first on a loaded machine.
pub async fn until(what: &str, limit: std::time::Duration, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "not within {limit:?}: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The `ApiVersion` for a released date.
pub fn api_version(version: &str) -> agentic_commerce::protocol::version::ApiVersion {
    version.parse().expect("a released version")
}

/// Rewrites the draft-04 `exclusiveMinimum: true` (with `minimum: m`) of the
/// 2025-09-29 `Item.quantity` to its 2020-12 form `exclusiveMinimum: m`.
///
/// The bundle declares draft 2020-12, where a boolean `exclusiveMinimum` is
/// metaschema-invalid (a naive validator reads `true` as 1, rejecting
/// quantity 1 and accepting 2.5). The crate reads the keyword as its authors
/// meant it, "greater than 0", and the official validator is given the same
/// reading, so the two agree; the conformance test lists this as a schema
/// erratum.
pub fn fix_draft04_exclusive_minimum(value: &mut Value) -> usize {
    let mut fixed = 0;
    match value {
        Value::Object(map) => {
            if map.get("exclusiveMinimum") == Some(&Value::Bool(true)) {
                if let Some(min) = map.remove("minimum") {
                    map.insert("exclusiveMinimum".into(), min);
                    fixed += 1;
                }
            }
            for v in map.values_mut() {
                fixed += fix_draft04_exclusive_minimum(v);
            }
        }
        Value::Array(items) => {
            for v in items {
                fixed += fix_draft04_exclusive_minimum(v);
            }
        }
        _ => {}
    }
    fixed
}

/// The official spec folder: `$ACP_SPEC_DIR`, else `../shared/acp-spec`.
/// Prints why and returns `None` when it is absent, so the caller skips; panics instead when
/// `CI=true`, so that a CI run without the spec fails rather than skipping the conformance tier.
pub fn spec_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("ACP_SPEC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/acp-spec"));
    if dir.join("spec").join(VERSION).is_dir() {
        Some(dir)
    } else if std::env::var("CI").is_ok_and(|v| v == "true") {
        // A CI run must exercise the conformance tier: a missing spec is a broken setup there,
        // never a reason to pass.
        panic!(
            "{test}: CI=true but the official ACP spec folder was not found at {} \
             (set ACP_SPEC_DIR to a checkout of the spec repository)",
            dir.display()
        );
    } else {
        println!(
            "SKIPPED {test}: the official ACP spec folder was not found at {} \
             (set ACP_SPEC_DIR to a checkout of the spec repository)",
            dir.display()
        );
        None
    }
}

fn read_json(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_yaml(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub const BUNDLES: &[&str] = &[
    "agentic_checkout",
    "cart",
    "delegate_authentication",
    "delegate_payment",
    "discount",
    "extension",
    "feed",
];

/// Rewrites the file-relative `$ref`s of the official files to `urn:acp:` URIs
/// so a validator can resolve them without the network.
fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                let mut s = r.clone();
                for prefix in ["../json-schema/", "./", "../../unreleased/json-schema/"] {
                    if let Some(rest) = s.strip_prefix(prefix) {
                        s = rest.to_owned();
                    }
                }
                if let Some(rest) = s.strip_prefix("schema.") {
                    if let Some((bundle, pointer)) = rest.split_once(".json#") {
                        *r = format!("urn:acp:{bundle}#{pointer}");
                    }
                } else if let Some(pointer) = s.strip_prefix("openapi.agentic_checkout.yaml#") {
                    *r = format!("urn:acp:oas.agentic_checkout#{pointer}");
                }
            }
            for v in map.values_mut() {
                rewrite_refs(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

/// The official schemas of one version, ready to validate any named type.
pub struct OfficialSchemas {
    registry: jsonschema::Registry<'static>,
}

impl OfficialSchemas {
    pub fn load(spec: &std::path::Path) -> Self {
        Self::load_version(spec, VERSION)
    }

    /// The official schemas of `version` (only the bundles it has).
    pub fn load_version(spec: &std::path::Path, version: &str) -> Self {
        let base = spec.join("spec").join(version);
        let mut resources = Vec::new();
        for bundle in BUNDLES {
            let path = base.join(format!("json-schema/schema.{bundle}.json"));
            if !path.exists() {
                continue;
            }
            let mut doc = read_json(&path);
            fix_draft04_exclusive_minimum(&mut doc);
            rewrite_refs(&mut doc);
            doc["$id"] = Value::String(format!("urn:acp:{bundle}"));
            resources.push((format!("urn:acp:{bundle}"), doc));
        }
        for (name, file) in [
            ("oas.agentic_checkout", "openapi.agentic_checkout.yaml"),
            (
                "agentic_checkout_webhook",
                "openapi.agentic_checkout_webhook.yaml",
            ),
            ("oas.feed", "openapi.feed.yaml"),
            ("oas.cart", "openapi.cart.yaml"),
        ] {
            let path = base.join("openapi").join(file);
            if !path.exists() {
                continue;
            }
            let mut doc = read_yaml(&path);
            rewrite_refs(&mut doc);
            let mut wrapper = Map::new();
            wrapper.insert(
                "$schema".into(),
                "https://json-schema.org/draft/2020-12/schema".into(),
            );
            wrapper.insert("$id".into(), Value::String(format!("urn:acp:{name}")));
            wrapper.insert("components".into(), doc["components"].clone());
            wrapper.insert("paths".into(), doc["paths"].clone());
            resources.push((format!("urn:acp:{name}"), Value::Object(wrapper)));
        }
        let mut builder = jsonschema::Registry::new();
        for (uri, doc) in resources {
            builder = builder.add(uri, doc).expect("official schema registers");
        }
        Self {
            registry: builder.prepare().expect("official schemas resolve"),
        }
    }

    /// The official schema reference for `<bundle>.<Name>`.
    fn reference(bundle: &str, name: &str) -> String {
        match (bundle, name) {
            ("agentic_checkout_webhook", _) => {
                format!("urn:acp:agentic_checkout_webhook#/components/schemas/{name}")
            }
            ("feed", "UpsertProductsResponse") => {
                "urn:acp:oas.feed#/components/schemas/UpsertProductsResponse".to_owned()
            }
            _ => format!("urn:acp:{bundle}#/$defs/{name}"),
        }
    }

    fn inline(bundle: &str, name: &str) -> Option<Value> {
        match (bundle, name) {
            ("agentic_checkout_webhook", "OrderEventsResponse") => Some(serde_json::json!({
                "$ref": "urn:acp:agentic_checkout_webhook#/paths/~1agentic_checkout~1webhooks~1order_events/post/responses/200/content/application~1json/schema"
            })),
            ("cart", "CartCancelRequest") => Some(serde_json::json!({
                "$ref": "urn:acp:oas.cart#/paths/~1carts~1%7Bid%7D~1cancel/post/requestBody/content/application~1json/schema"
            })),
            _ => None,
        }
    }

    /// A validator for `<bundle>.<Name>` with format checking on.
    pub fn validator(&self, bundle: &str, name: &str) -> jsonschema::Validator {
        let schema = Self::inline(bundle, name)
            .unwrap_or_else(|| serde_json::json!({ "$ref": Self::reference(bundle, name) }));
        jsonschema::options()
            .with_registry(&self.registry)
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("official schema for {bundle}.{name}: {e}"))
    }
}

/// Removes the documentation keys the official example files add.
pub fn strip_doc_keys(value: &mut Value) {
    if let Value::Object(map) = value {
        for key in ["$schema", "description", "_description", "_notes"] {
            map.remove(key);
        }
    }
}

/// One official example and the type it is an instance of.
pub struct Example {
    pub id: String,
    pub type_name: &'static str,
    pub value: Value,
}

fn checkout_type(key: &str) -> Option<&'static str> {
    Some(match key {
        k if k.starts_with("create_checkout_session_request") => {
            "agentic_checkout.CheckoutSessionCreateRequest"
        }
        k if k.starts_with("update_checkout_session_request") => {
            "agentic_checkout.CheckoutSessionUpdateRequest"
        }
        k if k.starts_with("complete_") && k.ends_with("_request")
            || k.starts_with("complete_checkout_session_request") =>
        {
            "agentic_checkout.CheckoutSessionCompleteRequest"
        }
        k if k.starts_with("cancel_checkout_session_request") => {
            "agentic_checkout.CancelSessionRequest"
        }
        "complete_checkout_session_response" => "agentic_checkout.CheckoutSessionWithOrder",
        k if k.ends_with("_response") && k.contains("checkout_session") => {
            "agentic_checkout.CheckoutSession"
        }
        k if k.starts_with("checkout_session_") => "agentic_checkout.CheckoutSession",
        k if k.starts_with("webhook_") => "agentic_checkout_webhook.WebhookEvent",
        k if k.starts_with("authentication_result_") => "agentic_checkout.AuthenticationResult",
        k if k.starts_with("error_") => "agentic_checkout.Error",
        k if k.starts_with("discovery_response") => "agentic_checkout.DiscoveryResponse",
        _ => return None,
    })
}

fn example_type(file: &str, key: &str) -> &'static str {
    let found = match file {
        "examples.agentic_checkout.json" | "examples.multi_item_checkout.json" => match key {
            "create_multi_item_checkout_request" => {
                Some("agentic_checkout.CheckoutSessionCreateRequest")
            }
            "create_multi_item_checkout_response" => Some("agentic_checkout.CheckoutSession"),
            _ => checkout_type(key),
        },
        "examples.capability_negotiation.json" => Some(if key.ends_with("_request") {
            "agentic_checkout.CheckoutSessionCreateRequest"
        } else {
            "agentic_checkout.CheckoutSession"
        }),
        "examples.delegate_payment.json" => Some(match key {
            "delegate_payment_request" => "delegate_payment.DelegatePaymentRequest",
            "delegate_payment_success_response" => "delegate_payment.DelegatePaymentResponse",
            _ => "delegate_payment.Error",
        }),
        "examples.delegate_authentication.json" => Some(match key {
            k if k.starts_with("create_authentication_session_request") => {
                "delegate_authentication.DelegateAuthenticationCreateRequest"
            }
            k if k.starts_with("authenticate_request") => {
                "delegate_authentication.DelegateAuthenticationAuthenticateRequest"
            }
            k if k.starts_with("retrieve_session_response") => {
                "delegate_authentication.DelegateAuthenticationSessionWithResult"
            }
            k if k.starts_with("error_") => "delegate_authentication.Error",
            _ => "delegate_authentication.DelegateAuthenticationSession",
        }),
        "examples.feed.json" => Some(match key {
            "create_feed_request_minimal" => "feed.CreateFeedRequest",
            "create_feed_response" | "get_feed_response" => "feed.FeedMetadata",
            "get_products_response" => "feed.ProductsResponse",
            k if k.starts_with("upsert_products_request") => "feed.UpsertProductsRequest",
            "upsert_products_response" => "feed.UpsertProductsResponse",
            _ => "feed.Error",
        }),
        _ => None,
    };
    found.unwrap_or_else(|| panic!("no type mapping for {file}#{key}: add one"))
}

/// Every official example of the version, mapped to its type. MCP envelopes
/// contribute their `payload`, `result` and `error.data`.
pub fn examples(spec: &std::path::Path) -> Vec<Example> {
    examples_in(spec, VERSION)
}

/// Every official example of `version`, mapped to its type.
pub fn examples_in(spec: &std::path::Path, version: &str) -> Vec<Example> {
    let dir = spec.join("examples").join(version);
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            let mut inner: Vec<_> = std::fs::read_dir(&path)
                .unwrap()
                .filter_map(Result::ok)
                .map(|e| e.path())
                .collect();
            inner.sort();
            for file in inner {
                let fname = file.file_name().unwrap().to_string_lossy().into_owned();
                let mut doc = read_json(&file);
                strip_doc_keys(&mut doc);
                if name == "orders" {
                    out.push(Example {
                        id: format!("{name}/{fname}"),
                        type_name: "agentic_checkout.Order",
                        value: doc,
                    });
                } else if name == "discount-extension" {
                    out.push(Example {
                        id: format!("{name}/{fname}#request"),
                        type_name: "agentic_checkout.CheckoutSessionCreateRequest",
                        value: doc["request"].clone(),
                    });
                    out.push(Example {
                        id: format!("{name}/{fname}#response"),
                        type_name: "agentic_checkout.CheckoutSession",
                        value: doc["response"].clone(),
                    });
                } else {
                    panic!("unexpected example folder {name}");
                }
            }
            continue;
        }
        let doc = read_json(&path);
        let Value::Object(map) = doc else {
            panic!("{name}: not an object")
        };
        for (key, value) in map {
            if name == "examples.mcp.agentic_checkout.json" {
                let tool = value["params"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if let Some(payload) = value["params"]["arguments"].get("payload") {
                    let type_name = match tool.as_str() {
                        "create_checkout_session" => {
                            "agentic_checkout.CheckoutSessionCreateRequest"
                        }
                        "update_checkout_session" => {
                            "agentic_checkout.CheckoutSessionUpdateRequest"
                        }
                        "complete_checkout_session" => {
                            "agentic_checkout.CheckoutSessionCompleteRequest"
                        }
                        "cancel_checkout_session" => "agentic_checkout.CancelSessionRequest",
                        other => panic!("MCP tool {other}"),
                    };
                    out.push(Example {
                        id: format!("{name}#{key}.params.arguments.payload"),
                        type_name,
                        value: payload.clone(),
                    });
                }
                if let Some(result) = value.get("result") {
                    let type_name = if key.starts_with("complete_") {
                        "agentic_checkout.CheckoutSessionWithOrder"
                    } else {
                        "agentic_checkout.CheckoutSession"
                    };
                    out.push(Example {
                        id: format!("{name}#{key}.result"),
                        type_name,
                        value: result.clone(),
                    });
                }
                if let Some(data) = value.get("error").and_then(|e| e.get("data")) {
                    out.push(Example {
                        id: format!("{name}#{key}.error.data"),
                        type_name: "agentic_checkout.Error",
                        value: data.clone(),
                    });
                }
                continue;
            }
            let type_name = example_type(&name, &key);
            out.push(Example {
                id: format!("{name}#{key}"),
                type_name,
                value,
            });
        }
    }
    out
}

/// JSON equality up to the one normalization the crate applies: a date-time
/// rewritten as the same instant. URIs are kept byte for byte
/// (`primitives::Uri`), so they must come back identical.
/// Returns the path of the first difference.
pub fn equivalent(a: &Value, b: &Value, path: &str) -> Result<(), String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys()) {
                match (x.get(key), y.get(key)) {
                    (Some(v), Some(w)) => equivalent(v, w, &format!("{path}.{key}"))?,
                    _ => return Err(format!("{path}.{key}: present on one side only")),
                }
            }
            Ok(())
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                equivalent(v, w, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Value::String(x), Value::String(y)) if x != y => {
            if let (Ok(s), Ok(t)) = (
                agentic_commerce::primitives::Timestamp::parse(x),
                agentic_commerce::primitives::Timestamp::parse(y),
            ) {
                if s == t {
                    return Ok(());
                }
            }
            Err(format!("{path}: {x:?} != {y:?}"))
        }
        (Value::Number(x), Value::Number(y)) if x != y => {
            if x.as_f64() == y.as_f64() {
                Ok(())
            } else {
                Err(format!("{path}: {x} != {y}"))
            }
        }
        _ if a == b => Ok(()),
        _ => Err(format!("{path}: {a} != {b}")),
    }
}
