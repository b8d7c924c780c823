//! Where each Avro type lands in Arrow, decided once from the file's schema before any record
//! is read, so that a type with no column type is refused at `open`, naming its field.
//!
//! Only the top-level fields the step asked for are mapped: a map or a time of day in a field
//! nobody reads does not stop the others from being read.

use std::collections::HashMap;
use std::sync::Arc;

use apache_avro::Schema;
use apache_avro::schema::{Name, ResolvedSchema, UnionSchema};
use arrow_schema::{DataType, Field, Fields, TimeUnit};

/// How values of one Avro type are built into an Arrow array.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// `null`: a column with no values.
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    /// `bytes` and `fixed`.
    Binary,
    /// `string`, an `enum`'s symbols, and `uuid` (as its canonical text).
    Utf8,
    /// `date`: days since the epoch.
    Date,
    /// `timestamp-*` (instants, in UTC) and `local-timestamp-*` (wall-clock times, no zone).
    Timestamp {
        unit: Unit,
        utc: bool,
    },
    /// `decimal` on `bytes` or `fixed`.
    Decimal {
        precision: u8,
        scale: i8,
    },
    /// `array`.
    List(Box<Column>),
    /// `record`.
    Record(Vec<Column>),
}

/// The units Avro counts timestamps in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Millis,
    Micros,
    Nanos,
}

impl Unit {
    pub fn arrow(self) -> TimeUnit {
        match self {
            Unit::Millis => TimeUnit::Millisecond,
            Unit::Micros => TimeUnit::Microsecond,
            Unit::Nanos => TimeUnit::Nanosecond,
        }
    }
}

/// A record's field or an array's items: a name, a shape, and whether it is a union with
/// `null`.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub shape: Shape,
    pub nullable: bool,
}

/// A top-level field this reader builds: where it is in each record, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Projected {
    pub position: usize,
    pub column: Column,
}

/// A schema that has no columns for a field: the field's path and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub path: String,
    pub why: String,
}

impl Column {
    /// The Arrow field. Every field is nullable in Arrow: the WIT carries no nullability, and a
    /// non-null field under a null struct would otherwise fail Arrow's checks.
    pub fn field(&self) -> Field {
        Field::new(&self.name, self.shape.data_type(), true)
    }
}

impl Shape {
    pub fn data_type(&self) -> DataType {
        match self {
            Shape::Null => DataType::Null,
            Shape::Boolean => DataType::Boolean,
            Shape::Int => DataType::Int32,
            Shape::Long => DataType::Int64,
            Shape::Float => DataType::Float32,
            Shape::Double => DataType::Float64,
            Shape::Binary => DataType::Binary,
            Shape::Utf8 => DataType::Utf8,
            Shape::Date => DataType::Date32,
            Shape::Timestamp { unit, utc } => {
                DataType::Timestamp(unit.arrow(), utc.then(|| Arc::from("UTC")))
            }
            Shape::Decimal { precision, scale } => DataType::Decimal128(*precision, *scale),
            Shape::List(items) => DataType::List(Arc::new(items.field())),
            Shape::Record(fields) => {
                DataType::Struct(Fields::from_iter(fields.iter().map(Column::field)))
            }
        }
    }
}

/// The top-level fields of a record `schema` named in `wanted` (all when `None`), in the
/// schema's order.
pub fn project(schema: &Schema, wanted: Option<&[String]>) -> Result<Vec<Projected>, Refusal> {
    let Schema::Record(record) = schema else {
        return Err(Refusal {
            path: String::new(),
            why: format!(
                "the file's schema is a {}, not a record of fields",
                kind(schema)
            ),
        });
    };
    let resolved = ResolvedSchema::try_from(schema).map_err(|e| Refusal {
        path: String::new(),
        why: e.to_string(),
    })?;
    let mut mapper = Mapper {
        names: resolved.get_names(),
        open: vec![record.name.clone()],
    };
    record
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| wanted.is_none_or(|w| w.contains(&f.name)))
        .map(|(position, f)| {
            let column = mapper.column(&f.name, &f.schema, &f.name)?;
            Ok(Projected { position, column })
        })
        .collect()
}

/// Walks a schema, resolving named types by reference.
struct Mapper<'s> {
    names: &'s HashMap<Name, &'s Schema>,
    /// The records being mapped, outermost first: a reference to one of them is a recursive
    /// type, which no fixed set of columns can hold.
    open: Vec<Name>,
}

