//! A package's manifest: what the service is, and the checksum of every file it carries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::archive::FileEntry;
use crate::workflow::{OAuth2Spec, ServiceAuth};

/// The manifest's own format, refused when newer than this ferry understands.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    pub format_version: u32,
    pub service: String,
    pub version: String,
    pub description: Option<String>,
    pub created_at: String,
    /// The job that built it, when a workflow's package step did.
    pub source_job: Option<String>,
    /// Who may call the endpoints; absent means public (packages made before services could
    /// require keys). A ferry too old to know it refuses the package rather than serve it open.
    #[serde(default, skip_serializing_if = "ServiceAuth::is_public")]
    pub auth: ServiceAuth,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2Spec>,
    pub endpoints: Vec<Endpoint>,
    /// Every file of the package but the manifest, by path inside the zip.
    pub files: BTreeMap<String, FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type", deny_unknown_fields)]
pub enum Endpoint {
    /// Scores rows with a predictor component and its model files.
    Prediction {
        name: String,
        /// Path of the predictor component inside the zip.
        predictor: String,
        /// Directory of the model files inside the zip (mounted at `/model`).
        model_dir: String,
        input: BTreeMap<String, String>,
        output: BTreeMap<String, String>,
    },
    /// Serves rows of a table, by key, from a snapshot taken at packaging.
    Lookup {
        name: String,
        table: String,
        key: String,
        /// Path of the snapshot (Parquet) inside the zip.
        rows: String,
        /// Column name → type of the snapshot.
        columns: BTreeMap<String, String>,
    },
    /// Answers a parameterised query over snapshots of tables taken at packaging.
    Sql {
        name: String,
        /// The query; `$name` stands for parameter `name`.
        query: String,
        /// Table name → path of its snapshot (Parquet) inside the zip.
        tables: BTreeMap<String, String>,
        /// Parameter name → type (int64, float64, boolean, utf8, timestamp).
        parameters: BTreeMap<String, String>,
        /// The answer's columns, in order, with their Arrow types.
        columns: Vec<Column>,
        /// The most rows an answer holds.
        max_rows: usize,
    },
}

/// A column of a SQL endpoint's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub name: String,
    /// Arrow's name of the type (`Int64`, `Utf8`, `Timestamp(µs, "UTC")`).
    #[serde(rename = "type")]
    pub data_type: String,
}

impl Endpoint {
    pub fn name(&self) -> &str {
        match self {
            Endpoint::Prediction { name, .. }
            | Endpoint::Lookup { name, .. }
            | Endpoint::Sql { name, .. } => name,
        }
    }
}
