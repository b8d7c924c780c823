//! Polaris' rollup: an object's mapped rows grouped by `__time` (already floored to the
//! granularity) and the other non-aggregated columns, each aggregation computed per group by
//! DataFusion. The table then combines each group with the row it holds for it (see
//! [`Aggregate::combine`]), so after every job it holds exactly one row per group: a perfect
//! rollup.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::compute::concat_batches;
use deltalake::datafusion::common::{Column, DataFusionError};
use deltalake::datafusion::functions_aggregate::expr_fn::{count, max, min, sum};
use deltalake::datafusion::logical_expr::Expr;
use deltalake::datafusion::prelude::SessionContext;

/// The aggregations a rollup takes: those whose results combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Max,
    Min,
    Sum,
    Count,
}

/// How a stored group's value and a new one become the group's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// The larger (MAX of MAXes).
    Greatest,
    /// The smaller (MIN of MINs).
    Least,
    /// The sum (SUM of SUMs, and of COUNTs).
    Add,
}

impl Aggregate {
    /// How two results of this aggregation, over disjoint rows, combine into the result over
    /// both.
    pub fn combine(self) -> Combine {
        match self {
            Aggregate::Max => Combine::Greatest,
            Aggregate::Min => Combine::Least,
            Aggregate::Sum | Aggregate::Count => Combine::Add,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Aggregate::Max => "MAX",
            Aggregate::Min => "MIN",
            Aggregate::Sum => "SUM",
            Aggregate::Count => "COUNT",
        }
    }

    fn over(self, column: Expr) -> Expr {
        match self {
            Aggregate::Max => max(column),
            Aggregate::Min => min(column),
            Aggregate::Sum => sum(column),
            Aggregate::Count => count(column),
        }
    }
}

/// One aggregation mapping: its column holds, before the rollup, the argument's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measure {
    pub column: String,
    pub aggregate: Aggregate,
}

/// How one step's mappings roll up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupPlan {
    pub(super) granularity: String,
    /// `__time` and the other non-aggregated columns: what a group is.
    pub(super) dimensions: Vec<String>,
    pub(super) measures: Vec<Measure>,
    /// Every mapped column, in the mappings' order (the table's).
    pub(super) order: Vec<String>,
}

impl RollupPlan {
    /// The columns that make a group.
    pub fn dimensions(&self) -> &[String] {
        &self.dimensions
    }

    /// Each aggregated column and how a stored value combines with a new one.
    pub fn combines(&self) -> Vec<(String, Combine)> {
        self.measures
            .iter()
            .map(|m| (m.column.clone(), m.aggregate.combine()))
            .collect()
    }

    /// What a rollup table records of the rollup that made it: a later job whose rollup
    /// differs (another granularity, dimension or aggregation) would break the table's one
    /// row per group, and is refused.
    pub fn describe(&self) -> String {
        let measures: Vec<String> = self
            .measures
            .iter()
            .map(|m| format!("{}={}", m.column, m.aggregate.name()))
            .collect();
        format!(
            "granularity={}; dimensions={}; aggregations={}",
            self.granularity,
            self.dimensions.join(","),
            measures.join(",")
        )
    }

    /// One row per group of `batches` (mapped rows: measures hold their arguments), in the
    /// mappings' column order, sorted by the group.
    pub async fn aggregate(&self, batches: &[RecordBatch]) -> Result<RecordBatch, DataFusionError> {
        let ctx = SessionContext::new();
        let column = |name: &str| Expr::Column(Column::new_unqualified(name));
        let rows = ctx.read_batches(batches.iter().cloned())?;
        let grouped = rows.aggregate(
            self.dimensions.iter().map(|d| column(d)).collect(),
            self.measures
                .iter()
                .map(|m| m.aggregate.over(column(&m.column)).alias(&m.column))
                .collect(),
        )?;
        // In group order: a preview reads in time order, and the stored files are sorted by
        // `__time` (which lets a MERGE skip the files a later object's buckets miss).
        let ordered = grouped
            .select(self.order.iter().map(|c| column(c)).collect::<Vec<_>>())?
            .sort(
                self.dimensions
                    .iter()
                    .map(|d| column(d).sort(true, true))
                    .collect(),
            )?;
        let schema = Arc::new(ordered.schema().as_arrow().clone());
        let out = ordered.collect().await?;
        Ok(concat_batches(&schema, &out)?)
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringArray};
    use arrow::datatypes::Int64Type;

    use super::*;

    #[tokio::test]
    async fn groups_are_aggregated_across_batches_with_nulls_as_a_group() {
        let plan = RollupPlan {
            granularity: "minute".into(),
            dimensions: vec!["city".into()],
            measures: vec![
                Measure {
                    column: "longest".into(),
                    aggregate: Aggregate::Max,
                },
                Measure {
                    column: "n".into(),
                    aggregate: Aggregate::Count,
                },
            ],
            order: vec!["city".into(), "longest".into(), "n".into()],
        };
        let batch = |cities: Vec<Option<&str>>, lengths: Vec<i64>| {
            let ones = Int64Array::from(vec![1; lengths.len()]);
            RecordBatch::try_from_iter([
                ("city", Arc::new(StringArray::from(cities)) as ArrayRef),
                ("longest", Arc::new(Int64Array::from(lengths)) as ArrayRef),
                ("n", Arc::new(ones) as ArrayRef),
            ])
            .unwrap()
        };
        let a = batch(vec![Some("Paris"), None, Some("Lima")], vec![5, 7, 1]);
        let b = batch(vec![Some("Paris"), None], vec![9, 2]);
        let out = plan.aggregate(&[a, b]).await.unwrap();
        let mut rows: Vec<(Option<String>, i64, i64)> = (0..out.num_rows())
            .map(|i| {
                let city = out.column(0).as_string::<i32>();
                (
                    city.is_valid(i).then(|| city.value(i).to_owned()),
                    out.column(1).as_primitive::<Int64Type>().value(i),
                    out.column(2).as_primitive::<Int64Type>().value(i),
                )
            })
            .collect();
        rows.sort();
        assert_eq!(
            rows,
            [
                (None, 7, 2),
                (Some("Lima".into()), 1, 1),
                (Some("Paris".into()), 9, 2)
            ]
        );
        assert_eq!(
            plan.describe(),
            "granularity=minute; dimensions=city; aggregations=longest=MAX,n=COUNT"
        );
    }
}
