//! A job from start to end: claim it, run the engine's import → validate → ingest, then the
//! workflow's package and deploy steps, and record how it ended. This sits above the engine
//! and deployments, so neither needs the other.

mod check;
mod lease;
mod settings;
mod steps;

use uuid::Uuid;

use crate::context::Context;
use crate::engine::{
    Engine, EngineError, Prepared, Progress, RunOptions, Stop, decide, error_code,
};
use crate::host::CancelToken;
use crate::store::{DesiredStatus, ErrorInfo, ExecutionStatus, Holder, Job};
use crate::workflow::Workflow;
use lease::{AbortOnDrop, LeaseKeeper, watch_cancel};

/// Runs jobs on one opened state directory.
#[derive(Clone, Copy)]
pub struct Runner<'a> {
    ctx: &'a Context,
}

impl std::ops::Deref for Runner<'_> {
    type Target = Context;
    fn deref(&self) -> &Context {
        self.ctx
    }
}

impl<'a> Runner<'a> {
    pub fn new(ctx: &'a Context) -> Runner<'a> {
        Runner { ctx }
    }

    fn engine(&self) -> Engine<'a> {
        Engine::new(self.ctx)
    }

    /// Creates a job for the workflow and runs it to a terminal state.
    pub async fn run(
        &self,
        prepared: &Prepared,
        options: &RunOptions,
        progress: &dyn Progress,
    ) -> Result<Job, EngineError> {
        let job = self.engine().create_job(prepared).await?;
        self.execute(job.id, prepared, options, progress).await
    }

    /// Continues a killed or interrupted job from its first object not yet passed, with the
    /// workflow exactly as the job started.
    pub async fn resume(&self, id: Uuid, progress: &dyn Progress) -> Result<Job, EngineError> {
        let job = self.store.job(id).await?;
        if job.execution_status.is_terminal() {
            return Err(crate::store::StoreError::Terminal {
                id,
                status: job.execution_status,
            }
            .into());
        }
        // Refused here, before the workflow is prepared, when another process holds the job.
        self.store.claim_job(id, Holder::this_process()).await?;
        let workflow =
            Workflow::parse(std::path::Path::new(&job.workflow_path), &job.workflow_text)?;
        let prepared = self.engine().prepare(&workflow)?;
        tracing::info!(job = %id, "resuming job");
        self.execute(id, &prepared, &RunOptions::default(), progress)
            .await
    }

    /// Runs a created (or interrupted) job to a terminal state. A job canceled before it
    /// started ends CANCELED without reading anything.
    pub async fn execute(
        &self,
        id: Uuid,
        prepared: &Prepared,
        options: &RunOptions,
        progress: &dyn Progress,
    ) -> Result<Job, EngineError> {
        let holder = Holder::this_process();
        self.store.claim_job(id, holder).await?;
        self.store.mark_running(id, std::process::id()).await?;
        let cancel = CancelToken::default();
        // Watches until this function returns, whichever way (the deploy step included).
        let _watcher = AbortOnDrop(watch_cancel(self.store.clone(), id, cancel.clone()));
        let lease = LeaseKeeper::start(self.store.clone(), id, cancel.clone());
        let result = if self.store.desired_status(id).await? == DesiredStatus::Canceled {
            // Canceled while it waited for a place: nothing is read.
            Ok(Stop::Canceled)
        } else {
            self.engine()
                .ingest(id, prepared, options, progress, &cancel)
                .await
        };
        let stop = match result {
            Ok(stop) => stop,
            Err(e) => Stop::Failed(ErrorInfo {
                code: error_code(&e).into(),
                // The code is beside the message; a plugin's own error would repeat it.
                message: match &e {
                    EngineError::Plugin(p) => p.message(),
                    e => e.to_string(),
                },
                row: None,
            }),
        };
        self.engine().settle(id, &stop).await?;
        let job = self.store.job(id).await?;
        let (mut status, mut health, mut failure) = decide(&job, &stop);
        if let Some(step) = &prepared.workflow.package
            && matches!(
                status,
                ExecutionStatus::Success
                    | ExecutionStatus::SuccessWithWarning
                    | ExecutionStatus::NoRowsIngested
            )
        {
            match self.package(id, prepared, step.version.as_deref()).await {
                Ok(manifest) => {
                    health.messages.push(format!(
                        "packaged {} {}",
                        manifest.service, manifest.version
                    ));
                    if let Some(step) = &prepared.workflow.deploy {
                        match self
                            .deploy(id, &prepared.workflow, step, &manifest, &cancel)
                            .await
                        {
                            Ok(message) => health.messages.push(message),
                            Err(e) => {
                                tracing::warn!(job = %id, "deploy step failed: {e}");
                                let reason = ErrorInfo {
                                    code: "deploy_failed".into(),
                                    message: format!("step `{}`: {e}", step.name),
                                    row: None,
                                };
                                health.status = crate::store::HealthStatus::Error;
                                health.messages.push(reason.message.clone());
                                status = if cancel.is_canceled() {
                                    ExecutionStatus::Canceled
                                } else {
                                    ExecutionStatus::Failed
                                };
                                failure = Some(reason);
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(job = %id, "package step failed: {e}");
                    let reason = ErrorInfo {
                        code: "package_failed".into(),
                        message: format!("step `{}`: {e}", step.name),
                        row: None,
                    };
                    health.status = crate::store::HealthStatus::Error;
                    health.messages.push(reason.message.clone());
                    status = ExecutionStatus::Failed;
                    failure = Some(reason);
                }
            }
        }
        if lease.lost() {
            // Another process took the job over (this one stalled past its lease): it owns the
            // outcome now.
            return Err(EngineError::LeaseLost { id });
        }
        let job = self
            .store
            .finish_job(id, status, &health, failure.as_ref())
            .await?;
        if let Err(e) = self.store.release_lease(id, holder).await {
            tracing::warn!(job = %id, "cannot release the job's lease: {e}");
        }
        tracing::info!(job = %id, status = %job.execution_status, rows = job.metrics.num_rows_persisted, "job finished");
        Ok(job)
    }
}
