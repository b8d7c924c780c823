//! The `ferry` command line: parses arguments, calls the library, prints for people or, with
//! `--json`, for programs. Exit codes follow sysexits where one fits.

mod deployments;
mod exports;
mod imports;
mod jobs;
mod packages;
mod plugin;
mod print;
mod progress;
mod run;
mod secrets;
mod serve;
mod tables;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::app::App;
use crate::credentials::SecretSource;
use crate::engine::EngineError;

/// Exit codes, so scripts can tell a bad workflow from a failed job.
pub mod exit {
    /// The job ended FAILED or CANCELED, or a dry run found the object invalid.
    pub const JOB_FAILED: u8 = 1;
    /// The job succeeded, but some of its objects failed (a later `ferry run` retries them).
    pub const FILES_FAILED: u8 = 3;
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
    /// environment variables take precedence, and the home's secret store (`ferry secrets`)
    /// comes after it.
    #[arg(long, global = true, env = "FERRY_SECRETS_FILE", value_name = "FILE")]
    secrets: Option<PathBuf>,
    /// Print results as JSON (camelCase keys), for programs; every command takes it.
    #[arg(long, global = true)]
    json: bool,
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
        /// A value for `${NAME}` in the workflow (over the project's variables); repeatable.
        #[arg(long = "var", value_name = "NAME=VALUE", value_parser = run::parse_var)]
        vars: Vec<(String, String)>,
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
    /// The home's Delta tables: list, show (columns, version, files, size, rows, last job).
    #[command(subcommand)]
    Tables(tables::TablesCommand),
    /// Credentials' secret values, sealed in the home: set (from stdin), list (names only),
    /// delete.
    #[command(subcommand)]
    Secrets(secrets::SecretsCommand),
    /// Project variables, `${NAME}` in every workflow of the home: set, list, delete.
    #[command(subcommand)]
    Variables(secrets::VariablesCommand),
    /// Export workflows, plugins, packages, infras, deployments, variables and secrets to a
    /// zip: create, list, show, download, delete.
    #[command(subcommand)]
    Exports(exports::ExportsCommand),
    /// Bring an export into this home: scanned, confirmed (objects, conflicts, secret
    /// values), then processed all or nothing.
    #[command(subcommand)]
    Imports(imports::ImportsCommand),
    /// Write, build, inspect and try plugins of your own (Rust or Python).
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Run workflows' `[[tests]]` through their real plugins and mapping, writing nothing.
    Test {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        quiet_broken_pipe();
    }
    tracing_subscriber::fmt()
        .with_env_filter(log_filter(&cli.log))
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

/// Crates that see credentials (the SigV4 signer logs its canonical request, with the access
/// key id and any session token, at trace level): silenced whatever the user's filter says.
const CREDENTIAL_CRATES: &[&str] = &[
    "aws_sigv4",
    "aws_credential_types",
    "aws_smithy_runtime_api",
    "jsonwebtoken",
];

/// The user's log filter (`--log`, `FERRY_LOG`), with credential-handling crates turned off.
fn log_filter(text: &str) -> tracing_subscriber::EnvFilter {
    let mut filter = tracing_subscriber::EnvFilter::try_new(text).unwrap_or_else(|_| "warn".into());
    for krate in CREDENTIAL_CRATES {
        if let Ok(directive) = format!("{krate}=off").parse() {
            filter = filter.add_directive(directive);
        }
    }
    // delta-rs warns on every MERGE that a metric of its own plan is missing: nothing a user
    // can act on. Asked for by name, it is shown.
    if !text.contains("deltalake")
        && let Ok(directive) = "deltalake_core::operations::merge=error".parse()
    {
        filter = filter.add_directive(directive);
    }
    filter
}

/// `ferry jobs list | head` should end quietly when `head` stops reading, as other Unix tools
/// do: the default action of SIGPIPE ends the process, where Rust's ignored SIGPIPE would make
/// the next print panic. (`ferry serve` keeps SIGPIPE ignored: a client that hangs up must
/// never end the server.)
fn quiet_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread exists; `signal` with SIG_DFL has no
    // other effect than restoring the default disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

async fn dispatch(cli: Cli) -> Result<ExitCode, EngineError> {
    let secrets = match &cli.secrets {
        Some(path) => SecretSource::with_file(path).map_err(EngineError::Secrets)?,
        None => SecretSource::environment(),
    };
    let json = cli.json;
    if let Command::Plugin(cmd) = &cli.command
        && let Some(code) = plugin::plugin_offline(cmd, json)
    {
        return Ok(code);
    }
    let builder = || App::builder(&cli.home).secrets(secrets.clone());
    let open = || async { builder().open().await };
    match cli.command {
        Command::Run(args) => run::run(open().await?, args, json).await,
        Command::Validate { file, vars } => {
            run::validate(open().await?, &file, &vars.into_iter().collect(), json).await
        }
        Command::Jobs(cmd) => jobs::jobs(open().await?, cmd, json).await,
        Command::Serve(args) => serve::run_serve(builder(), &cli.home, args).await,
        Command::Keys(cmd) => serve::keys(open().await?, cmd, json).await,
        Command::Packages(cmd) => packages::packages(open().await?, cmd, json).await,
        Command::Infras(cmd) => deployments::infras(open().await?, cmd, json).await,
        Command::Deployments(cmd) => deployments::deployments(open().await?, cmd, json).await,
        Command::Plugin(cmd) => plugin::plugin(open().await?, cmd, json).await,
        Command::Tables(cmd) => tables::tables(open().await?, cmd, json).await,
        Command::Secrets(cmd) => secrets::secrets(open().await?, cmd, json).await,
        Command::Variables(cmd) => secrets::variables(open().await?, cmd, json).await,
        Command::Exports(cmd) => exports::exports(open().await?, cmd, json).await,
        Command::Imports(cmd) => imports::imports(open().await?, cmd, json).await,
        Command::Test { files } => plugin::test(open().await?, files, json).await,
    }
}

fn code_for(e: &EngineError) -> u8 {
    use crate::store::StoreError;
    use crate::workflow::WorkflowError;
    match e {
        EngineError::Workflow(WorkflowError::Read { .. }) => exit::NO_INPUT,
        e if e.is_config() => exit::CONFIG,
        EngineError::Store(StoreError::NotFound(_) | StoreError::Missing(_)) => exit::NO_INPUT,
        EngineError::Store(StoreError::InvalidName(_) | StoreError::Invalid(_)) => exit::DATA,
        EngineError::Store(StoreError::Terminal { .. }) => exit::JOB_FAILED,
        EngineError::Store(StoreError::Leased { .. })
        | EngineError::LeaseLost { .. }
        | EngineError::TableBusy { .. }
        | EngineError::Table(crate::table::TableError::Conflict { .. }) => exit::TEMPFAIL,
        EngineError::NoSuchObject(_) => exit::NO_INPUT,
        EngineError::Secrets(_) => exit::CONFIG,
        _ => exit::INTERNAL,
    }
}
