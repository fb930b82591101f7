//! Extension identifiers and `extends` targets (RFC extensions), and the
//! request/response rules of the discount extension (RFC
//! `discount_extension`).
//!
//! # Extension identifiers (EXT-02, EXT-09)
//!
//! [`ExtensionId::parse`] accepts exactly the two forms of the official
//! `ExtensionIdentifier` pattern: a simple lowercase name
//! (`^[a-z][a-z0-9_-]*$`, e.g. `discount`) or a reverse-DNS name
//! (`^[a-z][a-z0-9]*(\.[a-z][a-z0-9_-]*)+$`, e.g. `com.example.loyalty`), each
//! with an optional `@YYYY-MM-DD` version. A missing version means "latest
//! stable" (EXT §6.2). The date must also be a real calendar date, which the
//! schema's digit pattern does not check.
//!
//! # `extends` targets (EXT-03)
//!
//! [`ExtendsTarget::parse`] accepts `$.<SchemaName>.<field>[.<field>…]`, the
//! official `ExtendsTarget` pattern
//! `^\$\.[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9_]*)*$`.
//!
//! # Response declarations (EXT-01 … EXT-04)
//!
//! [`check_declarations`] checks a response's `capabilities.extensions`:
//! identifier names, no duplicates, `extends` targets, https `schema` URLs.
//!
//! # Discount codes (DSC-01 … DSC-04)
//!
//! - [`CodeSubmission::from_create`] / [`CodeSubmission::from_update`] read
//!   the codes a request submits: `discounts.codes` wins over the deprecated
//!   `coupons` alias when both are sent (DSC-03).
//! - [`CodeSubmission::apply`] replaces the previously submitted codes; an
//!   empty list clears them (DSC-01).
//! - [`codes_match`] / [`position_of_code`] compare codes case-insensitively
//!   (DSC-02).
//! - [`rejection_warnings`] turns `discounts.rejected` into `warning`
//!   messages whose `param` points at the rejected code, e.g.
//!   `$.discounts.codes[1]` (DSC-04).

use core::fmt;

use time::{Date, Month};

use crate::parse::json_path::JsonPath;
use crate::rules::Finding;
use crate::spec::v2026_04_17::agentic_checkout::{
    CheckoutSessionCreateRequest, CheckoutSessionUpdateRequest, DisclosureContentType,
    DiscountsResponse, ExtensionDeclaration, MessageResolution, MessageWarning, RejectedDiscount,
    WarningCode,
};
use crate::wire::Patch;

/// The identifier of the discount extension (EXT §3.6: core extensions use
/// simple names).
pub const DISCOUNT_EXTENSION: &str = "discount";

/// The fields the discount extension adds (official `core_extensions`).
pub const DISCOUNT_EXTENDS: &[&str] = &[
    "$.CheckoutSessionCreateRequest.discounts",
    "$.CheckoutSessionUpdateRequest.discounts",
    "$.CheckoutSession.discounts",
];

/// A parsed extension identifier: `name` or `name@YYYY-MM-DD` (EXT-02).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExtensionId {
    name: String,
    version: Option<Date>,
}

/// Why a string is not an extension identifier or `extends` target.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtensionError {
    /// The name part matches neither the simple nor the reverse-DNS form.
    #[error(
        "extension name {found:?} is neither a simple lowercase name ([a-z][a-z0-9_-]*) \
         nor a reverse-DNS name ([a-z][a-z0-9]*(.[a-z][a-z0-9_-]*)+)"
    )]
    InvalidName {
        /// The rejected name part.
        found: String,
    },
    /// The part after `@` is not a `YYYY-MM-DD` calendar date.
    #[error("extension version {found:?} is not a YYYY-MM-DD calendar date")]
    InvalidVersion {
        /// The rejected version part.
        found: String,
    },
    /// The `extends` entry is not `$.<SchemaName>.<field>`.
    #[error("extends target {found:?} is not of the form $.<SchemaName>.<field>")]
    InvalidExtendsTarget {
        /// The rejected target.
        found: String,
    },
}

