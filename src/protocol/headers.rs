//! Typed ACP HTTP headers and per-operation header validation.
//!
//! This module works on plain `(name, value)` string pairs, so it fits any HTTP stack. Header
//! names are matched case-insensitively (RFC 9110 §5.1); leading and trailing spaces and tabs
//! around a value are not part of it (RFC 9110 §5.5) and are stripped before parsing. A value
//! containing a control character (CR, LF, NUL, …) is always rejected. Non-ASCII characters are
//! allowed only in the opaque headers (`Idempotency-Key`, `Request-Id`, `User-Agent`,
//! `Merchant-Signature`); structured headers reject them because their grammar has none.
//!
//! - One typed value per header: [`ApiVersion`], [`IdempotencyKey`], [`RequestId`],
//!   [`Signature`], [`Timestamp`] ([`parse_timestamp`]), [`BearerToken`] (`Authorization`),
//!   [`IdempotentReplayed`], [`RetryAfter`], [`AcceptLanguage`], [`ContentType`], plus the raw
//!   `User-Agent` and `Merchant-Signature` (parsed and verified by
//!   [`crate::trust::webhook::MerchantSignature`]).
//! - [`Operation`] lists every operation of the 2026-04-17 OAS files (and discovery) with its
//!   method, path template, success status and which request headers it requires (see
//!   [`Operation::header_requirements`] and [`OAS_DEVIATIONS`]).
//! - [`RequestHeaders::parse`] validates every header of a request in one call and reports
//!   *every* problem at once ([`HeaderErrors`]).
//!
//! # Problem → ACP error mapping
//!
//! Every [`HeaderProblem`] maps to an ACP `Error` with `type: "invalid_request"`:
//!
//! | header | missing | duplicated or malformed |
//! |---|---|---|
//! | `Authorization` | 401 `unauthorized` | 401 `unauthorized` |
//! | `Signature`, `Merchant-Signature` | 401 `invalid_signature` | 401 `invalid_signature` |
//! | `API-Version` | 400 `missing_api_version` | 400 `unsupported_api_version` |
//! | `Idempotency-Key` | 400 `idempotency_key_required` (IDEM-04), unless `API-Version` names a version before 2026-04-17 | 400 `invalid_header` |
//! | any other header | 400 `missing_header` | 400 `invalid_header` |
//!
//! `unauthorized` follows the cart and delegate-payment OAS 401 examples; `invalid_signature`
//! follows the webhook OAS, which uses it for missing, malformed and mismatching signatures
//! alike. The spec names no code for other header problems; `missing_header` and
//! `invalid_header` are this crate's choice. The problems of one request are ordered by
//! [`AcpHeader`] (authentication first) and [`HeaderErrors::primary`] is the one to send.
//!
//! Version problems carry `supported_versions` when the caller passes the server's list to
//! [`AcpError::from_header_problem`](crate::protocol::error::AcpError::from_header_problem) (VER-03). A *well-formed* `API-Version` that the server
//! does not support is not a header problem: check it with [`RequestHeaders::negotiate_version`].

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;

use crate::primitives::Timestamp;
use crate::protocol::version::{self, ApiVersion, VersionError};

// ---------------------------------------------------------------------------------------------
// Header names
// ---------------------------------------------------------------------------------------------

/// An ACP header name.
///
/// The declaration order is the reporting order of problems: authentication headers first,
/// then version, idempotency and the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum AcpHeader {
    /// `Authorization: Bearer <token>` (HDR-01).
    Authorization,
    /// `Signature`: base64url detached request signature (SIG-01).
    Signature,
    /// `Merchant-Signature`: webhook HMAC header `t=<unix>,v1=<hex>`.
    MerchantSignature,
    /// `API-Version` (VER-01).
    ApiVersion,
    /// `Idempotency-Key` (IDEM-01).
    IdempotencyKey,
    /// `Content-Type` (HDR-02).
    ContentType,
    /// `Timestamp`: RFC 3339 signing time (SIG-03).
    Timestamp,
    /// `Request-Id` (HDR-03).
    RequestId,
    /// `Accept-Language` (HDR-03).
    AcceptLanguage,
    /// `User-Agent` (HDR-03).
    UserAgent,
    /// `Idempotent-Replayed` (response header, IDEM-09).
    IdempotentReplayed,
    /// `Retry-After` (response header, IDEM-12).
    RetryAfter,
}

impl AcpHeader {
    /// Every ACP header, in reporting order.
    pub const ALL: &'static [Self] = &[
        Self::Authorization,
        Self::Signature,
        Self::MerchantSignature,
        Self::ApiVersion,
        Self::IdempotencyKey,
        Self::ContentType,
        Self::Timestamp,
        Self::RequestId,
        Self::AcceptLanguage,
        Self::UserAgent,
        Self::IdempotentReplayed,
        Self::RetryAfter,
    ];

    /// The header name as the spec spells it (for example `API-Version`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Authorization => "Authorization",
            Self::Signature => "Signature",
            Self::MerchantSignature => "Merchant-Signature",
            Self::ApiVersion => "API-Version",
            Self::IdempotencyKey => "Idempotency-Key",
            Self::ContentType => "Content-Type",
            Self::Timestamp => "Timestamp",
            Self::RequestId => "Request-Id",
            Self::AcceptLanguage => "Accept-Language",
            Self::UserAgent => "User-Agent",
            Self::IdempotentReplayed => "Idempotent-Replayed",
            Self::RetryAfter => "Retry-After",
        }
    }

    /// The header named `name`, compared ASCII case-insensitively; `None` for other headers.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|h| h.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether the header may appear more than once (its values then form one comma-separated
    /// list, RFC 9110 §5.3). Only `Accept-Language` is a list; every other ACP header is a
    /// singleton and a repeat is a problem.
    pub const fn is_list(self) -> bool {
        matches!(self, Self::AcceptLanguage)
    }
}

impl fmt::Display for AcpHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// Value errors
// ---------------------------------------------------------------------------------------------

/// Why a header value is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderValueError {
    /// The value is empty (after stripping surrounding whitespace).
    #[error("value is empty")]
    Empty,
    /// The value contains a control character other than horizontal tab (CR, LF, NUL, DEL, …),
    /// forbidden in HTTP field values.
    #[error("value contains a control character")]
    ControlCharacter,
    /// The value contains a character outside visible ASCII where the grammar allows none.
    #[error("value contains a non-ASCII character")]
    NonAscii,
    /// The value is longer than allowed.
    #[error("value has {len} characters; at most {max} are allowed")]
    TooLong {
        /// Maximum number of characters.
        max: usize,
        /// Actual number of characters.
        len: usize,
    },
    /// `API-Version` is not a valid `YYYY-MM-DD` date.
    #[error("invalid API version: {0}")]
    ApiVersion(#[from] version::ApiVersionParseError),
    /// `Authorization` does not use the `Bearer` scheme.
    #[error("authorization scheme must be Bearer")]
    NotBearer,
    /// The bearer token is missing or not RFC 6750 `b64token` syntax.
    #[error("bearer token is missing or malformed")]
    InvalidBearerToken,
    /// `Signature` is not base64url.
    #[error("signature is not valid base64url")]
    InvalidBase64,
    /// `Timestamp` is not an RFC 3339 date-time.
    #[error("timestamp is not an RFC 3339 date-time")]
    InvalidTimestamp,
    /// `Idempotent-Replayed` is not exactly `true`.
    #[error("the only allowed value is `true`")]
    NotTrue,
    /// `Retry-After` is not a non-negative integer number of seconds.
    #[error("expected a non-negative integer number of seconds")]
    InvalidSeconds,
    /// An `Accept-Language` element is not a language range with an optional q-value.
    #[error("invalid language range or q-value: {0:?}")]
    InvalidLanguageRange(String),
    /// `Content-Type` is not a media type.
    #[error("not a media type")]
    InvalidMediaType,
    /// `Content-Type` is a media type other than `application/json` (optionally with
    /// `charset=utf-8`).
    #[error("content type must be application/json")]
    NotJson,
}

