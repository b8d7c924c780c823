//! Jobs: created, claimed (see `leases`), marked running, canceled, finished — a terminal
//! status is written only over CREATED or RUNNING, in SQL, so nothing rewrites it — and listed
//! a page at a time, newest first.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use super::{
    DesiredStatus, ErrorInfo, ExecutionStatus, FileCounts, Health, HealthStatus, Job, Page, Result,
    RowMetrics, Store, StoreError, Timestamp, count, in_list, now, parse, time_range,
};

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

fn encode_cursor(at: &str, id: &str) -> String {
    hex::encode(format!("{at}|{id}"))
}

fn decode_cursor(cursor: &str) -> Result<(String, String)> {
    let bytes = hex::decode(cursor).map_err(|_| StoreError::BadCursor)?;
    let text = String::from_utf8(bytes).map_err(|_| StoreError::BadCursor)?;
    let (at, id) = text.split_once('|').ok_or(StoreError::BadCursor)?;
    Ok((at.to_owned(), id.to_owned()))
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

impl Store {
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
        let mut tx = self.write_tx().await?;
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
