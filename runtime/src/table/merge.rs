//! Merging an object's rows into a table on a key: one Delta MERGE (delta-rs, on DataFusion)
//! per call, carrying the job's application transaction like any other commit, so a resumed
//! job merges each object exactly once.
//!
//! A MERGE whose source repeats a key would match one table row twice, which Delta refuses; so
//! the source is made first ([`MergeSource`]), with one row per key: the last, or none at all
//! when a repeated key fails the object.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, UInt32Array, new_null_array};
use arrow::compute::{concat_batches, take_record_batch};
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::row::{RowConverter, SortField};
use arrow::util::display::array_value_to_string;
use deltalake::datafusion::common::Column;
use deltalake::datafusion::logical_expr::{BinaryExpr, Expr, Operator, when};
use deltalake::datafusion::prelude::{SessionContext, coalesce};
use deltalake::kernel::Transaction;
use deltalake::kernel::transaction::CommitProperties;

use super::error::TableError;
use super::{AppTxn, Table, WriteMode, commit::commit_error, delta_error};

/// What one object's repeated key means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicates {
    /// The object's last row for the key is merged; earlier ones are dropped.
    KeepLast,
    /// The object cannot be merged.
    Refuse,
}

/// How a table row that an object's row matches is updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matched {
    /// Every column the object has is set to the object's value, null or not.
    SetAll,
    /// Only the object's non-null values are set; the table keeps its value where the
    /// object has none.
    SetNonNull,
    /// A rollup's: each listed column combines the stored value with the object's (the key
    /// is the group, nulls matching nulls); other columns are the key.
    Combine(Vec<(String, Combine)>),
}

/// How a stored value and an object's value for the same group become one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// The larger; a null takes the other.
    Greatest,
    /// The smaller; a null takes the other.
    Least,
    /// The sum; a null takes the other.
    Add,
}

impl Combine {
    fn expr(self, stored: Expr, new: Expr) -> Expr {
        let pick_new = match self {
            Combine::Greatest => stored.clone().is_null().or(new.clone().gt(stored.clone())),
            Combine::Least => stored.clone().is_null().or(new.clone().lt(stored.clone())),
            Combine::Add => {
                return when(stored.clone().is_null(), new.clone())
                    .when(new.clone().is_null(), stored.clone())
                    .otherwise(stored + new)
                    .expect("a CASE with branches");
            }
        };
        when(pick_new, new)
            .otherwise(stored)
            .expect("a CASE with branches")
    }
}

/// Why an object's rows cannot be a merge's source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(
        "the key ({key}) is on more than one row of the object; with on_duplicate_key = \"fail\" an object may hold a key once"
    )]
    DuplicateKey {
        /// `column=value` pairs.
        key: String,
    },
    #[error("the rows have no key column `{0}`")]
    MissingKey(String),
    #[error("the object's rows cannot be put together: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

/// An object's rows ready to merge: one batch, each key once, in the object's order.
#[derive(Debug)]
pub struct MergeSource {
    batch: RecordBatch,
    key: Vec<String>,
    /// Rows dropped because a later row had the same key.
    superseded: usize,
    /// Properties of the table, should this source create it.
    properties: Vec<(String, String)>,
}

