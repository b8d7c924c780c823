//! `ferry serve` as an API node: the static deploy target pushes a service's package here
//! (`PUT /v1/node/services/{service}`), the node verifies and loads it, and serves its
//! endpoints publicly — `POST /public/api/v1/{service}/{endpoint}/predict` runs the packaged
//! predictor component (a fresh instance from its `InstancePre` per request) and
//! `/lookup` answers rows of the packaged table snapshot by key, `/query` runs the packaged
//! SQL query over its table snapshots with the request's parameters. A new version is swapped in
//! atomically: a request is served entirely by the old version or entirely by the new.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};

mod input;
mod openapi;

use input::{check_rows, request_parameters, request_rows};

use crate::host::{
    CallLimits, CancelToken, DirAccess, InstanceOptions, LoadedPlugin, PluginHost, PluginKind,
    Sandbox,
};
use crate::package::{Endpoint, Manifest, Verified};
use crate::paths::{self, NameKind};
use crate::server::http::ApiError;
use crate::table::{PreparedQuery, QueryError, Snapshot};

/// The services this node serves, by id.
#[derive(Default)]
pub struct Node {
    services: RwLock<HashMap<String, Arc<Active>>>,
}

/// One service version, loaded.
pub struct Active {
    pub manifest: Manifest,
    endpoints: HashMap<String, Served>,
    /// Where the package is unpacked.
    dir: PathBuf,
}

/// A replaced or undeployed version's files go when its last request is done with them.
impl Drop for Active {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        tracing::debug!(service = %self.manifest.service, version = %self.manifest.version, "version unloaded");
    }
}

enum Served {
    Prediction {
        plugin: Arc<LoadedPlugin>,
        model_dir: PathBuf,
        input: SchemaRef,
    },
    Lookup {
        key: String,
        rows: HashMap<String, Map<String, Value>>,
    },
    Sql {
        /// Boxed: a prepared plan is far larger than the other variants.
        query: Box<PreparedQuery>,
        /// The parameters as a one-row schema, checked like a prediction's input.
        parameters: SchemaRef,
    },
}

/// Writes a verified package's files under `dir` and loads its endpoints.
async fn unpack_and_load(
    host: &PluginHost,
    manifest: &Manifest,
    dir: &std::path::Path,
    files: &std::collections::BTreeMap<String, Vec<u8>>,
) -> Result<HashMap<String, Served>, ApiError> {
    let entry = |path: &str| {
        paths::child(dir, NameKind::Entry, path, "")
            .map_err(|e| ApiError::bad_request("invalid_package", e.to_string()))
    };
    for (path, bytes) in files {
        let target = entry(path)?;
        std::fs::create_dir_all(target.parent().expect("a file in the package"))
            .and_then(|()| std::fs::write(&target, bytes))
            .map_err(ApiError::internal)?;
    }
    let mut endpoints = HashMap::new();
    for endpoint in &manifest.endpoints {
        let served = match endpoint {
            Endpoint::Prediction {
                name,
                predictor,
                model_dir,
                input,
                ..
            } => {
                let plugin_name = predictor
                    .trim_start_matches("plugins/")
                    .trim_end_matches(".wasm");
                // The manifest's paths are entries of the verified zip (checked when it was
                // read), so both stay inside the unpacked package.
                let model_dir = entry(model_dir)?;
                std::fs::create_dir_all(&model_dir).map_err(ApiError::internal)?;
                let plugin = host
                    .load(plugin_name, &entry(predictor)?, PluginKind::Predictor)
                    .map_err(|e| {
                        ApiError::bad_request("invalid_package", format!("endpoint `{name}`: {e}"))
                    })?;
                let fields = input
                    .iter()
                    .map(|(c, t)| Ok(Field::new(c, data_type(t)?, true)))
                    .collect::<Result<Vec<_>, ApiError>>()?;
                Served::Prediction {
                    plugin,
                    model_dir,
                    input: Arc::new(Schema::new(fields)),
                }
            }
            Endpoint::Lookup { key, rows, .. } => {
                let bytes = bytes::Bytes::from(files.get(rows).cloned().unwrap_or_default());
                let reader = deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
                        .and_then(|b| b.build())
                        .map_err(|e| ApiError::bad_request("invalid_package", e.to_string()))?;
                let batches = reader
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| ApiError::bad_request("invalid_package", e.to_string()))?;
                let mut by_key = HashMap::new();
                for row in rows_json(&batches)? {
                    if let Some(k) = row.get(key) {
                        let k = k
                            .as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| k.to_string());
                        by_key.insert(k, row);
                    }
                }
                Served::Lookup {
                    key: key.clone(),
                    rows: by_key,
                }
            }
            Endpoint::Sql {
                name,
                query,
                tables,
                parameters,
                max_rows,
                ..
            } => {
                let snapshots = tables
                    .iter()
                    .map(|(table, path)| Ok((table.clone(), Snapshot::Parquet(entry(path)?))))
                    .collect::<Result<Vec<_>, ApiError>>()?;
                let fields = parameters
                    .iter()
                    .map(|(p, t)| Ok(Field::new(p, data_type(t)?, false)))
                    .collect::<Result<Vec<_>, ApiError>>()?;
                let types = fields
                    .iter()
                    .map(|f| (f.name().clone(), f.data_type().clone()))
                    .collect();
                let limits = crate::package::sql_limits(Some(*max_rows));
                let query = PreparedQuery::new(snapshots, query, types, limits)
                    .await
                    .map_err(|e| {
                        ApiError::bad_request("invalid_package", format!("endpoint `{name}`: {e}"))
                    })?;
                Served::Sql {
                    query: Box::new(query),
                    parameters: Arc::new(Schema::new(fields)),
                }
            }
        };
        endpoints.insert(endpoint.name().to_owned(), served);
    }
    Ok(endpoints)
}

