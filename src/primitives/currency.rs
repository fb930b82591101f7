use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ISO 4217 currency code, kept in the case it arrived in.
///
/// Checkout, allowances and coupons use lower case (`usd`); the product feed
/// and delegate authentication use upper case (`USD`). The wire case is kept
/// so re-serialization is exact, and comparison ignores case: `usd == USD`.
/// Parsing requires exactly three ASCII letters; whether the code is an
/// active ISO 4217 code is a separate question, [`Currency::is_iso4217`].
#[derive(Clone, Debug)]
pub struct Currency([u8; 3]);

/// Why a string is not a currency code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("currency must be three ASCII letters (ISO 4217), got {found:?}")]
pub struct CurrencyError {
    /// The rejected input.
    pub found: String,
}

/// Active ISO 4217 alphabetic codes (upper case), sorted for binary search.
const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
    "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUP", "CVE",
    "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL",
    "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR",
    "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD",
    "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK",
    "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO",
    "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON",
    "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD",
    "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD",
    "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV",
    "WST", "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR", "XOF", "XPD",
    "XPF", "XPT", "XSU", "XTS", "XUA", "XXX", "YER", "ZAR", "ZMW", "ZWG",
];

/// ISO 4217 minor-unit exponents that differ from 2.
const EXPONENTS: &[(&str, u8)] = &[
    ("BHD", 3),
    ("BIF", 0),
    ("CLF", 4),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("IQD", 3),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("PYG", 0),
    ("RWF", 0),
    ("TND", 3),
    ("UGX", 0),
    ("UYI", 0),
    ("UYW", 4),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
];

impl Currency {
    /// Parses three ASCII letters, keeping their case.
    ///
    /// # Errors
    /// [`CurrencyError`] if `code` is not exactly three ASCII letters.
    pub fn new(code: &str) -> Result<Self, CurrencyError> {
        match code.as_bytes() {
            [a, b, c] if code.bytes().all(|b| b.is_ascii_alphabetic()) => Ok(Self([*a, *b, *c])),
            _ => Err(CurrencyError {
                found: code.to_owned(),
            }),
        }
    }

    /// The code exactly as it arrived.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        core::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// The upper-case code (`USD`).
    #[must_use]
    pub fn to_uppercase(&self) -> Self {
        Self(self.0.map(|b| b.to_ascii_uppercase()))
    }

    /// The lower-case code (`usd`), the form checkout and allowances use.
    #[must_use]
    pub fn to_lowercase(&self) -> Self {
        Self(self.0.map(|b| b.to_ascii_lowercase()))
    }

    /// Whether the code is all lower case, as `^[a-z]{3}$` fields require.
    pub fn is_lowercase(&self) -> bool {
        self.0.iter().all(u8::is_ascii_lowercase)
    }

    /// Whether the code is all upper case, as `^[A-Z]{3}$` fields require.
    pub fn is_uppercase(&self) -> bool {
        self.0.iter().all(u8::is_ascii_uppercase)
    }

    /// Whether this is an active ISO 4217 code (case-insensitive).
    pub fn is_iso4217(&self) -> bool {
        ISO_4217
            .binary_search(&self.to_uppercase().as_str())
            .is_ok()
    }

    /// The ISO 4217 minor-unit exponent (2 for USD, 0 for JPY, 3 for KWD).
    pub fn minor_unit_exponent(&self) -> u8 {
        let upper = self.to_uppercase();
        EXPONENTS
            .iter()
            .find(|(code, _)| *code == upper.as_str())
            .map_or(2, |(_, exp)| *exp)
    }
}

impl PartialEq for Currency {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}
impl Eq for Currency {}

impl PartialEq<str> for Currency {
    fn eq(&self, other: &str) -> bool {
        self.as_str().eq_ignore_ascii_case(other)
    }
}

impl PartialEq<&str> for Currency {
    fn eq(&self, other: &&str) -> bool {
        self.as_str().eq_ignore_ascii_case(other)
    }
}

impl core::hash::Hash for Currency {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.0.map(|b| b.to_ascii_lowercase()).hash(state);
    }
}

impl core::fmt::Display for Currency {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::str::FromStr for Currency {
    type Err = CurrencyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = crate::wire::WireKey::deserialize(deserializer)?;
        Self::new(key.as_str()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::Currency;

    #[test]
    fn keeps_case_and_compares_case_insensitively() {
        let lower = Currency::new("usd").unwrap();
        let upper = Currency::new("USD").unwrap();
        assert_eq!(lower, upper);
        assert_eq!(lower.as_str(), "usd");
        assert_eq!(upper.as_str(), "USD");
        assert!(lower.is_lowercase() && upper.is_uppercase());
        assert_eq!(serde_json::to_string(&upper).unwrap(), "\"USD\"");
    }

    #[test]
    fn rejects_anything_but_three_letters() {
        for bad in ["", "us", "usdd", "u$d", "ü12", "12a"] {
            assert!(Currency::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn knows_iso_codes_and_exponents() {
        assert!(Currency::new("eur").unwrap().is_iso4217());
        assert!(!Currency::new("abc").unwrap().is_iso4217());
        assert_eq!(Currency::new("jpy").unwrap().minor_unit_exponent(), 0);
        assert_eq!(Currency::new("KWD").unwrap().minor_unit_exponent(), 3);
        assert_eq!(Currency::new("usd").unwrap().minor_unit_exponent(), 2);
        assert!(super::ISO_4217.windows(2).all(|w| w[0] < w[1]));
    }
}
