//! The machinery shared by every wire type: unknown-field preservation, open
//! enums, the absent/null/value tri-state, redacted strings, and the macros
//! that generate the per-version models.
//!
//! Every wire struct keeps the fields this crate does not know in
//! [`Extra`], and every wire enum keeps values it does not know, so a payload
//! from a newer spec version parses and re-serializes without loss.

mod extra;
mod key;
mod patch;
mod sensitive;

pub use extra::Extra;
pub(crate) use key::WireKey;
pub use patch::Patch;
pub use sensitive::Sensitive;

/// A string held by the hidden catch-all variant of an open enum.
///
/// It cannot be built outside this crate: unknown values are created only by
/// parsing or by `From<&str>`, and read back with `as_str()`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[doc(hidden)]
pub struct PrivateString(pub(crate) Box<str>);

impl core::fmt::Debug for PrivateString {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&self.0, f)
    }
}

/// Declares an open string enum: named variants for the values the spec
/// lists, plus a hidden catch-all that keeps any other value.
///
/// Equality, ordering, `Display`, `Debug` and serde all use the wire string,
/// so a value parsed as unknown compares equal to a variant added for it later.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )*
            #[doc(hidden)]
            _Custom($crate::wire::PrivateString),
        }

        impl $name {
            /// Every value the spec lists for this enum, in spec order.
            pub const KNOWN: &'static [&'static str] = &[$($wire),*];

            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )*
                    Self::_Custom(s) => &s.0,
                }
            }

            /// Whether this value is one the spec lists (not kept as unknown).
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::_Custom(_))
            }
        }

        impl ::core::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $wire => Self::$variant, )*
                    other => Self::_Custom($crate::wire::PrivateString(other.into())),
                }
            }
        }

        impl ::core::convert::From<::std::string::String> for $name {
            fn from(value: ::std::string::String) -> Self {
                match value.as_str() {
                    $( $wire => Self::$variant, )*
                    _ => Self::_Custom($crate::wire::PrivateString(value.into_boxed_str())),
                }
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = ::core::convert::Infallible;
            fn from_str(value: &str) -> ::core::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::core::cmp::PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.as_str() == other.as_str()
            }
        }
        impl ::core::cmp::Eq for $name {}
        impl ::core::cmp::PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }
        impl ::core::cmp::PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
        impl ::core::cmp::PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> ::core::option::Option<::core::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        impl ::core::cmp::Ord for $name {
            fn cmp(&self, other: &Self) -> ::core::cmp::Ordering {
                self.as_str().cmp(other.as_str())
            }
        }
        impl ::core::hash::Hash for $name {
            fn hash<H: ::core::hash::Hasher>(&self, state: &mut H) {
                self.as_str().hash(state);
            }
        }
        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.as_str())
            }
        }
        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                let key = <$crate::wire::WireKey<'de> as ::serde::Deserialize<'de>>::deserialize(deserializer)?;
                Ok(match key.0 {
                    ::std::borrow::Cow::Borrowed(s) => Self::from(s),
                    ::std::borrow::Cow::Owned(s) => Self::from(s),
                })
            }
        }
    };
}
pub(crate) use wire_enum;

