//! Reading a whole table back, for previews and tests: small tables only, everything in memory.

use std::collections::HashMap;
use std::path::Path;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, new_null_array};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use deltalake::logstore::object_store::ObjectStoreExt;
use deltalake::logstore::object_store::path::Path as ObjectPath;
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::error::TableError;
use super::{Table, delta_error};

/// Every row of the table at `path`, in batches shaped like the table's current schema (a
/// column added after a file was written reads as nulls in that file's rows). An absent table
/// has no rows.
pub async fn read_table(path: &Path) -> Result<Vec<RecordBatch>, TableError> {
    let table = Table::open(path).await?;
    let (Ok(state), Some(schema)) = (table.delta.snapshot(), table.schema.clone()) else {
        return Ok(Vec::new());
    };
    let files: Vec<_> = state
        .snapshot()
        .try_log_data()
        .map_err(|source| delta_error(&table.path, "list the data files", source))?
        .iter()
        .map(|f| {
            let deleted_rows = f.deletion_vector_descriptor().is_some();
            (f.path().into_owned(), f.object_store_path(), deleted_rows)
        })
        .collect();
    let mut batches = Vec::new();
    for (name, location, deleted_rows) in files {
        let fail = |source: Box<dyn std::error::Error + Send + Sync>| TableError::Read {
            path: table.path.clone(),
            file: name.clone(),
            source,
        };
        if deleted_rows {
            return Err(fail(
                "the file has a deletion vector, which this reader does not apply".into(),
            ));
        }
        for batch in data_file(&table, &name, &location, &schema).await? {
            batches.push(batch?);
        }
    }
    Ok(batches)
}

/// The batches of one data file (fetched whole), shaped like `schema` (see [`conform`]);
/// errors name the file.
pub(super) async fn data_file(
    table: &Table,
    name: &str,
    location: &ObjectPath,
    schema: &SchemaRef,
) -> Result<impl Iterator<Item = Result<RecordBatch, TableError>>, TableError> {
    let fail = |source: Box<dyn std::error::Error + Send + Sync>| TableError::Read {
        path: table.path.clone(),
        file: name.to_owned(),
        source,
    };
    let bytes = table
        .delta
        .object_store()
        .get(location)
        .await
        .map_err(|e| fail(e.into()))?
        .bytes()
        .await
        .map_err(|e| fail(e.into()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .and_then(|b| b.build())
        .map_err(|e| fail(e.into()))?;
    let schema = schema.clone();
    Ok(reader.map(move |batch| {
        batch
            .and_then(|b| conform(&schema, &b))
            .map_err(|e| fail(e.into()))
    }))
}

/// `batch` with `schema`'s columns, in its order: missing ones as nulls, a differently labelled
/// type (such as a timestamp's zone spelling) cast to the table's. Columns are matched through
/// a map (not `column_by_name`, a scan per column), so wide tables read in linear time.
fn conform(schema: &SchemaRef, batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let file_schema = batch.schema();
    let in_file: HashMap<&str, usize> = file_schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name().as_str(), i))
        .collect();
    let columns = schema
        .fields()
        .iter()
        .map(
            |field| match in_file.get(field.name().as_str()).map(|&i| batch.column(i)) {
                Some(c) if c.data_type() == field.data_type() => Ok(c.clone()),
                Some(c) => arrow::compute::cast(c, field.data_type()),
                None => Ok(new_null_array(field.data_type(), batch.num_rows())),
            },
        )
        .collect::<Result<Vec<ArrayRef>, _>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(schema.clone(), columns, &options)
}
