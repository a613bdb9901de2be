//! Lenient field decoding: a CloudTrail field of the wrong type is absent, never fatal.
//!
//! Real deliveries carry surprises (`"sessionCredentialFromConsole": "true"`, `responseElements`
//! as a string, a `userIdentity` of `null`). Each helper here accepts what it can use and drains
//! anything else without allocating, so one odd field never costs the whole record.
//!
//! These serve `Record`'s serde derive, which the scan no longer uses: records are read by
//! `record::read`, and the derive stays as the reference its tests hold that reader to (and
//! for anyone who deserializes a `Record` with serde).

use serde::de::{
    self, value::MapAccessDeserializer, Deserialize, Deserializer, IgnoredAny, MapAccess,
    SeqAccess, Visitor,
};
use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

thread_local! {
    /// Set when a field was read as absent although the text has a value for it.
    static ODD: Cell<bool> = const { Cell::new(false) };
}

/// Notes that a field held null or a value of another type, and was read as absent.
fn odd() {
    ODD.with(|o| o.set(true));
}

#[cfg(test)]
/// Whether a field read on this thread since the last call was null or of another type (and
/// so read as absent); clears the note.
pub fn take_odd() -> bool {
    ODD.with(|o| o.replace(false))
}

/// Visitor arms that drain a value of an unwanted JSON type and answer `None`.
macro_rules! none_for {
    ($($kind:ident),*) => { $( none_for!(@ $kind); )* };
    (@ bool) => { fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> { odd(); Ok(None) } };
    (@ num) => {
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> { odd(); Ok(None) }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> { odd(); Ok(None) }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> { odd(); Ok(None) }
    };
    (@ unit) => { fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> { odd(); Ok(None) } };
    (@ str) => { fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> { odd(); Ok(None) } };
    (@ map) => {
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
            while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            odd();
            Ok(None)
        }
    };
    (@ seq) => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
            while s.next_element::<IgnoredAny>()?.is_some() {}
            odd();
            Ok(None)
        }
    };
}

/// A string, borrowed when the JSON text has no escapes; any other JSON type is `None`.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_owned())))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v)))
        }
        none_for!(bool, num, unit, map, seq);
    }
    d.deserialize_any(V)
}

/// A boolean, also accepting the strings `"true"` / `"false"` that real logs carry.
pub fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(match v {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => {
                    odd();
                    None
                }
            })
        }
        none_for!(num, unit, map, seq);
    }
    d.deserialize_any(V)
}

/// A nested object decoded as `T`; any other JSON type is `None`.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    struct V<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
            T::deserialize(MapAccessDeserializer::new(m)).map(Some)
        }
        none_for!(str, bool, num, unit, seq);
    }
    d.deserialize_any(V(PhantomData))
}
