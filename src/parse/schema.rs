//! Strict validation against the official ACP JSON Schemas.
//!
//! Every wire type carries a static [`Shape`]: a faithful, compiled-in mirror
//! of its official JSON Schema (required fields, types, patterns, lengths,
//! ranges, enums, `additionalProperties: false`, `oneOf`/`anyOf`/`if-then`
//! rules). [`validate`] walks a JSON value against a shape and reports
//! **every** violation, each with the RFC 9535 JSONPath of the offending
//! value, usable as the ACP `Error.param`.
//!
//! Parsing is lenient by default (unknown fields and enum values are kept);
//! strict validation is opt-in through [`crate::parse::from_slice_strict`] or
//! [`validate`] directly.

mod validate;

pub use validate::{Violation, ViolationKind, validate};

/// A compiled-in JSON Schema for one value.
#[derive(Debug)]
#[non_exhaustive]
pub enum Shape {
    /// Any JSON value.
    Any,
    /// `true` or `false`.
    Bool,
    /// A JSON integer.
    Integer(IntegerShape),
    /// Any JSON number.
    Number(NumberShape),
    /// A JSON string.
    String(StringShape),
    /// A JSON array.
    Array(ArrayShape),
    /// A JSON object.
    Object(ObjectShape),
    /// Exactly one of the alternatives must match (`oneOf`).
    OneOf(&'static [&'static Shape]),
    /// An object discriminated by a constant string member (a `oneOf` whose
    /// branches each fix `tag` to a distinct `const`).
    Tagged(TaggedShape),
    /// Exactly this JSON value (`const` with a non-string value), as JSON text.
    Const(&'static str),
    /// The shape of a named wire type, resolved lazily (allows recursion).
    Ref(fn() -> &'static Shape),
}

/// Constraints on a JSON integer.
#[derive(Debug, Default)]
pub struct IntegerShape {
    /// `minimum`, inclusive.
    pub minimum: Option<i64>,
    /// `maximum`, inclusive.
    pub maximum: Option<i64>,
}

/// Constraints on a JSON number.
#[derive(Debug, Default)]
pub struct NumberShape {
    /// `minimum`, inclusive.
    pub minimum: Option<f64>,
    /// `exclusiveMinimum`: the value must be strictly greater. The 2025-09-29
    /// `Item.quantity` writes it in draft-04 form (`minimum: 0,
    /// exclusiveMinimum: true`); the generator reads that as its intent,
    /// "greater than 0", and puts the bound here.
    pub exclusive_minimum: Option<f64>,
    /// `maximum`, inclusive.
    pub maximum: Option<f64>,
}

/// A JSON Schema `format` this crate checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// RFC 3339 `date-time`.
    DateTime,
    /// RFC 3986 absolute `uri`.
    Uri,
    /// An e-mail address (`local@domain`).
    Email,
}

/// Constraints on a JSON string.
#[derive(Debug, Default)]
pub struct StringShape {
    /// `minLength`, in characters.
    pub min_length: Option<usize>,
    /// `maxLength`, in characters.
    pub max_length: Option<usize>,
    /// `pattern` (ECMA-262 syntax restricted to what the `regex` crate reads).
    pub pattern: Option<&'static Pattern>,
    /// `format`.
    pub format: Option<Format>,
    /// `enum`: the closed list of allowed values.
    pub values: Option<&'static [&'static str]>,
    /// `const`.
    pub constant: Option<&'static str>,
    /// A representation constraint of this crate's type, stricter than the
    /// schema (for example three ASCII letters for a currency). A violation
    /// is reported like a pattern violation.
    pub representation: Option<Representation>,
}

impl StringShape {
    /// Any string: every constraint `None`. Generated shapes name the
    /// constraints they set and take the rest from here
    /// (`StringShape { max_length: Some(64), ..StringShape::ANY }`).
    pub const ANY: Self = Self {
        min_length: None,
        max_length: None,
        pattern: None,
        format: None,
        values: None,
        constant: None,
        representation: None,
    };
}

/// A JSON Schema `pattern`, compiled the first time a value is matched
/// against it and kept from then on (one lazily initialised cell per
/// pattern, no shared cache or lock on the validation path).
pub struct Pattern {
    source: &'static str,
    compiled: std::sync::OnceLock<Option<regex::Regex>>,
}

impl Pattern {
    /// A pattern from its ECMA-262 source; nothing is compiled yet.
    pub const fn new(source: &'static str) -> Self {
        Self {
            source,
            compiled: std::sync::OnceLock::new(),
        }
    }