/// Strips OWS and rejects empty values and control characters (horizontal tab excepted: RFC
/// 9110 §5.5 allows it inside a field value).
fn clean(value: &str) -> Result<&str, HeaderValueError> {
    let v = version::trim_ows(value);
    if v.chars().any(|c| c.is_control() && c != '\t') {
        return Err(HeaderValueError::ControlCharacter);
    }
    if v.is_empty() {
        return Err(HeaderValueError::Empty);
    }
    Ok(v)
}

/// [`clean`] plus: visible ASCII and spaces only.
fn clean_ascii(value: &str) -> Result<&str, HeaderValueError> {
    let v = clean(value)?;
    if v.is_ascii() {
        Ok(v)
    } else {
        Err(HeaderValueError::NonAscii)
    }
}

// ---------------------------------------------------------------------------------------------
// Typed values
// ---------------------------------------------------------------------------------------------

/// Parses an `API-Version` header value (surrounding whitespace stripped).
///
/// # Errors
///
/// [`HeaderValueError`] when the value is empty, has control characters, or is not a valid
/// `YYYY-MM-DD` date. An unknown but valid date parses (see [`ApiVersion`]).
pub fn parse_api_version(value: &str) -> Result<ApiVersion, HeaderValueError> {
    Ok(clean(value)?.parse()?)
}

