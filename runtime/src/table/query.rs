//! Read-only SQL over tables, on DataFusion: each table is registered by name as the Delta
//! table provider of its current snapshot, and one statement runs within limits — a query
//! only (anything that writes, defines or sets is refused before it is planned), at most
//! `max_rows` rows back, within `timeout`, in at most `memory` bytes of working memory.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::execution::context::SQLOptions;
use deltalake::datafusion::execution::runtime_env::RuntimeEnvBuilder;
use deltalake::datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use futures_util::StreamExt;

use super::{Table, TableError, delta_error};

/// How far one query may go.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    /// The most rows an answer holds; a query that would return more is stopped.
    pub max_rows: usize,
    /// The longest a query runs.
    pub timeout: Duration,
    /// The working memory of joins, sorts and aggregations, in bytes.
    pub memory: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_rows: 10_000,
            timeout: Duration::from_secs(30),
            memory: 512 << 20,
        }
    }
}

/// A query's answer.
#[derive(Debug)]
pub struct Answer {
    /// The columns.
    pub schema: SchemaRef,
    /// The rows, in batches.
    pub batches: Vec<RecordBatch>,
    /// How many rows.
    pub rows: usize,
}

impl Answer {
    /// The answer as both faces give it in JSON: `{columns: [{name, type}], rows: [{…}],
    /// rowCount}`, each row an object by column name (Arrow's JSON encoding of the values).
    pub fn to_json(&self) -> serde_json::Value {
        let columns: Vec<serde_json::Value> = self
            .schema
            .fields()
            .iter()
            .map(|f| serde_json::json!({ "name": f.name(), "type": f.data_type().to_string() }))
            .collect();
        let mut writer = arrow::json::ArrayWriter::new(Vec::new());
        let rows = self
            .batches
            .iter()
            .try_for_each(|b| writer.write(b))
            .and_then(|()| writer.finish())
            .ok()
            .and_then(|()| serde_json::from_slice::<serde_json::Value>(&writer.into_inner()).ok())
            .filter(|v| v.is_array())
            .unwrap_or_else(|| serde_json::json!([]));
        serde_json::json!({ "columns": columns, "rows": rows, "rowCount": self.rows })
    }
}

/// Why a query gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The statement is not a query.
    #[error("only queries run here (SELECT, WITH, EXPLAIN): {0}")]
    NotAQuery(String),
    /// The statement does not parse, names what is not there, or mistypes.
    #[error("{message}")]
    Invalid {
        /// DataFusion's message, with the tables there are when one is unknown.
        message: String,
    },
    /// A placeholder is positional (`$1`); a prepared query's parameters go by name.
    #[error("`{id}`: a parameter goes by name (`$since`), as `parameters` declares it")]
    PositionalParameter {
        /// The placeholder.
        id: String,
    },
    /// The query uses a parameter that is not declared.
    #[error("the query uses `${name}`, which `parameters` does not declare (declared: {declared})")]
    UndeclaredParameter {
        /// The parameter.
        name: String,
        /// The declared ones.
        declared: String,
    },
    /// A declared parameter the query does not use.
    #[error("parameter `{name}` is declared, but the query does not use `${name}`")]
    UnusedParameter {
        /// The parameter.
        name: String,
    },
    /// A parameter of a type a request cannot give.
    #[error(
        "parameter `{name}` is a {ty}; parameters are int64, float64, boolean, utf8 or timestamp"
    )]
    ParameterType {
        /// The parameter.
        name: String,
        /// Its type.
        ty: String,
    },
    /// The answer would hold more rows than allowed.
    #[error(
        "the query returns more than {max} row{}; narrow it (WHERE, LIMIT) or aggregate",
        if *.max == 1 { "" } else { "s" }
    )]
    TooManyRows {
        /// The limit.
        max: usize,
    },
    /// The query ran out of time.
    #[error("the query was stopped after {}s, its time limit", .after.as_secs())]
    Timeout {
        /// The limit.
        after: Duration,
    },
    /// The query needed more working memory than allowed.
    #[error("the query was stopped: it needs more than {limit} bytes of memory ({message})")]
    Memory {
        /// The limit.
        limit: usize,
        /// What DataFusion said.
        message: String,
    },
    /// A table could not be opened, or a file read.
    #[error(transparent)]
    Table(#[from] TableError),
    /// A table's snapshot could not be made into something to query.
    #[error("table `{table}` cannot be read for a query: {message}")]
    Unreadable {
        /// The table.
        table: String,
        /// Why.
        message: String,
    },
}

