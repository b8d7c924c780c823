//! Nested columns as a batch carries them: flat, depth-first. A `list` or `fixed-size-list`
//! column is followed by its one child (the items), a `struct` column by its fields, each
//! with its own children, before the next column of the same level:
//!
//! ```text
//! { id: int64, tags: list<utf8>, geo: struct{ city: utf8, lat: float64 } }
//! → [id: int64, tags: list, item: utf8, geo: struct(2), city: utf8, lat: float64]
//! ```
//!
//! [`list`] and [`structure`] put a parent before its children; [`top_level`] walks a batch's
//! columns back into top-level columns and their descendants, which is what a consumer of
//! named inputs (a predictor) looks up.

use crate::columns::Validity;
use crate::types::{Column, ColumnValues};

/// How many child columns follow `values` directly (each with its own children after it).
pub fn children(values: &ColumnValues) -> usize {
    match values {
        ColumnValues::List(_) | ColumnValues::FixedSizeList(_) => 1,
        ColumnValues::Struct(fields) => *fields as usize,
        _ => 0,
    }
}

/// A list column named `name`: row `i` holds the items `offsets[i]..offsets[i + 1]` of
/// `items` (the child column with its own children, as [`list`] or [`structure`] give them).
pub fn list(
    name: impl Into<String>,
    validity: Validity,
    offsets: Vec<u32>,
    items: Vec<Column>,
) -> Vec<Column> {
    debug_assert_eq!(
        offsets.len(),
        validity.len() + 1,
        "one more offset than rows"
    );
    let mut columns = Vec::with_capacity(1 + items.len());
    columns.push(Column {
        name: name.into(),
        validity: validity.finish(),
        values: ColumnValues::List(offsets),
    });
    columns.extend(items);
    columns
}

/// A struct column named `name` with `fields`, each a column with its own children and as
/// long as the struct.
pub fn structure(
    name: impl Into<String>,
    validity: Validity,
    fields: Vec<Vec<Column>>,
) -> Vec<Column> {
    let count = u32::try_from(fields.len()).expect("a struct's fields fit in u32");
    let mut columns = vec![Column {
        name: name.into(),
        validity: validity.finish(),
        values: ColumnValues::Struct(count),
    }];
    columns.extend(fields.into_iter().flatten());
    columns
}

/// The top-level columns of a batch's `columns`, each with its descendants (empty for a
/// scalar column). Columns that a nested column claims but that are missing (a malformed
/// batch) end the walk at the end of the list rather than panic.
pub fn top_level(columns: &[Column]) -> TopLevel<'_> {
    TopLevel { rest: columns }
}

/// The iterator of [`top_level`].
#[derive(Debug, Clone)]
pub struct TopLevel<'a> {
    rest: &'a [Column],
}

impl<'a> Iterator for TopLevel<'a> {
    /// A top-level column and the columns that describe its nested values.
    type Item = (&'a Column, &'a [Column]);

    fn next(&mut self) -> Option<Self::Item> {
        let (column, after) = self.rest.split_first()?;
        let len = subtree_len(self.rest).min(self.rest.len()) - 1;
        let (descendants, rest) = after.split_at(len);
        self.rest = rest;
        Some((column, descendants))
    }
}

/// How many columns the column at the start of `columns` spans, itself and its descendants.
fn subtree_len(columns: &[Column]) -> usize {
    // Columns still to be counted into the subtree; a nested column adds its children.
    let mut pending = 1usize;
    let mut len = 0;
    while pending > 0 {
        let Some(column) = columns.get(len) else {
            break;
        };
        pending = pending - 1 + children(&column.values);
        len += 1;
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::typing::Kind;
    use crate::{ColumnBuilder, columns};

    fn leaf(name: &str, kind: Kind) -> Column {
        ColumnBuilder::new(name, kind).finish()
    }

    fn names(columns: &[Column]) -> Vec<&str> {
        columns.iter().map(|c| c.name.as_str()).collect()
    }

    fn valid(rows: &[bool]) -> columns::Validity {
        let mut v = columns::Validity::default();
        rows.iter().for_each(|r| v.push(*r));
        v
    }

    #[test]
    fn parents_come_before_their_children() {
        let tags = list(
            "tags",
            valid(&[true, false]),
            vec![0, 2, 2],
            vec![leaf("item", Kind::Utf8)],
        );
        assert_eq!(tags[0].values, ColumnValues::List(vec![0, 2, 2]));
        assert_eq!(tags[0].validity, Some(vec![0b01]));
        let geo = structure(
            "geo",
            valid(&[true, true]),
            vec![vec![leaf("city", Kind::Utf8)], tags],
        );
        assert_eq!(names(&geo), ["geo", "city", "tags", "item"]);
        assert_eq!(geo[0].values, ColumnValues::Struct(2));
        assert_eq!(geo[0].validity, None);
    }

    #[test]
    fn top_level_columns_carry_their_descendants() {
        let mut columns = vec![leaf("id", Kind::Int64)];
        columns.extend(list(
            "emb",
            valid(&[]),
            vec![0],
            vec![leaf("item", Kind::Float32)],
        ));
        columns.extend(structure(
            "geo",
            valid(&[]),
            vec![
                vec![leaf("tenure", Kind::Int64)],
                structure("loc", valid(&[]), vec![vec![leaf("lat", Kind::Float64)]]),
                list("tags", valid(&[]), vec![0], vec![leaf("item", Kind::Utf8)]),
            ],
        ));
        columns.push(leaf("tenure", Kind::Float64));
        let walked: Vec<(&str, Vec<&str>)> = top_level(&columns)
            .map(|(c, rest)| (c.name.as_str(), names(rest)))
            .collect();
        assert_eq!(
            walked,
            [
                ("id", vec![]),
                ("emb", vec!["item"]),
                ("geo", vec!["tenure", "loc", "lat", "tags", "item"]),
                ("tenure", vec![]),
            ]
        );
    }

    #[test]
    fn a_struct_missing_its_fields_ends_the_walk() {
        let columns = [
            leaf("a", Kind::Int64),
            Column {
                name: "s".into(),
                validity: None,
                values: ColumnValues::Struct(3),
            },
            leaf("x", Kind::Int64),
        ];
        let walked: Vec<(&str, usize)> = top_level(&columns)
            .map(|(c, rest)| (c.name.as_str(), rest.len()))
            .collect();
        assert_eq!(walked, [("a", 0), ("s", 1)]);
        assert_eq!(top_level(&[]).count(), 0);
    }
}
