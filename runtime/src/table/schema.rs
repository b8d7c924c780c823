//! How new rows' columns meet the table's: same name, same type, or a new nullable column.
//!
//! Ferry evolves a table's schema by adding columns only. A column that appears in a later
//! object is appended as nullable (rows committed before it read it as null, which every Delta
//! reader does for a column missing from a data file); a column whose type changed is refused,
//! since the caller is the one that knows how to cast.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef, TimeUnit};

use super::error::TableError;

/// `base`'s columns in their order and with their types, then `incoming`'s new columns as
/// nullable. Fails on the first column whose type differs.
///
/// A column `base` declares NOT NULL must stay so: `incoming` may neither lack it nor declare it
/// nullable. Ferry creates nullable columns only, so this matters for tables made elsewhere.
///
/// Runs for every batch written, so columns are matched through a map by name: linear in the
/// number of columns, which may be tens of thousands.
pub(super) fn merge(
    path: &Path,
    base: Option<&SchemaRef>,
    incoming: &Schema,
) -> Result<SchemaRef, TableError> {
    let mut fields: Vec<FieldRef> = base.map(|b| b.fields().to_vec()).unwrap_or_default();
    let mut index: HashMap<String, usize> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name().clone(), i))
        .collect();
    for field in incoming.fields() {
        match index.get(field.name()).map(|&i| &fields[i]) {
            Some(existing) => {
                let same_type = existing.data_type() == field.data_type();
                let nulls_allowed = existing.is_nullable() || !field.is_nullable();
                if !(same_type && nulls_allowed) {
                    return Err(mismatch(path, existing, describe(field)));
                }
            }
            None => {
                index.insert(field.name().clone(), fields.len());
                fields.push(Arc::new(field.as_ref().clone().with_nullable(true)));
            }
        }
    }
    let arriving: HashSet<&str> = incoming
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    if let Some(missing) = fields
        .iter()
        .find(|f| !f.is_nullable() && !arriving.contains(f.name().as_str()))
    {
        return Err(mismatch(path, missing, "absent".to_owned()));
    }
    match base {
        Some(b) if b.fields().len() == fields.len() => Ok(b.clone()),
        _ => Ok(Arc::new(Schema::new(fields))),
    }
}

/// True when `merged` (from [`merge`] on `base`) adds columns to `base`.
pub(super) fn adds_columns(base: Option<&SchemaRef>, merged: &SchemaRef) -> bool {
    base.is_none_or(|b| b.fields().len() != merged.fields().len())
}

fn mismatch(path: &Path, table_field: &Field, batch_type: String) -> TableError {
    TableError::SchemaMismatch {
        path: path.to_owned(),
        column: table_field.name().clone(),
        table_type: describe(table_field),
        batch_type,
    }
}

fn describe(field: &Field) -> String {
    if field.is_nullable() {
        field.data_type().to_string()
    } else {
        format!("{} NOT NULL", field.data_type())
    }
}

/// The type a column of type `ty` is stored as, when Delta has no such type: Delta keeps
/// timestamps as microseconds in UTC (`timestamp`), so other units and zones are converted
/// (the instant is kept; a timestamp without zone is taken as UTC), and it has no fixed-size
/// list, so an embedding vector is stored as a list (its length is the validate step's
/// concern). Nested types are converted inside. `None` when `ty` is stored as it is.
pub fn storable_type(ty: &DataType) -> Option<DataType> {
    let utc = || DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let converted = |field: &FieldRef| -> FieldRef {
        match storable_type(field.data_type()) {
            Some(ty) => Arc::new(field.as_ref().clone().with_data_type(ty)),
            None => field.clone(),
        }
    };
    // A list's items are called `element`, as Delta and Parquet call them: Arrow writers say
    // `item`, and the table would otherwise see two list types that differ only in that name.
    let element = |field: &FieldRef| -> FieldRef {
        Arc::new(converted(field).as_ref().clone().with_name(LIST_ITEM))
    };
    match ty {
        DataType::Timestamp(TimeUnit::Microsecond, Some(zone)) if zone.as_ref() == "UTC" => None,
        DataType::Timestamp(..) => Some(utc()),
        DataType::FixedSizeList(field, _) => Some(DataType::List(element(field))),
        DataType::List(field) => (field.name() != LIST_ITEM
            || storable_type(field.data_type()).is_some())
        .then(|| DataType::List(element(field))),
        DataType::Struct(fields) => fields
            .iter()
            .any(|f| storable_type(f.data_type()).is_some())
            .then(|| DataType::Struct(fields.iter().map(converted).collect())),
        _ => None,
    }
}

