//! Agent readiness of a product feed (`FLINT-01` … `FLINT-18`): how much of what an agent needs
//! to find, compare and buy a product the feed actually carries.
//!
//! The schema (`feed.Product`) asks for little: a product `id` and `variants`, a variant `id`
//! and `title`. A feed that passes it can still be useless to an agent: no price, no
//! availability, no picture, a GTIN with a wrong check digit, HTML tags in a plain-text
//! description. These rules report such gaps, per product and variant, each with a rule ID,
//! a [`Severity`], the JSONPath of the value (or of where a missing member would go), a
//! message and a suggested fix.
//!
//! # Entry points
//!
//! * [`lint_product`]: one product on its own (its variant ids checked against each other
//!   only), its findings and its score.
//! * [`CatalogLinter`]: products pushed one at a time ([`CatalogLinter::push`]); product ids
//!   and variant ids are checked across the whole catalog, and [`CatalogLinter::summary`]
//!   gives the catalog's score and per-rule counts. Memory is constant per product; the only
//!   thing that grows is the set of ids seen (a 64-bit hash and a product ordinal per id, so
//!   17 bytes per id before the hash table's slack; two different ids whose hashes collide,
//!   odds about n²/2⁶⁵ for n ids, would be reported as duplicates).
//!
//! # Paths
//!
//! The caller names where the product sits: `$.products[3]` for the fourth product of a
//! `ProductsResponse` or `UpsertProductsRequest`, `$` for a product on its own (one line of a
//! JSONL file, whose line number the caller reports beside it). Every finding's path starts
//! there: `$.products[3].variants[0].price`.
//!
//! # Score
//!
//! Every rule has a weight ([`ReadinessRule::weight`]). A rule applies to *subjects*: the
//! product (product rules), each variant (variant rules) or each value it checks (each URL,
//! each GTIN, each plain or markdown description). A rule with no applicable subject in a
//! product (no barcodes to check, a single variant for `FLINT-18`, no unit price, condition
//! where it does not apply) is left out of that product's score. A rule that applies
//! contributes its weight to the product's *applicable weight*, and weight × (satisfied
//! subjects ÷ applicable subjects) to its *satisfied weight*: a product whose two variants
//! have one price between them gets half of `FLINT-02`'s weight.
//!
//! The product score is satisfied ÷ applicable weight (1.0 when nothing applies). The catalog
//! score is Σ satisfied ÷ Σ applicable over every product, so a large product with many
//! problems weighs as much as any other product (each product's applicable weight is at most
//! the sum of the weights). A product that does not parse ([`CatalogLinter::push_invalid`])
//! scores 0 against the full weight of every rule.
//!
//! # When `condition` applies (`FLINT-12`)
//!
//! The feed's `condition` (new, secondhand, …) matters where an item may not be new. This
//! linter treats it as applicable when the variant is offered through a `marketplace`, or
//! when its title, one of its categories or one of its option values contains a resale word
//! (`used`, `refurbished`, `renewed`, `pre-owned`, `preowned`, `secondhand`, `second-hand`,
//! `open box`, `open-box`, as a whole word, case-insensitive), or when the variant sets
//! `condition` at all (then it must not be empty).
//!
//! Unknown members and enum values (an `availability.status`, a barcode `type`, a media
//! `type` this version does not know) are kept by the parser and never fail a rule by
//! themselves. The rules and weights are listed in [`READINESS_RULES`] and in the rules
//! catalog (`RULES.md`).

use core::hash::{BuildHasherDefault, Hasher};
// Lookup only, never iterated: the order the lint guards against cannot leak into output, and
// a hash table keeps a million-product catalog's id check off the critical path.
#[allow(clippy::disallowed_types)]
use std::collections::HashMap;

use crate::parse::json_path::{JsonPath, Segment};
use crate::protocol::finding::Severity;
use crate::spec::v2026_04_17::feed::{Description, Media, Price, Product, UnitPrice, Variant};

/// One rule of the readiness linter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadinessRule {
    /// The rule ID, `FLINT-NN`.
    pub id: &'static str,
    /// How serious a finding of this rule is.
    pub severity: Severity,
    /// The rule's share of the score (see the module docs).
    pub weight: u32,
    /// What the rule checks (Markdown).
    pub text: &'static str,
    /// How to fix a finding (Markdown).
    pub fix: &'static str,
}

macro_rules! rule {
    ($id:literal, $severity:ident, $weight:literal, $text:literal, $fix:literal) => {
        ReadinessRule {
            id: $id,
            severity: Severity::$severity,
            weight: $weight,
            text: $text,
            fix: $fix,
        }
    };
}

