//! `ferry imports`: bring an export (a zip file, a link, or an export of this home) into the
//! home — scanned, shown, then confirmed with the objects, conflict modes and secret values
//! chosen, and processed all or nothing.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::{exit, print};
use crate::app::{App, IMPORT_LIMIT, ImportSource};
use crate::credentials::Secret;
use crate::engine::EngineError;
use crate::exports::ObjectKind;
use crate::imports::{Confirmation, Given, ImportError, LinkPolicy, OnConflict, Pick};
use crate::store::{ImportRecord, ImportStatus, StoreError};

/// Where the passphrase of an export's secret values comes from without `--passphrase-file`.
const PASSPHRASE_VAR: &str = "FERRY_EXPORT_PASSPHRASE";

#[derive(Debug, Subcommand)]
pub enum ImportsCommand {
    /// Import an export zip: FILE, `--link URL` or `--export ID`. It is scanned and waits for
    /// `ferry imports confirm` (unless --skip-confirmation).
    Create(CreateArgs),
    /// Imports, newest first.
    List {
        /// Only those in this status (pending, scanning, confirmation, processing,
        /// completed, failed).
        #[arg(long)]
        status: Option<ImportStatus>,
    },
    /// One import: what its export holds, what conflicts with this home, which secrets need
    /// a value, which dependencies are missing; once processed, what was done.
    Show { id: String },
    /// Confirm an import waiting in confirmation, and process it.
    Confirm {
        id: String,
        #[command(flatten)]
        choices: ConfirmArgs,
    },
    /// Copy an import's zip to FILE.
    Download {
        id: String,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Delete an import and its zip (not while it is being scanned or processed).
    Delete { id: String },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The export zip.
    #[arg(required_unless_present_any = ["link", "export"], conflicts_with_all = ["link", "export"])]
    file: Option<PathBuf>,
    /// Fetch the zip from this URL (its host must be allowed with --allow-host).
    #[arg(long, value_name = "URL", conflicts_with = "export")]
    link: Option<String>,
    /// Hosts a link may point to: `exports.example.com` (HTTPS) or `scheme://host[:port]`.
    #[arg(long, value_name = "PATTERN", requires = "link")]
    allow_host: Vec<String>,
    /// Import a completed export of this home, by id.
    #[arg(long, value_name = "ID")]
    export: Option<String>,
    /// Process it at once with the choices below (everything, unless --only).
    #[arg(long)]
    skip_confirmation: bool,
    #[command(flatten)]
    choices: ConfirmArgs,
}

#[derive(Debug, Args)]
pub struct ConfirmArgs {
    /// Only these objects: `kind:name`, comma-separated (`workflow:churn,service:churn`).
    #[arg(long, value_name = "KIND:NAME,…", value_delimiter = ',')]
    only: Vec<String>,
    /// What to do with objects that exist here with other content: `skip`, `replace` or
    /// `rename` for all, or `kind:name=MODE` for one (repeatable).
    #[arg(long, value_name = "MODE|KIND:NAME=MODE")]
    on_conflict: Vec<String>,
    /// A secret's value: `credential.field=-` reads it from standard input, `=@FILE` from a
    /// file (repeatable; over the value the export holds).
    #[arg(long = "secret", value_name = "CRED.FIELD=-|@FILE")]
    secret: Vec<String>,
    /// A file holding the passphrase the export's secret values were encrypted to (else
    /// FERRY_EXPORT_PASSPHRASE).
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Imported deployments start enabled (they start disabled otherwise).
    #[arg(long)]
    enable_deployments: bool,
    /// The workflows directory (default <home>/workflows, what `ferry serve` registers).
    #[arg(long, value_name = "DIR")]
    workflows_dir: Option<PathBuf>,
}

const KINDS: &str = "workflow, plugin, service, infra, deployment, variable, secret";

fn kind_and_name(text: &str) -> Result<(ObjectKind, String), ImportError> {
    let (kind, name) = text.split_once(':').ok_or_else(|| {
        ImportError::Request(format!("`{text}` is not kind:name (kinds: {KINDS})"))
    })?;
    let kind =
        serde_json::from_value(serde_json::Value::String(kind.to_owned())).map_err(|_| {
            ImportError::Request(format!(
                "`{kind}` in `{text}` is not a kind (kinds: {KINDS})"
            ))
        })?;
    Ok((kind, name.to_owned()))
}

impl ConfirmArgs {
    fn confirmation(&self) -> Result<Confirmation, ImportError> {
        let invalid = ImportError::Request;
        let mut confirmation = Confirmation {
            enable_deployments: self.enable_deployments,
            ..Confirmation::default()
        };
        let mut picks: Vec<Pick> = Vec::new();
        for only in &self.only {
            let (kind, name) = kind_and_name(only)?;
            picks.push(Pick {
                kind,
                name,
                on_conflict: None,
                enabled: None,
            });
        }
        let mut own_modes = Vec::new();
        for mode in &self.on_conflict {
            match mode.split_once('=') {
                None => {
                    let mode: OnConflict = mode.parse().map_err(invalid)?;
                    if confirmation.on_conflict.is_some_and(|m| m != mode) {
                        return Err(ImportError::Request(
                            "--on-conflict gives two modes for all objects; give one (and kind:name=MODE for exceptions)".into(),
                        ));
                    }
                    confirmation.on_conflict = Some(mode);
                }
                Some((object, mode)) => {
                    let (kind, name) = kind_and_name(object)?;
                    let mode = mode.parse::<OnConflict>().map_err(invalid)?;
                    if own_modes
                        .iter()
                        .any(|(k, n, m)| *k == kind && *n == name && *m != mode)
                    {
                        return Err(ImportError::Request(format!(
                            "--on-conflict gives {object} two modes; give one"
                        )));
                    }
                    own_modes.push((kind, name, mode));
                }
            }
        }
        for (kind, name, mode) in own_modes {
            match picks.iter_mut().find(|p| p.kind == kind && p.name == name) {
                Some(p) => p.on_conflict = Some(mode),
                None if self.only.is_empty() => confirmation.overrides.push(Pick {
                    kind,
                    name,
                    on_conflict: Some(mode),
                    enabled: None,
                }),
                None => {
                    return Err(invalid(format!(
                        "--on-conflict names {}:{name}, which --only does not choose",
                        kind.noun()
                    )));
                }
            }
        }
        if !self.only.is_empty() {
            confirmation.objects = Some(picks);
        }
        Ok(confirmation)
    }

