//! The rules catalog: every rule ID that the crate's checks report ([`Finding::rule`],
//! [`crate::trust::allowance`] violations), with its requirement level, text and spec source.
//!
//! [`RULES`] is the single table; `RULES.md` at the crate root is rendered from it by
//! [`markdown`] (and a test keeps the two equal), and it is shown here in full.
//! IDs such as `CHK-06` are those of the ACP normative requirements list, one per rule
//! paraphrased from the ACP RFCs and schemas; `ARITH-*` and `CUR-*` are IDs of this crate
//! (its own advisory or stricter checks, which the requirements list has no entry for).
//!
//! [`Finding::rule`]: crate::protocol::finding::Finding::rule
//!
#![doc = include_str!("../../RULES.md")]

use core::fmt;

/// How binding a rule is, as the ACP sources state it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// RFC 2119 MUST.
    Must,
    /// RFC 2119 MUST NOT.
    MustNot,
    /// RFC 2119 SHOULD.
    Should,
    /// RFC 2119 SHOULD NOT.
    ShouldNot,
    /// RFC 2119 MAY.
    May,
    /// Encoded only as a JSON Schema or OpenAPI constraint.
    Schema,
    /// Stated only in a schema or OpenAPI `description`.
    Desc,
    /// Stated in RFC prose, tables or checklists without an RFC 2119 keyword.
    Implied,
    /// A check of this crate that the ACP sources do not state as such.
    Crate,
}

impl Level {
    /// `MUST`, `MUST NOT`, `SHOULD`, `SHOULD NOT`, `MAY`, `SCHEMA`, `DESC`, `IMPLIED` or
    /// `CRATE`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Must => "MUST",
            Self::MustNot => "MUST NOT",
            Self::Should => "SHOULD",
            Self::ShouldNot => "SHOULD NOT",
            Self::May => "MAY",
            Self::Schema => "SCHEMA",
            Self::Desc => "DESC",
            Self::Implied => "IMPLIED",
            Self::Crate => "CRATE",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The rule ID a [`Finding`](crate::protocol::finding::Finding) carries, e.g. `CHK-06`.
    pub id: &'static str,
    /// How binding the rule is.
    pub level: Level,
    /// The requirement, paraphrased (Markdown).
    pub text: &'static str,
    /// Where the ACP sources state it (abbreviations in [`SOURCES`]), or `this crate`.
    pub source: &'static str,
}

/// The abbreviations of [`Rule::source`]: the ACP documents the rules come from.
pub const SOURCES: &[(&str, &str)] = &[
    ("AC", "rfc.agentic_checkout.md"),
    ("DP", "rfc.delegate_payment.md"),
    ("EXT", "rfc.extensions.md"),
    ("DSC", "rfc.discount_extension.md"),
    ("PH", "rfc.payment_handlers.md"),
    ("SB", "rfc.seller_backed_payment_handler.md"),
    ("DIS", "rfc.discovery.md"),
    ("DA", "rfc.delegate_authentication.md"),
    ("ORD", "rfc.orders.md"),
    ("FEED", "rfc.product_feeds.md"),
    ("JS", "the JSON Schemas of `spec/2026-04-17/json-schema/`"),
];