/// An `Idempotency-Key`: an opaque string of 1 to 255 characters (IDEM-02).
///
/// Characters are Unicode scalar values (JSON Schema `maxLength` semantics). Control characters
/// are rejected; surrounding whitespace is not part of the key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Maximum length in characters (IDEM-02).
    pub const MAX_CHARS: usize = 255;

    /// Validates a header value as a key.
    ///
    /// # Errors
    ///
    /// [`HeaderValueError::Empty`], [`HeaderValueError::ControlCharacter`] or
    /// [`HeaderValueError::TooLong`] (more than 255 characters).
    pub fn parse(value: &str) -> Result<Self, HeaderValueError> {
        let v = clean(value)?;
        let len = v.chars().count();
        if len > Self::MAX_CHARS {
            return Err(HeaderValueError::TooLong {
                max: Self::MAX_CHARS,
                len,
            });
        }
        Ok(Self(v.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for IdempotencyKey {
    type Err = HeaderValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for IdempotencyKey {
    type Error = HeaderValueError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A `Request-Id`: an opaque, non-empty correlation id echoed in responses (HDR-04).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(String);

impl RequestId {
    /// Validates a header value as a request id.
    ///
    /// # Errors
    ///
    /// [`HeaderValueError::Empty`] or [`HeaderValueError::ControlCharacter`].
    pub fn parse(value: &str) -> Result<Self, HeaderValueError> {
        Ok(Self(clean(value)?.to_owned()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// base64url (RFC 4648 §5) decoding that accepts values with or without `=` padding.
const BASE64URL: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    base64::engine::GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// A `Signature` header: a base64url detached signature (SIG-01), with its decoded bytes.
///
/// Padding is optional on input; [`Signature::from_bytes`] encodes without padding. The
/// standard base64 alphabet (`+`, `/`) is rejected. Verification lives in the signature module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    encoded: String,
    bytes: Vec<u8>,
}

impl Signature {
    /// Parses a header value.
    ///
    /// # Errors
    ///
    /// [`HeaderValueError::Empty`], [`HeaderValueError::ControlCharacter`] or
    /// [`HeaderValueError::InvalidBase64`] (wrong alphabet, bad length or padding, or decoding
    /// to zero bytes).
    pub fn parse(value: &str) -> Result<Self, HeaderValueError> {
        let v = clean_ascii(value)?;
        let bytes = BASE64URL
            .decode(v)
            .map_err(|_| HeaderValueError::InvalidBase64)?;
        if bytes.is_empty() {
            return Err(HeaderValueError::InvalidBase64);
        }
        Ok(Self {
            encoded: v.to_owned(),
            bytes,
        })
    }

    /// The header value for raw signature bytes (base64url, no padding).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self {
            encoded: BASE64URL.encode(bytes),
            bytes: bytes.to_vec(),
        }
    }

    /// The header value as received (or as encoded by [`Signature::from_bytes`]).
    pub fn as_str(&self) -> &str {
        &self.encoded
    }

    /// The decoded signature bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Parses a `Timestamp` header value (SIG-03) into the crate's one RFC 3339 type.
///
/// # Errors
///
/// [`HeaderValueError::InvalidTimestamp`] if the value is not RFC 3339 (and the usual
/// empty/control-character errors).
pub fn parse_timestamp(value: &str) -> Result<Timestamp, HeaderValueError> {
    Timestamp::parse(clean_ascii(value)?).map_err(|_| HeaderValueError::InvalidTimestamp)
}

/// The token of an `Authorization: Bearer <token>` header (HDR-01).
///
/// `Debug` prints `BearerToken([REDACTED])`; there is no `Display`, `PartialEq` or `Serialize`
/// so the secret does not leak into logs or comparisons by accident.
#[derive(Clone)]
pub struct BearerToken(String);

impl BearerToken {
    /// Parses an `Authorization` header value: the scheme `Bearer` (any case, RFC 7235 §2.1),
    /// one or more spaces, and an RFC 6750 `b64token`
    /// (`1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`).
    ///
    /// # Errors
    ///
    /// [`HeaderValueError::NotBearer`] for another scheme, [`HeaderValueError::InvalidBearerToken`]
    /// for a missing or malformed token (and the usual empty/control-character errors).
    pub fn parse(value: &str) -> Result<Self, HeaderValueError> {
        let v = clean_ascii(value)?;
        let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
        if !scheme.eq_ignore_ascii_case("Bearer") {
            return Err(HeaderValueError::NotBearer);
        }
        let token = rest.trim_start_matches(' ');
        Self::new(token).map_err(|_| HeaderValueError::InvalidBearerToken)
    }

    /// Wraps a token (without the `Bearer ` prefix).
    ///
    /// # Errors
    ///
    /// [`HeaderValueError::InvalidBearerToken`] if `token` is not RFC 6750 `b64token` syntax.
    pub fn new(token: &str) -> Result<Self, HeaderValueError> {
        let body = token.trim_end_matches('=');
        let ok = !body.is_empty()
            && body
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"-._~+/".contains(&c));
        if ok {
            Ok(Self(token.to_owned()))
        } else {
            Err(HeaderValueError::InvalidBearerToken)
        }
    }

    /// The token.
    ///
    /// # Security Warning
    ///
    /// This is a credential. Compare it only in constant time and never log it.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// Whether this token equals `expected`, compared in constant time (HDR-01).
    ///
    /// Both sides are hashed with SHA-256 and the digests are compared with
    /// [`subtle::ConstantTimeEq`], so the time taken reveals neither the position of the first
    /// differing byte nor the length of `expected`. Use this, not `==`, to check a bearer token
    /// against a configured API key.
    ///
    /// ```
    /// use agentic_commerce::protocol::headers::BearerToken;
    ///
    /// let token = BearerToken::parse("Bearer sk_live_abc")?;
    /// assert!(token.matches("sk_live_abc"));
    /// assert!(!token.matches("sk_live_abd"));
    /// assert!(!token.matches(""));
    /// # Ok::<(), agentic_commerce::protocol::headers::HeaderValueError>(())
    /// ```
    pub fn matches(&self, expected: &str) -> bool {
        use sha2::Digest as _;
        use subtle::ConstantTimeEq as _;
        let ours = sha2::Sha256::digest(self.0.as_bytes());
        let theirs = sha2::Sha256::digest(expected.as_bytes());
        bool::from(ours[..].ct_eq(&theirs[..]))
    }

    /// The `Authorization` header value, `Bearer <token>`.
    ///
    /// # Security Warning
    ///
    /// The result contains the credential.
    pub fn to_header_value(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken([REDACTED])")
    }
}

/// The `Idempotent-Replayed: true` response header (IDEM-09). `true` is its only value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdempotentReplayed;

impl IdempotentReplayed {
    /// The only header value, `true`.
    pub const VALUE: &'static str = "true";

    /// Parses a header value: exactly `true` (case-sensitive, surrounding whitespace stripped).
    ///
    /// # Errors
    ///
    /// [`HeaderValueError::NotTrue`] for any other value.
    pub fn parse(value: &str) -> Result<Self, HeaderValueError> {
        if clean(value)? == Self::VALUE {
            Ok(Self)
        } else {
            Err(HeaderValueError::NotTrue)
        }
    }

    /// The `(name, value)` pair to add to a replayed response.
    pub const fn header() -> (&'static str, &'static str) {
        (AcpHeader::IdempotentReplayed.as_str(), Self::VALUE)
    }
}

/// A `Retry-After` response header in whole seconds (IDEM-12; RFC 9110 `delay-seconds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RetryAfter(u64);

impl RetryAfter {
    /// A delay of `seconds` seconds.
    pub const fn from_secs(seconds: u64) -> Self {
        Self(seconds)
    }

    /// The delay in seconds.
    pub const fn secs(self) -> u64 {
        self.0
    }

    /// Parses a header value: ASCII digits only (no sign, no fraction, no HTTP-date form).
    ///
    /// # Errors
    ///
    /// [`HeaderValueError::InvalidSeconds`] (also for values beyond `u64`).
    pub fn parse(value: &str) -> Result<Self, HeaderValueError> {
        let v = clean_ascii(value)?;
        if !v.bytes().all(|c| c.is_ascii_digit()) {
            return Err(HeaderValueError::InvalidSeconds);
        }
        v.parse()
            .map(Self)
            .map_err(|_| HeaderValueError::InvalidSeconds)
    }

    /// The header value.
    pub fn to_header_value(self) -> String {
        self.0.to_string()
    }
}

/// One language range of an `Accept-Language` header with its weight (RFC 9110 §12.5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageRange {
    range: String,
    quality: u16,
}

impl LanguageRange {
    /// The language range as sent (for example `en-US` or `*`).
    pub fn range(&self) -> &str {
        &self.range
    }

    /// The weight in thousandths: `q=0.8` is 800; no q-value means 1000.
    pub fn quality(&self) -> u16 {
        self.quality
    }
}

/// An `Accept-Language` header: the raw list and its parsed language ranges, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptLanguage {
    raw: String,
    ranges: Vec<LanguageRange>,
}

impl AcceptLanguage {
    /// Parses a header value (several occurrences of the header joined with `", "`).
    ///
    /// Empty list elements are ignored (RFC 9110 §5.6.1); at least one range is required.
    ///
    /// # Errors
    ///
    /// [`HeaderValueError::InvalidLanguageRange`] naming the first bad element.
    pub fn parse(value: &str) -> Result<Self, HeaderValueError> {
        let v = clean_ascii(value)?;
        let mut ranges = Vec::new();
        for element in v.split(',') {
            let element = version::trim_ows(element);
            if element.is_empty() {
                continue;
            }
            ranges.push(
                parse_language_range(element)
                    .ok_or_else(|| HeaderValueError::InvalidLanguageRange(element.to_owned()))?,
            );
        }
        if ranges.is_empty() {
            return Err(HeaderValueError::Empty);
        }
        Ok(Self {
            raw: v.to_owned(),
            ranges,
        })
    }

    /// The header value as received (whitespace-trimmed).
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The language ranges in the order sent.
    pub fn ranges(&self) -> &[LanguageRange] {
        &self.ranges
    }

    /// The ranges with a non-zero weight, highest weight first (stable for equal weights).
    pub fn preferred(&self) -> Vec<&LanguageRange> {
        let mut out: Vec<&LanguageRange> = self.ranges.iter().filter(|r| r.quality > 0).collect();
        out.sort_by_key(|r| std::cmp::Reverse(r.quality));
        out
    }
}

/// `language-range [ weight ]` (RFC 4647 §2.1 basic range, RFC 9110 §12.4.2 weight).
fn parse_language_range(element: &str) -> Option<LanguageRange> {
    let (range, weight) = match element.split_once(';') {
        Some((r, w)) => (version::trim_ows(r), Some(version::trim_ows(w))),
        None => (element, None),
    };
    let range_ok = range == "*"
        || range.split('-').enumerate().all(|(i, part)| {
            (1..=8).contains(&part.len())
                && if i == 0 {
                    part.bytes().all(|c| c.is_ascii_alphabetic())
                } else {
                    part.bytes().all(|c| c.is_ascii_alphanumeric())
                }
        });
    if !range_ok {
        return None;
    }
    let quality = match weight {
        None => 1000,
        Some(w) => {
            let q = w.strip_prefix("q=").or_else(|| w.strip_prefix("Q="))?;
            parse_qvalue(q)?
        }
    };
    Some(LanguageRange {
        range: range.to_owned(),
        quality,
    })
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` in thousandths.
fn parse_qvalue(q: &str) -> Option<u16> {
    let (int, frac) = q.split_once('.').unwrap_or((q, ""));
    if frac.len() > 3 || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut thousandths: u16 = 0;
    for (i, c) in frac.bytes().enumerate() {
        let scale = [100, 10, 1][i];
        thousandths += u16::from(c - b'0') * scale;
    }
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// A `Content-Type` header value (HDR-02).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType {
    raw: String,
    essence: String,
    charset: Option<String>,
    other_params: bool,
}

impl ContentType {
    /// Parses any media type `type/subtype *( OWS ";" OWS name=value )`.
    ///
    /// # Errors
    ///
    /// [`HeaderValueError::InvalidMediaType`] if the value is not a media type.
    pub fn parse(value: &str) -> Result<Self, HeaderValueError> {
        let v = clean_ascii(value)?;
        let mut parts = v.split(';');
        let essence = version::trim_ows(parts.next().unwrap_or_default());
        let token_ok = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
        };
        match essence.split_once('/') {
            Some((t, s)) if token_ok(t) && token_ok(s) => {}
            _ => return Err(HeaderValueError::InvalidMediaType),
        }
        let mut charset = None;
        let mut other_params = false;
        for param in parts {
            let param = version::trim_ows(param);
            let (name, val) = param
                .split_once('=')
                .ok_or(HeaderValueError::InvalidMediaType)?;
            let val = match val.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
                Some(quoted) if !quoted.contains(['"', '\\']) => quoted,
                None if token_ok(val) => val,
                _ => return Err(HeaderValueError::InvalidMediaType),
            };
            if !token_ok(name) {
                return Err(HeaderValueError::InvalidMediaType);
            }
            if name.eq_ignore_ascii_case("charset") && charset.is_none() {
                charset = Some(val.to_ascii_lowercase());
            } else {
                other_params = true;
            }
        }
        Ok(Self {
            raw: v.to_owned(),
            essence: essence.to_ascii_lowercase(),
            charset,
            other_params,
        })
    }

    /// The header value as received (whitespace-trimmed).
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// `type/subtype`, lowercased.
    pub fn essence(&self) -> &str {
        &self.essence
    }

    /// The `charset` parameter, lowercased, if present.
    pub fn charset(&self) -> Option<&str> {
        self.charset.as_deref()
    }

    /// Whether this is `application/json` with no parameter other than an optional
    /// `charset=utf-8` (JSON text is UTF-8, RFC 8259 §8.1).
    pub fn is_json(&self) -> bool {
        self.essence == "application/json"
            && !self.other_params
            && self.charset.as_deref().is_none_or(|c| c == "utf-8")
    }
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

/// An HTTP method used by ACP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
}

impl Method {
    /// The method name in upper case.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How strongly an operation asks for a request header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Requirement {
    /// Must be present; absence is a problem.
    Required,
    /// Must be present when the request carries a body (the body is optional for this
    /// operation). [`RequestHeaders::parse`] treats it as optional;
    /// [`RequestHeaders::parse_with_body`] enforces it.
    RequiredWithBody,
    /// Recommended by the spec (HDR-03, SIG-01 "SHOULD"); validated when present.
    Recommended,
    /// Declared by the spec as optional; validated when present.
    Optional,
}

use AcpHeader as H;
use Requirement::{
    Optional as Opt, Recommended as Rec, Required as Req, RequiredWithBody as ReqBody,
};

/// Checkout create / complete (OAS order of declaration).
const CHECKOUT_WITH_BODY: &[(AcpHeader, Requirement)] = &[
    (H::Authorization, Req),
    (H::ContentType, Req),
    (H::AcceptLanguage, Rec),
    (H::UserAgent, Rec),
    (H::IdempotencyKey, Req),
    (H::RequestId, Rec),
    (H::Signature, Rec),
    (H::Timestamp, Rec),
    (H::ApiVersion, Req),
];
/// Checkout cancel: the body is optional.
const CHECKOUT_CANCEL: &[(AcpHeader, Requirement)] = &[
    (H::Authorization, Req),
    (H::ContentType, ReqBody),
    (H::AcceptLanguage, Rec),
    (H::UserAgent, Rec),
    (H::IdempotencyKey, Req),
    (H::RequestId, Rec),
    (H::Signature, Rec),
    (H::Timestamp, Rec),
    (H::ApiVersion, Req),
];
/// Checkout retrieve.
const CHECKOUT_GET: &[(AcpHeader, Requirement)] = &[
    (H::Authorization, Req),
    (H::AcceptLanguage, Rec),
    (H::UserAgent, Rec),
    (H::RequestId, Rec),
    (H::Signature, Rec),
    (H::Timestamp, Rec),
    (H::ApiVersion, Req),
];
/// Order-events webhook (merchant → agent platform).
const WEBHOOK: &[(AcpHeader, Requirement)] = &[
    (H::MerchantSignature, Req),
    (H::RequestId, Opt),
    (H::Timestamp, Opt),
    (H::ContentType, Req),
];
/// Delegate payment: RFC §2.2 makes signing and the timestamp a MUST.
const DELEGATE_PAYMENT: &[(AcpHeader, Requirement)] = &[
    (H::Authorization, Req),
    (H::ContentType, Req),
    (H::AcceptLanguage, Rec),
    (H::UserAgent, Rec),
    (H::IdempotencyKey, Req),
    (H::RequestId, Rec),
    (H::Signature, Req),
    (H::Timestamp, Req),
    (H::ApiVersion, Req),
];
/// Cart create / update (PUT).
const CART_WITH_BODY: &[(AcpHeader, Requirement)] = &[
    (H::Authorization, Req),
    (H::ContentType, Req),
    (H::AcceptLanguage, Rec),
    (H::IdempotencyKey, Req),
    (H::RequestId, Rec),
    (H::ApiVersion, Req),
];
/// Cart retrieve.
const CART_GET: &[(AcpHeader, Requirement)] = &[
    (H::Authorization, Req),
    (H::AcceptLanguage, Rec),
    (H::RequestId, Rec),
    (H::ApiVersion, Req),
];
/// Cart cancel: the body is optional.
const CART_CANCEL: &[(AcpHeader, Requirement)] = &[
    (H::Authorization, Req),
    (H::ContentType, ReqBody),
    (H::IdempotencyKey, Req),
    (H::RequestId, Rec),
    (H::ApiVersion, Req),
];
/// Feed create (the feed OAS declares no headers; see [`OAS_DEVIATIONS`]).
const FEED_CREATE: &[(AcpHeader, Requirement)] = &[
    (H::Authorization, Req),
    (H::ContentType, Req),
    (H::IdempotencyKey, Req),
    (H::ApiVersion, Req),
];
/// Feed reads.
const FEED_GET: &[(AcpHeader, Requirement)] = &[(H::Authorization, Req), (H::ApiVersion, Req)];
/// Feed product upsert (PATCH).
const FEED_PATCH: &[(AcpHeader, Requirement)] = &[
    (H::Authorization, Req),
    (H::ContentType, Req),
    (H::IdempotencyKey, Opt),
    (H::ApiVersion, Req),
];
/// Delegate authentication create / authenticate.
const DELEGATE_AUTH_WITH_BODY: &[(AcpHeader, Requirement)] = &[
    (H::Authorization, Req),
    (H::ContentType, Req),
    (H::AcceptLanguage, Rec),
    (H::UserAgent, Rec),
    (H::IdempotencyKey, Req),
    (H::RequestId, Rec),
    (H::Signature, Req),
    (H::Timestamp, Rec),
    (H::ApiVersion, Req),
];
/// Delegate authentication retrieve.
const DELEGATE_AUTH_GET: &[(AcpHeader, Requirement)] = &[
    (H::Authorization, Req),
    (H::AcceptLanguage, Rec),
    (H::UserAgent, Rec),
    (H::RequestId, Rec),
    (H::Signature, Rec),
    (H::Timestamp, Rec),
    (H::ApiVersion, Req),
];

/// An ACP HTTP operation (2026-04-17), with its method, path, success status and request
/// headers as data.
///
/// ```
/// use agentic_commerce::protocol::headers::{AcpHeader, Method, Operation, Requirement};
///
/// let op = Operation::CreateCheckoutSession;
/// assert_eq!(op.method(), Method::Post);
/// assert_eq!(op.path_template(), "/checkout_sessions");
/// assert_eq!(op.success_status(), 201);
/// assert_eq!(op.requirement(AcpHeader::IdempotencyKey), Some(Requirement::Required));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `POST /checkout_sessions` (`createCheckoutSession`).
    CreateCheckoutSession,
    /// `POST /checkout_sessions/{checkout_session_id}` (`updateCheckoutSession`).
    UpdateCheckoutSession,
    /// `GET /checkout_sessions/{checkout_session_id}` (`getCheckoutSession`).
    RetrieveCheckoutSession,
    /// `POST /checkout_sessions/{checkout_session_id}/complete` (`completeCheckoutSession`).
    CompleteCheckoutSession,
    /// `POST /checkout_sessions/{checkout_session_id}/cancel` (`cancelCheckoutSession`).
    CancelCheckoutSession,
    /// `POST /agentic_checkout/webhooks/order_events` (`postOrderEvents`), merchant → agent.
    OrderEventsWebhook,
    /// `POST /agentic_commerce/delegate_payment` (`delegatePayment`).
    DelegatePayment,
    /// `POST /carts` (`createCart`).
    CreateCart,
    /// `GET /carts/{id}` (`getCart`).
    RetrieveCart,
    /// `PUT /carts/{id}` (`updateCart`), a full replacement.
    UpdateCart,
    /// `POST /carts/{id}/cancel` (`cancelCart`).
    CancelCart,
    /// `POST /feeds` (`createFeed`), agent-hosted.
    CreateFeed,
    /// `GET /feeds/{id}` (`getFeed`).
    RetrieveFeed,
    /// `GET /feeds/{id}/products` (`getFeedProducts`).
    GetFeedProducts,
    /// `PATCH /feeds/{id}/products` (`upsertFeedProducts`).
    UpsertFeedProducts,
    /// `POST /delegate_authentication` (`createAuthenticationSession`).
    CreateDelegateAuthentication,
    /// `POST /delegate_authentication/{authentication_session_id}/authenticate`
    /// (`authenticateSession`).
    AuthenticateDelegateAuthentication,
    /// `GET /delegate_authentication/{authentication_session_id}` (`getAuthenticationSession`).
    RetrieveDelegateAuthentication,
    /// `GET /.well-known/acp.json`: the discovery document (no OAS operation; no
    /// authentication).
    Discovery,
}

impl Operation {
    /// Every operation.
    pub const ALL: &'static [Self] = &[
        Self::CreateCheckoutSession,
        Self::UpdateCheckoutSession,
        Self::RetrieveCheckoutSession,
        Self::CompleteCheckoutSession,
        Self::CancelCheckoutSession,
        Self::OrderEventsWebhook,
        Self::DelegatePayment,
        Self::CreateCart,
        Self::RetrieveCart,
        Self::UpdateCart,
        Self::CancelCart,
        Self::CreateFeed,
        Self::RetrieveFeed,
        Self::GetFeedProducts,
        Self::UpsertFeedProducts,
        Self::CreateDelegateAuthentication,
        Self::AuthenticateDelegateAuthentication,
        Self::RetrieveDelegateAuthentication,
        Self::Discovery,
    ];

    /// The HTTP method.
    pub const fn method(self) -> Method {
        match self {
            Self::RetrieveCheckoutSession
            | Self::RetrieveCart
            | Self::RetrieveFeed
            | Self::GetFeedProducts
            | Self::RetrieveDelegateAuthentication
            | Self::Discovery => Method::Get,
            Self::UpdateCart => Method::Put,
            Self::UpsertFeedProducts => Method::Patch,
            Self::CreateCheckoutSession
            | Self::UpdateCheckoutSession
            | Self::CompleteCheckoutSession
            | Self::CancelCheckoutSession
            | Self::OrderEventsWebhook
            | Self::DelegatePayment
            | Self::CreateCart
            | Self::CancelCart
            | Self::CreateFeed
            | Self::CreateDelegateAuthentication
            | Self::AuthenticateDelegateAuthentication => Method::Post,
        }
    }

    /// The path template exactly as in the OAS file.
    pub const fn path_template(self) -> &'static str {
        match self {
            Self::CreateCheckoutSession => "/checkout_sessions",
            Self::UpdateCheckoutSession | Self::RetrieveCheckoutSession => {
                "/checkout_sessions/{checkout_session_id}"
            }
            Self::CompleteCheckoutSession => "/checkout_sessions/{checkout_session_id}/complete",
            Self::CancelCheckoutSession => "/checkout_sessions/{checkout_session_id}/cancel",
            Self::OrderEventsWebhook => "/agentic_checkout/webhooks/order_events",
            Self::DelegatePayment => "/agentic_commerce/delegate_payment",
            Self::CreateCart => "/carts",
            Self::RetrieveCart | Self::UpdateCart => "/carts/{id}",
            Self::CancelCart => "/carts/{id}/cancel",
            Self::CreateFeed => "/feeds",
            Self::RetrieveFeed => "/feeds/{id}",
            Self::GetFeedProducts | Self::UpsertFeedProducts => "/feeds/{id}/products",
            Self::CreateDelegateAuthentication => "/delegate_authentication",
            Self::AuthenticateDelegateAuthentication => {
                "/delegate_authentication/{authentication_session_id}/authenticate"
            }
            Self::RetrieveDelegateAuthentication => {
                "/delegate_authentication/{authentication_session_id}"
            }
            Self::Discovery => "/.well-known/acp.json",
        }
    }

    /// The OAS `operationId`, or `None` for [`Operation::Discovery`] (no OAS file).
    pub const fn operation_id(self) -> Option<&'static str> {
        Some(match self {
            Self::CreateCheckoutSession => "createCheckoutSession",
            Self::UpdateCheckoutSession => "updateCheckoutSession",
            Self::RetrieveCheckoutSession => "getCheckoutSession",
            Self::CompleteCheckoutSession => "completeCheckoutSession",
            Self::CancelCheckoutSession => "cancelCheckoutSession",
            Self::OrderEventsWebhook => "postOrderEvents",
            Self::DelegatePayment => "delegatePayment",
            Self::CreateCart => "createCart",
            Self::RetrieveCart => "getCart",
            Self::UpdateCart => "updateCart",
            Self::CancelCart => "cancelCart",
            Self::CreateFeed => "createFeed",
            Self::RetrieveFeed => "getFeed",
            Self::GetFeedProducts => "getFeedProducts",
            Self::UpsertFeedProducts => "upsertFeedProducts",
            Self::CreateDelegateAuthentication => "createAuthenticationSession",
            Self::AuthenticateDelegateAuthentication => "authenticateSession",
            Self::RetrieveDelegateAuthentication => "getAuthenticationSession",
            Self::Discovery => return None,
        })
    }

    /// The success status code: 201 for the creating operations (checkout session, delegate
    /// payment, cart, feed, delegate authentication), 200 otherwise.
    pub const fn success_status(self) -> u16 {
        match self {
            Self::CreateCheckoutSession
            | Self::DelegatePayment
            | Self::CreateCart
            | Self::CreateFeed
            | Self::CreateDelegateAuthentication => 201,
            _ => 200,
        }
    }

    /// The request headers this operation declares, with how strongly each is asked for.
    ///
    /// Headers not listed are not part of the operation's contract; [`RequestHeaders::parse`]
    /// ignores them. Sources: each operation's OAS `parameters` plus the RFC rules listed in
    /// [`OAS_DEVIATIONS`].
    pub const fn header_requirements(self) -> &'static [(AcpHeader, Requirement)] {
        match self {
            Self::CreateCheckoutSession
            | Self::UpdateCheckoutSession
            | Self::CompleteCheckoutSession => CHECKOUT_WITH_BODY,
            Self::CancelCheckoutSession => CHECKOUT_CANCEL,
            Self::RetrieveCheckoutSession => CHECKOUT_GET,
            Self::OrderEventsWebhook => WEBHOOK,
            Self::DelegatePayment => DELEGATE_PAYMENT,
            Self::CreateCart | Self::UpdateCart => CART_WITH_BODY,
            Self::RetrieveCart => CART_GET,
            Self::CancelCart => CART_CANCEL,
            Self::CreateFeed => FEED_CREATE,
            Self::RetrieveFeed | Self::GetFeedProducts => FEED_GET,
            Self::UpsertFeedProducts => FEED_PATCH,
            Self::CreateDelegateAuthentication | Self::AuthenticateDelegateAuthentication => {
                DELEGATE_AUTH_WITH_BODY
            }
            Self::RetrieveDelegateAuthentication => DELEGATE_AUTH_GET,
            Self::Discovery => &[],
        }
    }

    /// How strongly this operation asks for `header`; `None` if it does not declare it.
    pub fn requirement(self, header: AcpHeader) -> Option<Requirement> {
        self.header_requirements()
            .iter()
            .find(|(h, _)| *h == header)
            .map(|(_, r)| *r)
    }

    /// Whether an `Idempotency-Key` is required (IDEM-01: every POST and the cart PUT, except
    /// the webhook, which the merchant sends to the agent platform).
    pub fn requires_idempotency_key(self) -> bool {
        self.requirement(AcpHeader::IdempotencyKey) == Some(Requirement::Required)
    }
}