fn data_type(name: &str) -> Result<DataType, ApiError> {
    Ok(match name {
        "int64" => DataType::Int64,
        "float64" => DataType::Float64,
        "boolean" => DataType::Boolean,
        "utf8" => DataType::Utf8,
        "timestamp" => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        other => {
            return Err(ApiError::bad_request(
                "invalid_package",
                format!("unknown column type `{other}`"),
            ));
        }
    })
}

/// Rows as JSON objects, nulls left out.
fn rows_json(batches: &[RecordBatch]) -> Result<Vec<Map<String, Value>>, ApiError> {
    let mut writer = arrow::json::ArrayWriter::new(Vec::new());
    for b in batches {
        writer.write(b).map_err(ApiError::internal)?;
    }
    writer.finish().map_err(ApiError::internal)?;
    let bytes = writer.into_inner();
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice(&bytes).map_err(ApiError::internal)
}

impl Node {
    /// Verifies, unpacks and loads a package, then makes it the service's active version.
    pub async fn deploy(
        &self,
        host: &PluginHost,
        root: &std::path::Path,
        verified: Verified,
    ) -> Result<Arc<Active>, ApiError> {
        let manifest = verified.manifest;
        let bad = |e: paths::NameError| ApiError::bad_request("invalid_package", e.to_string());
        let service_dir =
            paths::child(root, NameKind::Service, &manifest.service, "").map_err(bad)?;
        let suffix = format!("-{}", uuid::Uuid::new_v4().simple());
        let dir = paths::child(&service_dir, NameKind::Version, &manifest.version, &suffix)
            .map_err(bad)?;
        let endpoints = match unpack_and_load(host, &manifest, &dir, &verified.files).await {
            Ok(endpoints) => endpoints,
            Err(e) => {
                // Nothing of a package that cannot be served stays on disk.
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let active = Arc::new(Active {
            manifest,
            endpoints,
            dir,
        });
        let previous = self
            .services
            .write()
            .expect("node lock")
            .insert(active.manifest.service.clone(), active.clone());
        tracing::info!(service = %active.manifest.service, version = %active.manifest.version, "service deployed on this node");
        drop(previous);
        Ok(active)
    }

    pub fn undeploy(&self, service: &str) -> Result<(), ApiError> {
        let removed = self.services.write().expect("node lock").remove(service);
        // Dropped (its files removed, if no request holds it) after the lock is released.
        removed
            .map(drop)
            .ok_or_else(|| ApiError::not_found(format!("service `{service}` is not deployed here")))
    }

    pub fn list(&self) -> Vec<Value> {
        let mut items: Vec<Value> = self
            .services
            .read()
            .expect("node lock")
            .values()
            .map(|a| {
                json!({
                    "service": a.manifest.service,
                    "version": a.manifest.version,
                    "endpoints": a.manifest.endpoints.iter().map(|e| e.name()).collect::<Vec<_>>(),
                })
            })
            .collect();
        items.sort_by(|a, b| a["service"].as_str().cmp(&b["service"].as_str()));
        items
    }

    /// Who may call `service`'s endpoints (see [`super::service_auth`]).
    pub fn auth(
        &self,
        service: &str,
    ) -> Result<
        (
            crate::workflow::ServiceAuth,
            Option<crate::workflow::OAuth2Spec>,
        ),
        ApiError,
    > {
        let active = self.active(service)?;
        Ok((active.manifest.auth, active.manifest.oauth2.clone()))
    }

    fn active(&self, service: &str) -> Result<Arc<Active>, ApiError> {
        self.services
            .read()
            .expect("node lock")
            .get(service)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("service `{service}` is not deployed here")))
    }

