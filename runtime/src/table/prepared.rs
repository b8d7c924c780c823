//! A parameterised query over table snapshots — what a SQL service endpoint answers (Dataiku's
//! SQL query endpoint). It is planned once, when its package is built and again when a node
//! loads it: the statement must be a query, every `$name` in it a declared parameter and every
//! declared parameter used, and the answer's columns are known before any request. Each
//! request then runs the plan with its values in place of the parameters, within the limits —
//! values are bound into the plan as typed literals, never spliced into the SQL text.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use deltalake::datafusion::common::ParamValues;
use deltalake::datafusion::datasource::MemTable;
use deltalake::datafusion::prelude::{DataFrame, ParquetReadOptions};
use deltalake::datafusion::scalar::ScalarValue;

use super::query::{Answer, QueryError, QueryLimits, classify, collect, known_tables, plan};
use super::query::{session, within};

/// The rows a prepared query reads as one table.
pub enum Snapshot {
    /// Rows in memory (a package being built).
    Batches(SchemaRef, Vec<RecordBatch>),
    /// A Parquet file (a package unpacked on a node).
    Parquet(PathBuf),
}

/// A query planned over its snapshots, ready to run with values for its parameters.
pub struct PreparedQuery {
    frame: DataFrame,
    schema: SchemaRef,
    limits: QueryLimits,
    known: String,
}

impl std::fmt::Debug for PreparedQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedQuery")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl PreparedQuery {
    /// Plans `sql` over `tables` with `parameters` (name → type, used as `$name`).
    pub async fn new(
        tables: Vec<(String, Snapshot)>,
        sql: &str,
        parameters: BTreeMap<String, DataType>,
        limits: QueryLimits,
    ) -> Result<PreparedQuery, QueryError> {
        let ctx = session(&limits)?;
        let mut names = Vec::new();
        for (name, snapshot) in tables {
            let unreadable = |e: &dyn std::fmt::Display| QueryError::Unreadable {
                table: name.clone(),
                message: e.to_string(),
            };
            match snapshot {
                Snapshot::Batches(schema, batches) => {
                    let provider =
                        MemTable::try_new(schema, vec![batches]).map_err(|e| unreadable(&e))?;
                    ctx.register_table(name.as_str(), Arc::new(provider))
                        .map_err(|e| unreadable(&e))?;
                }
                Snapshot::Parquet(path) => {
                    let path = path
                        .to_str()
                        .ok_or_else(|| unreadable(&"a path that is not UTF-8"))?;
                    ctx.register_parquet(name.as_str(), path, ParquetReadOptions::default())
                        .await
                        .map_err(|e| unreadable(&e))?;
                }
            }
            names.push(name);
        }
        let known = known_tables(&names);
        let frame = within(&limits, plan(&ctx, sql, &limits, &known)).await?;
        let used = frame
            .logical_plan()
            .get_parameter_names()
            .map_err(|e| classify(e, &limits, &known))?;
        check_parameters(&used, &parameters)?;
        // Planned to the end with a sample value of each type: a type error shows now, and
        // the answer's columns are known before the first request.
        let samples = parameters
            .iter()
            .map(|(name, ty)| Ok((name.clone(), sample(name, ty)?)))
            .collect::<Result<Vec<_>, QueryError>>()?;
        let checked = frame
            .clone()
            .with_param_values(samples)
            .map_err(|e| classify(e, &limits, &known))?;
        let physical = checked
            .create_physical_plan()
            .await
            .map_err(|e| classify(e, &limits, &known))?;
        Ok(PreparedQuery {
            frame,
            schema: physical.schema(),
            limits,
            known,
        })
    }

    /// The answer's columns.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Runs the query with `values` (one of each parameter's type, checked by the caller).
    pub async fn run(&self, values: Vec<(String, ScalarValue)>) -> Result<Answer, QueryError> {
        let run = async {
            let frame = self
                .frame
                .clone()
                .with_param_values(ParamValues::from(values))
                .map_err(|e| classify(e, &self.limits, &self.known))?;
            collect(frame, &self.limits, &self.known).await
        };
        within(&self.limits, run).await
    }
}

