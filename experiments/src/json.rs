//! Reading JSON into typed records the way the writers wrote it: serde_json writes a NaN or an
//! infinity as `null`, so where a record has a number and the file has `null`, the reader
//! gives NaN (a diverged metric, an estimate without an error bar) instead of refusing the
//! file. Everything else is serde_json's own reading.

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde_json::Value;

/// Reads `T` from `value`, `null` read as NaN where `T` has a float.
///
/// # Errors
/// serde_json's, with the path of the field that did not fit (`layers[0].epochs`).
pub fn from_value<T: de::DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(Lenient(value)).map_err(|e| {
        let path = e.path().to_string();
        match path.as_str() {
            "." => e.into_inner().to_string(),
            _ => format!("{path}: {}", e.into_inner()),
        }
    })
}

/// A JSON value as a deserializer that reads `null` as NaN for floats.
struct Lenient(Value);

impl<'de> Deserializer<'de> for Lenient {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Items(items.into_iter())),
            Value::Object(map) => visitor.visit_map(Fields {
                iter: map.into_iter(),
                value: None,
            }),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_f64(f64::NAN),
            other => other.deserialize_f64(visitor),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_f32(f32::NAN),
            other => other.deserialize_f32(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Lenient(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    /// An externally tagged variant with content (`{"variant": content}`) reads its content
    /// leniently too; a unit variant (`"variant"`) as serde_json reads it.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) if map.len() == 1 => {
                let (variant, content) = map.into_iter().next().expect("one entry");
                visitor.visit_enum(Variant { variant, content })
            }
            other => other.deserialize_enum(name, variants, visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// An enum's variant and its content, the content read leniently.
struct Variant {
    variant: String,
    content: Value,
}

impl<'de> EnumAccess<'de> for Variant {
    type Error = serde_json::Error;
    type Variant = Lenient;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Lenient), Self::Error> {
        let tag = seed.deserialize(self.variant.into_deserializer())?;
        Ok((tag, Lenient(self.content)))
    }
}

impl<'de> VariantAccess<'de> for Lenient {
    type Error = serde_json::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        <() as de::Deserialize>::deserialize(self.0)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_any(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_any(visitor)
    }
}

/// The items of an array.
struct Items(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Items {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(Lenient(v)))
            .transpose()
    }
}

/// The fields of an object.
struct Fields {
    iter: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl<'de> MapAccess<'de> for Fields {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.iter.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(key.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        seed.deserialize(Lenient(self.value.take().unwrap_or(Value::Null)))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde_json::json;

    use super::from_value;

    #[derive(Debug, Deserialize)]
    struct Record {
        x: f64,
        y: Option<f64>,
        z: Vec<f32>,
        m: BTreeMap<String, f64>,
        n: Inner,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        k: u32,
        v: f64,
    }

    #[test]
    fn null_is_nan_where_a_float_is_expected() {
        let r: Record = from_value(json!({
            "x": null, "y": null, "z": [1.0, null], "m": {"a": null, "b": 2}, "n": {"k": 3, "v": 0.5}
        }))
        .unwrap();
        assert!(r.x.is_nan() && r.y.is_none() && r.z[0] == 1.0 && r.z[1].is_nan());
        assert!(r.m["a"].is_nan() && r.m["b"] == 2.0);
        assert_eq!((r.n.k, r.n.v), (3, 0.5));
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Outcome {
        Measured(Inner),
        Pair(f64, f64),
        Point { v: f64 },
        NotMeasured,
    }

    #[test]
    fn null_is_nan_inside_the_variants_of_an_enum() {
        let r: Vec<Outcome> = from_value(json!([
            {"measured": {"k": 1, "v": null}}, {"pair": [null, 2.0]}, {"point": {"v": null}},
            "not_measured", {"measured": {"k": 2, "v": 0.25}}
        ]))
        .unwrap();
        assert!(matches!(r[0], Outcome::Measured(Inner { k: 1, v }) if v.is_nan()));
        assert!(matches!(r[1], Outcome::Pair(a, b) if a.is_nan() && b == 2.0));
        assert!(matches!(r[2], Outcome::Point { v } if v.is_nan()));
        assert_eq!(r[3], Outcome::NotMeasured);
        assert_eq!(r[4], Outcome::Measured(Inner { k: 2, v: 0.25 }));
        let e = from_value::<Outcome>(json!({"unknown": 1})).unwrap_err();
        assert!(e.contains("unknown variant"), "{e}");
    }

    #[test]
    fn a_field_that_does_not_fit_is_named_with_its_path() {
        let e = from_value::<Record>(json!({
            "x": 1, "y": 2, "z": [], "m": {}, "n": {"k": null, "v": 1}
        }))
        .unwrap_err();
        assert!(e.starts_with("n.k: invalid type: null"), "{e}");
        let e = from_value::<Record>(json!({"x": 1})).unwrap_err();
        assert!(
            e.contains("missing field `y`") || e.contains("missing field"),
            "{e}"
        );
    }
}
