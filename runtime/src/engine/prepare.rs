//! Turning a structurally valid workflow into something runnable: find each plugin, compile
//! it (or load it from the cache), check its world and WIT version, and build each plugin's
//! sandbox from the step's grants. `ferry validate` stops here.

use std::sync::Arc;

use super::split::Splitting;
use crate::credentials::SecretSource;
use crate::host::{
    CallLimits, Catalog, DirAccess, GrantProblem, LoadedPlugin, OutboundPolicy, PluginError,
    PluginHost, PluginKind, Sandbox,
};
use crate::mapping::{Mapping, MappingError};
use crate::paths::{self, Roots};
use crate::units::ByteSize;
use crate::workflow::{Problem, Workflow, did_you_mean, plugin_settings};

/// A workflow with its plugins loaded and its sandboxes decided.
#[derive(Clone)]
pub struct Prepared {
    pub workflow: Workflow,
    pub source: Arc<LoadedPlugin>,
    pub parser: Arc<LoadedPlugin>,
    /// The source sees the granted directories; the parser sees nothing but its settings.
    pub source_sandbox: Sandbox,
    pub parser_sandbox: Sandbox,
    pub limits: CallLimits,
    pub mapping: Mapping,
    pub glob: Option<globset::GlobMatcher>,
    /// Objects downloaded ahead of the parser at once.
    pub concurrency: usize,
    /// How one large object may be parsed in ranges at once (ferry's own parsers only).
    pub splitting: Option<Splitting>,
    /// Which store the source reads (see [`source_identity`]): with the workflow and the
    /// table, the key of the incremental ledger.
    pub source_id: String,
}

/// Source settings that say which store a source reads (as opposed to how it reads it, such
/// as page sizes or retries). Changing one of these starts the incremental ledger afresh.
pub const STORE_SETTINGS: &[&str] = &[
    "bucket",
    "endpoint",
    "root",
    "region",
    "project",
    "account",
    "container",
    "host",
    "url",
    "base_url",
    "path",
];

