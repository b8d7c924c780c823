//! The validate step, run by the host on Arrow batches: maps source columns to roles
//! (Arize-style `prediction_id`, `timestamp`, labels, scores, feature/tag/SHAP prefixes), types
//! them, enforces required columns, applies the filter, and lines each batch up with the
//! table's schema. Every rejected row gets a diagnostic naming its row and field.
//!
//! Columns are found by name through hash maps built once per batch, never by scanning a
//! schema per column: a batch may have tens of thousands of columns, and a scan per column made
//! mapping such a batch quadratic.

mod embedding;
mod expression;
mod filter;
pub mod functions;
mod joda;
mod period;
mod rollup;
mod sql;
mod timestamp;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, new_null_array};
use arrow::compute::{CastOptions, cast_with_options, filter_record_batch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::util::display::array_value_to_string;

pub use expression::ExpressionError;
pub use rollup::{Combine, RollupPlan};
pub use timestamp::TimestampFormat;

/// Why a mapping could not be built or applied to a batch (row problems are diagnostics, not
/// errors: they skip or warn on their row).
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("{0}")]
    Timestamp(String),
    #[error("filter on `{column}`: {message}")]
    Filter { column: String, message: String },
    /// Every mapping whose expression cannot be planned, each with its reason.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Expressions(Vec<ExpressionError>),
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
}

use crate::diagnostic::{RowDiagnostic, Severity};
use crate::rows::RowBatch;
use crate::workflow::{ColumnType, Condition, ValidateStep};

/// How one output column is made from the input.
#[derive(Debug, Clone)]
struct Rule {
    source: String,
    name: String,
    /// `None` keeps the parser's type.
    ty: Option<DataType>,
    required: bool,
    timestamp: Option<TimestampFormat>,
}

/// A compiled validate step (or the identity, for workflows without one).
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    roles: Vec<Rule>,
    prefixes: Vec<(String, Option<DataType>)>,
    columns: BTreeMap<String, (DataType, bool)>,
    filter: Vec<Condition>,
    embeddings: Vec<embedding::Embedding>,
    /// Polaris-style mappings; `columns` then holds their typed input.
    expressions: Option<Arc<expression::Expressions>>,
    /// A merge's key columns: a row without one cannot be merged, and is skipped by error.
    keys: Vec<String>,
    passthrough: bool,
}

/// A batch's columns made by the rules, before the filter, with each row's first error and
/// first warning.
struct Conformed {
    fields: Vec<Field>,
    arrays: Vec<ArrayRef>,
    errors: Vec<Option<RowDiagnostic>>,
    warnings: Vec<Option<RowDiagnostic>>,
}

/// The outcome of mapping one batch.
#[derive(Debug)]
pub struct Mapped {
    /// The rows to store, typed and in table order.
    pub batch: RecordBatch,
    pub rows_in: u64,
    pub rows_with_warning: u64,
    pub skipped_by_filter: u64,
    pub skipped_by_error: u64,
    pub diagnostics: Vec<RowDiagnostic>,
}

pub fn data_type(ty: &ColumnType) -> DataType {
    match ty {
        ColumnType::Utf8 => DataType::Utf8,
        ColumnType::Int32 => DataType::Int32,
        ColumnType::Int64 => DataType::Int64,
        ColumnType::Float32 => DataType::Float32,
        ColumnType::Float64 => DataType::Float64,
        ColumnType::Boolean => DataType::Boolean,
        ColumnType::Date => DataType::Date32,
        ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        ColumnType::Binary => DataType::Binary,
        ColumnType::Decimal { precision, scale } => DataType::Decimal128(*precision, *scale),
        ColumnType::List(item) => {
            DataType::List(Arc::new(Field::new("element", data_type(item), true)))
        }
    }
}

impl Mapping {
    /// Passes every column through with the parser's types.
    pub fn identity() -> Self {
        Mapping {
            passthrough: true,
            ..Default::default()
        }
    }

