//! Deployments: a service's packaged versions served on an infra (ferry API nodes, SageMaker,
//! Vertex AI), as in Dataiku's API Deployer.
//!
//! Desired state (versions with their traffic shares, enabled or not) is set by users; an
//! `update` operation makes the infra match it through the infra's deployer plugin, and
//! records what it then observes (health, serving versions, URLs). Operations run one at a
//! time per deployment and are recorded, so a client can wait on one. `delete` removes what
//! the deployer created, then the record. The infra's secrets stay with the host: deployer
//! plugins reach their clouds through `wasi:http` and the host signs on the way out.

pub mod infra;
mod operation;
mod target;

use serde::Serialize;

pub use infra::Infra;
pub use operation::run as run_operation;

use crate::engine::Ferry;
use crate::host::{CancelToken, DeployHealth, PluginError};
use crate::package::PackageError;
use crate::store::{
    DeploymentHealth, DeploymentRecord, Desired, Observed, OperationAction, OperationRecord, Share,
    StoreError, now,
};
use crate::workflow::is_identifier;

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("no deployment `{0}`")]
    NotFound(String),
    #[error("no infra `{0}`: declare it and run `ferry infras apply FILE` (or in the workflow)")]
    UnknownInfra(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    /// The deployer or its cloud said no; the cloud's own message is in `message`.
    #[error("{message}")]
    Failed { code: String, message: String },
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error("{0}")]
    Store(StoreError),
}

impl From<StoreError> for DeployError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => DeployError::Conflict(m),
            other => DeployError::Store(other),
        }
    }
}

impl From<PluginError> for DeployError {
    fn from(e: PluginError) -> Self {
        DeployError::Failed {
            code: e.code().to_owned(),
            message: match &e {
                PluginError::Reported {
                    plugin,
                    code,
                    message,
                    ..
                } => format!("{plugin}: {message} [{code}]"),
                other => other.to_string(),
            },
        }
    }
}

impl DeployError {
    /// A short stable code for operation records and API errors.
    pub fn code(&self) -> &str {
        match self {
            DeployError::NotFound(_) | DeployError::UnknownInfra(_) => "not_found",
            DeployError::Invalid(_) => "invalid",
            DeployError::Conflict(_) => "conflict",
            DeployError::Failed { code, .. } => code,
            DeployError::Package(PackageError::NotFound { .. }) => "not_found",
            DeployError::Package(_) => "invalid_package",
            DeployError::Store(_) => "store",
        }
    }
}

/// A new deployment's desired state.
#[derive(Debug, Clone)]
pub struct NewDeployment {
    pub id: String,
    pub service: String,
    pub infra: String,
    pub versions: Vec<Share>,
    pub enabled: bool,
}

/// Parses `v2` (all traffic) or `v1=90 v2=10` (a split) into shares.
pub fn parse_shares(args: &[String]) -> Result<Vec<Share>, DeployError> {
    let shares: Vec<Share> = match args {
        [one] if !one.contains('=') => vec![Share {
            version: one.clone(),
            percent: 100,
        }],
        _ => args
            .iter()
            .map(|a| {
                let (version, percent) = a.split_once('=').ok_or_else(|| {
                    DeployError::Invalid(format!(
                        "`{a}`: give one version, or VERSION=PERCENT for each version of a split"
                    ))
                })?;
                let percent: u8 = percent.trim_end_matches('%').parse().map_err(|_| {
                    DeployError::Invalid(format!("`{a}`: the share must be a percentage"))
                })?;
                Ok(Share {
                    version: version.to_owned(),
                    percent,
                })
            })
            .collect::<Result<_, DeployError>>()?,
    };
    Ok(shares)
}

/// Checks shares: known versions of `service`, distinct, shares summing to 100.
fn check_shares(ferry: &Ferry, service: &str, shares: &[Share]) -> Result<(), DeployError> {
    if shares.is_empty() {
        return Err(DeployError::Invalid("no version given".into()));
    }
    let total: u32 = shares.iter().map(|s| s.percent as u32).sum();
    if total != 100 {
        return Err(DeployError::Invalid(format!(
            "traffic shares add up to {total}%, not 100%"
        )));
    }
    let registry = ferry.packages();
    for (i, share) in shares.iter().enumerate() {
        if shares[..i].iter().any(|s| s.version == share.version) {
            return Err(DeployError::Invalid(format!(
                "version `{}` is given twice",
                share.version
            )));
        }
        registry.info(service, &share.version)?;
    }
    Ok(())
}

