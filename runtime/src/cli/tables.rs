//! `ferry tables`: the home's Delta tables.

use std::process::ExitCode;

use clap::Subcommand;

use super::print;
use crate::app::App;
use crate::engine::EngineError;
use crate::table::{QueryLimits, TableInfo};
use crate::units::{ByteSize, HumanDuration};

#[derive(Debug, Subcommand)]
pub enum TablesCommand {
    /// Tables with their version, files, size, rows and last job.
    List,
    /// One table: its columns, version, files, size, rows and last commit.
    Show { name: String },
    /// Rewrites the table's small data files into large ones, in one commit (Delta OPTIMIZE).
    /// Readers and running jobs are unaffected; the old files stay until a vacuum.
    Compact {
        name: String,
        /// The size of the files written.
        #[arg(long, default_value = "128MiB")]
        target_file_size: ByteSize,
    },
    /// Deletes the files no table version within the retention needs: files compaction or a
    /// replace removed, and files failed objects staged. Refused while a job writes to it.
    Vacuum {
        name: String,
        /// Keep what versions of this age need (the table's retention, a week, by default).
        #[arg(long)]
        retain: Option<HumanDuration>,
        /// Only list what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
    /// Run one read-only SQL query over the home's tables (each by its name), on DataFusion:
    /// `ferry tables query "SELECT predicted_label, count(*) FROM predictions GROUP BY 1"`.
    /// Statements that write or define are refused.
    Query {
        sql: String,
        /// Print CSV (with a header) instead of a table; `--json` prints {columns, rows}.
        #[arg(long)]
        csv: bool,
        /// The most rows the answer may hold; a query returning more is stopped.
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
        max_rows: u64,
        /// The longest the query may run.
        #[arg(long, default_value = "30s")]
        timeout: HumanDuration,
        /// Working memory for joins, sorts and aggregations.
        #[arg(long, default_value = "512MiB")]
        memory: ByteSize,
    },
}

pub async fn tables(app: App, command: TablesCommand, json: bool) -> Result<ExitCode, EngineError> {
    match command {
        TablesCommand::Query {
            sql,
            csv,
            max_rows,
            timeout,
            memory,
        } => {
            if timeout.0.is_zero() || (csv && json) {
                eprintln!(
                    "error: {}",
                    if csv && json {
                        "--csv and --json ask for two outputs; give one"
                    } else {
                        "--timeout must be longer than 0s"
                    }
                );
                return Ok(ExitCode::from(super::exit::DATA));
            }
            let limits = QueryLimits {
                max_rows: usize::try_from(max_rows).unwrap_or(usize::MAX),
                timeout: timeout.0,
                memory: usize::try_from(memory.0).unwrap_or(usize::MAX),
            };
            let answer = match app.query(&sql, &limits).await {
                Ok(answer) => answer,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(if e.is_input() {
                        super::exit::DATA
                    } else {
                        super::exit::INTERNAL
                    }));
                }
            };
            let printed = if json {
                print::json(&answer.to_json());
                Ok(())
            } else if csv {
                let mut writer = arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(std::io::stdout().lock());
                answer.batches.iter().try_for_each(|b| writer.write(b))
            } else {
                arrow::util::pretty::pretty_format_batches(&answer.batches).map(|shown| {
                    println!("{shown}");
                    println!(
                        "{} row{}",
                        answer.rows,
                        if answer.rows == 1 { "" } else { "s" }
                    );
                })
            };
            if let Err(e) = printed {
                eprintln!("error: printing the answer: {e}");
                return Ok(ExitCode::from(super::exit::INTERNAL));
            }
        }
        TablesCommand::List => {
            let tables = app.tables().await?;
            if json {
                print::json(&serde_json::json!({ "items": tables }));
            } else {
                println!(
                    "{:<28} {:>7} {:>6} {:>12} {:>12}  LAST JOB",
                    "TABLE", "VERSION", "FILES", "BYTES", "ROWS"
                );
                for t in &tables {
                    println!(
                        "{:<28} {:>7} {:>6} {:>12} {:>12}  {}",
                        t.name,
                        t.version,
                        t.files,
                        t.bytes,
                        rows(t),
                        t.last_commit
                            .as_ref()
                            .and_then(|c| c.job_id.as_deref())
                            .unwrap_or("-")
                    );
                }
            }
        }
        TablesCommand::Show { name } => {
            let t = app.table(&name).await?;
            if json {
                print::json(&t);
            } else {
                println!("table {}  ({})", t.name, t.path);
                println!("  version   {}", t.version);
                println!("  files     {} ({} bytes)", t.files, t.bytes);
                println!("  rows      {}", rows(&t));
                if let Some(c) = &t.last_commit {
                    let when = c
                        .timestamp
                        .and_then(chrono::DateTime::from_timestamp_millis)
                        .map(|d| d.to_rfc3339())
                        .unwrap_or_default();
                    // Compaction, vacuum and other writers' commits come from no ferry job.
                    let by = c
                        .job_id
                        .as_deref()
                        .map_or_else(|| "not by a job".to_owned(), |j| format!("by job {j}"));
                    println!(
                        "  last      {} {} {by}",
                        c.operation.as_deref().unwrap_or("commit"),
                        when,
                    );
                }
                println!("  columns");
                for c in &t.columns {
                    println!(
                        "    {:<28} {}{}",
                        c.name,
                        c.type_,
                        if c.nullable { "" } else { " NOT NULL" }
                    );
                }
            }
        }
        TablesCommand::Compact {
            name,
            target_file_size,
        } => {
            let r = app.compact_table(&name, Some(target_file_size.0)).await?;
            if json {
                print::json(&r);
            } else if let Some(version) = r.version {
                println!(
                    "table {name}: {} files ({} bytes) rewritten into {} ({} bytes), {} rows, version {version}{}",
                    r.files_removed,
                    r.bytes_removed,
                    r.files_added,
                    r.bytes_added,
                    r.rows,
                    kept(r.files_kept)
                );
            } else {
                println!("table {name}: nothing to compact{}", kept(r.files_kept));
            }
        }
        TablesCommand::Vacuum {
            name,
            retain,
            dry_run,
        } => {
            let r = app
                .vacuum_table(&name, retain.map(|d| d.0), dry_run)
                .await?;
            if json {
                print::json(&r);
            } else {
                let verb = if dry_run { "would delete" } else { "deleted" };
                println!("table {name}: {verb} {} files", r.files_deleted.len());
                for f in &r.files_deleted {
                    println!("  {f}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn kept(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" ({n} files kept: objects that on_change = \"reimport\" may replace)")
    }
}

fn rows(t: &TableInfo) -> String {
    t.rows.map_or("?".into(), |r| r.to_string())
}
