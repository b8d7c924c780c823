//! What a run of JSON values (one column of a batch) becomes. Its [`Shape`] is read from the
//! values themselves, ignoring nulls (a `null` and a missing key are null):
//!
//! - only booleans → boolean; only integers (i64) → int64; integers and other numbers →
//!   float64; only strings → utf8;
//! - only arrays, whose items together are all of one of those kinds (nulls allowed) →
//!   `list<boolean>`, `list<int64>`, `list<float64>` or `list<utf8>`; arrays with no item at
//!   all → `list<utf8>`, as a column with no value at all is utf8;
//! - only objects, with at least one key among them → `struct`, its fields the keys in order of
//!   first appearance, each shaped by the same rules (a key an object lacks is null there);
//! - anything else — kinds mixed, arrays of arrays or of objects or of mixed items, objects
//!   with no key at all — → utf8 holding strings as they are and every other value as its
//!   JSON text, without a diagnostic: nothing is lost, and nothing is guessed.
//!
//! Objects only reach here unflattened (`flatten = false`); flattened, their leaves are
//! columns of their own.

use std::collections::HashSet;

use ferry_guest::columns::Validity;
use ferry_guest::types::Column;
use ferry_guest::{ColumnBuilder, Kind, nested};
use serde_json::Value;

/// The type of a column of JSON values.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Boolean, int64, float64 or utf8 (strings only).
    Scalar(Kind),
    /// Lists of scalars of this kind.
    List(Kind),
    /// Fields by name, in order of first appearance.
    Struct(Vec<(String, Shape)>),
    /// Utf8: strings as they are, other values as JSON text.
    Json,
}

impl Shape {
    /// The shape of `values` (see the module rules).
    pub fn of(values: &[&Value]) -> Shape {
        let mut present = values.iter().copied().filter(|v| !v.is_null()).peekable();
        let Some(first) = present.peek() else {
            return Shape::Scalar(Kind::Utf8);
        };
        match first {
            Value::Array(_) => {
                let mut items = Vec::new();
                for value in present {
                    let Value::Array(array) = value else {
                        return Shape::Json;
                    };
                    items.extend(array);
                }
                match scalar(items.iter().copied()) {
                    Some(kind) => Shape::List(kind),
                    None if items.iter().all(|v| v.is_null()) => Shape::List(Kind::Utf8),
                    None => Shape::Json,
                }
            }
            Value::Object(_) => {
                let mut objects = Vec::new();
                for value in present {
                    let Value::Object(object) = value else {
                        return Shape::Json;
                    };
                    objects.push(object);
                }
                let mut seen = HashSet::new();
                let names: Vec<&String> = objects
                    .iter()
                    .flat_map(|o| o.keys())
                    .filter(|key| seen.insert(*key))
                    .collect();
                if names.is_empty() {
                    return Shape::Json;
                }
                let fields = names
                    .into_iter()
                    .map(|name| {
                        let values: Vec<&Value> =
                            objects.iter().filter_map(|o| o.get(name)).collect();
                        (name.clone(), Shape::of(&values))
                    })
                    .collect();
                Shape::Struct(fields)
            }
            _ => scalar(values.iter().copied()).map_or(Shape::Json, Shape::Scalar),
        }
    }
}

/// The scalar kind of every non-null value of `values`, if they have one and there is one.
fn scalar<'a>(values: impl Iterator<Item = &'a Value> + Clone) -> Option<Kind> {
    let mut present = values.filter(|v| !v.is_null());
    let first = present.clone().next()?;
    let kind = match first {
        Value::Bool(_) => Kind::Boolean,
        Value::String(_) => Kind::Utf8,
        Value::Number(_) if present.clone().all(Value::is_i64) => Kind::Int64,
        Value::Number(_) => Kind::Float64,
        Value::Null | Value::Array(_) | Value::Object(_) => return None,
    };
    let fits = |v: &Value| match kind {
        Kind::Boolean => v.is_boolean(),
        Kind::Utf8 => v.is_string(),
        _ => v.is_number(),
    };
    present.all(fits).then_some(kind)
}

