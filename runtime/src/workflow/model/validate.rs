//! The validate step: Arize-style roles, typed columns, filters.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::*;

/// `kind = "validate"`: the Arize-style schema mapping, typed columns and an optional filter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateStep {
    pub name: String,
    pub kind: StepKind,
    pub input: String,
    #[serde(default)]
    pub schema: SchemaMapping,
    /// Extra typed columns kept as they are, by source column name.
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnRule>,
    /// Rows must match every condition, or they are skipped by filter.
    #[serde(default)]
    pub filter: Vec<Condition>,
    /// The input columns that `mappings` read, typed as Polaris' `inputSchema` types them:
    /// each value is cast to its type first (a value that does not cast is null, with a
    /// warning), so every expression is type-checked by `ferry validate` against it.
    #[serde(default)]
    pub input_schema: BTreeMap<String, ColumnType>,
    /// Polaris-style mappings: each stored column is a SQL expression over the input columns.
    /// With mappings, the table holds exactly these columns, in this order.
    #[serde(default)]
    pub mappings: Vec<ColumnMapping>,
    /// With aggregation mappings: the table holds one row per `__time` bucket and values of
    /// the other mappings (Polaris' rollup).
    pub rollup: Option<Rollup>,
    /// The mappings as one `SELECT … FROM input [WHERE …] [GROUP BY …]`: each selected
    /// expression (named by `AS`) is a mapping, aggregates are aggregation mappings, and
    /// `WHERE` filters input rows.
    pub sql: Option<String>,
}

/// `rollup = { granularity = "minute" }`: `__time` is floored to the granularity, and rows
/// with the same bucket and dimension values become one, across objects and jobs.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Rollup {
    /// `second`, `minute`, `fifteen_minute`, `thirty_minute`, `hour`, `day`, `week`,
    /// `month`, `quarter`, `year`, or an ISO 8601 period (`PT5M`).
    pub granularity: String,
}

/// `{ column = "__time", expression = "TIME_PARSE(\"timestamp\")" }`: one stored column.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ColumnMapping {
    pub column: String,
    /// SQL on DataFusion plus Polaris' time functions; identifiers in double quotes.
    pub expression: String,
    /// An aggregation (`MAX("x")`, `COUNT(*)`) of a rollup table.
    #[serde(default, rename = "aggregation", alias = "isAggregation")]
    pub aggregation: bool,
}

/// Which source columns play which role. Role columns are stored under their role's name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaMapping {
    pub prediction_id: Option<String>,
    pub timestamp: Option<TimestampColumn>,
    pub prediction_label: Option<String>,
    pub prediction_score: Option<String>,
    pub actual_label: Option<String>,
    pub actual_score: Option<String>,
    /// Columns starting with this are features, stored under their own names.
    pub feature_prefix: Option<String>,
    /// Columns starting with this are tags (strings).
    pub tag_prefix: Option<String>,
    /// Columns starting with this are SHAP values (float64).
    pub shap_prefix: Option<String>,
    /// Arize's embedding features, by name: each is stored as one struct column of that name,
    /// `{ vector: list<float32>, data: string, link_to_data: string }`.
    #[serde(default)]
    pub embedding_features: BTreeMap<String, EmbeddingFeature>,
}

/// `embedding_features.text = { vector = "text_vec", data = "text", link_to_data = "url" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingFeature {
    /// The column of vectors: a list or fixed-size list of numbers.
    pub vector: String,
    /// The raw data the vector embeds (a text), when there is a column of it.
    pub data: Option<String>,
    /// A link to the raw data (an image URL), when there is a column of it.
    pub link_to_data: Option<String>,
    /// Every vector must have this many values; without it, the job's first vector sets it.
    pub dimension: Option<usize>,
}

/// `timestamp = "ts"` or `timestamp = { column = "ts", format = "unix_millis" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TimestampColumn {
    Name(String),
    Detailed {
        column: String,
        #[serde(default = "default_timestamp_format")]
        format: String,
    },
}

