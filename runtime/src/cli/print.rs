//! Output for people (one screen) and programs (JSON with camelCase keys).

use serde::Serialize;

use crate::app::App;
use crate::engine::{DryRun, EngineError};
use crate::store::{FileFilter, FileStatus, Job, JobFile, Page};

pub fn json<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("error: cannot print JSON: {e}"),
    }
}

/// The job with its parse-exception sample, as `--json` prints it.
pub async fn job_json(app: &App, job: &Job) -> Result<(), EngineError> {
    let exceptions = app.parse_exceptions(job.id).await?;
    let mut value = serde_json::to_value(job).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.insert(
            "parseExceptions".into(),
            serde_json::to_value(exceptions).unwrap_or_default(),
        );
        map.insert("tablePath".into(), table_path(app, &job.table).into());
    }
    if let Some(ingestion) = crate::app::Ingestion::of(job) {
        ingestion.add_to(&mut value);
    }
    json(&value);
    Ok(())
}

fn table_path(app: &App, table: &str) -> String {
    app.table_path(table)
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

pub async fn job_summary(app: &App, job: &Job) -> Result<(), EngineError> {
    let m = &job.metrics;
    let f = &job.files;
    println!("job {}  {}", job.id, job.execution_status);
    println!(
        "  workflow  {} → table `{}` ({})",
        job.workflow,
        job.table,
        table_path(app, &job.table)
    );
    println!(
        "  files     {} total: {} passed, {} failed, {} skipped, {} pending",
        f.total,
        f.passed,
        f.failed,
        f.skipped,
        f.pending + f.running
    );
    println!(
        "  rows      {} processed, {} persisted, {} skipped by filter, {} skipped by error, {} with warning",
        m.num_rows_processed,
        m.num_rows_persisted,
        m.num_rows_skipped_by_filter,
        m.num_rows_skipped_by_error,
        m.num_rows_processed_with_warning
    );
    let health = if job.health.messages.is_empty() {
        String::new()
    } else {
        format!(": {}", job.health.messages.join("; "))
    };
    println!("  health    {}{health}", job.health.status);
    if let Some(failure) = &job.failure {
        println!("  failure   {} [{}]", failure.message, failure.code);
    }
    let failed = app
        .job_files(
            job.id,
            &FileFilter {
                statuses: vec![FileStatus::Failed],
                ..Default::default()
            },
        )
        .await?;
    for file in failed.iter().take(5) {
        if let Some(e) = &file.error {
            let row = e.row.map(|r| format!(" (row {r})")).unwrap_or_default();
            println!("  failed    {}{row}: {} [{}]", file.name, e.message, e.code);
        }
    }
    let exceptions = app.parse_exceptions(job.id).await?;
    if !exceptions.is_empty() {
        println!("  first row problems:");
        for e in exceptions.iter().take(5) {
            println!("    {}: {}", e.file, e.diagnostic);
        }
    }
    Ok(())
}

pub fn job_table(page: &Page<Job>) {
    println!(
        "{:<36}  {:<20}  {:<6}  {:<24}  {:>10}  WORKFLOW",
        "ID", "STATUS", "HEALTH", "CREATED", "ROWS"
    );
    for job in &page.items {
        println!(
            "{:<36}  {:<20}  {:<6}  {:<24}  {:>10}  {}",
            // Padding applies to strings: the status types' Display would ignore it.
            job.id.to_string(),
            job.execution_status.to_string(),
            job.health.status.to_string(),
            job.created_at,
            job.metrics.num_rows_persisted,
            job.workflow
        );
    }
    if let Some(cursor) = &page.next_cursor {
        println!("more: --cursor {cursor}");
    }
}

pub fn file_table(files: &[JobFile]) {
    println!(
        "{:>4}  {:<8}  {:>10}  {:>10}  {:>8}  NAME / ERROR",
        "SEQ", "STATUS", "PROCESSED", "PERSISTED", "ERRORS"
    );
    for f in files {
        println!(
            "{:>4}  {:<8}  {:>10}  {:>10}  {:>8}  {}",
            f.seq,
            f.status.to_string(),
            f.metrics.num_rows_processed,
            f.metrics.num_rows_persisted,
            f.metrics.num_rows_skipped_by_error,
            f.name
        );
        if let Some(e) = &f.error {
            println!("{:>48}{} [{}]", "", e.message, e.code);
        }
    }
}

pub fn dry_run(result: &DryRun) {
    let v = &result.validation_result;
    println!("dry run of {}: {}", v.file_path, v.validation_status);
    if let Some(e) = &v.error {
        let row = e.row.map(|r| format!(" (row {r})")).unwrap_or_default();
        println!("  error     {}{row} [{}]", e.message, e.code);
    }
    let m = &result.metrics;
    println!(
        "  rows      {} processed, {} would be persisted, {} skipped by filter, {} skipped by error, {} with warning",
        m.num_rows_processed,
        m.would_persist,
        m.num_rows_skipped_by_filter,
        m.num_rows_skipped_by_error,
        m.num_rows_processed_with_warning
    );
    if !result.columns.is_empty() {
        let cols: Vec<String> = result
            .columns
            .iter()
            .map(|(n, t)| format!("{n}: {t}"))
            .collect();
        println!("  columns   {}", cols.join(", "));
    }
    for m in &result.ingestion.mappings {
        let aggregation = if m.aggregation { " (aggregation)" } else { "" };
        println!("  mapping   {} = {}{aggregation}", m.column, m.expression);
    }
    for d in result.diagnostics.iter().take(10) {
        println!("  problem   {d}");
    }
    if !result.rows.is_empty() {
        println!("  first {} rows that would be ingested:", result.rows.len());
        for row in &result.rows {
            println!("    {}", serde_json::Value::Object(row.clone()));
        }
    }
    println!("  nothing was written");
}