impl ExtensionId {
    /// Parses `name` or `name@YYYY-MM-DD`.
    ///
    /// # Errors
    /// [`ExtensionError::InvalidName`] or [`ExtensionError::InvalidVersion`].
    pub fn parse(text: &str) -> Result<Self, ExtensionError> {
        let (name, version) = match text.split_once('@') {
            Some((name, version)) => (name, Some(version)),
            None => (text, None),
        };
        if !is_simple_name(name) && !is_reverse_dns_name(name) {
            return Err(ExtensionError::InvalidName {
                found: name.to_owned(),
            });
        }
        let version = match version {
            None => None,
            Some(v) => Some(parse_date(v).ok_or_else(|| ExtensionError::InvalidVersion {
                found: v.to_owned(),
            })?),
        };
        Ok(Self {
            name: name.to_owned(),
            version,
        })
    }

    /// The name without the version (`discount`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The pinned version date, or `None` for "latest stable".
    pub fn version(&self) -> Option<Date> {
        self.version
    }

    /// Whether the name is reverse-DNS, the form third-party extensions
    /// SHOULD use (EXT-09).
    pub fn is_reverse_dns(&self) -> bool {
        self.name.contains('.')
    }

    /// Whether an agent asking for `self` is served by a seller offering
    /// `offered`: same name, and the versions agree when both are pinned (an
    /// unpinned side means "latest stable", which satisfies any pin on the
    /// other side).
    pub fn is_satisfied_by(&self, offered: &Self) -> bool {
        self.name == offered.name
            && match (self.version, offered.version) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

impl fmt::Display for ExtensionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(date) = self.version {
            write!(
                f,
                "@{:04}-{:02}-{:02}",
                date.year(),
                u8::from(date.month()),
                date.day()
            )?;
        }
        Ok(())
    }
}

impl core::str::FromStr for ExtensionId {
    type Err = ExtensionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn is_simple_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
}

fn is_reverse_dns_name(name: &str) -> bool {
    let mut labels = name.split('.');
    let Some(first) = labels.next() else {
        return false;
    };
    let mut first_bytes = first.bytes();
    let first_ok = matches!(first_bytes.next(), Some(b'a'..=b'z'))
        && first_bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9'));
    let mut rest = 0usize;
    let rest_ok = labels.all(|label| {
        rest += 1;
        is_simple_name(label)
    });
    first_ok && rest_ok && rest >= 1
}

/// Parses exactly `YYYY-MM-DD` (ASCII digits) into a calendar date.
fn parse_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |range: core::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(digits(5..7)?).ok()?).ok()?;
    let day = u8::try_from(digits(8..10)?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// A parsed `extends` entry: `$.CheckoutSessionCreateRequest.discounts`
/// (EXT-03).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExtendsTarget {
    schema: String,
    fields: Vec<String>,
}

impl ExtendsTarget {
    /// Parses `$.<SchemaName>[.<field>…]` per the official pattern.
    ///
    /// # Errors
    /// [`ExtensionError::InvalidExtendsTarget`].
    pub fn parse(text: &str) -> Result<Self, ExtensionError> {
        let err = || ExtensionError::InvalidExtendsTarget {
            found: text.to_owned(),
        };
        let rest = text.strip_prefix("$.").ok_or_else(err)?;
        let mut parts = rest.split('.');
        let schema = parts.next().ok_or_else(err)?;
        if !is_segment(schema, false) {
            return Err(err());
        }
        let mut fields = Vec::new();
        for field in parts {
            if !is_segment(field, true) {
                return Err(err());
            }
            fields.push(field.to_owned());
        }
        Ok(Self {
            schema: schema.to_owned(),
            fields,
        })
    }

    /// The schema the extension adds to (`CheckoutSessionCreateRequest`).
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The field path inside that schema (`["discounts"]`).
    pub fn fields(&self) -> &[String] {
        &self.fields
    }
}

