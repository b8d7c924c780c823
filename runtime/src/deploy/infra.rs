//! Infras: declared in TOML (`[infras.NAME]` in a workflow or in a file for
//! `ferry infras apply`), stored with the declarations of the credentials they use so that any
//! later command can reach them, and turned into what a deployer plugin runs with.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::DeployError;
use crate::context::Context;
use crate::credentials::SecretSource;
use crate::host::{
    CallLimits, CancelToken, Catalog, DirAccess, GrantProblem, HostGrants, InstanceOptions,
    LoadedPlugin, OutboundPolicy, PluginHost, PluginKind, Sandbox,
};
use crate::store::InfraRecord;
use crate::workflow::{InfraSpec, plugin_settings};
use crate::workflow::{infra_grant_names, ungranted_credentials};

/// How long an update or delete may take when the infra does not say.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// The pause between checks on a running operation when the infra does not say.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// A stored infra, decoded.
#[derive(Debug, Clone)]
pub struct Infra {
    pub name: String,
    pub spec: InfraSpec,
}

impl Infra {
    pub fn timeout(&self) -> Duration {
        self.spec.timeout.map(|t| t.0).unwrap_or(DEFAULT_TIMEOUT)
    }

    pub fn poll_interval(&self) -> Duration {
        self.spec
            .poll_interval
            .map(|t| t.0)
            .unwrap_or(DEFAULT_POLL_INTERVAL)
    }

    pub fn limits(&self) -> CallLimits {
        let defaults = CallLimits::default();
        CallLimits {
            memory: self.spec.limits.memory.unwrap_or(defaults.memory),
            timeout: self
                .spec
                .limits
                .timeout
                .map(|t| t.0)
                .unwrap_or(defaults.timeout),
        }
    }

    /// The deployer plugin for this infra's type, compiled and linked.
    pub fn plugin(
        &self,
        catalog: &Catalog,
        host: &PluginHost,
    ) -> Result<Arc<LoadedPlugin>, DeployError> {
        let loaded = match &self.spec.deployer {
            Some(own) => {
                let name = own
                    .path
                    .file_stem()
                    .map(|s| s.to_string_lossy().replace('_', "-"))
                    .unwrap_or_else(|| "deployer".into());
                host.load_pinned(&name, &own.path, PluginKind::Deployer, Some(&own.sha256))
            }
            None => {
                let name = self.spec.kind.plugin();
                catalog
                    .resolve(name, &Default::default())
                    .and_then(|path| host.load(name, &path, PluginKind::Deployer))
            }
        };
        loaded.map_err(|e| DeployError::Invalid(format!("infra `{}`: {e}", self.name)))
    }

    /// What the deployer may reach and with which credentials; a missing secret is an error
    /// naming the variable to set.
    pub fn outbound(&self, secrets: &SecretSource) -> Result<OutboundPolicy, DeployError> {
        let (policy, problems) = crate::grants::policy(
            &self.spec.hosts,
            &self.spec.credentials,
            &self.spec.declared_credentials,
            secrets,
        );
        self.refuse(problems).map(|()| policy)
    }

    /// What is wrong with the infra's grants and settings whatever the secrets: host patterns
    /// that do not parse, two credentials for one host, an endpoint setting on a host nothing
    /// grants. An infra with any is not stored.
    pub fn check_grants(&self) -> Result<(), DeployError> {
        let (grants, mut problems) = crate::grants::parse(&self.spec.hosts, &self.spec.credentials);
        problems.extend(self.ungranted_endpoints(&grants));
        self.refuse(problems)
    }

    /// Endpoint settings (`endpoint`, `s3_endpoint`, `nodes`, …) whose host `grants` lack.
    fn ungranted_endpoints(&self, grants: &HostGrants) -> Vec<GrantProblem> {
        plugin_settings(&self.spec.settings)
            .map(|settings| grants.ungranted_endpoints(&settings))
            .unwrap_or_default()
    }

    /// `Ok` without problems, else one error naming the infra and each problem.
    fn refuse(&self, problems: Vec<GrantProblem>) -> Result<(), DeployError> {
        if problems.is_empty() {
            return Ok(());
        }
        Err(DeployError::Invalid(format!(
            "infra `{}`: {}",
            self.name,
            problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        )))
    }