/// Every rule ID the crate reports, sorted by ID.
pub static RULES: &[Rule] = &[
    Rule {
        id: "ARITH-09",
        level: Level::Crate,
        text: "Line-item arithmetic: base = unit amount × quantity, subtotal = base − discount, total = subtotal + tax (advisory: official examples disagree)",
        source: "this crate (advisory arithmetic)",
    },
    Rule {
        id: "ARITH-10",
        level: Level::Crate,
        text: "Session arithmetic: `total` = subtotal + fulfillment + tax + fee + `gift_wrap` + tip − discount − `store_credit` (advisory)",
        source: "this crate (advisory arithmetic)",
    },
    Rule {
        id: "CHK-06",
        level: Level::Must,
        text: "Each `selected_fulfillment_options[].option_id` matches an id in `fulfillment_options`",
        source: "AC §8",
    },
    Rule {
        id: "CHK-07",
        level: Level::Should,
        text: "At least one Total with `type: total` when calculable",
        source: "AC §8",
    },
    Rule {
        id: "CHK-08",
        level: Level::Should,
        text: "`currency` is ISO 4217, lowercase recommended",
        source: "AC §8",
    },
    Rule {
        id: "CHK-09",
        level: Level::Should,
        text: "`messages[].param` and `Error.param` are RFC 9535 JSONPath",
        source: "AC §3.1, §8",
    },
    Rule {
        id: "CHK-11",
        level: Level::Must,
        text: "Successful complete response has `status: completed` and `order{id, checkout_session_id, permalink_url}` (validates as `CheckoutSessionWithOrder`)",
        source: "AC §4.4; JS",
    },
    Rule {
        id: "CHK-13",
        level: Level::Must,
        text: "A session in `authentication_required` includes `authentication_metadata`",
        source: "AC §8",
    },
    Rule {
        id: "CHK-21",
        level: Level::Must,
        text: "If the chosen handler has `requires_delegate_payment: true`, the agent has obtained a delegated token before complete; `payment_data.handler_id` references a handler declared in `capabilities.payment.handlers`",
        source: "PH §6.1, §5.2; SB §4.3",
    },
    Rule {
        id: "CUR-01",
        level: Level::Crate,
        text: "Coupon and order-adjustment currencies equal the session currency (one currency per session)",
        source: "this crate",
    },
    Rule {
        id: "DIS-03",
        level: Level::Must,
        text: "Document has `protocol`, `api_base_url`, `transports`, `capabilities` (with `services`)",
        source: "DIS §4.2, §10",
    },
    Rule {
        id: "DIS-04",
        level: Level::Must,
        text: "`protocol.name` = \"acp\"; `protocol.version` is `YYYY-MM-DD`",
        source: "DIS §10",
    },
    Rule {
        id: "DIS-05",
        level: Level::Must,
        text: "`supported_versions` non-empty, chronological (oldest first); last element = latest (= `version`)",
        source: "DIS §4.2, §10",
    },
    Rule {
        id: "DIS-06",
        level: Level::Must,
        text: "`transports` includes \"rest\"",
        source: "DIS §10",
    },
    Rule {
        id: "DIS-07",
        level: Level::MustNot,
        text: "Document contains merchant ids/config, handler/PSP details, buyer data, tokens or keys",
        source: "DIS §2.2, §7.1, §7.4",
    },
    Rule {
        id: "DIS-10",
        level: Level::Implied,
        text: "`services`, `transports`, `intervention_types` enums are closed per API version",
        source: "DIS §4.2",
    },
    Rule {
        id: "DP-03",
        level: Level::Must,
        text: "Token is usable only within its allowance (reason, `max_amount`, currency, expiry): charge ≤ `max_amount`, same currency",
        source: "DP §2.5, §9",
    },
    Rule {
        id: "DP-04",
        level: Level::Must,
        text: "Token becomes invalid at or after `allowance.expires_at` (valid iff now < `expires_at`)",
        source: "DP §2.5",
    },
    Rule {
        id: "DP-05",
        level: Level::Must,
        text: "`allowance.reason` is `one_time`",
        source: "DP §3.5; JS Allowance",
    },
    Rule {
        id: "DP-09",
        level: Level::Implied,
        text: "`allowance.checkout_session_id` present; token bound to that session (reject use on another session)",
        source: "DP §3.5; PH §6.2",
    },
    Rule {
        id: "DP-10",
        level: Level::Implied,
        text: "`allowance.merchant_id` ≤256 chars, copied from handler `config.merchant_id`; token scoped to that merchant",
        source: "DP §3.5; PH §6.3",
    },
    Rule {
        id: "DP-11",
        level: Level::Implied,
        text: "`one_time` tokens are single-use and checkout-bound (consume once; reject reuse)",
        source: "PH §7.1 key properties; DP §3.5",
    },
    Rule {
        id: "DP-12",
        level: Level::Must,
        text: "Exactly one credential type: `payment_method.type` = `card`",
        source: "DP §3.2, §7, §9",
    },
    Rule {
        id: "DP-13",
        level: Level::Must,
        text: "`card_number_type` ∈ `fpan|network_token`; `number` present; `virtual` boolean present (RFC; schema optional)",
        source: "DP §3.3, §7",
    },
    Rule {
        id: "DP-14",
        level: Level::Implied,
        text: "When present: `exp_month` ≤2 chars and \"01\"–\"12\"; `exp_year` ≤4 chars, four digits; `cvc` ≤4; `iin` ≤8",
        source: "DP §7",
    },
    Rule {
        id: "DP-15",
        level: Level::Implied,
        text: "`display_card_funding_type` ∈ credit|debit|prepaid; `display_last4` is 4 digits (schema)",
        source: "DP §3.3, §7; JS",
    },
    Rule {
        id: "DP-16",
        level: Level::Schema,
        text: "`metadata` (map string→string) required on request and on `payment_method`",
        source: "DP §3.2, §3.3, §3.7",
    },
    Rule {
        id: "DP-17",
        level: Level::Must,
        text: "Risk signals: `type` = `card_testing`, integer `score`, `action` ∈ `blocked|manual_review|authorized`; RFC requires ≥1 item (schema allows 0 since 2026-04-17)",
        source: "DP §3.6, §7",
    },
    Rule {
        id: "DP-18",
        level: Level::Schema,
        text: "`billing_address`: name ≤256, `line_one`/`line_two`/`city` ≤60, country 2 chars (ISO 3166-1 alpha-2), `postal_code` ≤20",
        source: "DP §3.4; JS",
    },
    Rule {
        id: "DSC-04",
        level: Level::Should,
        text: "Rejected codes appear in `discounts.rejected` and as `messages[]` of type `warning` with `param` JSONPath to the code",
        source: "DSC §6.2, §7, §7.2",
    },
    Rule {
        id: "DSC-05",
        level: Level::Implied,
        text: "Σ `allocations[].amount` == `applied_discount.amount`",
        source: "DSC §5.3; JS AppliedDiscount.allocations",
    },
    Rule {
        id: "DSC-06",
        level: Level::Implied,
        text: "`totals[items_discount].amount` == Σ line-item discounts; line-allocated → `items_discount`, otherwise → `discount`",
        source: "DSC §8.1, §8.2",
    },
    Rule {
        id: "DSC-07",
        level: Level::Implied,
        text: "Discount amounts are non-negative integers, displayed subtractively",
        source: "DSC §8.2; JS minimum 0",
    },
    Rule {
        id: "DSC-08",
        level: Level::Implied,
        text: "Coupon: `percent_off` XOR `amount_off`; `currency` required when `amount_off` set",
        source: "DSC §4.3; JS Coupon",
    },
    Rule {
        id: "DSC-09",
        level: Level::Implied,
        text: "`code` omitted for automatic discounts; `automatic` defaults false",
        source: "DSC §4.2",
    },
    Rule {
        id: "EXT-01",
        level: Level::Schema,
        text: "Request `capabilities.extensions` = unique identifier strings; response = unique `{name, extends?, schema?, spec?}` objects (note: `[]` fails the oneOf)",
        source: "EXT §3.1–3.3; JS Capabilities",
    },
    Rule {
        id: "EXT-02",
        level: Level::Implied,
        text: "Identifier: lowercase simple or reverse-DNS name with optional `@YYYY-MM-DD`; no version = latest stable",
        source: "EXT §3.6, §6.2; JS `ExtensionDeclaration`",
    },
    Rule {
        id: "EXT-03",
        level: Level::Schema,
        text: "`extends` entries are `$.<SchemaName>.<field>` JSONPath expressions",
        source: "EXT §3.4.1",
    },
    Rule {
        id: "EXT-04",
        level: Level::Must,
        text: "Extension `schema` URL is https",
        source: "EXT §3.5.2",
    },
    Rule {
        id: "FLINT-01",
        level: Level::Crate,
        text: "A product has at least one variant (only variants can be bought)",
        source: "this crate (feed readiness)",
    },
    Rule {
        id: "FLINT-02",
        level: Level::Crate,
        text: "Every variant has a `price`",
        source: "this crate (feed readiness)",
    },
    Rule {
        id: "FLINT-03",
        level: Level::Crate,
        text: "Every variant has `availability` with `available` or a `status`",
        source: "this crate (feed readiness)",
    },
    Rule {
        id: "FLINT-04",
        level: Level::Crate,
        text: "Every variant has a non-blank `title`",
        source: "this crate (feed readiness)",
    },
    Rule {
        id: "FLINT-05",
        level: Level::Crate,
        text: "A product has a non-blank `description` (or every variant has one)",
        source: "this crate (feed readiness)",
    },
    Rule {
        id: "FLINT-06",
        level: Level::Crate,
        text: "A product has at least one media item (on the product or a variant)",
        source: "this crate (feed readiness)",
    },
    Rule {
        id: "FLINT-07",
        level: Level::Crate,
        text: "Every media, product and variant `url` parses as an absolute `http(s)` URL with a host",
        source: "this crate (feed readiness)",
    },
    Rule {
        id: "FLINT-08",
        level: Level::Crate,
        text: "Every GTIN-family barcode (`GTIN`, `UPC`, `EAN`, `JAN`, `ISBN-13`) has 8, 12, 13 or 14 digits and a valid GS1 mod-10 check digit",
        source: "this crate (feed readiness)",
    },
    Rule {
        id: "FLINT-09",
        level: Level::Crate,
        text: "A variant has at least one barcode",
        source: "this crate (feed readiness)",
    },
    Rule {
        id: "FLINT-10",
        level: Level::Crate,
        text: "A variant has at least one non-blank category",
        source: "this crate (feed readiness)",
    },
    Rule {
        id: "FLINT-11",
        level: Level::Crate,
        text: "A variant names its `seller`",
        source: "this crate (feed readiness)",
    },
    Rule {
        id: "FLINT-12",
        level: Level::Crate,
        text: "A variant that may not be new (marketplace offer, resale wording) states a non-empty `condition`",
        source: "this crate (feed readiness)",
    },
    Rule {
        id: "FLINT-13",
        level: Level::Crate,
        text: "All prices of a product (`price`, `list_price`, `unit_price` of every variant) use one currency",
        source: "this crate (feed readiness)",
    },
    Rule {
        id: "FLINT-14",
        level: Level::Crate,
        text: "`list_price` is not below `price`",
        source: "this crate (feed readiness)",
    },
    Rule {
        id: "FLINT-15",
        level: Level::Crate,
        text: "`unit_price` is consistent: positive measure and reference, units of one dimension, amount = price × reference ÷ measure (±1 minor unit or 1%)",
        source: "this crate (feed readiness)",
    },
    Rule {
        id: "FLINT-16",
        level: Level::Crate,
        text: "`description.plain` and `description.markdown` contain no raw HTML (tags, comments; entities in plain text)",
        source: "this crate (feed readiness; agents sanitize rich text: FEED §7)",
    },
    Rule {
        id: "FLINT-17",
        level: Level::Crate,
        text: "Product ids are unique in the catalog; variant ids are unique in the catalog",
        source: "this crate (feed readiness; ids are stable and global: FEED §10)",
    },
    Rule {
        id: "FLINT-18",
        level: Level::Crate,
        text: "In a product with several variants, every variant has `variant_options` and no two variants have the same options",
        source: "this crate (feed readiness)",
    },
    Rule {
        id: "HDR-06",
        level: Level::Must,
        text: "HTTPS only (TLS 1.3 for checkout/delegate payment; TLS 1.2+ for delegate auth)",
        source: "AC §3.1/§7; DP §6; DA §8",
    },
    Rule {
        id: "MD-02",
        level: Level::MustNot,
        text: "Markdown content contains raw HTML elements",
        source: "AC §5.1",
    },
    Rule {
        id: "ORD-02",
        level: Level::Implied,
        text: "Line status derived from quantity: current==0→removed; fulfilled==current→fulfilled; 0<fulfilled<current→partial; else processing",
        source: "ORD §3.2, §4.2, §7.1",
    },
    Rule {
        id: "ORD-03",
        level: Level::Schema,
        text: "quantity: ordered ≥1, current ≥0 (required), fulfilled ≥0 (default 0); implied fulfilled ≤ current ≤ ordered",
        source: "ORD §4.2",
    },
    Rule {
        id: "ORD-05",
        level: Level::Implied,
        text: "`amount_refunded` = Σ completed refund adjustments; `subtotal` = Σ line-item subtotals",
        source: "ORD §4.6",
    },
    Rule {
        id: "ORD-06",
        level: Level::Implied,
        text: "`Adjustment.amount` is tax-inclusive; currency lowercase ISO 4217",
        source: "ORD §4.5; JS",
    },
    Rule {
        id: "ORD-07",
        level: Level::Should,
        text: "Use only fulfillment statuses applicable to the fulfillment type (`shipped`, `in_transit`, `out_for_delivery`: shipping; `ready_for_pickup`: pickup)",
        source: "ORD §4.3",
    },
    Rule {
        id: "ORD-09",
        level: Level::Schema,
        text: "`LineItemReference.quantity` ≥1 and references an existing line item id",
        source: "JS `LineItemReference`; ORD §4.3",
    },
];

