//! The job loop: list once, then take each object in order — parse, map, stage — and hand it
//! to the job's [`Commits`], which commits passed objects in groups with their application
//! transaction and records them, until done, failed or canceled.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use uuid::Uuid;

use super::commit::{Commits, app_id};
use super::download::Downloads;
use super::file::{FileContext, FileFailure, FileReport, Input};
use super::outcome::Stop;
use super::parse_ahead::{ParseAhead, Parsing};
use super::{Engine, EngineError, Prepared, Progress};
use crate::host::{CancelToken, InstanceOptions, SourceInstance};
use crate::store::{
    DesiredStatus, ErrorInfo, FileFilter, FileOutcome, FileStatus, FinishedFile, Job, JobFile,
    NewFile, NewJob, RowMetrics, Timestamp, now,
};
use crate::table::Table;
use crate::workflow::OnChange;

/// Choices for one run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Import only the object with this key.
    pub only_file: Option<String>,
    /// Import only objects with these keys (a trigger naming the objects that arrived).
    pub only_files: Option<Vec<String>>,
}

impl Engine<'_> {
    /// Records a new job in CREATED, to be run by the runner (now, or when a place in a
    /// server's pool frees up).
    pub async fn create_job(&self, prepared: &Prepared) -> Result<Job, EngineError> {
        let workflow = &prepared.workflow;
        let job = self
            .store
            .create_job(&NewJob {
                workflow: workflow.name.clone(),
                workflow_path: workflow.path.display().to_string(),
                workflow_text: workflow.text.clone(),
                table: workflow.ingest.table.clone(),
                source_id: prepared.source_id.clone(),
            })
            .await?;
        tracing::info!(job = %job.id, workflow = %workflow.name, "job created");
        Ok(job)
    }

    /// Reads every pending object of job `id` into its table (the import, validate and
    /// ingest steps), committing each as it goes; says how it stopped. The job record's status
    /// is the runner's to write.
    pub(crate) async fn ingest(
        &self,
        id: Uuid,
        prepared: &Prepared,
        options: &RunOptions,
        progress: &dyn Progress,
        cancel: &CancelToken,
    ) -> Result<Stop, EngineError> {
        let workflow = &prepared.workflow;
        let step: Arc<str> = workflow.import.name.as_str().into();
        let source_opts = InstanceOptions {
            step: step.clone(),
            sandbox: prepared.source_sandbox.clone(),
            limits: prepared.limits,
            cancel: cancel.clone(),
        };
        let parser_opts = InstanceOptions {
            sandbox: prepared.parser_sandbox.clone(),
            ..source_opts.clone()
        };
        let mut source = self.host.source(&prepared.source, &source_opts).await?;

        let mut files = self.store.files(id, &FileFilter::default()).await?;
        if files.is_empty() {
            let listed = list_objects(&mut source, prepared, options).await?;
            let total = listed.len();
            let listed = self.not_yet_imported(prepared, listed).await?;
            self.store
                .set_already_imported(id, (total - listed.len()) as u64)
                .await?;
            self.store.add_files(id, &listed).await?;
            files = self.store.files(id, &FileFilter::default()).await?;
        }
        progress.listed(files.len() as u64, files.iter().map(|f| f.size).sum());

        let table_path = self.home.table(&workflow.ingest.table)?;
        let mut table = Table::open(&table_path).await?;
        let app = app_id(id);
        let total_files = files.len() as i64;
        self.reconcile(id, &files, &table, &app).await?;
        let files = self.store.files(id, &FileFilter::default()).await?;

        let mut schema: Option<SchemaRef> = table.arrow_schema();
        let mut exceptions = files
            .iter()
            .map(|f| f.metrics.num_rows_skipped_by_error)
            .sum::<u64>();
        drop(source);
        // A parser that cannot be instantiated at all is the job's problem, not an object's.
        drop(self.host.parser(&prepared.parser, &parser_opts).await?);
        let pending: Vec<String> = files
            .iter()
            .filter(|f| f.status == FileStatus::Pending)
            .map(|f| f.name.clone())
            .collect();
        let downloads = Downloads::start(
            self.host.clone(),
            prepared.source.clone(),
            source_opts.clone(),
            pending.clone(),
            prepared.concurrency,
        );
        let parsing = Parsing {
            host: self.host.clone(),
            parser: prepared.parser.clone(),
            options: parser_opts,
            input: Input {
                compression: workflow.import.compression,
                decompression: workflow.import.decompression,
                spool: self.home.spool(),
                columns: prepared.mapping.input_columns(),
            },
            splitting: prepared.splitting,
        };
        // Every core parses (the wasm parse is what costs); mapping and commits stay in order.
        let parallel = prepared
            .concurrency
            .min(std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get));
        let mut parses = ParseAhead::start(parsing, downloads, pending, parallel);
        let mut commits = Commits::new(self, prepared, &table, &app, total_files).await?;
        let mut unreachable_in_a_row = 0usize;

        for file in files.iter().filter(|f| f.status == FileStatus::Pending) {
            if cancel.is_canceled()
                || self.store.desired_status(id).await? == DesiredStatus::Canceled
            {
                commits.stop(self, &mut table, id, progress).await?;
                return Ok(Stop::Canceled);
            }
            // A small object is recorded `running` only with its counts, just ahead of the
            // commit that carries its rows (one store write per commit, not three per object);
            // a large one shows `running` while it is read.
            let started_at = now();
            if file.size >= SHOWN_RUNNING {
                self.store.start_file(id, file.seq).await?;
            }
            progress.file_started(&file.name);
            let mut parsed = parses
                .next(&file.name)
                .await
                .expect("a parse is queued for every pending file");
            let mut report = FileReport::default();
            let open = |schema: SchemaRef| table.writer(schema);
            let mut sink = commits.sink(&open);
            let on_bytes = |n: u64| progress.bytes(n);
            let spool = self.home.spool();
            let mut ctx = FileContext {
                mapping: &prepared.mapping,
                compression: workflow.import.compression,
                decompression: &workflow.import.decompression,
                schema: &mut schema,
                exceptions_before: exceptions,
                max_exceptions: workflow.ingest.max_parse_exceptions,
                on_bytes: &on_bytes,
                spool: &spool,
            };
            let result = parsed.absorb_into(&mut ctx, &mut sink, &mut report).await;
            // Done with this object: its place goes to the next parse.
            drop(parsed);
            let result = match result {
                Ok(()) => {
                    let rows = sink.into_rows().await?;
                    commits.admit(rows, &mut report).await
                }
                Err(e) => {
                    // What it staged stays unreferenced (`ferry tables vacuum` removes it).
                    drop(sink);
                    Err(e)
                }
            };
            match result {
                Ok(rows) => {
                    exceptions += report.metrics.num_rows_skipped_by_error;
                    commits
                        .passed(
                            self, &mut table, id, file, started_at, rows, report, progress,
                        )
                        .await?;
                    unreachable_in_a_row = 0;
                }
                Err(FileFailure::File(error)) => {
                    tracing::warn!(job = %id, file = %file.name, code = %error.code, "file failed: {}", error.message);
                    exceptions += report.metrics.num_rows_skipped_by_error;
                    self.fail_file(id, file, &started_at, &error, &report, progress)
                        .await?;
                    if error.code == "unreachable" {
                        unreachable_in_a_row += 1;
                        if unreachable_in_a_row >= MAX_UNREACHABLE_IN_A_ROW {
                            commits.stop(self, &mut table, id, progress).await?;
                            return Ok(Stop::Failed(ErrorInfo {
                                code: "source_unreachable".into(),
                                message: format!(
                                    "{unreachable_in_a_row} objects in a row could not be reached (the last, `{}`: {}); \
                                     the job stopped rather than try the rest: run it again once the store answers",
                                    file.name, error.message
                                ),
                                row: None,
                            }));
                        }
                    } else {
                        unreachable_in_a_row = 0;
                    }
                }
                Err(FileFailure::TooManyExceptions(error)) => {
                    self.fail_file(id, file, &started_at, &error, &report, progress)
                        .await?;
                    commits.stop(self, &mut table, id, progress).await?;
                    return Ok(Stop::Failed(error));
                }
                Err(FileFailure::Canceled) => {
                    commits.stop(self, &mut table, id, progress).await?;
                    return Ok(Stop::Canceled);
                }
                Err(FileFailure::Table(e)) => return Err(e.into()),
            }
        }

        commits.flush(self, &mut table, id, progress).await?;
        Ok(Stop::Completed)
    }

    /// The objects a run would import now: listed, filtered, and not yet passed.
    pub async fn pending_objects(&self, prepared: &Prepared) -> Result<Vec<NewFile>, EngineError> {
        let options = InstanceOptions {
            step: prepared.workflow.import.name.as_str().into(),
            sandbox: prepared.source_sandbox.clone(),
            limits: prepared.limits,
            cancel: CancelToken::default(),
        };
        let mut source = self.host.source(&prepared.source, &options).await?;
        let listed = list_objects(&mut source, prepared, &RunOptions::default()).await?;
        self.not_yet_imported(prepared, listed).await
    }

    /// Drops objects an earlier job of this workflow passed (unless the step reads
    /// everything, or re-imports changed objects and this one changed).
    pub(super) async fn not_yet_imported(
        &self,
        prepared: &Prepared,
        listed: Vec<NewFile>,
    ) -> Result<Vec<NewFile>, EngineError> {
        let workflow = &prepared.workflow;
        if !workflow.incremental() {
            return Ok(listed);
        }
        let imported = self
            .store
            .imported_objects(&workflow.name, &prepared.source_id, &workflow.ingest.table)
            .await?;
        let total = listed.len();
        let fresh: Vec<NewFile> = listed
            .into_iter()
            .filter(|f| match imported.get(&f.name) {
                None => true,
                Some(earlier) => {
                    workflow.import.on_change == OnChange::Reimport && earlier.etag != f.etag
                }
            })
            .collect();
        tracing::info!(workflow = %workflow.name, listed = total, new = fresh.len(), "incremental listing");
        Ok(fresh)
    }

    /// Records a file that failed: its counts stand, but none of its rows were persisted.
    async fn fail_file(
        &self,
        id: Uuid,
        file: &JobFile,
        started_at: &Timestamp,
        error: &ErrorInfo,
        report: &FileReport,
        progress: &dyn Progress,
    ) -> Result<(), EngineError> {
        let metrics = RowMetrics {
            num_rows_persisted: 0,
            ..report.metrics
        };
        let finished = FinishedFile {
            seq: file.seq,
            name: &file.name,
            started_at: Some(started_at),
            outcome: FileOutcome::Failed(error),
            metrics: &metrics,
            diagnostics: &report.diagnostics,
        };
        self.store.finish_files(id, &[finished]).await?;
        progress.file_finished(&file.name, FileStatus::Failed);
        Ok(())
    }

    /// Settles files a previous run left `running`: committed ones (the table has their
    /// transaction) become passed with the counts stored before the commit; others go back to
    /// pending and are read again.
    pub(super) async fn reconcile(
        &self,
        id: Uuid,
        files: &[JobFile],
        table: &Table,
        app: &str,
    ) -> Result<(), EngineError> {
        let committed = table.app_version(app).await?.unwrap_or(0);
        for f in files.iter().filter(|f| f.status == FileStatus::Running) {
            match f.commit_version {
                Some(v) if v <= committed => {
                    tracing::info!(job = %id, file = %f.name, "file was committed before the interruption");
                    self.store
                        .finish_file(
                            id,
                            f.seq,
                            &f.name,
                            FileOutcome::Passed {
                                table_version: None,
                            },
                            &f.metrics,
                            &[],
                        )
                        .await?;
                }
                _ => self.store.reset_file(id, f.seq).await?,
            }
        }
        Ok(())
    }
}

