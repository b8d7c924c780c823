//! The deploy step and the infras it deploys to (`[infras.NAME]`).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::*;
use crate::units::HumanDuration;

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
    /// A deployer of your own instead of the type's built-in one (`ferry plugin new deployer`):
    /// `deployer = { path = "build/my_deployer.wasm", sha256 = "…" }`, pinned because a stored
    /// infra runs it later; a relative path is taken from the file that declares the infra.
    pub deployer: Option<PinnedPlugin>,
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
    /// Makes a relative `deployer.path` of raw infra `table` absolute, from `base` (the
    /// directory of the file that declares it), so the stored infra stands on its own.
    pub fn resolve_paths(table: &mut toml::Table, base: &std::path::Path) {
        if let Some(toml::Value::Table(deployer)) = table.get_mut("deployer")
            && let Some(toml::Value::String(path)) = deployer.get_mut("path")
            && std::path::Path::new(path.as_str()).is_relative()
        {
            *path = base.join(path.as_str()).display().to_string();
        }
    }

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
                        crate::workflow::did_you_mean(&credential, declared.map(String::as_str))
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
