//! RFC 8785 JSON Canonicalization Scheme (JCS).
//!
//! ACP signs requests over "the canonical JSON" of the body (SIG-01, SIG-02, SIG-04) and
//! compares request bodies for idempotency by semantic equality (IDEM-05), for which
//! RFC 8785 plus SHA-256 is the informative implementation (IDEM-06). This module turns any
//! JSON text into its one canonical byte sequence:
//!
//! - **Objects**: members sorted by their names compared as arrays of UTF-16 code units
//!   (RFC 8785 §3.2.3), so `"\u{e9}"` sorts before `"\u{1f600}"`, which sorts before
//!   `"\u{fb33}"`.
//! - **No whitespace** between tokens (§3.2.1).
//! - **Strings** (§3.2.2.2): only `"`, `\` and the control characters below U+0020 are escaped,
//!   using `\b \t \n \f \r` where they exist and `\u00xx` (lower-case hex) otherwise; every
//!   other character, including `/`, DEL and non-ASCII, is written as literal UTF-8.
//! - **Numbers** (§3.2.2.3): every number is an IEEE-754 double and is written with the
//!   ECMAScript `Number.prototype.toString` algorithm: the shortest digit string that reads
//!   back as the same double, in plain notation for decimal exponents from -7 to 20 and in
//!   exponent notation (`1e+21`, `1e-7`) outside; `-0` is written `0`.
//!
//! # Why doubles
//!
//! RFC 8785 builds on I-JSON (RFC 7493), where a number *is* an IEEE-754 double, and on
//! ECMAScript's serializer, so that any JavaScript runtime produces the same bytes with
//! `JSON.stringify`. A consequence that ACP relies on (IDEM-05): `1.0`, `1`, `1e0` and `10e-1`
//! all canonicalize to `1`. Integers beyond ±2^53 lose precision (they become the nearest
//! double, as RFC 8785 requires); ACP amounts are integer minor units well below 2^53, so they
//! stay exact.
//!
//! # Strict input
//!
//! [`canonicalize`] parses the input itself instead of going through `serde_json::Value`,
//! because canonical JSON must not guess. It rejects, with a typed [`CanonicalJsonError`]:
//!
//! - duplicate member names in one object (serde's `Value` would silently keep the last one);
//! - `\u` escapes that leave a lone UTF-16 surrogate (I-JSON §2.1; such strings have no UTF-8
//!   form);
//! - numbers whose magnitude is too large for a double (`1e400`); numbers too small to
//!   represent become `0`, as in ECMAScript;
//! - invalid UTF-8, a byte order mark, and anything after the top-level value other than
//!   JSON whitespace;
//! - nesting deeper than [`MAX_DEPTH`] arrays and objects (so hostile input cannot overflow
//!   the stack).
//!
//! # Exact numbers (signatures and idempotency)
//!
//! RFC 8785 turns every number into a double, so some numbers **change value** on the way:
//! `9007199254740993` (2^53 + 1) canonicalizes to `9007199254740992`, and two bodies that differ
//! only there get the same canonical bytes, hence the same signature and fingerprint, while a
//! typed parse reads the exact `i64` from each. [`canonicalize_exact`],
//! [`canonicalize_value_exact`] and [`canonicalize_serialize_exact`] (used by
//! [`crate::trust::signature`] and [`crate::trust::idempotency::Fingerprint`]) therefore also reject, with
//! [`CanonicalJsonError::InexactNumber`], any number whose canonical form denotes a different
//! decimal value than the number as written (I-JSON, RFC 7493 §2.2):
//!
//! - **rejected**: `9007199254740993` (becomes `…992`), `1152921504606846976` (2^60, exactly a
//!   double, but written `1152921504606847000`), `1e-400` (becomes `0`),
//!   `0.1000000000000000055511151231257827` (becomes `0.1`); `1e400` is
//!   [`CanonicalJsonError::NumberOutOfRange`] as before;
//! - **accepted**: every integer of magnitude up to 2^53 = `9007199254740992` inclusive (exactly
//!   2^53 is written as itself, and `…993` is rejected, so no two accepted bodies collide), and
//!   larger ones that are written as themselves (`9007199254740994`); `0.1`, `1.0` (same value
//!   as `1`), `-0` (zero), `1e21`, `0.30000000000000004`: every decimal whose shortest
//!   round-trip digits are the digits written.
//!
//! The rule is on decimal values, so any reader (`i64`, `u64`, `f64` or a decimal type) reads
//! the same numbers from two accepted bodies with equal canonical bytes. Numbers of at most 15
//! significant digits in the normal double range always pass, with no extra work beyond
//! counting digits; longer ones cost one shortest-digits conversion each.
//!
//! Errors carry an RFC 9535 JSON path such as `$.line_items[0].quantity` or `$['a b']` where
//! one is meaningful. Running time is linear in the input apart from sorting each object's
//! members.
//!
//! ```
//! use agentic_commerce::trust::canonical::canonicalize;
//!
//! let canonical = canonicalize(br#" { "b": 1.0, "a": [true, null, "\u00e9"] } "#)?;
//! assert_eq!(canonical, "{\"a\":[true,null,\"\u{e9}\"],\"b\":1}".as_bytes());
//! # Ok::<(), agentic_commerce::trust::canonical::CanonicalJsonError>(())
//! ```

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::{self, Write as _};

use serde_json::Value;

/// The deepest nesting of arrays and objects accepted (the top-level container is depth 1).
///
/// The same limit `serde_json` applies when it parses text.
pub const MAX_DEPTH: usize = 128;

