//! `ferry run` and `ferry validate`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::{exit, print, progress};
use crate::engine::{EngineError, Ferry, RunOptions};
use crate::store::ExecutionStatus;
use crate::workflow::{Workflow, WorkflowError};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The workflow file.
    file: PathBuf,
    /// Run the real path on one object and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Only this object (its key under the source). With --dry-run, the object to try.
    #[arg(long = "file", value_name = "NAME")]
    only: Option<String>,
    /// Print the job (or dry-run result) as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(ferry: Ferry, args: RunArgs) -> Result<ExitCode, EngineError> {
    let workflow = Workflow::load(&args.file)?;
    let prepared = ferry.prepare(&workflow)?;
    if args.dry_run {
        let result = ferry.dry_run(&prepared, args.only.as_deref()).await?;
        if args.json {
            print::json(&result);
        } else {
            print::dry_run(&result);
        }
        return Ok(if result.validation_result.error.is_none() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(exit::DATA)
        });
    }
    let bar = progress::Bar::new(args.json);
    let job = ferry
        .run(
            &prepared,
            &RunOptions {
                only_file: args.only,
            },
            &bar,
        )
        .await?;
    bar.done();
    if args.json {
        print::job_json(&ferry, &job).await?;
    } else {
        print::job_summary(&ferry, &job).await?;
    }
    Ok(job_exit(job.execution_status))
}

pub fn job_exit(status: ExecutionStatus) -> ExitCode {
    match status {
        ExecutionStatus::Success
        | ExecutionStatus::SuccessWithWarning
        | ExecutionStatus::NoRowsIngested => ExitCode::SUCCESS,
        _ => ExitCode::from(exit::JOB_FAILED),
    }
}

pub fn validate(ferry: Ferry, file: &Path, json: bool) -> Result<ExitCode, EngineError> {
    let outcome = Workflow::load(file)
        .map_err(EngineError::from)
        .and_then(|wf| ferry.prepare(&wf).map(|p| (wf, p)));
    let problems: Vec<String> = match &outcome {
        Ok(_) => Vec::new(),
        Err(EngineError::Workflow(WorkflowError::Invalid(p))) | Err(EngineError::Plugins(p)) => {
            p.iter().map(ToString::to_string).collect()
        }
        Err(EngineError::Workflow(e @ WorkflowError::Read { .. })) => vec![e.to_string()],
        Err(_) => return outcome.map(|_| ExitCode::SUCCESS),
    };
    if json {
        print::json(&serde_json::json!({ "valid": problems.is_empty(), "problems": problems }));
    } else if let Ok((wf, p)) = &outcome {
        println!(
            "{}: valid workflow `{}` ({} → {}{} → table `{}`)",
            file.display(),
            wf.name,
            p.source.name,
            p.parser.name,
            if wf.validate.is_some() {
                " → validate"
            } else {
                ""
            },
            wf.ingest.table
        );
    } else {
        for p in &problems {
            eprintln!("{p}");
        }
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else if matches!(
        outcome,
        Err(EngineError::Workflow(WorkflowError::Read { .. }))
    ) {
        ExitCode::from(exit::NO_INPUT)
    } else {
        ExitCode::from(exit::CONFIG)
    })
}