    /// `POST …/{endpoint}/predict`: `{"rows": [{feature: value, …}, …]}` (or one row object).
    pub async fn predict(
        &self,
        host: &PluginHost,
        service: &str,
        endpoint: &str,
        body: &[u8],
    ) -> Result<Value, ApiError> {
        let active = self.active(service)?;
        let Some(Served::Prediction {
            plugin,
            model_dir,
            input,
        }) = active.endpoints.get(endpoint)
        else {
            return Err(ApiError::not_found(format!(
                "service `{service}` has no prediction endpoint `{endpoint}`"
            )));
        };
        let rows = request_rows(body)?;
        check_rows(&rows, input)?;
        let mut decoder = arrow::json::ReaderBuilder::new(input.clone())
            .build_decoder()
            .map_err(ApiError::internal)?;
        decoder
            .serialize(&rows)
            .map_err(|e| ApiError::bad_request("invalid_input", e.to_string()))?;
        let batch = decoder
            .flush()
            .map_err(|e| ApiError::bad_request("invalid_input", e.to_string()))?
            .unwrap_or_else(|| RecordBatch::new_empty(input.clone()));
        let options = InstanceOptions {
            step: format!("{service}/{endpoint}").into(),
            sandbox: Sandbox {
                dirs: vec![DirAccess {
                    host: model_dir.clone(),
                    mount: "/model".into(),
                    write: false,
                }],
                ..Sandbox::default()
            },
            limits: CallLimits::default(),
            cancel: CancelToken::default(),
        };
        let mut predictor = host
            .predictor(plugin, &options)
            .await
            .map_err(plugin_error)?;
        let output = predictor.predict(&batch).await.map_err(plugin_error)?;
        Ok(json!({
            "service": service,
            "version": active.manifest.version,
            "results": rows_json(&[output])?,
        }))
    }

    /// `POST …/{endpoint}/lookup`: `{"keys": ["C0001", …]}`; unknown keys come back as null.
    pub fn lookup(&self, service: &str, endpoint: &str, body: &[u8]) -> Result<Value, ApiError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Keys {
            keys: Vec<Value>,
        }
        let active = self.active(service)?;
        let Some(Served::Lookup { key, rows }) = active.endpoints.get(endpoint) else {
            return Err(ApiError::not_found(format!(
                "service `{service}` has no lookup endpoint `{endpoint}`"
            )));
        };
        let keys: Keys = serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(
                "malformed_json",
                format!("expected {{\"keys\": [...]}}: {e}"),
            )
        })?;
        let results: Vec<Value> = keys
            .keys
            .iter()
            .map(|k| {
                let k = k
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| k.to_string());
                rows.get(&k)
                    .map(|r| Value::Object(r.clone()))
                    .unwrap_or(Value::Null)
            })
            .collect();
        Ok(json!({
            "service": service,
            "version": active.manifest.version,
            "key": key,
            "results": results,
        }))
    }
}

impl Node {
    /// `POST …/{endpoint}/query`: `{"parameters": {name: value, …}}`, every declared
    /// parameter given with a value of its type; the answer as `ferry tables query --json`.
    pub async fn query(
        &self,
        service: &str,
        endpoint: &str,
        body: &[u8],
    ) -> Result<Value, ApiError> {
        let active = self.active(service)?;
        let Some(Served::Sql { query, parameters }) = active.endpoints.get(endpoint) else {
            return Err(ApiError::not_found(format!(
                "service `{service}` has no SQL endpoint `{endpoint}`"
            )));
        };
        let values = request_parameters(body, parameters)?;
        let answer = query.run(values).await.map_err(|e| match e {
            QueryError::TooManyRows { .. }
            | QueryError::Timeout { .. }
            | QueryError::Memory { .. } => ApiError::bad_request("query_limit", e.to_string()),
            // The query was planned when the package was loaded: what fails now is a value
            // (a division by zero, a cast) or the node.
            e if e.is_input() => ApiError::bad_request("query_failed", e.to_string()),
            e => ApiError::internal(e),
        })?;
        let mut body = answer.to_json();
        body["service"] = json!(service);
        body["version"] = json!(active.manifest.version);
        Ok(body)
    }
}

fn plugin_error(e: crate::host::PluginError) -> ApiError {
    match e {
        crate::host::PluginError::Reported { code, message, .. } => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, &code, message)
        }
        e => ApiError::new(StatusCode::BAD_GATEWAY, e.code(), e.to_string()),
    }
}
