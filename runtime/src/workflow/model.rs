//! The workflow file as written: serde types that mirror the TOML one to one. Every table
//! denies unknown keys, so a typo is an error rather than a silently ignored setting.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::units::{ByteSize, HumanDuration};

/// Top level of a workflow file. Steps are kept as raw tables here and decoded per `kind`
/// afterwards, so that an error inside a step can name the step.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWorkflow {
    /// `kind = "workflow"` (the default) — see [`FileKind`]; the other kinds are told apart
    /// before this is decoded, so only its presence matters here.
    #[serde(default)]
    #[allow(dead_code)]
    pub kind: Option<FileKind>,
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub plugins: BTreeMap<String, PathBuf>,
    #[serde(default)]
    pub credentials: BTreeMap<String, CredentialSpec>,
    /// The API service a `package` step packages.
    pub service: Option<ServiceSpec>,
    /// Or a file holding it (`id`, `description`, `[[endpoints]]`), shared by workflows; its
    /// artifact paths are relative to it.
    pub service_file: Option<PathBuf>,
    /// Infras a `deploy` step may deploy to; raw here, decoded by [`InfraSpec::decode`] so the
    /// stored form can carry the credential declarations it uses.
    #[serde(default)]
    pub infras: BTreeMap<String, toml::Table>,
    #[serde(default)]
    pub steps: Vec<toml::Spanned<toml::Table>>,
}

/// What a ferry TOML file holds, by its top-level `kind` key, so one directory (such as
/// `workflows/`) can hold workflows beside the infra and service files they use, and
/// `ferry validate` and `ferry serve` tell them apart. Without `kind`, a file is a workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Workflow,
    /// `[credentials.*]` and `[infras.*]`, for `ferry infras apply`.
    Infras,
    /// A `[service]` on its own (`id`, `[[endpoints]]`), named by workflows' `service_file`.
    Service,
}

impl FileKind {
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Workflow => "workflow",
            FileKind::Infras => "infras",
            FileKind::Service => "service",
        }
    }

    /// The kind a file's text declares; `None` when it is not TOML or `kind` is not one of
    /// the kinds (the file's own parser then says what is wrong).
    pub fn of(text: &str) -> Option<FileKind> {
        #[derive(Deserialize)]
        struct Head {
            kind: Option<FileKind>,
        }
        match toml::from_str::<Head>(text) {
            Ok(Head { kind }) => Some(kind.unwrap_or(FileKind::Workflow)),
            Err(_) => None,
        }
    }
}

/// The kinds of step ferry knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    Import,
    Validate,
    Ingest,
    Package,
    Deploy,
}

impl StepKind {
    pub const ALL: [&'static str; 5] = ["import", "validate", "ingest", "package", "deploy"];
}

/// `kind = "deploy"`: after the package step, makes a deployment serve the new version and
/// waits until it does.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployStep {
    pub name: String,
    pub kind: StepKind,
    /// The package step whose version to deploy.
    pub input: String,
    /// An infra of this file's `[infras]`, or one stored with `ferry infras apply`.
    pub infra: String,
    /// The deployment to create or switch; `<service>-<infra>` when absent.
    pub deployment: Option<String>,
}

/// Where deployments run (`[infras.NAME]`, in a workflow or in a file for
/// `ferry infras apply`). Non-secret: credentials are named, their secrets come from the
/// environment or the secrets file whenever the infra is used.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfraSpec {
    #[serde(rename = "type")]
    pub kind: InfraKind,
    /// `dev`, `prod`, …: shown with deployments and handed to the deployer for naming.
    #[serde(default = "default_stage")]
    pub stage: String,
    /// Settings for the deployer plugin (nodes, bucket, image, …).
    #[serde(default)]
    pub settings: toml::Table,
    /// Hosts the deployer may reach: `scheme://host[:port]`, `*` wildcards.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Credentials the host adds to the deployer's requests for some hosts.
    #[serde(default)]
    pub credentials: Vec<CredentialGrant>,
    #[serde(default)]
    pub limits: Limits,
    /// How long one update or delete may take before it fails (default 15m).
    pub timeout: Option<HumanDuration>,
    /// The pause between checks on a running operation (default 2s).
    pub poll_interval: Option<HumanDuration>,
    /// The declarations of the credentials above, copied in from the file's `[credentials]`
    /// when the infra is stored, so it can be used again without the file.
    #[serde(default)]
    pub declared_credentials: BTreeMap<String, CredentialSpec>,
}