impl fmt::Display for ExtendsTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "$.{}", self.schema)?;
        for field in &self.fields {
            write!(f, ".{field}")?;
        }
        Ok(())
    }
}

fn is_segment(s: &str, underscore: bool) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || (underscore && b == b'_'))
}

/// Which request field the submitted codes came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeField {
    /// `discounts.codes` (the discount extension).
    DiscountsCodes,
    /// `coupons`, the deprecated alias (DSC-03).
    Coupons,
}

impl CodeField {
    /// The JSONPath of the `index`-th code in the request.
    pub fn path(self, index: usize) -> JsonPath {
        match self {
            Self::DiscountsCodes => JsonPath::root().key("discounts").key("codes"),
            Self::Coupons => JsonPath::root().key("coupons"),
        }
        .index(index)
    }
}

/// The discount codes a create or update request submits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeSubmission {
    /// The request says nothing about codes: keep the previous ones.
    Unchanged,
    /// Replace every previously submitted code with `codes` (DSC-01); an
    /// empty list clears them.
    Replace {
        /// The submitted codes, in request order, exactly as sent.
        codes: Vec<String>,
        /// Where they came from (for `param` paths).
        field: CodeField,
    },
}

impl CodeSubmission {
    /// The codes of a create request: `discounts.codes` if present, else
    /// `coupons` (DSC-03). A create request without either submits nothing.
    pub fn from_create(request: &CheckoutSessionCreateRequest) -> Self {
        if let Some(codes) = request.discounts.as_ref().and_then(|d| d.codes.as_ref()) {
            return Self::Replace {
                codes: codes.clone(),
                field: CodeField::DiscountsCodes,
            };
        }
        match &request.coupons {
            Some(codes) => Self::Replace {
                codes: codes.clone(),
                field: CodeField::Coupons,
            },
            None => Self::Unchanged,
        }
    }

    /// The codes of an update request. `discounts.codes` wins over
    /// `coupons` (DSC-03); a field sent as `null` clears the codes, like
    /// `[]` (IDEM-16: `null` means clear); an omitted field leaves them
    /// unchanged. `discounts: {}` (no `codes`) defers to `coupons`.
    pub fn from_update(request: &CheckoutSessionUpdateRequest) -> Self {
        match &request.discounts {
            Patch::Set(d) => {
                if let Some(codes) = &d.codes {
                    return Self::Replace {
                        codes: codes.clone(),
                        field: CodeField::DiscountsCodes,
                    };
                }
            }
            Patch::Null => {
                return Self::Replace {
                    codes: Vec::new(),
                    field: CodeField::DiscountsCodes,
                };
            }
            Patch::Absent => {}
        }
        match &request.coupons {
            Patch::Set(codes) => Self::Replace {
                codes: codes.clone(),
                field: CodeField::Coupons,
            },
            Patch::Null => Self::Replace {
                codes: Vec::new(),
                field: CodeField::Coupons,
            },
            Patch::Absent => Self::Unchanged,
        }
    }

    /// The codes in force after this submission, given the previous ones
    /// (DSC-01: replace, never merge).
    pub fn apply(&self, previous: &[String]) -> Vec<String> {
        match self {
            Self::Unchanged => previous.to_vec(),
            Self::Replace { codes, .. } => codes.clone(),
        }
    }
}

