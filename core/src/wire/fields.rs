//! One description per JSON object of a record: [`Fields::fields`] names each key and its
//! value once, and the encoder ([`serialize`]), the exact length ([`Fields::encoded_len`])
//! and the key list ([`Fields::for_each_key`], which the schema test reads) all walk it.

use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;

use super::{decimal_len, json_str_len, CollectorState};

/// A JSON value of our records, with its exact encoded length.
pub trait Value: Serialize {
    /// Bytes serde-json-core writes for the value.
    fn json_len(&self) -> usize;
}

/// Receives the fields of an object, in order.
pub trait Visit {
    /// One field.
    fn field<V: Value + ?Sized>(&mut self, key: &'static str, value: &V);
}

/// A JSON object described field by field.
pub trait Fields {
    /// Hands every field, in order, to `visit`.
    fn fields<W: Visit>(&self, visit: &mut W);

    /// The exact number of bytes the object encodes to.
    fn encoded_len(&self) -> usize {
        struct Len(usize, usize);
        impl Visit for Len {
            fn field<V: Value + ?Sized>(&mut self, key: &'static str, value: &V) {
                self.0 += json_str_len(key) + 1 + value.json_len();
                self.1 += 1;
            }
        }
        let mut len = Len(0, 0);
        self.fields(&mut len);
        2 + len.0 + len.1.saturating_sub(1)
    }

    /// Calls `f` with every key, in order.
    fn for_each_key(&self, f: impl FnMut(&'static str)) {
        struct Keys<F>(F);
        impl<F: FnMut(&'static str)> Visit for Keys<F> {
            fn field<V: Value + ?Sized>(&mut self, key: &'static str, _: &V) {
                (self.0)(key);
            }
        }
        self.fields(&mut Keys(f));
    }
}

/// Serializes an object from its description.
pub(crate) fn serialize<T: Fields, S: Serializer>(object: &T, s: S) -> Result<S::Ok, S::Error> {
    struct Write<M: SerializeStruct>(M, Option<M::Error>);
    impl<M: SerializeStruct> Visit for Write<M> {
        fn field<V: Value + ?Sized>(&mut self, key: &'static str, value: &V) {
            if self.1.is_none() {
                self.1 = self.0.serialize_field(key, value).err();
            }
        }
    }
    // serde-json-core ignores the name and the field count.
    let mut write = Write(s.serialize_struct("", 0)?, None);
    object.fields(&mut write);
    match write.1 {
        Some(e) => Err(e),
        None => write.0.end(),
    }
}

impl Value for u64 {
    fn json_len(&self) -> usize {
        decimal_len(*self)
    }
}

impl Value for u32 {
    fn json_len(&self) -> usize {
        decimal_len(u64::from(*self))
    }
}

impl Value for &str {
    fn json_len(&self) -> usize {
        json_str_len(self)
    }
}

/// A string or JSON `null`. Not `Option<&str>`: serde's `Option` impl would carry a second
/// copy of the string encoder on a microcontroller.
pub(crate) struct Nullable<'a>(pub(crate) Option<&'a str>);

impl Serialize for Nullable<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(v) => s.serialize_str(v),
            None => s.serialize_unit(),
        }
    }
}

impl Value for Nullable<'_> {
    fn json_len(&self) -> usize {
        self.0.map_or(4, json_str_len)
    }
}

impl Value for CollectorState {
    fn json_len(&self) -> usize {
        1
    }
}

impl Value for Option<i64> {
    fn json_len(&self) -> usize {
        self.map_or(4, |v| decimal_len(v.unsigned_abs()) + usize::from(v < 0))
    }
}

impl<const N: usize> Value for [u32; N]
where
    [u32; N]: Serialize,
{
    fn json_len(&self) -> usize {
        2 + self.iter().map(Value::json_len).sum::<usize>() + N.saturating_sub(1)
    }
}
