use serde_json::Value;

use super::{
    Additional, ArrayShape, Constant, Format, ObjectShape, Representation, Shape, StringShape,
    TaggedShape,
};
use crate::parse::json_path::JsonPath;

/// One way a value breaks its official schema.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// Where: the offending value, or for a missing member the path it would have.
    pub path: JsonPath,
    /// Which keyword failed.
    pub kind: ViolationKind,
    /// A human-readable explanation.
    pub message: String,
}

/// The JSON Schema keyword a [`Violation`] breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ViolationKind {
    /// `type`.
    Type,
    /// `required` (or a conditional or `anyOf` requirement).
    Required,
    /// `additionalProperties: false`.
    AdditionalProperty,
    /// `enum`.
    Enum,
    /// `const`.
    Const,
    /// `pattern`, or a representation rule of the crate's type.
    Pattern,
    /// `format`.
    Format,
    /// `minLength`.
    MinLength,
    /// `maxLength`.
    MaxLength,
    /// `minimum`.
    Minimum,
    /// `maximum`.
    Maximum,
    /// `exclusiveMinimum`.
    ExclusiveMinimum,
    /// `minItems`.
    MinItems,
    /// `maxItems`.
    MaxItems,
    /// `uniqueItems`.
    UniqueItems,
    /// `minProperties`.
    MinProperties,
    /// `oneOf` matched no branch or several.
    OneOf,
    /// `anyOf` matched no branch.
    AnyOf,
}

impl ViolationKind {
    /// The snake-case keyword name, e.g. `additional_property`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Type => "type",
            Self::Required => "required",
            Self::AdditionalProperty => "additional_property",
            Self::Enum => "enum",
            Self::Const => "const",
            Self::Pattern => "pattern",
            Self::Format => "format",
            Self::MinLength => "min_length",
            Self::MaxLength => "max_length",
            Self::Minimum => "minimum",
            Self::Maximum => "maximum",
            Self::ExclusiveMinimum => "exclusive_minimum",
            Self::MinItems => "min_items",
            Self::MaxItems => "max_items",
            Self::UniqueItems => "unique_items",
            Self::MinProperties => "min_properties",
            Self::OneOf => "one_of",
            Self::AnyOf => "any_of",
        }
    }
}

/// How deep a document may nest before validation stops descending.
const MAX_DEPTH: usize = 128;

/// Validates `value` against `shape`, returning every violation found (empty
/// when the value conforms), in document order.
pub fn validate(shape: &Shape, value: &Value) -> Vec<Violation> {
    let mut walker = Walker {
        path: JsonPath::root(),
        out: Vec::new(),
        depth: 0,
    };
    walker.check(shape, value);
    walker.out
}

