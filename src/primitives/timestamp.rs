use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// An RFC 3339 date-time (`2026-04-17T12:00:00Z`), as every ACP timestamp is.
///
/// The instant and its UTC offset are kept; re-serialization writes the same
/// instant in the same offset (fractional seconds without trailing zeros).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    /// Parses an RFC 3339 date-time.
    ///
    /// # Errors
    /// The `time` crate's parse error when `text` is not RFC 3339.
    pub fn parse(text: &str) -> Result<Self, time::error::Parse> {
        OffsetDateTime::parse(text, &Rfc3339).map(Self)
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

impl From<OffsetDateTime> for Timestamp {
    fn from(value: OffsetDateTime) -> Self {
        Self(value)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self.to_rfc3339().map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
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
}
