//! The steps after the ingest: package the workflow's service, then deploy it.

use uuid::Uuid;

use super::Runner;
use crate::engine::Prepared;
use crate::host::CancelToken;

impl Runner<'_> {
    /// The package step: builds the workflow's service into the registry and records it.
    pub(super) async fn package(
        &self,
        id: Uuid,
        prepared: &Prepared,
        version: Option<&str>,
    ) -> Result<crate::package::Manifest, crate::package::PackageError> {
        let manifest = crate::package::build(
            &self.packages(),
            &prepared.workflow,
            &self.home,
            &self.host,
            &self.catalog,
            version,
            Some(id),
        )
        .await?;
        self.store
            .record_package(id, &manifest.service, &manifest.version)
            .await?;
        tracing::info!(job = %id, service = %manifest.service, version = %manifest.version, "package built");
        Ok(manifest)
    }

    /// The deploy step: stores the infra if the workflow declares it, creates the deployment
    /// or switches it to the version just packaged, and runs an update to its end.
    pub(super) async fn deploy(
        &self,
        id: Uuid,
        workflow: &crate::workflow::Workflow,
        step: &crate::workflow::DeployStep,
        manifest: &crate::package::Manifest,
        cancel: &CancelToken,
    ) -> Result<String, crate::deploy::DeployError> {
        use crate::deploy;
        if let Some((spec, table)) = workflow.infras.get(&step.infra) {
            deploy::infra::put(self.ctx, &step.infra, spec, table).await?;
        }
        if cancel.is_canceled() {
            return Err(deploy::DeployError::Failed {
                code: "canceled".into(),
                message: "the job was canceled before its deploy step".into(),
            });
        }
        let deployment = step
            .deployment
            .clone()
            .unwrap_or_else(|| deploy::default_id(&manifest.service, &step.infra));
        let shares = vec![crate::store::Share {
            version: manifest.version.clone(),
            percent: 100,
        }];
        match self.store.deployment(&deployment).await? {
            Some(existing) => {
                if existing.service != manifest.service || existing.infra != step.infra {
                    return Err(deploy::DeployError::Conflict(format!(
                        "deployment `{deployment}` serves {} on {}, not {} on {}",
                        existing.service, existing.infra, manifest.service, step.infra
                    )));
                }
                deploy::set_versions(self.ctx, &deployment, shares).await?;
                deploy::set_enabled(self.ctx, &deployment, true).await?;
            }
            None => {
                deploy::create(
                    self.ctx,
                    deploy::NewDeployment {
                        id: deployment.clone(),
                        service: manifest.service.clone(),
                        infra: step.infra.clone(),
                        versions: shares,
                        enabled: true,
                    },
                )
                .await?;
            }
        }
        let op = deploy::start_update(self.ctx, &deployment).await?;
        // The operation runs whether or not the job record can point at it.
        if let Err(e) = self.store.record_deployment(id, &deployment, &op.id).await {
            tracing::warn!(job = %id, operation = %op.id, "cannot record the deploy operation on the job: {e}");
        }
        tracing::info!(job = %id, deployment = %deployment, operation = %op.id, "deploying {} {}", manifest.service, manifest.version);
        let ended = deploy::run_to_end(self.ctx, &op, cancel).await?;
        let health = deploy::get(self.ctx, &deployment)
            .await?
            .observed
            .map(|o| o.health.as_str())
            .unwrap_or("UNKNOWN");
        Ok(format!(
            "deployed {} {} as `{deployment}` on `{}` ({health}): {}",
            manifest.service, manifest.version, step.infra, ended.message
        ))
    }
}