/// The catalog entry of a rule ID (`None` for an ID the crate does not report, such as the
/// `SCHEMA` of a caller's own finding).
pub fn lookup(id: &str) -> Option<&'static Rule> {
    RULES
        .binary_search_by(|rule| rule.id.cmp(id))
        .ok()
        .and_then(|index| RULES.get(index))
}

/// The catalog as the Markdown of `RULES.md`: a table of every rule and the source legend.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Rules catalog\n\n\
         Every rule ID that `agentic-commerce` reports in a finding (`rule`) or an allowance \
         violation, with its level, the requirement (paraphrased) and where the ACP sources \
         state it. Generated from `agentic_commerce::rules::catalog::RULES`; do not edit by \
         hand.\n\n\
         | rule | level | requirement | source |\n\
         |---|---|---|---|\n",
    );
    for rule in RULES {
        out.push_str("| ");
        out.push_str(rule.id);
        out.push_str(" | ");
        out.push_str(rule.level.as_str());
        out.push_str(" | ");
        out.push_str(&cell(rule.text));
        out.push_str(" | ");
        out.push_str(&cell(rule.source));
        out.push_str(" |\n");
    }
    out.push_str(
        "\nLevels: MUST, MUST NOT, SHOULD, SHOULD NOT, MAY as in RFC 2119; SCHEMA: encoded only \
         as a JSON Schema or OpenAPI constraint; DESC: stated only in a schema `description`; \
         IMPLIED: stated in RFC prose without an RFC 2119 keyword; CRATE: a check of this crate \
         that the ACP sources do not state as such.\n\nSources:",
    );
    for (abbreviation, document) in SOURCES {
        out.push_str(if abbreviation == &"AC" { " " } else { ", " });
        out.push_str(abbreviation);
        out.push_str(" = ");
        // Every source but the schemas (already a sentence) is a file name.
        if abbreviation == &"JS" {
            out.push_str(document);
        } else {
            out.push('`');
            out.push_str(document);
            out.push('`');
        }
    }
    out.push_str(".\n");
    readiness_markdown(&mut out);
    out
}

