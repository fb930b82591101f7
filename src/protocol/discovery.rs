//! The discovery document served at `/.well-known/acp.json` (RFC
//! discovery): validation of a [`DiscoveryResponse`] and a builder that
//! produces a valid one.
//!
//! [`validate`] reports every rule a document breaks as a [`Finding`] (all
//! error severity: each is a MUST or a schema constraint):
//!
//! | rule | check |
//! |---|---|
//! | DIS-04 | `protocol.name` is `acp`; `protocol.version` is a `YYYY-MM-DD` date |
//! | DIS-05 | `supported_versions` non-empty, each `YYYY-MM-DD`, unique, strictly oldest first, last = `version` |
//! | DIS-06 | `transports` includes `rest` |
//! | DIS-10 | `transports`, `services`, `intervention_types` have no duplicates (schema `uniqueItems`) |
//! | DIS-03 | `supported_currencies` are lowercase three-letter codes (schema `^[a-z]{3}$`) |
//! | DIS-07 | no merchant ids, handler/PSP configuration, tokens or keys anywhere (member names checked at every depth, including unknown fields) |
//! | HDR-06 | `api_base_url` is `https` |
//! | EXT-02 / EXT-04 | extension names are extension identifiers; their `schema`/`spec` URLs are `https` |
//!
//! Serving concerns (DIS-01 path and content type, DIS-02 no auth, DIS-08
//! caching, DIS-09 status codes) belong to the integrator's HTTP layer.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::parse::json_path::JsonPath;
use crate::primitives::Uri;
use crate::protocol::extensions::ExtensionId;
use crate::protocol::finding::Finding;
use crate::protocol::version::ApiVersion;
use crate::spec::latest::agentic_checkout::{
    DiscoveryCapabilities, DiscoveryExtension, DiscoveryProtocol, DiscoveryResponse,
    DiscoveryService, InterventionType, Transport,
};

/// The well-known path of the discovery document (DIS-01).
pub const WELL_KNOWN_PATH: &str = "/.well-known/acp.json";

/// Member names that reveal merchant identity, payment configuration or
/// secrets (DIS-07). Compared after lower-casing; any name containing
/// `merchant_id` also matches.
const FORBIDDEN_KEYS: &[&str] = &[
    "access_token",
    "api_key",
    "config",
    "credential",
    "credentials",
    "handlers",
    "merchant_id",
    "payment_handlers",
    "private_key",
    "psp",
    "secret",
    "token",
];

fn error(rule: &'static str, param: JsonPath, message: String) -> Finding {
    Finding::error(rule, param, message)
}

/// Whether `url` is `http` on a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`).
fn is_loopback_http(url: &Uri) -> bool {
    let Ok(url) = url::Url::parse(url.as_str()) else {
        return false;
    };
    url.scheme().eq_ignore_ascii_case("http")
        && match url.host() {
            Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
}

/// Checks a discovery document against the discovery rules (see the module
/// docs). An empty result means the document is valid.
pub fn validate(doc: &DiscoveryResponse) -> Vec<Finding> {
    let mut out = Vec::new();
    let root = JsonPath::root();
    check_protocol(&doc.protocol, &root.key("protocol"), &mut out);

    if !doc.api_base_url.scheme().eq_ignore_ascii_case("https") {
        let message = format!(
            "api_base_url must use https, found `{}`",
            doc.api_base_url.scheme()
        );
        // Plain http on loopback is a local development server, not a deployment: reported,
        // but not an error.
        if is_loopback_http(&doc.api_base_url) {
            out.push(Finding::warning(
                "HDR-06",
                root.key("api_base_url"),
                format!("{message} (allowed on loopback for development only)"),
            ));
        } else {
            out.push(error("HDR-06", root.key("api_base_url"), message));
        }
    }

    let transports = root.key("transports");
    if !doc.transports.contains(&Transport::Rest) {
        out.push(error(
            "DIS-06",
            transports.clone(),
            "transports must include \"rest\"".to_owned(),
        ));
    }
    check_unique(
        doc.transports.iter().map(Transport::as_str),
        &transports,
        &mut out,
    );

    let caps = root.key("capabilities");
    check_unique(
        doc.capabilities
            .services
            .iter()
            .map(DiscoveryService::as_str),
        &caps.key("services"),
        &mut out,
    );
    if let Some(types) = &doc.capabilities.intervention_types {
        check_unique(
            types.iter().map(InterventionType::as_str),
            &caps.key("intervention_types"),
            &mut out,
        );
    }
    for (i, currency) in doc
        .capabilities
        .supported_currencies
        .iter()
        .flatten()
        .enumerate()
    {
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
            out.push(error(
                "DIS-03",
                caps.key("supported_currencies").index(i),
                format!("currency {currency:?} must be a lowercase ISO 4217 code (^[a-z]{{3}}$)"),
            ));
        }
    }
    for (i, ext) in doc.capabilities.extensions.iter().flatten().enumerate() {
        check_extension(ext, &caps.key("extensions").index(i), &mut out);
    }

    // DIS-07: walk the serialized document so unknown fields kept in
    // `extra` are covered as well as modelled ones.
    match serde_json::to_value(doc) {
        Ok(value) => check_forbidden_keys(&value, &root, &mut out),
        Err(e) => out.push(error(
            "DIS-07",
            root,
            format!("the document could not be serialized for inspection: {e}"),
        )),
    }
    out
}

