//! A job's files (the objects it imports, in listing order): started, written ahead of their
//! table commit, finished with their counts, diagnostics and ledger entry in one transaction,
//! reset after an interruption, skipped when the job stops early.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use super::{
    EXCEPTION_SAMPLE, ErrorInfo, FileStatus, JobFile, ParseException, Result, RowMetrics, Store,
    StoreError, Timestamp, count, in_list, now, parse, time_range,
};
use crate::diagnostic::{RowDiagnostic, Severity};

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

/// A file written ahead of the commit that carries its rows.
#[derive(Debug, Clone, Copy)]
pub struct PreparedFile<'a> {
    pub seq: u64,
    /// When its object started to be read.
    pub started_at: &'a Timestamp,
    pub metrics: &'a RowMetrics,
    /// Table-relative paths of the data files that hold its rows alone (empty when it shares
    /// them with other objects of its commit).
    pub data_files: &'a [String],
}

/// A file's outcome, recorded with others of its commit.
#[derive(Debug, Clone, Copy)]
pub struct FinishedFile<'a> {
    pub seq: u64,
    pub name: &'a str,
    /// When its object started to be read, if it was (kept when already recorded).
    pub started_at: Option<&'a Timestamp>,
    pub outcome: FileOutcome<'a>,
    pub metrics: &'a RowMetrics,
    pub diagnostics: &'a [RowDiagnostic],
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

impl Store {
    /// Records the objects a job will import, in order. Done once, when the job starts.
    pub async fn add_files(&self, job: Uuid, files: &[NewFile]) -> Result<()> {
        let mut tx = self.write_tx().await?;
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

    /// Write-ahead for a table commit of one or more files: each file's counts, the data files
    /// it adds and the commit's app-transaction version are stored (the file `running`) in one
    /// transaction before the commit, so a resume can finish the bookkeeping from the table
    /// alone if the process dies in between.
    pub async fn prepare_commit(
        &self,
        job: Uuid,
        files: &[PreparedFile<'_>],
        commit_version: i64,
    ) -> Result<()> {
        let at = now();
        let mut tx = self.write_tx().await?;
        for f in files {
            let query = sqlx::query(
                "UPDATE job_files SET rows_processed = ?, rows_with_warning = ?, rows_skipped_by_filter = ?, \
                 rows_skipped_by_error = ?, rows_persisted = ?, commit_version = ?, data_files = ?, \
                 status = 'running', started_at = COALESCE(started_at, ?), updated_at = ? \
                 WHERE job_id = ? AND seq = ?",
            );
            let data_files = serde_json::to_string(f.data_files)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            bind_metrics(query, f.metrics)
                .bind(commit_version)
                .bind(data_files)
                .bind(f.started_at.as_str())
                .bind(at.as_str())
                .bind(job.to_string())
                .bind(f.seq as i64)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
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
        self.finish_files(
            job,
            &[FinishedFile {
                seq,
                name: file,
                started_at: None,
                outcome,
                metrics,
                diagnostics,
            }],
        )
        .await
    }

    /// Records the outcomes of several files (the objects of one commit) in one transaction:
    /// their counts, row problems (the job keeps a sample) and ledger entries.
    pub async fn finish_files(&self, job: Uuid, files: &[FinishedFile<'_>]) -> Result<()> {
        let at = now();
        let mut tx = self.write_tx().await?;
        let mut kept: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM parse_exceptions WHERE job_id = ?")
                .bind(job.to_string())
                .fetch_one(&mut *tx)
                .await?;
        for f in files {
            let (status, error, table_version) = match f.outcome {
                FileOutcome::Passed { table_version } => (FileStatus::Passed, None, table_version),
                FileOutcome::Failed(e) => (FileStatus::Failed, Some(e), None),
                FileOutcome::Skipped(e) => (FileStatus::Skipped, e, None),
            };
            let query = sqlx::query(
                "UPDATE job_files SET status = ?, rows_processed = ?, rows_with_warning = ?, rows_skipped_by_filter = ?, \
                 rows_skipped_by_error = ?, rows_persisted = ?, error_code = ?, error_message = ?, error_row = ?, \
                 table_version = ?, started_at = COALESCE(started_at, ?), updated_at = ?, finished_at = ? \
                 WHERE job_id = ? AND seq = ?",
            )
            .bind(status.as_str());
            bind_metrics(query, f.metrics)
                .bind(error.map(|e| e.code.clone()))
                .bind(error.map(|e| e.message.clone()))
                .bind(error.and_then(|e| e.row).map(|r| r as i64))
                .bind(table_version)
                .bind(f.started_at.unwrap_or(&at).as_str())
                .bind(at.as_str())
                .bind(at.as_str())
                .bind(job.to_string())
                .bind(f.seq as i64)
                .execute(&mut *tx)
                .await?;
            let room = (EXCEPTION_SAMPLE - kept).max(0) as usize;
            for d in f.diagnostics.iter().take(room) {
                sqlx::query(
                    "INSERT INTO parse_exceptions (job_id, file, row_num, line, column_name, code, message, severity) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(job.to_string())
                .bind(f.name)
                .bind(d.row as i64)
                .bind(d.line.map(|l| l as i64))
                .bind(&d.column)
                .bind(&d.code)
                .bind(&d.message)
                .bind(format!("{:?}", d.severity).to_lowercase())
                .execute(&mut *tx)
                .await?;
                kept += 1;
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
                .bind(f.seq as i64)
                .execute(&mut *tx)
                .await?;
            }
        }
        sqlx::query("UPDATE jobs SET updated_at = ? WHERE id = ?")
            .bind(at.as_str())
            .bind(job.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
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
}
