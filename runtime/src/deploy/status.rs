//! What a deployment looks like now, asked of its infra through the deployer's `status`, and
//! recorded as its observed state. A check that cannot be made (a missing secret, a peer
//! that does not answer) is recorded as UNKNOWN with why, keeping what was last seen served.

use serde::Serialize;

use super::{DeployError, get, infra, target};
use crate::context::Context;
use crate::host::{CancelToken, DeployHealth, TargetStatus as Seen};
use crate::store::{DeploymentHealth, DeploymentRecord, Observed, now};

/// The detailed status: the deployment with what each node or cloud resource said.
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
pub async fn observe(ferry: &Context, id: &str) -> Result<DetailedStatus, DeployError> {
    let deployment = get(ferry, id).await?;
    let (observed, resources) = match ask(ferry, &deployment).await {
        Ok(seen) => (
            Observed {
                health: match seen.health {
                    DeployHealth::Healthy => DeploymentHealth::Healthy,
                    DeployHealth::Unhealthy => DeploymentHealth::Unhealthy,
                    DeployHealth::Degraded => DeploymentHealth::Degraded,
                    DeployHealth::Disabled => DeploymentHealth::Disabled,
                    DeployHealth::Unknown => DeploymentHealth::Unknown,
                },
                messages: seen.messages,
                versions: seen.serving,
                urls: seen.urls,
                checked_at: now().as_str().to_owned(),
            },
            seen.resources
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
        Err(e) => (unknown(&deployment, &e), Vec::new()),
    };
    ferry.store.set_observed(id, &observed).await?;
    Ok(DetailedStatus {
        deployment: get(ferry, id).await?,
        resources,
    })
}

async fn ask(ferry: &Context, deployment: &DeploymentRecord) -> Result<Seen, DeployError> {
    let infra = infra::load(ferry, &deployment.infra).await?;
    let shares = target::serving(deployment).to_vec();
    let (target, _) = target::build(ferry, deployment, &infra.spec.stage, &shares, false)?;
    let (plugin, options) = infra.sandboxed(
        ferry,
        format!("status {}", deployment.id),
        Vec::new(),
        CancelToken::default(),
    )?;
    let mut instance = ferry.host.deployer(&plugin, &options).await?;
    Ok(instance.status(&target).await?)
}

/// What is known when the infra could not be asked: not whether it serves, but what it
/// served when last seen (so a version in use stays protected from deletion).
fn unknown(deployment: &DeploymentRecord, e: &DeployError) -> Observed {
    let last = deployment.observed.as_ref();
    Observed {
        health: DeploymentHealth::Unknown,
        messages: vec![format!("cannot check the deployment: {e}")],
        versions: last.map(|o| o.versions.clone()).unwrap_or_default(),
        urls: last.map(|o| o.urls.clone()).unwrap_or_default(),
        checked_at: now().as_str().to_owned(),
    }
}
