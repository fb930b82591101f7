//! The offline product feed format (RFC product feeds §3.4, "Offline Full Replacement"): a
//! snapshot is two files, [`METADATA_FILE`] holding one `FeedMetadata` object and
//! [`PRODUCTS_FILE`] holding one `Product` object per line (JSON Lines).
//!
//! Everything here streams, so a catalog of any size is read and written in memory bounded by
//! the largest single product:
//!
//! - [`ProductsReader`] iterates over `products.jsonl` from any [`BufRead`], one
//!   `Result<Product, FeedFileError>` per line; an error names the 1-based line and, when the
//!   product does not parse, the JSONPath inside the product. A line longer than
//!   [`ProductsReader::max_line_bytes`] is an error, never an unbounded allocation, and the
//!   reader goes on at the next line.
//! - [`ProductsWriter`] writes `products.jsonl` one product at a time to any [`Write`].
//! - [`read_metadata`] / [`write_metadata`] read and write `metadata.json`.
//! - [`stream_products_response`] walks a `ProductsResponse` JSON document (`{"products":
//!   [...]}`) product by product without holding the array, and [`ProductsResponseWriter`]
//!   writes one the same way: together they convert between the API shape and the files.
//!
//! Lines follow JSON Lines: `\n` separates them, a `\r` before it is tolerated, and the last
//! line may or may not end with `\n` (the writers always end every line with one). The RFC
//! says only "one `Product` object per line", so a blank line is not a product: the lenient
//! reader (the default) skips it, the strict reader reports it.
//!
//! Parsing is lenient by default like the rest of [`crate::parse`] (unknown members and enum
//! values are kept and written back unchanged); [`Mode::Strict`] validates each product and
//! the metadata against the official schema first. Writing what was read gives the same bytes:
//! products are written as compact JSON in the field order of the wire types, so a file written
//! by [`ProductsWriter`] reads back and re-writes byte for byte.

use std::cell::RefCell;
use std::fmt;
use std::io::{self, BufRead, Read, Write};

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::parse::json_path::JsonPath;
use crate::parse::schema::{Violation, ViolationKind};
use crate::parse::{ParseError, ParseErrorKind, StrictError, Violations, syntax_error};
use crate::spec::latest::feed::{FeedMetadata, Product};
use crate::wire::Extra;

/// The file name of the feed metadata in a snapshot.
pub const METADATA_FILE: &str = "metadata.json";

/// The file name of the products in a snapshot.
pub const PRODUCTS_FILE: &str = "products.jsonl";

/// The default longest `products.jsonl` line, in bytes (without its line break): a product
/// with hundreds of variants fits many times over, and a corrupt file without line breaks
/// fails at this size instead of exhausting memory.
pub const DEFAULT_MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

/// The largest `metadata.json` [`read_metadata`] accepts, in bytes. `FeedMetadata` is three
/// short members; anything near this size is not a metadata file.
pub const MAX_METADATA_BYTES: u64 = 1024 * 1024;

/// How strictly products and metadata are parsed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Unknown members and enum values are kept (forward compatible); only values the types
    /// cannot hold fail.
    #[default]
    Lenient,
    /// Every value is validated against the official schema first; blank lines are errors.
    Strict,
}

/// Why a feed file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeedFileError {
    /// Reading or writing failed.
    #[error("{}{source}", LinePrefix(*.line))]
    Io {
        /// The `products.jsonl` line being read, if any.
        line: Option<usize>,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A `products.jsonl` line is longer than the reader's limit; the reader skipped it.
    #[error("{PRODUCTS_FILE} line {line}: longer than {max} bytes")]
    LineTooLong {
        /// The 1-based line.
        line: usize,
        /// The limit, in bytes.
        max: usize,
    },
    /// A blank `products.jsonl` line, in [`Mode::Strict`].
    #[error("{PRODUCTS_FILE} line {line}: blank line (each line must hold one Product)")]
    BlankLine {
        /// The 1-based line.
        line: usize,
    },
    /// A `products.jsonl` line that is not a `Product`; the error's paths are inside the
    /// product (`$` is the line's object).
    #[error("{PRODUCTS_FILE} line {line}: {error}")]
    Product {
        /// The 1-based line.
        line: usize,
        /// What is wrong, with the JSONPath inside the product.
        error: StrictError,
    },
    /// `metadata.json` is not a `FeedMetadata` (or is larger than [`MAX_METADATA_BYTES`]).
    #[error("{METADATA_FILE}: {error}")]
    Metadata {
        /// What is wrong, with the JSONPath inside the metadata.
        error: StrictError,
    },
    /// A `ProductsResponse` document that [`stream_products_response`] could not read; the
    /// paths are from the document's root (`$.products[3].variants[0].id`).
    #[error("ProductsResponse: {error}")]
    Response {
        /// What is wrong.
        error: StrictError,
    },
}

