//! `ferry infras` and `ferry deployments`: where services run, and what runs there.
//!
//! `create`, `enable`, `disable` and `set-version` change desired state only; `update`
//! reconciles the infra with it and waits for the operation to end (printing its progress),
//! as `delete` does. Exit codes: 0 done, 1 the operation failed (the infra's message), 65
//! invalid input or an infra that cannot be used (a missing secret), 66 unknown
//! deployment/infra/package, 75 another operation is running or the deployment is enabled.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::{exit, print};
use crate::app::App;
use crate::deploy::{self, DeployError, NewDeployment};
use crate::engine::EngineError;
use crate::host::CancelToken;
use crate::store::{DeploymentRecord, OperationRecord};

#[derive(Debug, Subcommand)]
pub enum InfrasCommand {
    /// Store the infras of a TOML file (`[credentials.*]`, `[infras.*]`); replaces same names.
    Apply {
        file: PathBuf,
    },
    List,
    Show {
        name: String,
    },
    /// Delete an infra; refused while deployments live on it.
    Delete {
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeploymentsCommand {
    /// Record a deployment of a service's version(s) on an infra (run `update` to apply it).
    Create {
        id: String,
        #[arg(long)]
        service: String,
        #[arg(long)]
        infra: String,
        /// `v3`, or a split: `--version v2=90 --version v3=10`.
        #[arg(long = "version", required = true, num_args = 1..)]
        versions: Vec<String>,
        /// Create it disabled.
        #[arg(long)]
        disabled: bool,
    },
    List {
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        infra: Option<String>,
    },
    /// Desired and observed state; `--detail` asks the infra now (per node / cloud resource).
    Show {
        id: String,
        #[arg(long)]
        detail: bool,
    },
    Enable {
        id: String,
    },
    Disable {
        id: String,
    },
    /// Serve one version (`v3`), or split traffic (`v2=90 v3=10`).
    SetVersion {
        id: String,
        #[arg(required = true, num_args = 1..)]
        versions: Vec<String>,
    },
    /// Make the infra match the desired state; waits for the operation to end.
    Update {
        id: String,
    },
    /// Remove everything the deployment created on its infra, then the deployment.
    Delete {
        id: String,
        /// Disable it first if it is enabled (otherwise an enabled deployment is refused).
        #[arg(long)]
        disable_first: bool,
    },
    /// Past operations of a deployment, newest first.
    Operations {
        id: String,
    },
}

pub async fn infras(app: App, command: InfrasCommand, json: bool) -> Result<ExitCode, EngineError> {
    let result: Result<(), DeployError> = async {
        match command {
            InfrasCommand::Apply { file } => {
                let stored = app.apply_infras(&file).await?;
                if json {
                    print::json(&serde_json::json!({ "items": stored }));
                }
                for i in stored.iter().filter(|_| !json) {
                    println!("infra {} ({}, stage {}) stored", i.name, i.kind, i.stage);
                }
            }
            InfrasCommand::List => {
                let items = app.infras().await?;
                if json {
                    print::json(&serde_json::json!({ "items": items }));
                } else {
                    println!("{:<20} {:<10} {:<8} UPDATED", "NAME", "TYPE", "STAGE");
                    for i in items {
                        println!(
                            "{:<20} {:<10} {:<8} {}",
                            i.name, i.kind, i.stage, i.updated_at
                        );
                    }
                }
            }
            InfrasCommand::Show { name } => print::json(&app.infra(&name).await?),
            InfrasCommand::Delete { name } => {
                app.delete_infra(&name).await?;
                if json {
                    print::json(&serde_json::json!({ "deleted": name }));
                } else {
                    println!("deleted infra {name}");
                }
            }
        }
        Ok(())
    }
    .await;
    finish(result)
}

pub async fn deployments(
    app: App,
    command: DeploymentsCommand,
    json: bool,
) -> Result<ExitCode, EngineError> {
    let result: Result<(), DeployError> = async {
        match command {
            DeploymentsCommand::Create {
                id,
                service,
                infra,
                versions,
                disabled,
            } => {
                let d = app
                    .create_deployment(NewDeployment {
                        id,
                        service,
                        infra,
                        versions: deploy::parse_shares(&versions)?,
                        enabled: !disabled,
                    })
                    .await?;
                if json {
                    print::json(&d);
                } else {
                    println!(
                        "created deployment {}; run `ferry deployments update {}` to apply it",
                        d.id, d.id
                    );
                }
            }
            DeploymentsCommand::List { service, infra } => {
                let items = app
                    .deployments(service.as_deref(), infra.as_deref())
                    .await?;
                if json {
                    print::json(&serde_json::json!({ "items": items }));
                } else {
                    println!(
                        "{:<24} {:<16} {:<14} {:<16} {:<9} HEALTH",
                        "ID", "SERVICE", "INFRA", "VERSIONS", "ENABLED"
                    );
                    for d in items {
                        println!(
                            "{:<24} {:<16} {:<14} {:<16} {:<9} {}",
                            d.id,
                            d.service,
                            d.infra,
                            versions(&d),
                            d.desired.enabled,
                            d.observed
                                .as_ref()
                                .map(|o| o.health.as_str())
                                .unwrap_or("UNKNOWN")
                        );
                    }
                }
            }
            DeploymentsCommand::Show { id, detail } => {
                if detail {
                    print::json(&app.observe(&id).await?);
                } else {
                    print::json(&app.deployment(&id).await?);
                }
            }
            DeploymentsCommand::Enable { id } => {
                let d = app.set_enabled(&id, true).await?;
                said(
                    json,
                    &d,
                    &format!(
                        "deployment {id} enabled; run `ferry deployments update {id}` to apply"
                    ),
                );
            }
            DeploymentsCommand::Disable { id } => {
                let d = app.set_enabled(&id, false).await?;
                said(
                    json,
                    &d,
                    &format!(
                        "deployment {id} disabled; run `ferry deployments update {id}` to apply"
                    ),
                );
            }
            DeploymentsCommand::SetVersion { id, versions } => {
                let d = app
                    .set_versions(&id, deploy::parse_shares(&versions)?)
                    .await?;
                let text = format!(
                    "deployment {id} wants {}; run `ferry deployments update {id}` to apply",
                    self::versions(&d)
                );
                said(json, &d, &text);
            }
            DeploymentsCommand::Update { id } => {
                let op = app.start_update(&id).await?;
                let ended = wait(&app, op, json).await?;
                let d = app.deployment(&id).await?;
                if json {
                    print::json(&serde_json::json!({ "operation": ended, "deployment": d }));
                } else if let Some(o) = &d.observed {
                    println!("health {}", o.health);
                    for m in &o.messages {
                        println!("  {m}");
                    }
                    for u in &o.urls {
                        println!("  {u}");
                    }
                }
            }
            DeploymentsCommand::Delete { id, disable_first } => {
                let op = app.start_delete(&id, disable_first).await?;
                let ended = wait(&app, op, json).await?;
                if json {
                    print::json(&serde_json::json!({ "operation": ended }));
                }
            }
            DeploymentsCommand::Operations { id } => {
                print::json(&serde_json::json!({
                    "items": app.operations(&id).await?
                }));
            }
        }
        Ok(())
    }
    .await;
    finish(result)
}

/// `v2` or `v1=90 v2=10`.
fn versions(d: &DeploymentRecord) -> String {
    match d.desired.versions.as_slice() {
        [one] => one.version.clone(),
        many => many
            .iter()
            .map(|s| format!("{}={}", s.version, s.percent))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// What a command that changed desired state prints: the record, or a sentence.
fn said(json: bool, record: &DeploymentRecord, text: &str) {
    if json {
        print::json(record);
    } else {
        println!("{text}");
    }
}

/// Runs the operation here, printing its progress (to stderr under `--json`, where stdout is
/// the result), and fails if it failed.
async fn wait(app: &App, op: OperationRecord, json: bool) -> Result<OperationRecord, DeployError> {
    let line = format!("operation {} ({} {})", op.id, op.action, op.deployment);
    if json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
    let cancel = CancelToken::default();
    let progress = {
        let app = app.clone();
        let id = op.id.clone();
        tokio::spawn(async move {
            let mut last = String::new();
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                if let Ok(Some(op)) = app.operation(&id).await
                    && !op.message.is_empty()
                    && op.message != last
                {
                    eprintln!("  … {}", op.message);
                    last = op.message;
                }
            }
        })
    };
    let ended = app.run_to_end(&op, &cancel).await;
    progress.abort();
    let ended = ended?;
    if !json {
        println!("{} {}: {}", ended.action, ended.status, ended.message);
    }
    Ok(ended)
}

fn finish(result: Result<(), DeployError>) -> Result<ExitCode, EngineError> {
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(match &e {
                DeployError::NotFound(_) | DeployError::UnknownInfra(_) => exit::NO_INPUT,
                DeployError::Package(crate::package::PackageError::NotFound { .. }) => {
                    exit::NO_INPUT
                }
                DeployError::Invalid(_) | DeployError::Name(_) | DeployError::Package(_) => {
                    exit::DATA
                }
                DeployError::Conflict(_) => exit::TEMPFAIL,
                DeployError::Forbidden(_) => exit::CONFIG,
                DeployError::Failed { .. } => exit::JOB_FAILED,
                DeployError::Store(_) => exit::INTERNAL,
            }))
        }
    }
}
