//! `ferry serve` and `ferry keys`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::print;
use crate::app::{App, AppBuilder};
use crate::engine::EngineError;
use crate::server::ConfigFile;
use crate::server::{ServerError, serve};
use crate::store::Permission;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080; port 0 picks a free one).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Directory of workflows, registered by file stem (default <home>/workflows).
    #[arg(long)]
    workflows: Option<PathBuf>,
    /// Settings file (TOML: listen, workflows, max_concurrent_jobs, max_body, max_upload,
    /// shutdown_grace, body_timeout, grant_roots, import_hosts, import_timeout); flags
    /// override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Jobs run at once; more wait in CREATED.
    #[arg(long)]
    max_concurrent_jobs: Option<usize>,
    /// A directory workflows run by this server may name (grants, artifacts, plugins);
    /// repeat for several. Replaces the settings file's `grant_roots` (default: the home's
    /// `uploads/` and the workflows directory).
    #[arg(long = "grant-root", value_name = "DIR")]
    grant_roots: Vec<PathBuf>,
    /// A host import links may point to: `exports.example.com` (HTTPS) or
    /// `scheme://host[:port]`; repeat for several. Adds to the settings file's `import_hosts`
    /// (default: none, so links are refused).
    #[arg(long = "import-host", value_name = "PATTERN")]
    import_hosts: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create an API key; it is printed once and stored only as a hash.
    Create {
        name: String,
        /// ViewJobs, ManageIngestionJobs, ManageWorkflows, ManageKeys, ManageDeployments,
        /// ManageSecrets, ManageExports, ManageImports, UseServices (repeat or comma-separate).
        #[arg(
            long = "permission",
            value_name = "P",
            required = true,
            value_delimiter = ','
        )]
        permissions: Vec<Permission>,
        /// With UseServices: the services the key may call (repeat or comma-separate; all
        /// services when absent).
        #[arg(long = "service", value_name = "ID", value_delimiter = ',')]
        services: Vec<String>,
        /// Take the key from standard input (one made by `ferry keys create` elsewhere), so
        /// that several API nodes accept the same admin key.
        #[arg(long)]
        from_stdin: bool,
    },
    /// The keys, without their secrets.
    List,
    /// Revoke a key by name or id; requests with it get 401 from then on.
    Revoke { name: String },
}

pub async fn run_serve(
    app: AppBuilder,
    home: &std::path::Path,
    args: ServeArgs,
) -> Result<ExitCode, EngineError> {
    let file = match &args.config {
        Some(path) => match ConfigFile::load(path) {
            Ok(file) => file,
            Err(e) => return Ok(config_error(e)),
        },
        None => ConfigFile::default(),
    };
    let explicit_roots = file.grant_roots.is_some();
    let mut config = file.resolve(home);
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(dir) = &args.workflows {
        config.workflows = dir.clone();
    }
    config.import_hosts.extend(args.import_hosts);
    if let Err(e) = crate::imports::LinkPolicy::new(&config.import_hosts, 0, config.import_timeout)
    {
        return Ok(config_error(crate::server::ConfigError::ImportHosts(
            e.to_string(),
        )));
    }
    if let Some(n) = args.max_concurrent_jobs {
        config.max_concurrent_jobs = n.max(1);
    }
    if !args.grant_roots.is_empty() {
        config.grant_roots = args.grant_roots;
    } else if args.workflows.is_some() && !explicit_roots {
        // The default follows the workflows directory the flag chose.
        config.grant_roots = vec![home.join("uploads"), config.workflows.clone()];
    }
    let roots = match crate::paths::Roots::new(config.grant_roots.iter().cloned()) {
        Ok(roots) => roots,
        Err(source) => {
            return Ok(config_error(crate::server::ConfigError::Roots {
                roots: config
                    .grant_roots
                    .iter()
                    .map(|r| r.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                source,
            }));
        }
    };
    let app = app.confined_to(roots).open().await?;
    let result = serve(app, config, super::run::shutdown()).await;
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(ServerError::Engine(e)) => Err(e),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(super::exit::CONFIG))
        }
    }
}

/// A settings problem: said, and exit 78 (EX_CONFIG).
fn config_error(e: crate::server::ConfigError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(super::exit::CONFIG)
}

pub async fn keys(app: App, command: KeysCommand, json: bool) -> Result<ExitCode, EngineError> {
    match command {
        KeysCommand::Create {
            name,
            permissions,
            services,
            from_stdin: true,
        } => {
            let mut text = String::new();
            std::io::stdin()
                .read_line(&mut text)
                .map_err(EngineError::Stdin)?;
            let key = app
                .import_key(&name, &permissions, &services, text.trim())
                .await?;
            eprintln!("key `{}` ({}) imported", key.name, names(&key.permissions));
        }
        KeysCommand::Create {
            name,
            permissions,
            services,
            ..
        } => {
            let (key, secret) = app.create_key(&name, &permissions, &services).await?;
            if json {
                let mut value = serde_json::to_value(&key).unwrap_or_default();
                value["key"] = secret.into();
                print::json(&value);
            } else {
                println!("{secret}");
                eprintln!(
                    "key `{}` ({}) created; it is shown only this once",
                    key.name,
                    names(&key.permissions)
                );
            }
        }
        KeysCommand::List => {
            let keys = app.keys().await?;
            if json {
                print::json(&serde_json::json!({ "items": keys }));
            } else {
                println!("{:<14} {:<20} {:<10} PERMISSIONS", "ID", "NAME", "STATE");
                for k in keys {
                    let state = if k.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    let perms: Vec<&str> = k.permissions.iter().map(|p| p.as_str()).collect();
                    println!(
                        "{:<14} {:<20} {:<10} {}",
                        k.id,
                        k.name,
                        state,
                        perms.join(",")
                    );
                }
            }
        }
        KeysCommand::Revoke { name } => {
            let key = app.revoke_key(&name).await?;
            if json {
                print::json(&key);
            } else {
                println!("key `{}` revoked", key.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn names(permissions: &[Permission]) -> String {
    permissions
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
