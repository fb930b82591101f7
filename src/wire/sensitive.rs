use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A wire string that must never reach logs: card numbers, CVCs,
/// cryptograms, payment tokens (DP-19).
///
/// `Debug` prints `[REDACTED]`; there is no `Display`. The value serializes
/// as the plain string, because it is wire data; read it with
/// [`Sensitive::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive(String);

impl Sensitive {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value.
    ///
    /// # Security
    /// Do not log or display the returned string.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The number of characters (safe to log).
    pub fn char_count(&self) -> usize {
        self.0.chars().count()
    }
}

impl core::fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl From<&str> for Sensitive {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl From<String> for Sensitive {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl Serialize for Sensitive {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Sensitive {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}