fn check_protocol(protocol: &DiscoveryProtocol, path: &JsonPath, out: &mut Vec<Finding>) {
    if protocol.name != "acp" {
        out.push(error(
            "DIS-04",
            path.key("name"),
            format!("protocol.name must be \"acp\", found {:?}", protocol.name),
        ));
    }
    let version = protocol.version.parse::<ApiVersion>().ok();
    if version.is_none() {
        out.push(error(
            "DIS-04",
            path.key("version"),
            format!(
                "protocol.version {:?} is not a YYYY-MM-DD date",
                protocol.version
            ),
        ));
    }
    let list = path.key("supported_versions");
    if protocol.supported_versions.is_empty() {
        out.push(error(
            "DIS-05",
            list,
            "supported_versions must not be empty".to_owned(),
        ));
        return;
    }
    let mut previous: Option<ApiVersion> = None;
    for (i, text) in protocol.supported_versions.iter().enumerate() {
        let Ok(v) = text.parse::<ApiVersion>() else {
            out.push(error(
                "DIS-05",
                list.index(i),
                format!("supported version {text:?} is not a YYYY-MM-DD date"),
            ));
            continue;
        };
        if let Some(prev) = &previous {
            if v == *prev {
                out.push(error(
                    "DIS-05",
                    list.index(i),
                    format!("supported version {text} is listed twice"),
                ));
            } else if v < *prev {
                out.push(error(
                    "DIS-05",
                    list.index(i),
                    format!("supported_versions must be oldest first: {text} follows {prev}"),
                ));
            }
        }
        previous = Some(v);
    }
    let last_index = protocol.supported_versions.len() - 1;
    if protocol.supported_versions.get(last_index) != Some(&protocol.version) {
        out.push(error(
            "DIS-05",
            list.index(last_index),
            format!(
                "the last supported version must be protocol.version ({})",
                protocol.version
            ),
        ));
    }
}

fn check_extension(ext: &DiscoveryExtension, path: &JsonPath, out: &mut Vec<Finding>) {
    if let Err(e) = ExtensionId::parse(&ext.name) {
        out.push(error("EXT-02", path.key("name"), e.to_string()));
    }
    for (field, url) in [("schema", &ext.schema), ("spec", &ext.spec)] {
        if let Some(url) = url {
            if !url.scheme().eq_ignore_ascii_case("https") {
                out.push(error(
                    "EXT-04",
                    path.key(field),
                    format!("extension {field} URL must use https, found `{url}`"),
                ));
            }
        }
    }
}

fn check_unique<'a>(
    values: impl Iterator<Item = &'a str>,
    path: &JsonPath,
    out: &mut Vec<Finding>,
) {
    let mut seen = BTreeSet::new();
    for (i, v) in values.enumerate() {
        if !seen.insert(v) {
            out.push(error(
                "DIS-10",
                path.index(i),
                format!("{v:?} is listed more than once"),
            ));
        }
    }
}