/// Why a JSON text or value has no RFC 8785 canonical form.
///
/// `path` fields are RFC 9535 JSON path expressions (`$`, `$.a[0]`, `$['a b']`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CanonicalJsonError {
    /// The input is not JSON text (RFC 8259 grammar).
    #[error("invalid JSON at byte {offset}: {reason}")]
    Syntax {
        /// Byte offset into the input where the problem was found.
        offset: usize,
        /// What was wrong there.
        reason: &'static str,
    },
    /// The input is not valid UTF-8.
    #[error("input is not valid UTF-8 (first bad byte at offset {offset})")]
    InvalidUtf8 {
        /// Byte offset of the first byte that is not part of valid UTF-8.
        offset: usize,
    },
    /// An object has two members with the same name (after unescaping).
    #[error("duplicate member name at {path}")]
    DuplicateKey {
        /// Path of the repeated member.
        path: String,
    },
    /// A `\u` escape leaves a lone UTF-16 surrogate. For a member name, `path` is the object
    /// that holds it.
    #[error("lone UTF-16 surrogate escape in a string at {path}")]
    LoneSurrogate {
        /// Path of the string value, or of the object whose member name is affected.
        path: String,
    },
    /// A number's magnitude is too large for an IEEE-754 double.
    #[error("number at {path} is too large for an IEEE-754 double")]
    NumberOutOfRange {
        /// Path of the number.
        path: String,
    },
    /// A number's canonical form denotes a different value than the number as written (for
    /// example `9007199254740993`, which RFC 8785 writes `9007199254740992`); only from the
    /// `_exact` functions. See [exact numbers](self#exact-numbers-signatures-and-idempotency).
    #[error("number at {path} would change value in canonical JSON (I-JSON, RFC 7493)")]
    InexactNumber {
        /// Path of the number.
        path: String,
    },
    /// Arrays and objects nest deeper than [`MAX_DEPTH`].
    #[error("arrays and objects nest deeper than {limit} levels at {path}")]
    NestingTooDeep {
        /// Path of the first container beyond the limit.
        path: String,
        /// The limit that was exceeded ([`MAX_DEPTH`]).
        limit: usize,
    },
    /// A Rust value could not be serialized to JSON by `serde_json`
    /// (only from [`canonicalize_serialize`]).
    #[error("value cannot be serialized to JSON: {message}")]
    Serialization {
        /// `serde_json`'s description of the failure.
        message: String,
    },
}

impl CanonicalJsonError {
    /// A stable snake-case name for the kind of error, e.g. `duplicate_key`, suitable for the
    /// `code` of an ACP error object.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Syntax { .. } => "syntax",
            Self::InvalidUtf8 { .. } => "invalid_utf8",
            Self::DuplicateKey { .. } => "duplicate_key",
            Self::LoneSurrogate { .. } => "lone_surrogate",
            Self::NumberOutOfRange { .. } => "number_out_of_range",
            Self::InexactNumber { .. } => "inexact_number",
            Self::NestingTooDeep { .. } => "nesting_too_deep",
            Self::Serialization { .. } => "serialization",
        }
    }

    /// The RFC 9535 JSON path of the offending value, when the error has one.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::DuplicateKey { path }
            | Self::LoneSurrogate { path }
            | Self::NumberOutOfRange { path }
            | Self::InexactNumber { path }
            | Self::NestingTooDeep { path, .. } => Some(path),
            Self::Syntax { .. } | Self::InvalidUtf8 { .. } | Self::Serialization { .. } => None,
        }
    }
}

/// Canonicalizes JSON text per RFC 8785.
///
/// The input must be UTF-8 JSON text (leading and trailing JSON whitespace is allowed). The
/// output is always valid UTF-8 and has no trailing newline.
///
/// # Errors
///
/// Any [`CanonicalJsonError`] except `Serialization`; see the [module docs](self) for what is
/// rejected.
pub fn canonicalize(json: &[u8]) -> Result<Vec<u8>, CanonicalJsonError> {
    canonicalize_with(json, false)
}

/// [`canonicalize`], and also rejects any number whose canonical form denotes a different
/// value ([`CanonicalJsonError::InexactNumber`]; see
/// [exact numbers](self#exact-numbers-signatures-and-idempotency)). What request signatures
/// and idempotency fingerprints use.
///
/// # Errors
///
/// As [`canonicalize`], and [`CanonicalJsonError::InexactNumber`].
pub fn canonicalize_exact(json: &[u8]) -> Result<Vec<u8>, CanonicalJsonError> {
    canonicalize_with(json, true)
}

fn canonicalize_with(json: &[u8], exact: bool) -> Result<Vec<u8>, CanonicalJsonError> {
    let text = std::str::from_utf8(json).map_err(|e| CanonicalJsonError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    let mut parser = Parser {
        text,
        bytes: json,
        pos: 0,
        path: Vec::new(),
        exact,
    };
    parser.skip_ws();
    let node = parser.value(0)?;
    parser.skip_ws();
    if parser.pos != json.len() {
        return Err(parser.syntax("unexpected characters after the JSON value"));
    }
    let mut out = Vec::with_capacity(json.len());
    write_node(&mut out, &node);
    Ok(out)
}

/// A request body with its exact canonical form ([`canonicalize_exact`]), computed once.
///
/// The request signature (SIG-01) and the idempotency fingerprint (IDEM-06) both cover the
/// exact canonical body; a server that checks both canonicalizes once with this type and hands
/// it to [`Verifier::verify_canonical`](crate::trust::signature::Verifier::verify_canonical)
/// and [`Fingerprint::of_canonical_body`](crate::trust::idempotency::Fingerprint::of_canonical_body).
/// The canonical form can only be made from the raw body it travels with.
///
/// An empty body (a cancel sent without one) has the empty canonical form, as
/// [`Fingerprint::of_body`](crate::trust::idempotency::Fingerprint::of_body) treats it.
///
/// `Debug` prints lengths only: a body may carry card data (DP-19).
#[derive(Clone, PartialEq, Eq)]
pub struct CanonicalBody<'a> {
    raw: &'a [u8],
    canonical: Vec<u8>,
}