/// The section of `RULES.md` on the feed readiness rules (`acp feed lint`): severity, weight
/// and suggested fix of each.
fn readiness_markdown(out: &mut String) {
    use super::feed_readiness::{READINESS_RULES, total_weight};
    out.push_str(
        "\n## Feed readiness rules (`acp feed lint`)\n\n\
         `rules::feed_readiness` lints products of a feed (`feed.Product`) for what an agent needs \
         beyond the schema. Each finding has the rule ID, a severity (error, warning, info), the \
         JSONPath of the value, a message and the fix below; `acp feed lint` exits 1 on any error. \
         The score of a product is the share of the weight of the rules that apply to it that is \
         satisfied (a rule satisfied by some of its subjects, e.g. 1 of 2 variants, counts that \
         fraction); the catalog score sums both over every product. Rules with nothing to check \
         (no barcode, a single variant, no unit price, condition where it does not apply) do not \
         count. Details: the `rules::feed_readiness` module docs.\n\n\
         | rule | severity | weight | check | fix |\n\
         |---|---|---|---|---|\n",
    );
    for rule in READINESS_RULES {
        out.push_str("| ");
        out.push_str(rule.id);
        out.push_str(" | ");
        out.push_str(rule.severity.as_str());
        out.push_str(" | ");
        out.push_str(&rule.weight.to_string());
        out.push_str(" | ");
        out.push_str(&cell(rule.text));
        out.push_str(" | ");
        out.push_str(&cell(rule.fix));
        out.push_str(" |\n");
    }
    out.push_str("\nTotal weight: ");
    out.push_str(&total_weight().to_string());
    out.push_str(".\n");
}

