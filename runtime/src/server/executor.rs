//! Runs the server's jobs, at most `max_concurrent_jobs` at once: a triggered job is recorded
//! in CREATED at once (so the caller gets its id) and waits there for a place. At start-up the
//! executor runs one job per table at a time, and takes back jobs a previous process left
//! unfinished; they resume at their first file
//! not passed, so a restart duplicates nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::app::App;
use crate::engine::{EngineError, NoProgress, Prepared, RunOptions};
use crate::store::StoreError;

pub struct Executor {
    ferry: App,
    places: Arc<Semaphore>,
    tables: TableLocks,
    tasks: std::sync::Mutex<JoinSet<()>>,
    stopping: Arc<AtomicBool>,
}

impl Executor {
    pub fn new(ferry: App, max_concurrent_jobs: usize) -> Executor {
        Executor {
            ferry,
            places: Arc::new(Semaphore::new(max_concurrent_jobs.max(1))),
            tables: TableLocks::default(),
            tasks: std::sync::Mutex::new(JoinSet::new()),
            stopping: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Runs the created job `id` when its table and a place are free.
    pub fn submit(&self, id: Uuid, prepared: Prepared, options: RunOptions) {
        let ferry = self.ferry.clone();
        let table = prepared.workflow.ingest.table.clone();
        self.spawn(&table, async move {
            match ferry.execute(id, &prepared, &options, &NoProgress).await {
                Ok(_) => {}
                // Canceled while it waited for its turn: it already ended.
                Err(EngineError::Store(StoreError::Terminal { status, .. })) => {
                    tracing::info!(job = %id, %status, "job ended before its turn came");
                }
                Err(e) => tracing::error!(job = %id, "job could not run: {e}"),
            }
        });
    }

    /// Runs a started deploy operation (from `POST /v1/deployments/{id}/update` or a delete)
    /// in the background, as one of the tasks `stop` gives its grace to.
    pub fn run_operation(&self, op: crate::store::OperationRecord) {
        let ferry = self.ferry.clone();
        let mut tasks = self.tasks.lock().expect("executor lock");
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            ferry
                .run_operation(&op, &crate::host::CancelToken::default())
                .await;
        });
    }

    /// Writes a created export in the background, as one of the tasks `stop` gives its grace
    /// to. The passphrase lives only in this task.
    pub fn run_export(
        &self,
        id: String,
        workflows: std::path::PathBuf,
        passphrase: Option<crate::credentials::Secret>,
    ) {
        let ferry = self.ferry.clone();
        let mut tasks = self.tasks.lock().expect("executor lock");
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            if let Err(e) = ferry.process_export(&id, &workflows, passphrase).await {
                tracing::warn!(export = %id, "cannot record the export's end: {e}");
            }
        });
    }

    /// Scans import `id` in the background (fetching its link first), then, when the choices
    /// came with it (`skipConfirmation`), processes it.
    pub fn run_import(
        &self,
        id: String,
        workflows: std::path::PathBuf,
        link: Option<(String, crate::imports::LinkPolicy)>,
        unattended: Option<(crate::imports::Confirmation, crate::imports::Given)>,
    ) {
        let ferry = self.ferry.clone();
        let mut tasks = self.tasks.lock().expect("executor lock");
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            let link = link.as_ref().map(|(l, p)| (l.as_str(), p));
            let scanned = ferry.scan_import(&id, &workflows, link).await;
            let processed = match (scanned, unattended) {
                (Ok(r), Some((confirmation, given)))
                    if r.status == crate::store::ImportStatus::Confirmation =>
                {
                    ferry
                        .confirm_unattended(&id, &workflows, &confirmation, given)
                        .await
                }
                (scanned, _) => scanned,
            };
            if let Err(e) = processed {
                tracing::warn!(import = %id, "cannot record the import's end: {e}");
            }
        });
    }

    /// Queues `run` behind one job per table and `max_concurrent_jobs` places. The table is
    /// taken before a place, so jobs waiting for a busy table hold no place another table
    /// could use. Once stopping, queued work does not start (its job stays CREATED or RUNNING,
    /// and the next start takes it back).
    fn spawn(&self, table: &str, run: impl std::future::Future<Output = ()> + Send + 'static) {
        let (places, stopping) = (self.places.clone(), self.stopping.clone());
        let table = self.tables.get(table);
        let mut tasks = self.tasks.lock().expect("executor lock");
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            let _table = table.lock_owned().await;
            let Ok(_place) = places.acquire_owned().await else {
                return;
            };
            if !stopping.load(Ordering::SeqCst) {
                run.await;
            }
        });
    }

    /// Jobs a previous process left CREATED or RUNNING (its runner gone) go back in the queue.
    pub async fn take_back_unfinished(&self) -> Result<usize, crate::store::StoreError> {
        let unfinished = self.ferry.unfinished_jobs().await?;
        for (id, table) in &unfinished {
            let (ferry, id) = (self.ferry.clone(), *id);
            self.spawn(table, async move {
                tracing::info!(job = %id, "resuming a job the previous server left unfinished");
                if let Err(e) = ferry.resume(id, &NoProgress).await {
                    tracing::error!(job = %id, "job could not resume: {e}");
                }
            });
        }
        Ok(unfinished.len())
    }

    /// Starts no more jobs and gives running ones (and deploy operations) `grace` to finish.
    /// Jobs still running then resume on the next start; operations end as interrupted.
    pub async fn stop(&self, grace: Duration) {
        self.stopping.store(true, Ordering::SeqCst);
        let mut tasks = std::mem::take(&mut *self.tasks.lock().expect("executor lock"));
        let drained =
            tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(
                "jobs still running after {}s; they resume on the next start",
                grace.as_secs()
            );
            tasks.abort_all();
        }
    }
}

/// A lock per table: Delta tolerates concurrent appends, but not two jobs creating the same
/// table at once, and one writer per table keeps each job's commits in one sequence.
#[derive(Default)]
struct TableLocks(std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl TableLocks {
    fn get(&self, table: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.0
            .lock()
            .expect("table locks")
            .entry(table.to_owned())
            .or_default()
            .clone()
    }
}