/// Declares a wire object: a struct with `pub` fields, a hidden-order-free
/// lossless serde implementation and an [`Extra`] bag for unknown fields.
///
/// Field kinds: `req` (required, `T`), `opt` (optional, `Option<T>`; a JSON
/// `null` is kept in `extra` so it re-serializes), `patch` ([`Patch<T>`]:
/// absent, `null` or a value). An optional `[tag "type" = "x"]` declares a
/// constant discriminator that is checked on input and written on output.
macro_rules! wire_object {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident $([tag $tagkey:literal = $tagval:literal])? {
            $( $(#[$fmeta:meta])* $kind:ident $field:ident = $wire:literal : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        $vis struct $name {
            $( $(#[$fmeta])* pub $field: $crate::wire::wire_field_ty!($kind $ty), )*
            /// Fields this crate does not model, kept so that re-serializing
            /// loses nothing (a newer spec version or an extension).
            pub extra: $crate::wire::Extra,
        }

        impl $name {
            /// The wire names this type models, in spec order.
            pub const FIELDS: &'static [&'static str] = &[$($tagkey,)? $($wire),*];

            fn occupies(&self, key: &str) -> bool {
                match key {
                    $( $tagkey => true, )?
                    $( $wire => $crate::wire::wire_present!($kind &self.$field), )*
                    _ => false,
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeMap as _;
                let mut map = serializer.serialize_map(None)?;
                $( map.serialize_entry($tagkey, $tagval)?; )?
                $( $crate::wire::wire_ser!($kind map, $wire, &self.$field); )*
                for (key, value) in self.extra.iter() {
                    if !self.occupies(key) {
                        map.serialize_entry(key, value)?;
                    }
                }
                map.end()
            }
        }

        impl $crate::wire::VisitObject for $name {
            #[allow(unused_mut, clippy::too_many_lines)]
            fn visit_object<'de, A: ::serde::de::MapAccess<'de>>(mut access: A) -> ::core::result::Result<Self, A::Error> {
                        use ::serde::de::Error as _;
                        $( let mut $field: ::core::option::Option<$crate::wire::wire_slot_ty!($kind $ty)> = None; )*
                        $( let mut tag_seen = { let _ = $tagkey; false }; )?
                        let mut extra = $crate::wire::Extra::new();
                        while let Some(key) = access.next_key::<$crate::wire::WireKey<'de>>()? {
                            match key.as_str() {
                                $( $tagkey => {
                                    if tag_seen {
                                        return Err(A::Error::duplicate_field($tagkey));
                                    }
                                    let value = access.next_value::<$crate::wire::WireKey<'de>>()?;
                                    if value.as_str() != $tagval {
                                        return Err(A::Error::invalid_value(
                                            ::serde::de::Unexpected::Str(value.as_str()),
                                            &concat!("\"", $tagval, "\""),
                                        ));
                                    }
                                    tag_seen = true;
                                } )?
                                $( $wire => {
                                    if $field.is_some() || extra.contains_key($wire) {
                                        return Err(A::Error::duplicate_field($wire));
                                    }
                                    $crate::wire::wire_read!($kind access, extra, $wire, $field, $ty);
                                } )*
                                _ => {
                                    let value = access.next_value::<::serde_json::Value>()?;
                                    let name = key.into_string();
                                    if extra.contains_key(&name) {
                                        return Err(A::Error::custom(format_args!("duplicate field `{name}`")));
                                    }
                                    extra.insert(name, value);
                                }
                            }
                        }
                        $( if !tag_seen {
                            return Err(A::Error::missing_field($tagkey));
                        } )?
                        Ok($name {
                            $( $field: $crate::wire::wire_finish!($kind $field, $wire), )*
                            extra,
                        })
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                struct Visitor;
                impl<'de> ::serde::de::Visitor<'de> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " object"))
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(self, access: A) -> ::core::result::Result<$name, A::Error> {
                        <$name as $crate::wire::VisitObject>::visit_object(access)
                    }
                }
                deserializer.deserialize_map(Visitor)
            }
        }
    };
}
pub(crate) use wire_object;

macro_rules! wire_field_ty {
    (req $ty:ty) => { $ty };
    (opt $ty:ty) => { ::core::option::Option<$ty> };
    (patch $ty:ty) => { $crate::wire::Patch<$ty> };
}
pub(crate) use wire_field_ty;

macro_rules! wire_slot_ty {
    (req $ty:ty) => { $ty };
    (opt $ty:ty) => { $ty };
    (patch $ty:ty) => { $crate::wire::Patch<$ty> };
}
pub(crate) use wire_slot_ty;

macro_rules! wire_present {
    (req $e:expr) => {{
        let _ = $e;
        true
    }};
    (opt $e:expr) => {
        $e.is_some()
    };
    (patch $e:expr) => {
        !$e.is_absent()
    };
}
pub(crate) use wire_present;

macro_rules! wire_ser {
    (req $map:ident, $wire:literal, $e:expr) => {
        $map.serialize_entry($wire, $e)?;
    };
    (opt $map:ident, $wire:literal, $e:expr) => {
        if let Some(value) = $e {
            $map.serialize_entry($wire, value)?;
        }
    };
    (patch $map:ident, $wire:literal, $e:expr) => {
        if !$e.is_absent() {
            $map.serialize_entry($wire, $e)?;
        }
    };
}
pub(crate) use wire_ser;

macro_rules! wire_read {
    (req $access:ident, $extra:ident, $wire:literal, $slot:ident, $ty:ty) => {
        $slot = Some($access.next_value::<$ty>()?);
    };
    (opt $access:ident, $extra:ident, $wire:literal, $slot:ident, $ty:ty) => {
        match $access.next_value::<::core::option::Option<$ty>>()? {
            Some(value) => $slot = Some(value),
            // `null` is not a valid value for an optional field, but dropping
            // it would lose data: keep it so it re-serializes as it came.
            None => {
                $extra.insert($wire.to_owned(), ::serde_json::Value::Null);
            }
        }
    };
    (patch $access:ident, $extra:ident, $wire:literal, $slot:ident, $ty:ty) => {
        $slot = Some($access.next_value::<$crate::wire::Patch<$ty>>()?);
    };
}
pub(crate) use wire_read;

