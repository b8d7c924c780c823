//! Arize-style embedding features: a vector column (with, optionally, the raw data it embeds
//! and a link to it) stored as one struct column named for the feature. Every vector of a
//! feature has one dimension — the one configured, or the first one the job sees — and a row
//! whose vector has another is skipped by error, naming the feature and the column.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StructArray, new_null_array};
use arrow::datatypes::{DataType, Field, Fields};

use super::{MappingError, cast_safely};
use crate::diagnostic::{RowDiagnostic, Severity};
use crate::workflow::EmbeddingFeature;

/// One feature, compiled.
#[derive(Debug, Clone)]
pub(super) struct Embedding {
    pub(super) name: String,
    pub(super) columns: EmbeddingFeature,
    /// The dimension every vector must have, once known (shared by the clones a job makes).
    dimension: Arc<OnceLock<usize>>,
}

/// The stored type of every embedding feature.
pub(super) fn fields() -> Fields {
    let vector = DataType::List(Arc::new(Field::new("element", DataType::Float32, true)));
    Fields::from(vec![
        Field::new("vector", vector, true),
        Field::new("data", DataType::Utf8, true),
        Field::new("link_to_data", DataType::Utf8, true),
    ])
}

impl Embedding {
    pub(super) fn new(name: &str, columns: &EmbeddingFeature) -> Self {
        let dimension = Arc::new(OnceLock::new());
        if let Some(d) = columns.dimension {
            let _ = dimension.set(d);
        }
        Embedding {
            name: name.to_owned(),
            columns: columns.clone(),
            dimension,
        }
    }

    /// The input columns this feature reads.
    pub(super) fn sources(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.columns.vector)
            .chain(self.columns.data.as_ref())
            .chain(self.columns.link_to_data.as_ref())
    }

    /// The feature's struct column for `batch`. Rows it cannot keep get their error in
    /// `errors` (the first problem of a row wins).
    pub(super) fn column(
        &self,
        batch: &RecordBatch,
        index: &HashMap<&str, usize>,
        rows: &[u64],
        errors: &mut [Option<RowDiagnostic>],
    ) -> Result<(Field, ArrayRef), MappingError> {
        let n = batch.num_rows();
        let fields = fields();
        let column = |name: &Option<String>| -> ArrayRef {
            match name.as_deref().and_then(|c| index.get(c)) {
                Some(&i) => cast_safely(batch.column(i), &DataType::Utf8),
                None => new_null_array(&DataType::Utf8, n),
            }
        };
        let diag = |i: usize, code: &str, message: String| RowDiagnostic {
            row: rows[i],
            line: None,
            column: Some(self.columns.vector.clone()),
            code: code.to_owned(),
            message,
            severity: Severity::Error,
        };
        let vector_type = fields[0].data_type().clone();
        let vectors = match index.get(self.columns.vector.as_str()) {
            Some(&i) => {
                let source = batch.column(i);
                if !matches!(
                    source.data_type(),
                    DataType::List(_) | DataType::FixedSizeList(..) | DataType::LargeList(_)
                ) {
                    for (i, slot) in errors.iter_mut().enumerate() {
                        slot.get_or_insert_with(|| {
                            diag(
                                i,
                                "invalid_embedding",
                                format!(
                                    "embedding `{}`: column `{}` is {}, not a list of numbers",
                                    self.name,
                                    self.columns.vector,
                                    source.data_type()
                                ),
                            )
                        });
                    }
                }
                cast_safely(source, &vector_type)
            }
            None => {
                for (i, slot) in errors.iter_mut().enumerate() {
                    slot.get_or_insert_with(|| {
                        diag(
                            i,
                            "missing_column",
                            format!(
                                "embedding `{}`: its vector column `{}` is missing",
                                self.name, self.columns.vector
                            ),
                        )
                    });
                }
                new_null_array(&vector_type, n)
            }
        };
        let list = vectors.as_list::<i32>();
        for (i, slot) in errors.iter_mut().enumerate().take(n) {
            if list.is_null(i) {
                continue;
            }
            let len = list.value_length(i) as usize;
            let want = *self.dimension.get_or_init(|| len);
            if len != want {
                slot.get_or_insert_with(|| {
                    diag(
                        i,
                        "embedding_dimension",
                        format!(
                            "embedding `{}`: vector `{}` has {len} values, expected {want}",
                            self.name, self.columns.vector
                        ),
                    )
                });
            }
        }
        let nulls = vectors.logical_nulls();
        let arrays = vec![
            vectors.clone(),
            column(&self.columns.data),
            column(&self.columns.link_to_data),
        ];
        let array = StructArray::try_new(fields.clone(), arrays, nulls)?;
        Ok((
            Field::new(&self.name, DataType::Struct(fields), true),
            Arc::new(array),
        ))
    }
}