fn default_stage() -> String {
    "dev".to_owned()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InfraKind {
    /// ferry API nodes (`ferry serve`).
    Static,
    Sagemaker,
    Vertex,
}

impl InfraKind {
    pub fn name(self) -> &'static str {
        match self {
            InfraKind::Static => "static",
            InfraKind::Sagemaker => "sagemaker",
            InfraKind::Vertex => "vertex",
        }
    }

    /// The built-in deployer plugin for this kind of infra.
    pub fn plugin(self) -> &'static str {
        match self {
            InfraKind::Static => "deploy-static",
            InfraKind::Sagemaker => "deploy-sagemaker",
            InfraKind::Vertex => "deploy-vertex",
        }
    }
}

impl InfraSpec {
    /// Decodes infra `name` from its raw table, copying in the declarations of the credentials
    /// it names from `declarations` (a file's raw `[credentials]`). Returns the spec and the
    /// table to store, which then stands on its own.
    pub fn decode(
        name: &str,
        raw: &toml::Table,
        declarations: Option<&toml::Table>,
    ) -> Result<(InfraSpec, toml::Table), String> {
        let mut table = raw.clone();
        let names: Vec<String> = table
            .get("credentials")
            .and_then(|c| c.as_array())
            .into_iter()
            .flatten()
            .filter_map(|g| g.get("name").and_then(|n| n.as_str()).map(str::to_owned))
            .collect();
        let mut declared = match table.remove("declared_credentials") {
            Some(toml::Value::Table(t)) => t,
            _ => toml::Table::new(),
        };
        for credential in names {
            if declared.contains_key(&credential) {
                continue;
            }
            match declarations.and_then(|d| d.get(&credential)) {
                Some(spec) => {
                    declared.insert(credential, spec.clone());
                }
                None => {
                    let mut message = format!(
                        "infra `{name}`: credential `{credential}` is not declared in [credentials]"
                    );
                    let declared = declarations.into_iter().flat_map(|d| d.keys());
                    if let Some(close) =
                        super::did_you_mean(&credential, declared.map(String::as_str))
                    {
                        message.push_str(&format!(", did you mean `{close}`?"));
                    }
                    return Err(message);
                }
            }
        }
        if !declared.is_empty() {
            table.insert("declared_credentials".into(), toml::Value::Table(declared));
        }
        let spec = InfraSpec::deserialize(toml::Value::Table(table.clone()))
            .map_err(|e| format!("infra `{name}`: {}", e.message().trim()))?;
        Ok((spec, table))
    }
}

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
}

impl EndpointSpec {
    pub fn name(&self) -> &str {
        match self {
            EndpointSpec::Prediction { name, .. } | EndpointSpec::Lookup { name, .. } => name,
        }
    }
}