impl FeedFileError {
    /// The 1-based `products.jsonl` line the error is on, if it is on one.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Io { line, .. } => *line,
            Self::LineTooLong { line, .. }
            | Self::BlankLine { line }
            | Self::Product { line, .. } => Some(*line),
            Self::Metadata { .. } | Self::Response { .. } => None,
        }
    }

    /// The JSONPath of the (first) failing value, when a value failed to parse.
    pub fn path(&self) -> Option<&JsonPath> {
        match self {
            Self::Product { error, .. } | Self::Metadata { error } | Self::Response { error } => {
                Some(match error {
                    StrictError::Parse(e) => &e.path,
                    StrictError::Violations(v) => &v.first().path,
                })
            }
            _ => None,
        }
    }
}

/// `"products.jsonl line N: "` when the error is on a line.
struct LinePrefix(Option<usize>);

impl fmt::Display for LinePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(line) => write!(f, "{PRODUCTS_FILE} line {line}: "),
            None => Ok(()),
        }
    }
}

fn parse_in<T: crate::parse::schema::WireType>(bytes: &[u8], mode: Mode) -> Result<T, StrictError> {
    match mode {
        Mode::Lenient => crate::parse::from_slice(bytes).map_err(StrictError::Parse),
        Mode::Strict => crate::parse::from_slice_strict(bytes),
    }
}

/// Reads `metadata.json`: one `FeedMetadata` object, at most [`MAX_METADATA_BYTES`].
///
/// # Errors
/// [`FeedFileError::Io`] when reading fails, [`FeedFileError::Metadata`] when the file is too
/// large or not a `FeedMetadata` (with the JSONPath of the failing value).
pub fn read_metadata<R: Read>(reader: R, mode: Mode) -> Result<FeedMetadata, FeedFileError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_METADATA_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| FeedFileError::Io { line: None, source })?;
    if bytes.len() as u64 > MAX_METADATA_BYTES {
        return Err(FeedFileError::Metadata {
            error: StrictError::Parse(ParseError {
                path: JsonPath::root(),
                kind: ParseErrorKind::InvalidValue,
                message: format!("larger than {MAX_METADATA_BYTES} bytes"),
            }),
        });
    }
    parse_in(&bytes, mode).map_err(|error| FeedFileError::Metadata { error })
}

/// Writes `metadata.json`: the metadata as compact JSON and a line break.
///
/// # Errors
/// When writing fails (or a timestamp is outside RFC 3339's range, which parsing never
/// produces).
pub fn write_metadata<W: Write>(mut out: W, metadata: &FeedMetadata) -> io::Result<()> {
    let mut bytes = serde_json::to_vec(metadata)?;
    bytes.push(b'\n');
    out.write_all(&bytes)?;
    out.flush()
}

/// Writes `products.jsonl`, one product per line.
#[derive(Debug)]
pub struct ProductsWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    written: u64,
}

impl<W: Write> ProductsWriter<W> {
    /// A writer over `out` (wrap a file in a [`io::BufWriter`]: each product is one write).
    pub fn new(out: W) -> Self {
        Self {
            out,
            buf: Vec::with_capacity(4096),
            written: 0,
        }
    }

    /// Writes one product as a line of compact JSON.
    ///
    /// # Errors
    /// When writing fails (or a timestamp is outside RFC 3339's range, which parsing never
    /// produces).
    pub fn write(&mut self, product: &Product) -> io::Result<()> {
        self.buf.clear();
        // Compact JSON escapes every control character inside strings, so the only line
        // break is the one that ends the line.
        serde_json::to_writer(&mut self.buf, product)?;
        self.buf.push(b'\n');
        self.out.write_all(&self.buf)?;
        self.written += 1;
        Ok(())
    }

    /// How many products were written.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Flushes and returns the underlying writer.
    ///
    /// # Errors
    /// When flushing fails.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes a `ProductsResponse` document (`{"products":[...]}`) one product at a time, the
/// bytes [`crate::parse::to_vec`] gives for the whole response.
#[derive(Debug)]
pub struct ProductsResponseWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    written: u64,
}

