//! Parsing and serializing wire types, leniently (the default) or strictly.
//!
//! - [`from_slice`] / [`from_value`]: lenient. Unknown fields and unknown enum
//!   values are kept; only values the Rust type cannot hold fail, with the
//!   JSONPath of the failing value.
//! - [`from_slice_strict`] / [`from_value_strict`]: first validate against the
//!   official JSON Schema ([`crate::parse::schema`]), reporting every violation, then
//!   parse.
//! - [`feed_files`]: the offline product feed files (`metadata.json`, `products.jsonl`),
//!   streamed.

pub mod feed_files;
pub mod json_path;
pub mod registry;
pub mod schema;

use serde_json::Value;

use crate::parse::json_path::{JsonPath, Segment};
use crate::parse::schema::{Shape, Violation, ViolationKind, WireType, validate};

/// Why a payload could not be parsed into a wire type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} at {path}")]
pub struct ParseError {
    /// The JSONPath of the failing value (`$` for a syntax error before any value).
    pub path: JsonPath,
    /// What kind of failure.
    pub kind: ParseErrorKind,
    /// A human-readable explanation.
    pub message: String,
}

/// The kind of a [`ParseError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The bytes are not JSON (or not UTF-8, or end early, or have trailing data).
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
    },
    /// Valid JSON without a member the type requires.
    MissingField,
    /// Valid JSON with a value of the wrong JSON type (a string for a number, …).
    InvalidType,
    /// Valid JSON with a value of the right JSON type that the type cannot hold (an invalid
    /// timestamp, URI or currency, a wrong constant, …).
    InvalidValue,
}

impl ParseErrorKind {
    /// Whether the bytes were JSON but the value did not fit the type (every kind but
    /// [`Syntax`](Self::Syntax)).
    pub const fn is_data(self) -> bool {
        !matches!(self, Self::Syntax { .. })
    }

    /// The kind of a lenient-parse failure that strict validation locates as a violation of
    /// `kind`: the kind is taken from the schema, never from an error message's text.
    const fn from_violation(kind: ViolationKind) -> Self {
        match kind {
            ViolationKind::Required => Self::MissingField,
            ViolationKind::Type => Self::InvalidType,
            _ => Self::InvalidValue,
        }
    }
}

/// Why strict parsing failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StrictError {
    /// The payload could not be read at all.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The payload breaks the official schema; every violation is listed.
    #[error(
        "{} schema violation(s), first: {} at {}",
        .0.len(),
        .0.first().message,
        .0.first().path
    )]
    Violations(Violations),
}

/// Every schema violation of a payload, in document order; never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// The only constructor: `None` for an empty list, so a value always holds a violation.
    fn new(violations: Vec<Violation>) -> Option<Self> {
        (!violations.is_empty()).then_some(Self(violations))
    }

    /// The first violation.
    pub fn first(&self) -> &Violation {
        // Indexing cannot fail: the only constructor refuses an empty list.
        &self.0[0]
    }

    /// The violations.
    pub fn as_slice(&self) -> &[Violation] {
        &self.0
    }

    /// Iterates over the violations.
    pub fn iter(&self) -> std::slice::Iter<'_, Violation> {
        self.0.iter()
    }

    /// The number of violations (at least one).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always `false` (the only constructor refuses an empty list).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The violations as a vector.
    pub fn into_vec(self) -> Vec<Violation> {
        self.0
    }
}

impl<'a> IntoIterator for &'a Violations {
    type Item = &'a Violation;
    type IntoIter = std::slice::Iter<'a, Violation>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl StrictError {
    /// Every problem as a violation list (a parse error becomes one entry).
    pub fn violations(&self) -> Vec<Violation> {
        match self {
            Self::Violations(list) => list.as_slice().to_vec(),
            Self::Parse(e) => vec![Violation {
                path: e.path.clone(),
                kind: ViolationKind::Type,
                message: e.message.clone(),
            }],
        }
    }
}

/// Parses JSON bytes into `T`, leniently.
///
/// # Errors
/// [`ParseError`] with the JSONPath of the failing value.
pub fn from_slice<T: WireType>(bytes: &[u8]) -> Result<T, ParseError> {
    from_slice_with(bytes, T::shape())
}

/// Parses a JSON string into `T`, leniently.
///
/// # Errors
/// [`ParseError`] with the JSONPath of the failing value.
pub fn from_str<T: WireType>(text: &str) -> Result<T, ParseError> {
    from_slice(text.as_bytes())
}

/// Parses a JSON value into `T`, leniently.
///
/// # Errors
/// [`ParseError`] with the JSONPath of the failing value.
pub fn from_value<T: WireType>(value: &Value) -> Result<T, ParseError> {
    from_value_with(value, T::shape())
}

/// Parses and strictly validates JSON bytes against `T`'s official schema.
///
/// # Errors
/// [`StrictError::Violations`] listing every schema violation, or
/// [`StrictError::Parse`] when the bytes are not JSON.
pub fn from_slice_strict<T: WireType>(bytes: &[u8]) -> Result<T, StrictError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| syntax_error(&e))?;
    if let Some(violations) = Violations::new(validate(T::shape(), &value)) {
        return Err(StrictError::Violations(violations));
    }
    // Parse the bytes, not `value`: building a `Value` keeps the last of two members with
    // the same name, and the typed parser rejects the duplicate instead.
    Ok(from_slice(bytes)?)
}

