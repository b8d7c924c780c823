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
mod status;
mod target;

pub use infra::Infra;
pub use operation::run as run_operation;
pub use status::{DetailedStatus, ResourceStatus, observe};

use crate::context::Context;
use crate::host::{CancelToken, PluginError};
use crate::package::PackageError;
use crate::store::{
    DeploymentRecord, Desired, OperationAction, OperationRecord, OperationStatus, Share, StoreError,
};
use crate::workflow::InfraKind;

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
    #[error(transparent)]
    Name(#[from] crate::paths::NameError),
    /// Allowed only where the operator is (on the server, not over HTTP).
    #[error("{0}")]
    Forbidden(String),
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
            DeployError::Invalid(_) | DeployError::Name(_) => "invalid",
            DeployError::Forbidden(_) => "credential_grants",
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
fn check_shares(ferry: &Context, service: &str, shares: &[Share]) -> Result<(), DeployError> {
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

pub async fn get(ferry: &Context, id: &str) -> Result<DeploymentRecord, DeployError> {
    ferry
        .store
        .deployment(id)
        .await?
        .ok_or_else(|| DeployError::NotFound(id.to_owned()))
}

/// Longest deployment id: cloud resource names are built from it.
const MAX_ID: usize = 40;

/// Deployment ids name cloud resources as they are, so they follow the strictest rules
/// among the clouds': a lowercase letter, then lowercase letters, digits and single `-`.
pub fn valid_id(id: &str) -> bool {
    id.len() <= MAX_ID
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `<service>-<infra>` made a valid id (a deploy step that names no deployment).
pub fn default_id(service: &str, infra: &str) -> String {
    let mut id = String::new();
    for c in format!("{service}-{infra}").chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '-'
        };
        if !(c == '-' && (id.is_empty() || id.ends_with('-'))) {
            id.push(c);
        }
    }
    if !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        id.insert_str(0, "d-");
    }
    id.truncate(MAX_ID);
    id.trim_end_matches('-').to_owned()
}

/// Records a deployment (nothing runs until an update).
pub async fn create(ferry: &Context, new: NewDeployment) -> Result<DeploymentRecord, DeployError> {
    if !valid_id(&new.id) {
        return Err(DeployError::Invalid(format!(
            "deployment id `{}` must start with a lowercase letter and use only lowercase letters, digits and single `-`, at most {MAX_ID} characters",
            new.id
        )));
    }
    let infra = infra::load(ferry, &new.infra).await?;
    check_shares(ferry, &new.service, &new.versions)?;
    // API nodes serve one version of a service: two deployments would push over each other.
    if infra.spec.kind == InfraKind::Static
        && let Some(other) = ferry
            .store
            .list_deployments(Some(&new.service), Some(&new.infra))
            .await?
            .first()
    {
        return Err(DeployError::Conflict(format!(
            "deployment `{}` already serves {} on the nodes of infra `{}`; switch its version instead",
            other.id, new.service, new.infra
        )));
    }
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
    ferry: &Context,
    id: &str,
    shares: Vec<Share>,
) -> Result<DeploymentRecord, DeployError> {
    let d = get(ferry, id).await?;
    check_shares(ferry, &d.service, &shares)?;
    ferry.store.set_desired(id, Some(&shares), None).await?;
    get(ferry, id).await
}

/// Enables or disables; an update applies it.
pub async fn set_enabled(
    ferry: &Context,
    id: &str,
    enabled: bool,
) -> Result<DeploymentRecord, DeployError> {
    get(ferry, id).await?;
    ferry.store.set_desired(id, None, Some(enabled)).await?;
    get(ferry, id).await
}

/// Starts an update: records the operation; [`run_operation`] carries it out, in this
/// process.
pub async fn start_update(ferry: &Context, id: &str) -> Result<OperationRecord, DeployError> {
    get(ferry, id).await?;
    start(ferry, id, OperationAction::Update).await
}

async fn start(
    ferry: &Context,
    id: &str,
    action: OperationAction,
) -> Result<OperationRecord, DeployError> {
    fail_interrupted(ferry).await?;
    Ok(ferry
        .store
        .start_operation(id, action, std::process::id(), runner())
        .await?)
}

/// A token for this process, told apart from an earlier one with the same pid.
fn runner() -> &'static str {
    static RUNNER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    RUNNER.get_or_init(|| uuid::Uuid::new_v4().simple().to_string())
}

/// Ends operations left RUNNING by a process that is gone (killed, crashed), so the
/// deployment can be updated again; what they did is in the deployer's stored state.
pub async fn fail_interrupted(ferry: &Context) -> Result<usize, DeployError> {
    let mut ended = 0;
    for op in ferry.store.running_operations().await? {
        let gone = if op.runner_pid == std::process::id() {
            op.runner != runner()
        } else {
            !crate::store::process_alive(op.runner_pid)
        };
        if gone {
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
            // Its scratch copy of the packages; no other operation of it can be running.
            let _ = std::fs::remove_dir_all(target::scratch(ferry, &op.deployment));
            ended += 1;
        }
    }
    Ok(ended)
}

/// Starts deleting a deployment. An enabled one is refused unless `disable_first`.
pub async fn start_delete(
    ferry: &Context,
    id: &str,
    disable_first: bool,
) -> Result<OperationRecord, DeployError> {
    let d = get(ferry, id).await?;
    if d.desired.enabled && !disable_first {
        return Err(DeployError::Conflict(format!(
            "deployment `{id}` is enabled: disable it first, or delete with --disable-first (disableFirst=true)"
        )));
    }
    let op = start(ferry, id, OperationAction::Delete).await?;
    if d.desired.enabled {
        set_enabled(ferry, id, false).await?;
    }
    Ok(op)
}

/// Runs a started operation to its end in this task; one that did not end DONE is the error,
/// with the infra's message.
pub async fn run_to_end(
    ferry: &Context,
    op: &OperationRecord,
    cancel: &CancelToken,
) -> Result<OperationRecord, DeployError> {
    let ended = run_operation(ferry, op, cancel).await;
    match ended.status {
        OperationStatus::Done => Ok(ended),
        _ => Err(DeployError::Failed {
            code: ended.error_code.clone().unwrap_or_default(),
            message: format!(
                "{} of deployment `{}` {} (operation {}): {}",
                ended.action, ended.deployment, ended.status, ended.id, ended.message
            ),
        }),
    }
}

/// Deletes a package version unless a deployment wants or serves it.
pub async fn delete_package(
    ferry: &Context,
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
pub async fn delete_infra(ferry: &Context, name: &str) -> Result<(), DeployError> {
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