pub async fn get(ferry: &Ferry, id: &str) -> Result<DeploymentRecord, DeployError> {
    ferry
        .store
        .deployment(id)
        .await?
        .ok_or_else(|| DeployError::NotFound(id.to_owned()))
}

/// Records a deployment (nothing runs until an update).
pub async fn create(ferry: &Ferry, new: NewDeployment) -> Result<DeploymentRecord, DeployError> {
    if !is_identifier(&new.id) {
        return Err(DeployError::Invalid(format!(
            "deployment id `{}` must use only letters, digits, `-` and `_`",
            new.id
        )));
    }
    infra::load(ferry, &new.infra).await?;
    check_shares(ferry, &new.service, &new.versions)?;
    Ok(ferry
        .store
        .create_deployment(
            &new.id,
            &new.service,
            &new.infra,
            &Desired {
                versions: new.versions,
                enabled: new.enabled,
            },
        )
        .await?)
}

/// Sets the versions (and shares) to serve; an update applies it.
pub async fn set_versions(
    ferry: &Ferry,
    id: &str,
    shares: Vec<Share>,
) -> Result<DeploymentRecord, DeployError> {
    let d = get(ferry, id).await?;
    check_shares(ferry, &d.service, &shares)?;
    let desired = Desired {
        versions: shares,
        enabled: d.desired.enabled,
    };
    ferry.store.set_desired(id, &desired).await?;
    get(ferry, id).await
}

/// Enables or disables; an update applies it.
pub async fn set_enabled(
    ferry: &Ferry,
    id: &str,
    enabled: bool,
) -> Result<DeploymentRecord, DeployError> {
    let d = get(ferry, id).await?;
    let desired = Desired {
        versions: d.desired.versions,
        enabled,
    };
    ferry.store.set_desired(id, &desired).await?;
    get(ferry, id).await
}

/// Starts an update: records the operation; [`run_operation`] carries it out, in this
/// process.
pub async fn start_update(ferry: &Ferry, id: &str) -> Result<OperationRecord, DeployError> {
    get(ferry, id).await?;
    start(ferry, id, OperationAction::Update).await
}

async fn start(
    ferry: &Ferry,
    id: &str,
    action: OperationAction,
) -> Result<OperationRecord, DeployError> {
    fail_interrupted(ferry).await?;
    Ok(ferry
        .store
        .start_operation(id, action, std::process::id())
        .await?)
}

/// Ends operations left RUNNING by a process that is gone (killed, crashed), so the
/// deployment can be updated again; what they did is in the deployer's stored state.
pub async fn fail_interrupted(ferry: &Ferry) -> Result<usize, DeployError> {
    let mut ended = 0;
    for op in ferry.store.running_operations().await? {
        if op.runner_pid != std::process::id() && !crate::engine::process_alive(op.runner_pid) {
            ferry
                .store
                .finish_operation(
                    &op.id,
                    crate::store::OperationStatus::Failed,
                    &format!(
                        "the process running it ({}) stopped before it ended; run update again",
                        op.runner_pid
                    ),
                    Some("interrupted"),
                )
                .await?;
            tracing::warn!(operation = %op.id, deployment = %op.deployment, "operation interrupted");
            ended += 1;
        }
    }
    Ok(ended)
}

/// Starts deleting a deployment. An enabled one is refused unless `disable_first`.
pub async fn start_delete(
    ferry: &Ferry,
    id: &str,
    disable_first: bool,
) -> Result<OperationRecord, DeployError> {
    let d = get(ferry, id).await?;
    if d.desired.enabled {
        if !disable_first {
            return Err(DeployError::Conflict(format!(
                "deployment `{id}` is enabled: disable it first, or delete with --disable-first (disableFirst=true)"
            )));
        }
        set_enabled(ferry, id, false).await?;
    }
    start(ferry, id, OperationAction::Delete).await
}

/// An update, run to its end in this task.
pub async fn update_and_wait(ferry: &Ferry, id: &str) -> Result<OperationRecord, DeployError> {
    let op = start_update(ferry, id).await?;
    Ok(run_operation(ferry, &op, &CancelToken::default()).await)
}

/// The detailed status: asks the infra what it serves now, records it as observed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DetailedStatus {
    #[serde(flatten)]
    pub deployment: DeploymentRecord,
    pub resources: Vec<ResourceStatus>,
}