/// Every readiness rule, in ID order.
pub static READINESS_RULES: &[ReadinessRule] = &[
    rule!(
        "FLINT-01",
        Error,
        5,
        "A product has at least one variant (only variants can be bought)",
        "Add a variant with `id`, `title`, `price` and `availability`; a product sold in one form has one variant"
    ),
    rule!(
        "FLINT-02",
        Error,
        5,
        "Every variant has a `price`",
        "Add `price: {amount, currency}` (integer minor units, ISO 4217 code)"
    ),
    rule!(
        "FLINT-03",
        Error,
        4,
        "Every variant has `availability` with `available` or a `status`",
        "Add `availability: {available, status}`, e.g. `{\"available\": true, \"status\": \"in_stock\"}`"
    ),
    rule!(
        "FLINT-04",
        Error,
        3,
        "Every variant has a non-blank `title`",
        "Set `title` to the name a buyer would see, e.g. `Classic Tee - Red / Small`"
    ),
    rule!(
        "FLINT-05",
        Warning,
        3,
        "A product has a non-blank `description` (or every variant has one)",
        "Add `description: {plain}` (or `markdown`) saying what the product is, its material, size and use"
    ),
    rule!(
        "FLINT-06",
        Warning,
        3,
        "A product has at least one media item (on the product or a variant)",
        "Add `media: [{type: \"image\", url, alt_text}]`; the first item is the primary image"
    ),
    rule!(
        "FLINT-07",
        Error,
        2,
        "Every media, product and variant `url` parses as an absolute `http(s)` URL with a host",
        "Use an absolute `https://host/path` URL, percent-encoding spaces and other reserved characters"
    ),
    rule!(
        "FLINT-08",
        Error,
        2,
        "Every GTIN-family barcode (`GTIN`, `UPC`, `EAN`, `JAN`, `ISBN-13`) has 8, 12, 13 or 14 digits and a valid GS1 mod-10 check digit",
        "Copy the barcode digits exactly from the packaging or the GS1 record (the last digit is the check digit)"
    ),
    rule!(
        "FLINT-09",
        Info,
        1,
        "A variant has at least one barcode",
        "Add `barcodes: [{type: \"GTIN\", value}]` when the item has one: agents match offers across merchants by GTIN"
    ),
    rule!(
        "FLINT-10",
        Warning,
        2,
        "A variant has at least one non-blank category",
        "Add `categories: [{value, taxonomy}]`, e.g. a `google_product_category` path"
    ),
    rule!(
        "FLINT-11",
        Warning,
        2,
        "A variant names its `seller`",
        "Add `seller: {name, links}` with the merchant of record and its policy links"
    ),
    rule!(
        "FLINT-12",
        Warning,
        1,
        "A variant that may not be new (marketplace offer, resale wording) states a non-empty `condition`",
        "Add `condition`, e.g. `[\"new\"]` or `[\"secondhand\"]`"
    ),
    rule!(
        "FLINT-13",
        Error,
        3,
        "All prices of a product (`price`, `list_price`, `unit_price` of every variant) use one currency",
        "Publish one currency per product (one feed per market, `target_country`); convert the odd price"
    ),
    rule!(
        "FLINT-14",
        Error,
        2,
        "`list_price` is not below `price`",
        "Set `list_price` to the reference (pre-discount) price, at least `price`, or remove it"
    ),
    rule!(
        "FLINT-15",
        Warning,
        1,
        "`unit_price` is consistent: positive measure and reference, units of one dimension, amount = price × reference ÷ measure (±1 minor unit or 1%)",
        "Recompute `unit_price.amount` from `price`, `measure` and `reference`, in units of the same dimension (g/kg/oz/lb, ml/l/fl oz, …)"
    ),
    rule!(
        "FLINT-16",
        Warning,
        2,
        "`description.plain` and `description.markdown` contain no raw HTML (tags, comments; entities in plain text)",
        "Put HTML in `description.html`; write plain text or `CommonMark` in `plain` and `markdown`"
    ),
    rule!(
        "FLINT-17",
        Error,
        5,
        "Product ids are unique in the catalog; variant ids are unique in the catalog",
        "Give every product and every variant its own stable id; merge duplicated products"
    ),
    rule!(
        "FLINT-18",
        Warning,
        2,
        "In a product with several variants, every variant has `variant_options` and no two variants have the same options",
        "Add the options that tell the variants apart, e.g. `[{name: \"Size\", value: \"M\"}]`"
    ),
];

const HAS_VARIANTS: usize = 0;
const PRICE: usize = 1;
const AVAILABILITY: usize = 2;
const TITLE: usize = 3;
const DESCRIPTION: usize = 4;
const MEDIA: usize = 5;
const URLS: usize = 6;
const GTIN: usize = 7;
const BARCODE: usize = 8;
const CATEGORY: usize = 9;
const SELLER: usize = 10;
const CONDITION: usize = 11;
const CURRENCY: usize = 12;
const LIST_PRICE: usize = 13;
const UNIT_PRICE: usize = 14;
const NO_HTML: usize = 15;
const UNIQUE_IDS: usize = 16;
const OPTIONS: usize = 17;
const RULE_COUNT: usize = 18;

/// The readiness rule with this ID.
pub fn readiness_rule(id: &str) -> Option<&'static ReadinessRule> {
    READINESS_RULES.iter().find(|rule| rule.id == id)
}

/// Sum of every rule's weight: the applicable weight of a product that does not parse.
pub fn total_weight() -> u32 {
    READINESS_RULES.iter().map(|rule| rule.weight).sum()
}

/// One readiness problem.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LintFinding {
    /// The rule ID (`FLINT-NN`), or `SCHEMA` for a product that does not parse.
    pub rule: &'static str,
    /// How serious.
    pub severity: Severity,
    /// Where: the offending value, or the path a missing member would have.
    pub param: JsonPath,
    /// What is wrong, naming the values involved.
    pub message: String,
    /// The rule's suggested fix.
    pub fix: &'static str,
}

impl LintFinding {
    /// Whether the finding has error severity.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl core::fmt::Display for LintFinding {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "[{} {}] {}: {}",
            self.rule,
            self.severity.as_str(),
            self.param,
            self.message
        )
    }
}

/// Findings and score of one product.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProductReport {
    /// The product's `id` (`None` for a product that does not parse).
    pub id: Option<String>,
    /// Where the product sits (`$`, `$.products[3]`).
    pub param: JsonPath,
    /// Satisfied ÷ applicable weight, 0.0 to 1.0.
    pub score: f64,
    /// Weight of the rules satisfied (fractions for rules satisfied by some subjects).
    pub satisfied_weight: f64,
    /// Weight of the rules that apply to this product.
    pub applicable_weight: u32,
    /// Every finding: the product-level checks first, then each variant's, in variant order.
    pub findings: Vec<LintFinding>,
    /// Rules that apply and are not fully satisfied (`rules[i]` for [`READINESS_RULES`]`[i]`).
    #[serde(skip)]
    failed: [bool; RULE_COUNT],
}

