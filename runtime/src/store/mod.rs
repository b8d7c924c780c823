//! The job store: SQLite through sqlx, embedded by default under the state dir. Migrations run
//! on open. Terminal job states are guarded in SQL, so no code path can rewrite them.

mod deployments;
mod keys;
mod leases;
mod model;
mod time;

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow};
use sqlx::{Row, SqlitePool};
use uuid::Uuid;

pub use deployments::{
    DeploymentHealth, DeploymentRecord, Desired, InfraRecord, Observed, OperationAction,
    OperationRecord, OperationStatus, Share, spec_from_client,
};
pub use keys::{ApiKey, Permission};
pub use leases::{Holder, LEASE_RENEWAL, LEASE_TTL, process_alive};
pub use model::*;
pub use time::{Timestamp, now};

use crate::diagnostic::{RowDiagnostic, Severity};

/// How many parse exceptions a job keeps (the count is always exact; the sample is capped).
pub const EXCEPTION_SAMPLE: i64 = 100;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("job store {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("job store migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("job store query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("no job {0}")]
    NotFound(Uuid),
    /// Something other than a job is not there (a key, by name).
    #[error("{0}")]
    Missing(String),
    #[error(transparent)]
    InvalidName(#[from] crate::paths::NameError),
    #[error("job {id} is {status}, which is final")]
    Terminal { id: Uuid, status: ExecutionStatus },
    #[error("job {id} is being run by process {pid} on {host}; stop it first or wait")]
    Leased { id: Uuid, host: String, pid: u32 },
    #[error("invalid cursor")]
    BadCursor,
    #[error("{0}")]
    Conflict(String),
    #[error("job store holds an unreadable value: {0}")]
    Corrupt(String),
}

type Result<T> = std::result::Result<T, StoreError>;

/// An object an earlier job imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub etag: Option<String>,
    /// Table-relative paths of the data files that hold its rows (empty for objects recorded
    /// before ferry kept them).
    pub data_files: Vec<String>,
}

/// What a new job starts from.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub workflow: String,
    pub workflow_path: String,
    pub workflow_text: String,
    pub table: String,
    /// The source's identity (see the `imported_objects` migration): with the workflow and
    /// the table, the key of the incremental ledger.
    pub source_id: String,
}

/// Filters for job listings; each list is OR-ed, different filters AND-ed.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub statuses: Vec<ExecutionStatus>,
    pub health: Vec<HealthStatus>,
    pub workflows: Vec<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

#[derive(Debug, Clone, Default)]
pub struct FileFilter {
    pub statuses: Vec<FileStatus>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// A new object to import, in listing order.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub name: String,
    pub size: u64,
    pub etag: Option<String>,
}

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

const JOB_COLUMNS: &str = "j.rowid AS row_seq, j.id, j.workflow, j.source_id, j.already_imported, j.packages, j.deployments, j.workflow_path, j.workflow_text, j.table_name, j.execution_status, \
    j.desired_execution_status, j.health_status, j.health_messages, j.failure_code, j.failure_message, j.runner_pid, \
    j.created_at, j.updated_at, j.started_at, j.finished_at, \
    (SELECT COALESCE(SUM(rows_processed), 0) FROM job_files f WHERE f.job_id = j.id) AS m_processed, \
    (SELECT COALESCE(SUM(rows_with_warning), 0) FROM job_files f WHERE f.job_id = j.id) AS m_warning, \
    (SELECT COALESCE(SUM(rows_skipped_by_filter), 0) FROM job_files f WHERE f.job_id = j.id) AS m_filter, \
    (SELECT COALESCE(SUM(rows_skipped_by_error), 0) FROM job_files f WHERE f.job_id = j.id) AS m_error, \
    (SELECT COALESCE(SUM(rows_persisted), 0) FROM job_files f WHERE f.job_id = j.id) AS m_persisted, \
    (SELECT COUNT(*) FROM job_files f WHERE f.job_id = j.id) AS c_total, \
    (SELECT COUNT(*) FROM job_files f WHERE f.job_id = j.id AND f.status = 'pending') AS c_pending, \
    (SELECT COUNT(*) FROM job_files f WHERE f.job_id = j.id AND f.status = 'running') AS c_running, \
    (SELECT COUNT(*) FROM job_files f WHERE f.job_id = j.id AND f.status = 'passed') AS c_passed, \
    (SELECT COUNT(*) FROM job_files f WHERE f.job_id = j.id AND f.status = 'failed') AS c_failed, \
    (SELECT COUNT(*) FROM job_files f WHERE f.job_id = j.id AND f.status = 'skipped') AS c_skipped";