struct Walker {
    path: JsonPath,
    out: Vec<Violation>,
    depth: usize,
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl Walker {
    fn report(&mut self, kind: ViolationKind, message: String) {
        self.out.push(Violation {
            path: self.path.clone(),
            kind,
            message,
        });
    }

    fn report_at(&mut self, path: JsonPath, kind: ViolationKind, message: String) {
        self.out.push(Violation {
            path,
            kind,
            message,
        });
    }

    fn wrong_type(&mut self, expected: &str, value: &Value) {
        let found = type_name(value);
        self.report(
            ViolationKind::Type,
            format!("expected {expected}, found {found}"),
        );
    }

    fn check(&mut self, shape: &Shape, value: &Value) {
        if self.depth >= MAX_DEPTH {
            self.report(
                ViolationKind::Type,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            );
            return;
        }
        self.depth += 1;
        match shape.resolve() {
            Shape::Any | Shape::Ref(_) => {}
            Shape::Bool => {
                if !value.is_boolean() {
                    self.wrong_type("boolean", value);
                }
            }
            Shape::Integer(int) => match as_integer(value) {
                Some(n) => {
                    if let Some(min) = int.minimum.filter(|min| n < i128::from(*min)) {
                        self.report(ViolationKind::Minimum, format!("{n} is less than {min}"));
                    }
                    if let Some(max) = int.maximum.filter(|max| n > i128::from(*max)) {
                        self.report(ViolationKind::Maximum, format!("{n} is greater than {max}"));
                    }
                }
                None => self.wrong_type("integer", value),
            },
            Shape::Number(num) => match value.as_f64() {
                Some(n) if value.is_number() => {
                    if let Some(min) = num.minimum.filter(|min| n < *min) {
                        self.report(ViolationKind::Minimum, format!("{n} is less than {min}"));
                    }
                    if let Some(min) = num.exclusive_minimum.filter(|min| n <= *min) {
                        self.report(
                            ViolationKind::ExclusiveMinimum,
                            format!("{n} is not greater than {min}"),
                        );
                    }
                    if let Some(max) = num.maximum.filter(|max| n > *max) {
                        self.report(ViolationKind::Maximum, format!("{n} is greater than {max}"));
                    }
                }
                _ => self.wrong_type("number", value),
            },
            Shape::String(s) => match value.as_str() {
                Some(text) => self.check_string(s, text),
                None => self.wrong_type("string", value),
            },
            Shape::Array(array) => match value.as_array() {
                Some(items) => self.check_array(array, items),
                None => self.wrong_type("array", value),
            },
            Shape::Object(object) => match value.as_object() {
                Some(map) => self.check_object(object, map),
                None => self.wrong_type("object", value),
            },
            Shape::OneOf(branches) => self.check_one_of(branches, value),
            Shape::Const(text) => {
                let expected: Option<Value> = serde_json::from_str(text).ok();
                if expected.as_ref().is_none_or(|e| !json_equal(e, value)) {
                    self.report(
                        ViolationKind::Const,
                        format!("expected {text}, found {value}"),
                    );
                }
            }
            Shape::Tagged(tagged) => self.check_tagged(tagged, value),
        }
        self.depth -= 1;
    }

    fn check_string(&mut self, shape: &StringShape, text: &str) {
        if let Some(constant) = shape.constant {
            if text != constant {
                self.report(
                    ViolationKind::Const,
                    format!("expected {constant:?}, found {text:?}"),
                );
            }
        }
        if let Some(values) = shape.values {
            if !values.contains(&text) {
                self.report(
                    ViolationKind::Enum,
                    format!("{text:?} is not one of {values:?}"),
                );
            }
        }
        let chars = text.chars().count();
        if let Some(min) = shape.min_length.filter(|min| chars < *min) {
            self.report(
                ViolationKind::MinLength,
                format!("{chars} characters, fewer than {min}"),
            );
        }
        if let Some(max) = shape.max_length.filter(|max| chars > *max) {
            self.report(
                ViolationKind::MaxLength,
                format!("{chars} characters, more than {max}"),
            );
        }
        if let Some(pattern) = shape.pattern {
            if !pattern.is_match(text) {
                self.report(
                    ViolationKind::Pattern,
                    format!("{text:?} does not match {}", pattern.as_str()),
                );
            }
        }
        if let Some(format) = shape.format {
            if !format_matches(format, text) {
                let name = match format {
                    Format::DateTime => "an RFC 3339 date-time",
                    Format::Uri => "an absolute URI",
                    Format::Email => "an e-mail address",
                };
                self.report(ViolationKind::Format, format!("{text:?} is not {name}"));
            }
        }
        if let Some(Representation::Currency) = shape.representation {
            if crate::primitives::Currency::new(text).is_err() {
                self.report(
                    ViolationKind::Pattern,
                    format!("{text:?} is not a three-letter ISO 4217 currency code"),
                );
            }
        }
    }

    fn check_array(&mut self, shape: &ArrayShape, items: &[Value]) {
        if let Some(min) = shape.min_items.filter(|min| items.len() < *min) {
            self.report(
                ViolationKind::MinItems,
                format!("{} items, fewer than {min}", items.len()),
            );
        }
        if let Some(max) = shape.max_items.filter(|max| items.len() > *max) {
            self.report(
                ViolationKind::MaxItems,
                format!("{} items, more than {max}", items.len()),
            );
        }
        if shape.unique {
            // Quadratic, but arrays with `uniqueItems` are short lists of
            // identifiers; a sort would need a total order on JSON values.
            'outer: for (i, a) in items.iter().enumerate() {
                for b in &items[i + 1..] {
                    if json_equal(a, b) {
                        self.report(ViolationKind::UniqueItems, format!("item {i} is repeated"));
                        break 'outer;
                    }
                }
            }
        }
        for (i, item) in items.iter().enumerate() {
            self.path.push(crate::parse::json_path::Segment::Index(i));
            self.check(shape.items, item);
            self.path.pop();
        }
    }