impl Mapper<'_> {
    fn column(&mut self, name: &str, schema: &Schema, path: &str) -> Result<Column, Refusal> {
        let (schema, nullable) = match schema {
            Schema::Union(union) => (non_null(union, path)?, true),
            other => (other, false),
        };
        Ok(Column {
            name: name.to_owned(),
            shape: self.shape(schema, path)?,
            nullable,
        })
    }

    fn shape(&mut self, schema: &Schema, path: &str) -> Result<Shape, Refusal> {
        let refuse = |why: String| {
            Err(Refusal {
                path: path.to_owned(),
                why,
            })
        };
        let shape = match schema {
            Schema::Null => Shape::Null,
            Schema::Boolean => Shape::Boolean,
            Schema::Int => Shape::Int,
            Schema::Long => Shape::Long,
            Schema::Float => Shape::Float,
            Schema::Double => Shape::Double,
            Schema::Bytes | Schema::Fixed(_) => Shape::Binary,
            Schema::String | Schema::Enum(_) | Schema::Uuid(_) => Shape::Utf8,
            Schema::Date => Shape::Date,
            Schema::TimestampMillis => timestamp(Unit::Millis, true),
            Schema::TimestampMicros => timestamp(Unit::Micros, true),
            Schema::TimestampNanos => timestamp(Unit::Nanos, true),
            Schema::LocalTimestampMillis => timestamp(Unit::Millis, false),
            Schema::LocalTimestampMicros => timestamp(Unit::Micros, false),
            Schema::LocalTimestampNanos => timestamp(Unit::Nanos, false),
            Schema::Decimal(d) => match (u8::try_from(d.precision), i8::try_from(d.scale)) {
                (Ok(precision @ 1..=38), Ok(scale)) if scale as u8 <= precision => {
                    Shape::Decimal { precision, scale }
                }
                _ => {
                    return refuse(format!(
                        "decimal({}, {}) is wider than the 38 digits a decimal column holds",
                        d.precision, d.scale
                    ));
                }
            },
            Schema::Array(array) => {
                let items = self.column("item", &array.items, &format!("{path}.item"))?;
                Shape::List(Box::new(items))
            }
            Schema::Record(record) => {
                if self.open.contains(&record.name) {
                    return refuse(format!("record `{}` contains itself", record.name));
                }
                self.open.push(record.name.clone());
                let fields = record
                    .fields
                    .iter()
                    .map(|f| self.column(&f.name, &f.schema, &format!("{path}.{}", f.name)))
                    .collect::<Result<Vec<_>, _>>();
                self.open.pop();
                Shape::Record(fields?)
            }
            Schema::Ref { name } => match self.names.get(name) {
                Some(named) => return self.shape(named, path),
                None => return refuse(format!("type `{name}` is not defined in the schema")),
            },
            Schema::Union(union) => {
                // A union directly inside a union is not valid Avro; the reader refuses it too.
                return refuse(format!(
                    "a union inside a union ({})",
                    describe_union(union)
                ));
            }
            other => {
                return refuse(format!("Avro type {} has no column type", kind(other)));
            }
        };
        Ok(shape)
    }
}

fn timestamp(unit: Unit, utc: bool) -> Shape {
    Shape::Timestamp { unit, utc }
}

/// The one type of a union with `null` (`["null", T]` or `[T, "null"]`), or `null` for the
/// union of `null` alone.
fn non_null<'s>(union: &'s UnionSchema, path: &str) -> Result<&'s Schema, Refusal> {
    let others: Vec<&Schema> = union
        .variants()
        .iter()
        .filter(|v| !matches!(v, Schema::Null))
        .collect();
    match others[..] {
        [] => Ok(&Schema::Null),
        [one] => Ok(one),
        _ => Err(Refusal {
            path: path.to_owned(),
            why: format!(
                "a union of {}: only a union of null and one type has a column type",
                describe_union(union)
            ),
        }),
    }
}

fn describe_union(union: &UnionSchema) -> String {
    let kinds: Vec<String> = union.variants().iter().map(kind).collect();
    kinds.join(", ")
}

