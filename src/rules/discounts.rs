//! The discount extension's rules that are not arithmetic (DSC-01 … DSC-04, DSC-09) and the
//! checks of extension declarations (EXT-01 … EXT-04). [`check`] runs the session rules for
//! [`crate::rules::check_session`]; the request-side helpers below are for merchants applying
//! submitted codes.
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

use super::Finding;
use crate::parse::json_path::JsonPath;
use crate::protocol::extensions::{ExtendsTarget, ExtensionId};
use crate::spec::common::Extensions;
use crate::spec::latest::agentic_checkout::{
    CheckoutSession, CheckoutSessionCreateRequest, CheckoutSessionUpdateRequest,
    DisclosureContentType, DiscountsResponse, ExtensionDeclaration, Message, MessageResolution,
    MessageWarning, RejectedDiscount, WarningCode,
};
use crate::wire::Patch;

/// Runs the checks of this module.
pub fn check(session: &CheckoutSession, out: &mut Vec<Finding>) {
    let root = JsonPath::root();
    if let Some(Extensions::Declarations(decls)) = &session.capabilities.extensions {
        out.extend(check_declarations(
            decls,
            &root.key("capabilities").key("extensions"),
        ));
    }
    let Some(discounts) = &session.discounts else {
        return;
    };
    // DSC-04 (SHOULD): each rejected code also appears as a warning message
    // about it (same code and `param`).
    for (j, expected) in rejection_warnings(discounts).iter().enumerate() {
        let present = session.messages.iter().any(|m| match m {
            Message::Warning(w) => w.code == expected.code && w.param == expected.param,
            _ => false,
        });
        if !present {
            out.push(Finding::warning(
                "DSC-04",
                root.key("discounts").key("rejected").index(j),
                format!(
                    "rejected code SHOULD also be reported as a `{}` warning message with param {}",
                    expected.code,
                    expected.param.as_deref().unwrap_or("$")
                ),
            ));
        }
    }
    // DSC-09: automatic discounts carry no code.
    for (i, applied) in discounts.applied.iter().flatten().enumerate() {
        if applied.automatic == Some(true) && applied.code.is_some() {
            out.push(Finding::warning(
                "DSC-09",
                root.key("discounts").key("applied").index(i).key("code"),
                "an automatic discount has no `code`",
            ));
        }
    }
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
    use crate::protocol::extensions::DISCOUNT_EXTENDS;
    use crate::spec::latest::agentic_checkout::DiscountErrorCode;
    use serde_json::json;

    fn session(messages: &serde_json::Value) -> CheckoutSession {
        serde_json::from_value(json!({
            "id": "cs", "status": "incomplete", "currency": "usd",
            "capabilities": {"extensions": [{"name": "discount"}, {"name": "discount"}]},
            "line_items": [], "fulfillment_options": [], "totals": [], "links": [],
            "messages": messages,
            "discounts": {"codes": ["SAVE10", "OLD"],
                "applied": [{"id": "d", "code": "AUTO", "automatic": true, "amount": 0,
                    "coupon": {"id": "c", "name": "n", "percent_off": 1}}],
                "rejected": [{"code": "old", "reason": "discount_code_expired"}]}
        }))
        .unwrap()
    }

    fn run(s: &CheckoutSession) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        check(s, &mut out);
        out.into_iter()
            .map(|f| (f.rule, f.param.to_string()))
            .collect()
    }

    #[test]
    fn dsc04_missing_warning_dsc09_automatic_code_ext01_duplicate() {
        assert_eq!(
            run(&session(&json!([]))),
            [
                ("EXT-01", "$.capabilities.extensions[1].name".to_owned()),
                ("DSC-04", "$.discounts.rejected[0]".to_owned()),
                ("DSC-09", "$.discounts.applied[0].code".to_owned()),
            ]
        );
        let with_warning = session(&json!([{"type": "warning", "code": "discount_code_expired",
            "param": "$.discounts.codes[1]", "content_type": "plain", "content": "Expired"}]));
        assert!(!run(&with_warning).iter().any(|(r, _)| *r == "DSC-04"));
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
