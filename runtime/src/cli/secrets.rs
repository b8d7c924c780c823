//! `ferry secrets` and `ferry variables`: the home's secret store and project variables.

use std::io::Read;
use std::process::ExitCode;

use clap::Subcommand;

use super::{exit, print};
use crate::app::{App, SecretError};
use crate::credentials::Secret;
use crate::engine::EngineError;
use crate::store::StoreError;

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Store a credential's secret, read from standard input (one trailing newline is
    /// dropped): `printf %s "$KEY" | ferry secrets set s3 secret_access_key`. It is sealed
    /// under the home's master key (FERRY_MASTER_KEY, else `master.key` in the home, made on
    /// first use) and used after the environment and the --secrets file.
    Set { credential: String, field: String },
    /// The stored secrets' names and when they were set; never their values.
    List,
    /// Remove a stored secret.
    Delete { credential: String, field: String },
}

#[derive(Debug, Subcommand)]
pub enum VariablesCommand {
    /// Set a project variable: `${NAME}` in every workflow of the home (a run's `--var` or a
    /// trigger's `variables` override it).
    Set { name: String, value: String },
    /// The project variables with their values.
    List,
    /// Remove a project variable.
    Delete { name: String },
}

pub async fn secrets(
    app: App,
    command: SecretsCommand,
    json: bool,
) -> Result<ExitCode, EngineError> {
    let value = match &command {
        SecretsCommand::Set { .. } => Some(read_value().map_err(EngineError::Stdin)?),
        _ => None,
    };
    let result: Result<(), SecretError> = async {
        match command {
            SecretsCommand::Set { credential, field } => {
                let value = value.expect("read above");
                let replaced = app.set_secret(&credential, &field, value).await?;
                if json {
                    print::json(&serde_json::json!({
                        "credential": credential, "field": field, "replaced": replaced
                    }));
                } else {
                    let verb = if replaced { "replaced" } else { "stored" };
                    println!("secret {credential}.{field} {verb}");
                }
            }
            SecretsCommand::List => {
                let entries = app.secrets().await?;
                if json {
                    print::json(&serde_json::json!({ "items": entries }));
                } else {
                    println!("{:<28} {:<22} UPDATED", "CREDENTIAL", "FIELD");
                    for e in &entries {
                        println!("{:<28} {:<22} {}", e.credential, e.field, e.updated_at);
                    }
                }
            }
            SecretsCommand::Delete { credential, field } => {
                app.delete_secret(&credential, &field).await?;
                if json {
                    print::json(&serde_json::json!({ "credential": credential, "field": field, "deleted": true }));
                } else {
                    println!("secret {credential}.{field} deleted");
                }
            }
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(match &e {
                SecretError::Store(StoreError::Missing(_)) => exit::NO_INPUT,
                e if e.is_input() => exit::DATA,
                SecretError::Vault(_) => exit::CONFIG,
                _ => exit::INTERNAL,
            }))
        }
    }
}

/// The value on standard input, without one trailing newline (what `echo` adds).
fn read_value() -> std::io::Result<Secret> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    Ok(Secret::new(without_newline(text)))
}

/// `text` without one trailing newline (`\n` or `\r\n`), as `echo` and editors leave it.
pub(super) fn without_newline(mut text: String) -> String {
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    text
}

pub async fn variables(
    app: App,
    command: VariablesCommand,
    json: bool,
) -> Result<ExitCode, EngineError> {
    match command {
        VariablesCommand::Set { name, value } => {
            let replaced = app.set_variable(&name, &value).await?;
            if json {
                print::json(&app.variable(&name).await?);
            } else {
                let verb = if replaced { "replaced" } else { "set" };
                println!("variable {name} {verb}");
            }
        }
        VariablesCommand::List => {
            let vars = app.variables().await?;
            if json {
                print::json(&serde_json::json!({ "items": vars }));
            } else {
                for v in &vars {
                    println!("{} = {}", v.name, v.value);
                }
            }
        }
        VariablesCommand::Delete { name } => {
            app.delete_variable(&name).await?;
            if json {
                print::json(&serde_json::json!({ "name": name, "deleted": true }));
            } else {
                println!("variable {name} deleted");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
