//! ACP API versions (`API-Version` header) and version negotiation.
//!
//! ACP versions the whole protocol by release date: a version is a `YYYY-MM-DD` string sent in
//! the `API-Version` request header (VER-01). [`ApiVersion`] is an *open* type: it has an
//! associated constant for every released date, but parsing accepts any valid calendar date and
//! keeps dates it does not know, so a newer client never makes parsing fail. Whether a version is
//! one this crate knows is a separate check ([`ApiVersion::is_released`]); whether a server
//! *accepts* it is decided by [`negotiate`] against the server's own list (VER-02).
//!
//! # Negotiation errors (VER-03, VER-04, VER-05)
//!
//! [`negotiate`] returns a [`VersionError`] that carries everything the server must send: HTTP
//! status 400 and the ACP `Error` object
//! `{"type":"invalid_request","code":"missing_api_version"|"unsupported_api_version","message":…,
//! "supported_versions":[…]}`, with `supported_versions` ordered newest first (VER-05).
//!
//! # Whitespace
//!
//! Leading and trailing optional whitespace (space and horizontal tab, RFC 9110 §5.5 "OWS") is not
//! part of an HTTP field value, so [`negotiate`] strips it before parsing: `" 2026-04-17 "` selects
//! `2026-04-17`. A header that is present but empty (or only whitespace) is *not* treated as
//! missing: it is an unsupported version (`unsupported_api_version`), because the client did send
//! the header. Whitespace *inside* the value (`"2026-04- 17"`) makes it malformed, and
//! [`ApiVersion::from_str`](std::str::FromStr) itself accepts no surrounding whitespace at all.

pub mod convert;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month};

/// An ACP API version: a calendar date written `YYYY-MM-DD`.
///
/// Released versions are associated constants ([`ApiVersion::RELEASED`], oldest first). Any other
/// valid date parses too and is kept as given (STYLE.md #6); [`ApiVersion::is_released`] tells the
/// two apart. Versions order by date, display and serialize as the `YYYY-MM-DD` string.
///
/// ```
/// use agentic_commerce::protocol::version::ApiVersion;
///
/// let v: ApiVersion = "2025-09-29".parse().unwrap();
/// assert_eq!(v, ApiVersion::V2025_09_29);
/// assert!(v.is_released());
///
/// let future: ApiVersion = "2027-02-28".parse().unwrap();
/// assert!(!future.is_released());
/// assert!(future > ApiVersion::LATEST);
///
/// assert!("2026-02-30".parse::<ApiVersion>().is_err()); // not a real date
/// ```
#[derive(Clone)]
pub struct ApiVersion {
    date: Date,
    text: Cow<'static, str>,
}

impl ApiVersion {
    /// The version of the working model, [`crate::spec::latest`]: the version the crate's
    /// hand-written logic (checkout, rules, errors, negotiation) is written against, and the one
    /// [`crate::protocol::version::convert`] converts to and from.
    ///
    /// It is chosen by hand and is not necessarily the newest of [`ApiVersion::RELEASED`]: a
    /// release the generator discovered later parses, validates and negotiates, but `LATEST`
    /// moves only when the working model does. Pin a specific constant where that matters.
    pub const LATEST: Self = crate::spec::latest::VERSION;

    /// The released versions' constants (`ApiVersion::V2025_09_29`, …) and
    /// [`ApiVersion::RELEASED`] are generated into `src/spec.rs`, one per `spec/<YYYY-MM-DD>/`
    /// folder of the official spec.
    pub(crate) const fn known(date: Date, text: &'static str) -> Self {
        Self {
            date,
            text: Cow::Borrowed(text),
        }
    }

    /// The version for a calendar date (released or not), or `None` when the year is outside
    /// 0000–9999 and so has no `YYYY-MM-DD` form.
    pub fn from_date(date: Date) -> Option<Self> {
        if !(0..=9999).contains(&date.year()) {
            return None;
        }
        if let Some(known) = Self::RELEASED.iter().find(|v| v.date == date) {
            return Some(known.clone());
        }
        let text = format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        );
        Some(Self {
            date,
            text: Cow::Owned(text),
        })
    }

    /// The `YYYY-MM-DD` form, exactly as sent in the `API-Version` header.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The calendar date of this version.
    pub fn date(&self) -> Date {
        self.date
    }

    /// Whether this is one of the released versions in [`ApiVersion::RELEASED`].
    pub fn is_released(&self) -> bool {
        Self::RELEASED.contains(self)
    }

    /// Whether peers of this version must send `Idempotency-Key` on every POST (IDEM-01). The
    /// header became mandatory in 2026-04-17; earlier versions list it as optional, so a
    /// server that serves them must not refuse a request without it. Later versions, known or
    /// not, keep the requirement.
    pub fn requires_idempotency_key(&self) -> bool {
        *self >= Self::V2026_04_17
    }
}

/// Why a string is not an ACP API version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiVersionParseError {
    /// Not of the form `YYYY-MM-DD` (exactly ten ASCII characters, digits and two hyphens).
    #[error("API version must have the form YYYY-MM-DD")]
    Format,
    /// Of the form `YYYY-MM-DD` but not a real calendar date (for example `2026-02-30`).
    #[error("API version {0:?} is not a real calendar date")]
    NotADate(String),
}

impl FromStr for ApiVersion {
    type Err = ApiVersionParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        let shape_ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape_ok {
            return Err(ApiVersionParseError::Format);
        }
        let num = |range: std::ops::Range<usize>| -> u16 {
            b[range]
                .iter()
                .fold(0_u16, |acc, c| acc * 10 + u16::from(c - b'0'))
        };
        let not_a_date = || ApiVersionParseError::NotADate(s.to_owned());
        let year = i32::from(num(0..4));
        let month = u8::try_from(num(5..7)).map_err(|_| not_a_date())?;
        let day = u8::try_from(num(8..10)).map_err(|_| not_a_date())?;
        let month = Month::try_from(month).map_err(|_| not_a_date())?;
        let date = Date::from_calendar_date(year, month, day).map_err(|_| not_a_date())?;
        Self::from_date(date).ok_or_else(not_a_date)
    }
}