impl<'a> CanonicalBody<'a> {
    /// Canonicalizes `raw` (exact numbers).
    ///
    /// # Errors
    ///
    /// As [`canonicalize_exact`], for a non-empty body.
    pub fn new(raw: &'a [u8]) -> Result<Self, CanonicalJsonError> {
        let canonical = if raw.is_empty() {
            Vec::new()
        } else {
            canonicalize_exact(raw)?
        };
        Ok(Self { raw, canonical })
    }

    /// The body exactly as received.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Its canonical form (empty for an empty body).
    pub fn canonical(&self) -> &[u8] {
        &self.canonical
    }
}

impl fmt::Debug for CanonicalBody<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CanonicalBody")
            .field("raw_len", &self.raw.len())
            .field("canonical_len", &self.canonical.len())
            .finish()
    }
}

/// Canonicalizes JSON text per RFC 8785 and returns it as a `String`.
///
/// # Errors
///
/// As [`canonicalize`].
pub fn canonicalize_to_string(json: &[u8]) -> Result<String, CanonicalJsonError> {
    canonicalize(json).map(bytes_to_string)
}

/// Canonicalizes a `serde_json::Value` per RFC 8785.
///
/// A `Value` cannot hold duplicate member names, lone surrogates or non-finite numbers, so the
/// checks of [`canonicalize`] are unnecessary. Integers beyond ±2^53 are written as the
/// nearest double (for example `18446744073709551615` becomes `18446744073709552000`), as RFC
/// 8785 requires; ACP amounts are integers far below 2^53 and stay exact.
///
/// # Errors
///
/// [`CanonicalJsonError::NestingTooDeep`] if the value nests deeper than [`MAX_DEPTH`], and
/// [`CanonicalJsonError::NumberOutOfRange`] for an out-of-range number (possible only when
/// `serde_json`'s `arbitrary_precision` feature is enabled).
pub fn canonicalize_value(value: &Value) -> Result<Vec<u8>, CanonicalJsonError> {
    // The initial capacity `serde_json::to_vec` uses.
    let mut out = Vec::with_capacity(128);
    write_value(&mut out, value, 0).map_err(ValueError::into_error)?;
    Ok(out)
}

/// [`canonicalize_value`], and also rejects an integer whose canonical form denotes a different
/// integer ([`CanonicalJsonError::InexactNumber`], for example `9007199254740993`).
///
/// A `Value` holds no number text: a floating-point `Value` is already a double (the text it
/// was parsed from may have been rounded), so only integers can be checked. Fingerprint and
/// verify the raw body with [`canonicalize_exact`] where you have it.
///
/// # Errors
///
/// As [`canonicalize_value`], and [`CanonicalJsonError::InexactNumber`].
pub fn canonicalize_value_exact(value: &Value) -> Result<Vec<u8>, CanonicalJsonError> {
    let out = canonicalize_value(value)?;
    // The depth is within `MAX_DEPTH` here, so the walk cannot overflow the stack.
    let mut path = String::from("$");
    if check_value_exact(value, &mut path) {
        Ok(out)
    } else {
        Err(CanonicalJsonError::InexactNumber { path })
    }
}

/// Whether every integer in `value` is written as itself; on `false`, `path` is the path of
/// the first one that is not.
fn check_value_exact(value: &Value, path: &mut String) -> bool {
    match value {
        Value::Number(n) => {
            if n.is_f64() {
                return true;
            }
            let mut buffer = itoa::Buffer::new();
            let (text, fits) = match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => (buffer.format(u), u < EXACT_INTEGER_LIMIT),
                (None, Some(i)) => (buffer.format(i), i.unsigned_abs() < EXACT_INTEGER_LIMIT),
                (None, None) => return true,
            };
            fits || n.as_f64().is_some_and(|v| denotes_same_number(text, v))
        }
        Value::Array(items) => items.iter().enumerate().all(|(i, item)| {
            let len = path.len();
            let _ = write!(path, "[{i}]");
            let ok = check_value_exact(item, path);
            if ok {
                path.truncate(len);
            }
            ok
        }),
        Value::Object(map) => map.iter().all(|(name, item)| {
            let len = path.len();
            push_path_name(path, name);
            let ok = check_value_exact(item, path);
            if ok {
                path.truncate(len);
            }
            ok
        }),
        Value::Null | Value::Bool(_) | Value::String(_) => true,
    }
}

/// Canonicalizes a `serde_json::Value` per RFC 8785 and returns it as a `String`.
///
/// # Errors
///
/// As [`canonicalize_value`].
pub fn value_to_canonical_string(value: &Value) -> Result<String, CanonicalJsonError> {
    canonicalize_value(value).map(bytes_to_string)
}

/// Serializes `value` with `serde_json` and canonicalizes the resulting text.
///
/// Going through text (not `serde_json::Value`) means a serializer that emits the same member
/// name twice (for example through `#[serde(flatten)]`) is reported as
/// [`CanonicalJsonError::DuplicateKey`] instead of silently losing a member. Note that
/// `serde_json` writes non-finite floats as `null`.
///
/// # Errors
///
/// [`CanonicalJsonError::Serialization`] when `serde_json` cannot serialize the value (for
/// example a map with non-string keys), otherwise as [`canonicalize`].
pub fn canonicalize_serialize<T: serde::Serialize + ?Sized>(
    value: &T,
) -> Result<Vec<u8>, CanonicalJsonError> {
    let text = serde_json::to_vec(value).map_err(|e| CanonicalJsonError::Serialization {
        message: e.to_string(),
    })?;
    canonicalize(&text)
}

/// [`canonicalize_serialize`] with the number check of [`canonicalize_exact`].
///
/// # Errors
///
/// As [`canonicalize_serialize`], and [`CanonicalJsonError::InexactNumber`].
pub fn canonicalize_serialize_exact<T: serde::Serialize + ?Sized>(
    value: &T,
) -> Result<Vec<u8>, CanonicalJsonError> {
    let text = serde_json::to_vec(value).map_err(|e| CanonicalJsonError::Serialization {
        message: e.to_string(),
    })?;
    canonicalize_exact(&text)
}

