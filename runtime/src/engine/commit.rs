//! How a job's passed objects reach the table, one strategy per ingest mode:
//!
//! - **append**: passed objects are gathered into a group and committed together when a bound
//!   of the step's [`CommitPolicy`] is reached (objects, rows, bytes, wait) and when the job
//!   stops. Each group's commit carries the application transaction `(ferry-job-<id>, n)` for
//!   the job's n-th commit. Small objects share data files; with `on_change = "reimport"`
//!   every object keeps data files of its own, so that its next version's commit can remove
//!   them (in that same commit);
//! - **replace**: every object's rows staged, then one commit at the end that replaces the
//!   table, carrying `(ferry-job-<id>, number of files)`;
//! - **merge**: each object's rows held whole, one row kept per key, and merged on its own
//!   (one Delta MERGE, carrying `(ferry-job-<id>, n)` like an append's commit).
//!
//! Either way the store records each file's counts, the data files it adds and the commit's
//! version just before the commit (one transaction per group), and their `passed` status just
//! after, so a resume can settle a crash in between from the table alone: a file whose version
//! the table holds is in, any other is read again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use uuid::Uuid;

use super::file::{FileFailure, FileReport, Rows, Sink};
use super::{Engine, EngineError, Prepared, Progress};
use crate::mapping::{self, RollupPlan};
use crate::store::{
    ErrorInfo, FileOutcome, FileStatus, FinishedFile, Imported, JobFile, PreparedFile, Timestamp,
};
use crate::table::{
    self, AppTxn, Duplicates, Matched, MergeSource, StagedFiles, Table, TableError, TableWriter,
    WriteMode,
};
use crate::workflow::{CommitPolicy, IngestMode, MergeRule, OnChange, OnDuplicateKey, OnMatch};

/// The most Arrow memory one merged object's rows may take: a merge holds its object whole.
pub const MERGE_HOLD_BYTES: usize = 1 << 30;

/// The table's application id for a job: its transactions say which objects are in.
pub(super) fn app_id(job: Uuid) -> String {
    format!("ferry-job-{job}")
}

/// `commitInfo` fields that say which job (and objects) a commit came from.
fn commit_info(job: Uuid, files: &[Member]) -> serde_json::Map<String, serde_json::Value> {
    let mut info = serde_json::Map::new();
    info.insert("ferry.jobId".into(), job.to_string().into());
    let file = match files {
        [one] => one.file.name.clone(),
        _ => "*".to_owned(),
    };
    info.insert("ferry.file".into(), file.into());
    info.insert("ferry.files".into(), files.len().into());
    info
}

/// A passed object waiting for its commit.
struct Member {
    file: JobFile,
    started_at: Timestamp,
    report: FileReport,
    /// The data files holding its rows alone (empty when they share files with others).
    data_files: Vec<String>,
}

/// One job's commits.
pub(super) struct Commits {
    /// The version of the application transaction the next commit carries.
    next_version: i64,
    /// Objects passed and not committed yet, in order.
    members: Vec<Member>,
    /// Data files of the members (and files they replace).
    staged: StagedFiles,
    /// The shared data files small members' rows are written to.
    shared: Option<TableWriter>,
    rows: u64,
    bytes: u64,
    since: Option<Instant>,
    /// A merge's object, waiting for its commit.
    keyed: Option<MergeSource>,
    kind: Kind,
}

enum Kind {
    Grouped {
        policy: CommitPolicy,
        /// What earlier jobs imported, when changed objects are imported again: every object
        /// then keeps data files of its own.
        earlier: Option<HashMap<String, Imported>>,
    },
    /// Replace: everything in one commit at the end, whose version is the job's number of
    /// files.
    AtEnd,
    /// Merge: every object merged on its own.
    Merge(Merging),
}

/// What a merge job merges on.
enum Merging {
    /// The step's key (`mode = "merge"`).
    Key(MergeRule),
    /// A rollup's groups, combined with the stored ones.
    Rollup(Arc<RollupPlan>),
}

/// The table property a rollup table records its rollup in (see [`RollupPlan::describe`]).
pub const ROLLUP_PROPERTY: &str = "ferry.rollup";

impl Commits {
    pub(super) async fn new(
        engine: &Engine<'_>,
        prepared: &Prepared,
        table: &Table,
        app: &str,
        total_files: i64,
    ) -> Result<Commits, EngineError> {
        let workflow = &prepared.workflow;
        let (kind, next_version) = match workflow.ingest.mode {
            IngestMode::Append if let Some(rollup) = prepared.mapping.rollup() => {
                check_rollup(table, &workflow.ingest.table, rollup)?;
                let committed = table.app_version(app).await?.unwrap_or(0);
                (Kind::Merge(Merging::Rollup(rollup.clone())), committed + 1)
            }
            IngestMode::Append => {
                let earlier =
                    if workflow.incremental() && workflow.import.on_change == OnChange::Reimport {
                        Some(
                            engine
                                .store
                                .imported_objects(
                                    &workflow.name,
                                    &prepared.source_id,
                                    &workflow.ingest.table,
                                )
                                .await?,
                        )
                    } else {
                        None
                    };
                let committed = table.app_version(app).await?.unwrap_or(0);
                let policy = workflow.ingest.commit;
                (Kind::Grouped { policy, earlier }, committed + 1)
            }
            IngestMode::Replace => (Kind::AtEnd, total_files),
            IngestMode::Merge => {
                let rule = workflow
                    .ingest
                    .merge()
                    .expect("an ingest step in merge mode has its rule");
                let committed = table.app_version(app).await?.unwrap_or(0);
                (Kind::Merge(Merging::Key(rule)), committed + 1)
            }
        };
        Ok(Commits {
            next_version,
            members: Vec::new(),
            staged: StagedFiles::default(),
            shared: None,
            rows: 0,
            bytes: 0,
            since: None,
            keyed: None,
            kind,
        })
    }