/// Strictly validates a JSON value against `T`'s official schema, then parses it.
///
/// # Errors
/// [`StrictError::Violations`] listing every schema violation; a value that
/// passes the schema but that `T` cannot hold (for example an integer beyond
/// `i64`) is a [`StrictError::Parse`].
pub fn from_value_strict<T: WireType>(value: &Value) -> Result<T, StrictError> {
    if let Some(violations) = Violations::new(validate(T::shape(), value)) {
        return Err(StrictError::Violations(violations));
    }
    Ok(from_value(value)?)
}

/// Like [`from_slice`] for any deserializable type described by `shape`
/// (the shape is only used to locate failures precisely).
///
/// # Errors
/// [`ParseError`] with the JSONPath of the failing value.
pub fn from_slice_with<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    shape: &Shape,
) -> Result<T, ParseError> {
    // Fast path: a plain parse. Tracking the path costs an allocation per object key, so it
    // is only paid for a payload that fails; the second parse is deterministic and fails the
    // same way, now with its path.
    let mut de = serde_json::Deserializer::from_slice(bytes);
    if let Ok(value) = <T as serde::Deserialize>::deserialize(&mut de) {
        if de.end().is_ok() {
            return Ok(value);
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => {
            de.end().map_err(|e| syntax_error(&e))?;
            Ok(value)
        }
        Err(error) => {
            let inner = error.inner();
            if inner.is_syntax() || inner.is_eof() || inner.is_io() {
                return Err(syntax_error(inner));
            }
            let tracked = convert_path(error.path());
            let message = inner.to_string();
            let precise = serde_json::from_slice::<Value>(bytes)
                .ok()
                .and_then(|value| locate(shape, &value));
            Err(data_error(precise, tracked, &message))
        }
    }
}

/// Like [`from_value`] for any deserializable type described by `shape`.
///
/// # Errors
/// [`ParseError`] with the JSONPath of the failing value.
pub fn from_value_with<T: serde::de::DeserializeOwned>(
    value: &Value,
    shape: &Shape,
) -> Result<T, ParseError> {
    // Fast path without path tracking, as in `from_slice_with`.
    if let Ok(parsed) = <T as serde::Deserialize>::deserialize(value) {
        return Ok(parsed);
    }
    serde_path_to_error::deserialize::<_, T>(value).map_err(|error| {
        let tracked = convert_path(error.path());
        let message = error.inner().to_string();
        data_error(locate(shape, value), tracked, &message)
    })
}

/// Serializes a wire value to a JSON value.
///
/// # Errors
/// Only when a value cannot be written (a timestamp outside RFC 3339's range,
/// which parsing never produces).
pub fn to_value<T: serde::Serialize>(value: &T) -> Result<Value, serde_json::Error> {
    serde_json::to_value(value)
}

/// Serializes a wire value to compact JSON bytes.
///
/// # Errors
/// As [`to_value`].
pub fn to_vec<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    // Wire objects are rarely under a kilobyte: starting there skips the first few
    // grow-and-copy steps of serde_json's 128-byte start.
    let mut out = Vec::with_capacity(1024);
    serde_json::to_writer(&mut out, value)?;
    Ok(out)
}

fn syntax_error(e: &serde_json::Error) -> ParseError {
    let text = e.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m)
        .to_owned();
    ParseError {
        path: JsonPath::root(),
        kind: ParseErrorKind::Syntax {
            line: e.line(),
            column: e.column(),
        },
        message,
    }
}

/// A data error at the located violation (its path and kind), or at the path serde tracked
/// with [`ParseErrorKind::InvalidValue`] when validation finds nothing the parse also fails on.
fn data_error(
    located: Option<(JsonPath, ViolationKind)>,
    tracked: JsonPath,
    message: &str,
) -> ParseError {
    let (path, kind) = located.map_or((tracked, ParseErrorKind::InvalidValue), |(path, kind)| {
        (path, ParseErrorKind::from_violation(kind))
    });
    // The JSONPath locates the value; serde_json's byte position adds nothing.
    let message = match message.rsplit_once(" at line ") {
        Some((head, tail)) if tail.contains(" column ") => head,
        _ => message,
    };
    ParseError {
        path,
        kind,
        message: message.to_owned(),
    }
}

/// The path of the first violation that a lenient parse also fails on.
fn locate(shape: &Shape, value: &Value) -> Option<(JsonPath, ViolationKind)> {
    validate(shape, value)
        .into_iter()
        .find(|v| {
            matches!(
                v.kind,
                ViolationKind::Type
                    | ViolationKind::Required
                    | ViolationKind::Format
                    | ViolationKind::Const
                    | ViolationKind::Pattern
            )
        })
        .map(|v| (v.path, v.kind))
}

fn convert_path(path: &serde_path_to_error::Path) -> JsonPath {
    let mut out = JsonPath::root();
    for segment in path {
        match segment {
            serde_path_to_error::Segment::Seq { index } => out.push(Segment::Index(*index)),
            serde_path_to_error::Segment::Map { key } => out.push(Segment::Key(key.clone())),
            serde_path_to_error::Segment::Enum { variant } => {
                out.push(Segment::Key(variant.clone()));
            }
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    out
}