/// A deliberate difference between [`Operation::header_requirements`] and the 2026-04-17
/// OAS `parameters` of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OasDeviation {
    /// The operation.
    pub operation: Operation,
    /// The header.
    pub header: AcpHeader,
    /// What the OAS file says: `Some(true)` required, `Some(false)` optional, `None` not
    /// declared.
    pub oas_required: Option<bool>,
    /// What this crate enforces.
    pub ours: Requirement,
    /// Why, with the rule IDs.
    pub reason: &'static str,
}

const FEED_AUTH: &str = "HDR-01: RFC product_feeds §5 requires Bearer auth; the feed OAS declares no headers and no security";
const FEED_VERSION: &str =
    "VER-01: RFC product_feeds §5 requires API-Version; the feed OAS declares no headers";
const FEED_IDEM: &str =
    "IDEM-01/SEP #120: Idempotency-Key is required on every POST; the feed OAS declares no headers";
const BODY_CT: &str =
    "HDR-02: Content-Type: application/json is required on every request with a body";
const DA_IDEM: &str = "IDEM-01/SEP #120: Idempotency-Key is required on every POST (checkout §6 and delegate_payment §5 take precedence); the delegate-authentication OAS marks it optional";
const DA_SIG: &str = "SIG-04/DA-14: RFC delegate_authentication §3.1/§8 makes Signature REQUIRED and verified; the OAS marks it optional";
const DP_SIG: &str = "SIG-01: RFC delegate_payment §2.2 says the client MUST sign the request; the OAS marks Signature optional";
const DP_TS: &str = "SIG-03: RFC delegate_payment §2.2 says the client MUST include Timestamp; the OAS marks it optional";