/// One node or cloud resource.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceStatus {
    pub kind: String,
    pub name: String,
    pub status: String,
    pub versions: Vec<String>,
    pub url: Option<String>,
    pub message: Option<String>,
}

/// Checks the deployment on its infra and records what was observed.
pub async fn observe(ferry: &Ferry, id: &str) -> Result<DetailedStatus, DeployError> {
    let deployment = get(ferry, id).await?;
    let infra = infra::load(ferry, &deployment.infra).await?;
    let shares = target::serving(&deployment).to_vec();
    let (target, _) = target::build(ferry, &deployment, &infra.spec.stage, &shares, false)?;
    let plugin = infra.plugin(&ferry.catalog, &ferry.host)?;
    let options = crate::host::InstanceOptions {
        step: format!("status {id}").into(),
        sandbox: crate::host::Sandbox {
            dirs: Vec::new(),
            settings: infra.settings()?,
            outbound: std::sync::Arc::new(infra.outbound(&ferry.secrets)?),
        },
        limits: infra.limits(),
        cancel: CancelToken::default(),
    };
    let (observed, resources) = match ferry.host.deployer(&plugin, &options).await {
        Ok(mut instance) => match instance.status(&target).await {
            Ok(o) => (
                Observed {
                    health: match o.health {
                        DeployHealth::Healthy => DeploymentHealth::Healthy,
                        DeployHealth::Unhealthy => DeploymentHealth::Unhealthy,
                        DeployHealth::Degraded => DeploymentHealth::Degraded,
                        DeployHealth::Disabled => DeploymentHealth::Disabled,
                        DeployHealth::Unknown => DeploymentHealth::Unknown,
                    },
                    messages: o.messages,
                    versions: o.serving,
                    urls: o.urls,
                    checked_at: now().as_str().to_owned(),
                },
                o.resources
                    .into_iter()
                    .map(|r| ResourceStatus {
                        kind: r.kind,
                        name: r.name,
                        status: r.status,
                        versions: r.versions,
                        url: r.url,
                        message: r.message,
                    })
                    .collect(),
            ),
            Err(e) => (unknown(&e.into()), Vec::new()),
        },
        Err(e) => (unknown(&e.into()), Vec::new()),
    };
    ferry.store.set_observed(id, &observed).await?;
    Ok(DetailedStatus {
        deployment: get(ferry, id).await?,
        resources,
    })
}

/// What is known when the infra could not be asked.
fn unknown(e: &DeployError) -> Observed {
    Observed {
        health: DeploymentHealth::Unknown,
        messages: vec![format!("cannot check the deployment: {e}")],
        versions: Vec::new(),
        urls: Vec::new(),
        checked_at: now().as_str().to_owned(),
    }
}

/// Deletes a package version unless a deployment wants or serves it.
pub async fn delete_package(
    ferry: &Ferry,
    service: &str,
    version: &str,
) -> Result<(), DeployError> {
    let users: Vec<String> = ferry
        .store
        .versions_in_use(service)
        .await?
        .into_iter()
        .filter(|(v, _)| v == version)
        .map(|(_, d)| d)
        .collect();
    if !users.is_empty() {
        return Err(DeployError::Conflict(format!(
            "package {service} {version} is used by deployment{} {}; switch {} to another version first",
            if users.len() == 1 { "" } else { "s" },
            users.join(", "),
            if users.len() == 1 { "it" } else { "them" }
        )));
    }
    Ok(ferry.packages().delete(service, version)?)
}

/// Deletes an infra unless deployments live on it.
pub async fn delete_infra(ferry: &Ferry, name: &str) -> Result<(), DeployError> {
    if ferry.store.delete_infra(name).await? {
        Ok(())
    } else {
        Err(DeployError::UnknownInfra(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn shares_are_one_version_or_a_split() {
        assert_eq!(
            parse_shares(&args(&["v3"])).unwrap(),
            [Share {
                version: "v3".into(),
                percent: 100
            }]
        );
        let split = parse_shares(&args(&["v2=90", "v3=10%"])).unwrap();
        assert_eq!(
            split.iter().map(|s| s.percent).collect::<Vec<_>>(),
            [90, 10]
        );
        assert!(parse_shares(&args(&["v2", "v3"])).is_err());
        assert!(parse_shares(&args(&["v2=lots"])).is_err());
    }
}