    /// Where an object's rows go while it is read: a merge holds them whole.
    pub(super) fn sink<'a>(
        &self,
        open: &'a (dyn Fn(arrow::datatypes::SchemaRef) -> Result<TableWriter, TableError> + Sync),
    ) -> Sink<'a> {
        match self.kind {
            Kind::Merge(_) => Sink::whole(MERGE_HOLD_BYTES),
            _ => Sink::table(open),
        }
    }

    /// An object read to its end: a merge's rows become its source, one row per key (a row a
    /// later one of the same key supersedes counts as skipped by filter). A key repeated when
    /// `on_duplicate_key = "fail"` fails the object.
    ///
    /// A rollup's rows become one row per group.
    pub(super) async fn admit(
        &mut self,
        rows: Rows,
        report: &mut FileReport,
    ) -> Result<Rows, FileFailure> {
        let (Kind::Merge(merging), Rows::Held(batches)) = (&self.kind, &rows) else {
            return Ok(rows);
        };
        let rule = match merging {
            Merging::Key(rule) => rule,
            Merging::Rollup(rollup) => {
                let failed = |message: String| {
                    FileFailure::File(ErrorInfo {
                        code: "rollup_failed".into(),
                        message,
                        row: None,
                    })
                };
                let grouped = rollup
                    .aggregate(batches)
                    .await
                    .map_err(|e| failed(format!("cannot roll the object's rows up: {e}")))?;
                let source = MergeSource::new(&[grouped], rollup.dimensions(), Duplicates::Refuse)
                    .map_err(|e| failed(e.to_string()))?
                    .with_table_property(ROLLUP_PROPERTY, rollup.describe());
                return Ok(Rows::Keyed(source));
            }
        };
        let duplicates = match rule.on_duplicate_key {
            OnDuplicateKey::Last => Duplicates::KeepLast,
            OnDuplicateKey::Fail => Duplicates::Refuse,
        };
        let source = MergeSource::new(batches, &rule.key, duplicates).map_err(|e| {
            FileFailure::File(ErrorInfo {
                code: match e {
                    crate::table::SourceError::DuplicateKey { .. } => "duplicate_key",
                    _ => "merge_failed",
                }
                .into(),
                message: e.to_string(),
                row: None,
            })
        })?;
        let superseded = source.superseded() as u64;
        report.metrics.num_rows_persisted -= superseded;
        report.metrics.num_rows_skipped_by_filter += superseded;
        Ok(Rows::Keyed(source))
    }

    /// An object read to its end, with its rows: joins the group, which is committed if a
    /// bound is reached.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn passed(
        &mut self,
        engine: &Engine<'_>,
        table: &mut Table,
        job: Uuid,
        file: &JobFile,
        started_at: Timestamp,
        rows: Rows,
        report: FileReport,
        progress: &dyn Progress,
    ) -> Result<(), EngineError> {
        let own_files = matches!(
            &self.kind,
            Kind::Grouped {
                earlier: Some(_),
                ..
            }
        );
        let mut staged = match rows {
            Rows::None => StagedFiles::default(),
            Rows::Staged(staged) => staged,
            Rows::Keyed(source) => {
                self.keyed = Some(source);
                StagedFiles::default()
            }
            Rows::Held(batches) if own_files => {
                let mut writer = table.writer(batches[0].schema())?;
                write_all(&mut writer, &batches).await?;
                writer.finish().await?
            }
            Rows::Held(batches) => {
                let writer = match &mut self.shared {
                    Some(w) => w,
                    None => self.shared.insert(table.writer(batches[0].schema())?),
                };
                write_all(writer, &batches).await?;
                StagedFiles::default()
            }
        };
        if let Kind::Grouped {
            earlier: Some(earlier),
            ..
        } = &self.kind
            && let Some(old) = earlier.get(&file.name)
        {
            // The new version's rows replace the old ones, in the same commit.
            staged = staged.replacing(old.data_files.clone());
        }
        self.rows += report.metrics.num_rows_persisted;
        self.bytes += file.size;
        self.since.get_or_insert_with(Instant::now);
        self.members.push(Member {
            file: file.clone(),
            started_at,
            report,
            data_files: staged.paths(),
        });
        self.staged.extend(staged);
        if self.due() {
            self.flush(engine, table, job, progress).await?;
        }
        Ok(())
    }

    /// Whether the group reached a bound of its policy.
    fn due(&self) -> bool {
        let policy = match &self.kind {
            Kind::Grouped { policy, .. } => policy,
            Kind::Merge(_) => return true,
            Kind::AtEnd => return false,
        };
        self.members.len() as u64 >= policy.max_objects
            || self.rows >= policy.max_rows
            || self.bytes >= policy.max_bytes.0
            || self.since.is_some_and(|t| t.elapsed() >= policy.max_wait.0)
    }

    /// A job stopping early (canceled, failed): an append commits the objects that passed; a
    /// replace commits nothing, so the table stays as it was.
    pub(super) async fn stop(
        &mut self,
        engine: &Engine<'_>,
        table: &mut Table,
        job: Uuid,
        progress: &dyn Progress,
    ) -> Result<(), EngineError> {
        match self.kind {
            Kind::Grouped { .. } | Kind::Merge(_) => self.flush(engine, table, job, progress).await,
            Kind::AtEnd => Ok(()),
        }
    }

    /// Commits the objects gathered so far (all of a replace job's, at its end).
    pub(super) async fn flush(
        &mut self,
        engine: &Engine<'_>,
        table: &mut Table,
        job: Uuid,
        progress: &dyn Progress,
    ) -> Result<(), EngineError> {
        if self.members.is_empty() {
            return Ok(());
        }
        if let Some(shared) = self.shared.take() {
            self.staged.extend(shared.finish().await?);
        }
        let members = std::mem::take(&mut self.members);
        let staged = std::mem::take(&mut self.staged);
        (self.rows, self.bytes, self.since) = (0, 0, None);
        let mode = match self.kind {
            Kind::Grouped { .. } | Kind::Merge(_) => WriteMode::Append,
            Kind::AtEnd => WriteMode::Replace,
        };
        let keyed = self.keyed.take();
        let table_version =
            if keyed.is_none() && staged.changes_nothing() && mode == WriteMode::Append {
                // Nothing to add or remove: no commit, and no version spent.
                None
            } else {
                let version = self.next_version;
                let prepared: Vec<PreparedFile<'_>> = members
                    .iter()
                    .map(|m| PreparedFile {
                        seq: m.file.seq,
                        started_at: &m.started_at,
                        metrics: &m.report.metrics,
                        data_files: &m.data_files,
                    })
                    .collect();
                engine.store.prepare_commit(job, &prepared, version).await?;
                let txn = AppTxn::new(&app_id(job), version);
                let info = commit_info(job, &members);
                let committed = match (keyed, &self.kind) {
                    (Some(source), Kind::Merge(merging)) => {
                        let matched = match merging {
                            Merging::Key(rule) => match rule.on_match {
                                OnMatch::Update => Matched::SetAll,
                                OnMatch::UpdateNonNull => Matched::SetNonNull,
                            },
                            Merging::Rollup(rollup) => Matched::Combine(
                                rollup
                                    .combines()
                                    .into_iter()
                                    .map(|(column, c)| (column, combine(c)))
                                    .collect(),
                            ),
                        };
                        table.merge(source, matched, txn, info).await?.version
                    }
                    _ => table.commit(staged, mode, Some(txn), info).await?,
                };
                self.next_version += 1;
                Some(committed)
            };
        let finished: Vec<FinishedFile<'_>> = members
            .iter()
            .map(|m| FinishedFile {
                seq: m.file.seq,
                name: &m.file.name,
                started_at: Some(&m.started_at),
                outcome: FileOutcome::Passed { table_version },
                metrics: &m.report.metrics,
                diagnostics: &m.report.diagnostics,
            })
            .collect();
        engine.store.finish_files(job, &finished).await?;
        for m in &members {
            progress.file_finished(&m.file.name, FileStatus::Passed);
        }
        Ok(())
    }
}

