//! Turning a selection into a plan: which objects the export holds, which file or record
//! each zip entry comes from, and which secret values to open. Nothing is written here, and
//! no secret is opened: the plan names the values it needs and the caller opens them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use super::ExportError;
use super::manifest::{Dependency, ExportObject, ObjectKind, SECRET_VALUES, VARIABLES};
use super::selection::{Selection, pick};
use crate::package::Registry;
use crate::paths::{self, NameKind};
use crate::store::{DeploymentRecord, InfraRecord, SecretEntry};
use crate::workflow::{References, references, registered};

/// What a home holds that an export may take.
pub struct Project<'a> {
    /// The workflows directory (workflow, service and plugin files below it).
    pub workflows: &'a Path,
    /// The home's package registry.
    pub packages: &'a Registry,
    /// The stored infras.
    pub infras: &'a [InfraRecord],
    /// The stored deployments.
    pub deployments: &'a [DeploymentRecord],
    /// Project variables' values, by name.
    pub variables: &'a BTreeMap<String, String>,
    /// The stored secrets' names.
    pub secrets: &'a [SecretEntry],
}

/// Where one zip entry's bytes come from.
#[derive(Debug)]
pub enum Source {
    /// A file below the workflows directory.
    File(PathBuf),
    /// A stored package zip.
    Package {
        /// The service.
        service: String,
        /// The version.
        version: String,
    },
    /// A record, already encoded.
    Bytes(Vec<u8>),
}

/// What an export will hold.
#[derive(Debug)]
pub struct Plan {
    /// The objects, as the manifest lists them.
    pub objects: Vec<ExportObject>,
    /// Zip entries in the order they are written.
    pub entries: Vec<(String, Source)>,
    /// `(credential, field)` of the secrets whose values go in, encrypted.
    pub values: Vec<(String, String)>,
}

/// A path a workflow names, relative to its directory, as an entry under `workflows/`; one
/// that leaves the workflows directory cannot travel with the export.
fn entry_for(
    workflow: &str,
    what: &str,
    dir: &Path,
    written: &Path,
) -> Result<(String, PathBuf), ExportError> {
    let outside = || ExportError::Outside {
        workflow: workflow.to_owned(),
        what: what.to_owned(),
        path: written.display().to_string(),
    };
    if written.is_absolute()
        || written
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(outside());
    }
    let relative = written
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/");
    let entry = format!("workflows/{relative}");
    paths::check(NameKind::Entry, &entry).map_err(|_| outside())?;
    let file = dir.join(written);
    // Canonical paths: a symlink out of the directory does not carry a file from elsewhere.
    let root = dir.canonicalize().map_err(|source| ExportError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let real = file.canonicalize().map_err(|source| ExportError::Io {
        path: file.display().to_string(),
        source,
    })?;
    if !real.starts_with(&root) || !real.is_file() {
        return Err(outside());
    }
    Ok((entry, real))
}

fn json(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec_pretty(value).expect("records encode as JSON")
}