impl<W: Write> ProductsResponseWriter<W> {
    /// Starts the document on `out`.
    ///
    /// # Errors
    /// When writing fails.
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(br#"{"products":["#)?;
        Ok(Self {
            out,
            buf: Vec::with_capacity(4096),
            written: 0,
        })
    }

    /// Writes the next product.
    ///
    /// # Errors
    /// As [`ProductsWriter::write`].
    pub fn write(&mut self, product: &Product) -> io::Result<()> {
        self.buf.clear();
        if self.written > 0 {
            self.buf.push(b',');
        }
        serde_json::to_writer(&mut self.buf, product)?;
        self.out.write_all(&self.buf)?;
        self.written += 1;
        Ok(())
    }

    /// How many products were written.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Closes the document, flushes and returns the underlying writer.
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(b"]}")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Reads `products.jsonl`: an iterator with one item per product line.
///
/// After a [`FeedFileError::LineTooLong`], [`FeedFileError::BlankLine`] or
/// [`FeedFileError::Product`] the iterator goes on at the next line, so a caller may collect
/// every bad line; after an [`FeedFileError::Io`] it ends.
#[derive(Debug)]
pub struct ProductsReader<R> {
    reader: R,
    buf: Vec<u8>,
    line: usize,
    max_line_bytes: usize,
    mode: Mode,
    done: bool,
}

/// One physical line.
enum Line {
    End,
    Text,
    TooLong,
}

impl<R: BufRead> ProductsReader<R> {
    /// A lenient reader with a [`DEFAULT_MAX_LINE_BYTES`] limit.
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            buf: Vec::new(),
            line: 0,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            mode: Mode::Lenient,
            done: false,
        }
    }

    /// Sets the parsing mode.
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets the longest accepted line, in bytes without the line break (at least 1).
    #[must_use]
    pub fn max_line_bytes(mut self, max: usize) -> Self {
        self.max_line_bytes = max.max(1);
        self
    }

    /// The 1-based number of the last line read (0 before the first).
    pub fn line_number(&self) -> usize {
        self.line
    }

    /// Reads the next physical line into `buf` (without `\n`), never holding more than the
    /// limit: the rest of a longer line is consumed and dropped.
    fn next_line(&mut self) -> io::Result<Line> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                if !any {
                    return Ok(Line::End);
                }
                // The last line, without a final line break.
                break;
            }
            any = true;
            let newline = available.iter().position(|&b| b == b'\n');
            let take = newline.unwrap_or(available.len());
            if !too_long {
                // The limit is on the line without `\r\n`; one `\r` more may still be its end.
                if self.buf.len() + take > self.max_line_bytes + 1 {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(&available[..take]);
                }
            }
            let consumed = newline.map_or(take, |i| i + 1);
            self.reader.consume(consumed);
            if newline.is_some() {
                break;
            }
        }
        if !too_long && self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        if too_long || self.buf.len() > self.max_line_bytes {
            self.buf.clear();
            return Ok(Line::TooLong);
        }
        Ok(Line::Text)
    }
}

impl<R: BufRead> Iterator for ProductsReader<R> {
    type Item = Result<Product, FeedFileError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let line = self.next_line();
            match line {
                Ok(Line::End) => {
                    self.done = true;
                    return None;
                }
                Err(source) => {
                    self.done = true;
                    return Some(Err(FeedFileError::Io {
                        line: Some(self.line + 1),
                        source,
                    }));
                }
                Ok(Line::TooLong) => {
                    self.line += 1;
                    return Some(Err(FeedFileError::LineTooLong {
                        line: self.line,
                        max: self.max_line_bytes,
                    }));
                }
                Ok(Line::Text) => {
                    self.line += 1;
                    if self.buf.iter().all(u8::is_ascii_whitespace) {
                        if self.mode == Mode::Strict {
                            return Some(Err(FeedFileError::BlankLine { line: self.line }));
                        }
                        continue;
                    }
                    return Some(parse_in(&self.buf, self.mode).map_err(|error| {
                        FeedFileError::Product {
                            line: self.line,
                            error,
                        }
                    }));
                }
            }
        }
    }
}

