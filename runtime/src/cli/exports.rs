//! `ferry exports`: a home's workflows, plugins, packages, infras, deployments, variables
//! and secrets in one zip (secret values only when asked for, encrypted to a passphrase).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{exit, print};
use crate::app::App;
use crate::credentials::Secret;
use crate::engine::EngineError;
use crate::exports::{ExportError, Kind, Selection};
use crate::store::{ExportRecord, ExportStatus, StoreError};

/// Where the passphrase comes from when no `--passphrase-file` is given.
const PASSPHRASE_VAR: &str = "FERRY_EXPORT_PASSPHRASE";

#[derive(Debug, Subcommand)]
pub enum ExportsCommand {
    /// Export the named objects (everything when none is named; secrets by name only unless
    /// `=include_value`) to a zip kept in the home.
    Create(CreateArgs),
    /// Exports, newest first.
    List {
        /// Only those in this status (pending, processing, completed, failed).
        #[arg(long)]
        status: Option<ExportStatus>,
    },
    /// One export: its status, size and the objects it holds with their dependencies.
    Show { id: String },
    /// Copy a completed export's zip to FILE.
    Download {
        id: String,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Delete an export and its zip.
    Delete { id: String },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Workflows of the workflows directory, by name (`*` for all).
    #[arg(long, value_name = "A,B")]
    workflows: Vec<String>,
    /// Services' package versions: `churn` (every version) or `churn=v1,v2`.
    #[arg(long, value_name = "SERVICE[=V1,V2]")]
    services: Vec<String>,
    /// Stored infras, by name.
    #[arg(long, value_name = "A,B")]
    infras: Vec<String>,
    /// Deployments, by id.
    #[arg(long, value_name = "A,B")]
    deployments: Vec<String>,
    /// Custom plugins the workflows name, by name.
    #[arg(long, value_name = "A,B")]
    plugins: Vec<String>,
    /// Project variables, by name.
    #[arg(long, value_name = "A,B")]
    variables: Vec<String>,
    /// Stored secrets: `credential.field`, or `credential.field=include_value` to put the value
    /// in, encrypted with age to the passphrase (singular: `--secrets` is the global secrets
    /// file).
    #[arg(long = "secret", value_name = "CRED.FIELD[=include_value]")]
    secret: Vec<String>,
    /// A file holding the passphrase secret values are encrypted to (else
    /// FERRY_EXPORT_PASSPHRASE).
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// The workflows directory (default <home>/workflows, what `ferry serve` registers).
    #[arg(long, value_name = "DIR")]
    workflows_dir: Option<PathBuf>,
}

impl CreateArgs {
    fn selection(&self) -> Result<Selection, ExportError> {
        let mut selection = Selection::default();
        for (kind, args) in [
            (Kind::Workflows, &self.workflows),
            (Kind::Services, &self.services),
            (Kind::Infras, &self.infras),
            (Kind::Deployments, &self.deployments),
            (Kind::Plugins, &self.plugins),
            (Kind::Variables, &self.variables),
            (Kind::Secrets, &self.secret),
        ] {
            for arg in args {
                selection.add_arg(kind, arg)?;
            }
        }
        Ok(selection)
    }

    fn passphrase(&self) -> Result<Option<Secret>, ExportError> {
        match &self.passphrase_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ExportError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
                Ok(Some(Secret::new(super::secrets::without_newline(text))))
            }
            None => Ok(std::env::var(PASSPHRASE_VAR)
                .ok()
                .filter(|p| !p.is_empty())
                .map(Secret::new)),
        }
    }
}

fn print_record(record: &ExportRecord) {
    println!("export {}  {}", record.id, record.status);
    println!("  created   {}", record.creation_date);
    if let Some(size) = record.size {
        println!("  size      {size} bytes");
    }
    if let Some(message) = &record.error_message {
        println!("  error     {message}");
    }
    let Some(objects) = record.objects.as_ref().and_then(|o| o.as_array()) else {
        return;
    };
    println!("  objects   {}", objects.len());
    for o in objects {
        let (kind, name) = (
            o["kind"].as_str().unwrap_or(""),
            o["name"].as_str().unwrap_or(""),
        );
        let mut line = format!("    {kind:<11} {name}");
        if let Some(versions) = o["versions"].as_array() {
            let v: Vec<&str> = versions.iter().filter_map(|v| v.as_str()).collect();
            line.push_str(&format!("  versions {}", v.join(", ")));
        }
        if let Some(included) = o["valueIncluded"].as_bool() {
            line.push_str(if included {
                "  value included (encrypted)"
            } else {
                "  name only"
            });
        }
        let missing: Vec<String> = o["dependsOn"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["inExport"] == false)
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
            line.push_str(&format!("  needs (not in export): {}", missing.join(", ")));
        }
        println!("{line}");
    }
}

pub async fn exports(
    app: App,
    command: ExportsCommand,
    json: bool,
) -> Result<ExitCode, EngineError> {
    let show = |record: &ExportRecord| {
        if json {
            print::json(record);
        } else {
            print_record(record);
        }
    };
    let result: Result<ExitCode, ExportError> = async {
        match command {
            ExportsCommand::Create(args) => {
                let selection = args.selection()?;
                let passphrase = args.passphrase()?;
                let dir = args
                    .workflows_dir
                    .clone()
                    .unwrap_or_else(|| app.workflows_dir());
                let record = app
                    .create_export(&dir, &selection, passphrase.as_ref())
                    .await?;
                let record = app.process_export(&record.id, &dir, passphrase).await?;
                show(&record);
                if record.status == ExportStatus::Failed {
                    return Ok(ExitCode::from(exit::JOB_FAILED));
                }
                if !json {
                    println!(
                        "  download  ferry exports download {} -o export.zip",
                        record.id
                    );
                }
            }
            ExportsCommand::List { status } => {
                let records = app.exports(status).await?;
                if json {
                    print::json(&serde_json::json!({ "items": records }));
                } else {
                    println!("{:<38} {:<11} {:<25} SIZE", "ID", "STATUS", "CREATED");
                    for r in &records {
                        let size = r.size.map(|s| s.to_string()).unwrap_or_default();
                        println!(
                            "{:<38} {:<11} {:<25} {size}",
                            r.id,
                            r.status.to_string(),
                            r.creation_date
                        );
                    }
                }
            }
            ExportsCommand::Show { id } => show(&app.export(&id).await?),
            ExportsCommand::Download { id, output } => {
                let zip = app.export_zip(&id).await?;
                let bytes = std::fs::copy(&zip, &output).map_err(|source| ExportError::Io {
                    path: output.display().to_string(),
                    source,
                })?;
                if json {
                    print::json(&serde_json::json!({ "id": id, "output": output, "size": bytes }));
                } else {
                    println!(
                        "export {id} written to {} ({bytes} bytes)",
                        output.display()
                    );
                }
            }
            ExportsCommand::Delete { id } => {
                app.delete_export(&id).await?;
                if json {
                    print::json(&serde_json::json!({ "deleted": id }));
                } else {
                    println!("export {id} deleted");
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }
    .await;
    match result {
        Ok(code) => Ok(code),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(match &e {
                ExportError::Store(StoreError::Missing(_)) => exit::NO_INPUT,
                ExportError::Store(StoreError::InvalidName(_)) => exit::DATA,
                ExportError::NotCompleted { .. } => exit::TEMPFAIL,
                e if e.is_input() => exit::DATA,
                ExportError::Vault(_) => exit::CONFIG,
                _ => exit::INTERNAL,
            }))
        }
    }
}