    fn given(&self) -> Result<Given, ImportError> {
        let mut given = Given::default();
        let passphrase = match &self.passphrase_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(ImportError::io(path))
                    .map(super::secrets::without_newline)?,
            ),
            None => std::env::var(PASSPHRASE_VAR).ok().filter(|p| !p.is_empty()),
        };
        given.passphrase = passphrase.map(Secret::new);
        let mut stdin_used = false;
        for arg in &self.secret {
            let (name, from) = arg.split_once('=').ok_or_else(|| {
                ImportError::Request(format!(
                    "--secret {arg}: write credential.field=- (standard input) or credential.field=@FILE"
                ))
            })?;
            let value = if from == "-" {
                if std::mem::replace(&mut stdin_used, true) {
                    return Err(ImportError::Request(
                        "only one --secret can read standard input; give the others with =@FILE"
                            .into(),
                    ));
                }
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(ImportError::io(std::path::Path::new("standard input")))?;
                super::secrets::without_newline(text)
            } else if let Some(file) = from.strip_prefix('@') {
                let file = std::path::Path::new(file);
                super::secrets::without_newline(
                    std::fs::read_to_string(file).map_err(ImportError::io(file))?,
                )
            } else {
                return Err(ImportError::Request(format!(
                    "--secret {name}: a value is never given on the command line (it would be in the shell's history); use {name}=- or {name}=@FILE"
                )));
            };
            given.secrets.insert(name.to_owned(), Secret::new(value));
        }
        Ok(given)
    }
}

fn print_record(record: &ImportRecord) {
    println!("import {}  {}", record.id, record.status);
    println!("  source    {}", record.source);
    println!("  created   {}", record.creation_date);
    if let Some(size) = record.size {
        println!("  size      {size} bytes");
    }
    if let Some(message) = &record.error_message {
        println!("  error     {message}");
    }
    if let Some(result) = record.result.as_ref().and_then(|r| r.as_array()) {
        println!("  result");
        for o in result {
            let mut line = format!(
                "    {:<11} {:<30} {}",
                o["kind"].as_str().unwrap_or(""),
                o["name"].as_str().unwrap_or(""),
                o["action"].as_str().unwrap_or("")
            );
            if let Some(to) = o["to"].as_str() {
                line.push_str(&format!(" as {to}"));
            }
            if let Some(v) = o["versions"].as_array() {
                let v: Vec<&str> = v.iter().filter_map(|v| v.as_str()).collect();
                line.push_str(&format!("  versions {}", v.join(", ")));
            }
            if let Some(enabled) = o["enabled"].as_bool() {
                line.push_str(if enabled { "  enabled" } else { "  disabled" });
            }
            println!("{line}");
        }
        return;
    }
    let Some(objects) = record.objects.as_ref().and_then(|o| o.as_array()) else {
        return;
    };
    println!("  objects   {}", objects.len());
    for o in objects {
        let mut line = format!(
            "    {:<11} {:<30} {}",
            o["kind"].as_str().unwrap_or(""),
            o["name"].as_str().unwrap_or(""),
            o["state"].as_str().unwrap_or("")
        );
        if let Some(versions) = o["versions"].as_array() {
            let v: Vec<String> = versions
                .iter()
                .map(|v| {
                    format!(
                        "{} ({})",
                        v["version"].as_str().unwrap_or(""),
                        v["state"].as_str().unwrap_or("")
                    )
                })
                .collect();
            line.push_str(&format!("  versions {}", v.join(", ")));
        }
        if o["needsValue"] == true {
            line.push_str("  needs a value (--secret)");
        } else if o["valueIncluded"] == true {
            line.push_str("  value in the export (encrypted)");
        }
        let missing: Vec<String> = o["missing"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                let mut s = format!(
                    "{} {}",
                    d["kind"].as_str().unwrap_or(""),
                    d["name"].as_str().unwrap_or("")
                );
                if let Some(v) = d["version"].as_str() {
                    s.push_str(&format!(" {v}"));
                }
                s
            })
            .collect();
        if !missing.is_empty() {
            line.push_str(&format!("  missing: {}", missing.join(", ")));
        }
        if o["unsatisfiable"] == true {
            line.push_str("  (cannot be imported)");
        }
        println!("{line}");
    }
    if record.status == ImportStatus::Confirmation {
        println!("  confirm   ferry imports confirm {}", record.id);
    }
}

