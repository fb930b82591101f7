//! Proptest strategies that generate JSON values conforming to a [`Shape`].
//! Shapes mirror the official schemas, so the property tests check the
//! generated values against the official validator, closing the loop.

use agentic_commerce::parse::schema::{
    Additional, ArrayShape, Format, ObjectShape, Shape, StringShape, TaggedShape,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// How deep optional structure may go before only required members are generated.
const MAX_DEPTH: u32 = 6;

pub fn value(shape: &'static Shape) -> BoxedStrategy<Value> {
    value_at(shape, 0)
}

fn value_at(shape: &'static Shape, depth: u32) -> BoxedStrategy<Value> {
    match shape.resolve() {
        Shape::Any => prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(Value::from),
            "[a-z]{0,6}".prop_map(Value::String),
        ]
        .boxed(),
        Shape::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Shape::Integer(int) => {
            let lo = int.minimum.unwrap_or(-1_000_000);
            let hi = int.maximum.unwrap_or(lo.max(0) + 1_000_000);
            (lo..=hi).prop_map(Value::from).boxed()
        }
        Shape::Number(num) => {
            // An exclusive bound becomes an inclusive one a step above it.
            let lo = num
                .minimum
                .or(num.exclusive_minimum.map(|m| m + 0.01))
                .unwrap_or(-1000.0);
            let hi = num.maximum.unwrap_or(lo.max(0.0) + 1000.0);
            prop_oneof![
                (lo..=hi).prop_map(|f| Value::from((f * 100.0).round() / 100.0)),
                ((lo.ceil() as i64)..=(hi.floor() as i64)).prop_map(Value::from),
            ]
            .prop_filter("within bounds", move |v| {
                let f = v.as_f64().unwrap_or(0.0);
                f >= lo && f <= hi
            })
            .boxed()
        }
        Shape::String(s) => string(s).prop_map(Value::String).boxed(),
        Shape::Array(a) => array(a, depth),
        Shape::Object(o) => object(o, depth),
        Shape::OneOf(branches) => {
            // Only branches that cannot match the same value are generated
            // (for `Extensions`, a non-empty array).
            let strategies: Vec<BoxedStrategy<Value>> =
                branches.iter().map(|b| value_at(b, depth + 1)).collect();
            proptest::strategy::Union::new(strategies)
                .prop_filter("exactly one oneOf branch", move |v| {
                    branches
                        .iter()
                        .filter(|b| agentic_commerce::parse::schema::validate(b, v).is_empty())
                        .count()
                        == 1
                })
                .boxed()
        }
        Shape::Tagged(TaggedShape { variants, .. }) => {
            let strategies: Vec<BoxedStrategy<Value>> =
                variants.iter().map(|(_, s)| value_at(s, depth)).collect();
            proptest::strategy::Union::new(strategies).boxed()
        }
        Shape::Const(text) => Just(serde_json::from_str(text).unwrap()).boxed(),
        Shape::Ref(_) => unreachable!("resolved"),
        _ => Just(Value::Null).boxed(),
    }
}

fn string(s: &'static StringShape) -> BoxedStrategy<String> {
    if let Some(c) = s.constant {
        return Just(c.to_owned()).boxed();
    }
    if let Some(values) = s.values {
        return proptest::sample::select(values)
            .prop_map(str::to_owned)
            .boxed();
    }
    if s.representation.is_some() {
        let pattern = s.pattern.map_or("^[a-z]{3}$", |p| p.as_str());
        return regex(pattern);
    }
    if let Some(format) = s.format {
        return match format {
            Format::DateTime => (0i64..4_102_444_800, 0u32..3)
                .prop_map(|(secs, frac)| {
                    let t = time::OffsetDateTime::from_unix_timestamp(secs).unwrap();
                    let t = t + time::Duration::milliseconds(i64::from(frac) * 250);
                    t.format(&time::format_description::well_known::Rfc3339)
                        .unwrap()
                })
                .boxed(),
            Format::Uri => "[a-z]{1,8}(/[a-z0-9]{1,6}){0,2}"
                .prop_map(|p| format!("https://example.com/{p}"))
                .boxed(),
            Format::Email => "[a-z]{1,8}(\\.[a-z]{1,4})?@[a-z]{1,8}\\.(com|org|io)"
                .prop_map(|s| s)
                .boxed(),
            _ => Just(String::new()).boxed(),
        };
    }
    if let Some(p) = s.pattern {
        return regex(p.as_str());
    }
    let min = s.min_length.unwrap_or(0);
    let max = s.max_length.unwrap_or(min.max(12)).max(min);
    proptest::collection::vec(
        prop_oneof![
            8 => proptest::char::range('a', 'z'),
            1 => proptest::char::range('A', 'Z'),
            1 => Just(' '),
            1 => proptest::char::range('\u{e0}', '\u{ff}'),
            1 => Just('\u{1F600}'),
        ],
        min..=max,
    )
    .prop_map(|chars| chars.into_iter().collect())
    .boxed()
}

