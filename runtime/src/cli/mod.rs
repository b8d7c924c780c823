//! The `ferry` command line: parses arguments, calls the library, prints for people or, with
//! `--json`, for programs. Exit codes follow sysexits where one fits.

mod deployments;
mod jobs;
mod packages;
mod print;
mod progress;
mod run;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::credentials::SecretSource;
use crate::engine::{EngineError, Ferry};
use crate::home::Home;
use crate::host::Catalog;

/// Exit codes, so scripts can tell a bad workflow from a failed job.
pub mod exit {
    /// The job ended FAILED or CANCELED, or a dry run found the object invalid.
    pub const JOB_FAILED: u8 = 1;
    /// EX_DATAERR: a dry run's file did not pass.
    pub const DATA: u8 = 65;
    /// EX_NOINPUT: the workflow file or job does not exist.
    pub const NO_INPUT: u8 = 66;
    /// EX_SOFTWARE: ferry itself failed (store, table, disk).
    pub const INTERNAL: u8 = 70;
    /// EX_TEMPFAIL: try again later (the job is busy in another process).
    pub const TEMPFAIL: u8 = 75;
    /// EX_CONFIG: the workflow is invalid.
    pub const CONFIG: u8 = 78;
}

#[derive(Debug, Parser)]
#[command(
    name = "ferry",
    version,
    about = "Move ML data from where it lives to where it serves, through sandboxed WASI plugins."
)]
pub struct Cli {
    /// State directory: job store, tables, compiled-plugin cache.
    #[arg(long, global = true, env = "FERRY_HOME", default_value = ".ferry")]
    home: PathBuf,
    /// Secrets file (TOML, `[credential] field = "value"`); FERRY_SECRET_<NAME>_<FIELD>
    /// environment variables take precedence.
    #[arg(long, global = true, env = "FERRY_SECRETS_FILE", value_name = "FILE")]
    secrets: Option<PathBuf>,
    /// Log filter (tracing syntax), e.g. `info` or `ferry=debug`.
    #[arg(long, global = true, env = "FERRY_LOG", default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a workflow as a new job.
    Run(run::RunArgs),
    /// Check a workflow: syntax, step wiring, plugins and their WIT version, grants.
    Validate {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Inspect, resume and cancel jobs.
    #[command(subcommand)]
    Jobs(jobs::JobsCommand),
    /// Serve the HTTP API: trigger workflows, follow and cancel jobs.
    Serve(serve::ServeArgs),
    /// Create, list and revoke API keys for `ferry serve`.
    #[command(subcommand)]
    Keys(serve::KeysCommand),
    /// Service packages built by package steps: list, show, delete, download, import.
    #[command(subcommand)]
    Packages(packages::PackagesCommand),
    /// Where deployments run: ferry API nodes, SageMaker, Vertex AI.
    #[command(subcommand)]
    Infras(deployments::InfrasCommand),
    /// Services served on infras: create, switch versions, enable/disable, update, delete.
    #[command(subcommand)]
    Deployments(deployments::DeploymentsCommand),
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.log).unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::INTERNAL);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(code_for(&e))
        }
    }
}

async fn dispatch(cli: Cli) -> Result<ExitCode, EngineError> {
    let secrets = match &cli.secrets {
        Some(path) => SecretSource::with_file(path).map_err(EngineError::Secrets)?,
        None => SecretSource::environment(),
    };
    let open =
        || async { Ferry::open(Home::new(&cli.home), Catalog::from_env(), secrets.clone()).await };
    match cli.command {
        Command::Run(args) => run::run(open().await?, args).await,
        Command::Validate { file, json } => run::validate(open().await?, &file, json).await,
        Command::Jobs(cmd) => jobs::jobs(open().await?, cmd).await,
        Command::Serve(args) => serve::run_serve(open().await?, args).await,
        Command::Keys(cmd) => serve::keys(open().await?, cmd).await,
        Command::Packages(cmd) => packages::packages(open().await?, cmd).await,
        Command::Infras(cmd) => deployments::infras(open().await?, cmd).await,
        Command::Deployments(cmd) => deployments::deployments(open().await?, cmd).await,
    }
}

fn code_for(e: &EngineError) -> u8 {
    use crate::store::StoreError;
    use crate::workflow::WorkflowError;
    match e {
        EngineError::Workflow(WorkflowError::Read { .. }) => exit::NO_INPUT,
        e if e.is_config() => exit::CONFIG,
        EngineError::Store(StoreError::NotFound(_)) => exit::NO_INPUT,
        EngineError::Store(StoreError::Terminal { .. }) => exit::JOB_FAILED,
        EngineError::Busy { .. } => exit::TEMPFAIL,
        EngineError::NoSuchObject(_) => exit::NO_INPUT,
        EngineError::Secrets(_) => exit::CONFIG,
        _ => exit::INTERNAL,
    }
}