    fn check_object(&mut self, shape: &ObjectShape, map: &serde_json::Map<String, Value>) {
        for field in shape.fields {
            if field.required && !map.contains_key(field.name) {
                let path = self.path.key(field.name);
                self.report_at(
                    path,
                    ViolationKind::Required,
                    format!("missing required member `{}` of {}", field.name, shape.name),
                );
            }
        }
        for rule in shape.conditionals {
            let holds = map.get(rule.member).is_some_and(|v| {
                rule.any_of.iter().any(|c| match c {
                    Constant::Str(s) => v.as_str() == Some(*s),
                    Constant::Bool(b) => v.as_bool() == Some(*b),
                })
            });
            if holds {
                for name in rule.then_required {
                    if !map.contains_key(*name) {
                        let path = self.path.key(name);
                        self.report_at(
                            path,
                            ViolationKind::Required,
                            format!(
                                "`{name}` is required when `{}` is {}",
                                rule.member,
                                map.get(rule.member)
                                    .map_or_else(String::new, Value::to_string)
                            ),
                        );
                    }
                }
            }
        }
        if !shape.any_of_required.is_empty()
            && !shape
                .any_of_required
                .iter()
                .any(|set| set.iter().all(|name| map.contains_key(*name)))
        {
            let sets: Vec<String> = shape
                .any_of_required
                .iter()
                .map(|set| set.join(" + "))
                .collect();
            self.report(
                ViolationKind::AnyOf,
                format!("{} needs one of: {}", shape.name, sets.join(", or ")),
            );
        }
        if let Some(min) = shape.min_properties.filter(|min| map.len() < *min) {
            self.report(
                ViolationKind::MinProperties,
                format!("{} members, fewer than {min}", map.len()),
            );
        }
        for (name, member) in map {
            let declared = shape.fields.iter().find(|f| f.name == name.as_str());
            self.path
                .push(crate::parse::json_path::Segment::Key(name.clone()));
            match declared {
                Some(field) => {
                    if shape.forbidden.contains(&name.as_str()) {
                        self.report(
                            ViolationKind::AdditionalProperty,
                            format!(
                                "`{name}` is declared by {} but a closed `allOf` branch forbids it",
                                shape.name
                            ),
                        );
                    }
                    self.check(field.shape, member);
                }
                None => match shape.additional {
                    Additional::Allowed => {}
                    Additional::Forbidden => self.report(
                        ViolationKind::AdditionalProperty,
                        format!("`{name}` is not a member of {}", shape.name),
                    ),
                    Additional::Shape(values) => self.check(values, member),
                },
            }
            self.path.pop();
        }
    }

    fn check_one_of(&mut self, branches: &[&Shape], value: &Value) {
        let results: Vec<Vec<Violation>> = branches
            .iter()
            .map(|branch| {
                let mut sub = Walker {
                    path: self.path.clone(),
                    out: Vec::new(),
                    depth: self.depth,
                };
                sub.check(branch, value);
                sub.out
            })
            .collect();
        let matched = results.iter().filter(|r| r.is_empty()).count();
        match matched {
            1 => {}
            0 => {
                // Report the branch that came closest, so the user sees the
                // concrete problem rather than only "no branch matched".
                if let Some(best) = results.into_iter().min_by_key(Vec::len) {
                    self.out.extend(best);
                }
            }
            n => self.report(
                ViolationKind::OneOf,
                format!("matches {n} `oneOf` branches; exactly one is allowed"),
            ),
        }
    }

    fn check_tagged(&mut self, shape: &TaggedShape, value: &Value) {
        let Some(map) = value.as_object() else {
            self.wrong_type("object", value);
            return;
        };
        let tags: Vec<&str> = shape.variants.iter().map(|(t, _)| *t).collect();
        match map.get(shape.tag) {
            None => {
                let path = self.path.key(shape.tag);
                self.report_at(
                    path,
                    ViolationKind::Required,
                    format!("missing discriminator `{}` (one of {tags:?})", shape.tag),
                );
            }
            Some(tag) => match shape
                .variants
                .iter()
                .find(|(t, _)| tag.as_str() == Some(*t))
            {
                Some((_, variant)) => self.check(variant, value),
                None => {
                    let path = self.path.key(shape.tag);
                    self.report_at(
                        path,
                        ViolationKind::OneOf,
                        format!("discriminator {tag} is not one of {tags:?}"),
                    );
                }
            },
        }
    }
}