    pub fn new(step: &ValidateStep) -> Result<Self, MappingError> {
        if !step.mappings.is_empty() || step.sql.is_some() {
            let planned = match &step.sql {
                Some(sql) => {
                    expression::Expressions::plan_sql(&step.input_schema, sql, step.rollup.as_ref())
                }
                None => expression::Expressions::plan(
                    &step.input_schema,
                    &step.mappings,
                    step.rollup.as_ref(),
                ),
            }
            .map_err(MappingError::Expressions)?;
            return Ok(Mapping {
                columns: step
                    .input_schema
                    .iter()
                    .map(|(name, ty)| (name.clone(), (data_type(ty), false)))
                    .collect(),
                filter: step.filter.clone(),
                expressions: Some(Arc::new(planned)),
                ..Default::default()
            });
        }
        let s = &step.schema;
        let role = |source: &Option<String>, name: &str, ty: DataType, required: bool| {
            source.as_ref().map(|source| Rule {
                source: source.clone(),
                name: name.to_owned(),
                ty: Some(ty),
                required,
                timestamp: None,
            })
        };
        let timestamp = match &s.timestamp {
            Some(ts) => Some(Rule {
                source: ts.column().to_owned(),
                name: "timestamp".into(),
                ty: Some(data_type(&ColumnType::Timestamp)),
                required: true,
                timestamp: Some(
                    TimestampFormat::parse(ts.format()).map_err(MappingError::Timestamp)?,
                ),
            }),
            None => None,
        };
        let roles: Vec<Rule> = [
            role(&s.prediction_id, "prediction_id", DataType::Utf8, true),
            timestamp,
            role(
                &s.prediction_label,
                "prediction_label",
                DataType::Utf8,
                false,
            ),
            role(
                &s.prediction_score,
                "prediction_score",
                DataType::Float64,
                false,
            ),
            role(&s.actual_label, "actual_label", DataType::Utf8, false),
            role(&s.actual_score, "actual_score", DataType::Float64, false),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut prefixes = Vec::new();
        if let Some(p) = &s.feature_prefix {
            prefixes.push((p.clone(), None));
        }
        if let Some(p) = &s.tag_prefix {
            prefixes.push((p.clone(), Some(DataType::Utf8)));
        }
        if let Some(p) = &s.shap_prefix {
            prefixes.push((p.clone(), Some(DataType::Float64)));
        }
        let columns = step
            .columns
            .iter()
            .map(|(name, rule)| (name.clone(), (data_type(&rule.ty), rule.required)))
            .collect();
        Ok(Mapping {
            roles,
            prefixes,
            columns,
            filter: step.filter.clone(),
            embeddings: s
                .embedding_features
                .iter()
                .map(|(name, columns)| embedding::Embedding::new(name, columns))
                .collect(),
            expressions: None,
            keys: Vec::new(),
            passthrough: false,
        })
    }

    /// The rollup its mappings make, if they aggregate: the rows `apply` gives are then
    /// aggregated per object by it (their aggregation columns hold what is aggregated).
    pub fn rollup(&self) -> Option<&Arc<RollupPlan>> {
        self.expressions.as_ref().and_then(|e| e.rollup())
    }

    /// Requires every row to have each of `keys` (a merge's key columns), skipping by error a
    /// row that lacks one.
    pub fn with_keys(mut self, keys: &[String]) -> Self {
        self.keys = keys.to_vec();
        self
    }

    /// The input columns this mapping reads, so that a file parser can skip the others; `None`
    /// when it cannot say (every column passes, or prefixes pick them by name).
    pub fn input_columns(&self) -> Option<Vec<String>> {
        if self.passthrough || !self.prefixes.is_empty() {
            return None;
        }
        if self.expressions.is_some() {
            // The filter is on mapped columns, which the input need not have.
            return Some(self.columns.keys().cloned().collect());
        }
        let mut names: Vec<String> = self
            .roles
            .iter()
            .map(|r| r.source.clone())
            .chain(self.columns.keys().cloned())
            .chain(self.filter.iter().map(|c| c.column.clone()))
            .chain(self.embeddings.iter().flat_map(|e| e.sources().cloned()))
            .collect();
        names.sort();
        names.dedup();
        Some(names)
    }

    /// The output rules for a batch with these input columns.
    fn rules(&self, input: &Schema) -> Vec<Rule> {
        if self.passthrough {
            return input
                .fields()
                .iter()
                .map(|f| Rule {
                    source: f.name().clone(),
                    name: f.name().clone(),
                    ty: None,
                    required: false,
                    timestamp: None,
                })
                .collect();
        }
        let mut rules = self.roles.clone();
        // Input names are distinct (the host refuses a batch that repeats one), so only the
        // roles can already have claimed a column.
        let by_role: HashSet<&str> = self.roles.iter().map(|r| r.source.as_str()).collect();
        for field in input.fields() {
            let name = field.name();
            if by_role.contains(name.as_str()) {
                continue;
            }
            let declared = self.columns.get(name);
            let by_prefix = self
                .prefixes
                .iter()
                .find(|(p, _)| name.starts_with(p.as_str()));
            if declared.is_none() && by_prefix.is_none() {
                continue;
            }
            let ty = declared
                .map(|(t, _)| t.clone())
                .or_else(|| by_prefix.and_then(|(_, t)| t.clone()));
            rules.push(Rule {
                source: name.clone(),
                name: name.clone(),
                timestamp: matches!(ty, Some(DataType::Timestamp(..)))
                    .then_some(TimestampFormat::Rfc3339),
                ty,
                required: declared.is_some_and(|(_, r)| *r),
            });
        }
        // Declared columns the object lacks: null, and an error per row when required.
        let named: HashSet<String> = rules.iter().map(|r| r.name.clone()).collect();
        for (name, (ty, required)) in &self.columns {
            if !named.contains(name) {
                rules.push(Rule {
                    source: name.clone(),
                    name: name.clone(),
                    ty: Some(ty.clone()),
                    required: *required,
                    timestamp: None,
                });
            }
        }
        rules
    }

    /// Maps one decoded batch. `table` is the schema the rows must fit (the table's, or the one
    /// this job established); columns it has that the batch lacks come out null.
    pub fn apply(
        &self,
        input: &RowBatch,
        table: Option<&SchemaRef>,
    ) -> Result<Mapped, MappingError> {
        let n = input.batch.num_rows();
        let Some(expressions) = &self.expressions else {
            let mut conformed = self.conform(input, table)?;
            if let Some(table) = table {
                conformed.line_up(table);
            }
            conformed.require_keys(&self.keys, &input.rows);
            return self.keep(conformed, n, None);
        };
        // The typed input, in the order the planned expressions read it.
        let typed = self.conform(input, None)?;
        let index: HashMap<&str, usize> = typed
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name().as_str(), i))
            .collect();
        let columns = expressions
            .input()
            .fields()
            .iter()
            .map(|f| typed.arrays[index[f.name().as_str()]].clone())
            .collect();
        let batch = RecordBatch::try_new_with_options(
            expressions.input().clone(),
            columns,
            &arrow::array::RecordBatchOptions::new().with_row_count(Some(n)),
        )?;
        let (condition, mut failures) = match expressions.condition(&batch) {
            Some((passes, failures)) => (Some(passes), failures),
            None => (None, Vec::new()),
        };
        let (arrays, more) = expressions.evaluate(&batch);
        failures.extend(more);
        let mut mapped = Conformed {
            fields: expressions
                .output()
                .fields()
                .iter()
                .map(|f| f.as_ref().clone())
                .collect(),
            arrays,
            errors: typed.errors,
            warnings: typed.warnings,
        };
        for failure in failures {
            mapped.errors[failure.index].get_or_insert_with(|| RowDiagnostic {
                row: input.rows[failure.index],
                line: None,
                column: Some(failure.column),
                code: "expression_failed".into(),
                message: failure.message,
                severity: Severity::Error,
            });
        }
        // A rollup's rows are not the table's yet (an aggregation column holds what is
        // aggregated): they fit the table once aggregated.
        if let Some(table) = table
            && expressions.rollup().is_none()
        {
            mapped.fit_types(table, &input.rows);
            mapped.line_up(table);
        }
        mapped.require_keys(&self.keys, &input.rows);
        self.keep(mapped, n, condition.as_ref())
    }

    /// Makes the rules' columns of one batch.
    fn conform(
        &self,
        input: &RowBatch,
        table: Option<&SchemaRef>,
    ) -> Result<Conformed, MappingError> {
        let batch = &input.batch;
        let n = batch.num_rows();
        let mut errors: Vec<Option<RowDiagnostic>> = vec![None; n];
        let mut warnings: Vec<Option<RowDiagnostic>> = vec![None; n];
        let mut fields = Vec::new();
        let mut arrays: Vec<ArrayRef> = Vec::new();
        let diag = |i: usize, column: &str, code: &str, message: String, severity| RowDiagnostic {
            row: input.rows[i],
            line: None,
            column: Some(column.to_owned()),
            code: code.to_owned(),
            message,
            severity,
        };

        let input_schema = batch.schema_ref();
        let input_index = index_by_name(input_schema);
        let table_index = table.map(|t| index_by_name(t)).unwrap_or_default();
        for rule in self.rules(input_schema) {
            let table_type = table
                .zip(table_index.get(rule.name.as_str()))
                .map(|(t, &i)| t.field(i).data_type().clone());
            let target = table_type.clone().or(rule.ty.clone());
            let source = input_index
                .get(rule.source.as_str())
                .map(|&i| batch.column(i));
            let Some(source) = source else {
                if rule.required {
                    for (i, slot) in errors.iter_mut().enumerate() {
                        slot.get_or_insert_with(|| {
                            diag(
                                i,
                                &rule.source,
                                "missing_column",
                                format!("required column `{}` is missing", rule.source),
                                Severity::Error,
                            )
                        });
                    }
                }
                let ty = target.unwrap_or(DataType::Utf8);
                fields.push(Field::new(&rule.name, ty.clone(), true));
                arrays.push(new_null_array(&ty, n));
                continue;
            };
            let converted = match (&target, &rule.timestamp) {
                (Some(DataType::Timestamp(..)), Some(format)) => format.convert(source),
                (Some(DataType::Timestamp(..)), None) => TimestampFormat::Rfc3339.convert(source),
                (Some(ty), _) if ty != source.data_type() => cast_safely(source, ty),
                _ => source.clone(),
            };
            for i in 0..n {
                let failed = source.is_valid(i) && converted.is_null(i);
                let missing = source.is_null(i) && rule.required;
                if !(failed || missing) {
                    continue;
                }
                let shown = || truncate(&array_value_to_string(source, i).unwrap_or_default());
                let (code, message) = if missing {
                    (
                        "missing_required",
                        format!("required column `{}` is empty", rule.source),
                    )
                } else {
                    let ty = converted.data_type();
                    match &rule.timestamp {
                        Some(format) if matches!(ty, DataType::Timestamp(..)) => (
                            "invalid_timestamp",
                            format!("`{}` is not a {format:?} timestamp", shown()),
                        ),
                        _ => (
                            "invalid_value",
                            format!("`{}` is not a valid {}", shown(), type_name(ty)),
                        ),
                    }
                };
                if rule.required {
                    errors[i].get_or_insert_with(|| {
                        diag(i, &rule.source, code, message, Severity::Error)
                    });
                } else {
                    warnings[i].get_or_insert_with(|| {
                        diag(
                            i,
                            &rule.source,
                            code,
                            format!("{message}; stored as null"),
                            Severity::Warning,
                        )
                    });
                }
            }
            fields.push(Field::new(&rule.name, converted.data_type().clone(), true));
            arrays.push(converted);
        }

        for feature in &self.embeddings {
            let (field, array) = feature.column(batch, &input_index, &input.rows, &mut errors)?;
            fields.push(field);
            arrays.push(array);
        }

        Ok(Conformed {
            fields,
            arrays,
            errors,
            warnings,
        })
    }

    /// The filter (and the `sql` form's `WHERE`, already evaluated on the input), then each
    /// row kept, or skipped by its error or by the filter.
    fn keep(
        &self,
        conformed: Conformed,
        n: usize,
        condition: Option<&BooleanArray>,
    ) -> Result<Mapped, MappingError> {
        let Conformed {
            fields,
            arrays,
            mut errors,
            mut warnings,
        } = conformed;
        let mapped = RecordBatch::try_new_with_options(
            Arc::new(Schema::new(fields)),
            arrays,
            &arrow::array::RecordBatchOptions::new().with_row_count(Some(n)),
        )
        .map_err(MappingError::Arrow)?;

        let passes = filter::evaluate(&self.filter, &mapped)?;
        let mut keep = Vec::with_capacity(n);
        let mut result = Mapped {
            batch: mapped.slice(0, 0),
            rows_in: n as u64,
            rows_with_warning: 0,
            skipped_by_filter: 0,
            skipped_by_error: 0,
            diagnostics: Vec::new(),
        };
        for i in 0..n {
            if let Some(error) = errors[i].take() {
                result.skipped_by_error += 1;
                result.diagnostics.push(error);
                keep.push(false);
            } else if !passes.value(i) || condition.is_some_and(|c| !c.value(i)) {
                result.skipped_by_filter += 1;
                keep.push(false);
            } else {
                if let Some(warning) = warnings[i].take() {
                    result.rows_with_warning += 1;
                    result.diagnostics.push(warning);
                }
                keep.push(true);
            }
        }
        result.batch =
            filter_record_batch(&mapped, &BooleanArray::from(keep)).map_err(MappingError::Arrow)?;
        Ok(result)
    }
}

