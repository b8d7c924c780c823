//! The import step: source, parser, what they may touch (grants, credentials), limits.

use std::path::PathBuf;

use serde::Deserialize;

use super::*;
use crate::units::{ByteSize, HumanDuration};

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
    /// Objects downloaded at once, ahead of the parser (default 4); also the most parsed at
    /// once (and never more than the machine's cores).
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
