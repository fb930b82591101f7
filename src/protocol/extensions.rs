//! Extension identifiers and `extends` targets (RFC extensions).
//!
//! # Extension identifiers (EXT-02, EXT-09)
//!
//! [`ExtensionId::parse`] accepts exactly the two forms of the official
//! `ExtensionIdentifier` pattern: a simple lowercase name
//! (`^[a-z][a-z0-9_-]*$`, e.g. `discount`) or a reverse-DNS name
//! (`^[a-z][a-z0-9]*(\.[a-z][a-z0-9_-]*)+$`, e.g. `com.example.loyalty`), each
//! with an optional `@YYYY-MM-DD` version. A missing version means "latest
//! stable" (EXT §6.2). The date must also be a real calendar date, which the
//! schema's digit pattern does not check.
//!
//! # `extends` targets (EXT-03)
//!
//! [`ExtendsTarget::parse`] accepts `$.<SchemaName>.<field>[.<field>…]`, the
//! official `ExtendsTarget` pattern
//! `^\$\.[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9_]*)*$`.
//!
//! The discount extension's request and response rules (DSC-01 … DSC-04) and the checks of
//! extension declarations (EXT-01 … EXT-04) are in [`crate::rules::discounts`].

use core::fmt;

use time::{Date, Month};

/// The identifier of the discount extension (EXT §3.6: core extensions use
/// simple names).
pub const DISCOUNT_EXTENSION: &str = "discount";

/// The fields the discount extension adds (official `core_extensions`).
pub const DISCOUNT_EXTENDS: &[&str] = &[
    "$.CheckoutSessionCreateRequest.discounts",
    "$.CheckoutSessionUpdateRequest.discounts",
    "$.CheckoutSession.discounts",
];

/// A parsed extension identifier: `name` or `name@YYYY-MM-DD` (EXT-02).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExtensionId {
    name: String,
    version: Option<Date>,
}

/// Why a string is not an extension identifier or `extends` target.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtensionError {
    /// The name part matches neither the simple nor the reverse-DNS form.
    #[error(
        "extension name {found:?} is neither a simple lowercase name ([a-z][a-z0-9_-]*) \
         nor a reverse-DNS name ([a-z][a-z0-9]*(.[a-z][a-z0-9_-]*)+)"
    )]
    InvalidName {
        /// The rejected name part.
        found: String,
    },
    /// The part after `@` is not a `YYYY-MM-DD` calendar date.
    #[error("extension version {found:?} is not a YYYY-MM-DD calendar date")]
    InvalidVersion {
        /// The rejected version part.
        found: String,
    },
    /// The `extends` entry is not `$.<SchemaName>.<field>`.
    #[error("extends target {found:?} is not of the form $.<SchemaName>.<field>")]
    InvalidExtendsTarget {
        /// The rejected target.
        found: String,
    },
}

impl ExtensionId {
    /// Parses `name` or `name@YYYY-MM-DD`.
    ///
    /// # Errors
    /// [`ExtensionError::InvalidName`] or [`ExtensionError::InvalidVersion`].
    pub fn parse(text: &str) -> Result<Self, ExtensionError> {
        let (name, version) = match text.split_once('@') {
            Some((name, version)) => (name, Some(version)),
            None => (text, None),
        };
        if !is_simple_name(name) && !is_reverse_dns_name(name) {
            return Err(ExtensionError::InvalidName {
                found: name.to_owned(),
            });
        }
        let version = match version {
            None => None,
            Some(v) => Some(parse_date(v).ok_or_else(|| ExtensionError::InvalidVersion {
                found: v.to_owned(),
            })?),
        };
        Ok(Self {
            name: name.to_owned(),
            version,
        })
    }

    /// The name without the version (`discount`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The pinned version date, or `None` for "latest stable".
    pub fn version(&self) -> Option<Date> {
        self.version
    }

    /// Whether the name is reverse-DNS, the form third-party extensions
    /// SHOULD use (EXT-09).
    pub fn is_reverse_dns(&self) -> bool {
        self.name.contains('.')
    }

    /// Whether an agent asking for `self` is served by a seller offering
    /// `offered`: same name, and the versions agree when both are pinned (an
    /// unpinned side means "latest stable", which satisfies any pin on the
    /// other side).
    pub fn is_satisfied_by(&self, offered: &Self) -> bool {
        self.name == offered.name
            && match (self.version, offered.version) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

impl fmt::Display for ExtensionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(date) = self.version {
            write!(
                f,
                "@{:04}-{:02}-{:02}",
                date.year(),
                u8::from(date.month()),
                date.day()
            )?;
        }
        Ok(())
    }
}

impl core::str::FromStr for ExtensionId {
    type Err = ExtensionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn is_simple_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
}