impl Conformed {
    /// A row whose key column is null (or absent) gets an error: a merge cannot place it.
    fn require_keys(&mut self, keys: &[String], rows: &[u64]) {
        for key in keys {
            let array = self
                .fields
                .iter()
                .position(|f| f.name() == key)
                .map(|i| &self.arrays[i]);
            for (i, slot) in self.errors.iter_mut().enumerate() {
                if array.is_some_and(|a| a.is_valid(i)) {
                    continue;
                }
                slot.get_or_insert_with(|| RowDiagnostic {
                    row: rows[i],
                    line: None,
                    column: Some(key.clone()),
                    code: "missing_key".into(),
                    message: format!(
                        "merge key column `{key}` is {}: a merge needs every key column to \
                         place the row",
                        if array.is_some() { "empty" } else { "missing" }
                    ),
                    severity: Severity::Error,
                });
            }
        }
    }

    /// Table columns this batch does not have come out null, and all in the table's order.
    fn line_up(&mut self, table: &SchemaRef) {
        let table_index = index_by_name(table);
        let n = self.errors.len();
        let present: HashSet<String> = self.fields.iter().map(|f| f.name().clone()).collect();
        for field in table.fields() {
            if !present.contains(field.name()) {
                self.fields
                    .push(Field::new(field.name(), field.data_type().clone(), true));
                self.arrays.push(new_null_array(field.data_type(), n));
            }
        }
        let position = |name: &str| table_index.get(name).copied().unwrap_or(usize::MAX);
        let mut order: Vec<usize> = (0..self.fields.len()).collect();
        order.sort_by_key(|&i| position(self.fields[i].name()));
        self.fields = order.iter().map(|&i| self.fields[i].clone()).collect();
        self.arrays = order.iter().map(|&i| self.arrays[i].clone()).collect();
    }