impl QueryError {
    /// Whether the query, not the home, is at fault.
    pub fn is_input(&self) -> bool {
        !matches!(self, QueryError::Table(_) | QueryError::Unreadable { .. })
    }
}

/// Runs `sql` over `tables` (name and directory; those without a commit are left out) within
/// `limits`.
pub async fn query(
    tables: &[(String, PathBuf)],
    sql: &str,
    limits: &QueryLimits,
) -> Result<Answer, QueryError> {
    let ctx = session(limits)?;
    let mut names = Vec::new();
    for (name, path) in tables {
        let table = Table::open(path).await?;
        if table.version().is_none() {
            continue;
        }
        table
            .delta
            .update_datafusion_session(&ctx.state())
            .map_err(|source| delta_error(&table.path, "read", source))?;
        let provider = table
            .delta
            .table_provider()
            .await
            .map_err(|e| QueryError::Unreadable {
                table: name.clone(),
                message: e.to_string(),
            })?;
        ctx.register_table(name.as_str(), provider)
            .map_err(|e| QueryError::Invalid {
                message: e.to_string(),
            })?;
        names.push(name.clone());
    }
    let known = known_tables(&names);
    let run = async {
        let frame = plan(&ctx, sql, limits, &known).await?;
        collect(frame, limits, &known).await
    };
    within(limits, run).await
}

/// A session whose joins, sorts and aggregations share at most `limits.memory` bytes.
pub(super) fn session(limits: &QueryLimits) -> Result<SessionContext, QueryError> {
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_limit(limits.memory, 1.0)
        .build_arc()
        .map_err(|e| QueryError::Invalid {
            message: e.to_string(),
        })?;
    let config = SessionConfig::new()
        .with_information_schema(true)
        .with_target_partitions(2);
    Ok(SessionContext::new_with_config_rt(config, runtime))
}

/// The tables there are, for a message about one that is not.
pub(super) fn known_tables(names: &[String]) -> String {
    if names.is_empty() {
        "there are no tables yet".to_owned()
    } else {
        format!("tables: {}", names.join(", "))
    }
}

/// Plans `sql` as a query: anything that writes, defines or sets is refused here.
pub(super) async fn plan(
    ctx: &SessionContext,
    sql: &str,
    limits: &QueryLimits,
    known: &str,
) -> Result<DataFrame, QueryError> {
    let options = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    ctx.sql_with_options(sql, options)
        .await
        .map_err(|e| classify(e, limits, known))
}

/// Runs a planned query, stopping it once it holds more than `limits.max_rows` rows.
pub(super) async fn collect(
    frame: DataFrame,
    limits: &QueryLimits,
    known: &str,
) -> Result<Answer, QueryError> {
    let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
    let mut stream = frame
        .execute_stream()
        .await
        .map_err(|e| classify(e, limits, known))?;
    let mut batches = Vec::new();
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(|e| classify(e, limits, known))?;
        rows += batch.num_rows();
        if rows > limits.max_rows {
            return Err(QueryError::TooManyRows {
                max: limits.max_rows,
            });
        }
        batches.push(batch);
    }
    Ok(Answer {
        schema,
        batches,
        rows,
    })
}

/// `run`, stopped at `limits.timeout`.
pub(super) async fn within<T>(
    limits: &QueryLimits,
    run: impl Future<Output = Result<T, QueryError>>,
) -> Result<T, QueryError> {
    tokio::time::timeout(limits.timeout, run)
        .await
        .map_err(|_| QueryError::Timeout {
            after: limits.timeout,
        })?
}

/// DataFusion's error as the user's: a refused statement, exhausted memory, or a message
/// naming what is wrong (with the tables there are when a table is unknown).
pub(super) fn classify(e: DataFusionError, limits: &QueryLimits, known: &str) -> QueryError {
    let message = e.to_string();
    let root = e.find_root();
    if matches!(root, DataFusionError::ResourcesExhausted(_)) {
        return QueryError::Memory {
            limit: limits.memory,
            message: root.to_string(),
        };
    }
    if message.contains("DML not supported")
        || message.contains("DDL not supported")
        || message.contains("Statement not supported")
    {
        return QueryError::NotAQuery(message);
    }
    // An optimizer rule's failure wraps the reason; the reason is what the user needs.
    let message = message.rsplit("caused by\n").next().unwrap_or(&message);
    let message = message
        .trim_start_matches("Error during planning: ")
        .to_owned();
    if message.contains("table") && message.contains("not found") {
        return QueryError::Invalid {
            message: format!("{message} ({known})"),
        };
    }
    QueryError::Invalid { message }
}