macro_rules! wire_finish {
    (req $slot:ident, $wire:literal) => {
        match $slot {
            Some(value) => value,
            None => return Err(A::Error::missing_field($wire)),
        }
    };
    (opt $slot:ident, $wire:literal) => {
        $slot
    };
    (patch $slot:ident, $wire:literal) => {
        $slot.unwrap_or($crate::wire::Patch::Absent)
    };
}
pub(crate) use wire_finish;

/// Declares a union of wire objects discriminated by their `type` member.
///
/// Parsing reads `type` and hands the object to the matching variant; an
/// unknown `type` value is kept whole in `Unknown`, so it re-serializes.
macro_rules! wire_union {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident($ty:ty) = $tag:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        #[allow(clippy::large_enum_variant)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant($ty), )*
            /// An object whose `type` this crate does not know, kept whole.
            Unknown(::serde_json::Map<::std::string::String, ::serde_json::Value>),
        }

        impl $name {
            /// The `type` discriminator.
            pub fn kind(&self) -> &str {
                match self {
                    $( Self::$variant(_) => $tag, )*
                    Self::Unknown(map) => map
                        .get("type")
                        .and_then(::serde_json::Value::as_str)
                        .unwrap_or_default(),
                }
            }
        }

        $(
            impl ::core::convert::From<$ty> for $name {
                fn from(value: $ty) -> Self {
                    Self::$variant(value)
                }
            }
        )*

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                match self {
                    $( Self::$variant(value) => value.serialize(serializer), )*
                    Self::Unknown(map) => map.serialize(serializer),
                }
            }
        }

        impl $name {
            /// Dispatches on `tag` to the variant's object parser, which reads every member
            /// from `access` (the tag included, so the variant checks it and sees a repeat).
            fn from_tagged_object<'de, A: ::serde::de::MapAccess<'de>>(
                tag: &str,
                access: A,
            ) -> ::core::result::Result<Self, A::Error> {
                match tag {
                    $( $tag => <$ty as $crate::wire::VisitObject>::visit_object(access).map(Self::$variant), )*
                    _ => <$crate::wire::UniqueMap as $crate::wire::VisitObject>::visit_object(access)
                        .map(|map| Self::Unknown(map.0)),
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                struct Visitor;
                impl<'de> ::serde::de::Visitor<'de> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        f.write_str("an object with a string `type`")
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(self, access: A) -> ::core::result::Result<$name, A::Error> {
                        $crate::wire::visit_union(
                            access,
                            |tag, access| $name::from_tagged_object(tag, access),
                            |tag, captured| $name::from_tagged_object(tag, captured),
                        )
                    }
                }
                deserializer.deserialize_map(Visitor)
            }
        }
    };
}
pub(crate) use wire_union;

/// A wire object whose members can be read from an already opened JSON object.
///
/// Every `wire_object!` type implements it; `wire_union!` uses it to hand an object to its
/// variant once the `type` member has been read.
pub(crate) trait VisitObject: Sized {
    /// Reads every member of the object from `access`.
    fn visit_object<'de, A: serde::de::MapAccess<'de>>(access: A) -> Result<Self, A::Error>;
}

/// Reads a `type` member's value: a string, or the union error for anything else.
fn read_tag<'de, A: serde::de::MapAccess<'de>>(access: &mut A) -> Result<String, A::Error> {
    use serde::de::Error as _;
    match access.next_value::<serde_json::Value>()? {
        serde_json::Value::String(tag) => Ok(tag),
        _ => Err(A::Error::custom("`type` must be a string")),
    }
}