    /// Casts mapped columns to the table's types where they differ; a value that does not
    /// fit is stored as null, with a warning on its row.
    fn fit_types(&mut self, table: &SchemaRef, rows: &[u64]) {
        let table_index = index_by_name(table);
        for (field, array) in self.fields.iter_mut().zip(self.arrays.iter_mut()) {
            let Some(&i) = table_index.get(field.name().as_str()) else {
                continue;
            };
            let want = table.field(i).data_type();
            if want == array.data_type() {
                continue;
            }
            let cast = cast_safely(array, want);
            for (row, &source_row) in rows.iter().enumerate() {
                if array.is_valid(row) && cast.is_null(row) {
                    let shown = truncate(&array_value_to_string(array, row).unwrap_or_default());
                    self.warnings[row].get_or_insert_with(|| RowDiagnostic {
                        row: source_row,
                        line: None,
                        column: Some(field.name().clone()),
                        code: "invalid_value".into(),
                        message: format!(
                            "`{shown}` does not fit the table's {} column `{}`; stored as null",
                            type_name(want),
                            field.name()
                        ),
                        severity: Severity::Warning,
                    });
                }
            }
            *field = Field::new(field.name(), want.clone(), true);
            *array = cast;
        }
    }
}

/// Each column's index by name (Arrow's `index_of` scans the fields).
fn index_by_name(schema: &Schema) -> HashMap<&str, usize> {
    schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name().as_str(), i))
        .collect()
}

fn cast_safely(array: &ArrayRef, to: &DataType) -> ArrayRef {
    let options = CastOptions {
        safe: true,
        ..Default::default()
    };
    cast_with_options(array, to, &options).unwrap_or_else(|_| new_null_array(to, array.len()))
}

fn type_name(ty: &DataType) -> String {
    match ty {
        DataType::Utf8 => "string".into(),
        DataType::Int32 => "int32".into(),
        DataType::Int64 => "int64".into(),
        DataType::Float32 => "float32".into(),
        DataType::Float64 => "float64".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Date32 => "date".into(),
        DataType::Timestamp(..) => "timestamp".into(),
        DataType::Binary => "binary".into(),
        DataType::Decimal128(p, s) => format!("decimal({p},{s})"),
        DataType::List(item) | DataType::FixedSizeList(item, _) => {
            format!("list of {}", type_name(item.data_type()))
        }
        _ => "value of the column's type".into(),
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests;