    /// The pattern as the schema writes it.
    pub fn as_str(&self) -> &'static str {
        self.source
    }

    /// Whether `text` matches. A pattern the `regex` crate cannot read
    /// matches nothing: an unreadable pattern must not let values through
    /// silently (every compiled-in pattern is covered by tests).
    pub fn is_match(&self, text: &str) -> bool {
        self.compiled
            .get_or_init(|| {
                // ECMA-262 `\d` is ASCII-only; the `regex` crate's is Unicode-aware.
                regex::Regex::new(&self.source.replace("\\d", "[0-9]")).ok()
            })
            .as_ref()
            .is_some_and(|re| re.is_match(text))
    }
}

impl core::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Pattern({:?})", self.source)
    }
}

/// A constraint the crate's Rust type puts on a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Representation {
    /// Three ASCII letters ([`crate::primitives::Currency`]).
    Currency,
}

/// Constraints on a JSON array.
#[derive(Debug)]
pub struct ArrayShape {
    /// The shape of every item.
    pub items: &'static Shape,
    /// `minItems`.
    pub min_items: Option<usize>,
    /// `maxItems`.
    pub max_items: Option<usize>,
    /// `uniqueItems`.
    pub unique: bool,
}

/// What an object allows beyond its declared members.
#[derive(Debug)]
#[non_exhaustive]
pub enum Additional {
    /// Any other member (no `additionalProperties`, or `true`).
    Allowed,
    /// No other member (`additionalProperties: false`).
    Forbidden,
    /// Other members must match this shape (a map).
    Shape(&'static Shape),
}

/// A declared member of an object.
#[derive(Debug)]
pub struct FieldShape {
    /// The wire name.
    pub name: &'static str,
    /// Whether it is in `required`.
    pub required: bool,
    /// Its shape.
    pub shape: &'static Shape,
}

/// A constant a conditional rule compares a member against.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Constant {
    /// A string.
    Str(&'static str),
    /// A boolean.
    Bool(bool),
}

/// `if {member ∈ values} then {required: [...]}`.
#[derive(Debug)]
pub struct Conditional {
    /// The member the condition reads.
    pub member: &'static str,
    /// The condition holds when the member equals one of these.
    pub any_of: &'static [Constant],
    /// Members required when it holds.
    pub then_required: &'static [&'static str],
}

/// Constraints on a JSON object.
#[derive(Debug)]
pub struct ObjectShape {
    /// The official name of the type (`$defs` key), for messages.
    pub name: &'static str,
    /// Declared members.
    pub fields: &'static [FieldShape],
    /// What other members are allowed.
    pub additional: Additional,
    /// `anyOf` over `required` sets: at least one set must be present.
    pub any_of_required: &'static [&'static [&'static str]],
    /// `if`/`then` rules.
    pub conditionals: &'static [Conditional],
    /// Declared members that a closed `allOf` branch forbids anyway (a schema
    /// defect reproduced faithfully, e.g. `DelegateAuthenticationSessionWithResult`).
    pub forbidden: &'static [&'static str],
    /// `minProperties`.
    pub min_properties: Option<usize>,
}

/// An object union dispatched on a constant member.
#[derive(Debug)]
pub struct TaggedShape {
    /// The discriminating member (`type`).
    pub tag: &'static str,
    /// Each tag value and the shape it selects.
    pub variants: &'static [(&'static str, &'static Shape)],
}

/// A wire type with a compiled-in official schema.
pub trait WireType: serde::Serialize + serde::de::DeserializeOwned {
    /// The official `<bundle>.<Name>` of the type, e.g. `agentic_checkout.Buyer`.
    const SCHEMA_NAME: &'static str;

    /// The type's shape.
    fn shape() -> &'static Shape;
}

impl Shape {
    /// Follows [`Shape::Ref`]s to the concrete shape.
    pub fn resolve(&self) -> &Self {
        let mut shape = self;
        // A chain of references is at most a few links long; the bound only
        // guards against a reference cycle written by mistake.
        for _ in 0..32 {
            match shape {
                Self::Ref(target) => shape = target(),
                other => return other,
            }
        }
        shape
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    #[test]
    fn a_pattern_compiles_once_on_first_use() {
        static P: Pattern = Pattern::new("^[a-z]{3}$");
        assert!(P.compiled.get().is_none());
        assert!(P.is_match("usd"));
        let first = P
            .compiled
            .get()
            .and_then(Option::as_ref)
            .map(core::ptr::from_ref);
        assert!(first.is_some());
        assert!(!P.is_match("USD"));
        let second = P
            .compiled
            .get()
            .and_then(Option::as_ref)
            .map(core::ptr::from_ref);
        assert_eq!(first, second);
        assert_eq!(format!("{P:?}"), "Pattern(\"^[a-z]{3}$\")");
    }
}
