//! `ferry run` and `ferry validate`.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::{exit, print, progress};
use crate::app::App;
use crate::engine::{EngineError, RunOptions};
use crate::store::{ExecutionStatus, FileStatus};
use crate::units::HumanDuration;
use crate::workflow::{FileKind, ServiceSpec, WorkflowError};

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
    /// Keep polling the source every INTERVAL (`30s`, `5m`) and run a job whenever objects
    /// not yet imported appear. Stops on Ctrl-C or SIGTERM.
    #[arg(long, value_name = "INTERVAL")]
    watch: Option<HumanDuration>,
    /// A value for `${NAME}` in the workflow (over the project's variables); repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
}

/// `NAME=VALUE` of `--var`.
pub fn parse_var(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))?;
    crate::paths::check(crate::paths::NameKind::Variable, name).map_err(|e| e.to_string())?;
    Ok((name.to_owned(), value.to_owned()))
}

pub async fn run(app: App, args: RunArgs, json: bool) -> Result<ExitCode, EngineError> {
    let given: BTreeMap<String, String> = args.vars.iter().cloned().collect();
    let workflow = app.load_workflow(&args.file, &given).await?;
    let prepared = app.check(&workflow).await?;
    if args.dry_run {
        let result = app.dry_run(&prepared, args.only.as_deref()).await?;
        if json {
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
    if let Some(interval) = args.watch {
        return watch(&app, &prepared, interval.0, json).await;
    }
    let bar = progress::Bar::new(json);
    let job = app
        .run(
            &prepared,
            &RunOptions {
                only_file: args.only,
                ..RunOptions::default()
            },
            &bar,
        )
        .await?;
    bar.done();
    if json {
        print::job_json(&app, &job).await?;
    } else {
        print::job_summary(&app, &job).await?;
    }
    Ok(job_exit(&job))
}

/// Polls for objects not yet imported and runs a job for them, until told to stop. Objects a
/// job failed on are retried by the next `ferry run`, or here once they change, rather than
/// in a new job every interval.
async fn watch(
    app: &App,
    prepared: &crate::engine::Prepared,
    interval: Duration,
    json: bool,
) -> Result<ExitCode, EngineError> {
    if !prepared.workflow.incremental() {
        return Err(EngineError::Workflow(WorkflowError::Invalid(vec![
            crate::workflow::Problem {
                location: prepared.workflow.location(&prepared.workflow.import.name, "incremental"),
                message: "--watch needs an incremental import (ingest mode = \"append\", incremental not false)".into(),
            },
        ])));
    }
    let mut failed: HashSet<(String, Option<String>)> = HashSet::new();
    let mut stop = std::pin::pin!(shutdown());
    eprintln!(
        "watching `{}` every {}s; Ctrl-C stops",
        prepared.workflow.name,
        interval.as_secs_f64()
    );
    loop {
        let pending = app.pending_objects(prepared).await;
        match pending {
            Err(e) => {
                tracing::warn!(workflow = %prepared.workflow.name, "cannot list the source: {e}")
            }
            Ok(objects) => {
                let new: Vec<_> = objects
                    .iter()
                    .filter(|o| !failed.contains(&(o.name.clone(), o.etag.clone())))
                    .collect();
                if !new.is_empty() {
                    tracing::info!(objects = new.len(), "new objects: starting a job");
                    let bar = progress::Bar::new(json);
                    let job = app.run(prepared, &RunOptions::default(), &bar).await?;
                    bar.done();
                    if json {
                        print::job_json(app, &job).await?;
                    } else {
                        print::job_summary(app, &job).await?;
                    }
                    let files = app.job_files(job.id, &Default::default()).await?;
                    for f in files.iter().filter(|f| f.status != FileStatus::Passed) {
                        failed.insert((f.name.clone(), f.etag.clone()));
                    }
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = &mut stop => return Ok(ExitCode::SUCCESS),
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is called, not when the
/// future is first polled, so a signal that arrives early is not lost (nor kills the process).
pub(super) fn shutdown() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(term) => {}
                () = wait(int) => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// 0 when every object passed (or there was nothing to import), 3 when the job succeeded but
/// some objects failed, 1 when the job failed or was canceled.
pub fn job_exit(job: &crate::store::Job) -> ExitCode {
    match job.execution_status {
        ExecutionStatus::Success
        | ExecutionStatus::SuccessWithWarning
        | ExecutionStatus::NoRowsIngested
            if job.files.failed > 0 =>
        {
            ExitCode::from(exit::FILES_FAILED)
        }
        ExecutionStatus::Success
        | ExecutionStatus::SuccessWithWarning
        | ExecutionStatus::NoRowsIngested => ExitCode::SUCCESS,
        _ => ExitCode::from(exit::JOB_FAILED),
    }
}

pub async fn validate(
    app: App,
    file: &Path,
    given: &BTreeMap<String, String>,
    json: bool,
) -> Result<ExitCode, EngineError> {
    if let Ok(text) = crate::workflow::read_text(file)
        && let Some(kind @ (FileKind::Infras | FileKind::Service)) = FileKind::of(&text)
    {
        return validate_other(&app, file, &text, kind, json);
    }
    let outcome = match app.load_workflow(file, given).await {
        Ok(wf) => app.check(&wf).await.map(|p| (wf, p)),
        Err(e) => Err(e),
    };
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
    } else if problems.is_empty()
        && let Ok((wf, p)) = &outcome
    {
        println!(
            "{}: valid workflow `{}` ({} → {}{} → table `{}`{})",
            file.display(),
            wf.name,
            p.source.name,
            p.parser.name,
            if wf.validate.is_some() {
                " → validate"
            } else {
                ""
            },
            wf.ingest.table,
            match (&wf.package, &wf.service, &wf.deploy) {
                (Some(_), Some(service), None) => format!(" → package `{}`", service.id),
                (Some(_), Some(service), Some(d)) =>
                    format!(" → package `{}` → deploy on `{}`", service.id, d.infra),
                _ => String::new(),
            }
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

/// `ferry validate` on an infra file or a service file: what `ferry infras apply` or a
/// workflow's `service_file` would check, without storing anything.
fn validate_other(
    app: &App,
    file: &Path,
    text: &str,
    kind: FileKind,
    json: bool,
) -> Result<ExitCode, EngineError> {
    let result: Result<String, String> = match kind {
        FileKind::Infras => app
            .check_infras(file)
            .map(|names| format!("valid infras file ({})", names.join(", ")))
            .map_err(|e| e.to_string()),
        _ => toml::from_str::<ServiceSpec>(text)
            .map(|s| {
                format!(
                    "valid service file: service `{}` with {} endpoints",
                    s.id,
                    s.endpoints.len()
                )
            })
            .map_err(|e| {
                let line = e
                    .span()
                    .map(|s| text[..s.start].lines().count().max(1))
                    .unwrap_or(1);
                format!("{}:{line}: {}", file.display(), e.message().trim())
            }),
    };
    let problems: Vec<String> = result.as_ref().err().cloned().into_iter().collect();
    if json {
        print::json(&serde_json::json!({
            "valid": problems.is_empty(),
            "kind": kind.name(),
            "problems": problems,
        }));
    } else {
        match &result {
            Ok(summary) => println!("{}: {summary}", file.display()),
            Err(p) => eprintln!("{p}"),
        }
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::CONFIG)
    })
}
