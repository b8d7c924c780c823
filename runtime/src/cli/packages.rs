//! `ferry packages`: the service package registry.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::print;
use crate::app::App;
use crate::engine::EngineError;
use crate::package::PackageError;

#[derive(Debug, Subcommand)]
pub enum PackagesCommand {
    /// Packages, newest version last, for one service or all.
    List { service: Option<String> },
    /// A package's manifest (endpoints, schemas, checksums), verified.
    Show { service: String, version: String },
    /// Delete a package version.
    Delete { service: String, version: String },
    /// Write a package's zip to a file.
    Download {
        service: String,
        version: String,
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Verify a package zip (checksums, paths, size) and add it to the registry.
    Import { file: PathBuf },
}

pub async fn packages(
    app: App,
    command: PackagesCommand,
    json: bool,
) -> Result<ExitCode, EngineError> {
    let registry = app.packages();
    let result: Result<Option<u8>, PackageError> = async {
        match command {
            PackagesCommand::List { service } => {
                let services = match service {
                    Some(s) => vec![s],
                    None => registry.services(),
                };
                let mut items = Vec::new();
                for s in services {
                    for v in registry.versions(&s) {
                        items.push(registry.info(&s, &v)?);
                    }
                }
                if json {
                    print::json(&serde_json::json!({ "items": items }));
                } else {
                    println!(
                        "{:<20} {:<12} {:<26} {:>10}  ENDPOINTS",
                        "SERVICE", "VERSION", "CREATED", "BYTES"
                    );
                    for p in items {
                        println!(
                            "{:<20} {:<12} {:<26} {:>10}  {}",
                            p.service,
                            p.version,
                            p.created_at,
                            p.size,
                            p.endpoints.join(", ")
                        );
                    }
                }
            }
            PackagesCommand::Show { service, version } => {
                print::json(&registry.open(&service, &version)?.manifest);
            }
            PackagesCommand::Delete { service, version } => {
                match app.delete_package(&service, &version).await {
                    Ok(()) if json => print::json(
                        &serde_json::json!({ "deleted": { "service": service, "version": version } }),
                    ),
                    Ok(()) => println!("deleted {service} {version}"),
                    Err(crate::deploy::DeployError::Package(e)) => return Err(e),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return Ok(Some(super::exit::TEMPFAIL));
                    }
                }
            }
            PackagesCommand::Download {
                service,
                version,
                output,
            } => {
                let bytes = registry.bytes(&service, &version)?;
                std::fs::write(&output, &bytes)?;
                if json {
                    print::json(&serde_json::json!({ "path": output, "size": bytes.len() }));
                } else {
                    println!("{}", output.display());
                }
            }
            PackagesCommand::Import { file } => {
                let bytes = std::fs::read(&file)?;
                let m = registry.import(&bytes)?;
                if json {
                    print::json(&m);
                } else {
                    println!("imported {} {}", m.service, m.version);
                }
            }
        }
        Ok(None)
    }
    .await;
    match result {
        Ok(None) => Ok(ExitCode::SUCCESS),
        Ok(Some(code)) => Ok(ExitCode::from(code)),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(match e {
                PackageError::NotFound { .. } => super::exit::NO_INPUT,
                PackageError::Invalid(_)
                | PackageError::Name(_)
                | PackageError::Checksum { .. }
                | PackageError::TooLarge { .. } => super::exit::DATA,
                _ => super::exit::JOB_FAILED,
            }))
        }
    }
}