/// Formats a double with ECMAScript's `Number::toString(x)` (radix 10), the number
/// serialization of RFC 8785 §3.2.2.3.
///
/// Returns `None` for NaN and the infinities, which JSON cannot represent.
///
/// ```
/// use agentic_commerce::trust::canonical::number_to_string;
///
/// assert_eq!(number_to_string(1e21).as_deref(), Some("1e+21"));
/// assert_eq!(number_to_string(1e-7).as_deref(), Some("1e-7"));
/// assert_eq!(number_to_string(0.000001).as_deref(), Some("0.000001"));
/// assert_eq!(number_to_string(-0.0).as_deref(), Some("0"));
/// assert_eq!(number_to_string(f64::NAN), None);
/// ```
pub fn number_to_string(value: f64) -> Option<String> {
    if !value.is_finite() {
        return None;
    }
    let mut out = Vec::new();
    write_number(&mut out, value);
    Some(bytes_to_string(out))
}

/// Compares two strings as sequences of UTF-16 code units, the member order of RFC 8785
/// §3.2.3 (and of JavaScript's default `Array.prototype.sort`).
pub fn cmp_utf16(a: &str, b: &str) -> Ordering {
    // UTF-8 byte order is code point order. UTF-16 order differs from it only where the first
    // differing characters are one in U+E000..=U+FFFF (UTF-8 lead byte 0xEE or 0xEF, one code
    // unit at or above 0xE000) and one supplementary character (lead byte 0xF0..=0xF4, a
    // surrogate pair starting below 0xDC00). Since both strings are valid UTF-8 and agree
    // before the first differing byte, that byte is a lead byte on both sides or a
    // continuation byte (below 0xC0) on both sides.
    let (left, right) = (a.as_bytes(), b.as_bytes());
    match left.iter().zip(right).find(|(lb, rb)| lb != rb) {
        None => left.len().cmp(&right.len()),
        Some((&lb, &rb)) => {
            if lb >= 0xEE && rb >= 0xEE && (lb >= 0xF0) != (rb >= 0xF0) {
                rb.cmp(&lb)
            } else {
                lb.cmp(&rb)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// A parsed JSON value. Strings without escapes borrow from the input (most strings in a
/// request body have none), so parsing allocates only for containers and escaped strings.
enum Node<'a> {
    Null,
    Bool(bool),
    Number(f64),
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    /// Members sorted by [`cmp_utf16`] once the object is complete.
    Object(Vec<Member<'a>>),
}

/// One object member as parsed.
struct Member<'a> {
    name: Cow<'a, str>,
    /// Byte offset of the opening quote of the (escaped) name, for error paths.
    at: usize,
    value: Node<'a>,
}

/// One step of the path to the value being parsed.
enum Segment {
    /// A member; the byte offset of the opening quote of its (escaped) name.
    Member(usize),
    /// An array element.
    Index(usize),
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    path: Vec<Segment>,
    /// Reject numbers that change value ([`canonicalize_exact`]).
    exact: bool,
}

impl<'a> Parser<'a> {
    fn syntax(&self, reason: &'static str) -> CanonicalJsonError {
        CanonicalJsonError::Syntax {
            offset: self.pos,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Renders the current path as an RFC 9535 JSON path.
    fn render_path(&self) -> String {
        let mut out = String::from("$");
        for segment in &self.path {
            match segment {
                Segment::Index(i) => {
                    let _ = write!(out, "[{i}]");
                }
                Segment::Member(at) => {
                    // The name parsed successfully before, so it parses again.
                    let name = decode_string(self.text, *at).map_or(Cow::Borrowed(""), |s| s.0);
                    push_path_name(&mut out, &name);
                }
            }
        }
        out
    }

    fn expect_literal(
        &mut self,
        literal: &'static [u8],
        node: Node<'a>,
    ) -> Result<Node<'a>, CanonicalJsonError> {
        if self.bytes.get(self.pos..self.pos + literal.len()) == Some(literal) {
            self.pos += literal.len();
            Ok(node)
        } else {
            Err(self.syntax("invalid literal"))
        }
    }

    /// Parses one value at `self.pos` (whitespace already skipped); `depth` is the number of
    /// containers around it.
    fn value(&mut self, depth: usize) -> Result<Node<'a>, CanonicalJsonError> {
        match self.peek() {
            None => Err(self.syntax("unexpected end of input")),
            Some(b'n') => self.expect_literal(b"null", Node::Null),
            Some(b't') => self.expect_literal(b"true", Node::Bool(true)),
            Some(b'f') => self.expect_literal(b"false", Node::Bool(false)),
            Some(b'"') => self.string().map(Node::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => {
                self.enter(depth)?;
                self.array(depth + 1)
            }
            Some(b'{') => {
                self.enter(depth)?;
                self.object(depth + 1)
            }
            Some(_) => Err(self.syntax("expected a JSON value")),
        }
    }

    fn enter(&self, depth: usize) -> Result<(), CanonicalJsonError> {
        if depth >= MAX_DEPTH {
            Err(CanonicalJsonError::NestingTooDeep {
                path: self.render_path(),
                limit: MAX_DEPTH,
            })
        } else {
            Ok(())
        }
    }

    fn string(&mut self) -> Result<Cow<'a, str>, CanonicalJsonError> {
        match decode_string(self.text, self.pos) {
            Ok((s, end)) => {
                self.pos = end;
                Ok(s)
            }
            Err(StringError::Syntax(offset, reason)) => {
                Err(CanonicalJsonError::Syntax { offset, reason })
            }
            Err(StringError::LoneSurrogate) => Err(CanonicalJsonError::LoneSurrogate {
                path: self.render_path(),
            }),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Node<'a>, CanonicalJsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let mut digit_count = match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                1
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.syntax("expected a digit")),
        };
        if self.peek() == Some(b'.') {
            self.pos += 1;
            let fraction = self.digits();
            if fraction == 0 {
                return Err(self.syntax("expected a digit after the decimal point"));
            }
            digit_count += fraction;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.syntax("expected a digit in the exponent"));
            }
        }
        let literal = self.text.get(start..self.pos).unwrap_or("");
        // The grammar above is a subset of what `f64::from_str` accepts, and Rust's parser
        // rounds correctly (round half to even), as ECMAScript's does.
        match literal.parse::<f64>() {
            // Fast path: at most 15 significant digits (DBL_DIG) in the normal range always
            // come back as the same digits.
            Ok(v)
                if self.exact
                    && v.is_finite()
                    && !(digit_count <= 15 && v.is_normal())
                    && !denotes_same_number(literal, v) =>
            {
                Err(CanonicalJsonError::InexactNumber {
                    path: self.render_path(),
                })
            }
            Ok(v) if v.is_finite() => Ok(Node::Number(v)),
            Ok(_) => Err(CanonicalJsonError::NumberOutOfRange {
                path: self.render_path(),
            }),
            Err(_) => Err(CanonicalJsonError::Syntax {
                offset: start,
                reason: "invalid number",
            }),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Node<'a>, CanonicalJsonError> {
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Node::Array(items));
        }
        loop {
            self.path.push(Segment::Index(items.len()));
            self.skip_ws();
            let item = self.value(depth)?;
            self.path.pop();
            items.push(item);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Node::Array(items));
                }
                None => return Err(self.syntax("unterminated array")),
                Some(_) => return Err(self.syntax("expected `,` or `]` in array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Node<'a>, CanonicalJsonError> {
        self.pos += 1; // '{'
        let mut members: Vec<Member<'a>> = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Node::Object(Vec::new()));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.syntax("expected a member name string"));
            }
            let name_at = self.pos;
            let name = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.syntax("expected `:` after member name"));
            }
            self.pos += 1;
            self.skip_ws();
            self.path.push(Segment::Member(name_at));
            let value = self.value(depth)?;
            self.path.pop();
            members.push(Member {
                name,
                at: name_at,
                value,
            });
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                None => return Err(self.syntax("unterminated object")),
                Some(_) => return Err(self.syntax("expected `,` or `}` in object")),
            }
        }
        // Stable sort, so the first of two equal names is reported by its later twin. The
        // standard sort is linear on input that is already in order (a common case).
        members.sort_by(|a, b| cmp_utf16(&a.name, &b.name));
        if let Some(pair) = members.windows(2).find(|w| w[0].name == w[1].name) {
            let at = pair[0].at.max(pair[1].at);
            self.path.push(Segment::Member(at));
            let path = self.render_path();
            self.path.pop();
            return Err(CanonicalJsonError::DuplicateKey { path });
        }
        Ok(Node::Object(members))
    }
}

