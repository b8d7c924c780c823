//! Building a package from a workflow's `[service]`: each prediction endpoint's predictor
//! component (checked to be a predictor) and model files, each lookup endpoint's table and
//! each SQL endpoint's tables as Parquet snapshots (the query planned over them), and the
//! manifest describing them.

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use deltalake::parquet::arrow::ArrowWriter;

use super::PackageError;
use super::archive::Contents;
use super::manifest::{Column, Endpoint, Manifest};
use super::registry::Registry;
use crate::home::Home;
use crate::host::{Catalog, PluginHost, PluginKind};
use crate::table::{PreparedQuery, QueryLimits, Snapshot};
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
                let (schema, batches) = snapshot(home, name, table).await?;
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
                let rows = format!("endpoints/{name}/rows.parquet");
                contents.add(&rows, parquet(&schema, &batches)?)?;
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
            EndpointSpec::Sql {
                name,
                tables,
                query,
                parameters,
                max_rows,
            } => {
                let mut snapshots = Vec::new();
                let mut paths = BTreeMap::new();
                for table in tables {
                    let (schema, batches) = snapshot(home, name, table).await?;
                    let path = format!("endpoints/{name}/tables/{table}.parquet");
                    contents.add(&path, parquet(&schema, &batches)?)?;
                    paths.insert(table.clone(), path);
                    snapshots.push((table.clone(), Snapshot::Batches(schema, batches)));
                }
                // Planned over the snapshots now, so a package never holds a query that cannot
                // run: unknown tables and columns, type errors, undeclared parameters.
                let limits = sql_limits(*max_rows);
                let types = parameters
                    .iter()
                    .map(|(p, ty)| (p.clone(), crate::mapping::data_type(ty)))
                    .collect();
                let prepared = PreparedQuery::new(snapshots, query, types, limits)
                    .await
                    .map_err(|source| PackageError::Query {
                        endpoint: name.clone(),
                        source: Box::new(source),
                    })?;
                endpoints.push(Endpoint::Sql {
                    name: name.clone(),
                    query: query.clone(),
                    tables: paths,
                    parameters: parameters
                        .iter()
                        .map(|(p, ty)| (p.clone(), ty.to_string()))
                        .collect(),
                    columns: prepared
                        .schema()
                        .fields()
                        .iter()
                        .map(|f| Column {
                            name: f.name().clone(),
                            data_type: f.data_type().to_string(),
                        })
                        .collect(),
                    max_rows: limits.max_rows,
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

/// A SQL endpoint's limits: its `max_rows` (10,000 by default), 30 s, 512 MiB.
pub fn sql_limits(max_rows: Option<usize>) -> QueryLimits {
    QueryLimits {
        max_rows: max_rows.unwrap_or(crate::workflow::MAX_SQL_ROWS),
        ..QueryLimits::default()
    }
}

/// Every row of `table` as of now, for `endpoint`; a table without a commit has nothing to
/// serve.
async fn snapshot(
    home: &Home,
    endpoint: &str,
    table: &str,
) -> Result<(SchemaRef, Vec<RecordBatch>), PackageError> {
    let batches = crate::table::read_table(&home.table(table)?)
        .await
        .map_err(|source| PackageError::Table {
            endpoint: endpoint.to_owned(),
            source: Box::new(source),
        })?;
    match batches.first().map(|b| b.schema()) {
        Some(schema) => Ok((schema, batches)),
        None => Err(PackageError::EmptyTable {
            endpoint: endpoint.to_owned(),
            table: table.to_owned(),
        }),
    }
}

/// Rows as one Parquet file.
fn parquet(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<u8>, PackageError> {
    let mut parquet = Vec::new();
    let failed = |e| PackageError::Parquet(Box::new(e));
    let mut writer = ArrowWriter::try_new(&mut parquet, schema.clone(), None).map_err(failed)?;
    for b in batches {
        writer.write(b).map_err(failed)?;
    }
    writer.close().map_err(failed)?;
    Ok(parquet)
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