/// A table cell: `|` escaped so that it does not end the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

// Defined here, beside the table, so that the finding type (in the protocol layer) does not
// depend on the rules layer.
impl crate::protocol::finding::Finding {
    /// The rule's entry in the [rules catalog](crate::rules::catalog) (level, text, spec
    /// source); `None` for a rule ID the crate itself never reports.
    pub fn catalog_entry(&self) -> Option<&'static Rule> {
        lookup(self.rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sorted_and_unique_so_lookup_finds_each() {
        assert!(RULES.windows(2).all(|w| w[0].id < w[1].id));
        for rule in RULES {
            assert_eq!(lookup(rule.id), Some(rule));
        }
        assert_eq!(lookup("SCHEMA"), None);
        assert_eq!(lookup("CHK-06").map(|r| r.level), Some(Level::Must));
    }

    #[test]
    fn markdown_has_one_row_per_rule_and_escapes_pipes() {
        let text = markdown();
        let rows = text
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| rule"));
        let readiness = super::super::feed_readiness::READINESS_RULES.len();
        assert_eq!(rows.count(), RULES.len() + readiness);
        assert!(text.contains("| DP-13 | MUST |"));
        assert!(text.contains("`fpan\\|network_token`"));
        assert!(text.contains("AC = `rfc.agentic_checkout.md`, DP = "));
        assert!(text.contains("| FLINT-02 | error | 5 | Every variant has a `price` |"));
    }

    #[test]
    fn every_readiness_rule_is_in_the_catalog_with_the_same_text() {
        for rule in super::super::feed_readiness::READINESS_RULES {
            let entry = lookup(rule.id);
            assert_eq!(entry.map(|e| e.text), Some(rule.text), "{}", rule.id);
            assert_eq!(entry.map(|e| e.level), Some(Level::Crate), "{}", rule.id);
        }
    }
}