impl ProductReport {
    /// Whether any finding has error severity.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(LintFinding::is_error)
    }
}

/// Lints one product on its own: every rule, with variant ids checked for duplicates inside
/// the product only. `root` is where the product sits (see the module docs).
pub fn lint_product(product: &Product, root: &JsonPath) -> ProductReport {
    let mut ids = IdSet::default();
    lint(product, root, &mut ids, 0)
}

/// Per-rule counts of a [`CatalogSummary`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleCount {
    /// The rule ID.
    pub rule: &'static str,
    /// The rule's severity.
    pub severity: Severity,
    /// The rule's weight.
    pub weight: u32,
    /// Findings of this rule.
    pub findings: u64,
    /// Products the rule applies to and does not fully satisfy.
    pub products_failing: u64,
}

/// The catalog's totals: counts, score and per-rule counts.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CatalogSummary {
    /// Products linted (including those that do not parse).
    pub products: u64,
    /// Products that do not parse.
    pub invalid_products: u64,
    /// Variants of the parsed products.
    pub variants: u64,
    /// Error-severity findings.
    pub errors: u64,
    /// Warning-severity findings.
    pub warnings: u64,
    /// Info-severity findings.
    pub infos: u64,
    /// Σ satisfied ÷ Σ applicable weight over every product (1.0 for an empty catalog).
    pub score: f64,
    /// Σ satisfied weight.
    pub satisfied_weight: f64,
    /// Σ applicable weight.
    pub applicable_weight: u64,
    /// One entry per rule, in ID order.
    pub rules: Vec<RuleCount>,
}

/// Streaming linter of a whole catalog: push products one at a time, then read the summary.
#[derive(Debug, Default)]
pub struct CatalogLinter {
    ids: IdSet,
    products: u64,
    invalid: u64,
    variants: u64,
    errors: u64,
    warnings: u64,
    infos: u64,
    satisfied: f64,
    applicable: u64,
    rule_findings: [u64; RULE_COUNT],
    rule_failing: [u64; RULE_COUNT],
}

impl CatalogLinter {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lints the next product (ids checked against every product pushed before) and adds it
    /// to the totals. `root` is where the product sits.
    pub fn push(&mut self, product: &Product, root: &JsonPath) -> ProductReport {
        let ordinal = self.products;
        let report = lint(product, root, &mut self.ids, ordinal);
        self.products += 1;
        self.variants += product.variants.len() as u64;
        self.count(&report);
        report
    }

    /// Records a product that does not parse: one `SCHEMA` error at `param`, a score of 0
    /// against the full weight.
    pub fn push_invalid(&mut self, param: JsonPath, message: impl Into<String>) -> ProductReport {
        let report = ProductReport {
            id: None,
            param: param.clone(),
            score: 0.0,
            satisfied_weight: 0.0,
            applicable_weight: total_weight(),
            findings: vec![LintFinding {
                rule: "SCHEMA",
                severity: Severity::Error,
                param,
                message: message.into(),
                fix: "Make the product valid against `feed.Product` (`acp validate --type feed.Product`)",
            }],
            failed: [false; RULE_COUNT],
        };
        self.products += 1;
        self.invalid += 1;
        self.count(&report);
        report
    }

    fn count(&mut self, report: &ProductReport) {
        self.satisfied += report.satisfied_weight;
        self.applicable += u64::from(report.applicable_weight);
        for finding in &report.findings {
            match finding.severity {
                Severity::Error => self.errors += 1,
                Severity::Warning => self.warnings += 1,
                Severity::Info => self.infos += 1,
            }
            if let Some(index) = READINESS_RULES.iter().position(|r| r.id == finding.rule) {
                self.rule_findings[index] += 1;
            }
        }
        for (count, failed) in self.rule_failing.iter_mut().zip(report.failed) {
            *count += u64::from(failed);
        }
    }

    /// Products pushed so far (including those that do not parse).
    pub fn products(&self) -> u64 {
        self.products
    }

    /// Whether any product had an error-severity finding so far.
    pub fn has_errors(&self) -> bool {
        self.errors > 0
    }

    /// The totals so far.
    pub fn summary(&self) -> CatalogSummary {
        CatalogSummary {
            products: self.products,
            invalid_products: self.invalid,
            variants: self.variants,
            errors: self.errors,
            warnings: self.warnings,
            infos: self.infos,
            score: ratio(self.satisfied, self.applicable),
            satisfied_weight: self.satisfied,
            applicable_weight: self.applicable,
            rules: READINESS_RULES
                .iter()
                .enumerate()
                .map(|(i, rule)| RuleCount {
                    rule: rule.id,
                    severity: rule.severity,
                    weight: rule.weight,
                    findings: self.rule_findings[i],
                    products_failing: self.rule_failing[i],
                })
                .collect(),
        }
    }
}

#[allow(clippy::cast_precision_loss)] // weights are small integers; a score needs no more
fn ratio(satisfied: f64, applicable: u64) -> f64 {
    if applicable == 0 {
        1.0
    } else {
        satisfied / applicable as f64
    }
}

/// Hashes of the product and variant ids seen, each with the ordinal of the first product
/// that used it. The keys are already hashes, so the table does not hash them again.
#[derive(Debug, Default)]
#[allow(clippy::disallowed_types)] // lookup only, see the `use`
struct IdSet {
    products: HashMap<u64, u64, BuildHasherDefault<PassThrough>>,
    variants: HashMap<u64, u64, BuildHasherDefault<PassThrough>>,
}

/// A hasher for keys that are already 64-bit hashes.
#[derive(Debug, Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

