//! Building a package from a workflow's `[service]`: each prediction endpoint's predictor
//! component (checked to be a predictor) and model files, each lookup endpoint's table as a
//! Parquet snapshot, and the manifest describing them.

use std::path::Path;

use deltalake::parquet::arrow::ArrowWriter;

use super::PackageError;
use super::archive::Contents;
use super::manifest::{Endpoint, Manifest};
use super::registry::Registry;
use crate::home::Home;
use crate::host::{Catalog, PluginHost, PluginKind};
use crate::workflow::{EndpointSpec, Workflow};

/// Builds version `version` (or the next `vN`) of the workflow's service into `registry`.
pub async fn build(
    registry: &Registry,
    workflow: &Workflow,
    home: &Home,
    host: &PluginHost,
    catalog: &Catalog,
    version: Option<&str>,
    job: Option<uuid::Uuid>,
) -> Result<Manifest, PackageError> {
    let service = workflow.service.as_ref().ok_or(PackageError::NoService)?;
    let version = version
        .map(str::to_owned)
        .unwrap_or_else(|| registry.next_version(&service.id));
    let mut contents = Contents::default();
    let mut endpoints = Vec::new();
    for spec in &service.endpoints {
        match spec {
            EndpointSpec::Prediction {
                name,
                predictor,
                artifacts,
                input,
                output,
            } => {
                let plugin_error = |source| PackageError::Plugin {
                    endpoint: name.clone(),
                    source: Box::new(source),
                };
                let path = catalog
                    .resolve(predictor, &workflow.plugins)
                    .map_err(plugin_error)?;
                // Refuse anything that is not a predictor now rather than at deployment.
                let pin = workflow.plugin_digests.get(predictor).map(String::as_str);
                host.load_pinned(predictor, &path, PluginKind::Predictor, pin)
                    .map_err(plugin_error)?;
                let component = format!("plugins/{predictor}.wasm");
                contents.add(&component, std::fs::read(&path)?)?;
                let model_dir = format!("endpoints/{name}/model");
                for artifact in artifacts {
                    add_artifact(&mut contents, &workflow.resolve(artifact), &model_dir)?;
                }
                let types =
                    |m: &std::collections::BTreeMap<String, crate::workflow::ColumnType>| {
                        m.iter().map(|(k, v)| (k.clone(), v.to_string())).collect()
                    };
                endpoints.push(Endpoint::Prediction {
                    name: name.clone(),
                    predictor: component,
                    model_dir,
                    input: types(input),
                    output: types(output),
                });
            }
            EndpointSpec::Lookup { name, table, key } => {
                let batches = crate::table::read_table(&home.table(table)?)
                    .await
                    .map_err(|source| PackageError::Table {
                        endpoint: name.clone(),
                        source: Box::new(source),
                    })?;
                let Some(schema) = batches.first().map(|b| b.schema()) else {
                    return Err(PackageError::EmptyTable {
                        endpoint: name.clone(),
                        table: table.clone(),
                    });
                };
                if schema.field_with_name(key).is_err() {
                    return Err(PackageError::NoKeyColumn {
                        endpoint: name.clone(),
                        table: table.clone(),
                        key: key.clone(),
                        columns: schema
                            .fields()
                            .iter()
                            .map(|f| f.name().as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                }
                let mut parquet = Vec::new();
                let snapshot = |e| PackageError::Parquet(Box::new(e));
                let mut writer =
                    ArrowWriter::try_new(&mut parquet, schema.clone(), None).map_err(snapshot)?;
                for b in &batches {
                    writer.write(b).map_err(snapshot)?;
                }
                writer.close().map_err(snapshot)?;
                let rows = format!("endpoints/{name}/rows.parquet");
                contents.add(&rows, parquet)?;
                endpoints.push(Endpoint::Lookup {
                    name: name.clone(),
                    table: table.clone(),
                    key: key.clone(),
                    rows,
                    columns: schema
                        .fields()
                        .iter()
                        .map(|f| (f.name().clone(), f.data_type().to_string()))
                        .collect(),
                });
            }
        }
    }
    let manifest = Manifest {
        format_version: super::manifest::FORMAT_VERSION,
        service: service.id.clone(),
        version,
        description: service.description.clone(),
        created_at: crate::store::now().as_str().to_owned(),
        source_job: job.map(|j| j.to_string()),
        auth: service.auth,
        oauth2: service.oauth2.clone(),
        endpoints,
        files: Default::default(),
    };
    registry.add(manifest, &contents)
}

/// Adds a file, or every file under a directory, below `prefix`.
fn add_artifact(contents: &mut Contents, path: &Path, prefix: &str) -> Result<(), PackageError> {
    if path.is_file() {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("artifact");
        return contents.add(&format!("{prefix}/{name}"), std::fs::read(path)?);
    }
    let mut stack = vec![path.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let p = entry?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(path).expect("under the artifact directory");
                let rel = rel.to_string_lossy().replace('\\', "/");
                contents.add(&format!("{prefix}/{rel}"), std::fs::read(&p)?)?;
            }
        }
    }
    Ok(())
}