impl TryFrom<&str> for ApiVersion {
    type Error = ApiVersionParseError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl PartialEq for ApiVersion {
    fn eq(&self, other: &Self) -> bool {
        self.date == other.date
    }
}

impl Eq for ApiVersion {}

impl PartialOrd for ApiVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ApiVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.date.cmp(&other.date)
    }
}

impl Hash for ApiVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.date.hash(state);
    }
}

impl fmt::Debug for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiVersion({})", self.text)
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq<str> for ApiVersion {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ApiVersion {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for ApiVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ApiVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = Cow::<'de, str>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// HTTP status of every version-negotiation error (VER-03).
const VERSION_ERROR_STATUS: u16 = 400;

/// Why [`negotiate`] refused a request: the data of the HTTP 400 ACP error the server sends.
///
/// `supported_versions` is always deduplicated and ordered newest first (VER-05).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VersionError {
    /// The request has no `API-Version` header (VER-01); code `missing_api_version`.
    #[error("the API-Version header is missing")]
    Missing {
        /// Versions the server accepts, newest first.
        supported_versions: Vec<ApiVersion>,
    },
    /// The `API-Version` value is malformed, not a real date, or not one the server accepts
    /// (VER-02); code `unsupported_api_version`.
    #[error("API-Version {requested:?} is not supported")]
    Unsupported {
        /// The header value as received (before whitespace stripping).
        requested: String,
        /// Versions the server accepts, newest first.
        supported_versions: Vec<ApiVersion>,
    },
}

impl VersionError {
    /// The HTTP status to respond with: always 400 (VER-03).
    pub fn status(&self) -> u16 {
        VERSION_ERROR_STATUS
    }

    /// The ACP error `type`: always `invalid_request`.
    pub fn error_type(&self) -> &'static str {
        "invalid_request"
    }

    /// The ACP error `code`: `missing_api_version` or `unsupported_api_version` (VER-04).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing { .. } => "missing_api_version",
            Self::Unsupported { .. } => "unsupported_api_version",
        }
    }

    /// The human-readable `message` sent to the client.
    ///
    /// It does not echo the requested value back.
    pub fn message(&self) -> &'static str {
        match self {
            Self::Missing { .. } => "The API-Version header is required",
            Self::Unsupported { .. } => {
                "The requested API-Version is not supported; see supported_versions"
            }
        }
    }

    /// Versions the server accepts, newest first (VER-05).
    pub fn supported_versions(&self) -> &[ApiVersion] {
        match self {
            Self::Missing { supported_versions }
            | Self::Unsupported {
                supported_versions, ..
            } => supported_versions,
        }
    }
}

/// `supported`, deduplicated and ordered newest first.
fn newest_first(supported: &[ApiVersion]) -> Vec<ApiVersion> {
    let set: std::collections::BTreeSet<&ApiVersion> = supported.iter().collect();
    set.into_iter().rev().cloned().collect()
}

/// Strips RFC 9110 optional whitespace (SP and HTAB) from both ends of a field value.
pub(crate) fn trim_ows(value: &str) -> &str {
    value.trim_matches(|c| c == ' ' || c == '\t')
}

/// Chooses the API version for a request (VER-01, VER-02, VER-03).
///
/// `supported` is the list of versions the server accepts (any order; duplicates are ignored);
/// `requested` is the raw `API-Version` header value, or `None` when the header is absent.
/// Surrounding spaces and tabs are stripped first (see the [module docs](self#whitespace)).
///
/// # Errors
///
/// - [`VersionError::Missing`] when `requested` is `None`;
/// - [`VersionError::Unsupported`] when the value is empty, malformed, not a real date, or not in
///   `supported` (a well-formed but unknown future date is unsupported, not malformed).
///
/// ```
/// use agentic_commerce::protocol::version::{negotiate, ApiVersion};
///
/// let supported = [ApiVersion::V2025_12_12, ApiVersion::V2026_01_30];
/// assert_eq!(negotiate(&supported, Some("2026-01-30")), Ok(ApiVersion::V2026_01_30));
///
/// let err = negotiate(&supported, Some("2025-09-29")).unwrap_err();
/// assert_eq!(err.status(), 400);
/// assert_eq!(agentic_commerce::AcpError::from(&err).to_json()["supported_versions"][0], "2026-01-30");
/// ```
pub fn negotiate(
    supported: &[ApiVersion],
    requested: Option<&str>,
) -> Result<ApiVersion, VersionError> {
    let Some(raw) = requested else {
        return Err(VersionError::Missing {
            supported_versions: newest_first(supported),
        });
    };
    match trim_ows(raw).parse::<ApiVersion>() {
        Ok(version) if supported.contains(&version) => Ok(version),
        _ => Err(VersionError::Unsupported {
            requested: raw.to_owned(),
            supported_versions: newest_first(supported),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn released_consts_match_their_text() {
        for v in ApiVersion::RELEASED {
            let parsed: ApiVersion = v.as_str().parse().unwrap();
            assert_eq!(&parsed, v);
            assert_eq!(
                ApiVersion::from_date(v.date()).unwrap().as_str(),
                v.as_str()
            );
        }
        let negative = Date::from_calendar_date(-1, Month::January, 1).unwrap();
        assert_eq!(ApiVersion::from_date(negative), None);
        {}
        assert!(ApiVersion::RELEASED.windows(2).all(|w| w[0] < w[1]));
    }
}