fn id_hash(id: &str) -> u64 {
    // SipHash-1-3 with fixed keys: stable across runs, and well mixed for the table.
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write(id.as_bytes());
    hasher.finish()
}

/// Findings and applicable/satisfied subject counts per rule, for one product.
struct Lint<'r> {
    root: &'r JsonPath,
    findings: Vec<LintFinding>,
    applicable: [u32; RULE_COUNT],
    satisfied: [u32; RULE_COUNT],
}

impl Lint<'_> {
    /// One subject of a rule, satisfied or not.
    fn subject(&mut self, rule: usize, ok: bool) -> bool {
        self.applicable[rule] += 1;
        self.satisfied[rule] += u32::from(ok);
        ok
    }

    /// A path under the product's root.
    fn path(&self, segments: &[Seg<'_>]) -> JsonPath {
        let mut path = self.root.clone();
        for segment in segments {
            path.push(match *segment {
                K(key) => Segment::Key(key.to_owned()),
                I(index) => Segment::Index(index),
            });
        }
        path
    }

    fn report(&mut self, rule: usize, segments: &[Seg<'_>], message: String) {
        let param = self.path(segments);
        let (id, severity, fix) = READINESS_RULES
            .get(rule)
            .map_or(("SCHEMA", Severity::Error, ""), |r| {
                (r.id, r.severity, r.fix)
            });
        self.findings.push(LintFinding {
            rule: id,
            severity,
            param,
            message,
            fix,
        });
    }
}

/// A path segment borrowed while linting (a [`Segment`] is built only for a finding).
#[derive(Clone, Copy)]
enum Seg<'a> {
    K(&'a str),
    I(usize),
}

use Seg::{I, K};

fn lint(product: &Product, root: &JsonPath, ids: &mut IdSet, ordinal: u64) -> ProductReport {
    let mut l = Lint {
        root,
        findings: Vec::new(),
        applicable: [0; RULE_COUNT],
        satisfied: [0; RULE_COUNT],
    };
    check_ids(&mut l, product, ids, ordinal);
    if !l.subject(HAS_VARIANTS, !product.variants.is_empty()) {
        l.report(
            HAS_VARIANTS,
            &[K("variants")],
            "product has no variants, so nothing in it can be bought".into(),
        );
    }
    check_description(&mut l, product);
    check_media(&mut l, product);
    check_urls(&mut l, product);
    check_currencies(&mut l, product);
    check_options(&mut l, product);
    for (v, variant) in product.variants.iter().enumerate() {
        check_variant(&mut l, v, variant);
    }
    finish(product, l)
}

fn finish(product: &Product, l: Lint<'_>) -> ProductReport {
    let mut satisfied = 0.0;
    let mut applicable = 0;
    let mut failed = [false; RULE_COUNT];
    for (i, rule) in READINESS_RULES.iter().enumerate() {
        if l.applicable[i] == 0 {
            continue;
        }
        applicable += rule.weight;
        satisfied +=
            f64::from(rule.weight) * f64::from(l.satisfied[i]) / f64::from(l.applicable[i]);
        failed[i] = l.satisfied[i] < l.applicable[i];
    }
    ProductReport {
        id: Some(product.id.as_str().to_owned()),
        param: l.root.clone(),
        score: ratio(satisfied, u64::from(applicable)),
        satisfied_weight: satisfied,
        applicable_weight: applicable,
        findings: l.findings,
        failed,
    }
}

fn check_ids(l: &mut Lint<'_>, product: &Product, ids: &mut IdSet, ordinal: u64) {
    let id = product.id.as_str();
    let first = *ids.products.entry(id_hash(id)).or_insert(ordinal);
    if !l.subject(UNIQUE_IDS, first == ordinal) {
        l.report(
            UNIQUE_IDS,
            &[K("id")],
            format!(
                "product id `{id}` is already used by product #{} of the input (1-based)",
                first + 1
            ),
        );
    }
    for (v, variant) in product.variants.iter().enumerate() {
        let vid = variant.id.as_str();
        let first = *ids.variants.entry(id_hash(vid)).or_insert(ordinal);
        if !l.subject(
            UNIQUE_IDS,
            first == ordinal && !earlier_variant_has_id(product, v),
        ) {
            let whose = if first == ordinal {
                "an earlier variant of this product".to_owned()
            } else {
                format!("product #{} of the input (1-based)", first + 1)
            };
            l.report(
                UNIQUE_IDS,
                &[K("variants"), I(v), K("id")],
                format!("variant id `{vid}` is already used by {whose}"),
            );
        }
    }
}

fn earlier_variant_has_id(product: &Product, v: usize) -> bool {
    let Some((variant, earlier)) = product.variants.get(..=v).and_then(<[Variant]>::split_last)
    else {
        return false;
    };
    earlier.iter().any(|e| e.id == variant.id)
}

fn has_text(description: Option<&Description>) -> bool {
    description.is_some_and(|d| {
        [&d.plain, &d.markdown, &d.html]
            .into_iter()
            .flatten()
            .any(|text| !text.trim().is_empty())
    })
}

fn check_description(l: &mut Lint<'_>, product: &Product) {
    let ok = has_text(product.description.as_ref())
        || (!product.variants.is_empty()
            && product
                .variants
                .iter()
                .all(|v| has_text(v.description.as_ref())));
    if !l.subject(DESCRIPTION, ok) {
        l.report(
            DESCRIPTION,
            &[K("description")],
            "product has no description (and not every variant has one)".into(),
        );
    }
    if let Some(description) = &product.description {
        check_html(l, description, &[K("description")]);
    }
}

fn check_html(l: &mut Lint<'_>, description: &Description, at: &[Seg<'_>]) {
    if let Some(plain) = &description.plain {
        let found = plain_html(plain);
        if !l.subject(NO_HTML, found.is_none()) {
            let mut path = at.to_vec();
            path.push(K("plain"));
            l.report(
                NO_HTML,
                &path,
                format!(
                    "plain-text description contains HTML `{}`",
                    found.unwrap_or_default()
                ),
            );
        }
    }
    if let Some(markdown) = &description.markdown {
        // Only text with `<` can hold raw HTML; skip the CommonMark parse otherwise.
        let found = if markdown.contains('<') {
            super::markdown::raw_html(markdown).into_iter().next()
        } else {
            None
        };
        if !l.subject(NO_HTML, found.is_none()) {
            let mut path = at.to_vec();
            path.push(K("markdown"));
            l.report(
                NO_HTML,
                &path,
                format!(
                    "markdown description contains raw HTML `{}`",
                    found.unwrap_or_default().trim()
                ),
            );
        }
    }
}