enum StringError {
    Syntax(usize, &'static str),
    LoneSurrogate,
}

/// Decodes the JSON string whose opening quote is at byte `start`; returns the string and the
/// offset just past its closing quote. A string without escapes is borrowed from `text`.
fn decode_string(text: &str, start: usize) -> Result<(Cow<'_, str>, usize), StringError> {
    let bytes = text.as_bytes();
    let mut pos = start + 1;
    // Fast scan: most strings have no escape, so they need no copy.
    while let Some(&b) = bytes.get(pos) {
        if b == b'"' {
            // `start` and `pos` are ASCII bytes, hence char boundaries.
            return Ok((
                Cow::Borrowed(text.get(start + 1..pos).unwrap_or("")),
                pos + 1,
            ));
        }
        if b == b'\\' || b < 0x20 {
            break;
        }
        pos += 1;
    }
    let mut out = String::new();
    let mut run = start + 1;
    loop {
        match bytes.get(pos) {
            None => return Err(StringError::Syntax(pos, "unterminated string")),
            Some(b'"') => {
                // Run boundaries sit on ASCII bytes, hence on char boundaries.
                out.push_str(text.get(run..pos).unwrap_or(""));
                return Ok((Cow::Owned(out), pos + 1));
            }
            Some(b'\\') => {
                out.push_str(text.get(run..pos).unwrap_or(""));
                pos = decode_escape(bytes, pos, &mut out)?;
                run = pos;
            }
            Some(0x00..=0x1f) => {
                return Err(StringError::Syntax(
                    pos,
                    "unescaped control character in string",
                ));
            }
            Some(_) => pos += 1,
        }
    }
}

/// Decodes the escape sequence whose backslash is at `pos`; returns the offset after it.
fn decode_escape(bytes: &[u8], pos: usize, out: &mut String) -> Result<usize, StringError> {
    let c = match bytes.get(pos + 1) {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => {
            let first = hex4(bytes, pos + 2)?;
            let (code, end) = match first {
                0xD800..=0xDBFF => {
                    if bytes.get(pos + 6) == Some(&b'\\') && bytes.get(pos + 7) == Some(&b'u') {
                        let second = hex4(bytes, pos + 8)?;
                        if (0xDC00..=0xDFFF).contains(&second) {
                            let code = 0x10000
                                + ((u32::from(first) - 0xD800) << 10)
                                + (u32::from(second) - 0xDC00);
                            (code, pos + 12)
                        } else {
                            return Err(StringError::LoneSurrogate);
                        }
                    } else {
                        return Err(StringError::LoneSurrogate);
                    }
                }
                0xDC00..=0xDFFF => return Err(StringError::LoneSurrogate),
                _ => (u32::from(first), pos + 6),
            };
            let c = char::from_u32(code).ok_or(StringError::LoneSurrogate)?;
            out.push(c);
            return Ok(end);
        }
        Some(_) => return Err(StringError::Syntax(pos, "invalid escape sequence")),
        None => return Err(StringError::Syntax(pos, "unterminated string")),
    };
    out.push(c);
    Ok(pos + 2)
}

/// Reads four hex digits at `pos`.
fn hex4(bytes: &[u8], pos: usize) -> Result<u16, StringError> {
    let mut value = [0_u8; 2];
    if let Some(digits) = bytes.get(pos..pos + 4) {
        if hex::decode_to_slice(digits, &mut value).is_ok() {
            return Ok(u16::from_be_bytes(value));
        }
    }
    // The position of the first byte that is not a hex digit.
    let bad = (0..4)
        .find(|&i| !bytes.get(pos + i).is_some_and(u8::is_ascii_hexdigit))
        .unwrap_or(0);
    Err(StringError::Syntax(
        pos + bad,
        "expected four hex digits in \\u escape",
    ))
}

// ---------------------------------------------------------------------------------------------
// Writing

fn bytes_to_string(bytes: Vec<u8>) -> String {
    // Canonical output is built from `str`s and ASCII, so it is always UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn write_node(out: &mut Vec<u8>, node: &Node<'_>) {
    match node {
        Node::Null => out.extend_from_slice(b"null"),
        Node::Bool(true) => out.extend_from_slice(b"true"),
        Node::Bool(false) => out.extend_from_slice(b"false"),
        Node::Number(v) => write_number(out, *v),
        Node::String(s) => write_string(out, s),
        Node::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_node(out, item);
            }
            out.push(b']');
        }
        Node::Object(members) => {
            // Members are already sorted by `Parser::object`.
            out.push(b'{');
            for (i, member) in members.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, &member.name);
                out.push(b':');
                write_node(out, &member.value);
            }
            out.push(b'}');
        }
    }
}