/// An Avro type as the spec names it (`map`, `time-millis`, a named type's name).
fn kind(schema: &Schema) -> String {
    let named = |name: &Name| name.fullname(None);
    match schema {
        Schema::Record(r) => format!("record {}", named(&r.name)),
        Schema::Enum(e) => format!("enum {}", named(&e.name)),
        Schema::Fixed(f) => format!("fixed {}", named(&f.name)),
        Schema::Ref { name } => named(name),
        Schema::Map(_) => "map".to_owned(),
        Schema::Array(_) => "array".to_owned(),
        Schema::Union(_) => "union".to_owned(),
        Schema::TimeMillis => "time-millis".to_owned(),
        Schema::TimeMicros => "time-micros".to_owned(),
        Schema::Duration(_) => "duration".to_owned(),
        Schema::BigDecimal => "big-decimal".to_owned(),
        other => format!("{other:?}").to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Schema {
        Schema::parse_str(json).unwrap()
    }

    fn record(fields: &str) -> Schema {
        parse(&format!(
            r#"{{"type": "record", "name": "R", "fields": [{fields}]}}"#
        ))
    }

    #[test]
    fn unions_with_null_are_nullable_columns_either_way_round() {
        let schema = record(
            r#"{"name": "a", "type": ["null", "string"]},
               {"name": "b", "type": ["long", "null"]},
               {"name": "c", "type": "double"}"#,
        );
        let columns = project(&schema, None).unwrap();
        let got: Vec<(&str, &Shape, bool)> = columns
            .iter()
            .map(|p| (p.column.name.as_str(), &p.column.shape, p.column.nullable))
            .collect();
        assert_eq!(
            got,
            [
                ("a", &Shape::Utf8, true),
                ("b", &Shape::Long, true),
                ("c", &Shape::Double, false)
            ]
        );
    }

    #[test]
    fn only_wanted_fields_are_mapped_so_others_may_have_no_column_type() {
        let schema = record(
            r#"{"name": "m", "type": {"type": "map", "values": "long"}},
               {"name": "id", "type": "long"}"#,
        );
        let columns = project(&schema, Some(&["id".to_owned()])).unwrap();
        assert_eq!(columns.len(), 1);
        assert_eq!(columns[0].position, 1);
        let refused = project(&schema, None).unwrap_err();
        assert_eq!(refused.path, "m");
        assert_eq!(refused.why, "Avro type map has no column type");
    }

    #[test]
    fn other_unions_are_refused_naming_the_field() {
        let schema = record(
            r#"{"name": "p", "type": {"type": "record", "name": "P", "fields": [
                 {"name": "v", "type": ["null", "int", "string"]}]}}"#,
        );
        let refused = project(&schema, None).unwrap_err();
        assert_eq!(refused.path, "p.v");
        assert_eq!(
            refused.why,
            "a union of null, int, string: only a union of null and one type has a column type"
        );
    }

    #[test]
    fn named_types_are_resolved_and_recursive_ones_refused() {
        let schema = record(
            r#"{"name": "a", "type": {"type": "fixed", "name": "F", "size": 2}},
               {"name": "b", "type": ["null", "F"]}"#,
        );
        let columns = project(&schema, None).unwrap();
        assert_eq!(columns[1].column.shape, Shape::Binary);

        let list = parse(
            r#"{"type": "record", "name": "Node", "fields": [
                 {"name": "value", "type": "long"},
                 {"name": "next", "type": ["null", "Node"]}]}"#,
        );
        let refused = project(&list, None).unwrap_err();
        assert_eq!(refused.path, "next");
        assert_eq!(refused.why, "record `Node` contains itself");
    }

    #[test]
    fn logical_types_get_their_arrow_types() {
        let schema = record(
            r#"{"name": "d", "type": {"type": "int", "logicalType": "date"}},
               {"name": "t", "type": {"type": "long", "logicalType": "timestamp-micros"}},
               {"name": "l", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
               {"name": "m", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 3}},
               {"name": "u", "type": {"type": "string", "logicalType": "uuid"}},
               {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A"]}}"#,
        );
        let types: Vec<DataType> = project(&schema, None)
            .unwrap()
            .iter()
            .map(|p| p.column.shape.data_type())
            .collect();
        assert_eq!(
            types,
            [
                DataType::Date32,
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                DataType::Timestamp(TimeUnit::Millisecond, None),
                DataType::Decimal128(9, 3),
                DataType::Utf8,
                DataType::Utf8,
            ]
        );
        let time =
            record(r#"{"name": "at", "type": {"type": "int", "logicalType": "time-millis"}}"#);
        assert_eq!(
            project(&time, None).unwrap_err().why,
            "Avro type time-millis has no column type"
        );
    }

    #[test]
    fn a_schema_that_is_not_a_record_is_refused() {
        let refused = project(&parse(r#""long""#), None).unwrap_err();
        assert_eq!(
            refused.why,
            "the file's schema is a long, not a record of fields"
        );
    }
}