/// The first HTML tag, comment or character reference in plain text, if any.
fn plain_html(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let rest = bytes.get(i + 1..).unwrap_or_default();
        let len = match b {
            b'<' => tag_len(rest),
            b'&' => entity_len(rest),
            _ => None,
        };
        if let Some(len) = len {
            let end = (i + 1 + len).min(text.len());
            return Some(
                String::from_utf8_lossy(bytes.get(i..end).unwrap_or_default()).into_owned(),
            );
        }
    }
    None
}

/// Length after `<` of a tag (`p>`, `/div>`, `br/>`, `a href=…>`) or comment (`!--`).
fn tag_len(rest: &[u8]) -> Option<usize> {
    if rest.starts_with(b"!--") {
        return Some(3);
    }
    let start = usize::from(rest.first() == Some(&b'/'));
    let name = rest
        .get(start..)?
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    if name == 0 || !rest.get(start)?.is_ascii_alphabetic() {
        return None;
    }
    match rest.get(start + name) {
        Some(b'>') => Some(start + name + 1),
        Some(b'/') if rest.get(start + name + 1) == Some(&b'>') => Some(start + name + 2),
        Some(b' ' | b'\t' | b'\n' | b'\r') => {
            // An element with attributes: the tag closes before the next `<`.
            let tail = rest.get(start + name..)?;
            let close = tail.iter().position(|&b| b == b'>')?;
            (!tail.get(..close)?.contains(&b'<')).then_some(start + name + close + 1)
        }
        _ => None,
    }
}

/// Length after `&` of a character reference (`amp;`, `#39;`, `#x27;`).
fn entity_len(rest: &[u8]) -> Option<usize> {
    let semicolon = rest.iter().take(12).position(|&b| b == b';')?;
    let body = rest.get(..semicolon)?;
    let ok = match body {
        [b'#', b'x' | b'X', hex @ ..] => !hex.is_empty() && hex.iter().all(u8::is_ascii_hexdigit),
        [b'#', digits @ ..] => !digits.is_empty() && digits.iter().all(u8::is_ascii_digit),
        name => name.len() >= 2 && name.iter().all(u8::is_ascii_alphanumeric),
    };
    ok.then_some(semicolon + 1)
}

fn check_media(l: &mut Lint<'_>, product: &Product) {
    let has = |media: Option<&Vec<Media>>| media.is_some_and(|m| !m.is_empty());
    let ok = has(product.media.as_ref()) || product.variants.iter().any(|v| has(v.media.as_ref()));
    if !l.subject(MEDIA, ok) {
        l.report(
            MEDIA,
            &[K("media")],
            "product has no media (no image on the product or any variant)".into(),
        );
    }
}

/// Why a URL is not an absolute `http(s)` URL with a host, if it is not.
fn url_problem(url: &str) -> Option<String> {
    match url::Url::parse(url) {
        Err(e) => Some(format!("does not parse ({e})")),
        Ok(parsed) if !matches!(parsed.scheme(), "http" | "https") => {
            Some(format!("has scheme `{}`, not http(s)", parsed.scheme()))
        }
        Ok(parsed) if parsed.host_str().is_none_or(str::is_empty) => Some("has no host".into()),
        Ok(_) => None,
    }
}

fn check_url(l: &mut Lint<'_>, url: &str, at: &[Seg<'_>]) {
    let problem = url_problem(url);
    if !l.subject(URLS, problem.is_none()) {
        l.report(
            URLS,
            at,
            format!("URL `{url}` {}", problem.unwrap_or_default()),
        );
    }
}

fn check_media_urls(l: &mut Lint<'_>, media: Option<&Vec<Media>>, at: &[Seg<'_>]) {
    for (m, item) in media.into_iter().flatten().enumerate() {
        let mut path = at.to_vec();
        path.extend([K("media"), I(m), K("url")]);
        check_url(l, item.url.as_str(), &path);
    }
}

fn check_urls(l: &mut Lint<'_>, product: &Product) {
    if let Some(url) = &product.url {
        check_url(l, url.as_str(), &[K("url")]);
    }
    check_media_urls(l, product.media.as_ref(), &[]);
    for (v, variant) in product.variants.iter().enumerate() {
        if let Some(url) = &variant.url {
            check_url(l, url.as_str(), &[K("variants"), I(v), K("url")]);
        }
        check_media_urls(l, variant.media.as_ref(), &[K("variants"), I(v)]);
    }
}

