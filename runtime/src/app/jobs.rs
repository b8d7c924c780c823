//! Workflows and their jobs: check, run (or dry-run), resume, cancel, and read back.

use uuid::Uuid;

use super::App;
use crate::engine::{DryRun, Engine, EngineError, Prepared, Progress, RunOptions};
use crate::runner::Runner;
use crate::store::{
    ExecutionStatus, FileFilter, FileStatus, Job, JobFile, JobFilter, NewFile, Page,
    ParseException, StoreError,
};
use crate::workflow::Workflow;

/// A job with what a person looks at first: its sample of row problems and its failed files.
#[derive(Debug, Clone)]
pub struct JobReport {
    /// The job record.
    pub job: Job,
    /// The first parse exceptions (at most 100).
    pub exceptions: Vec<ParseException>,
    /// The files that failed, with their errors.
    pub failed: Vec<JobFile>,
}

impl App {
    fn engine(&self) -> Engine<'_> {
        Engine::new(self.ctx())
    }

    fn runner(&self) -> Runner<'_> {
        Runner::new(self.ctx())
    }

    /// Workflow file `path` with its `${name}` filled in from `given`, else the project's
    /// variables, and checked as a file (see [`App::check`] for the rest).
    pub async fn load_workflow(
        &self,
        path: &std::path::Path,
        given: &std::collections::BTreeMap<String, String>,
    ) -> Result<Workflow, EngineError> {
        let project = self.variable_values().await?;
        Ok(Workflow::load_with(path, &project, given)?)
    }

    /// Everything `ferry validate` checks: the file, its plugins, grants, secrets, and a
    /// deploy step's infra (declared or stored). A runnable workflow comes back prepared.
    pub async fn check(&self, workflow: &Workflow) -> Result<Prepared, EngineError> {
        self.ctx().refresh_secrets().await?;
        self.runner().check(workflow).await
    }

    /// Creates a job for a checked workflow and runs it to a terminal state.
    pub async fn run(
        &self,
        prepared: &Prepared,
        options: &RunOptions,
        progress: &dyn Progress,
    ) -> Result<Job, EngineError> {
        self.runner().run(prepared, options, progress).await
    }

    /// The real path on one object (`file`, else the first listed), writing nothing.
    pub async fn dry_run(
        &self,
        prepared: &Prepared,
        file: Option<&str>,
    ) -> Result<DryRun, EngineError> {
        self.engine().dry_run(prepared, file).await
    }

    /// Records a new job in CREATED, to be run later with [`App::execute`].
    pub async fn create_job(&self, prepared: &Prepared) -> Result<Job, EngineError> {
        self.engine().create_job(prepared).await
    }

    /// Runs a created (or interrupted) job to a terminal state.
    pub async fn execute(
        &self,
        id: Uuid,
        prepared: &Prepared,
        options: &RunOptions,
        progress: &dyn Progress,
    ) -> Result<Job, EngineError> {
        self.runner().execute(id, prepared, options, progress).await
    }

    /// Continues a killed or interrupted job at its first object not passed.
    pub async fn resume(&self, id: Uuid, progress: &dyn Progress) -> Result<Job, EngineError> {
        self.ctx().refresh_secrets().await?;
        self.runner().resume(id, progress).await
    }

    /// The objects a run would import now: listed, filtered, not yet imported.
    pub async fn pending_objects(&self, prepared: &Prepared) -> Result<Vec<NewFile>, EngineError> {
        self.engine().pending_objects(prepared).await
    }

    /// Asks job `id` to stop (its desired status becomes CANCELED); a job still queued ends
    /// CANCELED at once. A finished job refuses.
    pub async fn cancel(&self, id: Uuid) -> Result<Job, StoreError> {
        self.ctx().store.request_cancel(id).await
    }

    /// Jobs, newest first, a page at a time.
    pub async fn jobs(
        &self,
        filter: &JobFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Job>, StoreError> {
        self.ctx().store.list_jobs(filter, limit, cursor).await
    }

    /// One job.
    pub async fn job(&self, id: Uuid) -> Result<Job, StoreError> {
        self.ctx().store.job(id).await
    }

    /// A job's files in listing order, filtered.
    pub async fn job_files(
        &self,
        id: Uuid,
        filter: &FileFilter,
    ) -> Result<Vec<JobFile>, StoreError> {
        self.ctx().store.files(id, filter).await
    }

    /// A job's sample of row problems.
    pub async fn parse_exceptions(&self, id: Uuid) -> Result<Vec<ParseException>, StoreError> {
        self.ctx().store.parse_exceptions(id).await
    }

    /// A job with its row problems and failed files.
    pub async fn job_report(&self, id: Uuid) -> Result<JobReport, StoreError> {
        let job = self.job(id).await?;
        self.report(job).await
    }

    /// [`App::job_report`] for a job already read.
    pub async fn report(&self, job: Job) -> Result<JobReport, StoreError> {
        let exceptions = self.parse_exceptions(job.id).await?;
        let failed = self
            .job_files(
                job.id,
                &FileFilter {
                    statuses: vec![FileStatus::Failed],
                    ..Default::default()
                },
            )
            .await?;
        Ok(JobReport {
            job,
            exceptions,
            failed,
        })
    }

    /// Jobs left CREATED or RUNNING that no live process holds (a server takes them back at
    /// start), oldest first, with their tables.
    pub async fn unfinished_jobs(&self) -> Result<Vec<(Uuid, String)>, StoreError> {
        let filter = JobFilter {
            statuses: vec![ExecutionStatus::Created, ExecutionStatus::Running],
            ..JobFilter::default()
        };
        let mut cursor: Option<String> = None;
        let mut unfinished = Vec::new();
        loop {
            let page = self.jobs(&filter, 100, cursor.as_deref()).await?;
            for job in page.items {
                if !self.ctx().store.held_elsewhere(job.id).await? {
                    unfinished.push((job.id, job.table));
                }
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        unfinished.reverse();
        Ok(unfinished)
    }

    /// How many jobs are in each execution status, and rows committed ever (for metrics).
    pub async fn totals(&self) -> Result<(Vec<(String, u64)>, u64), StoreError> {
        let store = &self.ctx().store;
        Ok((
            store.job_status_counts().await?,
            store.rows_persisted_total().await?,
        ))
    }
}