/// What the items of a stored list are called.
const LIST_ITEM: &str = "element";

/// Characters Spark and Delta (without column mapping) refuse in a column name; with control
/// characters (a NUL byte among them) no reader can open a table that has one.
const REFUSED_IN_NAMES: &[char] = &[' ', ',', ';', '{', '}', '(', ')', '=', '\n', '\t'];

/// The name a column is stored under when `name` is one some reader of the table would refuse:
/// every refused or control character becomes `_`, an empty name `column`. `None` when `name`
/// is fine as it is.
pub fn storable_column_name(name: &str) -> Option<String> {
    let bad = |c: char| c.is_control() || REFUSED_IN_NAMES.contains(&c);
    if !name.is_empty() && !name.contains(bad) {
        return None;
    }
    if name.is_empty() {
        return Some("column".to_owned());
    }
    Some(name.chars().map(|c| if bad(c) { '_' } else { c }).collect())
}

#[cfg(test)]
mod tests {
    use arrow::datatypes::DataType;

    use super::*;

    fn schema(fields: impl IntoIterator<Item = (String, DataType)>) -> Schema {
        Schema::new(
            fields
                .into_iter()
                .map(|(name, ty)| Field::new(name, ty, true))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn wide_schemas_merge_by_name() {
        let width = 5_000;
        let base: SchemaRef = Arc::new(schema(
            (0..width).map(|i| (format!("c{i}"), DataType::Int64)),
        ));
        // The same columns in reverse order, and one new at the start.
        let incoming = schema(
            std::iter::once(("new".to_owned(), DataType::Utf8))
                .chain((0..width).rev().map(|i| (format!("c{i}"), DataType::Int64))),
        );
        let merged = merge(Path::new("t"), Some(&base), &incoming).unwrap();
        assert_eq!(merged.fields().len(), width + 1);
        assert_eq!(merged.field(0).name(), "c0");
        assert_eq!(merged.field(width - 1).name(), "c4999");
        assert_eq!(merged.field(width).name(), "new");
        assert!(adds_columns(Some(&base), &merged));

        let same = merge(Path::new("t"), Some(&base), &base).unwrap();
        assert!(Arc::ptr_eq(&same, &base), "nothing new: the base itself");

        let mut changed: Vec<(String, DataType)> = (0..width)
            .map(|i| (format!("c{i}"), DataType::Int64))
            .collect();
        changed[4_321].1 = DataType::Utf8;
        let err = merge(Path::new("t"), Some(&base), &schema(changed)).unwrap_err();
        assert!(
            matches!(&err, TableError::SchemaMismatch { column, .. } if column == "c4321"),
            "{err}"
        );
    }

    #[test]
    fn a_not_null_column_must_arrive() {
        let base: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("x", DataType::Int64, true),
        ]));
        let without_id = schema([("x".to_owned(), DataType::Int64)]);
        let err = merge(Path::new("t"), Some(&base), &without_id).unwrap_err();
        assert!(
            matches!(&err, TableError::SchemaMismatch { column, batch_type, .. }
                if column == "id" && batch_type == "absent"),
            "{err}"
        );
    }

    #[test]
    fn names_every_reader_accepts() {
        assert_eq!(storable_column_name("feature_age"), None);
        assert_eq!(storable_column_name("tag/env"), None);
        assert_eq!(storable_column_name("a\0b").as_deref(), Some("a_b"));
        assert_eq!(
            storable_column_name("monthly charges (usd)").as_deref(),
            Some("monthly_charges__usd_")
        );
        assert_eq!(storable_column_name("").as_deref(), Some("column"));
    }
}