impl MergeSource {
    /// Puts `batches` (whose columns may differ: later ones can bring new columns) into one,
    /// and keeps one row per `key` as `duplicates` says.
    pub fn new(
        batches: &[RecordBatch],
        key: &[String],
        duplicates: Duplicates,
    ) -> Result<MergeSource, SourceError> {
        let batch = union(batches)?;
        let schema = batch.schema();
        let columns: Vec<ArrayRef> = key
            .iter()
            .map(|k| {
                schema
                    .index_of(k)
                    .map(|i| batch.column(i).clone())
                    .map_err(|_| SourceError::MissingKey(k.clone()))
            })
            .collect::<Result<_, _>>()?;
        let converter = RowConverter::new(
            columns
                .iter()
                .map(|c| SortField::new(c.data_type().clone()))
                .collect(),
        )?;
        let rows = converter.convert_columns(&columns)?;
        let mut last: HashMap<arrow::row::Row<'_>, usize> = HashMap::with_capacity(rows.num_rows());
        for (i, row) in rows.iter().enumerate() {
            if last.insert(row, i).is_some() && duplicates == Duplicates::Refuse {
                let key = key
                    .iter()
                    .zip(&columns)
                    .map(|(k, c)| {
                        format!("{k}={}", array_value_to_string(c, i).unwrap_or_default())
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(SourceError::DuplicateKey { key });
            }
        }
        let superseded = batch.num_rows() - last.len();
        let batch = if superseded == 0 {
            batch
        } else {
            let mut kept: Vec<u32> = last.into_values().map(|i| i as u32).collect();
            kept.sort_unstable();
            take_record_batch(&batch, &UInt32Array::from(kept))?
        };
        Ok(MergeSource {
            batch,
            key: key.to_vec(),
            superseded,
            properties: Vec::new(),
        })
    }

    /// A property (Delta's `configuration`) the table gets if this source creates it.
    pub fn with_table_property(mut self, key: &str, value: String) -> Self {
        self.properties.push((key.to_owned(), value));
        self
    }

    /// The rows that will be merged.
    pub fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// Rows dropped because a later row of the object had the same key.
    pub fn superseded(&self) -> usize {
        self.superseded
    }
}

/// What a merge did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeReport {
    /// The table's version after the merge.
    pub version: i64,
    pub inserted: u64,
    pub updated: u64,
}

impl Table {
    /// Merges `source` into the table in one commit with `txn` and `info` (as [`Table::commit`]):
    /// rows whose key the table holds update it as `matched` says, the others are inserted.
    /// Columns the table lacks are added by the same commit. A table that does not exist yet
    /// is created with the rows.
    pub async fn merge(
        &mut self,
        source: MergeSource,
        matched: Matched,
        txn: AppTxn,
        info: serde_json::Map<String, serde_json::Value>,
    ) -> Result<MergeReport, TableError> {
        if self.version().is_none() {
            let rows = source.rows() as u64;
            let mut writer = self.writer(source.batch.schema())?;
            writer.write(&source.batch).await?;
            let staged = writer.finish().await?;
            let version = self
                .commit_with(
                    staged,
                    WriteMode::Append,
                    Some(txn),
                    info,
                    &source.properties,
                )
                .await?;
            return Ok(MergeReport {
                version,
                inserted: rows,
                updated: 0,
            });
        }
        self.refuse_committed(&txn).await?;
        let table_columns: std::collections::HashSet<String> = self
            .schema
            .iter()
            .flat_map(|s| s.fields().iter().map(|f| f.name().clone()))
            .collect();
        let of = |side: &str, name: &str| Expr::Column(Column::new(Some(side), name));
        // A rollup's group may have null dimensions, and must still find its stored row.
        let nulls_match = matches!(matched, Matched::Combine(_));
        let predicate = source
            .key
            .iter()
            .map(|k| {
                if nulls_match {
                    Expr::BinaryExpr(BinaryExpr::new(
                        Box::new(of("target", k)),
                        Operator::IsNotDistinctFrom,
                        Box::new(of("source", k)),
                    ))
                } else {
                    of("target", k).eq(of("source", k))
                }
            })
            .reduce(Expr::and)
            .expect("a merge has a key");
        let names: Vec<String> = source
            .batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let key = source.key.clone();
        let ctx = SessionContext::new();
        let frame = ctx
            .read_batch(source.batch)
            .map_err(|e| delta_error(&self.path, "read the rows to merge", e.into()))?;
        let properties = CommitProperties::default()
            .with_metadata(info)
            .with_create_checkpoint(false)
            .with_cleanup_expired_logs(Some(false))
            .with_application_transaction(Transaction::new(&txn.app_id, txn.version));
        let merged = self
            .delta
            .clone()
            .merge(frame, predicate)
            .with_source_alias("source")
            .with_target_alias("target")
            .with_merge_schema(true)
            .with_commit_properties(properties)
            .when_matched_update(|mut update| {
                if let Matched::Combine(columns) = &matched {
                    for (name, combine) in columns {
                        let value = combine.expr(of("target", name), of("source", name));
                        update = update.update(Column::new_unqualified(name), value);
                    }
                    return update;
                }
                for name in names.iter().filter(|n| !key.contains(n)) {
                    let value = match &matched {
                        Matched::SetNonNull if table_columns.contains(name) => {
                            coalesce(vec![of("source", name), of("target", name)])
                        }
                        _ => of("source", name),
                    };
                    update = update.update(Column::new_unqualified(name), value);
                }
                update
            })
            .and_then(|merge| {
                merge.when_not_matched_insert(|mut insert| {
                    for name in &names {
                        insert = insert.set(Column::new_unqualified(name), of("source", name));
                    }
                    insert
                })
            });
        let result = match merged {
            Ok(merge) => merge.await,
            Err(e) => Err(e),
        };
        let (table, metrics) = match result {
            Ok(done) => done,
            Err(source) => {
                self.txns.clear();
                return Err(commit_error(&self.path, source));
            }
        };
        self.delta = table;
        self.schema = self.current_schema()?;
        self.txns.insert(txn.app_id.clone(), txn.version);
        let version = self.version().unwrap_or(0);
        tracing::info!(
            table = %self.path.display(),
            version,
            inserted = metrics.num_target_rows_inserted,
            updated = metrics.num_target_rows_updated,
            copied = metrics.num_target_rows_copied,
            files_scanned = metrics.num_target_files_scanned,
            files_added = metrics.num_target_files_added,
            files_removed = metrics.num_target_files_removed,
            app_id = %txn.app_id,
            app_version = txn.version,
            "merged"
        );
        self.checkpoint_if_due(version).await;
        Ok(MergeReport {
            version,
            inserted: metrics.num_target_rows_inserted as u64,
            updated: metrics.num_target_rows_updated as u64,
        })
    }
}

/// The batches as one, with every column any of them has (null where one lacks it), in the
/// order they first appear.
fn union(batches: &[RecordBatch]) -> Result<RecordBatch, arrow::error::ArrowError> {
    let mut fields: Vec<Arc<Field>> = Vec::new();
    for batch in batches {
        for f in batch.schema().fields() {
            if !fields.iter().any(|known| known.name() == f.name()) {
                fields.push(Arc::new(f.as_ref().clone().with_nullable(true)));
            }
        }
    }
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let widened: Vec<RecordBatch> = batches
        .iter()
        .map(|b| {
            let columns = schema
                .fields()
                .iter()
                .map(|f| match b.schema().index_of(f.name()) {
                    Ok(i) => b.column(i).clone(),
                    Err(_) => new_null_array(f.data_type(), b.num_rows()),
                })
                .collect();
            RecordBatch::try_new(schema.clone(), columns)
        })
        .collect::<Result<_, _>>()?;
    concat_batches(&schema, &widened)
}

#[cfg(test)]
mod tests {
    use arrow::array::{Int64Array, StringArray};

