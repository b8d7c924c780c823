//! Polaris-style mappings: every stored column is a SQL expression over the typed input
//! columns, planned once per job by DataFusion (with Polaris' time functions added) and
//! evaluated on whole Arrow batches.
//!
//! Planning against the declared `input_schema` is what lets `ferry validate` refuse an
//! unknown column or function, or a type mismatch, before a job runs. A batch whose evaluation
//! fails (a `CAST` that cannot cast, say) is evaluated again row by row, on that error path
//! only, so that the rows that fail are named and skipped and the others stored.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, new_null_array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use deltalake::datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use deltalake::datafusion::common::{DFSchema, DataFusionError, SchemaError};
use deltalake::datafusion::execution::FunctionRegistry;
use deltalake::datafusion::logical_expr::simplify::SimplifyContext;
use deltalake::datafusion::logical_expr::{Expr, lit};
use deltalake::datafusion::optimizer::simplify_expressions::ExprSimplifier;
use deltalake::datafusion::physical_expr::PhysicalExpr;
use deltalake::datafusion::prelude::SessionContext;

use super::period::Period;
use super::rollup::{Aggregate, Measure, RollupPlan};
use super::sql;
use super::{data_type, functions};
use crate::workflow::{ColumnMapping, ColumnType, Rollup, did_you_mean};

/// Polaris' primary time column: a row without one is refused.
pub const TIME_COLUMN: &str = "__time";

/// Why one mapping's expression cannot be planned: it names the mapping, the expression and,
/// where it can, the position in it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("mapping `{column}` (`{expression}`){}: {message}", at.map(|c| format!(", at column {c}")).unwrap_or_default())]
pub struct ExpressionError {
    pub column: String,
    pub expression: String,
    /// 1-based, in characters.
    pub at: Option<usize>,
    pub message: String,
}

/// The planned mappings of one step.
#[derive(Debug)]
pub struct Expressions {
    input: SchemaRef,
    columns: Vec<Planned>,
    output: SchemaRef,
    /// A rollup's plan, when the mappings aggregate.
    rollup: Option<Arc<RollupPlan>>,
    /// The `sql` form's `WHERE`, on the typed input.
    condition: Option<Planned>,
}

/// What planning an expression needs: the typed input, and a DataFusion session with
/// Polaris' functions.
struct Session {
    schema: SchemaRef,
    df_schema: DFSchema,
    ctx: SessionContext,
}

impl Session {
    fn new(input: &BTreeMap<String, ColumnType>) -> Self {
        let schema = Arc::new(Schema::new(
            input
                .iter()
                .map(|(name, ty)| Field::new(name, data_type(ty), true))
                .collect::<Vec<_>>(),
        ));
        let df_schema = DFSchema::try_from(schema.as_ref().clone())
            .expect("input_schema names are distinct (they are a TOML table's keys)");
        let ctx = SessionContext::new();
        for f in functions::all() {
            ctx.register_udf(f);
        }
        Session {
            schema,
            df_schema,
            ctx,
        }
    }

    /// A logical expression made physical, checked on no rows.
    fn physical(&self, expr: Expr) -> Result<Arc<dyn PhysicalExpr>, DataFusionError> {
        // Simplified as a query's plan would be: some functions (COALESCE, NVL) exist only
        // as rewrites and have no physical form of their own.
        let simplifier = ExprSimplifier::new(
            SimplifyContext::builder()
                .with_schema(Arc::new(self.df_schema.clone()))
                .with_config_options(self.ctx.copied_config().options().clone())
                .build(),
        );
        let expr = simplifier
            .coerce(expr, &self.df_schema)
            .and_then(|e| simplifier.simplify(e))?;
        let physical = self.ctx.create_physical_expr(expr, &self.df_schema)?;
        // On no rows, so that a constant argument that is wrong (a period, a pattern, a
        // zone) is found now rather than on the first batch.
        physical.evaluate(&RecordBatch::new_empty(self.schema.clone()))?;
        Ok(physical)
    }
}

#[derive(Debug)]
struct Planned {
    mapping: ColumnMapping,
    /// The column's expression; for an aggregation, its argument (what is aggregated).
    physical: Arc<dyn PhysicalExpr>,
}