fn as_integer(value: &Value) -> Option<i128> {
    let Value::Number(n) = value else { return None };
    if let Some(i) = n.as_i64() {
        return Some(i128::from(i));
    }
    if let Some(u) = n.as_u64() {
        return Some(i128::from(u));
    }
    // JSON Schema counts `1.0` as an integer.
    let f = n.as_f64()?;
    #[allow(clippy::cast_possible_truncation)]
    (f.fract() == 0.0 && f.abs() < 1.7e38).then_some(f as i128)
}

/// Equality as JSON Schema defines it (numbers compare by value).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

fn format_matches(format: Format, text: &str) -> bool {
    match format {
        Format::DateTime => crate::primitives::Timestamp::parse(text).is_ok(),
        Format::Uri => url::Url::parse(text).is_ok(),
        Format::Email => is_email(text),
    }
}

/// A pragmatic `email` format check: one `@`, a non-empty local part without
/// spaces, and a dotted domain of letters, digits and hyphens.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains(['@', ' ', '\t', '\n', '\r'])
        && !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::parse::schema::{ArrayShape, FieldShape, IntegerShape};

    static QTY: Shape = Shape::Integer(IntegerShape {
        minimum: Some(1),
        maximum: None,
    });
    static ITEM: Shape = Shape::Object(ObjectShape {
        name: "Item",
        fields: &[
            FieldShape {
                name: "id",
                required: true,
                shape: &Shape::String(StringShape {
                    max_length: Some(3),
                    ..StringShape::ANY
                }),
            },
            FieldShape {
                name: "quantity",
                required: false,
                shape: &QTY,
            },
        ],
        additional: Additional::Forbidden,
        any_of_required: &[],
        conditionals: &[],
        forbidden: &[],
        min_properties: None,
    });
    static LIST: Shape = Shape::Array(ArrayShape {
        items: &ITEM,
        min_items: Some(1),
        max_items: None,
        unique: true,
    });

    #[test]
    fn reports_every_violation_with_its_path() {
        let v = json!([{"quantity": 0, "x": 1}, {"id": "toolong", "quantity": 1.5}]);
        let found: Vec<(String, ViolationKind)> = validate(&LIST, &v)
            .into_iter()
            .map(|v| (v.path.to_string(), v.kind))
            .collect();
        assert_eq!(
            found,
            vec![
                ("$[0].id".to_owned(), ViolationKind::Required),
                ("$[0].quantity".to_owned(), ViolationKind::Minimum),
                ("$[0].x".to_owned(), ViolationKind::AdditionalProperty),
                ("$[1].id".to_owned(), ViolationKind::MaxLength),
                ("$[1].quantity".to_owned(), ViolationKind::Type),
            ]
        );
    }

    #[test]
    fn checks_array_bounds_and_uniqueness() {
        let kinds = |v: Value| -> Vec<ViolationKind> {
            validate(&LIST, &v).into_iter().map(|v| v.kind).collect()
        };
        assert_eq!(kinds(json!([])), vec![ViolationKind::MinItems]);
        assert_eq!(
            kinds(json!([{"id": "a"}, {"id": "a"}])),
            vec![ViolationKind::UniqueItems]
        );
        assert!(kinds(json!([{"id": "a", "quantity": 2.0}])).is_empty());
    }

    #[test]
    fn formats() {
        assert!(format_matches(Format::DateTime, "2026-04-17T00:00:00Z"));
        assert!(!format_matches(Format::DateTime, "2026-04-17"));
        assert!(format_matches(Format::Uri, "https://example.com/x"));
        assert!(!format_matches(Format::Uri, "/relative"));
        assert!(format_matches(Format::Email, "a.b@example.co"));
        assert!(!format_matches(Format::Email, "a b@example.com"));
        assert!(!format_matches(Format::Email, "nobody"));
        let year = crate::parse::schema::Pattern::new("^\\d{4}$");
        assert!(year.is_match("2026"));
        assert!(!year.is_match("٢٠٢٦"));
        assert_eq!(year.as_str(), "^\\d{4}$");
        // An unreadable pattern lets nothing through.
        assert!(!crate::parse::schema::Pattern::new("^(unclosed$").is_match("(unclosed"));
    }
}
