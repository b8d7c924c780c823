//! Tables in the home: what each one is, from its Delta log; compaction and vacuum.

use std::time::Duration;

use super::App;
use crate::engine::EngineError;
use crate::paths::{self, NameKind};
use crate::table::{
    Answer, CompactReport, QueryError, QueryLimits, TARGET_FILE_BYTES, Table, TableInfo,
    VacuumReport, describe,
};

impl App {
    /// The names of the directories under the home's `tables/` that are table names.
    fn table_names(&self) -> Vec<String> {
        let dir = self.home().join("tables");
        let mut names: Vec<String> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| paths::check(NameKind::Table, n).is_ok())
                .collect(),
            Err(_) => Vec::new(),
        };
        names.sort();
        names
    }

    /// Runs one read-only SQL query over every table of the home, each by its name, within
    /// `limits` (see [`crate::table::query`]).
    pub async fn query(&self, sql: &str, limits: &QueryLimits) -> Result<Answer, QueryError> {
        let mut tables = Vec::new();
        for name in self.table_names() {
            let path = self.table_path(&name).map_err(|e| QueryError::Invalid {
                message: e.to_string(),
            })?;
            tables.push((name, path));
        }
        crate::table::query(&tables, sql, limits).await
    }

    /// Every table under the home's `tables/`, by name.
    pub async fn tables(&self) -> Result<Vec<TableInfo>, EngineError> {
        let mut tables = Vec::new();
        for name in self.table_names() {
            if let Some(info) = describe(&name, &self.table_path(&name)?).await? {
                tables.push(info);
            }
        }
        Ok(tables)
    }

    /// Table `name`, or [`EngineError::NoSuchObject`] when it has no commit yet.
    pub async fn table(&self, name: &str) -> Result<TableInfo, EngineError> {
        describe(name, &self.table_path(name)?)
            .await?
            .ok_or_else(|| EngineError::NoSuchObject(format!("no table `{name}`")))
    }
}

impl App {
    /// Rewrites table `name`'s small data files into files of `target_file_bytes` (128 MiB by
    /// default) in one commit, leaving alone the files objects keep to themselves for
    /// `on_change = "reimport"`. Jobs may go on appending meanwhile.
    pub async fn compact_table(
        &self,
        name: &str,
        target_file_bytes: Option<u64>,
    ) -> Result<CompactReport, EngineError> {
        let mut table = self.existing_table(name).await?;
        let keep = self.ctx().store.replaceable_files(name).await?;
        Ok(table
            .compact(&keep, target_file_bytes.unwrap_or(TARGET_FILE_BYTES))
            .await?)
    }

    /// Deletes table `name`'s files that no version within `retain` needs (the table's own
    /// retention, a week, by default): removed files past it, and files no commit named
    /// (staged by failed objects). Refused while a job writes to the table.
    pub async fn vacuum_table(
        &self,
        name: &str,
        retain: Option<Duration>,
        dry_run: bool,
    ) -> Result<VacuumReport, EngineError> {
        let mut table = self.existing_table(name).await?;
        if let Some(&job) = self.ctx().store.jobs_writing(name).await?.first() {
            return Err(EngineError::TableBusy {
                table: name.to_owned(),
                job,
            });
        }
        let retain = retain.unwrap_or_else(|| table.deleted_file_retention());
        Ok(table.vacuum(retain, dry_run).await?)
    }

    async fn existing_table(&self, name: &str) -> Result<Table, EngineError> {
        let table = Table::open(&self.table_path(name)?).await?;
        if table.version().is_none() {
            return Err(EngineError::NoSuchObject(format!("no table `{name}`")));
        }
        Ok(table)
    }
}
