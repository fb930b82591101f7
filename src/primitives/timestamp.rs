use core::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// An RFC 3339 date-time (`2026-04-17T12:00:00Z`), as every ACP timestamp is: in JSON bodies,
/// in the `Timestamp` request header (SIG-03) and in allowances.
///
/// The instant and its UTC offset are kept; re-serialization writes the same
/// instant in the same offset (fractional seconds without trailing zeros).
/// This is the crate's one RFC 3339 path: parsing, `Display` and `Serialize` all go through it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    /// Parses an RFC 3339 date-time.
    ///
    /// RFC 3339 §5.6 `date-time` separates date and time with `T` (or `t`); the `time` parser
    /// also accepts a space, which RFC 3339 only permits "by mutual agreement" and JSON Schema
    /// `format: date-time` does not, so a space is rejected here.
    ///
    /// # Errors
    /// [`TimestampError`] when `text` is not RFC 3339.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        if !matches!(text.as_bytes().get(10), Some(b'T' | b't')) {
            return Err(TimestampError::Separator);
        }
        Ok(Self(OffsetDateTime::parse(text, &Rfc3339)?))
    }

    /// The wrapped date-time.
    pub const fn get(self) -> OffsetDateTime {
        self.0
    }

    /// Unix seconds.
    pub const fn unix_timestamp(self) -> i64 {
        self.0.unix_timestamp()
    }

    /// Formats as RFC 3339.
    ///
    /// # Errors
    /// When the value cannot be written as RFC 3339 (a year outside 0..=9999
    /// or an offset with seconds), which parsing never produces.
    pub fn to_rfc3339(self) -> Result<String, time::error::Format> {
        self.0.format(&Rfc3339)
    }
}

/// Why a text is not an RFC 3339 date-time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// Date and time are not separated by `T` or `t` (RFC 3339 §5.6).
    #[error("date and time must be separated by `T`")]
    Separator,
    /// The `time` crate's RFC 3339 parser rejected the text.
    #[error(transparent)]
    Parse(#[from] time::error::Parse),
}

impl From<OffsetDateTime> for Timestamp {
    fn from(value: OffsetDateTime) -> Self {
        Self(value)
    }
}

/// The longest RFC 3339 text `time` writes: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+HH:MM`.
const MAX_RFC3339_LEN: usize = 35;

impl Timestamp {
    /// Formats into `buffer` without allocating; `None` when the value is not representable as
    /// RFC 3339 (a year outside 0..=9999, an offset with seconds).
    fn format_on_stack(self, buffer: &mut [u8; MAX_RFC3339_LEN]) -> Option<&str> {
        // Formatted on the stack: a `String` per timestamp was a visible share of serializing
        // a checkout session. Same formatter, so the same text and the same errors.
        // The length written is taken from what is left of the buffer, not from the count
        // `format_into` returns: `time` 0.3.55 leaves the fractional digits out of that count
        // (found by the `parse_types` fuzz target: `…:50.52Z` came out as `…:50.5`).
        let left = {
            let mut out: &mut [u8] = buffer;
            self.0
                .format_into(&mut out, &Rfc3339)
                .ok()
                .map(|_| out.len())
        };
        let written = left.and_then(|left| MAX_RFC3339_LEN.checked_sub(left))?;
        std::str::from_utf8(buffer.get(..written)?).ok()
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 when the value can be written so; otherwise `time`'s own `Display`
    /// (`2026-04-17 12:00:00.0 +00:00:30`), so that messages never fail to format.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buffer = [0_u8; MAX_RFC3339_LEN];
        match self.format_on_stack(&mut buffer) {
            Some(text) => f.write_str(text),
            None => fmt::Display::fmt(&self.0, f),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buffer = [0_u8; MAX_RFC3339_LEN];
        match self.format_on_stack(&mut buffer) {
            Some(text) => serializer.serialize_str(text),
            // Not representable (a year outside 0..=9999, an offset with seconds): the
            // allocating path reports `time`'s error.
            None => {
                let text = self.to_rfc3339().map_err(serde::ser::Error::custom)?;
                serializer.serialize_str(&text)
            }
        }
    }
}

/// `#[serde(with = "…")]` for an [`OffsetDateTime`] field written as RFC 3339 through
/// [`Timestamp`].
pub(crate) mod rfc3339 {
    use serde::{Deserialize as _, Deserializer, Serialize as _, Serializer};
    use time::OffsetDateTime;