/// Every place where [`Operation::header_requirements`] deliberately differs from the
/// 2026-04-17 OAS files, with the reason. Anything not listed here matches the OAS
/// (the crate's header tests check it against the OAS files).
pub const OAS_DEVIATIONS: &[OasDeviation] = &[
    dev(
        Operation::UpdateCheckoutSession,
        H::ContentType,
        None,
        Req,
        BODY_CT,
    ),
    dev(
        Operation::CancelCheckoutSession,
        H::ContentType,
        None,
        ReqBody,
        BODY_CT,
    ),
    dev(
        Operation::DelegatePayment,
        H::Signature,
        Some(false),
        Req,
        DP_SIG,
    ),
    dev(
        Operation::DelegatePayment,
        H::Timestamp,
        Some(false),
        Req,
        DP_TS,
    ),
    dev(
        Operation::CancelCart,
        H::ContentType,
        None,
        ReqBody,
        BODY_CT,
    ),
    dev(
        Operation::CreateFeed,
        H::Authorization,
        None,
        Req,
        FEED_AUTH,
    ),
    dev(
        Operation::CreateFeed,
        H::ApiVersion,
        None,
        Req,
        FEED_VERSION,
    ),
    dev(
        Operation::CreateFeed,
        H::IdempotencyKey,
        None,
        Req,
        FEED_IDEM,
    ),
    dev(Operation::CreateFeed, H::ContentType, None, Req, BODY_CT),
    dev(
        Operation::RetrieveFeed,
        H::Authorization,
        None,
        Req,
        FEED_AUTH,
    ),
    dev(
        Operation::RetrieveFeed,
        H::ApiVersion,
        None,
        Req,
        FEED_VERSION,
    ),
    dev(
        Operation::GetFeedProducts,
        H::Authorization,
        None,
        Req,
        FEED_AUTH,
    ),
    dev(
        Operation::GetFeedProducts,
        H::ApiVersion,
        None,
        Req,
        FEED_VERSION,
    ),
    dev(
        Operation::UpsertFeedProducts,
        H::Authorization,
        None,
        Req,
        FEED_AUTH,
    ),
    dev(
        Operation::UpsertFeedProducts,
        H::ApiVersion,
        None,
        Req,
        FEED_VERSION,
    ),
    dev(
        Operation::UpsertFeedProducts,
        H::ContentType,
        None,
        Req,
        BODY_CT,
    ),
    dev(
        Operation::UpsertFeedProducts,
        H::IdempotencyKey,
        None,
        Opt,
        "IDEM-01 covers POST only; PATCH upserts by Product.id are naturally idempotent, so a key is accepted and validated but not required",
    ),
    dev(
        Operation::CreateDelegateAuthentication,
        H::IdempotencyKey,
        Some(false),
        Req,
        DA_IDEM,
    ),
    dev(
        Operation::CreateDelegateAuthentication,
        H::Signature,
        Some(false),
        Req,
        DA_SIG,
    ),
    dev(
        Operation::AuthenticateDelegateAuthentication,
        H::IdempotencyKey,
        Some(false),
        Req,
        DA_IDEM,
    ),
    dev(
        Operation::AuthenticateDelegateAuthentication,
        H::Signature,
        Some(false),
        Req,
        DA_SIG,
    ),
];