/// Parses one union object from `access`, whose first key has not been read yet.
///
/// When `type` is the first member (how ACP payloads are usually written), its value picks
/// the variant, and the variant reads the remaining members straight from `access`: one
/// pass, nothing buffered. Otherwise every member is captured as raw JSON text, the first
/// `type` picks the variant, and the variant reads the captured members in their original
/// order (so repeated members, `type` included, are still rejected by the variant).
pub(crate) fn visit_union<'de, A, T>(
    mut access: A,
    live: impl FnOnce(&str, TagFirst<'de, A>) -> Result<T, A::Error>,
    buffered: impl for<'r> FnOnce(&str, Captured<'r>) -> Result<T, serde_json::Error>,
) -> Result<T, A::Error>
where
    A: serde::de::MapAccess<'de>,
{
    use serde::de::Error as _;
    let Some(first) = access.next_key::<WireKey<'de>>()? else {
        return Err(A::Error::missing_field("type"));
    };
    if first.as_str() == "type" {
        let tag = read_tag(&mut access)?;
        let replay = TagFirst {
            tag: Some(tag.clone()),
            live: access,
            _de: core::marker::PhantomData,
        };
        return live(&tag, replay);
    }
    let mut members = Vec::new();
    members.push((
        first,
        access.next_value::<Box<serde_json::value::RawValue>>()?,
    ));
    while let Some(key) = access.next_key::<WireKey<'de>>()? {
        let value = access.next_value::<Box<serde_json::value::RawValue>>()?;
        members.push((key, value));
    }
    let Some((_, raw)) = members.iter().find(|(key, _)| key.as_str() == "type") else {
        return Err(A::Error::missing_field("type"));
    };
    let Ok(serde_json::Value::String(tag)) = serde_json::from_str::<serde_json::Value>(raw.get())
    else {
        return Err(A::Error::custom("`type` must be a string"));
    };
    let captured = Captured {
        members: members.iter(),
        pending: None,
    };
    buffered(&tag, captured).map_err(|e| A::Error::custom(without_position(&e)))
}

/// A union object whose `type` was its first member: replays `type`, then reads on from the
/// live object.
pub(crate) struct TagFirst<'de, A> {
    tag: Option<String>,
    live: A,
    _de: core::marker::PhantomData<&'de ()>,
}

impl<'de, A: serde::de::MapAccess<'de>> serde::de::MapAccess<'de> for TagFirst<'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        if self.tag.is_some() {
            let key = serde::de::value::BorrowedStrDeserializer::<'de, A::Error>::new("type");
            return seed.deserialize(key).map(Some);
        }
        self.live.next_key_seed(seed)
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        match self.tag.take() {
            Some(tag) => {
                seed.deserialize(serde::de::value::StringDeserializer::<A::Error>::new(tag))
            }
            None => self.live.next_value_seed(seed),
        }
    }
}

/// A union object's members captured as raw JSON text, replayed in their original order.
pub(crate) struct Captured<'r> {
    members: core::slice::Iter<'r, (WireKey<'r>, Box<serde_json::value::RawValue>)>,
    pending: Option<&'r serde_json::value::RawValue>,
}

impl<'r> serde::de::MapAccess<'r> for Captured<'r> {
    type Error = serde_json::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'r>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, value)) = self.members.next() else {
            return Ok(None);
        };
        self.pending = Some(value);
        let key =
            serde::de::value::BorrowedStrDeserializer::<'r, serde_json::Error>::new(key.as_str());
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'r>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        use serde::de::Error as _;
        match self.pending.take() {
            Some(raw) => {
                let mut de = serde_json::Deserializer::from_str(raw.get());
                let value = seed.deserialize(&mut de)?;
                de.end()?;
                Ok(value)
            }
            None => Err(serde_json::Error::custom("value requested before its key")),
        }
    }
}

/// A `serde_json` error message without its ` at line L column C` suffix (positions inside a
/// re-parsed union member would point into the member, not the document).
pub(crate) fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) => message.to_owned(),
        None => text,
    }
}

/// A JSON object that rejects a repeated member name instead of keeping the last one.
pub(crate) struct UniqueMap(pub(crate) serde_json::Map<String, serde_json::Value>);

impl VisitObject for UniqueMap {
    fn visit_object<'de, A: serde::de::MapAccess<'de>>(mut access: A) -> Result<Self, A::Error> {
        use serde::de::Error as _;
        let mut map = serde_json::Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let value = access.next_value::<serde_json::Value>()?;
            if map.contains_key(&key) {
                return Err(A::Error::custom(format_args!("duplicate field `{key}`")));
            }
            map.insert(key, value);
        }
        Ok(UniqueMap(map))
    }
}

impl<'de> serde::Deserialize<'de> for UniqueMap {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> serde::de::Visitor<'de> for MapVisitor {
            type Value = UniqueMap;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                access: A,
            ) -> Result<UniqueMap, A::Error> {
                UniqueMap::visit_object(access)
            }
        }
        deserializer.deserialize_map(MapVisitor)
    }
}