/// Path segments for [`write_value`] errors.
enum ValueSegment<'v> {
    Member(&'v str),
    Index(usize),
}

/// A [`write_value`] failure. The path is collected while the error unwinds (innermost
/// segment first), so the success path does no path bookkeeping at all.
struct ValueError<'v> {
    too_deep: bool,
    reversed_path: Vec<ValueSegment<'v>>,
}

impl<'v> ValueError<'v> {
    fn within(mut self, segment: ValueSegment<'v>) -> Self {
        self.reversed_path.push(segment);
        self
    }

    fn into_error(self) -> CanonicalJsonError {
        let mut path = String::from("$");
        for segment in self.reversed_path.iter().rev() {
            match segment {
                ValueSegment::Index(i) => {
                    let _ = write!(path, "[{i}]");
                }
                ValueSegment::Member(name) => push_path_name(&mut path, name),
            }
        }
        if self.too_deep {
            CanonicalJsonError::NestingTooDeep {
                path,
                limit: MAX_DEPTH,
            }
        } else {
            CanonicalJsonError::NumberOutOfRange { path }
        }
    }
}

/// Writes `value`; `depth` is the number of arrays and objects around it.
fn write_value<'v>(
    out: &mut Vec<u8>,
    value: &'v Value,
    depth: usize,
) -> Result<(), ValueError<'v>> {
    let fail = |too_deep| ValueError {
        too_deep,
        reversed_path: Vec::new(),
    };
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if !write_json_number(out, n) {
                return Err(fail(false));
            }
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            if depth >= MAX_DEPTH {
                return Err(fail(true));
            }
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item, depth + 1).map_err(|e| e.within(ValueSegment::Index(i)))?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            if depth >= MAX_DEPTH {
                return Err(fail(true));
            }
            out.push(b'{');
            if map.keys().all(|name| utf8_order_is_utf16_order(name)) {
                // `serde_json::Map` is a `BTreeMap` (this crate does not enable
                // `preserve_order`), iterated in byte order, which is then the RFC 8785 order.
                for (i, (name, item)) in map.iter().enumerate() {
                    write_member(out, i, name, item, depth)?;
                }
            } else {
                let mut members: Vec<(&String, &Value)> = map.iter().collect();
                members.sort_by(|a, b| cmp_utf16(a.0, b.0));
                for (i, (name, item)) in members.into_iter().enumerate() {
                    write_member(out, i, name, item, depth)?;
                }
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// Writes the `i`th member of an object at `depth`.
fn write_member<'v>(
    out: &mut Vec<u8>,
    i: usize,
    name: &'v str,
    value: &'v Value,
    depth: usize,
) -> Result<(), ValueError<'v>> {
    if i > 0 {
        out.push(b',');
    }
    write_string(out, name);
    out.push(b':');
    write_value(out, value, depth + 1).map_err(|e| e.within(ValueSegment::Member(name)))
}

/// Whether sorting `name` among other names by UTF-8 bytes gives the UTF-16 order of RFC 8785
/// §3.2.3, whatever the other names are: true when `name` has no character at or above U+E000
/// (no UTF-8 byte 0xEE or above), because below U+E000 UTF-8, UTF-16 and code point order
/// all agree. See [`cmp_utf16`].
fn utf8_order_is_utf16_order(name: &str) -> bool {
    name.is_ascii() || name.bytes().all(|b| b < 0xEE)
}

/// Writes a `serde_json` number; `false` if it has no double value (only possible with
/// `serde_json`'s `arbitrary_precision` feature).
fn write_json_number(out: &mut Vec<u8>, n: &serde_json::Number) -> bool {
    // Integers below 2^53 in magnitude are exact doubles that ECMAScript prints as plain
    // integers, so they skip the floating-point path.
    if let Some(u) = n.as_u64() {
        if u < EXACT_INTEGER_LIMIT {
            out.extend_from_slice(itoa::Buffer::new().format(u).as_bytes());
            return true;
        }
    } else if let Some(i) = n.as_i64() {
        if i.unsigned_abs() < EXACT_INTEGER_LIMIT {
            out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
            return true;
        }
    }
    match n.as_f64() {
        Some(v) if v.is_finite() => {
            write_number(out, v);
            true
        }
        _ => false,
    }
}

