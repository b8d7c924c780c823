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

/// Column types a table can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    #[serde(alias = "string")]
    Utf8,
    #[serde(alias = "int", alias = "integer")]
    Int64,
    #[serde(alias = "float", alias = "double")]
    Float64,
    #[serde(alias = "bool")]
    Boolean,
    Timestamp,
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