const fn dev(
    operation: Operation,
    header: AcpHeader,
    oas_required: Option<bool>,
    ours: Requirement,
    reason: &'static str,
) -> OasDeviation {
    OasDeviation {
        operation,
        header,
        oas_required,
        ours,
        reason,
    }
}

// ---------------------------------------------------------------------------------------------
// Problems
// ---------------------------------------------------------------------------------------------

/// What is wrong with one header.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderProblemKind {
    /// A required header is absent.
    Missing,
    /// A single-valued header appears more than once.
    Duplicated {
        /// How many times it appears.
        count: usize,
    },
    /// The value is malformed.
    Malformed(HeaderValueError),
}

/// One problem with the headers of a request: which header, what is wrong, and the ACP error
/// it maps to (see the [module docs](self#problem--acp-error-mapping)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{header}: {}", describe(.kind))]
pub struct HeaderProblem {
    header: AcpHeader,
    kind: HeaderProblemKind,
}

fn describe(kind: &HeaderProblemKind) -> String {
    match kind {
        HeaderProblemKind::Missing => "missing".to_owned(),
        HeaderProblemKind::Duplicated { count } => format!("sent {count} times"),
        HeaderProblemKind::Malformed(e) => e.to_string(),
    }
}

impl HeaderProblem {
    /// A problem with `header`.
    pub fn new(header: AcpHeader, kind: HeaderProblemKind) -> Self {
        Self { header, kind }
    }