pub(super) async fn list_objects(
    source: &mut SourceInstance,
    prepared: &Prepared,
    options: &RunOptions,
) -> Result<Vec<NewFile>, EngineError> {
    let objects = source.list_all(&prepared.workflow.import.prefix).await?;
    let mut files: Vec<NewFile> = objects
        .into_iter()
        .filter(|o| prepared.glob.as_ref().is_none_or(|g| g.is_match(&o.key)))
        .filter(|o| options.only_file.as_ref().is_none_or(|only| &o.key == only))
        .filter(|o| {
            options
                .only_files
                .as_ref()
                .is_none_or(|keys| keys.contains(&o.key))
        })
        .map(|o| NewFile {
            name: o.key,
            size: o.size,
            etag: o.etag,
        })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(only) = &options.only_file
        && files.is_empty()
    {
        return Err(EngineError::NoSuchObject(format!(
            "no object `{only}` under the import step's prefix and glob"
        )));
    }
    Ok(files)
}

pub(crate) fn error_code(e: &EngineError) -> &str {
    match e {
        EngineError::Plugin(prepared) => prepared.code(),
        EngineError::Table(_) => "table_error",
        EngineError::Store(_) => "store_error",
        EngineError::Workflow(_) | EngineError::Plugins(_) => "invalid_workflow",
        EngineError::NoSuchObject(_) => "no_such_object",
        EngineError::RollupChanged(_) => "rollup_changed",
        _ => "internal",
    }
}

/// Objects at least this large are recorded `running` as they start (a store write costs
/// about what reading 1 MiB does); smaller ones go from pending to their outcome.
pub const SHOWN_RUNNING: u64 = 1 << 20;

/// After this many objects in a row failed because the source could not be reached, the
/// store is taken to be down and the job stops (FAILED) instead of trying every object.
pub const MAX_UNREACHABLE_IN_A_ROW: usize = 5;

impl Engine<'_> {
    /// Marks what a stopped job did not reach as skipped, with the reason.
    pub(crate) async fn settle(&self, id: Uuid, stop: &Stop) -> Result<(), EngineError> {
        let reason = match stop {
            Stop::Completed => return Ok(()),
            Stop::Failed(reason) => reason.clone(),
            Stop::Canceled => ErrorInfo {
                code: "canceled".into(),
                message: "the job was canceled before this file".into(),
                row: None,
            },
        };
        self.store.skip_remaining(id, &reason).await?;
        Ok(())
    }
}