/// Plans the export of `selection` from `project`.
pub fn plan(selection: &Selection, project: &Project<'_>) -> Result<Plan, ExportError> {
    let everything = selection.is_everything();
    let mut objects = Vec::new();
    let mut entries: Vec<(String, Source)> = Vec::new();

    // Workflows first: the custom plugins they name are the plugins an export can hold. A
    // workflow that is not chosen and cannot be read does not stop the export of the others.
    // A plugin file outside the workflows directory cannot travel: a workflow naming it is
    // exported with the dependency marked not in the export; naming the plugin itself is an
    // error.
    let names = registered(project.workflows);
    let chosen_workflows = pick(everything, selection.workflows.as_ref(), &names, "workflow")?;
    let mut refs: BTreeMap<String, References> = BTreeMap::new();
    // Per workflow, each plugin's entry (None: it cannot travel).
    let mut plugin_entries: BTreeMap<String, BTreeMap<String, Option<String>>> = BTreeMap::new();
    let mut plugin_files: BTreeMap<String, (String, PathBuf, String)> = BTreeMap::new();
    let mut unexportable: BTreeMap<String, ExportError> = BTreeMap::new();
    for name in &names {
        let path = project.workflows.join(format!("{name}.toml"));
        let read = std::fs::read_to_string(&path)
            .map_err(|source| ExportError::Io {
                path: path.display().to_string(),
                source,
            })
            .and_then(|text| {
                references(&path, &text).map_err(|source| ExportError::Workflow {
                    name: name.clone(),
                    source: Box::new(source),
                })
            });
        let r = match read {
            Ok(r) => r,
            Err(e) if chosen_workflows.iter().any(|(n, _)| n == name) => return Err(e),
            Err(_) => continue,
        };
        let entries = plugin_entries.entry(name.clone()).or_default();
        for (plugin, written) in &r.plugins {
            let what = format!("plugin `{plugin}`");
            let (entry, file) = match entry_for(name, &what, project.workflows, written) {
                Ok(found) => found,
                Err(e) => {
                    entries.insert(plugin.clone(), None);
                    unexportable.entry(plugin.clone()).or_insert(e);
                    continue;
                }
            };
            entries.insert(plugin.clone(), Some(entry.clone()));
            match plugin_files.get(plugin) {
                Some((other, _, first)) if *other != entry => {
                    return Err(ExportError::PluginClash {
                        name: plugin.clone(),
                        first: format!("{other} (workflow `{first}`)"),
                        second: format!("{entry} (workflow `{name}`)"),
                    });
                }
                Some(_) => {}
                None => {
                    plugin_files.insert(plugin.clone(), (entry, file, name.clone()));
                }
            }
        }
        refs.insert(name.clone(), r);
    }
    if let Some(wanted) = &selection.plugins {
        for name in wanted.keys() {
            if !plugin_files.contains_key(name)
                && let Some(e) = unexportable.remove(name)
            {
                return Err(e);
            }
        }
    }
    let plugin_names: Vec<String> = plugin_files.keys().cloned().collect();
    let chosen_plugins: BTreeSet<String> = pick(
        everything,
        selection.plugins.as_ref(),
        &plugin_names,
        "plugin",
    )?
    .into_iter()
    .map(|(n, _)| n)
    .collect();
    let infra_names: Vec<String> = project.infras.iter().map(|i| i.name.clone()).collect();
    let chosen_infras: BTreeSet<String> =
        pick(everything, selection.infras.as_ref(), &infra_names, "infra")?
            .into_iter()
            .map(|(n, _)| n)
            .collect();

    let mut service_files = BTreeSet::new();
    for (name, _) in chosen_workflows {
        let r = &refs[&name];
        let mut files = vec![format!("workflows/{name}.toml")];
        entries.push((
            files[0].clone(),
            Source::File(project.workflows.join(format!("{name}.toml"))),
        ));
        if let Some(written) = &r.service_file {
            let (entry, file) = entry_for(&name, "service_file", project.workflows, written)?;
            if service_files.insert(entry.clone()) {
                entries.push((entry.clone(), Source::File(file)));
            }
            files.push(entry);
        }
        let mut depends_on: Vec<Dependency> = plugin_entries[&name]
            .iter()
            .map(|(p, entry)| Dependency {
                kind: ObjectKind::Plugin,
                name: p.clone(),
                version: None,
                in_export: chosen_plugins.contains(p)
                    && entry.as_ref() == plugin_files.get(p).map(|(e, _, _)| e),
            })
            .collect();
        depends_on.extend(r.stored_infras.iter().map(|i| Dependency {
            kind: ObjectKind::Infra,
            name: i.clone(),
            version: None,
            in_export: chosen_infras.contains(i),
        }));
        objects.push(ExportObject {
            kind: ObjectKind::Workflow,
            name,
            files,
            versions: Vec::new(),
            depends_on,
            value_included: None,
        });
    }
    for name in &chosen_plugins {
        let (entry, file, _) = &plugin_files[name];
        entries.push((entry.clone(), Source::File(file.clone())));
        objects.push(ExportObject {
            kind: ObjectKind::Plugin,
            name: name.clone(),
            files: vec![entry.clone()],
            versions: Vec::new(),
            depends_on: Vec::new(),
            value_included: None,
        });
    }

    let services = project.packages.services();
    let mut chosen_versions: BTreeSet<(String, String)> = BTreeSet::new();
    for (service, options) in pick(
        everything,
        selection.services.as_ref(),
        &services,
        "service",
    )? {
        let stored = project.packages.versions(&service);
        let versions = match options.and_then(|o| o.versions.as_ref()) {
            None => stored,
            Some(wanted) => {
                if let Some(missing) = wanted.iter().find(|v| !stored.contains(v)) {
                    return Err(ExportError::Unknown {
                        kind: format!("package version of service `{service}`"),
                        name: missing.clone(),
                        available: stored.join(", "),
                    });
                }
                wanted.clone()
            }
        };
        let mut files = Vec::new();
        for version in &versions {
            let entry = format!("packages/{service}/{version}.zip");
            entries.push((
                entry.clone(),
                Source::Package {
                    service: service.clone(),
                    version: version.clone(),
                },
            ));
            files.push(entry);
            chosen_versions.insert((service.clone(), version.clone()));
        }
        objects.push(ExportObject {
            kind: ObjectKind::Service,
            name: service,
            files,
            versions,
            depends_on: Vec::new(),
            value_included: None,
        });
    }

    for infra in project
        .infras
        .iter()
        .filter(|i| chosen_infras.contains(&i.name))
    {
        let entry = format!("infras/{}.json", infra.name);
        entries.push((
            entry.clone(),
            Source::Bytes(json(&serde_json::json!({
                "name": infra.name,
                "spec": infra.spec,
            }))),
        ));
        objects.push(ExportObject {
            kind: ObjectKind::Infra,
            name: infra.name.clone(),
            files: vec![entry],
            versions: Vec::new(),
            depends_on: Vec::new(),
            value_included: None,
        });
    }

    let ids: Vec<String> = project.deployments.iter().map(|d| d.id.clone()).collect();
    for (id, _) in pick(
        everything,
        selection.deployments.as_ref(),
        &ids,
        "deployment",
    )? {
        let d = project
            .deployments
            .iter()
            .find(|d| d.id == id)
            .expect("picked from these");
        let entry = format!("deployments/{id}.json");
        entries.push((
            entry.clone(),
            Source::Bytes(json(&serde_json::json!({
                "id": d.id,
                "service": d.service,
                "infra": d.infra,
                "desired": d.desired,
            }))),
        ));
        let mut depends_on: Vec<Dependency> = d
            .desired
            .versions
            .iter()
            .map(|share| Dependency {
                kind: ObjectKind::Service,
                name: d.service.clone(),
                version: Some(share.version.clone()),
                in_export: chosen_versions.contains(&(d.service.clone(), share.version.clone())),
            })
            .collect();
        depends_on.push(Dependency {
            kind: ObjectKind::Infra,
            name: d.infra.clone(),
            version: None,
            in_export: chosen_infras.contains(&d.infra),
        });
        objects.push(ExportObject {
            kind: ObjectKind::Deployment,
            name: id,
            files: vec![entry],
            versions: Vec::new(),
            depends_on,
            value_included: None,
        });
    }

    let variable_names: Vec<String> = project.variables.keys().cloned().collect();
    let variables: BTreeMap<&str, &str> = pick(
        everything,
        selection.variables.as_ref(),
        &variable_names,
        "variable",
    )?
    .into_iter()
    .map(|(n, _)| {
        let (k, v) = project
            .variables
            .get_key_value(&n)
            .expect("picked from these");
        (k.as_str(), v.as_str())
    })
    .collect();
    if !variables.is_empty() {
        entries.push((VARIABLES.to_owned(), Source::Bytes(json(&variables))));
    }
    objects.extend(variables.keys().map(|name| ExportObject {
        kind: ObjectKind::Variable,
        name: (*name).to_owned(),
        files: vec![VARIABLES.to_owned()],
        versions: Vec::new(),
        depends_on: Vec::new(),
        value_included: None,
    }));

    let secret_names: Vec<String> = project
        .secrets
        .iter()
        .map(|s| format!("{}.{}", s.credential, s.field))
        .collect();
    let mut values = Vec::new();
    for (name, options) in pick(
        everything,
        selection.secrets.as_ref(),
        &secret_names,
        "secret",
    )? {
        let include = options.is_some_and(|o| o.include_value);
        if include {
            let (credential, field) = name.rsplit_once('.').expect("credential.field");
            values.push((credential.to_owned(), field.to_owned()));
        }
        objects.push(ExportObject {
            kind: ObjectKind::Secret,
            name,
            files: if include {
                vec![SECRET_VALUES.to_owned()]
            } else {
                Vec::new()
            },
            versions: Vec::new(),
            depends_on: Vec::new(),
            value_included: Some(include),
        });
    }
    Ok(Plan {
        objects,
        entries,
        values,
    })
}