    /// The deployer plugin and what its instances run with: the infra's settings, hosts,
    /// credentials and limits, plus `dirs` (the packages, when an operation needs them).
    pub fn sandboxed(
        &self,
        ferry: &Context,
        step: String,
        dirs: Vec<DirAccess>,
        cancel: CancelToken,
    ) -> Result<(Arc<LoadedPlugin>, InstanceOptions), DeployError> {
        let plugin = self.plugin(&ferry.catalog, &ferry.host)?;
        let options = InstanceOptions {
            step: step.into(),
            sandbox: Sandbox {
                dirs,
                settings: self.settings()?,
                outbound: Arc::new(self.outbound(&ferry.secrets())?),
            },
            limits: self.limits(),
            cancel,
        };
        Ok((plugin, options))
    }

    pub fn settings(&self) -> Result<std::collections::BTreeMap<String, String>, DeployError> {
        plugin_settings(&self.spec.settings)
            .map_err(|m| DeployError::Invalid(format!("infra `{}`: {m}", self.name)))
    }
}

/// Stores infra `name` as decoded by [`InfraSpec::decode`] (its table standing on its own).
pub async fn put(
    ferry: &Context,
    name: &str,
    spec: &InfraSpec,
    table: &toml::Table,
) -> Result<InfraRecord, DeployError> {
    crate::paths::check(crate::paths::NameKind::Infra, name)?;
    Infra {
        name: name.to_owned(),
        spec: spec.clone(),
    }
    .check_grants()?;
    let json = serde_json::to_value(table)
        .map_err(|e| DeployError::Invalid(format!("infra `{name}`: {e}")))?;
    Ok(ferry
        .store
        .put_infra(name, spec.kind.name(), &spec.stage, &json)
        .await?)
}

/// An infra in its stored form (as an export carries it), decoded and checked as [`put`]
/// checks it, without storing it: its type, its stage and the JSON to store.
pub fn checked_record(
    name: &str,
    stored: &serde_json::Value,
) -> Result<(String, String, serde_json::Value), DeployError> {
    crate::paths::check(crate::paths::NameKind::Infra, name)?;
    let table: toml::Table = serde_json::from_value(stored.clone())
        .map_err(|e| DeployError::Invalid(format!("infra `{name}` is unreadable: {e}")))?;
    let (spec, table) = InfraSpec::decode(name, &table, None).map_err(DeployError::Invalid)?;
    Infra {
        name: name.to_owned(),
        spec: spec.clone(),
    }
    .check_grants()?;
    let json = serde_json::to_value(&table)
        .map_err(|e| DeployError::Invalid(format!("infra `{name}`: {e}")))?;
    Ok((spec.kind.name().to_owned(), spec.stage.clone(), json))
}

/// The infras of an infra file (`kind = "infras"`, `[credentials.*]`, `[infras.*]`), each
/// decoded with the declarations of its credentials: the name, the spec and the table to store.
pub fn read_file(path: &Path) -> Result<Vec<(String, InfraSpec, toml::Table)>, DeployError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| DeployError::Invalid(format!("cannot read {}: {e}", path.display())))?;
    let doc: toml::Table = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start].lines().count().max(1))
            .unwrap_or(1);
        DeployError::Invalid(format!("{}:{line}: {}", path.display(), e.message().trim()))
    })?;
    let unknown: Vec<&String> = doc
        .keys()
        .filter(|k| !matches!(k.as_str(), "credentials" | "infras" | "kind"))
        .collect();
    if !unknown.is_empty() {
        return Err(DeployError::Invalid(format!(
            "{}: unknown key `{}`; an infra file holds [credentials.*] and [infras.*]",
            path.display(),
            unknown[0]
        )));
    }
    if let Some(kind) = doc.get("kind")
        && kind.as_str() != Some("infras")
    {
        return Err(DeployError::Invalid(format!(
            "{}: kind = {kind} is not an infra file (kind = \"infras\")",
            path.display()
        )));
    }
    let declarations = doc.get("credentials").and_then(|c| c.as_table());
    let Some(infras) = doc.get("infras").and_then(|i| i.as_table()) else {
        return Err(DeployError::Invalid(format!(
            "{}: no [infras.NAME] table",
            path.display()
        )));
    };
    let granted: Vec<String> = infras
        .values()
        .filter_map(|raw| raw.as_table())
        .flat_map(infra_grant_names)
        .collect();
    let declared = declarations
        .into_iter()
        .flat_map(|d| d.keys().map(String::as_str));
    if let Some((_, message)) = ungranted_credentials(declared, &granted).into_iter().next() {
        return Err(DeployError::Invalid(format!(
            "{}: {message}",
            path.display()
        )));
    }
    let mut decoded = Vec::new();
    for (name, raw) in infras {
        let raw = raw.as_table().ok_or_else(|| {
            DeployError::Invalid(format!("{}: infras.{name} is not a table", path.display()))
        })?;
        crate::paths::check(crate::paths::NameKind::Infra, name)
            .map_err(|e| DeployError::Invalid(format!("{}: {e}", path.display())))?;
        let mut raw = raw.clone();
        let base = std::path::absolute(path)
            .ok()
            .and_then(|p| p.parent().map(Path::to_owned))
            .unwrap_or_default();
        InfraSpec::resolve_paths(&mut raw, &base);
        let (spec, table) = InfraSpec::decode(name, &raw, declarations)
            .map_err(|m| DeployError::Invalid(format!("{}: {m}", path.display())))?;
        decoded.push((name.clone(), spec, table));
    }
    for (name, spec, _) in &decoded {
        let infra = Infra {
            name: name.clone(),
            spec: spec.clone(),
        };
        infra
            .check_grants()
            .map_err(|e| DeployError::Invalid(format!("{}: {e}", path.display())))?;
    }
    Ok(decoded)
}