    /// The header concerned.
    pub fn header(&self) -> AcpHeader {
        self.header
    }

    /// What is wrong.
    pub fn kind(&self) -> &HeaderProblemKind {
        &self.kind
    }

    /// The HTTP status: 401 for `Authorization`, `Signature` and `Merchant-Signature`, else 400.
    pub fn status(&self) -> u16 {
        match self.header {
            AcpHeader::Authorization | AcpHeader::Signature | AcpHeader::MerchantSignature => 401,
            _ => 400,
        }
    }

    /// The ACP error `type`: always `invalid_request`.
    pub fn error_type(&self) -> &'static str {
        "invalid_request"
    }

    /// The ACP error `code`.
    pub fn code(&self) -> &'static str {
        let missing = matches!(self.kind, HeaderProblemKind::Missing);
        match (self.header, missing) {
            (AcpHeader::Authorization, _) => "unauthorized",
            (AcpHeader::Signature | AcpHeader::MerchantSignature, _) => "invalid_signature",
            (AcpHeader::ApiVersion, true) => "missing_api_version",
            (AcpHeader::ApiVersion, false) => "unsupported_api_version",
            (AcpHeader::IdempotencyKey, true) => "idempotency_key_required",
            (_, true) => "missing_header",
            (_, false) => "invalid_header",
        }
    }

    /// The human-readable `message`. It names the header and the rule, never the value.
    pub fn message(&self) -> String {
        let name = self.header.as_str();
        match &self.kind {
            HeaderProblemKind::Missing => format!("{name} header is required"),
            HeaderProblemKind::Duplicated { .. } => {
                format!("{name} header must be sent exactly once")
            }
            HeaderProblemKind::Malformed(e) => format!("{name} header is invalid: {e}"),
        }
    }
}

/// Every problem found in the headers of one request (never empty), in [`AcpHeader`] order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} header problem(s); first: {}", .problems.len(), .problems[0])]
pub struct HeaderErrors {
    problems: Vec<HeaderProblem>,
}

impl HeaderErrors {
    /// Every problem, in [`AcpHeader`] order.
    pub fn problems(&self) -> &[HeaderProblem] {
        &self.problems
    }

    /// The problem to report to the client (the first in [`AcpHeader`] order, so
    /// authentication problems win).
    pub fn primary(&self) -> &HeaderProblem {
        &self.problems[0]
    }

    /// The problem for `header`, if any.
    pub fn get(&self, header: AcpHeader) -> Option<&HeaderProblem> {
        self.problems.iter().find(|p| p.header == header)
    }

    /// The HTTP status of [`primary`](Self::primary).
    pub fn status(&self) -> u16 {
        self.primary().status()
    }
}

// ---------------------------------------------------------------------------------------------
// Request headers
// ---------------------------------------------------------------------------------------------

/// The validated ACP headers of one request.
///
/// Every header the operation requires is present (a getter returns `Some`); recommended and
/// optional ones are `Some` when sent. Headers the operation does not declare are ignored and
/// their getters return `None`.
#[derive(Debug, Clone)]
pub struct RequestHeaders {
    api_version: Option<ApiVersion>,
    authorization: Option<BearerToken>,
    idempotency_key: Option<IdempotencyKey>,
    request_id: Option<RequestId>,
    signature: Option<Signature>,
    timestamp: Option<Timestamp>,
    merchant_signature: Option<String>,
    content_type: Option<ContentType>,
    accept_language: Option<AcceptLanguage>,
    user_agent: Option<String>,
}

impl RequestHeaders {
    /// Validates the headers of a request for `op`, treating
    /// [`Requirement::RequiredWithBody`] headers as optional. `Idempotency-Key` is optional when
    /// `API-Version` names a version before 2026-04-17, which did not require it
    /// ([`ApiVersion::requires_idempotency_key`](crate::protocol::version::ApiVersion::requires_idempotency_key)).
    ///
    /// # Errors
    ///
    /// [`HeaderErrors`] with every problem: missing required headers, repeated single-valued
    /// headers and malformed values (including a `Content-Type` other than `application/json`).
    ///
    /// ```
    /// use agentic_commerce::protocol::headers::{AcpHeader, Operation, RequestHeaders};
    ///
    /// let headers = RequestHeaders::parse(
    ///     Operation::CreateCheckoutSession,
    ///     [
    ///         ("authorization", "Bearer sk_test_123"),
    ///         ("content-type", "application/json"),
    ///         ("api-version", "2026-04-17"),
    ///         ("idempotency-key", "550e8400-e29b-41d4-a716-446655440000"),
    ///     ],
    /// )
    /// .unwrap();
    /// assert_eq!(headers.idempotency_key().unwrap().as_str(), "550e8400-e29b-41d4-a716-446655440000");
    ///
    /// let errors = RequestHeaders::parse(Operation::CreateCheckoutSession, [("api-version", "nope")])
    ///     .unwrap_err();
    /// assert_eq!(errors.problems().len(), 4); // Authorization, API-Version, Idempotency-Key, Content-Type
    /// assert_eq!(errors.get(AcpHeader::IdempotencyKey).unwrap().code(), "idempotency_key_required");
    /// ```
    pub fn parse<'a>(
        op: Operation,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, HeaderErrors> {
        Self::parse_inner(op, pairs, false)
    }