/// Walks a `ProductsResponse` document (`{"products": [...]}`) from `reader`, handing each
/// product to `each` as soon as it is parsed, so the array is never held in memory.
///
/// Returns the document's members other than `products` (kept, as everywhere in lenient
/// parsing; [`Mode::Strict`] rejects them as the schema does).
///
/// # Errors
/// [`FeedFileError::Response`] when the document is not JSON or not a `ProductsResponse`
/// (the path from the document's root: `$.products[3].id`); [`FeedFileError::Io`] when
/// reading fails or `each` fails. Products before the failing one have been handed over.
pub fn stream_products_response<R, F>(
    reader: R,
    mode: Mode,
    each: F,
) -> Result<Extra, FeedFileError>
where
    R: Read,
    F: FnMut(Product) -> io::Result<()>,
{
    let state = RefCell::new(StreamState {
        each,
        mode,
        stopped: None,
    });
    let mut de = serde_json::Deserializer::from_reader(reader);
    let result = ResponseSeed { state: &state }.deserialize(&mut de);
    let result = result.and_then(|extra| de.end().map(|()| extra));
    let stopped = state.into_inner().stopped;
    match (result, stopped) {
        (_, Some(error)) => Err(error),
        (Ok(found), None) => finish_response(found, mode),
        (Err(e), None) if e.is_io() => Err(FeedFileError::Io {
            line: None,
            source: e.into(),
        }),
        (Err(e), None) => Err(FeedFileError::Response {
            error: StrictError::Parse(syntax_or_type_error(&e)),
        }),
    }
}

/// What the walk found besides the products.
struct Found {
    saw_products: bool,
    extra: Extra,
}

fn finish_response(found: Found, mode: Mode) -> Result<Extra, FeedFileError> {
    if !found.saw_products {
        return Err(FeedFileError::Response {
            error: StrictError::Parse(ParseError {
                path: JsonPath::root().key("products"),
                kind: ParseErrorKind::MissingField,
                message: "missing field `products`".to_owned(),
            }),
        });
    }
    if mode == Mode::Strict {
        let violations: Vec<Violation> = found
            .extra
            .iter()
            .map(|(key, _)| Violation {
                path: JsonPath::root().key(key),
                kind: ViolationKind::AdditionalProperty,
                message: format!("additional property `{key}` is not allowed"),
            })
            .collect();
        if let Some(violations) = Violations::new(violations) {
            return Err(FeedFileError::Response {
                error: StrictError::Violations(violations),
            });
        }
    }
    Ok(found.extra)
}

/// A serde error outside any product: a syntax error keeps its line and column; a value of
/// the wrong type (the document or `products` not being an object or array) is a type error
/// at the root.
fn syntax_or_type_error(e: &serde_json::Error) -> ParseError {
    if e.is_data() {
        let text = e.to_string();
        let message = text
            .rsplit_once(" at line ")
            .map_or(text.as_str(), |(m, _)| m)
            .to_owned();
        ParseError {
            path: JsonPath::root(),
            kind: ParseErrorKind::InvalidType,
            message,
        }
    } else {
        syntax_error(e)
    }
}

struct StreamState<F> {
    each: F,
    mode: Mode,
    /// The real error when the walk was stopped from inside (serde only carries its own).
    stopped: Option<FeedFileError>,
}

struct ResponseSeed<'s, F> {
    state: &'s RefCell<StreamState<F>>,
}

impl<'de, F: FnMut(Product) -> io::Result<()>> DeserializeSeed<'de> for ResponseSeed<'_, F> {
    type Value = Found;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Found, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, F: FnMut(Product) -> io::Result<()>> Visitor<'de> for ResponseSeed<'_, F> {
    type Value = Found;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a ProductsResponse object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found, A::Error> {
        let mut found = Found {
            saw_products: false,
            extra: Extra::new(),
        };
        while let Some(key) = map.next_key::<String>()? {
            if key == "products" {
                if found.saw_products {
                    return Err(de::Error::custom("duplicate field `products`"));
                }
                found.saw_products = true;
                map.next_value_seed(ProductsSeed { state: self.state })?;
            } else {
                let value = map.next_value::<serde_json::Value>()?;
                if found.extra.insert(key.clone(), value).is_some() {
                    return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
                }
            }
        }
        Ok(found)
    }
}

struct ProductsSeed<'s, F> {
    state: &'s RefCell<StreamState<F>>,
}