/// Stores infra `name` from its JSON form as a client sends it back (camelCase keys, as
/// shown), keeping its credential grants: which hosts get the server's secrets is the
/// operator's to say, with `ferry infras apply` on the server. Returns the record and whether
/// the infra existed before.
pub async fn replace_keeping_grants(
    ferry: &Context,
    name: &str,
    body: &serde_json::Value,
) -> Result<(InfraRecord, bool), DeployError> {
    let table: toml::Table = serde_json::from_value(crate::store::spec_from_client(body))
        .map_err(|_| DeployError::Invalid("the body must be the infra as a JSON object".into()))?;
    let (spec, table) = InfraSpec::decode(name, &table, None).map_err(DeployError::Invalid)?;
    let stored = ferry.store.infra(name).await?;
    let grants = |t: Option<&toml::Table>| {
        ["credentials", "declared_credentials", "deployer"]
            .map(|k| t.and_then(|t| t.get(k)).cloned())
    };
    let before: Option<toml::Table> = stored
        .as_ref()
        .and_then(|i| serde_json::from_value(i.spec.clone()).ok());
    if grants(Some(&table)) != grants(before.as_ref()) {
        return Err(DeployError::Forbidden(format!(
            "infra `{name}`: credentials, the hosts they are sent to, and its own deployer can be changed only with `ferry infras apply` on the server"
        )));
    }
    let record = put(ferry, name, &spec, &table).await?;
    Ok((record, stored.is_some()))
}

/// Reads an infra file (`[credentials.*]` and `[infras.*]`) and stores every infra in it.
/// Nothing is stored unless every infra in the file is valid.
pub async fn apply_file(ferry: &Context, path: &Path) -> Result<Vec<InfraRecord>, DeployError> {
    let decoded = read_file(path)?;
    let mut stored = Vec::new();
    for (name, spec, table) in decoded {
        stored.push(put(ferry, &name, &spec, &table).await?);
    }
    Ok(stored)
}

/// Infra `name` from the store.
pub async fn load(ferry: &Context, name: &str) -> Result<Infra, DeployError> {
    let record = ferry
        .store
        .infra(name)
        .await?
        .ok_or_else(|| DeployError::UnknownInfra(name.to_owned()))?;
    decode(record)
}

/// Everything that can be checked before an infra is used: its plugin loads, its secrets are
/// there, its settings can be handed over.
pub fn check(
    infra: &Infra,
    catalog: &Catalog,
    host: &PluginHost,
    secrets: &SecretSource,
) -> Result<(), DeployError> {
    infra.plugin(catalog, host)?;
    infra.settings()?;
    let (_, mut problems) = crate::grants::policy(
        &infra.spec.hosts,
        &infra.spec.credentials,
        &infra.spec.declared_credentials,
        secrets,
    );
    // Judged on the grants as written: a credential whose secret is missing still grants
    // its hosts.
    let (grants, _) = crate::grants::parse(&infra.spec.hosts, &infra.spec.credentials);
    problems.extend(infra.ungranted_endpoints(&grants));
    infra.refuse(problems)
}

pub fn decode(record: InfraRecord) -> Result<Infra, DeployError> {
    let table: toml::Table = serde_json::from_value(record.spec.clone()).map_err(|e| {
        DeployError::Invalid(format!("stored infra `{}` is unreadable: {e}", record.name))
    })?;
    let (spec, _) = InfraSpec::decode(&record.name, &table, None).map_err(DeployError::Invalid)?;
    Ok(Infra {
        name: record.name,
        spec,
    })
}
