//! The validate step's row filter: every condition must hold, or the row is skipped by filter.
//! Comparisons are Arrow kernels against a literal cast to the column's type, so a whole batch
//! is filtered at once; a null never matches a comparison (as in SQL).

use arrow::array::{
    Array, ArrayRef, BooleanArray, Datum, Float64Array, Int64Array, RecordBatch, Scalar,
    StringArray,
};
use arrow::compute::kernels::cmp;
use arrow::compute::{and_kleene, cast, is_not_null, is_null};
use arrow::datatypes::DataType;

use super::MappingError;
use crate::workflow::{Condition, FilterOp};

/// The rows of `batch` that pass every condition (`true` = keep).
pub fn evaluate(
    conditions: &[Condition],
    batch: &RecordBatch,
) -> Result<BooleanArray, MappingError> {
    let mut keep = BooleanArray::from(vec![true; batch.num_rows()]);
    for cond in conditions {
        let mask = match batch.column_by_name(&cond.column) {
            // A column this object does not have is null in every row.
            None => match cond.op {
                FilterOp::IsNull => BooleanArray::from(vec![true; batch.num_rows()]),
                _ => BooleanArray::from(vec![false; batch.num_rows()]),
            },
            Some(column) => condition_mask(cond, column)?,
        };
        keep = and_kleene(&keep, &mask).map_err(MappingError::Arrow)?;
    }
    // Null (unknown) means "did not match".
    Ok(keep.iter().map(|v| Some(v == Some(true))).collect())
}

fn condition_mask(cond: &Condition, column: &ArrayRef) -> Result<BooleanArray, MappingError> {
    let filter = |message: String| MappingError::Filter {
        column: cond.column.clone(),
        message,
    };
    let literal = || -> Result<Scalar<ArrayRef>, MappingError> {
        let value = cond
            .value
            .as_ref()
            .ok_or_else(|| filter("comparison needs a value".into()))?;
        let one: ArrayRef = match value {
            toml::Value::String(s) => std::sync::Arc::new(StringArray::from(vec![s.as_str()])),
            toml::Value::Integer(i) => std::sync::Arc::new(Int64Array::from(vec![*i])),
            toml::Value::Float(f) => std::sync::Arc::new(Float64Array::from(vec![*f])),
            toml::Value::Boolean(b) => std::sync::Arc::new(BooleanArray::from(vec![*b])),
            other => return Err(filter(format!("unsupported filter value {other}"))),
        };
        let typed = cast(&one, column.data_type()).map_err(|e| {
            filter(format!(
                "value {value} does not fit the column ({}): {e}",
                column.data_type()
            ))
        })?;
        if typed.is_null(0) && !matches!(column.data_type(), DataType::Null) {
            return Err(filter(format!(
                "value {value} is not a valid {} for the column",
                column.data_type()
            )));
        }
        Ok(Scalar::new(typed))
    };
    let lhs: &dyn Datum = column;
    let result = match cond.op {
        FilterOp::IsNull => is_null(column),
        FilterOp::NotNull => is_not_null(column),
        FilterOp::Eq => cmp::eq(lhs, &literal()?),
        FilterOp::Ne => cmp::neq(lhs, &literal()?),
        FilterOp::Lt => cmp::lt(lhs, &literal()?),
        FilterOp::Le => cmp::lt_eq(lhs, &literal()?),
        FilterOp::Gt => cmp::gt(lhs, &literal()?),
        FilterOp::Ge => cmp::gt_eq(lhs, &literal()?),
    };
    result.map_err(|e| filter(e.to_string()))
}
