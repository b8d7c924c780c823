//! How new rows' columns meet the table's: same name, same type, or a new nullable column.
//!
//! Ferry evolves a table's schema by adding columns only. A column that appears in a later
//! object is appended as nullable (rows committed before it read it as null, which every Delta
//! reader does for a column missing from a data file); a column whose type changed is refused,
//! since the caller is the one that knows how to cast.

use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::{Field, FieldRef, Schema, SchemaRef};

use super::error::TableError;

/// `base`'s columns in their order and with their types, then `incoming`'s new columns as
/// nullable. Fails on the first column whose type differs.
///
/// A column `base` declares NOT NULL must stay so: `incoming` may neither lack it nor declare it
/// nullable. Ferry creates nullable columns only, so this matters for tables made elsewhere.
pub(super) fn merge(
    path: &Path,
    base: Option<&SchemaRef>,
    incoming: &Schema,
) -> Result<SchemaRef, TableError> {
    let mut fields: Vec<FieldRef> = base.map(|b| b.fields().to_vec()).unwrap_or_default();
    for field in incoming.fields() {
        match fields.iter().find(|f| f.name() == field.name()) {
            Some(existing) => {
                let same_type = existing.data_type() == field.data_type();
                let nulls_allowed = existing.is_nullable() || !field.is_nullable();
                if !(same_type && nulls_allowed) {
                    return Err(mismatch(path, existing, describe(field)));
                }
            }
            None => fields.push(Arc::new(field.as_ref().clone().with_nullable(true))),
        }
    }
    if let Some(missing) = fields
        .iter()
        .find(|f| !f.is_nullable() && incoming.field_with_name(f.name()).is_err())
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
mod name_tests {
    use super::storable_column_name;

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