fn check_currencies(l: &mut Lint<'_>, product: &Product) {
    let mut first: Option<(&str, usize, &'static str)> = None;
    let mut mismatch = None;
    for (v, variant) in product.variants.iter().enumerate() {
        let prices = [
            ("price", variant.price.as_ref().map(|p| p.currency.as_str())),
            (
                "list_price",
                variant.list_price.as_ref().map(|p| p.currency.as_str()),
            ),
            (
                "unit_price",
                variant.unit_price.as_ref().map(|p| p.currency.as_str()),
            ),
        ];
        for (field, currency) in prices {
            let Some(currency) = currency else { continue };
            match first {
                None => first = Some((currency, v, field)),
                Some((seen, ..)) if seen.eq_ignore_ascii_case(currency) => {}
                Some(_) if mismatch.is_none() => mismatch = Some((v, field, currency)),
                Some(_) => {}
            }
        }
    }
    let Some((seen, first_v, first_field)) = first else {
        return;
    };
    l.subject(CURRENCY, mismatch.is_none());
    if let Some((v, field, currency)) = mismatch {
        l.report(
            CURRENCY,
            &[K("variants"), I(v), K(field), K("currency")],
            format!(
                "currency `{currency}` differs from `{seen}` of variants[{first_v}].{first_field}"
            ),
        );
    }
}

/// An option set compared without case or surrounding space, order-independent.
fn option_key(variant: &Variant) -> Option<Vec<(String, String)>> {
    let options = variant.variant_options.as_ref().filter(|o| !o.is_empty())?;
    let mut key: Vec<(String, String)> = options
        .iter()
        .map(|o| (o.name.trim().to_lowercase(), o.value.trim().to_lowercase()))
        .collect();
    key.sort_unstable();
    Some(key)
}

fn check_options(l: &mut Lint<'_>, product: &Product) {
    if product.variants.len() < 2 {
        return;
    }
    let keys: Vec<Option<Vec<(String, String)>>> =
        product.variants.iter().map(option_key).collect();
    for (v, key) in keys.iter().enumerate() {
        let Some(key) = key else {
            l.subject(OPTIONS, false);
            l.report(
                OPTIONS,
                &[K("variants"), I(v), K("variant_options")],
                format!(
                    "variant has no variant_options, so an agent cannot tell it from the other {} variants",
                    product.variants.len() - 1
                ),
            );
            continue;
        };
        let same = keys
            .get(..v)
            .unwrap_or_default()
            .iter()
            .position(|k| k.as_ref() == Some(key));
        l.subject(OPTIONS, same.is_none());
        if let Some(other) = same {
            l.report(
                OPTIONS,
                &[K("variants"), I(v), K("variant_options")],
                format!("variant has the same options as variants[{other}]"),
            );
        }
    }
}

fn check_variant(l: &mut Lint<'_>, v: usize, variant: &Variant) {
    let at = |field: &'static str| [K("variants"), I(v), K(field)];
    if !l.subject(PRICE, variant.price.is_some()) {
        l.report(PRICE, &at("price"), "variant has no price".into());
    }
    let available = variant.availability.as_ref().is_some_and(|a| {
        a.available.is_some() || a.status.as_ref().is_some_and(|s| !s.trim().is_empty())
    });
    if !l.subject(AVAILABILITY, available) {
        l.report(
            AVAILABILITY,
            &at("availability"),
            if variant.availability.is_some() {
                "availability has neither `available` nor a `status`".into()
            } else {
                "variant has no availability".into()
            },
        );
    }
    if !l.subject(TITLE, !variant.title.trim().is_empty()) {
        l.report(TITLE, &at("title"), "variant title is blank".into());
    }
    if let Some(description) = &variant.description {
        check_html(l, description, &[K("variants"), I(v), K("description")]);
    }
    check_barcodes(l, v, variant);
    let categorized = variant
        .categories
        .as_ref()
        .is_some_and(|c| c.iter().any(|c| !c.value.trim().is_empty()));
    if !l.subject(CATEGORY, categorized) {
        l.report(
            CATEGORY,
            &at("categories"),
            "variant has no category".into(),
        );
    }
    let seller = variant
        .seller
        .as_ref()
        .is_some_and(|s| s.name.as_ref().is_some_and(|n| !n.trim().is_empty()));
    if !l.subject(SELLER, seller) {
        l.report(
            SELLER,
            &at("seller"),
            if variant.seller.is_some() {
                "seller has no name".into()
            } else {
                "variant names no seller".into()
            },
        );
    }
    check_condition(l, v, variant);
    let same_currency_prices = match (&variant.price, &variant.list_price) {
        (Some(price), Some(list))
            if price
                .currency
                .as_str()
                .eq_ignore_ascii_case(list.currency.as_str()) =>
        {
            Some((price, list))
        }
        _ => None,
    };
    if let Some((price, list)) = same_currency_prices {
        if !l.subject(LIST_PRICE, list.amount >= price.amount) {
            l.report(
                LIST_PRICE,
                &at("list_price"),
                format!(
                    "list_price {} is below price {} ({})",
                    list.amount, price.amount, price.currency
                ),
            );
        }
    }
    check_unit_price(l, v, variant);
}

fn check_unit_price(l: &mut Lint<'_>, v: usize, variant: &Variant) {
    if let Some(unit) = &variant.unit_price {
        let problem = unit_price_problem(unit, variant.price.as_ref());
        if !l.subject(UNIT_PRICE, problem.is_none()) {
            l.report(
                UNIT_PRICE,
                &[K("variants"), I(v), K("unit_price")],
                problem.unwrap_or_default(),
            );
        }
    }
}

fn check_barcodes(l: &mut Lint<'_>, v: usize, variant: &Variant) {
    let barcodes = variant.barcodes.as_deref().unwrap_or_default();
    if !l.subject(BARCODE, !barcodes.is_empty()) {
        l.report(
            BARCODE,
            &[K("variants"), I(v), K("barcodes")],
            "variant has no barcode (GTIN)".into(),
        );
    }
    for (b, barcode) in barcodes.iter().enumerate() {
        let Some(lengths) = gtin_lengths(&barcode.kind) else {
            continue;
        };
        let problem = gtin_problem(&barcode.value, lengths);
        if !l.subject(GTIN, problem.is_none()) {
            l.report(
                GTIN,
                &[K("variants"), I(v), K("barcodes"), I(b), K("value")],
                format!(
                    "{} `{}` {}",
                    barcode.kind,
                    barcode.value,
                    problem.unwrap_or_default()
                ),
            );
        }
    }
}

/// The digit counts a barcode `type` allows if it is of the GTIN family (`None`: another
/// scheme, such as MPN, ISBN-10 or UPC-E, which this rule does not check).
fn gtin_lengths(kind: &str) -> Option<&'static [usize]> {
    let mut name = [0_u8; 8];
    let mut len = 0;
    for b in kind.bytes().filter(|b| !matches!(b, b'-' | b'_' | b' ')) {
        *name.get_mut(len)? = b.to_ascii_lowercase();
        len += 1;
    }
    Some(match name.get(..len)? {
        b"gtin" | b"ean" => &[8, 12, 13, 14],
        b"gtin8" | b"ean8" => &[8],
        b"gtin12" | b"upc" | b"upca" => &[12],
        b"gtin13" | b"ean13" | b"jan" | b"isbn13" => &[13],
        b"gtin14" => &[14],
        _ => return None,
    })
}