fn check_forbidden_keys(value: &Value, path: &JsonPath, out: &mut Vec<Finding>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let lower = key.to_lowercase();
                if lower.contains("merchant_id") || FORBIDDEN_KEYS.contains(&lower.as_str()) {
                    out.push(error(
                        "DIS-07",
                        path.key(key),
                        format!(
                            "the discovery document must not expose merchant ids, payment \
                             handler configuration, tokens or keys (member `{key}`)"
                        ),
                    ));
                }
                check_forbidden_keys(child, &path.key(key), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                check_forbidden_keys(child, &path.index(i), out);
            }
        }
        _ => {}
    }
}

/// Builds a discovery document that passes [`validate`].
///
/// Versions are sorted oldest first and deduplicated; the newest becomes
/// `protocol.version` (DIS-05). `rest` is always a transport (DIS-06).
#[derive(Clone, Debug)]
pub struct DiscoveryBuilder {
    api_base_url: url::Url,
    versions: Vec<ApiVersion>,
    mcp: bool,
    services: Vec<DiscoveryService>,
    extensions: Vec<DiscoveryExtension>,
    intervention_types: Vec<InterventionType>,
    currencies: Vec<String>,
    locales: Vec<String>,
    documentation_url: Option<url::Url>,
}

impl DiscoveryBuilder {
    /// Starts a document for `api_base_url` supporting `versions`.
    pub fn new(api_base_url: url::Url, versions: &[ApiVersion]) -> Self {
        Self {
            api_base_url,
            versions: versions.to_vec(),
            mcp: false,
            services: Vec::new(),
            extensions: Vec::new(),
            intervention_types: Vec::new(),
            currencies: Vec::new(),
            locales: Vec::new(),
            documentation_url: None,
        }
    }

    /// Also offers the MCP transport.
    #[must_use]
    pub fn mcp(mut self, enabled: bool) -> Self {
        self.mcp = enabled;
        self
    }

    /// Offers a service (added once, in call order).
    #[must_use]
    pub fn service(mut self, service: DiscoveryService) -> Self {
        if !self.services.contains(&service) {
            self.services.push(service);
        }
        self
    }

    /// Advertises an extension (public metadata only: name, spec, schema).
    #[must_use]
    pub fn extension(mut self, extension: DiscoveryExtension) -> Self {
        self.extensions.push(extension);
        self
    }

    /// Advertises an intervention type (added once).
    #[must_use]
    pub fn intervention_type(mut self, kind: InterventionType) -> Self {
        if !self.intervention_types.contains(&kind) {
            self.intervention_types.push(kind);
        }
        self
    }

    /// Advertises a currency; it is written in lower case.
    #[must_use]
    pub fn currency(mut self, code: &crate::primitives::Currency) -> Self {
        let code = code.to_lowercase().as_str().to_owned();
        if !self.currencies.contains(&code) {
            self.currencies.push(code);
        }
        self
    }