    use super::Timestamp;

    pub(crate) fn serialize<S: Serializer>(
        value: &OffsetDateTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        Timestamp(*value).serialize(serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<OffsetDateTime, D::Error> {
        Timestamp::deserialize(deserializer).map(Timestamp::get)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = crate::wire::WireKey::deserialize(deserializer)?;
        Self::parse(key.as_str()).map_err(|e| {
            serde::de::Error::custom(format_args!(
                "invalid RFC 3339 date-time {:?}: {e}",
                key.as_str()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn round_trips_the_same_instant_and_offset() {
        let t: Timestamp = serde_json::from_str("\"2026-04-17T10:30:00.500+02:00\"").unwrap();
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2026-04-17T10:30:00.5+02:00\""
        );
        assert!(serde_json::from_str::<Timestamp>("\"2026-04-17\"").is_err());
    }

    #[test]
    fn requires_t_between_date_and_time_and_displays_as_rfc3339() {
        assert!(Timestamp::parse("2026-04-17 10:30:00Z").is_err());
        let t = Timestamp::parse("2026-04-17t10:30:00.25+02:00").unwrap();
        assert_eq!(t.to_string(), "2026-04-17T10:30:00.25+02:00");
        let odd = t
            .get()
            .replace_offset(time::UtcOffset::from_hms(0, 0, 30).unwrap());
        assert_eq!(Timestamp(odd).to_string(), odd.to_string());
    }

    /// Regression (fuzz target `parse_types`, seed corpus): with `time` 0.3.55, whose
    /// `format_into` count leaves out the fractional digits, this serialized as
    /// `2025-10-09T07:20:50.5` and failed to parse back. The lockfile's `time` (0.3.45, for
    /// Rust 1.85) counts correctly, so this fails only where a newer `time` is resolved, as in
    /// the fuzz workspace, which has no lockfile and runs in CI.
    #[test]
    fn fractional_seconds_and_offset_survive_serialization() {
        for text in [
            "2025-10-09T07:20:50.52Z",
            "2025-10-09T07:20:50.123456789-07:30",
            "2025-10-09T07:20:50.000000001+14:00",
        ] {
            let t: Timestamp = serde_json::from_str(&format!("\"{text}\"")).unwrap();
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{text}\""));
        }
    }

    /// Serialization formats on the stack; it must write exactly what `time`'s allocating
    /// formatter writes, and fail exactly where it fails.
    #[test]
    fn serializes_exactly_as_the_time_formatter_including_its_errors() {
        use time::format_description::well_known::Rfc3339;
        use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};
        let mut checked = 0;
        let mut failed = 0;
        for year in [-9999, -1, 0, 1, 999, 2026, 9999] {
            for (month, day) in [
                (Month::January, 1),
                (Month::February, 28),
                (Month::December, 31),
            ] {
                for nanos in [0, 1, 10, 500_000_000, 123_456_789, 999_999_999] {
                    for (h, m, s) in [(0, 0, 0), (-23, -59, 0), (14, 0, 0), (5, 30, 0), (1, 2, 3)] {
                        let date = Date::from_calendar_date(year, month, day).unwrap();
                        let time = Time::from_hms_nano(23, 59, 59, nanos).unwrap();
                        let offset = UtcOffset::from_hms(h, m, s).unwrap();
                        let value = PrimitiveDateTime::new(date, time).assume_offset(offset);
                        let ours = serde_json::to_string(&Timestamp(value));
                        match value.format(&Rfc3339) {
                            Ok(text) => assert_eq!(ours.unwrap(), format!("\"{text}\"")),
                            Err(e) => {
                                assert_eq!(ours.unwrap_err().to_string(), e.to_string());
                                failed += 1;
                            }
                        }
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 630);
        // Negative years and offsets with seconds are not RFC 3339.
        assert!(failed > 100, "{failed}");
    }
}
