//! Where in the file a step's value is wrong. Steps are decoded from `toml::Value`s (so each
//! can be decoded by its `kind`), and errors from a `Value` carry no position; decoding the
//! one failing step again straight from the text, the others skipped, gives serde's error
//! *with* the span of the offending value (`glob = 5` points at the `5`).

use std::marker::PhantomData;
use std::ops::Range;

use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The span of the value that makes step number `index` fail to decode as `T`.
pub(crate) fn step_error_span<T: DeserializeOwned>(
    text: &str,
    index: usize,
) -> Option<Range<usize>> {
    let deserializer = toml::de::Deserializer::parse(text).ok()?;
    let seed = Document::<T> {
        index,
        step: PhantomData,
    };
    seed.deserialize(deserializer).err()?.span()
}

struct Document<T> {
    index: usize,
    step: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Document<T> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for Document<T> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a workflow")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "steps" {
                map.next_value_seed(Steps::<T> {
                    index: self.index,
                    step: PhantomData,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct Steps<T> {
    index: usize,
    step: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Steps<T> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for Steps<T> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("steps")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        for i in 0.. {
            let more = if i == self.index {
                seq.next_element::<T>()?.is_some()
            } else {
                seq.next_element::<IgnoredAny>()?.is_some()
            };
            if !more {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::ImportStep;

    #[test]
    fn points_at_the_value() {
        let text = "[[steps]]\nname = \"a\"\nkind = \"ingest\"\n\n[[steps]]\nname = \"import\"\nkind = \"import\"\nsource = \"s\"\nparser = \"p\"\nglob = 5\n";
        let span = step_error_span::<ImportStep>(text, 1).unwrap();
        assert_eq!(&text[span], "5");
    }
}
