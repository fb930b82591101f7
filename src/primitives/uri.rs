use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An absolute URI, kept exactly as received: the type of every ACP field the
/// schemas declare `"type": "string", "format": "uri"` (`permalink_url`,
/// `image_url`, `url` of links, feed `link`s, webhook and redirect URLs, ...).
///
/// Why text and not [`url::Url`]: a WHATWG URL parse *normalizes* what it
/// reads (`HTTPS://Example.COM` re-serializes as `https://example.com/`, an
/// empty path gains a `/`, default ports vanish), so a parse/serialize round
/// trip would silently change the merchant's data, and this crate promises a
/// lossless round trip. It is also the single most expensive step of parsing a
/// URL-heavy payload (a product feed page). A `Uri` therefore checks the text
/// once, in one linear scan that allocates nothing beyond the owned copy, and
/// keeps it byte for byte. Callers that need the host, path or query parse it
/// on demand with [`Uri::to_url`].
///
/// Accepted text (what JSON Schema `format: uri` means, RFC 3986 section 4.3,
/// read leniently): a scheme, `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`,
/// then `:`, and no ASCII control character or space anywhere. Non-ASCII is
/// allowed, because IRIs (RFC 3987) occur in real payloads and were accepted
/// before. The full RFC 3986 grammar is checked only by strict validation
/// ([`crate::parse::schema`], `Format::Uri`).
///
/// Equality, ordering and hashing compare the text: `HTTPS://A.example` and
/// `https://a.example` are different values, as they are different bytes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uri(Box<str>);

/// Why a string is not an absolute URI ([`Uri::parse`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidUriError {
    /// The text is empty.
    #[error("invalid URI: empty")]
    Empty,
    /// No `scheme:` prefix: a relative reference such as `/path` or
    /// `example.com`, or an empty scheme (`:x`).
    #[error("invalid URI: missing scheme")]
    MissingScheme,
    /// The scheme does not start with an ASCII letter (`1http://x`).
    #[error("invalid URI: scheme must start with an ASCII letter")]
    SchemeStart,
    /// A space or ASCII control character (U+0000 to U+0020, U+007F).
    #[error("invalid URI: forbidden character {byte:#04x} at byte {index}")]
    ForbiddenCharacter {
        /// Byte offset of the character in the text.
        index: usize,
        /// The character (always ASCII).
        byte: u8,
    },
}

/// A space, an ASCII control character or DEL: never part of a URI.
const fn forbidden(byte: u8) -> bool {
    byte <= b' ' || byte == 0x7f
}

/// One linear scan: the scheme up to the first `:`, then the rest for
/// forbidden bytes. Returns the scheme's length.
fn check(text: &str) -> Result<usize, InvalidUriError> {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return Err(InvalidUriError::Empty);
    };
    let mut colon = None;
    for (index, &byte) in bytes.iter().enumerate() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.') {
            continue;
        }
        if byte == b':' {
            colon = Some(index);
        } else if forbidden(byte) {
            return Err(InvalidUriError::ForbiddenCharacter { index, byte });
        }
        break;
    }
    let Some(colon) = colon else {
        // A byte outside the scheme alphabet came before any `:`; the rest
        // may still hold a forbidden byte, which is the clearer error.
        if let Some(index) = bytes.iter().position(|&b| forbidden(b)) {
            return Err(InvalidUriError::ForbiddenCharacter {
                index,
                byte: bytes[index],
            });
        }
        return Err(InvalidUriError::MissingScheme);
    };
    if colon == 0 {
        return Err(InvalidUriError::MissingScheme);
    }
    if !first.is_ascii_alphabetic() {
        return Err(InvalidUriError::SchemeStart);
    }
    if let Some(offset) = bytes[colon..].iter().position(|&b| forbidden(b)) {
        let index = colon + offset;
        return Err(InvalidUriError::ForbiddenCharacter {
            index,
            byte: bytes[index],
        });
    }
    Ok(colon)
}

impl Uri {
    /// Checks `text` (see the [type docs](Uri)) and keeps a copy of it.
    ///
    /// # Errors
    /// [`InvalidUriError`] naming the problem: empty text, no scheme, a
    /// scheme not starting with a letter, or a space or control character.
    pub fn parse(text: &str) -> Result<Self, InvalidUriError> {
        check(text)?;
        Ok(Self(text.into()))
    }

