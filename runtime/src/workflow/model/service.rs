//! The package step and the API service it packages: endpoints, and who may call them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::*;

/// `kind = "package"`: after the ingest, builds a new version of the workflow's `[service]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageStep {
    pub name: String,
    pub kind: StepKind,
    pub input: String,
    /// The version to create (it must not exist); `v<N+1>` when absent.
    pub version: Option<String>,
}

/// The only `kind` a service file may declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceKind {
    Service,
}

/// An API service: endpoints a deployment will serve.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// `kind = "service"` in a file of its own; nothing else.
    #[serde(default)]
    pub kind: Option<ServiceKind>,
    pub id: String,
    pub description: Option<String>,
    /// Who may call the service's public endpoints (Dataiku's `auth_method`).
    #[serde(default)]
    pub auth: ServiceAuth,
    /// How OAuth2 bearer tokens are checked, with `auth = "oauth2"`.
    pub oauth2: Option<OAuth2Spec>,
    pub endpoints: Vec<EndpointSpec>,
}

/// Who may call a service's public endpoints on the API nodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceAuth {
    /// Anyone who can reach the node.
    #[default]
    Public,
    /// A key of the node (`ferry keys create NAME --permission UseServices [--service ID]`)
    /// as `Authorization: Bearer`.
    ApiKeys,
    /// A JWT bearer token from the configured issuer, checked against its JWKS.
    Oauth2,
}

impl ServiceAuth {
    pub fn is_public(&self) -> bool {
        *self == ServiceAuth::Public
    }

    /// `auth` and `[service.oauth2]` agree, and the JWKS address is one a node may fetch.
    pub fn check(&self, oauth2: Option<&OAuth2Spec>) -> Result<(), String> {
        match (self, oauth2) {
            (ServiceAuth::Oauth2, None) => Err(
                "auth = \"oauth2\" needs [service.oauth2] with issuer, audience and jwks_uri"
                    .into(),
            ),
            (ServiceAuth::Oauth2, Some(o)) => o.check(),
            (_, Some(_)) => Err("[service.oauth2] is only used with auth = \"oauth2\"".into()),
            (_, None) => Ok(()),
        }
    }
}

impl OAuth2Spec {
    fn check(&self) -> Result<(), String> {
        let url = url::Url::parse(&self.jwks_uri)
            .map_err(|e| format!("jwks_uri `{}`: {e}", self.jwks_uri))?;
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        match url.scheme() {
            "https" => Ok(()),
            "http" if loopback => Ok(()),
            _ => Err(format!(
                "jwks_uri `{}` must be https:// (or http:// to a loopback address)",
                self.jwks_uri
            )),
        }
    }
}

/// `[service.oauth2]`: tokens must be signed by a key of `jwks_uri` (RS256/ES256…), issued by
/// `issuer`, for `audience`, unexpired, and carry every one of `scopes` (the `scope` claim).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Spec {
    pub issuer: String,
    pub audience: String,
    /// Where the issuer publishes its keys: `https://…`, or `http://` to a loopback address.
    pub jwks_uri: String,
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum EndpointSpec {
    /// A predictor component scoring rows, with its model files.
    Prediction {
        name: String,
        /// Predictor plugin: a built-in name (`predictor-linear`) or a key of `[plugins]`.
        predictor: String,
        /// Model files or directories (relative to the workflow), mounted at `/model`.
        #[serde(default)]
        artifacts: Vec<PathBuf>,
        #[serde(default)]
        input: BTreeMap<String, ColumnType>,
        #[serde(default)]
        output: BTreeMap<String, ColumnType>,
    },
    /// Rows of a table served by key (a snapshot taken when packaging).
    Lookup {
        name: String,
        table: String,
        key: String,
    },
    /// A parameterised SQL query over snapshots of tables taken when packaging (Dataiku's SQL
    /// query endpoint): `POST …/{endpoint}/query` with `{"parameters": {name: value}}`.
    Sql {
        name: String,
        /// The tables the query reads, each by its name.
        tables: Vec<String>,
        /// One read-only query; `$name` stands for parameter `name`.
        query: String,
        /// Parameter name → type (int64, float64, boolean, utf8, timestamp); every one is
        /// required in a request.
        #[serde(default)]
        parameters: BTreeMap<String, ColumnType>,
        /// The most rows an answer holds (a query that would return more is stopped):
        /// 1 to 10,000, the default.
        max_rows: Option<usize>,
    },
}

/// The types a SQL endpoint's parameter may have: the ones a JSON value gives unambiguously.
pub const PARAMETER_TYPES: [ColumnType; 5] = [
    ColumnType::Int64,
    ColumnType::Float64,
    ColumnType::Boolean,
    ColumnType::Utf8,
    ColumnType::Timestamp,
];

/// The most rows a SQL endpoint's answer may hold.
pub const MAX_SQL_ROWS: usize = 10_000;

impl EndpointSpec {
    pub fn name(&self) -> &str {
        match self {
            EndpointSpec::Prediction { name, .. }
            | EndpointSpec::Lookup { name, .. }
            | EndpointSpec::Sql { name, .. } => name,
        }
    }
}
