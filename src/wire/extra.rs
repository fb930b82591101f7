use serde_json::{Map, Value};

/// The fields of a wire object that this crate does not model.
///
/// Parsing puts every unknown key here (a field from a newer spec version, an
/// extension's field, or a `null` sent for an optional field); serializing
/// writes them back, so a round trip loses nothing. Business logic should not
/// depend on them; [strict validation](crate::parse::schema) reports them where the
/// official schema forbids additional properties.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Extra(Map<String, Value>);

impl Extra {
    /// An empty bag.
    pub fn new() -> Self {
        Self(Map::new())
    }

    /// Whether there are no unknown fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of unknown fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The value of the unknown field `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Sets an unknown field, returning the previous value. Setting the name of
    /// a modelled field has no effect on output while that field is present.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        self.0.insert(key, value)
    }

    /// Removes an unknown field.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.0.remove(key)
    }

    /// Iterates over the unknown fields in key order.
    pub fn iter(&self) -> serde_json::map::Iter<'_> {
        self.0.iter()
    }

    /// The underlying JSON map.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// Consumes the bag, returning the underlying JSON map.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

impl From<Map<String, Value>> for Extra {
    fn from(map: Map<String, Value>) -> Self {
        Self(map)
    }
}

impl<'a> IntoIterator for &'a Extra {
    type Item = (&'a String, &'a Value);
    type IntoIter = serde_json::map::Iter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}
