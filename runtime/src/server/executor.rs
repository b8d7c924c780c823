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

use crate::engine::{Ferry, NoProgress, Prepared, RunOptions};
use crate::store::{ExecutionStatus, JobFilter};

pub struct Executor {
    ferry: Arc<Ferry>,
    places: Arc<Semaphore>,
    tables: TableLocks,
    tasks: std::sync::Mutex<JoinSet<()>>,
    stopping: Arc<AtomicBool>,
}

impl Executor {
    pub fn new(ferry: Arc<Ferry>, max_concurrent_jobs: usize) -> Executor {
        Executor {
            ferry,
            places: Arc::new(Semaphore::new(max_concurrent_jobs.max(1))),
            tables: TableLocks::default(),
            tasks: std::sync::Mutex::new(JoinSet::new()),
            stopping: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Runs the created job `id` when a place is free.
    pub fn submit(&self, id: Uuid, prepared: Prepared, options: RunOptions) {
        let (ferry, places, stopping) = (
            self.ferry.clone(),
            self.places.clone(),
            self.stopping.clone(),
        );
        let table = self.tables.get(&prepared.workflow.ingest.table);
        let mut tasks = self.tasks.lock().expect("executor lock");
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            // One job per table at a time (taken before a place, so jobs waiting for a busy
            // table do not hold places other tables could use).
            let _table = table.lock_owned().await;
            let Ok(_place) = places.acquire_owned().await else {
                return;
            };
            if stopping.load(Ordering::SeqCst) {
                // Left in CREATED: the next start takes it back.
                return;
            }
            if let Err(e) = ferry.execute(id, &prepared, &options, &NoProgress).await {
                tracing::error!(job = %id, "job could not run: {e}");
            }
        });
    }

    /// Jobs a previous process left CREATED or RUNNING (its runner gone) go back in the queue.
    pub async fn take_back_unfinished(&self) -> Result<usize, crate::engine::EngineError> {
        let filter = JobFilter {
            statuses: vec![ExecutionStatus::Created, ExecutionStatus::Running],
            ..JobFilter::default()
        };
        let mut cursor: Option<String> = None;
        let mut ids = Vec::new();
        loop {
            let page = self
                .ferry
                .store
                .list_jobs(&filter, 100, cursor.as_deref())
                .await?;
            for job in page.items {
                let alive = job
                    .runner_pid
                    .is_some_and(|pid| pid != std::process::id() && process_alive(pid));
                if !alive {
                    ids.push(job.id);
                }
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        // Oldest first, as they were triggered.
        ids.reverse();
        for &id in &ids {
            let (ferry, places, stopping) = (
                self.ferry.clone(),
                self.places.clone(),
                self.stopping.clone(),
            );
            self.tasks.lock().expect("executor lock").spawn(async move {
                let Ok(_place) = places.acquire_owned().await else {
                    return;
                };
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                tracing::info!(job = %id, "resuming a job the previous server left unfinished");
                if let Err(e) = ferry.resume(id, &NoProgress).await {
                    tracing::error!(job = %id, "job could not resume: {e}");
                }
            });
        }
        Ok(ids.len())
    }

    /// Starts no more jobs and gives running ones `grace` to finish. Whatever is still running
    /// then is left to resume on the next start.
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

fn process_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}