/// The columns of `values` (one per row, `None` or `null` for null) shaped `shape`: the column
/// named `name`, then its children (see [`ferry_guest::nested`]).
pub fn columns(name: String, shape: &Shape, values: &[Option<&Value>]) -> Vec<Column> {
    match shape {
        Shape::Scalar(kind) => vec![scalar_column(name, *kind, values)],
        Shape::Json => vec![scalar_column(name, Kind::Utf8, values)],
        Shape::List(kind) => {
            let mut validity = Validity::with_capacity(values.len());
            let mut offsets = Vec::with_capacity(values.len() + 1);
            let mut items: Vec<Option<&Value>> = Vec::new();
            offsets.push(0);
            for value in values {
                let array = present(value).and_then(Value::as_array);
                validity.push(array.is_some());
                items.extend(array.into_iter().flatten().map(Some));
                offsets.push(u32::try_from(items.len()).expect("a batch's items fit in u32"));
            }
            let item = scalar_column("item".to_owned(), *kind, &items);
            nested::list(name, validity, offsets, vec![item])
        }
        Shape::Struct(fields) => {
            let objects: Vec<_> = values
                .iter()
                .map(|v| present(v).and_then(Value::as_object))
                .collect();
            let mut validity = Validity::with_capacity(values.len());
            objects.iter().for_each(|o| validity.push(o.is_some()));
            let children = fields
                .iter()
                .map(|(field, shape)| {
                    let values: Vec<Option<&Value>> = objects
                        .iter()
                        .map(|o| o.and_then(|o| o.get(field)))
                        .collect();
                    columns(field.clone(), shape, &values)
                })
                .collect();
            nested::structure(name, validity, children)
        }
    }
}

/// The value of a row, unless it is null.
fn present<'a>(value: &Option<&'a Value>) -> Option<&'a Value> {
    value.filter(|v| !v.is_null())
}

/// A column of `kind` (one [`Shape::of`] chose, so every value fits); utf8 takes JSON text
/// for whatever is not a string.
fn scalar_column(name: String, kind: Kind, values: &[Option<&Value>]) -> Column {
    let mut column = ColumnBuilder::with_capacity(name, kind, values.len());
    for value in values {
        match (kind, value) {
            (_, None | Some(Value::Null)) => column.push_null(),
            (Kind::Boolean, Some(Value::Bool(b))) => column.push_bool(*b),
            (Kind::Int64, Some(Value::Number(n))) => {
                column.push_i64(n.as_i64().expect("int64 columns hold only i64 numbers"))
            }
            (Kind::Float64, Some(Value::Number(n))) => {
                column.push_f64(n.as_f64().expect("JSON numbers are finite"))
            }
            (_, Some(Value::String(s))) => column.push_str(s),
            (_, Some(other)) => column.push_str(&other.to_string()),
        }
    }
    column.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shape(values: &[Value]) -> Shape {
        Shape::of(&values.iter().collect::<Vec<_>>())
    }

    #[test]
    fn scalars_as_before() {
        assert_eq!(
            shape(&[json!(1), json!(null), json!(-2)]),
            Shape::Scalar(Kind::Int64)
        );
        assert_eq!(shape(&[json!(1), json!(2.5)]), Shape::Scalar(Kind::Float64));
        assert_eq!(shape(&[json!(true)]), Shape::Scalar(Kind::Boolean));
        assert_eq!(shape(&[json!("x")]), Shape::Scalar(Kind::Utf8));
        assert_eq!(shape(&[json!(null)]), Shape::Scalar(Kind::Utf8));
        assert_eq!(shape(&[]), Shape::Scalar(Kind::Utf8));
        assert_eq!(shape(&[json!(1), json!("x")]), Shape::Json);
        assert_eq!(shape(&[json!(true), json!(1)]), Shape::Json);
    }

    #[test]
    fn arrays_of_one_kind_are_lists() {
        assert_eq!(
            shape(&[json!([1, 2]), json!([]), json!([null, 3])]),
            Shape::List(Kind::Int64)
        );
        assert_eq!(
            shape(&[json!([1]), json!([0.5])]),
            Shape::List(Kind::Float64)
        );
        assert_eq!(shape(&[json!(["a"]), json!(null)]), Shape::List(Kind::Utf8));
        assert_eq!(shape(&[json!([true, false])]), Shape::List(Kind::Boolean));
        assert_eq!(shape(&[json!([]), json!([null])]), Shape::List(Kind::Utf8));
    }

    #[test]
    fn irregular_arrays_are_json_text() {
        assert_eq!(shape(&[json!([1, "x"])]), Shape::Json);
        assert_eq!(shape(&[json!([[1], [2]])]), Shape::Json);
        assert_eq!(shape(&[json!([{"a": 1}])]), Shape::Json);
        assert_eq!(shape(&[json!([1]), json!(2)]), Shape::Json);
        assert_eq!(shape(&[json!(2), json!([1])]), Shape::Json);
    }

    #[test]
    fn objects_are_structs_of_their_keys() {
        let got = shape(&[
            json!({"a": 1, "b": {"c": "x"}}),
            json!({"d": [1.5], "a": null}),
        ]);
        let want = Shape::Struct(vec![
            ("a".into(), Shape::Scalar(Kind::Int64)),
            (
                "b".into(),
                Shape::Struct(vec![("c".into(), Shape::Scalar(Kind::Utf8))]),
            ),
            ("d".into(), Shape::List(Kind::Float64)),
        ]);
        assert_eq!(got, want);
        assert_eq!(
            shape(&[json!({}), json!({})]),
            Shape::Json,
            "no field at all"
        );
        assert_eq!(shape(&[json!({"a": 1}), json!("x")]), Shape::Json);
    }
}
