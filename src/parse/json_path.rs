//! RFC 9535 JSONPath locations of values inside a payload, in the form the
//! ACP `Error.param` and `Message.param` fields use: `$.line_items[0].quantity`.

use core::fmt;

/// One step of a [`JsonPath`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    /// An object member name.
    Key(String),
    /// An array index.
    Index(usize),
}

/// The location of a value inside a JSON document.
///
/// `Display` writes dot notation for names that are plain identifiers and
/// bracket notation otherwise: `$.line_items[0]['odd key']`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JsonPath(Vec<Segment>);

impl JsonPath {
    /// The root, `$`.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// The segments from the root.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// A child path one member name deeper.
    #[must_use]
    pub fn key(&self, name: &str) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Key(name.to_owned()));
        next
    }

    /// A child path one array index deeper.
    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }

    /// Appends a segment in place.
    pub fn push(&mut self, segment: Segment) {
        self.0.push(segment);
    }

    /// Removes the last segment.
    pub fn pop(&mut self) -> Option<Segment> {
        self.0.pop()
    }

    /// Resolves this path inside `value`.
    pub fn resolve<'v>(&self, value: &'v serde_json::Value) -> Option<&'v serde_json::Value> {
        self.0
            .iter()
            .try_fold(value, |current, segment| match segment {
                Segment::Key(name) => current.get(name.as_str()),
                Segment::Index(i) => current.get(*i),
            })
    }

    /// Parses the subset of RFC 9535 that this type writes: `$`, `.name`,
    /// `['name']` (single or double quotes, with `\\` escapes) and `[index]`.
    ///
    /// # Errors
    /// [`JsonPathError`] with what was expected and the byte offset where parsing stopped.
    pub fn parse(text: &str) -> Result<Self, JsonPathError> {
        let bytes = text.as_bytes();
        if bytes.first() != Some(&b'$') {
            return Err(JsonPathError::new(JsonPathErrorKind::MissingRoot, 0));
        }
        let mut segments = Vec::new();
        let mut i = 1;
        while i < bytes.len() {
            match bytes[i] {
                b'.' => {
                    let start = i + 1;
                    let mut end = start;
                    while end < bytes.len() && is_name_byte(bytes[end], end == start) {
                        end += 1;
                    }
                    if end == start {
                        return Err(JsonPathError::new(JsonPathErrorKind::ExpectedName, start));
                    }
                    segments.push(Segment::Key(text[start..end].to_owned()));
                    i = end;
                }
                b'[' => {
                    let (segment, next) = parse_bracket(text, i + 1)?;
                    segments.push(segment);
                    i = next;
                }
                _ => {
                    return Err(JsonPathError::new(
                        JsonPathErrorKind::UnexpectedCharacter,
                        i,
                    ));
                }
            }
        }
        Ok(Self(segments))
    }
}

/// Why a text is not a JSONPath this crate reads ([`JsonPath::parse`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at offset {offset}")]
pub struct JsonPathError {
    /// What was expected.
    pub kind: JsonPathErrorKind,
    /// The byte offset where parsing stopped.
    pub offset: usize,
}

impl JsonPathError {
    const fn new(kind: JsonPathErrorKind, offset: usize) -> Self {
        Self { kind, offset }
    }
}

/// The kind of a [`JsonPathError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonPathErrorKind {
    /// The text does not start with `$`.
    #[error("a JSONPath starts with `$`")]
    MissingRoot,
    /// `.` not followed by a member name.
    #[error("expected a member name")]
    ExpectedName,
    /// A character that starts no segment.
    #[error("unexpected character")]
    UnexpectedCharacter,
    /// A bracketed segment without its closing `]`.
    #[error("expected `]`")]
    ExpectedCloseBracket,
    /// A quoted name without its closing quote.
    #[error("unterminated name")]
    UnterminatedName,
    /// `[…]` holding neither a quoted name nor a non-negative integer.
    #[error("expected an index")]
    ExpectedIndex,
}

fn is_name_byte(b: u8, first: bool) -> bool {
    b == b'_' || b.is_ascii_alphabetic() || (!first && b.is_ascii_digit())
}

