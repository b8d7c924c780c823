//! Dry run: the real path (plugins, decompression, parsing, mapping) on one object, with
//! nothing written anywhere — no table data, no job record.

use arrow::array::RecordBatch;
use serde::Serialize;

use super::download::Downloads;
use super::file::{FileContext, FileFailure, FileReport, Sink, process};
use super::{Engine, EngineError, Prepared, RunOptions};
use crate::diagnostic::RowDiagnostic;
use crate::host::{CancelToken, InstanceOptions};
use crate::store::{ErrorInfo, RowMetrics};
use crate::table::Table;

/// How many rows a dry run shows.
pub const PREVIEW_ROWS: usize = 20;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationResult {
    /// `passed` or `failed`.
    pub validation_status: &'static str,
    pub file_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
}

/// A dry run's row counts: as a job's, but nothing is persisted, so the last count says what a
/// run would persist.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRunMetrics {
    pub num_rows_processed: u64,
    pub num_rows_processed_with_warning: u64,
    pub num_rows_skipped_by_filter: u64,
    pub num_rows_skipped_by_error: u64,
    pub would_persist: u64,
}

impl From<RowMetrics> for DryRunMetrics {
    fn from(m: RowMetrics) -> Self {
        DryRunMetrics {
            num_rows_processed: m.num_rows_processed,
            num_rows_processed_with_warning: m.num_rows_processed_with_warning,
            num_rows_skipped_by_filter: m.num_rows_skipped_by_filter,
            num_rows_skipped_by_error: m.num_rows_skipped_by_error,
            would_persist: m.num_rows_persisted,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRun {
    pub validation_result: ValidationResult,
    pub metrics: DryRunMetrics,
    /// Row problems (the first 100).
    pub diagnostics: Vec<RowDiagnostic>,
    /// Column names and types the table would get.
    pub columns: Vec<(String, String)>,
    /// The first rows that would have been ingested, as JSON objects.
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
    /// The ingestion mode and the mappings in effect.
    #[serde(flatten)]
    pub ingestion: super::Ingestion,
}

impl Engine<'_> {
    /// Runs the import, validate and mapping path on `file` (or the first object listed).
    pub async fn dry_run(
        &self,
        prepared: &Prepared,
        file: Option<&str>,
    ) -> Result<DryRun, EngineError> {
        let workflow = &prepared.workflow;
        let options = InstanceOptions {
            step: workflow.import.name.as_str().into(),
            sandbox: prepared.source_sandbox.clone(),
            limits: prepared.limits,
            cancel: CancelToken::default(),
        };
        let mut source = self.host.source(&prepared.source, &options).await?;
        let run_options = RunOptions {
            only_file: file.map(str::to_owned),
            ..RunOptions::default()
        };
        let listed = super::job::list_objects(&mut source, prepared, &run_options).await?;
        let Some(object) = listed.into_iter().next() else {
            return Err(EngineError::NoSuchObject(
                "no objects match the import step's prefix and glob".into(),
            ));
        };
        let mut parser = self
            .host
            .parser(
                &prepared.parser,
                &InstanceOptions {
                    sandbox: prepared.parser_sandbox.clone(),
                    ..options.clone()
                },
            )
            .await?;
        // Reading the table's schema writes nothing, and shows type conflicts a real run would hit.
        let table = Table::open(&self.home.table(&workflow.ingest.table)?).await?;
        let mut schema = table.arrow_schema();
        let mut report = FileReport::default();
        let mut sink = Sink::Preview {
            batches: Vec::new(),
            limit: PREVIEW_ROWS,
        };
        let on_bytes = |_| {};
        let spool = self.home.spool();
        let mut ctx = FileContext {
            mapping: &prepared.mapping,
            compression: workflow.import.compression,
            decompression: &workflow.import.decompression,
            schema: &mut schema,
            exceptions_before: 0,
            max_exceptions: workflow.ingest.max_parse_exceptions,
            on_bytes: &on_bytes,
            spool: &spool,
        };
        drop(source);
        let mut downloads = Downloads::start(
            self.host.clone(),
            prepared.source.clone(),
            options.clone(),
            vec![object.name.clone()],
            1,
        );
        let mut chunks = downloads
            .next(&object.name)
            .await
            .expect("one object queued");
        let result = process(
            &object.name,
            &mut chunks,
            &mut parser,
            &mut ctx,
            &mut sink,
            &mut report,
        )
        .await;
        drop(chunks);
        downloads.finish().await;
        let mut error = match result {
            Ok(()) => None,
            Err(FileFailure::File(e)) | Err(FileFailure::TooManyExceptions(e)) => Some(e),
            Err(FileFailure::Canceled) => Some(ErrorInfo {
                code: "canceled".into(),
                message: "canceled".into(),
                row: None,
            }),
            Err(FileFailure::Table(e)) => return Err(e.into()),
        };
        let Sink::Preview { mut batches, .. } = sink else {
            unreachable!("preview sink")
        };
        if let Some(rollup) = prepared.mapping.rollup()
            && error.is_none()
        {
            // A rollup's preview is its groups (of the rows previewed), as they would be
            // stored; the mapped rows hold what is aggregated, not the table's columns.
            match rollup.aggregate(&batches).await {
                Ok(grouped) => {
                    schema = Some(grouped.schema());
                    batches = vec![grouped];
                }
                Err(e) => {
                    error = Some(ErrorInfo {
                        code: "rollup_failed".into(),
                        message: format!("cannot roll the object's rows up: {e}"),
                        row: None,
                    })
                }
            }
        }
        let columns = schema
            .map(|s| {
                s.fields()
                    .iter()
                    .map(|f| (f.name().clone(), f.data_type().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        report.diagnostics.truncate(100);
        Ok(DryRun {
            validation_result: ValidationResult {
                validation_status: if error.is_none() { "passed" } else { "failed" },
                file_path: object.name,
                error,
            },
            metrics: report.metrics.into(),
            diagnostics: report.diagnostics,
            columns,
            rows: to_json_rows(&batches),
            ingestion: super::Ingestion::of_workflow(&prepared.workflow),
        })
    }
}

/// Rows as JSON objects (arrow's JSON writer: nulls left out).
pub fn to_json_rows(batches: &[RecordBatch]) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let mut writer = arrow::json::ArrayWriter::new(Vec::new());
    let refs: Vec<&RecordBatch> = batches.iter().collect();
    if writer.write_batches(&refs).is_err() || writer.finish().is_err() {
        return Vec::new();
    }
    serde_json::from_slice(&writer.into_inner()).unwrap_or_default()
}