pub async fn imports(
    app: App,
    command: ImportsCommand,
    json: bool,
) -> Result<ExitCode, EngineError> {
    let show = |record: &ImportRecord| {
        if json {
            print::json(record);
        } else {
            print_record(record);
        }
    };
    let ended = |record: &ImportRecord| {
        if record.status == ImportStatus::Failed {
            ExitCode::from(exit::JOB_FAILED)
        } else {
            ExitCode::SUCCESS
        }
    };
    let result: Result<ExitCode, ImportError> = async {
        // A process killed while processing left its journal: undo it before anything else.
        app.recover_imports(false).await?;
        match command {
            ImportsCommand::Create(args) => {
                let dir = args
                    .choices
                    .workflows_dir
                    .clone()
                    .unwrap_or_else(|| app.workflows_dir());
                let confirmation = args.choices.confirmation()?;
                let given = args.choices.given()?;
                let policy;
                let (source, link) = match (&args.file, &args.link, &args.export) {
                    (Some(file), _, _) => (ImportSource::File(file), None),
                    (_, Some(link), _) => {
                        policy = LinkPolicy::new(
                            &args.allow_host,
                            IMPORT_LIMIT,
                            Duration::from_secs(60),
                        )?;
                        (
                            ImportSource::Link(link, &policy),
                            Some((link.as_str(), &policy)),
                        )
                    }
                    (_, _, Some(export)) => (ImportSource::Export(export), None),
                    _ => unreachable!("clap requires one"),
                };
                let record = app.create_import(source).await?;
                let mut record = app.scan_import(&record.id, &dir, link).await?;
                if args.skip_confirmation && record.status == ImportStatus::Confirmation {
                    record = app
                        .confirm_unattended(&record.id, &dir, &confirmation, given)
                        .await?;
                }
                show(&record);
                Ok(ended(&record))
            }
            ImportsCommand::List { status } => {
                let records = app.imports(status).await?;
                if json {
                    print::json(&serde_json::json!({ "items": records }));
                } else {
                    println!("{:<38} {:<13} {:<25} SOURCE", "ID", "STATUS", "CREATED");
                    for r in &records {
                        println!(
                            "{:<38} {:<13} {:<25} {}",
                            r.id,
                            r.status.to_string(),
                            r.creation_date,
                            r.source
                        );
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
            ImportsCommand::Show { id } => {
                show(&app.import(&id).await?);
                Ok(ExitCode::SUCCESS)
            }
            ImportsCommand::Confirm { id, choices } => {
                let dir = choices
                    .workflows_dir
                    .clone()
                    .unwrap_or_else(|| app.workflows_dir());
                let record = app
                    .confirm_import(&id, &dir, &choices.confirmation()?, choices.given()?)
                    .await?;
                show(&record);
                Ok(ended(&record))
            }
            ImportsCommand::Download { id, output } => {
                let zip = app.import_zip(&id).await?;
                let bytes = std::fs::copy(&zip, &output).map_err(ImportError::io(&output))?;
                if json {
                    print::json(&serde_json::json!({ "id": id, "output": output, "size": bytes }));
                } else {
                    println!(
                        "import {id} written to {} ({bytes} bytes)",
                        output.display()
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            ImportsCommand::Delete { id } => {
                app.delete_import(&id).await?;
                if json {
                    print::json(&serde_json::json!({ "deleted": id }));
                } else {
                    println!("import {id} deleted");
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    }
    .await;
    match result {
        Ok(code) => Ok(code),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(match &e {
                ImportError::Store(StoreError::Missing(_)) => exit::NO_INPUT,
                // A file named on the command line that is not there.
                ImportError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                    exit::NO_INPUT
                }
                ImportError::Store(StoreError::InvalidName(_)) => exit::DATA,
                ImportError::Store(StoreError::Conflict(_)) | ImportError::State { .. } => {
                    exit::TEMPFAIL
                }
                e if e.is_input() => exit::DATA,
                ImportError::Vault(_) => exit::CONFIG,
                _ => exit::INTERNAL,
            }))
        }
    }
}
