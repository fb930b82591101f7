//! Every wire type by its official name, `<bundle>.<Name>`, for tools that
//! pick a type at run time (the `acp validate` command, conformance tests).

use serde_json::Value;

use crate::parse::{ParseError, from_value_with};
use crate::schema::{Shape, Violation, validate};

/// One official wire type: its name, its shape, and a lossless round trip
/// through its Rust type.
pub struct TypeEntry {
    bundle: &'static str,
    name: &'static str,
    shape: &'static Shape,
    roundtrip: fn(&Value, &Shape) -> Result<Value, ParseError>,
}

impl core::fmt::Debug for TypeEntry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "TypeEntry({}.{})", self.bundle, self.name)
    }
}

fn roundtrip<T: serde::Serialize + serde::de::DeserializeOwned>(
    value: &Value,
    shape: &Shape,
) -> Result<Value, ParseError> {
    let typed: T = from_value_with(value, shape)?;
    serde_json::to_value(&typed).map_err(|e| ParseError {
        path: crate::json_path::JsonPath::root(),
        kind: crate::parse::ParseErrorKind::Data,
        message: e.to_string(),
    })
}

impl TypeEntry {
    pub(crate) const fn new<T: serde::Serialize + serde::de::DeserializeOwned>(
        bundle: &'static str,
        name: &'static str,
        shape: &'static Shape,
    ) -> Self {
        Self {
            bundle,
            name,
            shape,
            roundtrip: roundtrip::<T>,
        }
    }

    /// The schema bundle (file stem), e.g. `agentic_checkout`.
    pub fn bundle(&self) -> &'static str {
        self.bundle
    }

    /// The official `$defs` (or OpenAPI component) name, e.g. `CheckoutSession`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// `<bundle>.<Name>`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.bundle, self.name)
    }

    /// The compiled-in official schema.
    pub fn shape(&self) -> &'static Shape {
        self.shape
    }

    /// Parses `value` leniently into the Rust type and serializes it back.
    ///
    /// # Errors
    /// [`ParseError`] when the Rust type cannot hold the value.
    pub fn roundtrip(&self, value: &Value) -> Result<Value, ParseError> {
        (self.roundtrip)(value, self.shape)
    }

    /// Strictly validates `value` against the official schema; on success
    /// parses it and returns the re-serialized value.
    ///
    /// # Errors
    /// Every schema violation, or the parse error as a single violation.
    pub fn roundtrip_strict(&self, value: &Value) -> Result<Value, Vec<Violation>> {
        let violations = validate(self.shape, value);
        if !violations.is_empty() {
            return Err(violations);
        }
        self.roundtrip(value).map_err(|e| {
            vec![Violation {
                path: e.path,
                kind: crate::schema::ViolationKind::Type,
                message: e.message,
            }]
        })
    }
}

/// Every type of the latest released version (2026-04-17), sorted by
/// qualified name.
pub fn types() -> &'static [TypeEntry] {
    crate::spec::v2026_04_17::TYPES
}

/// Looks a type up by `<bundle>.<Name>`.
pub fn lookup(qualified_name: &str) -> Option<&'static TypeEntry> {
    let (bundle, name) = qualified_name.split_once('.')?;
    types()
        .iter()
        .find(|t| t.bundle == bundle && t.name == name)
}