/// 2^53: every integer of smaller magnitude is exactly representable as a double, and its
/// ECMAScript form is its decimal digits.
const EXACT_INTEGER_LIMIT: u64 = 1 << 53;

/// For each byte: 0 if it is written as is inside a string, otherwise the character after the
/// backslash of its escape (`u` for `\u00xx`), per RFC 8785 §3.2.2.2.
const ESCAPE: [u8; 256] = {
    let mut table = [0_u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = b'u';
        i += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[0x22] = b'"';
    table[0x5c] = b'\\';
    table
};

/// Writes a JSON string per RFC 8785 §3.2.2.2 (ECMAScript `JSON.stringify`): runs of bytes
/// that need no escape are copied at once.
fn write_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = ESCAPE[usize::from(b)];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(bytes.get(run..i).unwrap_or_default());
        if escape == b'u' {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', escape]);
        }
        run = i + 1;
    }
    out.extend_from_slice(bytes.get(run..).unwrap_or_default());
    out.push(b'"');
}

/// The shortest decimal digits of a positive double: `value = 0.digits × 10^n` (ECMA-262
/// `Number::toString` calls the digits `s`, their count `k`, and the exponent `n`).
struct Decimal {
    /// ASCII digits; the first `len` are used, without leading or trailing zeros.
    digits: [u8; 40],
    len: usize,
    n: i64,
}

impl Decimal {
    fn digits(&self) -> &[u8] {
        self.digits.get(..self.len).unwrap_or_default()
    }

    /// Reads the digits and exponent out of a finite positive number in any of the decimal
    /// layouts `ryu` prints (`123.0`, `0.00123`, `1.5e-7`, `1e21`).
    fn from_text(text: &[u8]) -> Self {
        let mut decimal = Self {
            digits: [b'0'; 40],
            len: 0,
            n: 0,
        };
        // Digits before the decimal point (all of them when there is none), and zeros before
        // the first significant digit: value = 0.digits × 10^(int_digits - leading_zeros + e).
        let mut int_digits: i64 = 0;
        let mut seen_point = false;
        let mut leading_zeros: i64 = 0;
        let mut exponent: i64 = 0;
        for (i, &b) in text.iter().enumerate() {
            match b {
                b'0'..=b'9' => {
                    if !seen_point {
                        int_digits += 1;
                    }
                    if decimal.len == 0 && b == b'0' {
                        leading_zeros += 1;
                    } else if let Some(slot) = decimal.digits.get_mut(decimal.len) {
                        *slot = b;
                        decimal.len += 1;
                    }
                }
                b'.' => seen_point = true,
                b'e' | b'E' => {
                    exponent = parse_exponent(text.get(i + 1..).unwrap_or_default());
                    break;
                }
                _ => {}
            }
        }
        while decimal.len > 1 && decimal.digits.get(decimal.len - 1) == Some(&b'0') {
            decimal.len -= 1;
        }
        decimal.n = int_digits - leading_zeros + exponent;
        decimal
    }
}

/// Parses the exponent after the `e` of a `ryu` number (`21`, `-7`).
fn parse_exponent(text: &[u8]) -> i64 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        // `ryu` writes no `+`; a sign would be skipped with the other non-digits anyway.
        _ => (false, text),
    };
    let magnitude = digits
        .iter()
        .take(6)
        .filter(|d| d.is_ascii_digit())
        .fold(0_i64, |acc, &d| acc * 10 + i64::from(d - b'0'));
    if negative { -magnitude } else { magnitude }
}

/// Whether the JSON number `literal` denotes exactly the decimal value that the canonical form
/// of `value` (the double it parses to) denotes: the same significant digits and exponent as
/// the shortest round-trip digits of `value`, or zero on both sides. An infinite `value` is
/// never the same (it is reported as out of range anyway).
fn denotes_same_number(literal: &str, value: f64) -> bool {
    let bytes = literal.as_bytes();
    let bytes = bytes.strip_prefix(b"-").unwrap_or(bytes);
    let (mantissa, exponent) = match bytes.iter().position(|b| matches!(b, b'e' | b'E')) {
        Some(i) => {
            let (mantissa, rest) = bytes.split_at(i);
            (
                mantissa,
                literal_exponent(rest.get(1..).unwrap_or_default()),
            )
        }
        None => (bytes, 0),
    };
    let (int, frac) = match mantissa.iter().position(|&b| b == b'.') {
        Some(i) => {
            let (int, rest) = mantissa.split_at(i);
            (int, rest.get(1..).unwrap_or_default())
        }
        None => (mantissa, &[][..]),
    };
    let digits = || int.iter().chain(frac);
    let total = int.len() + frac.len();
    let leading = digits().take_while(|&&d| d == b'0').count();
    if leading == total {
        // The literal is zero (`0`, `-0.00`, `0e99`); so must the double be.
        return value == 0.0;
    }
    if value == 0.0 || !value.is_finite() {
        return false;
    }
    let trailing = frac
        .iter()
        .rev()
        .chain(int.iter().rev())
        .take_while(|&&d| d == b'0')
        .count();
    // literal = 0.<significant digits> × 10^n, the layout of `Decimal`.
    let to_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let n = to_i64(int.len())
        .saturating_sub(to_i64(leading))
        .saturating_add(exponent);
    let mut buffer = ryu::Buffer::new();
    let canonical = Decimal::from_text(buffer.format_finite(value.abs()).as_bytes());
    canonical.n == n
        && digits()
            .skip(leading)
            .take(total - leading - trailing)
            .eq(canonical.digits().iter())
}

