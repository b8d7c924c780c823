//! Running one update or delete to its end: a fresh deployer instance per call (`apply` or
//! `delete`, then `poll` until done), the plugin's state stored after every call so that an
//! interrupted operation still knows what it created, progress recorded on the operation, and
//! a time limit for the whole. Afterwards the observed state is refreshed with `status`.

use std::sync::Arc;
use std::time::Instant;

use super::infra::{self, Infra};
use super::target::{self, Packages};
use super::{DeployError, observe};
use crate::context::Context;
use crate::host::{CancelToken, InstanceOptions, Operation, Target};
use crate::store::{DeploymentRecord, OperationAction, OperationRecord, OperationStatus};

/// Runs operation `op` (already recorded as RUNNING) and records how it ended.
pub async fn run(ferry: &Context, op: &OperationRecord, cancel: &CancelToken) -> OperationRecord {
    let outcome = drive(ferry, op, cancel).await;
    let (status, message, code) = match &outcome {
        Ok(message) => (OperationStatus::Done, message.clone(), None),
        Err(e) => (OperationStatus::Failed, e.to_string(), Some(e.code())),
    };
    if let Err(e) = ferry
        .store
        .finish_operation(&op.id, status, &message, code)
        .await
    {
        tracing::error!(operation = %op.id, "cannot record the end of the operation: {e}");
    }
    match &outcome {
        Ok(_) => {
            tracing::info!(operation = %op.id, deployment = %op.deployment, action = %op.action, "operation done: {message}")
        }
        Err(_) => {
            tracing::warn!(operation = %op.id, deployment = %op.deployment, action = %op.action, "operation failed: {message}")
        }
    }
    ferry
        .store
        .operation(&op.id)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| op.clone())
}

async fn drive(
    ferry: &Context,
    op: &OperationRecord,
    cancel: &CancelToken,
) -> Result<String, DeployError> {
    let deployment = super::get(ferry, &op.deployment).await?;
    let infra = infra::load(ferry, &deployment.infra).await?;
    let shares = match op.action {
        OperationAction::Update => target::serving(&deployment).to_vec(),
        OperationAction::Delete => Vec::new(),
    };
    let (mut target, packages) =
        target::build(ferry, &deployment, &infra.spec.stage, &shares, true)?;
    let runner = Runner::new(ferry, &infra, &deployment, packages, cancel.clone())?;
    let result = runner.to_the_end(op, &mut target).await;
    // What is there now, whatever happened.
    if op.action == OperationAction::Update || result.is_err() {
        let _ = observe(ferry, &deployment.id).await;
    }
    if op.action == OperationAction::Delete && result.is_ok() {
        ferry.store.delete_deployment(&deployment.id).await?;
    }
    result
}

/// One deployer plugin with its sandbox, for the calls of one operation.
struct Runner<'a> {
    ferry: &'a Context,
    infra: &'a Infra,
    deployment: String,
    plugin: Arc<crate::host::LoadedPlugin>,
    options: InstanceOptions,
    _packages: Option<Packages>,
}

impl<'a> Runner<'a> {
    fn new(
        ferry: &'a Context,
        infra: &'a Infra,
        deployment: &DeploymentRecord,
        packages: Option<Packages>,
        cancel: CancelToken,
    ) -> Result<Self, DeployError> {
        let (plugin, options) = infra.sandboxed(
            ferry,
            format!("deploy {}", deployment.id),
            packages.iter().map(Packages::access).collect(),
            cancel,
        )?;
        Ok(Runner {
            ferry,
            infra,
            deployment: deployment.id.clone(),
            plugin,
            options,
            _packages: packages,
        })
    }

    async fn to_the_end(
        &self,
        op: &OperationRecord,
        target: &mut Target,
    ) -> Result<String, DeployError> {
        let started = Instant::now();
        let limit = self.infra.timeout();
        let mut instance = self
            .ferry
            .host
            .deployer(&self.plugin, &self.options)
            .await?;
        let mut current = match op.action {
            OperationAction::Update => instance.apply(target).await?,
            OperationAction::Delete => instance.delete(target).await?,
        };
        loop {
            self.keep(op, target, &current).await?;
            if current.done {
                return Ok(current.message);
            }
            if started.elapsed() >= limit {
                return Err(DeployError::Failed {
                    code: "timeout".into(),
                    message: format!(
                        "{} of deployment `{}` did not finish within {}s (infra `{}` timeout); last: {}",
                        op.action,
                        self.deployment,
                        limit.as_secs(),
                        self.infra.name,
                        current.message
                    ),
                });
            }
            if self.options.cancel.is_canceled() {
                return Err(DeployError::Failed {
                    code: "canceled".into(),
                    message: format!("canceled while: {}", current.message),
                });
            }
            tokio::time::sleep(self.infra.poll_interval()).await;
            instance = self
                .ferry
                .host
                .deployer(&self.plugin, &self.options)
                .await?;
            current = instance.poll(target, &current).await?;
        }
    }

    /// Stores the plugin's state and the operation's progress after a call.
    async fn keep(
        &self,
        op: &OperationRecord,
        target: &mut Target,
        current: &Operation,
    ) -> Result<(), DeployError> {
        if current.state != target.state {
            target.state = current.state.clone();
            self.ferry
                .store
                .set_plugin_state(&self.deployment, &current.state)
                .await?;
        }
        tracing::debug!(operation = %op.id, done = current.done, "{}", current.message);
        self.ferry
            .store
            .operation_progress(&op.id, &current.message)
            .await?;
        Ok(())
    }
}
