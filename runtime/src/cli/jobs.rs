//! `ferry jobs list|show|files|resume|cancel`.

use std::process::ExitCode;

use clap::Subcommand;
use uuid::Uuid;

use super::{print, progress, run::job_exit};
use crate::app::App;
use crate::engine::EngineError;
use crate::store::{ExecutionStatus, FileFilter, FileStatus, HealthStatus, JobFilter, Timestamp};

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Jobs, newest first, a page at a time.
    List {
        /// Only jobs with this execution status (repeat to allow several).
        #[arg(long = "status", value_name = "S")]
        statuses: Vec<ExecutionStatus>,
        /// Only jobs with this health (ok, warn, error; repeatable).
        #[arg(long = "health", value_name = "H")]
        health: Vec<HealthStatus>,
        /// Only jobs of this workflow (repeatable).
        #[arg(long = "workflow", value_name = "NAME")]
        workflows: Vec<String>,
        /// Created at or after this RFC3339 time.
        #[arg(long)]
        since: Option<Timestamp>,
        /// Created before this RFC3339 time.
        #[arg(long)]
        until: Option<Timestamp>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// The `nextCursor` of the previous page.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// One job: status, health, metrics, failed files and parse exceptions.
    Show { id: Uuid },
    /// The files of a job, with their status, counts and errors.
    Files {
        id: Uuid,
        #[arg(long = "status", value_name = "S")]
        statuses: Vec<FileStatus>,
        #[arg(long)]
        since: Option<Timestamp>,
        #[arg(long)]
        until: Option<Timestamp>,
    },
    /// Continue a killed or interrupted job at its first file not passed.
    Resume { id: Uuid },
    /// Ask a running job to stop (its desired status becomes CANCELED).
    Cancel { id: Uuid },
}

pub async fn jobs(app: App, command: JobsCommand, json: bool) -> Result<ExitCode, EngineError> {
    match command {
        JobsCommand::List {
            statuses,
            health,
            workflows,
            since,
            until,
            limit,
            cursor,
        } => {
            let filter = JobFilter {
                statuses,
                health,
                workflows,
                since,
                until,
            };
            let page = app.jobs(&filter, limit, cursor.as_deref()).await?;
            if json {
                print::json(&page);
            } else {
                print::job_table(&page);
            }
        }
        JobsCommand::Show { id } => {
            let job = app.job(id).await?;
            if json {
                print::job_json(&app, &job).await?;
            } else {
                print::job_summary(&app, &job).await?;
            }
        }
        JobsCommand::Files {
            id,
            statuses,
            since,
            until,
        } => {
            app.job(id).await?;
            let files = app
                .job_files(
                    id,
                    &FileFilter {
                        statuses,
                        since,
                        until,
                    },
                )
                .await?;
            if json {
                print::json(&serde_json::json!({ "items": files }));
            } else {
                print::file_table(&files);
            }
        }
        JobsCommand::Resume { id } => {
            let bar = progress::Bar::new(json);
            let job = app.resume(id, &bar).await?;
            bar.done();
            if json {
                print::job_json(&app, &job).await?;
            } else {
                print::job_summary(&app, &job).await?;
            }
            return Ok(job_exit(&job));
        }
        JobsCommand::Cancel { id } => {
            let job = app.cancel(id).await?;
            if json {
                print::json(&job);
            } else {
                println!(
                    "job {id}: desired status CANCELED (now {})",
                    job.execution_status
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
