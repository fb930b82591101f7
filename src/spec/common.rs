//! Wire types that every spec version shares and that the schemas express as
//! untyped unions: flat metadata values and the two forms of
//! `capabilities.extensions`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::parse::schema::{Additional, ArrayShape, ObjectShape, Shape, StringShape};

/// A flat metadata value: string, number or boolean (no arrays or objects),
/// as affiliate-attribution and intent-trace metadata allow.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum MetadataValue {
    /// A string.
    String(String),
    /// A number (integer or decimal, kept exactly as parsed).
    Number(serde_json::Number),
    /// A boolean.
    Bool(bool),
}

impl Serialize for MetadataValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::String(s) => serializer.serialize_str(s),
            Self::Number(n) => n.serialize(serializer),
            Self::Bool(b) => serializer.serialize_bool(*b),
        }
    }
}

impl<'de> Deserialize<'de> for MetadataValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(s) => Ok(Self::String(s)),
            Value::Number(n) => Ok(Self::Number(n)),
            Value::Bool(b) => Ok(Self::Bool(b)),
            other => Err(serde::de::Error::custom(format_args!(
                "metadata values are strings, numbers or booleans, found {}",
                match other {
                    Value::Null => "null",
                    Value::Array(_) => "an array",
                    _ => "an object",
                }
            ))),
        }
    }
}

/// Flat metadata: string keys to [`MetadataValue`]s.
pub type Metadata = BTreeMap<String, MetadataValue>;

/// `capabilities.extensions`: identifiers in a request, declarations in a
/// response (RFC extensions).
///
/// An empty array parses as `Identifiers(vec![])`. The official schema's
/// `oneOf` makes an empty array invalid (it matches both branches); strict
/// validation reports that.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Extensions<D> {
    /// Extension identifiers the agent understands (`["discount"]`).
    Identifiers(Vec<String>),
    /// Extensions active for the session, with their details.
    Declarations(Vec<D>),
}

impl<D: Serialize> Serialize for Extensions<D> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Identifiers(ids) => ids.serialize(serializer),
            Self::Declarations(decls) => decls.serialize(serializer),
        }
    }
}

impl<'de, D: serde::de::DeserializeOwned> Deserialize<'de> for Extensions<D> {
    fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
        let items = Vec::<Value>::deserialize(deserializer)?;
        if items.iter().all(Value::is_string) {
            let ids = items
                .into_iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect();
            return Ok(Self::Identifiers(ids));
        }
        serde_json::from_value(Value::Array(items))
            .map(Self::Declarations)
            .map_err(serde::de::Error::custom)
    }
}

/// Any JSON value (the generator's shape for an unconstrained member; no
/// 2026-04-17 type has one, later versions may).
#[allow(dead_code)]
pub(crate) static ANY_SHAPE: Shape = Shape::Any;
/// A boolean.
pub(crate) static BOOL_SHAPE: Shape = Shape::Bool;
/// An object with any members.
pub(crate) static OPEN_OBJECT_SHAPE: Shape = Shape::Object(ObjectShape {
    name: "object",
    fields: &[],
    additional: Additional::Allowed,
    any_of_required: &[],
    conditionals: &[],
    forbidden: &[],
    min_properties: None,
});
/// A string, number or boolean.
pub(crate) static METADATA_VALUE_SHAPE: Shape = Shape::OneOf(&[
    &Shape::String(StringShape::ANY),
    &Shape::Number(crate::parse::schema::NumberShape {
        minimum: None,
        exclusive_minimum: None,
        maximum: None,
    }),
    &Shape::Bool,
]);
/// `AffiliateAttributionMetadata`: flat metadata.
pub(crate) static METADATA_SHAPE: Shape = Shape::Object(ObjectShape {
    name: "AffiliateAttributionMetadata",
    fields: &[],
    additional: Additional::Shape(&METADATA_VALUE_SHAPE),
    any_of_required: &[],
    conditionals: &[],
    forbidden: &[],
    min_properties: None,
});

/// An array of strings (used by shapes of identifier lists).
#[allow(dead_code)]
pub(crate) static STRING_ARRAY_SHAPE: Shape = Shape::Array(ArrayShape {
    items: &Shape::String(StringShape::ANY),
    min_items: None,
    max_items: None,
    unique: false,
});
