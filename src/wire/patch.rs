use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A field of an update request, where absent and `null` mean different things
/// (IDEM-16, RFC `agentic_checkout` §6.8).
///
/// - [`Patch::Absent`]: the field was omitted: leave the stored value unchanged.
/// - [`Patch::Null`]: the field was `null`: clear the stored value.
/// - [`Patch::Set`]: replace the stored value.
///
/// The official JSON Schemas do not allow `null` for these fields, so strict
/// validation reports a `null`; lenient parsing keeps it as [`Patch::Null`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Omitted: leave unchanged.
    #[default]
    Absent,
    /// Sent as `null`: clear.
    Null,
    /// Sent with a value: replace.
    Set(T),
}

impl<T> Patch<T> {
    /// Whether the field was omitted.
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }

    /// The value, if one was sent.
    pub fn as_set(&self) -> Option<&T> {
        match self {
            Self::Set(value) => Some(value),
            Self::Absent | Self::Null => None,
        }
    }

    /// Applies this patch to a stored optional value.
    pub fn apply_to(self, stored: &mut Option<T>) {
        match self {
            Self::Absent => {}
            Self::Null => *stored = None,
            Self::Set(value) => *stored = Some(value),
        }
    }
}

impl<T> From<T> for Patch<T> {
    fn from(value: T) -> Self {
        Self::Set(value)
    }
}

impl<T: Serialize> Serialize for Patch<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Set(value) => value.serialize(serializer),
            // `Absent` is skipped by the containing object; if it reaches the
            // serializer anyway, `null` is the only faithful JSON spelling.
            Self::Absent | Self::Null => serializer.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Self::Set(value),
            None => Self::Null,
        })
    }
}
