//! Vacuum: data files no version within the retention needs are deleted from disk, by
//! delta-rs's `VACUUM` in full mode: files an older commit removed (compacted or replaced) once
//! their removal is older than the retention, and files no commit ever named (what a failed or
//! interrupted object staged) once they are older than it.
//!
//! No file the current version references is ever deleted, and neither is a file younger than
//! the retention, so a job staging files while a vacuum runs keeps them. Time travel to a
//! version older than the retention may fail afterwards: that is what the retention trades.

use std::time::Duration;

use deltalake::operations::vacuum::VacuumMode;
use serde::Serialize;

use super::error::TableError;
use super::{Table, delta_error};

/// What a vacuum deleted (or, in a dry run, would delete).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct VacuumReport {
    pub dry_run: bool,
    /// Table-relative paths.
    pub files_deleted: Vec<String>,
}

impl Table {
    /// Deletes the files no version newer than `retain` ago needs; with `dry_run`, only lists
    /// them. A table that does not exist yet has nothing to vacuum.
    pub async fn vacuum(
        &mut self,
        retain: Duration,
        dry_run: bool,
    ) -> Result<VacuumReport, TableError> {
        if self.version().is_none() {
            return Ok(VacuumReport {
                dry_run,
                files_deleted: Vec::new(),
            });
        }
        let retain = chrono::Duration::from_std(retain).map_err(|_| TableError::Io {
            path: self.path.clone(),
            message: "the retention is too long".into(),
        })?;
        let run = |dry_run: bool| {
            self.delta
                .clone()
                .vacuum()
                .with_mode(VacuumMode::Full)
                .with_retention_period(retain)
                // The retention is the caller's explicit choice (ferry's own default is the
                // table's); the table's minimum is not enforced on top of it.
                .with_enforce_retention_duration(false)
                .with_dry_run(dry_run)
        };
        // The plan names expired tombstones again after an earlier vacuum deleted them (and
        // as absolute paths): the report keeps the files that were there to delete.
        let (_, plan) = run(true)
            .await
            .map_err(|source| delta_error(&self.path, "plan the vacuum", source))?;
        let mut files: Vec<String> = plan
            .files_deleted
            .iter()
            .map(|f| self.relative(f))
            .filter(|f| self.path.join(f).is_file())
            .collect();
        files.sort();
        files.dedup();
        if !dry_run && !files.is_empty() {
            let (table, _) = run(false)
                .await
                .map_err(|source| delta_error(&self.path, "vacuum", source))?;
            // Vacuum records its start and end as commits: adopt the table they made.
            self.delta = table;
            self.txns.clear();
            self.schema = self.current_schema()?;
            files.retain(|f| !self.path.join(f).exists());
        }
        tracing::info!(
            table = %self.path.display(),
            dry_run,
            files = files.len(),
            "vacuumed"
        );
        Ok(VacuumReport {
            dry_run,
            files_deleted: files,
        })
    }

    /// `file` (as delta-rs names it: relative, or an absolute path or URL) relative to the
    /// table's directory.
    fn relative(&self, file: &str) -> String {
        let file = file.strip_prefix("file://").unwrap_or(file);
        let root = self.path.to_string_lossy();
        file.strip_prefix(root.as_ref())
            .map(|f| f.trim_start_matches('/'))
            .unwrap_or(file)
            .to_owned()
    }

    /// The table's own retention for removed files (`delta.deletedFileRetentionDuration`,
    /// a week unless set).
    pub fn deleted_file_retention(&self) -> Duration {
        use deltalake::table::config::TablePropertiesExt;
        self.delta
            .snapshot()
            .map(|s| s.table_config().deleted_file_retention_duration())
            .unwrap_or(Duration::from_secs(7 * 24 * 3600))
    }
}