fn default_timestamp_format() -> String {
    "rfc3339".to_owned()
}

impl TimestampColumn {
    pub fn column(&self) -> &str {
        match self {
            TimestampColumn::Name(c) | TimestampColumn::Detailed { column: c, .. } => c,
        }
    }

    pub fn format(&self) -> &str {
        match self {
            TimestampColumn::Name(_) => "rfc3339",
            TimestampColumn::Detailed { format, .. } => format,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnRule {
    #[serde(rename = "type")]
    pub ty: ColumnType,
    #[serde(default)]
    pub required: bool,
}

/// Column types a table can hold, written as in `input_schema`: `string`, `int32`, `int64`,
/// `float32`, `float64`, `boolean`, `date`, `timestamp`, `binary`, `decimal(P,S)`, and lists
/// of these as `float32[]` or `list<float32>`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(try_from = "String", into = "String")]
pub enum ColumnType {
    Utf8,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    Date,
    Timestamp,
    Binary,
    Decimal { precision: u8, scale: i8 },
    List(Box<ColumnType>),
}

impl std::str::FromStr for ColumnType {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let t = text.trim().to_ascii_lowercase();
        if let Some(item) = t.strip_suffix("[]") {
            return Ok(ColumnType::List(Box::new(item.parse()?)));
        }
        if let Some(item) = t.strip_prefix("list<").and_then(|r| r.strip_suffix('>')) {
            return Ok(ColumnType::List(Box::new(item.parse()?)));
        }
        if let Some(args) = t.strip_prefix("decimal(").and_then(|r| r.strip_suffix(')')) {
            let bad =
                || format!("`{text}`: a decimal is decimal(P,S) with 1 <= P <= 38 and 0 <= S <= P");
            let (p, s) = args.split_once(',').ok_or_else(bad)?;
            let precision: u8 = p.trim().parse().map_err(|_| bad())?;
            let scale: i8 = s.trim().parse().map_err(|_| bad())?;
            if !(1..=38).contains(&precision) || scale < 0 || scale as u8 > precision {
                return Err(bad());
            }
            return Ok(ColumnType::Decimal { precision, scale });
        }
        Ok(match t.as_str() {
            "utf8" | "string" => ColumnType::Utf8,
            "int32" => ColumnType::Int32,
            "int64" | "int" | "integer" => ColumnType::Int64,
            "float32" => ColumnType::Float32,
            "float64" | "float" | "double" => ColumnType::Float64,
            "boolean" | "bool" => ColumnType::Boolean,
            "date" | "date32" => ColumnType::Date,
            "timestamp" => ColumnType::Timestamp,
            "binary" | "bytes" => ColumnType::Binary,
            _ => {
                return Err(format!(
                    "unknown type `{text}`; expected string, int32, int64, float32, float64, \
                     boolean, date, timestamp, binary, decimal(P,S), or a list of one (`float32[]`)"
                ));
            }
        })
    }
}

impl TryFrom<String> for ColumnType {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl std::fmt::Display for ColumnType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ColumnType::Utf8 => f.write_str("utf8"),
            ColumnType::Int32 => f.write_str("int32"),
            ColumnType::Int64 => f.write_str("int64"),
            ColumnType::Float32 => f.write_str("float32"),
            ColumnType::Float64 => f.write_str("float64"),
            ColumnType::Boolean => f.write_str("boolean"),
            ColumnType::Date => f.write_str("date"),
            ColumnType::Timestamp => f.write_str("timestamp"),
            ColumnType::Binary => f.write_str("binary"),
            ColumnType::Decimal { precision, scale } => write!(f, "decimal({precision},{scale})"),
            ColumnType::List(item) => write!(f, "{item}[]"),
        }
    }
}

impl From<ColumnType> for String {
    fn from(ty: ColumnType) -> String {
        ty.to_string()
    }
}

/// One filter condition on a (mapped) column.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub column: String,
    pub op: FilterOp,
    pub value: Option<toml::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    IsNull,
    NotNull,
}