/// Every placeholder is a declared parameter, by name, and every declared parameter is used.
fn check_parameters(
    used: &HashSet<String>,
    declared: &BTreeMap<String, DataType>,
) -> Result<(), QueryError> {
    let mut used: Vec<&str> = used.iter().map(|id| id.trim_start_matches('$')).collect();
    used.sort_unstable();
    for name in &used {
        if name.parse::<usize>().is_ok() {
            return Err(QueryError::PositionalParameter {
                id: format!("${name}"),
            });
        }
        if !declared.contains_key(*name) {
            return Err(QueryError::UndeclaredParameter {
                name: (*name).to_owned(),
                declared: if declared.is_empty() {
                    "none".to_owned()
                } else {
                    declared.keys().cloned().collect::<Vec<_>>().join(", ")
                },
            });
        }
    }
    if let Some(name) = declared.keys().find(|n| !used.contains(&n.as_str())) {
        return Err(QueryError::UnusedParameter { name: name.clone() });
    }
    Ok(())
}

/// A value of `ty` to plan with.
fn sample(name: &str, ty: &DataType) -> Result<ScalarValue, QueryError> {
    Ok(match ty {
        DataType::Int64 => ScalarValue::Int64(Some(0)),
        DataType::Float64 => ScalarValue::Float64(Some(0.0)),
        DataType::Boolean => ScalarValue::Boolean(Some(false)),
        DataType::Utf8 => ScalarValue::Utf8(Some(String::new())),
        DataType::Timestamp(TimeUnit::Microsecond, zone) => {
            ScalarValue::TimestampMicrosecond(Some(0), zone.clone())
        }
        other => {
            return Err(QueryError::ParameterType {
                name: name.to_owned(),
                ty: other.to_string(),
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn snapshot() -> Vec<(String, Snapshot)> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("city", DataType::Utf8, true),
            Field::new("n", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["Oslo", "Lima", "Oslo"])),
                Arc::new(Int64Array::from(vec![1, 2, 3])),
            ],
        )
        .unwrap();
        vec![("t".into(), Snapshot::Batches(schema, vec![batch]))]
    }

    fn params(list: &[(&str, DataType)]) -> BTreeMap<String, DataType> {
        list.iter()
            .map(|(n, t)| (n.to_string(), t.clone()))
            .collect()
    }

    #[tokio::test]
    async fn runs_with_the_values_bound_and_knows_its_columns_before() {
        let q = PreparedQuery::new(
            snapshot(),
            "SELECT city, SUM(n) AS total FROM t WHERE n >= $least GROUP BY city ORDER BY city LIMIT $top",
            params(&[("least", DataType::Int64), ("top", DataType::Int64)]),
            QueryLimits::default(),
        )
        .await
        .unwrap();
        let names: Vec<_> = q
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["city", "total"]);
        let answer = q
            .run(vec![
                ("least".into(), ScalarValue::Int64(Some(2))),
                ("top".into(), ScalarValue::Int64(Some(10))),
            ])
            .await
            .unwrap();
        assert_eq!(
            answer.to_json()["rows"],
            serde_json::json!([{"city": "Lima", "total": 2}, {"city": "Oslo", "total": 3}])
        );
        // A value is a literal, not SQL: a quote in it matches nothing and breaks nothing.
        let q = PreparedQuery::new(
            snapshot(),
            "SELECT n FROM t WHERE city = $city",
            params(&[("city", DataType::Utf8)]),
            QueryLimits::default(),
        )
        .await
        .unwrap();
        let answer = q
            .run(vec![("city".into(), ScalarValue::from("x' OR '1'='1"))])
            .await
            .unwrap();
        assert_eq!(answer.rows, 0);
    }

    #[tokio::test]
    async fn parameters_must_be_declared_named_and_used() {
        let prepare = |sql: &'static str, p: BTreeMap<String, DataType>| async move {
            PreparedQuery::new(snapshot(), sql, p, QueryLimits::default())
                .await
                .unwrap_err()
                .to_string()
        };
        let e = prepare(
            "SELECT n FROM t WHERE n > $least",
            params(&[("top", DataType::Int64)]),
        )
        .await;
        assert!(e.contains("`$least`") && e.contains("declared: top"), "{e}");
        let e = prepare("SELECT n FROM t", params(&[("top", DataType::Int64)])).await;
        assert!(e.contains("`top`") && e.contains("does not use"), "{e}");
        let e = prepare("SELECT n FROM t WHERE n > $1", params(&[])).await;
        assert!(e.contains("`$1`") && e.contains("by name"), "{e}");
        let e = prepare("DELETE FROM t", params(&[])).await;
        assert!(e.contains("only queries"), "{e}");
        let e = prepare("SELECT nope FROM t", params(&[])).await;
        assert!(e.contains("nope"), "{e}");
    }
}