fn regex(pattern: &str) -> BoxedStrategy<String> {
    let translated = pattern.replace("\\d", "[0-9]");
    // Anchors are implicit for the generator: drop unescaped `^` and `$`.
    let mut stripped = String::new();
    let mut escaped = false;
    for c in translated.chars() {
        if escaped {
            stripped.push(c);
            escaped = false;
        } else if c == '\\' {
            stripped.push(c);
            escaped = true;
        } else if c != '^' && c != '$' {
            stripped.push(c);
        }
    }
    proptest::string::string_regex(&stripped)
        .unwrap_or_else(|e| panic!("pattern {pattern}: {e}"))
        .boxed()
}

fn array(a: &'static ArrayShape, depth: u32) -> BoxedStrategy<Value> {
    let min = a.min_items.unwrap_or(0);
    let max = if depth >= MAX_DEPTH {
        min
    } else {
        a.max_items.unwrap_or(min + 3).max(min)
    };
    let unique = a.unique;
    proptest::collection::vec(value_at(a.items, depth + 1), min..=max)
        .prop_map(move |mut items| {
            if unique {
                let mut seen: Vec<Value> = Vec::new();
                items.retain(|v| {
                    if seen.contains(v) {
                        false
                    } else {
                        seen.push(v.clone());
                        true
                    }
                });
            }
            Value::Array(items)
        })
        .prop_filter("minItems after dedup", move |v| {
            v.as_array().map_or(0, Vec::len) >= min
        })
        .boxed()
}

fn object(o: &'static ObjectShape, depth: u32) -> BoxedStrategy<Value> {
    // Members that some rule may require are always generated: the required
    // ones, every member named by an `anyOf` set (the first set) and by
    // `if/then` rules.
    let mut always: Vec<&'static str> = o
        .fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    if let Some(first) = o.any_of_required.first() {
        always.extend(first.iter().copied());
    }
    for rule in o.conditionals {
        always.extend(rule.then_required.iter().copied());
    }
    let mut members: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    for field in o.fields {
        if o.forbidden.contains(&field.name) {
            continue;
        }
        let name = field.name.to_owned();
        let strategy = value_at(field.shape, depth + 1);
        if always.contains(&field.name) {
            members.push(strategy.prop_map(move |v| Some((name.clone(), v))).boxed());
        } else if depth < MAX_DEPTH {
            members.push(
                proptest::option::weighted(0.5, strategy)
                    .prop_map(move |v| v.map(|v| (name.clone(), v)))
                    .boxed(),
            );
        }
    }
    let extra: BoxedStrategy<Vec<(String, Value)>> = match o.additional {
        Additional::Shape(values) if depth < MAX_DEPTH => {
            proptest::collection::vec(("[a-z_]{1,8}", value_at(values, depth + 1)), 0..3).boxed()
        }
        _ => Just(Vec::new()).boxed(),
    };
    let min_properties = o.min_properties.unwrap_or(0);
    (members, extra)
        .prop_map(|(members, extra)| {
            let mut map = Map::new();
            for (k, v) in extra {
                map.insert(k, v);
            }
            for (k, v) in members.into_iter().flatten() {
                map.insert(k, v);
            }
            Value::Object(map)
        })
        .prop_filter("minProperties", move |v| {
            v.as_object().map_or(0, Map::len) >= min_properties
        })
        .boxed()
}