/// A row that an expression could not be evaluated on.
#[derive(Debug)]
pub struct RowFailure {
    /// Its index in the batch.
    pub index: usize,
    /// The mapping's column.
    pub column: String,
    pub message: String,
}

impl Expressions {
    /// Plans every mapping against the input schema; every mapping that cannot be planned is
    /// one error.
    ///
    /// With `rollup`, an aggregation mapping's argument is what `evaluate` makes (the rollup
    /// aggregates it per object, see [`RollupPlan`]), and `__time` is floored to the
    /// granularity.
    pub fn plan(
        input: &BTreeMap<String, ColumnType>,
        mappings: &[ColumnMapping],
        rollup: Option<&Rollup>,
    ) -> Result<Self, Vec<ExpressionError>> {
        let session = Session::new(input);
        let Session {
            schema,
            df_schema,
            ctx,
        } = &session;
        let mut columns = Vec::new();
        let mut errors = Vec::new();
        let mut measures = Vec::new();
        if let Some(rollup) = rollup
            && let Err(message) = Period::parse(&rollup.granularity)
        {
            errors.push(ExpressionError {
                column: TIME_COLUMN.into(),
                expression: rollup.granularity.clone(),
                at: None,
                message: format!("the rollup's granularity: {message}"),
            });
        }
        for mapping in mappings {
            let error = |e: DataFusionError| explain(mapping, schema, e);
            let planned = ctx
                .parse_sql_expr(&mapping.expression, df_schema)
                .map_err(error)
                .and_then(|expr| {
                    let expr = if mapping.aggregation && rollup.is_some() {
                        let (aggregate, argument) = measure(mapping, expr)?;
                        measures.push(Measure {
                            column: mapping.column.clone(),
                            aggregate,
                        });
                        argument
                    } else {
                        expr
                    };
                    if let Some(name) = aggregation(&expr) {
                        return Err(ExpressionError {
                            column: mapping.column.clone(),
                            expression: mapping.expression.clone(),
                            at: position(&mapping.expression, &name),
                            message: if mapping.aggregation {
                                format!("`{name}` inside an aggregation's argument")
                            } else {
                                format!(
                                    "`{name}` is an aggregation, which only a rollup mapping \
                                     (`aggregation = true`) may use"
                                )
                            },
                        });
                    }
                    let expr = match rollup {
                        Some(r) if mapping.column == TIME_COLUMN => {
                            let floor = ctx
                                .udf("time_floor")
                                .expect("TIME_FLOOR is registered above");
                            floor.call(vec![expr, lit(r.granularity.clone())])
                        }
                        _ => expr,
                    };
                    session.physical(expr).map_err(error)
                });
            match planned {
                Ok(physical) => columns.push(Planned {
                    mapping: mapping.clone(),
                    physical,
                }),
                Err(e) => errors.push(e),
            }
        }
        for planned in &columns {
            let ty = planned.physical.data_type(schema);
            if planned.mapping.column == TIME_COLUMN && !matches!(ty, Ok(DataType::Timestamp(..))) {
                errors.push(ExpressionError {
                    column: planned.mapping.column.clone(),
                    expression: planned.mapping.expression.clone(),
                    at: None,
                    message: format!(
                        "`__time` must be a timestamp, and this is {} (TIME_PARSE makes one \
                         from a string, MILLIS_TO_TIMESTAMP from epoch milliseconds)",
                        ty.map_or_else(|e| one_line(&e), |t| t.to_string())
                    ),
                });
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let fields = columns
            .iter()
            .map(|p| {
                let ty = p
                    .physical
                    .data_type(schema)
                    .expect("a planned expression has a type");
                Field::new(&p.mapping.column, ty, true)
            })
            .collect::<Vec<_>>();
        let rollup = rollup.map(|r| {
            Arc::new(RollupPlan {
                granularity: r.granularity.clone(),
                dimensions: mappings
                    .iter()
                    .filter(|m| !m.aggregation)
                    .map(|m| m.column.clone())
                    .collect(),
                measures,
                order: mappings.iter().map(|m| m.column.clone()).collect(),
            })
        });
        Ok(Expressions {
            input: schema.clone(),
            columns,
            output: Arc::new(Schema::new(fields)),
            rollup,
            condition: None,
        })
    }

    /// The `sql = "SELECT …"` form: each selected item a mapping (one that calls an
    /// aggregate is an aggregation), and `WHERE` a condition on the typed input rows.
    pub fn plan_sql(
        input: &BTreeMap<String, ColumnType>,
        sql: &str,
        rollup: Option<&Rollup>,
    ) -> Result<Self, Vec<ExpressionError>> {
        let select = sql::parse(sql).map_err(|e| vec![e])?;
        let session = Session::new(input);
        let mappings: Vec<ColumnMapping> = select
            .items
            .iter()
            .map(|(column, expression)| ColumnMapping {
                column: column.clone(),
                expression: expression.clone(),
                aggregation: session
                    .ctx
                    .parse_sql_expr(expression, &session.df_schema)
                    .is_ok_and(|e| aggregation(&e).is_some()),
            })
            .collect();
        let refuse = |message: String| ExpressionError {
            column: "sql".into(),
            expression: sql.trim().to_owned(),
            at: None,
            message,
        };
        let aggregates = mappings.iter().filter(|m| m.aggregation).count();
        let dimensions = mappings.len() - aggregates;
        match (rollup, select.group_by) {
            (None, _) if aggregates > 0 || select.group_by.is_some() => {
                return Err(vec![refuse(
                    "a SELECT that aggregates (GROUP BY, MAX, COUNT …) is a rollup: add \
                     `rollup = { granularity = \"minute\" }` to this step"
                        .into(),
                )]);
            }
            (Some(_), _) if aggregates == 0 => {
                return Err(vec![refuse(
                    "a rollup's SELECT needs an aggregate (MAX, MIN, SUM, COUNT)".into(),
                )]);
            }
            (Some(_), _) if !mappings.iter().any(|m| m.column == TIME_COLUMN) => {
                return Err(vec![refuse(
                    "a rollup groups rows by time: select a `… AS __time`".into(),
                )]);
            }
            (Some(_), Some(n)) if n != usize::MAX && n != dimensions => {
                return Err(vec![refuse(format!(
                    "GROUP BY names {n} items, and the SELECT has {dimensions} that are not \
                     aggregates (a rollup groups by all of them): GROUP BY them all, or \
                     GROUP BY ALL"
                ))]);
            }
            _ => {}
        }
        let mut planned = Self::plan(input, &mappings, rollup)?;
        if let Some(text) = select.condition {
            let mapping = ColumnMapping {
                column: "WHERE".into(),
                expression: text,
                aggregation: false,
            };
            let error = |e: DataFusionError| explain(&mapping, &session.schema, e);
            let physical = session
                .ctx
                .parse_sql_expr(&mapping.expression, &session.df_schema)
                .map_err(error)
                .and_then(|e| match aggregation(&e) {
                    Some(name) => Err(ExpressionError {
                        column: mapping.column.clone(),
                        expression: mapping.expression.clone(),
                        at: position(&mapping.expression, &name),
                        message: format!("`{name}` is an aggregation, which WHERE cannot use"),
                    }),
                    None => session.physical(e).map_err(error),
                })
                .map_err(|e| vec![e])?;
            match physical.data_type(&session.schema) {
                Ok(DataType::Boolean) => {}
                other => {
                    return Err(vec![ExpressionError {
                        column: mapping.column.clone(),
                        expression: mapping.expression.clone(),
                        at: None,
                        message: format!(
                            "WHERE needs a condition (true or false), and this is {}",
                            other.map_or_else(|e| one_line(&e), |t| t.to_string())
                        ),
                    }]);
                }
            }
            planned.condition = Some(Planned { mapping, physical });
        }
        Ok(planned)
    }

    /// Which rows of a typed input batch pass the `WHERE` condition (`None`: every row).
    /// A row the condition fails on does not pass, and is returned as a failure.
    pub fn condition(&self, batch: &RecordBatch) -> Option<(BooleanArray, Vec<RowFailure>)> {
        let planned = self.condition.as_ref()?;
        let mut failures = Vec::new();
        let n = batch.num_rows();
        let array = match planned
            .physical
            .evaluate(batch)
            .and_then(|v| v.into_array(n))
        {
            Ok(array) => array,
            Err(_) => planned.row_by_row(batch, &DataType::Boolean, &mut failures),
        };
        let passes = array
            .as_boolean_opt()
            .map(|b| b.iter().map(|v| Some(v == Some(true))).collect())
            .unwrap_or_else(|| BooleanArray::from(vec![false; n]));
        Some((passes, failures))
    }

    /// The rollup the mappings make, if they aggregate.
    pub fn rollup(&self) -> Option<&Arc<RollupPlan>> {
        self.rollup.as_ref()
    }

    /// The typed input columns, in the order `evaluate` takes them.
    pub fn input(&self) -> &SchemaRef {
        &self.input
    }

    /// The stored columns and their types.
    pub fn output(&self) -> &SchemaRef {
        &self.output
    }

    /// Evaluates every mapping on a batch of the input schema. A row that a mapping fails on
    /// comes out null there, and is returned as a failure.
    pub fn evaluate(&self, batch: &RecordBatch) -> (Vec<ArrayRef>, Vec<RowFailure>) {
        let n = batch.num_rows();
        let mut failures = Vec::new();
        let arrays = self
            .columns
            .iter()
            .zip(self.output.fields())
            .map(|(planned, field)| {
                let whole = planned
                    .physical
                    .evaluate(batch)
                    .and_then(|v| v.into_array(n));
                let array = match whole {
                    Ok(array) => array,
                    Err(_) => planned.row_by_row(batch, field.data_type(), &mut failures),
                };
                if planned.mapping.column == TIME_COLUMN && array.null_count() > 0 {
                    planned.timeless_rows(&array, &mut failures);
                }
                array
            })
            .collect();
        (arrays, failures)
    }
}

impl Planned {
    /// Rows whose `__time` is null (a time that did not parse): Polaris refuses them.
    fn timeless_rows(&self, array: &ArrayRef, failures: &mut Vec<RowFailure>) {
        let failed: std::collections::HashSet<usize> = failures
            .iter()
            .filter(|f| f.column == TIME_COLUMN)
            .map(|f| f.index)
            .collect();
        for index in (0..array.len()).filter(|&i| array.is_null(i) && !failed.contains(&i)) {
            failures.push(RowFailure {
                index,
                column: TIME_COLUMN.into(),
                message: format!(
                    "mapping `__time` (`{}`) gave no time: the row has none, or it does not \
                     parse, and `__time` is required",
                    self.mapping.expression
                ),
            });
        }
    }

    fn row_by_row(
        &self,
        batch: &RecordBatch,
        ty: &DataType,
        failures: &mut Vec<RowFailure>,
    ) -> ArrayRef {
        let rows: Vec<ArrayRef> = (0..batch.num_rows())
            .map(|i| {
                let one = batch.slice(i, 1);
                match self.physical.evaluate(&one).and_then(|v| v.into_array(1)) {
                    Ok(array) => array,
                    Err(e) => {
                        failures.push(RowFailure {
                            index: i,
                            column: self.mapping.column.clone(),
                            message: format!(
                                "mapping `{}` (`{}`): {}",
                                self.mapping.column,
                                self.mapping.expression,
                                one_line(&e)
                            ),
                        });
                        new_null_array(ty, 1)
                    }
                }
            })
            .collect();
        let refs: Vec<&dyn arrow::array::Array> = rows.iter().map(|a| a.as_ref()).collect();
        arrow::compute::concat(&refs).unwrap_or_else(|_| new_null_array(ty, batch.num_rows()))
    }
}

/// An aggregation mapping's function and argument. Only aggregations whose results combine
/// (across objects and jobs, as a perfect rollup needs) are taken.
fn measure(mapping: &ColumnMapping, expr: Expr) -> Result<(Aggregate, Expr), ExpressionError> {
    let refuse = |message: String| ExpressionError {
        column: mapping.column.clone(),
        expression: mapping.expression.clone(),
        at: Some(1),
        message,
    };
    let expr = match expr {
        Expr::Alias(alias) => *alias.expr,
        other => other,
    };
    let Expr::AggregateFunction(f) = expr else {
        return Err(refuse(
            "an aggregation mapping is one aggregate call: MAX(x), MIN(x), SUM(x), COUNT(x) \
             or COUNT(*) (compute on its result when querying)"
                .into(),
        ));
    };
    let name = f.func.name().to_uppercase();
    let aggregate = match name.as_str() {
        "MAX" => Aggregate::Max,
        "MIN" => Aggregate::Min,
        "SUM" => Aggregate::Sum,
        "COUNT" => Aggregate::Count,
        "AVG" | "MEAN" => {
            return Err(refuse(format!(
                "`{name}` cannot be combined across objects and jobs (an average of averages \
                 is not the average): store SUM(x) and COUNT(x), and divide when querying"
            )));
        }
        _ => {
            return Err(refuse(format!(
                "`{name}` cannot be combined across objects and jobs, which a rollup does; \
                 it takes MAX, MIN, SUM and COUNT"
            )));
        }
    };
    let params = f.params;
    if params.distinct || params.filter.is_some() || !params.order_by.is_empty() {
        return Err(refuse(format!(
            "`{name}` with DISTINCT, FILTER or ORDER BY cannot be combined across objects and \
             jobs: a rollup takes plain MAX, MIN, SUM and COUNT"
        )));
    }
    let mut args = params.args;
    let argument = match (args.len(), args.pop()) {
        (0, _) => lit(1i64),
        #[allow(deprecated)]
        (1, Some(Expr::Wildcard { .. })) => lit(1i64),
        (1, Some(arg)) => arg,
        _ => return Err(refuse(format!("`{name}` takes one argument here"))),
    };
    Ok((aggregate, argument))
}

/// The first aggregate function an expression calls.
fn aggregation(expr: &Expr) -> Option<String> {
    let mut found = None;
    expr.apply(|e| {
        if let Expr::AggregateFunction(f) = e {
            found = Some(f.func.name().to_uppercase());
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .expect("the visit cannot fail");
    found
}

/// Where `word` first appears in `expression` (1-based, in characters), ignoring case.
fn position(expression: &str, word: &str) -> Option<usize> {
    let lower = expression.to_lowercase();
    let at = lower.find(&word.to_lowercase())?;
    Some(lower[..at].chars().count() + 1)
}

/// DataFusion's error as one line, its backtrace and wrapping stripped.
fn one_line(e: &DataFusionError) -> String {
    let root = e.find_root();
    let text = match root {
        DataFusionError::Plan(m) | DataFusionError::Execution(m) => m.clone(),
        DataFusionError::ArrowError(e, _) => e.to_string(),
        other => other.strip_backtrace(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn explain(mapping: &ColumnMapping, input: &Schema, e: DataFusionError) -> ExpressionError {
    let expression = &mapping.expression;
    let (at, message) = match e.find_root() {
        DataFusionError::SchemaError(inner, _) => match inner.as_ref() {
            SchemaError::FieldNotFound { field, .. } => {
                let name = &field.name;
                let names = input.fields().iter().map(|f| f.name().as_str());
                let hint = match did_you_mean(name, names) {
                    Some(close) => format!(", did you mean `\"{close}\"`?"),
                    None => {
                        let listed: Vec<String> = input
                            .fields()
                            .iter()
                            .map(|f| format!("\"{}\"", f.name()))
                            .collect();
                        format!("; input_schema has {}", listed.join(", "))
                    }
                };
                (
                    position(expression, name),
                    format!(
                        "unknown column `{name}`{hint} (a column must be in input_schema; \
                         quote names in double quotes, as SQL folds unquoted ones to lower case)"
                    ),
                )
            }
            other => (None, other.to_string()),
        },
        DataFusionError::SQL(parse, _) => {
            let text = parse.to_string();
            // sqlparser says "… at Line: 1, Column: 12".
            let at = text
                .rsplit_once("Column: ")
                .and_then(|(_, c)| c.trim().parse().ok());
            let text = text.split(" at Line:").next().unwrap_or(&text).to_owned();
            (at, format!("not a SQL expression: {text}"))
        }
        other => {
            let text = one_line(other);
            let at = text
                .split('\'')
                .nth(1)
                .and_then(|name| position(expression, name));
            (at, text)
        }
    };
    ExpressionError {
        column: mapping.column.clone(),
        expression: expression.clone(),
        at,
        message,
    }
}