fn parse_bracket(text: &str, start: usize) -> Result<(Segment, usize), JsonPathError> {
    let bytes = text.as_bytes();
    match bytes.get(start) {
        Some(&quote @ (b'\'' | b'"')) => {
            let mut name = String::new();
            let mut chars = text[start + 1..].char_indices();
            while let Some((offset, c)) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some((_, escaped)) => name.push(escaped),
                        None => break,
                    },
                    c if c as u32 == u32::from(quote) => {
                        let close = start + 1 + offset + 1;
                        if bytes.get(close) != Some(&b']') {
                            return Err(JsonPathError::new(
                                JsonPathErrorKind::ExpectedCloseBracket,
                                close,
                            ));
                        }
                        return Ok((Segment::Key(name), close + 1));
                    }
                    c => name.push(c),
                }
            }
            Err(JsonPathError::new(
                JsonPathErrorKind::UnterminatedName,
                start,
            ))
        }
        _ => {
            let end = text[start..]
                .find(']')
                .map(|n| start + n)
                .ok_or(JsonPathError::new(
                    JsonPathErrorKind::ExpectedCloseBracket,
                    start,
                ))?;
            let index = text[start..end]
                .parse::<usize>()
                .map_err(|_| JsonPathError::new(JsonPathErrorKind::ExpectedIndex, start))?;
            Ok((Segment::Index(index), end + 1))
        }
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for segment in &self.0 {
            match segment {
                Segment::Index(i) => write!(f, "[{i}]")?,
                Segment::Key(name)
                    if !name.is_empty()
                        && name
                            .bytes()
                            .enumerate()
                            .all(|(i, b)| is_name_byte(b, i == 0)) =>
                {
                    write!(f, ".{name}")?;
                }
                Segment::Key(name) => {
                    f.write_str("['")?;
                    for c in name.chars() {
                        match c {
                            '\'' => f.write_str("\\'")?,
                            '\\' => f.write_str("\\\\")?,
                            c => write!(f, "{c}")?,
                        }
                    }
                    f.write_str("']")?;
                }
            }
        }
        Ok(())
    }
}

impl serde::Serialize for JsonPath {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::{JsonPath, JsonPathErrorKind};

    #[test]
    fn writes_dot_and_bracket_notation() {
        let p = JsonPath::root().key("line_items").index(0).key("quantity");
        assert_eq!(p.to_string(), "$.line_items[0].quantity");
        let q = JsonPath::root().key("a b").key("it's").key("9x");
        assert_eq!(q.to_string(), "$['a b']['it\\'s']['9x']");
    }

    #[test]
    fn parses_what_it_writes() {
        for text in [
            "$",
            "$.a",
            "$.line_items[0].item.id",
            "$['a b'][3]['x\\'y']",
        ] {
            assert_eq!(JsonPath::parse(text).unwrap().to_string(), text);
        }
        let kind = |text| JsonPath::parse(text).map_err(|e| (e.kind, e.offset));
        assert_eq!(kind("line_items"), Err((JsonPathErrorKind::MissingRoot, 0)));
        assert_eq!(kind("$."), Err((JsonPathErrorKind::ExpectedName, 2)));
        assert_eq!(kind("$[x]"), Err((JsonPathErrorKind::ExpectedIndex, 2)));
        assert_eq!(
            kind("$['a'x"),
            Err((JsonPathErrorKind::ExpectedCloseBracket, 5))
        );
        assert_eq!(kind("$['a"), Err((JsonPathErrorKind::UnterminatedName, 2)));
        assert_eq!(kind("$a"), Err((JsonPathErrorKind::UnexpectedCharacter, 1)));
        assert_eq!(
            JsonPath::parse("$.").unwrap_err().to_string(),
            "expected a member name at offset 2"
        );
    }

    #[test]
    fn resolves_inside_a_value() {
        let v = serde_json::json!({"a": [{"b": 1}]});
        let p = JsonPath::parse("$.a[0].b").unwrap();
        assert_eq!(p.resolve(&v), Some(&serde_json::json!(1)));
        assert_eq!(JsonPath::parse("$.a[1]").unwrap().resolve(&v), None);
    }
}