/// The identity of the store a source reads: its plugin, the [`STORE_SETTINGS`] it has, and
/// the host directories granted to it, as one canonical JSON text.
fn source_identity(
    workflow: &Workflow,
    settings: &std::collections::BTreeMap<String, String>,
    dirs: &[DirAccess],
) -> String {
    let named: std::collections::BTreeMap<&str, &str> = settings
        .iter()
        .filter(|(k, _)| STORE_SETTINGS.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let dirs: Vec<String> = dirs
        .iter()
        .map(|d| {
            let host = std::fs::canonicalize(&d.host).unwrap_or_else(|_| d.host.clone());
            format!("{}={}", d.mount, host.display())
        })
        .collect();
    serde_json::json!({
        "plugin": workflow.import.source,
        "settings": named,
        "dirs": dirs,
    })
    .to_string()
}

/// Objects downloaded at once when a step does not say.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Loads the workflow's plugins, reporting every problem with its place in the file.
pub fn prepare(
    workflow: &Workflow,
    host: &PluginHost,
    catalog: &Catalog,
    secrets: &SecretSource,
    roots: Option<&Roots>,
) -> Result<Prepared, Vec<Problem>> {
    let mut problems = Vec::new();
    let dirs = match roots {
        None => step_dirs(workflow),
        Some(roots) => confined_dirs(workflow, roots, &mut problems),
    };
    let step = &workflow.import;
    let mut load = |name: &str, key: &str, kind: PluginKind| -> Option<Arc<LoadedPlugin>> {
        let result = catalog.resolve(name, &workflow.plugins).and_then(|path| {
            let pin = workflow.plugin_digests.get(name).map(String::as_str);
            host.load_pinned(name, &path, kind, pin)
        });
        match result {
            Ok(p) => Some(p),
            Err(e) => {
                let mut message = e.to_string();
                if let PluginError::NotFound { .. } = e {
                    let builtins = catalog.builtin_names();
                    let known = builtins
                        .iter()
                        .map(String::as_str)
                        .chain(workflow.plugins.keys().map(String::as_str));
                    if let Some(close) = did_you_mean(name, known) {
                        message =
                            format!("unknown plugin `{name}`, did you mean `{close}`? ({message})");
                    }
                }
                problems.push(Problem {
                    location: workflow.location(&step.name, key),
                    message,
                });
                None
            }
        }
    };
    let source = load(&step.source, "source", PluginKind::Source);
    let parser = load(&step.parser, "parser", PluginKind::Parser);

    let mapping = match &workflow.validate {
        None => Mapping::identity(),
        Some(v) => Mapping::new(v).unwrap_or_else(|e| {
            match e {
                MappingError::Expressions(errors) => {
                    problems.extend(errors.into_iter().map(|e| Problem {
                        location: match &v.sql {
                            Some(_) => workflow.location(&v.name, "sql"),
                            None => workflow.location_in(&v.name, "mappings", &e.column),
                        },
                        message: e.to_string(),
                    }))
                }
                other => problems.push(Problem {
                    location: workflow.location(&v.name, "schema"),
                    message: other.to_string(),
                }),
            }
            Mapping::identity()
        }),
    };
    let mapping = match workflow.ingest.merge() {
        Some(rule) => mapping.with_keys(&rule.key),
        None => mapping,
    };
    let settings = |table, key: &str, problems: &mut Vec<Problem>| {
        plugin_settings(table).unwrap_or_else(|message| {
            problems.push(Problem {
                location: workflow.location(&step.name, key),
                message,
            });
            Default::default()
        })
    };
    let source_settings = settings(&step.source_settings, "source_settings", &mut problems);
    let parser_settings = settings(&step.parser_settings, "parser_settings", &mut problems);
    let glob = step
        .glob
        .as_ref()
        .and_then(|g| globset::Glob::new(g).ok())
        .map(|g| g.compile_matcher());

    let outbound = outbound_policy(workflow, secrets, &mut problems);
    let (Some(source), Some(parser)) = (source, parser) else {
        return Err(problems);
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let defaults = CallLimits::default();
    let source_id = source_identity(workflow, &source_settings, &dirs);
    let custom = workflow.plugins.contains_key(&step.parser);
    let splitting = Splitting::for_parser(&step.parser, custom, &parser_settings);
    Ok(Prepared {
        source_id,
        workflow: workflow.clone(),
        source,
        parser,
        source_sandbox: Sandbox {
            dirs,
            settings: source_settings,
            outbound: Arc::new(outbound),
        },
        parser_sandbox: Sandbox {
            dirs: Vec::new(),
            settings: parser_settings,
            outbound: Arc::default(),
        },
        limits: CallLimits {
            memory: step.limits.memory.unwrap_or(ByteSize(defaults.memory.0)),
            timeout: step.limits.timeout.map(|t| t.0).unwrap_or(defaults.timeout),
        },
        mapping,
        glob,
        concurrency: step.concurrency.unwrap_or(DEFAULT_CONCURRENCY),
        splitting,
    })
}

/// The import step's granted directories, as written (resolved against the workflow's
/// directory).
fn step_dirs(workflow: &Workflow) -> Vec<DirAccess> {
    workflow
        .import
        .grants
        .dirs
        .iter()
        .map(|d| DirAccess {
            host: workflow.resolve(&d.path),
            mount: d.mount.clone(),
            write: d.write,
        })
        .collect()
}

/// The granted directories confined to `roots` (canonical, so a symlink cannot lead out
/// later), and every other file the workflow names checked against them too: artifacts, the
/// service file, custom plugins. Each one outside is a problem at its place in the file.
fn confined_dirs(
    workflow: &Workflow,
    roots: &Roots,
    problems: &mut Vec<Problem>,
) -> Vec<DirAccess> {
    let step = &workflow.import.name;
    let mut dirs = Vec::new();
    for mut dir in step_dirs(workflow) {
        match paths::confine(&dir.host, roots) {
            Ok(canonical) => {
                dir.host = canonical;
                dirs.push(dir);
            }
            Err(e) => problems.push(Problem {
                location: workflow.location(step, "dirs"),
                message: format!("granted directory {e}"),
            }),
        }
    }
    let mut files: Vec<(String, std::path::PathBuf)> = Vec::new();
    if let Some(service) = &workflow.service {
        for endpoint in &service.endpoints {
            if let crate::workflow::EndpointSpec::Prediction { artifacts, .. } = endpoint {
                for a in artifacts {
                    files.push(("artifact".into(), workflow.resolve(a)));
                }
            }
        }
    }
    if let Some(file) = &workflow.service_file {
        files.push(("service file".into(), file.clone()));
    }
    for (name, path) in &workflow.plugins {
        files.push((format!("plugin `{name}`"), path.clone()));
    }
    for (what, path) in files {
        if let Err(e) = paths::confine(&path, roots) {
            problems.push(Problem {
                location: workflow.start(),
                message: format!("{what} {e}"),
            });
        }
    }
    dirs
}

/// The import step's outbound grants: host patterns parsed, credentials resolved with their
/// secrets, the source's endpoint settings on granted hosts. A missing secret is a problem
/// here, so `ferry validate` reports it.
fn outbound_policy(
    workflow: &Workflow,
    secrets: &SecretSource,
    problems: &mut Vec<Problem>,
) -> OutboundPolicy {
    let step = &workflow.import;
    let (policy, found) = crate::grants::policy(
        &step.grants.hosts,
        &step.grants.credentials,
        &workflow.credentials,
        secrets,
    );
    // An undeclared credential was reported with the workflow's own checks.
    problems.extend(
        found
            .into_iter()
            .filter(|p| !matches!(p, GrantProblem::Undeclared(_)))
            .map(|p| Problem {
                location: workflow.location(&step.name, p.key()),
                message: p.to_string(),
            }),
    );
    // Judged on the grants as written, so a credential whose secret is missing still counts.
    let (grants, _) = crate::grants::parse(&step.grants.hosts, &step.grants.credentials);
    let settings = plugin_settings(&step.source_settings).unwrap_or_default();
    problems.extend(
        grants
            .ungranted_endpoints(&settings)
            .into_iter()
            .map(|p| Problem {
                location: workflow.location(&step.name, "source_settings"),
                message: p.to_string(),
            }),
    );
    policy
}