    /// A URI the crate itself spells (a constant that [`Uri::parse`] accepts, checked in tests).
    pub(crate) fn from_trusted(text: String) -> Self {
        debug_assert!(check(&text).is_ok(), "{text}");
        Self(text.into())
    }

    /// The text, exactly as received.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The scheme, in the case it arrived in (`HTTPS` stays `HTTPS`; schemes
    /// are case-insensitive, so compare with [`str::eq_ignore_ascii_case`]).
    pub fn scheme(&self) -> &str {
        // Every `Uri` holds a `:` (checked on construction).
        self.0.split_once(':').map_or(&self.0, |(scheme, _)| scheme)
    }

    /// The full WHATWG URL parse, for callers that need the host, path or
    /// query. The result is normalized (lower-case scheme and host, ...);
    /// this `Uri` is not changed.
    ///
    /// # Errors
    /// [`url::ParseError`] when the text is a URI but not a WHATWG URL (for
    /// example `http://` with no host).
    pub fn to_url(&self) -> Result<url::Url, url::ParseError> {
        url::Url::parse(&self.0)
    }

    /// The text as an owned `String`.
    pub fn into_string(self) -> String {
        self.0.into_string()
    }
}

impl core::fmt::Display for Uri {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::fmt::Debug for Uri {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&*self.0, f)
    }
}

impl core::str::FromStr for Uri {
    type Err = InvalidUriError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl TryFrom<&str> for Uri {
    type Error = InvalidUriError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        Self::parse(text)
    }
}

impl TryFrom<String> for Uri {
    type Error = InvalidUriError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        check(&text)?;
        Ok(Self(text.into_boxed_str()))
    }
}

impl From<url::Url> for Uri {
    /// Keeps the URL's serialization. WHATWG serialization percent-encodes
    /// control characters everywhere and spaces everywhere except in an
    /// opaque path (`javascript:a b`); such spaces are written as `%20`.
    fn from(url: url::Url) -> Self {
        let text = String::from(url);
        if text.contains(' ') {
            Self(text.replace(' ', "%20").into_boxed_str())
        } else {
            Self(text.into_boxed_str())
        }
    }
}

impl From<Uri> for String {
    fn from(uri: Uri) -> Self {
        uri.into_string()
    }
}