/// The exponent of a JSON number (after the `e`, with an optional sign), saturated far beyond
/// any double's range.
fn literal_exponent(text: &[u8]) -> i64 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let magnitude = digits.iter().fold(0_i64, |acc, &d| {
        acc.saturating_mul(10)
            .saturating_add(i64::from(d.wrapping_sub(b'0')))
            .min(1 << 40)
    });
    if negative { -magnitude } else { magnitude }
}

/// Writes a finite double with ECMA-262 `Number::toString(x)`.
fn write_number(out: &mut Vec<u8>, value: f64) {
    if value == 0.0 {
        // Both +0 and -0.
        out.push(b'0');
        return;
    }
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        // An integer below 2^53 in magnitude: the conversion is exact and ECMAScript prints its
        // decimal digits.
        #[allow(clippy::cast_possible_truncation)]
        let integer = value as i64;
        out.extend_from_slice(itoa::Buffer::new().format(integer).as_bytes());
        return;
    }
    let value = if value < 0.0 {
        out.push(b'-');
        -value
    } else {
        value
    };
    // `ryu` prints the digits `s` of ECMA-262 `Number::toString` step 5: the shortest digit
    // string that reads back as the same double, the closest to the exact value among those,
    // and on an exact tie the even one (ryu's round-half-even). Rust's `{:e}` rounds such a
    // tie up instead (`1424953923781206.3` for the double `1424953923781206.25`); the 200 exact
    // ties of `tests/vectors/jcs_numbers.txt` (from Node.js) and
    // `exact_ties_between_two_shortest_digit_strings_pick_the_even_one` pin this.
    let mut buffer = ryu::Buffer::new();
    let decimal = Decimal::from_text(buffer.format_finite(value).as_bytes());
    let digits = decimal.digits();
    let n = decimal.n;
    let k = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    let zeros = |out: &mut Vec<u8>, count: i64| {
        for _ in 0..count {
            out.push(b'0');
        }
    };
    if k <= n && n <= 21 {
        // Integer: the digits followed by n - k zeros.
        out.extend_from_slice(digits);
        zeros(out, n - k);
    } else if 0 < n && n <= 21 {
        // Decimal point inside the digits.
        let split = usize::try_from(n).unwrap_or(0).min(digits.len());
        let (int, frac) = digits.split_at(split);
        out.extend_from_slice(int);
        out.push(b'.');
        out.extend_from_slice(frac);
    } else if -6 < n && n <= 0 {
        // 0.000ddd
        out.extend_from_slice(b"0.");
        zeros(out, -n);
        out.extend_from_slice(digits);
    } else {
        // Exponent form: d[.ddd]e±x
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.extend_from_slice(first);
        if !rest.is_empty() {
            out.push(b'.');
            out.extend_from_slice(rest);
        }
        out.push(b'e');
        out.push(if n - 1 < 0 { b'-' } else { b'+' });
        out.extend_from_slice(
            itoa::Buffer::new()
                .format((n - 1).unsigned_abs())
                .as_bytes(),
        );
    }
}

/// Appends `name` to an RFC 9535 JSON path: `.name` for RFC 9535 member-name shorthands, otherwise
/// `['name']` with the escapes of RFC 9535 normalized paths.
fn push_path_name(out: &mut String, name: &str) {
    let is_first = |c: char| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii();
    let is_shorthand = name.chars().next().is_some_and(is_first)
        && name.chars().all(|c| is_first(c) || c.is_ascii_digit());
    if is_shorthand {
        out.push('.');
        out.push_str(name);
        return;
    }
    out.push_str("['");
    for c in name.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push_str("']");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        canonicalize_to_string(s.as_bytes()).unwrap()
    }

    #[test]
    fn literals_and_whitespace() {
        assert_eq!(
            canon(" \t\r\n[ true , false , null ] \n"),
            "[true,false,null]"
        );
        assert_eq!(canon("{}"), "{}");
        assert_eq!(canon("[]"), "[]");
        assert_eq!(canon("\"\""), "\"\"");
    }

    #[test]
    fn string_escapes_rfc8785_3_2_2_2() {
        assert_eq!(
            canon(r#""\u0000\u0008\u0009\u000a\u000c\u000d\u001f\u0020\u007f\/\"\\""#),
            "\"\\u0000\\b\\t\\n\\f\\r\\u001f \u{7f}/\\\"\\\\\""
        );
        assert_eq!(canon(r#""\u00E9\ud83d\ude00""#), "\"\u{e9}\u{1f600}\"");
    }

    #[test]
    fn jsonpath_rendering() {
        let mut p = String::from("$");
        push_path_name(&mut p, "a_b1");
        push_path_name(&mut p, "a b");
        push_path_name(&mut p, "1a");
        push_path_name(&mut p, "it's\\\n\u{1}");
        push_path_name(&mut p, "");
        push_path_name(&mut p, "\u{e9}t\u{e9}");
        assert_eq!(
            p,
            "$.a_b1['a b']['1a']['it\\'s\\\\\\n\\u0001']['']\u{2e}\u{e9}t\u{e9}"
        );
    }

    #[test]
    fn duplicate_reports_escaped_name_path() {
        let err = canonicalize(br#"{"x":[{"a\u0020b":1,"a b":2}]}"#).unwrap_err();
        assert_eq!(
            err,
            CanonicalJsonError::DuplicateKey {
                path: "$.x[0]['a b']".into()
            }
        );
    }

    #[test]
    fn number_layout_branches() {
        for (v, s) in [
            (1.0, "1"),
            (123e18, "123000000000000000000"),
            (1.5, "1.5"),
            (0.5, "0.5"),
            (1.25e-6, "0.00000125"),
            (1.25e-7, "1.25e-7"),
            (1.25e21, "1.25e+21"),
            (-2.5e-300, "-2.5e-300"),
        ] {
            assert_eq!(number_to_string(v).unwrap(), s, "{v:e}");
        }
    }
}