fn is_reverse_dns_name(name: &str) -> bool {
    let mut labels = name.split('.');
    let Some(first) = labels.next() else {
        return false;
    };
    let mut first_bytes = first.bytes();
    let first_ok = matches!(first_bytes.next(), Some(b'a'..=b'z'))
        && first_bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9'));
    let mut rest = 0usize;
    let rest_ok = labels.all(|label| {
        rest += 1;
        is_simple_name(label)
    });
    first_ok && rest_ok && rest >= 1
}

/// Parses exactly `YYYY-MM-DD` (ASCII digits) into a calendar date.
fn parse_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |range: core::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(digits(5..7)?).ok()?).ok()?;
    let day = u8::try_from(digits(8..10)?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// A parsed `extends` entry: `$.CheckoutSessionCreateRequest.discounts`
/// (EXT-03).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExtendsTarget {
    schema: String,
    fields: Vec<String>,
}

impl ExtendsTarget {
    /// Parses `$.<SchemaName>[.<field>…]` per the official pattern.
    ///
    /// # Errors
    /// [`ExtensionError::InvalidExtendsTarget`].
    pub fn parse(text: &str) -> Result<Self, ExtensionError> {
        let err = || ExtensionError::InvalidExtendsTarget {
            found: text.to_owned(),
        };
        let rest = text.strip_prefix("$.").ok_or_else(err)?;
        let mut parts = rest.split('.');
        let schema = parts.next().ok_or_else(err)?;
        if !is_segment(schema, false) {
            return Err(err());
        }
        let mut fields = Vec::new();
        for field in parts {
            if !is_segment(field, true) {
                return Err(err());
            }
            fields.push(field.to_owned());
        }
        Ok(Self {
            schema: schema.to_owned(),
            fields,
        })
    }

    /// The schema the extension adds to (`CheckoutSessionCreateRequest`).
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The field path inside that schema (`["discounts"]`).
    pub fn fields(&self) -> &[String] {
        &self.fields
    }
}

impl fmt::Display for ExtendsTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "$.{}", self.schema)?;
        for field in &self.fields {
            write!(f, ".{field}")?;
        }
        Ok(())
    }
}

fn is_segment(s: &str, underscore: bool) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || (underscore && b == b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ext02_simple_and_reverse_dns_identifiers_parse() {
        let id = ExtensionId::parse("discount").unwrap();
        assert_eq!((id.name(), id.version()), ("discount", None));
        assert!(!id.is_reverse_dns());
        let id = ExtensionId::parse("discount@2026-01-27").unwrap();
        assert_eq!(
            id.version(),
            Date::from_calendar_date(2026, Month::January, 27).ok()
        );
        assert_eq!(id.to_string(), "discount@2026-01-27");
        let id = ExtensionId::parse("com.example.loyalty_points@2026-02-28").unwrap();
        assert!(id.is_reverse_dns());
        assert_eq!(id.name(), "com.example.loyalty_points");
        assert!(ExtensionId::parse("my-ext_2").is_ok());
    }

    #[test]
    fn ext02_identifiers_outside_both_patterns_are_rejected() {
        for bad in [
            "",
            "Discount",
            "1discount",
            "disc ount",
            "com.",
            ".com",
            "co_m.example",
            "com..example",
            "com.Example",
            "com.1x",
            "discount@",
            "discount@2026-1-27",
            "discount@2026-02-30",
            "discount@2026-13-01",
            "discount@20260127",
            "discount@2026-01-27@2026-01-28",
        ] {
            assert!(
                ExtensionId::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        assert!(matches!(
            ExtensionId::parse("discount@2026-02-30"),
            Err(ExtensionError::InvalidVersion { .. })
        ));
    }

    #[test]
    fn ext02_unpinned_version_is_satisfied_by_any_version() {
        let p = |s| ExtensionId::parse(s).unwrap();
        assert!(p("discount").is_satisfied_by(&p("discount@2026-01-27")));
        assert!(p("discount@2026-01-27").is_satisfied_by(&p("discount")));
        assert!(p("discount@2026-01-27").is_satisfied_by(&p("discount@2026-01-27")));
        assert!(!p("discount@2026-01-27").is_satisfied_by(&p("discount@2026-04-17")));
        assert!(!p("discount").is_satisfied_by(&p("discounts")));
    }

    #[test]
    fn ext03_extends_targets() {
        for good in DISCOUNT_EXTENDS {
            let t = ExtendsTarget::parse(good).unwrap();
            assert_eq!(t.fields(), ["discounts"]);
            assert_eq!(t.to_string(), *good);
        }
        let t = ExtendsTarget::parse("$.CheckoutSession").unwrap();
        assert_eq!((t.schema(), t.fields().len()), ("CheckoutSession", 0));
        for bad in [
            "CheckoutSession.discounts",
            "$.",
            "$.1Checkout.x",
            "$.Checkout.",
            "$.Checkout..x",
            "$.Checkout.dis-counts",
            "$.Checkout_Session.x",
            "$.line_items[0]",
        ] {
            assert!(
                ExtendsTarget::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }
}