    /// Advertises a locale (BCP 47, e.g. `en-US`).
    #[must_use]
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.locales.push(locale.into());
        self
    }

    /// Sets `protocol.documentation_url`.
    #[must_use]
    pub fn documentation_url(mut self, url: url::Url) -> Self {
        self.documentation_url = Some(url);
        self
    }

    /// Builds and validates the document.
    ///
    /// # Errors
    /// The findings of [`validate`] when the inputs make an invalid document
    /// (no version, no service, an `http` base URL other than loopback, a bad extension
    /// name…); warnings do not fail the build.
    pub fn build(self) -> Result<DiscoveryResponse, Vec<Finding>> {
        let mut versions = self.versions;
        versions.sort();
        versions.dedup();
        let mut pre = Vec::new();
        if self.services.is_empty() {
            pre.push(error(
                "DIS-03",
                JsonPath::root().key("capabilities").key("services"),
                "at least one service must be offered".to_owned(),
            ));
        }
        let version = versions
            .last()
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        let mut protocol = DiscoveryProtocol::new(
            "acp",
            version,
            versions.iter().map(|v| v.as_str().to_owned()).collect(),
        );
        protocol.documentation_url = self.documentation_url.map(Uri::from);
        let mut transports = vec![Transport::Rest];
        if self.mcp {
            transports.push(Transport::Mcp);
        }
        let mut caps = DiscoveryCapabilities::new(self.services);
        caps.extensions = (!self.extensions.is_empty()).then_some(self.extensions);
        caps.intervention_types =
            (!self.intervention_types.is_empty()).then_some(self.intervention_types);
        caps.supported_currencies = (!self.currencies.is_empty()).then_some(self.currencies);
        caps.supported_locales = (!self.locales.is_empty()).then_some(self.locales);
        let doc = DiscoveryResponse::new(protocol, Uri::from(self.api_base_url), transports, caps);
        pre.extend(validate(&doc).into_iter().filter(Finding::is_error));
        if pre.is_empty() { Ok(doc) } else { Err(pre) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> DiscoveryResponse {
        serde_json::from_value(v).unwrap()
    }

    fn minimal() -> Value {
        json!({
            "protocol": {"name": "acp", "version": "2026-04-17",
                         "supported_versions": ["2026-01-30", "2026-04-17"]},
            "api_base_url": "https://merchant.example.com/api",
            "transports": ["rest"],
            "capabilities": {"services": ["checkout"]}
        })
    }

    fn rules(v: Value) -> Vec<&'static str> {
        validate(&doc(v)).into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn minimal_document_is_valid() {
        assert_eq!(validate(&doc(minimal())), []);
    }

    #[test]
    fn dis04_name_and_version() {
        let mut v = minimal();
        v["protocol"]["name"] = json!("ACP");
        assert_eq!(rules(v), ["DIS-04"]);
        let mut v = minimal();
        v["protocol"]["version"] = json!("latest");
        // Also no longer the last supported version.
        assert_eq!(rules(v), ["DIS-04", "DIS-05"]);
    }

    #[test]
    fn dis05_supported_versions_rules() {
        let mut v = minimal();
        v["protocol"]["supported_versions"] = json!([]);
        assert_eq!(rules(v), ["DIS-05"]);
        let mut v = minimal();
        v["protocol"]["supported_versions"] = json!(["2026-04-17", "2026-01-30"]);
        let f = validate(&doc(v));
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f.iter().all(|f| f.rule == "DIS-05"));
        assert_eq!(f[0].param.to_string(), "$.protocol.supported_versions[1]");
        let mut v = minimal();
        v["protocol"]["supported_versions"] = json!(["2026-01-30", "2026-04-17", "2026-04-17"]);
        assert_eq!(rules(v), ["DIS-05"]);
        let mut v = minimal();
        v["protocol"]["supported_versions"] = json!(["2026-01-30", "2026-4-17", "2026-04-17"]);
        assert_eq!(rules(v), ["DIS-05"]);
        let mut v = minimal();
        v["protocol"]["supported_versions"] = json!(["2026-01-30"]);
        assert_eq!(rules(v), ["DIS-05"]);
    }

    #[test]
    fn dis06_rest_required_and_dis10_unique() {
        let mut v = minimal();
        v["transports"] = json!(["mcp"]);
        assert_eq!(rules(v), ["DIS-06"]);
        let mut v = minimal();
        v["transports"] = json!(["rest", "rest"]);
        assert_eq!(rules(v), ["DIS-10"]);
        let mut v = minimal();
        v["capabilities"]["services"] = json!(["checkout", "orders", "checkout"]);
        let f = validate(&doc(v));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].param.to_string(), "$.capabilities.services[2]");
        let mut v = minimal();
        v["capabilities"]["intervention_types"] = json!(["3ds", "3ds"]);
        assert_eq!(rules(v), ["DIS-10"]);
    }

    #[test]
    fn dis03_currencies_lowercase() {
        let mut v = minimal();
        v["capabilities"]["supported_currencies"] = json!(["usd", "EUR", "gbpx"]);
        let f = validate(&doc(v));
        let params: Vec<_> = f.iter().map(|f| f.param.to_string()).collect();
        assert_eq!(
            params,
            [
                "$.capabilities.supported_currencies[1]",
                "$.capabilities.supported_currencies[2]"
            ]
        );
    }

    #[test]
    fn dis07_no_merchant_or_handler_details_even_in_unknown_fields() {
        let mut v = minimal();
        v["capabilities"]["payment_handlers"] = json!([{"psp": "stripe"}]);
        v["merchant"] = json!({"stripe_merchant_id": "acct_1"});
        let f = validate(&doc(v));
        let params: Vec<_> = f.iter().map(|f| (f.rule, f.param.to_string())).collect();
        assert_eq!(
            params,
            [
                ("DIS-07", "$.capabilities.payment_handlers".to_owned()),
                (
                    "DIS-07",
                    "$.capabilities.payment_handlers[0].psp".to_owned()
                ),
                ("DIS-07", "$.merchant.stripe_merchant_id".to_owned()),
            ]
        );
    }

    #[test]
    fn hdr06_https_and_ext04_extension_urls() {
        let mut v = minimal();
        v["api_base_url"] = json!("http://merchant.example.com/api");
        assert_eq!(rules(v), ["HDR-06"]);
        let mut v = minimal();
        v["capabilities"]["extensions"] = json!([
            {"name": "discount", "schema": "http://x.example/d.json"},
            {"name": "Bad Name"}
        ]);
        assert_eq!(rules(v), ["EXT-04", "EXT-02"]);
    }

    #[test]
    fn builder_produces_a_valid_sorted_document() {
        let doc = DiscoveryBuilder::new(
            url::Url::parse("https://shop.example/api").unwrap(),
            &[
                ApiVersion::V2026_01_30,
                ApiVersion::V2025_09_29,
                ApiVersion::V2026_01_30,
            ],
        )
        .mcp(true)
        .service(DiscoveryService::Checkout)
        .service(DiscoveryService::Orders)
        .service(DiscoveryService::Checkout)
        .intervention_type(InterventionType::V3ds)
        .currency(&crate::primitives::Currency::new("USD").unwrap())
        .extension(DiscoveryExtension::new("discount"))
        .build()
        .unwrap();
        let v = serde_json::to_value(&doc).unwrap();
        assert_eq!(v["protocol"]["version"], "2026-01-30");
        assert_eq!(
            v["protocol"]["supported_versions"],
            json!(["2025-09-29", "2026-01-30"])
        );
        assert_eq!(v["transports"], json!(["rest", "mcp"]));
        assert_eq!(v["capabilities"]["services"], json!(["checkout", "orders"]));
        assert_eq!(v["capabilities"]["supported_currencies"], json!(["usd"]));
        assert_eq!(validate(&doc), []);
    }

    #[test]
    fn builder_rejects_what_validation_rejects() {
        let url = url::Url::parse("http://shop.example/api").unwrap();
        let err = DiscoveryBuilder::new(url, &[]).build().unwrap_err();
        let rules: Vec<_> = err.iter().map(|f| f.rule).collect();
        assert_eq!(rules, ["DIS-03", "DIS-04", "DIS-05", "HDR-06"]);
    }

    #[test]
    fn hdr06_plain_http_is_a_warning_on_loopback_only() {
        for base in [
            "http://127.0.0.1:8080/",
            "http://localhost/",
            "http://[::1]:9/",
        ] {
            let doc =
                DiscoveryBuilder::new(url::Url::parse(base).unwrap(), &[ApiVersion::V2026_04_17])
                    .service(DiscoveryService::Checkout)
                    .build()
                    .unwrap_or_else(|e| panic!("{base}: {e:?}"));
            let findings = validate(&doc);
            assert_eq!(findings.len(), 1, "{base}");
            assert!(!findings[0].is_error(), "{base}");
        }
        for base in ["http://10.0.0.1/", "http://localhost.example/"] {
            let built =
                DiscoveryBuilder::new(url::Url::parse(base).unwrap(), &[ApiVersion::V2026_04_17])
                    .service(DiscoveryService::Checkout)
                    .build();
            assert!(built.is_err(), "{base}");
        }
    }
}