impl<'de, F: FnMut(Product) -> io::Result<()>> DeserializeSeed<'de> for ProductsSeed<'_, F> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(Product) -> io::Result<()>> Visitor<'de> for ProductsSeed<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of Product objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        // Each product is first taken as raw bytes (one product in memory at a time), then
        // parsed like a `products.jsonl` line, which gives its failure a precise path.
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            let mut state = self.state.borrow_mut();
            let outcome = match parse_in::<Product>(raw.get().as_bytes(), state.mode) {
                Ok(product) => {
                    (state.each)(product).map_err(|source| FeedFileError::Io { line: None, source })
                }
                Err(error) => Err(FeedFileError::Response {
                    error: prefix(error, index),
                }),
            };
            if let Err(error) = outcome {
                state.stopped = Some(error);
                return Err(de::Error::custom("stopped"));
            }
            index += 1;
        }
        Ok(())
    }
}

/// Moves an error inside product `index` to its place in the document.
fn prefix(error: StrictError, index: usize) -> StrictError {
    let base = JsonPath::root().key("products").index(index);
    let place = |path: &JsonPath| {
        let mut full = base.clone();
        for segment in path.segments() {
            full.push(segment.clone());
        }
        full
    };
    match error {
        StrictError::Parse(e) => StrictError::Parse(ParseError {
            path: place(&e.path),
            ..e
        }),
        StrictError::Violations(list) => {
            let moved = list
                .into_vec()
                .into_iter()
                .map(|v| Violation {
                    path: place(&v.path),
                    ..v
                })
                .collect();
            // Never empty: the list it came from was not.
            Violations::new(moved).map_or_else(
                || {
                    StrictError::Parse(ParseError {
                        path: base.clone(),
                        kind: ParseErrorKind::InvalidValue,
                        message: "invalid product".to_owned(),
                    })
                },
                StrictError::Violations,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const TEE: &str = r#"{"id":"prod_1","variants":[{"id":"v1","title":"Tee"}]}"#;

    fn read_all(text: &[u8], mode: Mode) -> Vec<Result<Product, FeedFileError>> {
        ProductsReader::new(text).mode(mode).collect()
    }

    #[test]
    fn lines_with_and_without_a_final_line_break_read_the_same() {
        let with = format!("{TEE}\n{TEE}\n");
        let without = format!("{TEE}\r\n{TEE}");
        for text in [with, without] {
            let products = read_all(text.as_bytes(), Mode::Strict);
            assert_eq!(products.len(), 2);
            assert!(products.iter().all(Result::is_ok));
        }
    }

    #[test]
    fn blank_lines_are_skipped_leniently_and_rejected_strictly() {
        let text = format!("\n{TEE}\n  \r\n{TEE}\n\n");
        let lenient = read_all(text.as_bytes(), Mode::Lenient);
        assert_eq!(lenient.len(), 2);
        let strict = read_all(text.as_bytes(), Mode::Strict);
        let lines: Vec<Option<usize>> = strict
            .iter()
            .filter_map(|r| r.as_ref().err().map(FeedFileError::line))
            .collect();
        assert_eq!(lines, [Some(1), Some(3), Some(5)]);
    }

    #[test]
    fn an_overlong_line_is_an_error_and_reading_goes_on() {
        let long = format!(r#"{{"id":"{}","variants":[]}}"#, "x".repeat(100));
        let text = format!("{TEE}\n{long}\n{TEE}");
        let max = TEE.len();
        let out: Vec<_> = ProductsReader::new(text.as_bytes())
            .max_line_bytes(max)
            .collect();
        assert_eq!(out.len(), 3);
        assert!(out[0].is_ok() && out[2].is_ok());
        assert!(matches!(
            out[1],
            Err(FeedFileError::LineTooLong { line: 2, max: m }) if m == max
        ));
        // Exactly at the limit (with or without `\r`) is accepted.
        let out: Vec<_> = ProductsReader::new(format!("{TEE}\r\n").as_bytes())
            .max_line_bytes(max)
            .collect();
        assert!(out[0].is_ok());
        let out: Vec<_> = ProductsReader::new(TEE.as_bytes())
            .max_line_bytes(max - 1)
            .collect();
        assert!(matches!(
            out[0],
            Err(FeedFileError::LineTooLong { line: 1, .. })
        ));
    }

    #[test]
    fn a_bad_product_names_its_line_and_path() {
        let text = format!("{TEE}\n{{\"id\":\"p\",\"variants\":[{{\"id\":7,\"title\":\"t\"}}]}}\n");
        let out = read_all(text.as_bytes(), Mode::Lenient);
        let err = out[1].as_ref().unwrap_err();
        assert_eq!(err.line(), Some(2));
        assert_eq!(err.path().unwrap().to_string(), "$.variants[0].id");
    }

    #[test]
    fn writer_output_reads_back_to_the_same_bytes() {
        let text = format!(
            "{TEE}\n{}\n",
            r#"{"id":"p2","future":{"a":[1]},"variants":[]}"#
        );
        let mut writer = ProductsWriter::new(Vec::new());
        for product in read_all(text.as_bytes(), Mode::Lenient) {
            writer.write(&product.unwrap()).unwrap();
        }
        assert_eq!(writer.written(), 2);
        let again = writer.finish().unwrap();
        let mut writer = ProductsWriter::new(Vec::new());
        for product in read_all(&again, Mode::Lenient) {
            writer.write(&product.unwrap()).unwrap();
        }
        assert_eq!(writer.finish().unwrap(), again);
        assert!(
            String::from_utf8(again)
                .unwrap()
                .contains(r#""future":{"a":[1]}"#)
        );
    }

    #[test]
    fn a_response_streams_and_errors_carry_the_document_path() {
        let doc = format!(r#"{{"products":[{TEE},{TEE}],"later":1}}"#);
        let mut seen = 0;
        let extra = stream_products_response(doc.as_bytes(), Mode::Lenient, |_| {
            seen += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, 2);
        assert!(extra.contains_key("later"));
        let strict = stream_products_response(doc.as_bytes(), Mode::Strict, |_| Ok(()));
        assert_eq!(strict.unwrap_err().path().unwrap().to_string(), "$.later");

        let bad = format!(r#"{{"products":[{TEE},{{"id":"p","variants":[{{"id":"v"}}]}}]}}"#);
        let err = stream_products_response(bad.as_bytes(), Mode::Lenient, |_| Ok(())).unwrap_err();
        assert_eq!(
            err.path().unwrap().to_string(),
            "$.products[1].variants[0].title"
        );

        let missing = stream_products_response(&b"{}"[..], Mode::Lenient, |_| Ok(())).unwrap_err();
        assert_eq!(missing.path().unwrap().to_string(), "$.products");
        let not_object = stream_products_response(&b"[]"[..], Mode::Lenient, |_| Ok(()));
        assert!(matches!(not_object, Err(FeedFileError::Response { .. })));
        let stop = stream_products_response(doc.as_bytes(), Mode::Lenient, |_| {
            Err(io::Error::other("disk full"))
        });
        assert!(matches!(stop, Err(FeedFileError::Io { .. })));
    }

    #[test]
    fn the_response_writer_matches_whole_serialization() {
        use crate::spec::latest::feed::ProductsResponse;
        let doc = format!(r#"{{"products":[{TEE},{TEE}]}}"#);
        let whole: ProductsResponse = crate::parse::from_str(&doc).unwrap();
        let mut writer = ProductsResponseWriter::new(Vec::new()).unwrap();
        for p in &whole.products {
            writer.write(p).unwrap();
        }
        assert_eq!(
            writer.finish().unwrap(),
            crate::parse::to_vec(&whole).unwrap()
        );
        let empty = ProductsResponseWriter::new(Vec::new())
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(
            empty,
            crate::parse::to_vec(&ProductsResponse::new(vec![])).unwrap()
        );
    }

    #[test]
    fn an_io_error_names_the_line_being_read() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk gone"))
            }
        }
        let mut reader = ProductsReader::new(io::BufReader::new(Broken));
        let err = reader.next().unwrap().unwrap_err();
        assert_eq!(err.to_string(), "products.jsonl line 1: disk gone");
        assert!(reader.next().is_none(), "an I/O error ends the iteration");
        let err = read_metadata(Broken, Mode::Lenient).unwrap_err();
        assert_eq!(err.to_string(), "disk gone");
    }

    #[test]
    fn metadata_is_bounded_and_checked() {
        let meta = read_metadata(
            &br#"{"id":"feed_1","target_country":"US"}"#[..],
            Mode::Strict,
        )
        .unwrap();
        let mut out = Vec::new();
        write_metadata(&mut out, &meta).unwrap();
        assert_eq!(out, b"{\"id\":\"feed_1\",\"target_country\":\"US\"}\n");
        let err = read_metadata(&br#"{"target_country":"US"}"#[..], Mode::Lenient).unwrap_err();
        assert_eq!(err.path().unwrap().to_string(), "$.id");
        let huge = vec![b' '; usize::try_from(MAX_METADATA_BYTES).unwrap() + 1];
        assert!(matches!(
            read_metadata(&huge[..], Mode::Lenient),
            Err(FeedFileError::Metadata { .. })
        ));
    }
}