/// Whether two discount codes are the same code (DSC-02: case-insensitive,
/// by Unicode lower-casing).
pub fn codes_match(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

/// The index of `code` in `codes`, compared case-insensitively (DSC-02).
pub fn position_of_code(codes: &[String], code: &str) -> Option<usize> {
    codes.iter().position(|c| codes_match(c, code))
}

/// Indices of codes that repeat an earlier code case-insensitively
/// (`["SAVE10", "save10"]` → `[1]`), which a seller reports as
/// `discount_code_already_applied` rather than dropping silently.
pub fn duplicate_codes(codes: &[String]) -> Vec<usize> {
    (0..codes.len())
        .filter(|&i| position_of_code(&codes[..i], &codes[i]).is_some())
        .collect()
}

/// The `warning` message for one rejected code (DSC-04), with `param` at
/// `param` and the seller's `message` (or a generic text) as plain content.
pub fn rejection_warning(rejected: &RejectedDiscount, param: &JsonPath) -> MessageWarning {
    let content = rejected.message.clone().unwrap_or_else(|| {
        format!(
            "Discount code '{}' could not be applied ({}).",
            rejected.code,
            rejected.reason.as_str()
        )
    });
    // Every DiscountErrorCode value is also a WarningCode value, so the wire
    // string carries over unchanged (an unknown reason stays unknown).
    let mut warning = MessageWarning::new(
        WarningCode::from(rejected.reason.as_str()),
        DisclosureContentType::Plain,
        content,
    );
    warning.param = Some(param.to_string());
    warning.resolution = Some(MessageResolution::Recoverable);
    warning
}

/// One `warning` message per `discounts.rejected` entry (DSC-04). The
/// `param` is `$.discounts.codes[i]` where `i` is the code's position in the
/// echoed `discounts.codes` (case-insensitive), else
/// `$.discounts.rejected[j].code`, so it always resolves inside the session.
pub fn rejection_warnings(discounts: &DiscountsResponse) -> Vec<MessageWarning> {
    let codes = discounts.codes.as_deref().unwrap_or_default();
    let base = JsonPath::root().key("discounts");
    discounts
        .rejected
        .iter()
        .flatten()
        .enumerate()
        .map(|(j, rejected)| {
            let param = match position_of_code(codes, &rejected.code) {
                Some(i) => base.key("codes").index(i),
                None => base.key("rejected").index(j).key("code"),
            };
            rejection_warning(rejected, &param)
        })
        .collect()
}

/// Checks the extension declarations of a response's
/// `capabilities.extensions` (at `path`): names are extension identifiers
/// (EXT-02), listed once (EXT-01), `extends` entries are
/// `$.<SchemaName>.<field>` (EXT-03) and `schema` URLs are https (EXT-04).
/// Every finding is an error.
pub fn check_declarations(declarations: &[ExtensionDeclaration], path: &JsonPath) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, decl) in declarations.iter().enumerate() {
        let at = path.index(i);
        if let Err(e) = ExtensionId::parse(&decl.name) {
            out.push(Finding::error("EXT-02", at.key("name"), e.to_string()));
        }
        if !seen.insert(decl.name.as_str()) {
            out.push(Finding::error(
                "EXT-01",
                at.key("name"),
                format!("extension `{}` is declared more than once", decl.name),
            ));
        }
        for (j, target) in decl.extends.iter().flatten().enumerate() {
            if let Err(e) = ExtendsTarget::parse(target) {
                out.push(Finding::error(
                    "EXT-03",
                    at.key("extends").index(j),
                    e.to_string(),
                ));
            }
        }
        if let Some(schema) = &decl.schema {
            if !schema.scheme().eq_ignore_ascii_case("https") {
                out.push(Finding::error(
                    "EXT-04",
                    at.key("schema"),
                    format!("extension schema URL must use https, found `{schema}`"),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::v2026_04_17::agentic_checkout::DiscountErrorCode;
    use serde_json::json;

    #[test]
    fn ext02_simple_and_reverse_dns_identifiers_parse() {
        let id = ExtensionId::parse("discount").unwrap();
        assert_eq!((id.name(), id.version()), ("discount", None));
        assert!(!id.is_reverse_dns());
        let id = ExtensionId::parse("discount@2026-01-27").unwrap();
        assert_eq!(
            id.version(),
            Date::from_calendar_date(2026, Month::January, 27).ok()
        );
        assert_eq!(id.to_string(), "discount@2026-01-27");
        let id = ExtensionId::parse("com.example.loyalty_points@2026-02-28").unwrap();
        assert!(id.is_reverse_dns());
        assert_eq!(id.name(), "com.example.loyalty_points");
        assert!(ExtensionId::parse("my-ext_2").is_ok());
    }

    #[test]
    fn ext02_identifiers_outside_both_patterns_are_rejected() {
        for bad in [
            "",
            "Discount",
            "1discount",
            "disc ount",
            "com.",
            ".com",
            "co_m.example",
            "com..example",
            "com.Example",
            "com.1x",
            "discount@",
            "discount@2026-1-27",
            "discount@2026-02-30",
            "discount@2026-13-01",
            "discount@20260127",
            "discount@2026-01-27@2026-01-28",
        ] {
            assert!(
                ExtensionId::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        assert!(matches!(
            ExtensionId::parse("discount@2026-02-30"),
            Err(ExtensionError::InvalidVersion { .. })
        ));
    }

    #[test]
    fn ext02_unpinned_version_is_satisfied_by_any_version() {
        let p = |s| ExtensionId::parse(s).unwrap();
        assert!(p("discount").is_satisfied_by(&p("discount@2026-01-27")));
        assert!(p("discount@2026-01-27").is_satisfied_by(&p("discount")));
        assert!(p("discount@2026-01-27").is_satisfied_by(&p("discount@2026-01-27")));
        assert!(!p("discount@2026-01-27").is_satisfied_by(&p("discount@2026-04-17")));
        assert!(!p("discount").is_satisfied_by(&p("discounts")));
    }

    #[test]
    fn ext03_extends_targets() {
        for good in DISCOUNT_EXTENDS {
            let t = ExtendsTarget::parse(good).unwrap();
            assert_eq!(t.fields(), ["discounts"]);
            assert_eq!(t.to_string(), *good);
        }
        let t = ExtendsTarget::parse("$.CheckoutSession").unwrap();
        assert_eq!((t.schema(), t.fields().len()), ("CheckoutSession", 0));
        for bad in [
            "CheckoutSession.discounts",
            "$.",
            "$.1Checkout.x",
            "$.Checkout.",
            "$.Checkout..x",
            "$.Checkout.dis-counts",
            "$.Checkout_Session.x",
            "$.line_items[0]",
        ] {
            assert!(
                ExtendsTarget::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    fn create(body: &serde_json::Value) -> CheckoutSessionCreateRequest {
        let mut base = json!({"line_items":[{"id":"i"}],"currency":"usd","capabilities":{}});
        for (k, v) in body.as_object().unwrap() {
            base[k] = v.clone();
        }
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn dsc03_discounts_codes_win_over_deprecated_coupons() {
        let both = create(&json!({"coupons":["OLD"],"discounts":{"codes":["NEW"]}}));
        assert_eq!(
            CodeSubmission::from_create(&both),
            CodeSubmission::Replace {
                codes: vec!["NEW".into()],
                field: CodeField::DiscountsCodes
            }
        );
        let alias = create(&json!({"coupons":["OLD"]}));
        assert_eq!(
            CodeSubmission::from_create(&alias),
            CodeSubmission::Replace {
                codes: vec!["OLD".into()],
                field: CodeField::Coupons
            }
        );
        assert_eq!(CodeField::Coupons.path(0).to_string(), "$.coupons[0]");
        assert_eq!(
            CodeSubmission::from_create(&create(&json!({}))),
            CodeSubmission::Unchanged
        );
    }

    #[test]
    fn dsc01_update_replaces_clears_or_keeps_codes() {
        let prev = vec!["A".to_owned(), "B".to_owned()];
        let upd = |v: serde_json::Value| -> CheckoutSessionUpdateRequest {
            serde_json::from_value(v).unwrap()
        };
        let replace = CodeSubmission::from_update(&upd(json!({"discounts":{"codes":["C"]}})));
        assert_eq!(replace.apply(&prev), ["C"]);
        let clear = CodeSubmission::from_update(&upd(json!({"discounts":{"codes":[]}})));
        assert!(clear.apply(&prev).is_empty());
        let null = CodeSubmission::from_update(&upd(json!({"discounts":null})));
        assert!(null.apply(&prev).is_empty());
        let keep = CodeSubmission::from_update(&upd(json!({"order_notes":"x"})));
        assert_eq!(keep.apply(&prev), prev);
        let both =
            CodeSubmission::from_update(&upd(json!({"coupons":["X"],"discounts":{"codes":["Y"]}})));
        assert_eq!(both.apply(&prev), ["Y"]);
        let empty_discounts =
            CodeSubmission::from_update(&upd(json!({"coupons":["X"],"discounts":{}})));
        assert_eq!(empty_discounts.apply(&prev), ["X"]);
    }

    #[test]
    fn dsc02_codes_match_case_insensitively() {
        assert!(codes_match("SAVE10", "save10"));
        assert!(codes_match("Ünï", "üNÏ"));
        assert!(!codes_match("SAVE10", "SAVE1"));
        let codes = vec![
            "SAVE10".to_owned(),
            "Summer20".to_owned(),
            "summer20".to_owned(),
        ];
        assert_eq!(position_of_code(&codes, "SUMMER20"), Some(1));
        assert_eq!(position_of_code(&codes, "nope"), None);
        assert_eq!(duplicate_codes(&codes), [2]);
    }

    #[test]
    fn dsc04_rejections_become_warnings_pointing_at_the_code() {
        let discounts: DiscountsResponse = serde_json::from_value(json!({
            "codes": ["SAVE10", "EXPIRED50"],
            "rejected": [
                {"code": "expired50", "reason": "discount_code_expired", "message": "Expired."},
                {"code": "GHOST", "reason": "discount_code_invalid"}
            ]
        }))
        .unwrap();
        let warnings = rejection_warnings(&discounts);
        assert_eq!(warnings.len(), 2);
        assert_eq!(warnings[0].code, WarningCode::DiscountCodeExpired);
        assert_eq!(warnings[0].param.as_deref(), Some("$.discounts.codes[1]"));
        assert_eq!(warnings[0].content, "Expired.");
        assert_eq!(warnings[1].code, WarningCode::DiscountCodeInvalid);
        assert_eq!(
            warnings[1].param.as_deref(),
            Some("$.discounts.rejected[1].code")
        );
        assert!(warnings[1].content.contains("GHOST"));
        let value = serde_json::to_value(&warnings[0]).unwrap();
        assert_eq!(value["type"], "warning");
        assert_eq!(value["resolution"], "recoverable");
    }

    #[test]
    fn ext01_to_ext04_declaration_checks() {
        let decls: Vec<ExtensionDeclaration> = serde_json::from_value(json!([
            {"name": "discount", "extends": DISCOUNT_EXTENDS,
             "schema": "https://agenticcommerce.dev/schemas/discount.json"},
            {"name": "discount"},
            {"name": "Loyalty", "extends": ["CheckoutSession.loyalty"],
             "schema": "http://x.example/l.json"}
        ]))
        .unwrap();
        let base = JsonPath::root().key("capabilities").key("extensions");
        let got: Vec<_> = check_declarations(&decls, &base)
            .into_iter()
            .map(|f| (f.rule, f.param.to_string()))
            .collect();
        assert_eq!(
            got,
            [
                ("EXT-01", "$.capabilities.extensions[1].name".to_owned()),
                ("EXT-02", "$.capabilities.extensions[2].name".to_owned()),
                (
                    "EXT-03",
                    "$.capabilities.extensions[2].extends[0]".to_owned()
                ),
                ("EXT-04", "$.capabilities.extensions[2].schema".to_owned()),
            ]
        );
        assert!(check_declarations(&decls[..1], &base).is_empty());
    }

    #[test]
    fn dsc04_unknown_reason_is_kept_as_the_warning_code() {
        let rejected = RejectedDiscount::new("X", DiscountErrorCode::from("future_reason"));
        let w = rejection_warning(&rejected, &JsonPath::root().key("discounts"));
        assert_eq!(w.code.as_str(), "future_reason");
    }
}