impl Store {
    /// Opens (creating if needed) the SQLite store at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        // Two processes starting on a fresh home must not both create the tables: sqlx takes
        // no lock for SQLite, so migrations run under an exclusive lock on a file beside it.
        let lock_path = path.with_extension("db.migrate-lock");
        let lock = std::fs::File::create(&lock_path).map_err(|e| StoreError::Open {
            path: lock_path.display().to_string(),
            source: sqlx::Error::Io(e),
        })?;
        lock.lock().map_err(|e| StoreError::Open {
            path: lock_path.display().to_string(),
            source: sqlx::Error::Io(e),
        })?;
        let migrated = sqlx::migrate!("./migrations").run(&pool).await;
        drop(lock);
        migrated?;
        Ok(Store { pool })
    }

    pub async fn create_job(&self, new: &NewJob) -> Result<Job> {
        let id = Uuid::now_v7();
        let at = now();
        sqlx::query(
            "INSERT INTO jobs (id, workflow, workflow_path, workflow_text, table_name, execution_status, \
             desired_execution_status, created_at, updated_at, source_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(&new.workflow)
        .bind(&new.workflow_path)
        .bind(&new.workflow_text)
        .bind(&new.table)
        .bind(ExecutionStatus::Created.as_str())
        .bind(DesiredStatus::Running.as_str())
        .bind(at.as_str())
        .bind(at.as_str())
        .bind(&new.source_id)
        .execute(&self.pool)
        .await?;
        self.job(id).await
    }

    /// Records how many listed objects the job leaves out because earlier jobs imported them.
    pub async fn set_already_imported(&self, job: Uuid, count: u64) -> Result<()> {
        sqlx::query("UPDATE jobs SET already_imported = ? WHERE id = ?")
            .bind(count as i64)
            .bind(job.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn job(&self, id: Uuid) -> Result<Job> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs j WHERE j.id = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound(id))?;
        job_from_row(&row)
    }

    /// Newest first, `limit` per page; `cursor` is the `next_cursor` of the previous page.
    pub async fn list_jobs(
        &self,
        filter: &JobFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Job>> {
        let mut sql = format!("SELECT {JOB_COLUMNS} FROM jobs j WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        in_list(
            &mut sql,
            &mut binds,
            "j.execution_status",
            filter.statuses.iter().map(|s| s.as_str()),
        );
        in_list(
            &mut sql,
            &mut binds,
            "j.health_status",
            filter.health.iter().map(|s| s.as_str()),
        );
        in_list(
            &mut sql,
            &mut binds,
            "j.workflow",
            filter.workflows.iter().map(String::as_str),
        );
        time_range(
            &mut sql,
            &mut binds,
            "j.created_at",
            filter.since.as_ref(),
            filter.until.as_ref(),
        );
        if let Some(cursor) = cursor {
            let (at, id) = decode_cursor(cursor)?;
            sql.push_str(" AND (j.created_at, j.rowid) < (?, CAST(? AS INTEGER))");
            binds.push(at);
            binds.push(id);
        }
        // rowid breaks ties between jobs created in the same millisecond, in creation order.
        sql.push_str(" ORDER BY j.created_at DESC, j.rowid DESC LIMIT ?");
        let limit = limit.clamp(1, 1000);
        // Audited: `sql` interpolates only fixed column names and `?` placeholders.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
        for b in &binds {
            query = query.bind(b);
        }
        let rows = query.bind(limit as i64 + 1).fetch_all(&self.pool).await?;
        let mut items = rows.iter().map(job_from_row).collect::<Result<Vec<_>>>()?;
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            rows.get(limit as usize - 1)
                .map(|r| {
                    Ok::<_, StoreError>(encode_cursor(
                        &r.try_get::<String, _>("created_at")?,
                        &r.try_get::<i64, _>("row_seq")?.to_string(),
                    ))
                })
                .transpose()?
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Records the objects a job will import, in order. Done once, when the job starts.
    pub async fn add_files(&self, job: Uuid, files: &[NewFile]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let at = now();
        for (seq, f) in files.iter().enumerate() {
            sqlx::query(
                "INSERT INTO job_files (job_id, seq, name, size, etag, status, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
            )
            .bind(job.to_string())
            .bind(seq as i64)
            .bind(&f.name)
            .bind(f.size as i64)
            .bind(&f.etag)
            .bind(at.as_str())
            .bind(at.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Files of a job in listing order, optionally filtered.
    pub async fn files(&self, job: Uuid, filter: &FileFilter) -> Result<Vec<JobFile>> {
        let mut sql = "SELECT * FROM job_files WHERE job_id = ?".to_owned();
        let mut binds = vec![job.to_string()];
        in_list(
            &mut sql,
            &mut binds,
            "status",
            filter.statuses.iter().map(|s| s.as_str()),
        );
        time_range(
            &mut sql,
            &mut binds,
            "updated_at",
            filter.since.as_ref(),
            filter.until.as_ref(),
        );
        sql.push_str(" ORDER BY seq");
        // Audited: `sql` interpolates only fixed column names and `?` placeholders.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
        for b in &binds {
            query = query.bind(b);
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(file_from_row)
            .collect()
    }

    /// Moves a job to RUNNING (from CREATED, or again after an interruption) under `pid`.
    pub async fn mark_running(&self, job: Uuid, pid: u32) -> Result<()> {
        let at = now();
        let done = sqlx::query(
            "UPDATE jobs SET execution_status = 'RUNNING', runner_pid = ?, updated_at = ?, \
             started_at = COALESCE(started_at, ?) WHERE id = ? AND execution_status IN ('CREATED', 'RUNNING')",
        )
        .bind(pid as i64)
        .bind(at.as_str())
        .bind(at.as_str())
        .bind(job.to_string())
        .execute(&self.pool)
        .await?;
        self.ensure_changed(job, done.rows_affected()).await
    }

    /// Sets the desired status to CANCELED; the runner observes it. Finished jobs refuse. A
    /// job still waiting in CREATED that no process has claimed ends CANCELED here and now:
    /// nothing would otherwise observe the request until its turn came.
    pub async fn request_cancel(&self, job: Uuid) -> Result<Job> {
        let at = now();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE jobs SET desired_execution_status = 'CANCELED', updated_at = ? \
             WHERE id = ? AND execution_status IN ('CREATED', 'RUNNING')",
        )
        .bind(at.as_str())
        .bind(job.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() > 0 {
            sqlx::query(
                "UPDATE jobs SET execution_status = 'CANCELED', health_status = 'ok', \
                 health_messages = '[\"canceled on request before it started\"]', finished_at = ? \
                 WHERE id = ? AND execution_status = 'CREATED' \
                 AND (lease_owner IS NULL OR lease_expires_at < ?)",
            )
            .bind(at.as_str())
            .bind(job.to_string())
            .bind(at.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.ensure_changed(job, done.rows_affected()).await?;
        self.job(job).await
    }

    pub async fn desired_status(&self, job: Uuid) -> Result<DesiredStatus> {
        let row = sqlx::query("SELECT desired_execution_status FROM jobs WHERE id = ?")
            .bind(job.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound(job))?;
        parse(row.try_get::<String, _>(0)?.as_str())
    }

    pub async fn start_file(&self, job: Uuid, seq: u64) -> Result<()> {
        let at = now();
        sqlx::query(
            "UPDATE job_files SET status = 'running', started_at = ?, updated_at = ? WHERE job_id = ? AND seq = ?",
        )
        .bind(at.as_str())
        .bind(at.as_str())
        .bind(job.to_string())
        .bind(seq as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Write-ahead for a table commit: the file's counts and the commit's app-transaction
    /// version are stored before the commit, so a resume can finish the bookkeeping from the
    /// table alone if the process dies in between.
    pub async fn prepare_commit(
        &self,
        job: Uuid,
        seq: u64,
        metrics: &RowMetrics,
        commit_version: i64,
        data_files: &[String],
    ) -> Result<()> {
        let query = sqlx::query(
            "UPDATE job_files SET rows_processed = ?, rows_with_warning = ?, rows_skipped_by_filter = ?, \
             rows_skipped_by_error = ?, rows_persisted = ?, commit_version = ?, data_files = ?, updated_at = ? \
             WHERE job_id = ? AND seq = ?",
        );
        let files =
            serde_json::to_string(data_files).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        bind_metrics(query, metrics)
            .bind(commit_version)
            .bind(files)
            .bind(now().as_str())
            .bind(job.to_string())
            .bind(seq as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records a file's outcome, its counts and its row problems in one transaction.
    pub async fn finish_file(
        &self,
        job: Uuid,
        seq: u64,
        file: &str,
        outcome: FileOutcome<'_>,
        metrics: &RowMetrics,
        diagnostics: &[RowDiagnostic],
    ) -> Result<()> {
        let at = now();
        let mut tx = self.pool.begin().await?;
        let (status, error, table_version) = match outcome {
            FileOutcome::Passed { table_version } => (FileStatus::Passed, None, table_version),
            FileOutcome::Failed(e) => (FileStatus::Failed, Some(e), None),
            FileOutcome::Skipped(e) => (FileStatus::Skipped, e, None),
        };
        let query = sqlx::query(
            "UPDATE job_files SET status = ?, rows_processed = ?, rows_with_warning = ?, rows_skipped_by_filter = ?, \
             rows_skipped_by_error = ?, rows_persisted = ?, error_code = ?, error_message = ?, error_row = ?, \
             table_version = ?, updated_at = ?, finished_at = ? WHERE job_id = ? AND seq = ?",
        )
        .bind(status.as_str());
        bind_metrics(query, metrics)
            .bind(error.map(|e| e.code.clone()))
            .bind(error.map(|e| e.message.clone()))
            .bind(error.and_then(|e| e.row).map(|r| r as i64))
            .bind(table_version)
            .bind(at.as_str())
            .bind(at.as_str())
            .bind(job.to_string())
            .bind(seq as i64)
            .execute(&mut *tx)
            .await?;
        let kept: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM parse_exceptions WHERE job_id = ?")
                .bind(job.to_string())
                .fetch_one(&mut *tx)
                .await?;
        let room = (EXCEPTION_SAMPLE - kept).max(0) as usize;
        for d in diagnostics.iter().take(room) {
            sqlx::query(
                "INSERT INTO parse_exceptions (job_id, file, row_num, line, column_name, code, message, severity) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(job.to_string())
            .bind(file)
            .bind(d.row as i64)
            .bind(d.line.map(|l| l as i64))
            .bind(&d.column)
            .bind(&d.code)
            .bind(&d.message)
            .bind(format!("{:?}", d.severity).to_lowercase())
            .execute(&mut *tx)
            .await?;
        }
        if status == FileStatus::Passed {
            sqlx::query(
                "INSERT INTO imported_objects (workflow, source_id, table_name, object_key, etag, job_id, imported_at, data_files) \
                 SELECT j.workflow, j.source_id, j.table_name, f.name, f.etag, j.id, ?, f.data_files \
                 FROM job_files f JOIN jobs j ON j.id = f.job_id \
                 WHERE f.job_id = ? AND f.seq = ? \
                 ON CONFLICT (workflow, source_id, table_name, object_key) DO UPDATE SET etag = excluded.etag, \
                 job_id = excluded.job_id, imported_at = excluded.imported_at, data_files = excluded.data_files",
            )
            .bind(at.as_str())
            .bind(job.to_string())
            .bind(seq as i64)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE jobs SET updated_at = ? WHERE id = ?")
            .bind(at.as_str())
            .bind(job.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a package the job's package step built.
    pub async fn record_package(&self, job: Uuid, service: &str, version: &str) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET packages = json_insert(packages, '$[#]', json_object('service', ?, 'version', ?)), \
             updated_at = ? WHERE id = ?",
        )
        .bind(service)
        .bind(version)
        .bind(now().as_str())
        .bind(job.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How many jobs are in each execution status (for metrics).
    pub async fn job_status_counts(&self) -> Result<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT execution_status, COUNT(*) FROM jobs GROUP BY execution_status ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(s, n)| (s, n as u64)).collect())
    }

    /// Rows committed by every job, ever.
    pub async fn rows_persisted_total(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COALESCE(SUM(rows_persisted), 0) FROM job_files")
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }

    /// The objects `workflow` has passed from source `source_id` into `table`, by key, with
    /// the ETag each had then and the data files holding its rows. Objects recorded before
    /// ledgers named their source count for every source.
    pub async fn imported_objects(
        &self,
        workflow: &str,
        source_id: &str,
        table: &str,
    ) -> Result<std::collections::HashMap<String, Imported>> {
        let rows: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT object_key, etag, data_files FROM imported_objects \
             WHERE workflow = ? AND table_name = ? AND source_id IN (?, '') ORDER BY source_id",
        )
        .bind(workflow)
        .bind(table)
        .bind(source_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(key, etag, files)| {
                let data_files = match files {
                    None => Vec::new(),
                    Some(text) => serde_json::from_str(&text)
                        .map_err(|e| StoreError::Corrupt(format!("data files of `{key}`: {e}")))?,
                };
                Ok((key, Imported { etag, data_files }))
            })
            .collect()
    }

    /// Puts an interrupted file back to pending, forgetting its partial counts.
    pub async fn reset_file(&self, job: Uuid, seq: u64) -> Result<()> {
        sqlx::query(
            "UPDATE job_files SET status = 'pending', rows_processed = 0, rows_with_warning = 0, \
             rows_skipped_by_filter = 0, rows_skipped_by_error = 0, rows_persisted = 0, commit_version = NULL, \
             error_code = NULL, error_message = NULL, error_row = NULL, started_at = NULL, updated_at = ? \
             WHERE job_id = ? AND seq = ?",
        )
        .bind(now().as_str())
        .bind(job.to_string())
        .bind(seq as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks every file not yet finished as skipped (the job ended before reaching them, or
    /// before the commit that would have stored them): none of their rows are in the table,
    /// so their counts are cleared too.
    pub async fn skip_remaining(&self, job: Uuid, reason: &ErrorInfo) -> Result<()> {
        let at = now();
        sqlx::query(
            "UPDATE job_files SET status = 'skipped', rows_processed = 0, rows_with_warning = 0, \
             rows_skipped_by_filter = 0, rows_skipped_by_error = 0, rows_persisted = 0, commit_version = NULL, \
             error_code = ?, error_message = ?, updated_at = ?, finished_at = ? \
             WHERE job_id = ? AND status IN ('pending', 'running')",
        )
        .bind(&reason.code)
        .bind(&reason.message)
        .bind(at.as_str())
        .bind(at.as_str())
        .bind(job.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Writes a terminal status. Refused (as [`StoreError::Terminal`]) if the job already has one.
    pub async fn finish_job(
        &self,
        job: Uuid,
        status: ExecutionStatus,
        health: &Health,
        failure: Option<&ErrorInfo>,
    ) -> Result<Job> {
        debug_assert!(status.is_terminal());
        let at = now();
        let messages = serde_json::to_string(&health.messages)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let done = sqlx::query(
            "UPDATE jobs SET execution_status = ?, health_status = ?, health_messages = ?, failure_code = ?, \
             failure_message = ?, updated_at = ?, finished_at = ? WHERE id = ? AND execution_status IN ('CREATED', 'RUNNING')",
        )
        .bind(status.as_str())
        .bind(health.status.as_str())
        .bind(messages)
        .bind(failure.map(|f| f.code.clone()))
        .bind(failure.map(|f| f.message.clone()))
        .bind(at.as_str())
        .bind(at.as_str())
        .bind(job.to_string())
        .execute(&self.pool)
        .await?;
        self.ensure_changed(job, done.rows_affected()).await?;
        self.job(job).await
    }

    pub async fn parse_exceptions(&self, job: Uuid) -> Result<Vec<ParseException>> {
        let rows = sqlx::query("SELECT * FROM parse_exceptions WHERE job_id = ? ORDER BY id")
            .bind(job.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let severity: String = r.try_get("severity")?;
                Ok(ParseException {
                    file: r.try_get("file")?,
                    diagnostic: RowDiagnostic {
                        row: r.try_get::<i64, _>("row_num")? as u64,
                        line: r.try_get::<Option<i64>, _>("line")?.map(|v| v as u64),
                        column: r.try_get("column_name")?,
                        code: r.try_get("code")?,
                        message: r.try_get("message")?,
                        severity: if severity == "warning" {
                            Severity::Warning
                        } else {
                            Severity::Error
                        },
                    },
                })
            })
            .collect()
    }

    async fn ensure_changed(&self, job: Uuid, rows: u64) -> Result<()> {
        if rows > 0 {
            return Ok(());
        }
        let current = self.job(job).await?;
        Err(StoreError::Terminal {
            id: job,
            status: current.execution_status,
        })
    }
}

/// How a file ended.
#[derive(Debug, Clone, Copy)]
pub enum FileOutcome<'a> {
    Passed { table_version: Option<i64> },
    Failed(&'a ErrorInfo),
    Skipped(Option<&'a ErrorInfo>),
}

type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

/// Binds the five row counts, in the order the `UPDATE`s above name their columns.
fn bind_metrics<'q>(query: SqliteQuery<'q>, m: &RowMetrics) -> SqliteQuery<'q> {
    query
        .bind(m.num_rows_processed as i64)
        .bind(m.num_rows_processed_with_warning as i64)
        .bind(m.num_rows_skipped_by_filter as i64)
        .bind(m.num_rows_skipped_by_error as i64)
        .bind(m.num_rows_persisted as i64)
}

fn in_list<'a>(
    sql: &mut String,
    binds: &mut Vec<String>,
    column: &str,
    values: impl Iterator<Item = &'a str>,
) {
    let values: Vec<&str> = values.collect();
    if values.is_empty() {
        return;
    }
    sql.push_str(&format!(
        " AND {column} IN ({})",
        vec!["?"; values.len()].join(", ")
    ));
    binds.extend(values.into_iter().map(str::to_owned));
}

fn time_range(
    sql: &mut String,
    binds: &mut Vec<String>,
    column: &str,
    since: Option<&Timestamp>,
    until: Option<&Timestamp>,
) {
    if let Some(since) = since {
        sql.push_str(&format!(" AND {column} >= ?"));
        binds.push(since.as_str().to_owned());
    }
    if let Some(until) = until {
        sql.push_str(&format!(" AND {column} < ?"));
        binds.push(until.as_str().to_owned());
    }
}

fn encode_cursor(at: &str, id: &str) -> String {
    hex::encode(format!("{at}|{id}"))
}

fn decode_cursor(cursor: &str) -> Result<(String, String)> {
    let bytes = hex::decode(cursor).map_err(|_| StoreError::BadCursor)?;
    let text = String::from_utf8(bytes).map_err(|_| StoreError::BadCursor)?;
    let (at, id) = text.split_once('|').ok_or(StoreError::BadCursor)?;
    Ok((at.to_owned(), id.to_owned()))
}

fn parse<T: FromStr<Err = String>>(s: &str) -> Result<T> {
    s.parse().map_err(StoreError::Corrupt)
}

fn count(row: &SqliteRow, column: &str) -> Result<u64> {
    Ok(row.try_get::<i64, _>(column)? as u64)
}

fn job_from_row(row: &SqliteRow) -> Result<Job> {
    let id: String = row.try_get("id")?;
    let messages: String = row.try_get("health_messages")?;
    let failure_code: Option<String> = row.try_get("failure_code")?;
    let failure_message: Option<String> = row.try_get("failure_message")?;
    Ok(Job {
        id: Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        workflow: row.try_get("workflow")?,
        workflow_path: row.try_get("workflow_path")?,
        workflow_text: row.try_get("workflow_text")?,
        table: row.try_get("table_name")?,
        execution_status: parse(row.try_get::<String, _>("execution_status")?.as_str())?,
        desired_execution_status: parse(
            row.try_get::<String, _>("desired_execution_status")?
                .as_str(),
        )?,
        health: Health {
            status: parse(row.try_get::<String, _>("health_status")?.as_str())?,
            messages: serde_json::from_str(&messages)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        },
        failure: failure_code.map(|code| ErrorInfo {
            code,
            message: failure_message.unwrap_or_default(),
            row: None,
        }),
        metrics: RowMetrics {
            num_rows_processed: count(row, "m_processed")?,
            num_rows_processed_with_warning: count(row, "m_warning")?,
            num_rows_skipped_by_filter: count(row, "m_filter")?,
            num_rows_skipped_by_error: count(row, "m_error")?,
            num_rows_persisted: count(row, "m_persisted")?,
        },
        files: FileCounts {
            total: count(row, "c_total")?,
            pending: count(row, "c_pending")?,
            running: count(row, "c_running")?,
            passed: count(row, "c_passed")?,
            failed: count(row, "c_failed")?,
            skipped: count(row, "c_skipped")?,
        },
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        runner_pid: row
            .try_get::<Option<i64>, _>("runner_pid")?
            .map(|p| p as u32),
        source_id: row.try_get("source_id")?,
        already_imported: count(row, "already_imported")?,
        packages: serde_json::from_str(&row.try_get::<String, _>("packages")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        deployments: serde_json::from_str(&row.try_get::<String, _>("deployments")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
    })
}

fn file_from_row(row: &SqliteRow) -> Result<JobFile> {
    let error_code: Option<String> = row.try_get("error_code")?;
    Ok(JobFile {
        seq: count(row, "seq")?,
        name: row.try_get("name")?,
        size: count(row, "size")?,
        etag: row.try_get("etag")?,
        status: parse(row.try_get::<String, _>("status")?.as_str())?,
        metrics: RowMetrics {
            num_rows_processed: count(row, "rows_processed")?,
            num_rows_processed_with_warning: count(row, "rows_with_warning")?,
            num_rows_skipped_by_filter: count(row, "rows_skipped_by_filter")?,
            num_rows_skipped_by_error: count(row, "rows_skipped_by_error")?,
            num_rows_persisted: count(row, "rows_persisted")?,
        },
        error: match error_code {
            Some(code) => Some(ErrorInfo {
                code,
                message: row
                    .try_get::<Option<String>, _>("error_message")?
                    .unwrap_or_default(),
                row: row
                    .try_get::<Option<i64>, _>("error_row")?
                    .map(|r| r as u64),
            }),
            None => None,
        },
        table_version: row.try_get("table_version")?,
        commit_version: row.try_get("commit_version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

#[cfg(test)]
mod tests;