/// What is wrong with a GTIN value, if anything: spaces and hyphens are ignored, the rest must
/// be digits of an allowed count whose last one is the GS1 mod-10 check digit.
fn gtin_problem(value: &str, lengths: &[usize]) -> Option<String> {
    let mut digits = Vec::with_capacity(14);
    for c in value.chars().filter(|c| !matches!(c, ' ' | '-')) {
        let Some(d) = c.to_digit(10) else {
            return Some(format!("has the non-digit `{c}`"));
        };
        digits.push(d);
    }
    if !lengths.contains(&digits.len()) {
        return Some(format!(
            "has {} digits, expected {}",
            digits.len(),
            lengths
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let (&check, body) = digits.split_last()?;
    let expected = gtin_check_digit(body);
    (expected != check).then(|| format!("has check digit {check}, expected {expected}"))
}

/// The GS1 mod-10 check digit of the digits before it: weights 3, 1, 3, … from the right.
pub fn gtin_check_digit(body: &[u32]) -> u32 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| if i % 2 == 0 { d * 3 } else { d })
        .sum();
    (10 - sum % 10) % 10
}

const RESALE_WORDS: &[&str] = &[
    "used",
    "refurbished",
    "renewed",
    "pre-owned",
    "preowned",
    "secondhand",
    "second-hand",
    "open box",
    "open-box",
];

/// Whether `text` contains `word` as a whole word, ASCII case-insensitively.
fn has_word(text: &str, word: &str) -> bool {
    let (text, word) = (text.as_bytes(), word.as_bytes());
    if word.is_empty() || text.len() < word.len() {
        return false;
    }
    (0..=text.len() - word.len()).any(|i| {
        text.get(i..i + word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
            && (i == 0 || text.get(i - 1).is_none_or(|b| !b.is_ascii_alphanumeric()))
            && text
                .get(i + word.len())
                .is_none_or(|b| !b.is_ascii_alphanumeric())
    })
}

fn mentions_resale(text: &str) -> bool {
    RESALE_WORDS.iter().any(|word| has_word(text, word))
}

/// Whether `condition` applies to the variant (see the module docs).
pub fn condition_applies(variant: &Variant) -> bool {
    variant.marketplace.is_some()
        || variant.condition.is_some()
        || mentions_resale(&variant.title)
        || variant
            .categories
            .iter()
            .flatten()
            .any(|c| mentions_resale(&c.value))
        || variant
            .variant_options
            .iter()
            .flatten()
            .any(|o| mentions_resale(&o.value))
}

fn check_condition(l: &mut Lint<'_>, v: usize, variant: &Variant) {
    if !condition_applies(variant) {
        return;
    }
    let stated = variant
        .condition
        .as_ref()
        .is_some_and(|c| !c.is_empty() && c.iter().all(|s| !s.trim().is_empty()));
    if !l.subject(CONDITION, stated) {
        let why = if variant.condition.is_some() {
            "condition is empty or has a blank value"
        } else if variant.marketplace.is_some() {
            "variant is offered through a marketplace but states no condition"
        } else {
            "variant mentions resale (used, refurbished, …) but states no condition"
        };
        l.report(
            CONDITION,
            &[K("variants"), I(v), K("condition")],
            why.into(),
        );
    }
}

/// A unit's dimension and its size in that dimension's base unit (g, ml, cm, m², item).
fn unit(name: &str) -> Option<(u8, f64)> {
    let lower = name.trim().to_ascii_lowercase();
    Some(match lower.as_str() {
        "mg" => (0, 0.001),
        "g" | "gram" | "grams" => (0, 1.0),
        "kg" | "kilogram" | "kilograms" => (0, 1000.0),
        "oz" | "ounce" | "ounces" => (0, 28.349_523_125),
        "lb" | "lbs" | "pound" | "pounds" => (0, 453.592_37),
        "ml" | "milliliter" | "millilitre" => (1, 1.0),
        "cl" => (1, 10.0),
        "dl" => (1, 100.0),
        "l" | "liter" | "litre" | "liters" | "litres" => (1, 1000.0),
        "floz" | "fl oz" | "fl. oz" | "fl.oz" => (1, 29.573_529_562_5),
        "pt" | "pint" => (1, 473.176_473),
        "qt" | "quart" => (1, 946.352_946),
        "gal" | "gallon" => (1, 3_785.411_784),
        "mm" => (2, 0.1),
        "cm" => (2, 1.0),
        "m" | "meter" | "metre" => (2, 100.0),
        "in" | "inch" => (2, 2.54),
        "ft" | "foot" | "feet" => (2, 30.48),
        "yd" | "yard" => (2, 91.44),
        "sqm" | "m2" | "m²" => (3, 1.0),
        "sqft" | "ft2" | "ft²" => (3, 0.092_903_04),
        "ct" | "count" | "pc" | "pcs" | "piece" | "pieces" | "each" | "ea" | "unit" | "units" => {
            (4, 1.0)
        }
        _ => return None,
    })
}

/// What is inconsistent in a unit price, if anything (see `FLINT-15`).
fn unit_price_problem(unit_price: &UnitPrice, price: Option<&Price>) -> Option<String> {
    let measure = unit_price.measure.value.as_f64().unwrap_or(0.0);
    if measure.is_nan() || measure <= 0.0 {
        return Some(format!("measure.value {measure} is not positive"));
    }
    if unit_price.reference.value <= 0 {
        return Some(format!(
            "reference.value {} is not positive",
            unit_price.reference.value
        ));
    }
    let (measure_unit, reference_unit) = (
        unit_price.measure.unit.as_str(),
        unit_price.reference.unit.as_str(),
    );
    let factors = match (unit(measure_unit), unit(reference_unit)) {
        (Some((a, ma)), Some((b, rb))) if a == b => Some((ma, rb)),
        (Some(_), Some(_)) => {
            return Some(format!(
                "measure unit `{measure_unit}` and reference unit `{reference_unit}` are of different dimensions"
            ));
        }
        // An unknown unit: comparable only to itself.
        _ if measure_unit
            .trim()
            .eq_ignore_ascii_case(reference_unit.trim()) =>
        {
            Some((1.0, 1.0))
        }
        _ => None,
    };
    let (Some((measure_factor, reference_factor)), Some(price)) = (factors, price) else {
        return None;
    };
    if !price
        .currency
        .as_str()
        .eq_ignore_ascii_case(unit_price.currency.as_str())
    {
        // FLINT-13 reports the currency; the amounts are not comparable.
        return None;
    }
    #[allow(clippy::cast_precision_loss)] // minor-unit amounts far below 2^53 in practice
    let (amount, actual, reference) = (
        price.amount.minor_units() as f64,
        unit_price.amount.minor_units() as f64,
        unit_price.reference.value as f64,
    );
    let expected = amount * reference * reference_factor / (measure * measure_factor);
    if (expected - actual).abs() <= 1.0_f64.max(expected * 0.01) {
        None
    } else {
        Some(format!(
            "amount {actual} per {reference} {reference_unit} does not match price {amount} for {measure} {measure_unit} (expected about {expected:.0})"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_id_order_and_indices_match() {
        assert_eq!(READINESS_RULES.len(), RULE_COUNT);
        assert!(READINESS_RULES.windows(2).all(|w| w[0].id < w[1].id));
        for (i, rule) in READINESS_RULES.iter().enumerate() {
            assert_eq!(rule.id, format!("FLINT-{:02}", i + 1));
            assert!(rule.weight > 0);
        }
        assert_eq!(READINESS_RULES[OPTIONS].id, "FLINT-18");
        assert_eq!(total_weight(), 48);
    }

    #[test]
    fn gtin_check_digits() {
        // GS1's own example GTIN-13, a UPC-A, a GTIN-8, the official feed example's GTIN-14.
        for good in [
            "4006381333931",
            "036000291452",
            "96385074",
            "00012345600029",
        ] {
            assert_eq!(gtin_problem(good, &[8, 12, 13, 14]), None, "{good}");
        }
        assert_eq!(
            gtin_problem("4006381333932", &[13]).as_deref(),
            Some("has check digit 2, expected 1")
        );
        assert!(gtin_problem("40063813", &[13]).is_some_and(|p| p.contains("8 digits")));
        assert!(gtin_problem("40063A1333931", &[13]).is_some_and(|p| p.contains("`A`")));
        assert_eq!(gtin_problem("400-6381 333931", &[13]), None);
        assert_eq!(gtin_lengths("UPC-A"), Some(&[12_usize][..]));
        assert_eq!(gtin_lengths("MPN"), None);
        assert_eq!(gtin_lengths("a-very-long-scheme-name"), None);
    }

    #[test]
    fn plain_text_html_detection() {
        assert_eq!(plain_html("Soft <b>cotton</b>").as_deref(), Some("<b>"));
        assert_eq!(plain_html("line<br/>break").as_deref(), Some("<br/>"));
        assert_eq!(plain_html("x</div>").as_deref(), Some("</div>"));
        assert_eq!(
            plain_html("<a href=\"/x\">link</a>").as_deref(),
            Some("<a href=\"/x\">")
        );
        assert_eq!(plain_html("Tom &amp; Jerry").as_deref(), Some("&amp;"));
        assert_eq!(plain_html("it&#39;s").as_deref(), Some("&#39;"));
        assert_eq!(plain_html("a <!-- c -->").as_deref(), Some("<!--"));
        for clean in [
            "3 < 4 and 5 > 4",
            "<3 love",
            "R&D; not an entity? it is, 'D'",
            "Tom & Jerry",
            "a<b",
        ] {
            // `R&D;` has a one-letter name: not an entity reference.
            assert_eq!(plain_html(clean), None, "{clean}");
        }
    }

    #[test]
    fn resale_words_match_whole_words_only() {
        assert!(mentions_resale("Used - like new"));
        assert!(mentions_resale("Phone (Refurbished)"));
        assert!(mentions_resale("open box deal"));
        assert!(!mentions_resale("Unused focused fused"));
        assert!(!has_word("", "used"));
    }

    #[test]
    fn units_convert_within_a_dimension() {
        assert_eq!(unit("KG"), Some((0, 1000.0)));
        assert_eq!(unit("parsec"), None);
    }
}