/// The table's combining rule for a rollup's.
fn combine(c: mapping::Combine) -> table::Combine {
    match c {
        mapping::Combine::Greatest => table::Combine::Greatest,
        mapping::Combine::Least => table::Combine::Least,
        mapping::Combine::Add => table::Combine::Add,
    }
}

/// A rollup goes into a table made by the same rollup, or into a new one: another granularity,
/// dimension or aggregation would leave the table with more than one row per group.
fn check_rollup(table: &Table, name: &str, rollup: &RollupPlan) -> Result<(), EngineError> {
    if table.version().is_none() {
        return Ok(());
    }
    let wanted = rollup.describe();
    let message = match table.property(ROLLUP_PROPERTY) {
        Some(stored) if stored == wanted => return Ok(()),
        Some(stored) => format!(
            "table `{name}` holds a rollup of {stored}, and this workflow rolls up {wanted}: a \
             rollup table keeps one granularity, dimensions and aggregations (write this \
             rollup to a new table)"
        ),
        None => format!(
            "table `{name}` was not made by a rollup, so its rows are not one per group: \
             write this rollup to a new table"
        ),
    };
    Err(EngineError::RollupChanged(message))
}

async fn write_all(writer: &mut TableWriter, batches: &[RecordBatch]) -> Result<(), EngineError> {
    for batch in batches {
        writer.write(batch).await?;
    }
    Ok(())
}
