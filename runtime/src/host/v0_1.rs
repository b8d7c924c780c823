//! The one adapter for plugins built against `ferry:plugin@0.1.0` (frozen in `wit/v0.1`):
//! its `host` functions answered by the 0.2 ones, and its records turned into 0.2 records at
//! the edge, so everything past this file knows only 0.2.
//!
//! 0.1 had streaming parsers, sources and predictors with five column types (a subset of
//! 0.2's); deployers did not exist outside this repository, so only those three kinds load.

use super::batch::BatchError;
use super::bindings::v0_1::{host_api as host01, wit as wit01};
use super::bindings::{host_api, wit};
use super::state::PluginState;

/// The kinds of plugin a 0.1 component may be.
pub(crate) const KINDS: &[super::PluginKind] = &[
    super::PluginKind::Parser,
    super::PluginKind::Source,
    super::PluginKind::Predictor,
];

impl wit01::Host for PluginState {}

impl host01::Host for PluginState {
    fn log(&mut self, level: host01::Level, message: String) {
        let level = match level {
            host01::Level::Trace => host_api::Level::Trace,
            host01::Level::Debug => host_api::Level::Debug,
            host01::Level::Info => host_api::Level::Info,
            host01::Level::Warn => host_api::Level::Warn,
            host01::Level::Error => host_api::Level::Error,
        };
        host_api::Host::log(self, level, message)
    }

    fn progress(&mut self, done: u64, total: Option<u64>) {
        host_api::Host::progress(self, done, total)
    }

    fn setting(&mut self, name: String) -> Option<String> {
        host_api::Host::setting(self, name)
    }

    fn setting_names(&mut self) -> Vec<String> {
        host_api::Host::setting_names(self)
    }
}

pub(crate) fn error(e: wit01::Error) -> wit::Error {
    wit::Error {
        code: e.code,
        message: e.message,
        row: e.row,
    }
}

pub(crate) fn list_page(
    objects: Vec<wit01::ObjectInfo>,
    next_cursor: Option<String>,
) -> super::bindings::source::exports::ferry::plugin::source::ListPage {
    super::bindings::source::exports::ferry::plugin::source::ListPage {
        objects: objects
            .into_iter()
            .map(|o| wit::ObjectInfo {
                key: o.key,
                size: o.size,
                etag: o.etag,
                last_modified: o.last_modified,
            })
            .collect(),
        next_cursor,
    }
}

/// A 0.1 diagnostic: row 0 (the header) was a warning, any other row was skipped.
fn diagnostic(d: wit01::Diagnostic) -> wit::Diagnostic {
    wit::Diagnostic {
        effect: if d.row == 0 {
            wit::Effect::Warning
        } else {
            wit::Effect::RowSkipped
        },
        row: d.row,
        line: d.line,
        column: d.column,
        code: d.code,
        message: d.message,
    }
}

pub(crate) fn output(
    batches: Vec<wit01::Batch>,
    diagnostics: Vec<wit01::Diagnostic>,
) -> wit::Output {
    wit::Output {
        batches: batches.into_iter().map(batch).collect(),
        diagnostics: diagnostics.into_iter().map(diagnostic).collect(),
    }
}

pub(crate) fn batch(b: wit01::Batch) -> wit::Batch {
    let columns = b
        .columns
        .into_iter()
        .map(|c| wit::Column {
            name: c.name,
            validity: c.validity,
            values: match c.values {
                wit01::ColumnValues::Boolean(v) => wit::ColumnValues::Boolean(v),
                wit01::ColumnValues::Int64(v) => wit::ColumnValues::Int64(v),
                wit01::ColumnValues::Float64(v) => wit::ColumnValues::Float64(v),
                wit01::ColumnValues::TimestampMicros(values) => {
                    wit::ColumnValues::Timestamp(wit::TimestampValues {
                        unit: wit::TimeUnit::Microsecond,
                        timezone: Some("UTC".into()),
                        values,
                    })
                }
                wit01::ColumnValues::Utf8(b) => wit::ColumnValues::Utf8(wit::ByteBuffer {
                    offsets: b.offsets,
                    bytes: b.bytes,
                }),
            },
        })
        .collect();
    wit::Batch {
        num_rows: b.num_rows,
        row_numbers: b.row_numbers,
        columns,
    }
}