    /// Like [`parse`](Self::parse), but also requires the [`Requirement::RequiredWithBody`]
    /// headers when `has_body` is true (for example `Content-Type` on a cancel with a body).
    ///
    /// # Errors
    ///
    /// As [`parse`](Self::parse).
    pub fn parse_with_body<'a>(
        op: Operation,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        has_body: bool,
    ) -> Result<Self, HeaderErrors> {
        Self::parse_inner(op, pairs, has_body)
    }

    fn parse_inner<'a>(
        op: Operation,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        has_body: bool,
    ) -> Result<Self, HeaderErrors> {
        let declared = op.header_requirements();
        let mut seen: std::collections::BTreeMap<AcpHeader, Vec<&'a str>> =
            std::collections::BTreeMap::new();
        for (name, value) in pairs {
            if let Some(h) = AcpHeader::from_name(name) {
                if declared.iter().any(|(d, _)| *d == h) {
                    seen.entry(h).or_default().push(value);
                }
            }
        }

        let mut out = Self {
            api_version: None,
            authorization: None,
            idempotency_key: None,
            request_id: None,
            signature: None,
            timestamp: None,
            merchant_signature: None,
            content_type: None,
            accept_language: None,
            user_agent: None,
        };
        // Idempotency-Key became mandatory in 2026-04-17 (IDEM-01): a peer that names an older
        // version may omit it, as that version's OAS allows. Without a (valid) API-Version
        // header the current rule applies.
        let key_optional = matches!(
            seen.get(&AcpHeader::ApiVersion).map(Vec::as_slice),
            Some([v]) if parse_api_version(v).is_ok_and(|v| !v.requires_idempotency_key())
        );
        let mut problems = Vec::new();
        for &(header, requirement) in declared {
            let required = match requirement {
                Requirement::Required => !(key_optional && header == AcpHeader::IdempotencyKey),
                Requirement::RequiredWithBody => has_body,
                Requirement::Recommended | Requirement::Optional => false,
            };
            let value = match seen.get(&header).map(Vec::as_slice) {
                None | Some([]) => {
                    if required {
                        problems.push(HeaderProblem::new(header, HeaderProblemKind::Missing));
                    }
                    continue;
                }
                Some([one]) => (*one).to_owned(),
                Some(many) if header.is_list() => many.join(", "),
                Some(many) => {
                    problems.push(HeaderProblem::new(
                        header,
                        HeaderProblemKind::Duplicated { count: many.len() },
                    ));
                    continue;
                }
            };
            if let Err(e) = out.set(header, &value) {
                problems.push(HeaderProblem::new(header, HeaderProblemKind::Malformed(e)));
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            problems.sort_by_key(HeaderProblem::header);
            Err(HeaderErrors { problems })
        }
    }

    fn set(&mut self, header: AcpHeader, value: &str) -> Result<(), HeaderValueError> {
        match header {
            AcpHeader::Authorization => self.authorization = Some(BearerToken::parse(value)?),
            AcpHeader::Signature => self.signature = Some(Signature::parse(value)?),
            AcpHeader::MerchantSignature => {
                self.merchant_signature = Some(clean(value)?.to_owned());
            }
            AcpHeader::ApiVersion => self.api_version = Some(parse_api_version(value)?),
            AcpHeader::IdempotencyKey => {
                self.idempotency_key = Some(IdempotencyKey::parse(value)?);
            }
            AcpHeader::ContentType => {
                let ct = ContentType::parse(value)?;
                if !ct.is_json() {
                    return Err(HeaderValueError::NotJson);
                }
                self.content_type = Some(ct);
            }
            AcpHeader::Timestamp => self.timestamp = Some(parse_timestamp(value)?),
            AcpHeader::RequestId => self.request_id = Some(RequestId::parse(value)?),
            AcpHeader::AcceptLanguage => {
                self.accept_language = Some(AcceptLanguage::parse(value)?);
            }
            AcpHeader::UserAgent => self.user_agent = Some(clean(value)?.to_owned()),
            // Response headers: never declared on a request.
            AcpHeader::IdempotentReplayed => {
                IdempotentReplayed::parse(value)?;
            }
            AcpHeader::RetryAfter => {
                RetryAfter::parse(value)?;
            }
        }
        Ok(())
    }

    /// `API-Version` (well-formed; not yet checked against the server's list).
    pub fn api_version(&self) -> Option<&ApiVersion> {
        self.api_version.as_ref()
    }

    /// The `Authorization` bearer token.
    pub fn authorization(&self) -> Option<&BearerToken> {
        self.authorization.as_ref()
    }

    /// `Idempotency-Key`.
    pub fn idempotency_key(&self) -> Option<&IdempotencyKey> {
        self.idempotency_key.as_ref()
    }

    /// `Request-Id`.
    pub fn request_id(&self) -> Option<&RequestId> {
        self.request_id.as_ref()
    }

    /// `Signature`.
    pub fn signature(&self) -> Option<&Signature> {
        self.signature.as_ref()
    }

    /// `Timestamp`.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.timestamp
    }

    /// The raw `Merchant-Signature` value (webhook only), surrounding whitespace stripped; pass
    /// it to [`crate::trust::webhook::WebhookVerifier::verify`].
    pub fn merchant_signature(&self) -> Option<&str> {
        self.merchant_signature.as_deref()
    }

    /// `Content-Type` (always `application/json` when present).
    pub fn content_type(&self) -> Option<&ContentType> {
        self.content_type.as_ref()
    }

    /// `Accept-Language`.
    pub fn accept_language(&self) -> Option<&AcceptLanguage> {
        self.accept_language.as_ref()
    }

    /// `User-Agent`, whitespace-trimmed.
    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }

    /// Checks the request's `API-Version` against the server's `supported` list (VER-02).
    ///
    /// # Errors
    ///
    /// [`VersionError::Missing`] when the operation has no `API-Version` (webhook, discovery) or
    /// [`VersionError::Unsupported`] when the version is not in `supported`.
    pub fn negotiate_version(&self, supported: &[ApiVersion]) -> Result<ApiVersion, VersionError> {
        version::negotiate(supported, self.api_version.as_ref().map(ApiVersion::as_str))
    }

    /// The headers to echo on the response (HDR-04): `Idempotency-Key` and `Request-Id`, when
    /// the request carried them.
    pub fn echo_headers(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(k) = &self.idempotency_key {
            out.push((AcpHeader::IdempotencyKey.as_str(), k.as_str().to_owned()));
        }
        if let Some(r) = &self.request_id {
            out.push((AcpHeader::RequestId.as_str(), r.as_str().to_owned()));
        }
        out
    }
}
