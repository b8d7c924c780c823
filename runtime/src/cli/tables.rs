//! `ferry tables`: the home's Delta tables.

use std::process::ExitCode;

use clap::Subcommand;

use super::print;
use crate::app::App;
use crate::engine::EngineError;
use crate::table::TableInfo;

#[derive(Debug, Subcommand)]
pub enum TablesCommand {
    /// Tables with their version, files, size, rows and last job.
    List,
    /// One table: its columns, version, files, size, rows and last commit.
    Show { name: String },
}

pub async fn tables(app: App, command: TablesCommand, json: bool) -> Result<ExitCode, EngineError> {
    match command {
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
                    println!(
                        "  last      {} {} by job {}",
                        c.operation.as_deref().unwrap_or("commit"),
                        when,
                        c.job_id.as_deref().unwrap_or("(not ferry)")
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
    }
    Ok(ExitCode::SUCCESS)
}

fn rows(t: &TableInfo) -> String {
    t.rows.map_or("?".into(), |r| r.to_string())
}
