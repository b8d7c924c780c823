//! How a job's passed objects reach the table, one strategy per ingest mode:
//!
//! - **append**: each object in its own Delta commit, carrying the application transaction
//!   `(ferry-job-<id>, seq + 1)`; an object imported again (`on_change = "reimport"`) also
//!   removes the data files of its earlier rows in that same commit;
//! - **replace**: every object's files staged, then one commit at the end that replaces the
//!   table, carrying `(ferry-job-<id>, number of files)`.
//!
//! Either way the store records each file's counts (and the data files it adds) just before
//! the commit and its `passed` status just after, so a resume can settle a crash in between
//! from the table alone.

use std::collections::HashMap;

use uuid::Uuid;

use super::file::FileReport;
use super::{Engine, EngineError, Prepared, Progress};
use crate::store::{FileOutcome, FileStatus, Imported, JobFile};
use crate::table::{AppTxn, StagedFiles, Table, WriteMode};
use crate::workflow::{IngestMode, OnChange};

/// The table's application id for a job: its transactions say which objects are in.
pub(super) fn app_id(job: Uuid) -> String {
    format!("ferry-job-{job}")
}

/// `commitInfo` fields that say which job (and object) a commit came from.
pub(super) fn commit_info(job: Uuid, file: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut info = serde_json::Map::new();
    info.insert("ferry.jobId".into(), job.to_string().into());
    info.insert("ferry.file".into(), file.into());
    info
}

/// One job's commits.
pub(super) enum Commits {
    PerObject {
        /// What earlier jobs imported, when changed objects are imported again.
        earlier: HashMap<String, Imported>,
    },
    AtEnd {
        /// The job's number of files: the version of its one application transaction.
        total: i64,
        staged: Vec<(JobFile, StagedFiles, FileReport)>,
    },
}

impl Commits {
    pub(super) async fn new(
        engine: &Engine<'_>,
        prepared: &Prepared,
        total_files: i64,
    ) -> Result<Commits, EngineError> {
        let workflow = &prepared.workflow;
        Ok(match workflow.ingest.mode {
            IngestMode::Append => Commits::PerObject {
                earlier: if workflow.incremental()
                    && workflow.import.on_change == OnChange::Reimport
                {
                    engine
                        .store
                        .imported_objects(
                            &workflow.name,
                            &prepared.source_id,
                            &workflow.ingest.table,
                        )
                        .await?
                } else {
                    HashMap::new()
                },
            },
            IngestMode::Replace => Commits::AtEnd {
                total: total_files,
                staged: Vec::new(),
            },
        })
    }

    /// An object read to its end, with the data files it staged (none if it had no rows):
    /// committed now, or kept for the end.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn passed(
        &mut self,
        engine: &Engine<'_>,
        table: &mut Table,
        job: Uuid,
        file: &JobFile,
        staged: Option<StagedFiles>,
        report: FileReport,
        progress: &dyn Progress,
    ) -> Result<(), EngineError> {
        match self {
            Commits::PerObject { earlier } => {
                let version = file.seq as i64 + 1;
                let old_files = earlier
                    .get(&file.name)
                    .map(|o| o.data_files.clone())
                    .unwrap_or_default();
                let staged = match staged {
                    Some(staged) => Some(staged.replacing(old_files)),
                    // The new version holds no rows: the old ones still go.
                    None if !old_files.is_empty() => {
                        Some(StagedFiles::default().replacing(old_files))
                    }
                    None => None,
                };
                let table_version = match staged {
                    Some(staged) => {
                        engine
                            .store
                            .prepare_commit(
                                job,
                                file.seq,
                                &report.metrics,
                                version,
                                &staged.paths(),
                            )
                            .await?;
                        let txn = AppTxn::new(&app_id(job), version);
                        let info = commit_info(job, &file.name);
                        Some(
                            table
                                .commit(staged, WriteMode::Append, Some(txn), info)
                                .await?,
                        )
                    }
                    None => None,
                };
                engine
                    .store
                    .finish_file(
                        job,
                        file.seq,
                        &file.name,
                        FileOutcome::Passed { table_version },
                        &report.metrics,
                        &report.diagnostics,
                    )
                    .await?;
                progress.file_finished(&file.name, FileStatus::Passed);
            }
            Commits::AtEnd { total, staged: all } => {
                let staged = staged.unwrap_or_default();
                engine
                    .store
                    .prepare_commit(job, file.seq, &report.metrics, *total, &staged.paths())
                    .await?;
                all.push((file.clone(), staged, report));
            }
        }
        Ok(())
    }

    /// After the last object: the replacing commit, if any.
    pub(super) async fn finish(
        self,
        engine: &Engine<'_>,
        table: &mut Table,
        job: Uuid,
        progress: &dyn Progress,
    ) -> Result<(), EngineError> {
        let Commits::AtEnd { total, mut staged } = self else {
            return Ok(());
        };
        if staged.is_empty() {
            return Ok(());
        }
        let mut all = StagedFiles::default();
        for (_, files, _) in &mut staged {
            all.extend(std::mem::take(files));
        }
        let txn = AppTxn::new(&app_id(job), total);
        let version = table
            .commit(all, WriteMode::Replace, Some(txn), commit_info(job, "*"))
            .await?;
        for (file, _, report) in &staged {
            engine
                .store
                .finish_file(
                    job,
                    file.seq,
                    &file.name,
                    FileOutcome::Passed {
                        table_version: Some(version),
                    },
                    &report.metrics,
                    &report.diagnostics,
                )
                .await?;
            progress.file_finished(&file.name, FileStatus::Passed);
        }
        Ok(())
    }
}