/// A 0.2 batch for a 0.1 predictor: only the five types 0.1 knew pass.
pub(crate) fn batch_for_v0_1(b: wit::Batch) -> Result<wit01::Batch, BatchError> {
    let columns = b
        .columns
        .into_iter()
        .map(|c| {
            let values = match c.values {
                wit::ColumnValues::Boolean(v) => wit01::ColumnValues::Boolean(v),
                wit::ColumnValues::Int64(v) => wit01::ColumnValues::Int64(v),
                wit::ColumnValues::Float64(v) => wit01::ColumnValues::Float64(v),
                wit::ColumnValues::Timestamp(wit::TimestampValues {
                    unit: wit::TimeUnit::Microsecond,
                    values,
                    ..
                }) => wit01::ColumnValues::TimestampMicros(values),
                wit::ColumnValues::Utf8(b) => wit01::ColumnValues::Utf8(wit01::Utf8Buffer {
                    offsets: b.offsets,
                    bytes: b.bytes,
                }),
                other => {
                    return Err(BatchError::Unsupported {
                        column: c.name,
                        data_type: format!("{} (a ferry:plugin@0.1.0 predictor)", kind(&other)),
                    });
                }
            };
            Ok(wit01::Column {
                name: c.name,
                validity: c.validity,
                values,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(wit01::Batch {
        num_rows: b.num_rows,
        row_numbers: b.row_numbers,
        columns,
    })
}

fn kind(values: &wit::ColumnValues) -> &'static str {
    use wit::ColumnValues as V;
    match values {
        V::Boolean(_) => "boolean",
        V::Int32(_) => "int32",
        V::Int64(_) => "int64",
        V::Float32(_) => "float32",
        V::Float64(_) => "float64",
        V::Utf8(_) => "utf8",
        V::Binary(_) => "binary",
        V::Date32(_) => "date32",
        V::Timestamp(_) => "a timestamp",
        V::Decimal128(_) => "decimal128",
        V::List(_) => "a list",
        V::FixedSizeList(_) => "a fixed-size list",
        V::Struct(_) => "a struct",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v0_1_batch_becomes_the_same_rows_in_0_2() {
        let old = wit01::Batch {
            num_rows: 2,
            row_numbers: vec![1, 3],
            columns: vec![
                wit01::Column {
                    name: "at".into(),
                    validity: Some(vec![0b01]),
                    values: wit01::ColumnValues::TimestampMicros(vec![1_000_000, 0]),
                },
                wit01::Column {
                    name: "s".into(),
                    validity: None,
                    values: wit01::ColumnValues::Utf8(wit01::Utf8Buffer {
                        offsets: vec![0, 1, 3],
                        bytes: b"abc".to_vec(),
                    }),
                },
            ],
        };
        let rows = super::super::batch::to_record_batch(batch(old)).unwrap();
        assert_eq!(rows.rows, vec![1, 3]);
        assert_eq!(
            rows.batch.schema().field(0).data_type(),
            &arrow::datatypes::DataType::Timestamp(
                arrow::datatypes::TimeUnit::Microsecond,
                Some("UTC".into())
            )
        );
        assert_eq!(rows.batch.column(0).null_count(), 1);
        let back = batch_for_v0_1(
            super::super::batch::from_record_batch(&rows.batch, &rows.rows).unwrap(),
        )
        .unwrap();
        assert_eq!(back.columns.len(), 2);
        assert!(matches!(
            back.columns[0].values,
            wit01::ColumnValues::TimestampMicros(ref v) if v == &[1_000_000, 0]
        ));
    }
}