    use super::*;

    fn batch(ids: &[&str], values: &[Option<i64>]) -> RecordBatch {
        RecordBatch::try_from_iter([
            ("id", Arc::new(StringArray::from(ids.to_vec())) as ArrayRef),
            ("v", Arc::new(Int64Array::from(values.to_vec())) as ArrayRef),
        ])
        .unwrap()
    }

    #[test]
    fn the_last_row_of_a_key_is_kept_in_the_objects_order() {
        let a = batch(&["p1", "p2"], &[Some(1), Some(2)]);
        let b = batch(&["p3", "p1"], &[Some(3), Some(4)]);
        let s = MergeSource::new(&[a, b], &["id".into()], Duplicates::KeepLast).unwrap();
        assert_eq!(s.superseded(), 1);
        let ids = s
            .batch
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        let vs = s
            .batch
            .column(1)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        assert_eq!(ids.iter().flatten().collect::<Vec<_>>(), ["p2", "p3", "p1"]);
        assert_eq!(vs.values(), &[2, 3, 4]);
    }

    #[test]
    fn a_repeated_key_is_named_when_refused() {
        let a = batch(&["p1", "p2", "p1"], &[Some(1), None, Some(2)]);
        let e = MergeSource::new(&[a], &["id".into()], Duplicates::Refuse).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the key (id=p1) is on more than one row of the object; with \
             on_duplicate_key = \"fail\" an object may hold a key once"
        );
    }

    #[test]
    fn later_batches_may_bring_columns() {
        let a = batch(&["p1"], &[Some(1)]);
        let b = RecordBatch::try_from_iter([
            ("id", Arc::new(StringArray::from(vec!["p2"])) as ArrayRef),
            ("w", Arc::new(StringArray::from(vec!["x"])) as ArrayRef),
        ])
        .unwrap();
        let s = MergeSource::new(&[a, b], &["id".into()], Duplicates::Refuse).unwrap();
        let names: Vec<_> = s
            .batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["id", "v", "w"]);
        assert_eq!(s.batch.column(2).null_count(), 1);
        let missing = MergeSource::new(
            std::slice::from_ref(&s.batch),
            &["nope".into()],
            Duplicates::Refuse,
        );
        assert!(matches!(missing, Err(SourceError::MissingKey(k)) if k == "nope"));
    }
}