impl AsRef<str> for Uri {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Uri {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Uri {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl Serialize for Uri {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Uri {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = crate::wire::WireKey::deserialize(deserializer)?;
        check(key.as_str()).map_err(serde::de::Error::custom)?;
        Ok(Self(match key.0 {
            std::borrow::Cow::Borrowed(text) => text.into(),
            std::borrow::Cow::Owned(text) => text.into_boxed_str(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::{InvalidUriError, Uri};

    #[test]
    fn accepts_absolute_uris_and_iris_verbatim() {
        for text in [
            "https://a.example/x?y#z",
            "mailto:x@y",
            "urn:isbn:1",
            "https://shop.example/produits/caf\u{e9}-cr\u{e8}me",
            "HTTPS://Example.COM",
            "git+ssh://h/p",
            "a.b-c:",
        ] {
            let uri = Uri::parse(text).unwrap();
            assert_eq!(uri.as_str(), text);
            assert_eq!(uri.to_string(), text);
            assert_eq!(uri, text);
        }
        assert_eq!(Uri::parse("HTTPS://x").unwrap().scheme(), "HTTPS");
        assert_eq!(Uri::parse("urn:isbn:1").unwrap().scheme(), "urn");
        assert_eq!(Uri::parse("a.b-c:").unwrap().scheme(), "a.b-c");
    }

    #[test]
    fn rejects_text_that_is_not_an_absolute_uri() {
        use InvalidUriError as E;
        let cases: &[(&str, InvalidUriError)] = &[
            ("", E::Empty),
            ("no-scheme", E::MissingScheme),
            ("/a:b", E::MissingScheme),
            ("example.com/a:b", E::MissingScheme),
            ("1http://x", E::SchemeStart),
            ("+a:x", E::SchemeStart),
            (":x", E::MissingScheme),
            (
                "http://a b",
                E::ForbiddenCharacter {
                    index: 8,
                    byte: b' ',
                },
            ),
            (
                "http://a\tb",
                E::ForbiddenCharacter {
                    index: 8,
                    byte: b'\t',
                },
            ),
            (
                "http://a\nb",
                E::ForbiddenCharacter {
                    index: 8,
                    byte: b'\n',
                },
            ),
            ("http://a\u{0}", E::ForbiddenCharacter { index: 8, byte: 0 }),
            (
                "http://a\u{7f}",
                E::ForbiddenCharacter {
                    index: 8,
                    byte: 0x7f,
                },
            ),
            (
                " http://a",
                E::ForbiddenCharacter {
                    index: 0,
                    byte: b' ',
                },
            ),
            (
                "http://a ",
                E::ForbiddenCharacter {
                    index: 8,
                    byte: b' ',
                },
            ),
            (
                "ht tp://a",
                E::ForbiddenCharacter {
                    index: 2,
                    byte: b' ',
                },
            ),
            (
                "a/b c",
                E::ForbiddenCharacter {
                    index: 3,
                    byte: b' ',
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(Uri::parse(text), Err(*want), "{text:?}");
            assert_eq!(text.parse::<Uri>(), Err(*want), "{text:?}");
            assert_eq!(Uri::try_from(*text), Err(*want), "{text:?}");
            assert_eq!(Uri::try_from((*text).to_owned()), Err(*want), "{text:?}");
        }
        assert_eq!(
            InvalidUriError::MissingScheme.to_string(),
            "invalid URI: missing scheme"
        );
    }

    #[test]
    fn serde_keeps_the_text_byte_for_byte() {
        let json = "\"HTTPS://Example.COM/a?b\"";
        let uri: Uri = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&uri).unwrap(), json);
        // An escaped string cannot be borrowed; it decodes the same.
        let escaped: Uri = serde_json::from_str("\"https:\\/\\/a.example\\/\"").unwrap();
        assert_eq!(escaped, "https://a.example/");
        let err = serde_json::from_str::<Uri>("\"example.com\"").unwrap_err();
        assert!(
            err.to_string().contains("invalid URI: missing scheme"),
            "{err}"
        );
        let err = serde_json::from_str::<Uri>("\"http://a b\"").unwrap_err();
        assert!(
            err.to_string()
                .contains("forbidden character 0x20 at byte 8"),
            "{err}"
        );
        assert!(serde_json::from_str::<Uri>("1").is_err());
    }

    #[test]
    fn to_url_parses_on_demand_without_changing_the_text() {
        let uri = Uri::parse("HTTPS://Example.COM").unwrap();
        let url = uri.to_url().unwrap();
        assert_eq!(url.as_str(), "https://example.com/");
        assert_eq!(url.host_str(), Some("example.com"));
        assert_eq!(uri.as_str(), "HTTPS://Example.COM");
        assert!(Uri::parse("http://").unwrap().to_url().is_err());
    }

    #[test]
    fn from_url_keeps_the_serialization_and_stays_valid() {
        let url = url::Url::parse("https://a.example/p?q=1#f").unwrap();
        assert_eq!(Uri::from(url), "https://a.example/p?q=1#f");
        // An opaque path keeps inner spaces in WHATWG serialization.
        let url = url::Url::parse("javascript:a b").unwrap();
        let uri = Uri::from(url);
        assert_eq!(Uri::parse(uri.as_str()).as_ref(), Ok(&uri));
        assert!(!uri.as_str().contains(' '));
    }

    #[test]
    fn compares_and_debugs_as_the_text() {
        let a = Uri::parse("https://a.example").unwrap();
        let b = Uri::parse("HTTPS://a.example").unwrap();
        assert_ne!(a, b);
        assert!(b < a);
        assert_eq!(format!("{a:?}"), "\"https://a.example\"");
        assert_eq!(AsRef::<str>::as_ref(&a), "https://a.example");
        assert_eq!(String::from(a), "https://a.example");
    }
}