/// `kind = "import"`: a source plugin lists and reads objects, a parser plugin decodes them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportStep {
    pub name: String,
    pub kind: StepKind,
    /// Source plugin: a built-in name (`source-local`) or a key of `[plugins]`.
    pub source: String,
    /// Parser plugin: a built-in name (`parser-csv`, `parser-ndjson`) or a key of `[plugins]`.
    pub parser: String,
    /// Only objects whose key starts with this.
    #[serde(default)]
    pub prefix: String,
    /// Only objects whose key matches this glob (`*.csv`, `**/*.json.gz`).
    pub glob: Option<String>,
    /// `auto` decompresses `.gz` keys; `gzip` and `none` force the choice.
    #[serde(default)]
    pub compression: Compression,
    /// Limits on what one compressed object may inflate to.
    #[serde(default)]
    pub decompression: DecompressionLimits,
    #[serde(default)]
    pub source_settings: toml::Table,
    #[serde(default)]
    pub parser_settings: toml::Table,
    #[serde(default)]
    pub grants: Grants,
    #[serde(default)]
    pub limits: Limits,
    /// Skip objects an earlier job of this workflow passed. Defaults to on in `append` mode;
    /// `replace` mode always reads everything.
    pub incremental: Option<bool>,
    /// What an incremental import does with a passed object whose ETag/generation changed.
    #[serde(default)]
    pub on_change: OnChange,
    /// Objects downloaded at once, ahead of the parser (default 4).
    pub concurrency: Option<usize>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnChange {
    /// A changed object stays imported as it was.
    #[default]
    Skip,
    /// A changed object is imported again (its new rows are appended).
    Reimport,
}

/// A credential the host holds: its kind and non-secret parameters. The secret values are
/// never in the workflow; they come from the environment or the secrets file.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum CredentialSpec {
    /// AWS Signature V4: secrets `access_key_id`, `secret_access_key`, optional `session_token`.
    /// Requests are signed for `service` (default `s3`), or, for several services behind the
    /// same hosts (an emulator serving S3 and SageMaker on one port), for whichever of
    /// `services` each request is for ([`crate::credentials::AwsSigner`] says how it tells).
    Aws {
        region: String,
        service: Option<String>,
        #[serde(default)]
        services: Vec<String>,
    },
    /// Google OAuth bearer token: secret `access_token`, or `service_account_key` (the key
    /// file's JSON), exchanged for tokens and refreshed by the host.
    Gcp {
        #[serde(default)]
        scopes: Vec<String>,
        token_uri: Option<String>,
    },
    /// A static token sent as `Authorization: Bearer`: secret `token` (for example the admin
    /// key of ferry API nodes). A struct variant, so that a `token` written here by mistake is
    /// refused (serde ignores the fields of a tagged unit variant) rather than stored.
    Bearer {},
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    Auto,
    Gzip,
    None,
}

/// `decompression = { max_size = "16GiB", max_ratio = 250 }`: an object that inflates to more
/// than `max_size`, or more than `max_ratio` times its compressed size (judged after the first
/// 16 MiB), fails with `decompression_limit`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecompressionLimits {
    pub max_size: Option<ByteSize>,
    pub max_ratio: Option<u64>,
}

/// What a step's plugins may touch. Everything not granted is denied.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grants {
    #[serde(default)]
    pub dirs: Vec<DirGrant>,
    /// Hosts the source may reach over HTTP: `scheme://host[:port]`, `*` wildcards.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Credentials the host adds to requests for some hosts (which are then allowed too).
    #[serde(default)]
    pub credentials: Vec<CredentialGrant>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialGrant {
    /// A key of the workflow's `[credentials]`.
    pub name: String,
    pub hosts: Vec<String>,
}

/// A host directory made visible to the source plugin at `mount`, read-only unless `write`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirGrant {
    /// Host path, relative to the workflow file's directory.
    pub path: PathBuf,
    /// Path the plugin sees (absolute, for example `/data`).
    pub mount: String,
    #[serde(default)]
    pub write: bool,
}

/// Resource limits for every plugin call of the step.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub memory: Option<ByteSize>,
    pub timeout: Option<HumanDuration>,
}

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

/// `kind = "ingest"`: commit rows to a table, one commit per source object.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestStep {
    pub name: String,
    pub kind: StepKind,
    pub input: String,
    pub table: String,
    #[serde(default)]
    pub mode: IngestMode,
    /// The job fails once more rows than this were skipped by error. Unlimited when absent.
    pub max_parse_exceptions: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IngestMode {
    /// Each object's rows are committed as soon as it is read, resumable object by object.
    #[default]
    Append,
    /// The job's rows atomically replace the table in one commit at the end.
    Replace,
}
