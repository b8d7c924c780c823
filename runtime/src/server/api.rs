//! The routes: which handler, which permission, and the metric label of each. Handlers take a
//! read [`Request`] and answer JSON; every error is `{"error": {"code", "message"}}`.

use std::collections::BTreeMap;

use http::{Method, StatusCode};
use serde::Deserialize;
use uuid::Uuid;

use super::Server;
use super::http::{ApiError, Request, Response, json, text};
use super::registry::substitute;
use crate::engine::RunOptions;
use crate::store::{
    DesiredStatus, ExecutionStatus, FileFilter, FileStatus, HealthStatus, JobFilter, Permission,
    Timestamp,
};

/// Largest page a listing returns.
const MAX_LIMIT: u32 = 1000;

/// A matched route: its metric label and, unless open, the permission it needs.
pub struct Route {
    pub label: &'static str,
    pub permission: Option<Permission>,
    handler: Handler,
}

enum Handler {
    Healthz,
    Readyz,
    Metrics,
    OpenApi,
    ListWorkflows,
    GetWorkflow(String),
    PutWorkflow(String),
    DeleteWorkflow(String),
    Trigger(String),
    ListJobs,
    GetJob(String),
    PutJob(String),
    JobMetrics(String),
    JobFiles(String),
    JobLogs(String),
    Upload,
    Webhook(String),
    ListKeys,
    CreateKey,
    RevokeKey(String),
    ListServices,
    ListPackages(String),
    ImportPackage(String),
    GetPackage(String, String),
    DeletePackage(String, String),
    DownloadPackage(String, String),
    NodeDeploy(String),
    NodeList,
    NodeUndeploy(String),
    Predict(String, String),
    Lookup(String, String),
    ServiceOpenApi(String),
    Deploy(super::deployments::Action),
}

/// Finds the route for a method and path, or the error for none (404, or 405 when the path
/// exists for another method).
pub fn route(method: &Method, segments: &[String]) -> Result<Route, ApiError> {
    if let Some(route) = lookup(method, segments)? {
        return Ok(route);
    }
    let path = segments.join("/");
    let other = [Method::GET, Method::PUT, Method::POST, Method::DELETE]
        .iter()
        .any(|m| matches!(lookup(m, segments), Ok(Some(_))));
    Err(if other {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("{method} is not allowed on /{path}"),
        )
    } else {
        ApiError::not_found(format!("no route /{path}"))
    })
}

/// Job ids are parsed by the handler, after authentication: a caller without a key learns
/// nothing about which ids exist, or are well formed.
fn lookup(method: &Method, segments: &[String]) -> Result<Option<Route>, ApiError> {
    use Handler::*;
    use Permission::*;
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let m = method.clone();
    let (label, permission, handler) = match (m, s.as_slice()) {
        (Method::GET, ["healthz"]) => ("GET /healthz", None, Healthz),
        (Method::GET, ["readyz"]) => ("GET /readyz", None, Readyz),
        (Method::GET, ["metrics"]) => ("GET /metrics", None, Metrics),
        (Method::GET, ["v1", "openapi.json"]) => ("GET /v1/openapi.json", None, OpenApi),
        (Method::GET, ["v1", "workflows"]) => ("GET /v1/workflows", Some(ViewJobs), ListWorkflows),
        (Method::GET, ["v1", "workflows", n]) => (
            "GET /v1/workflows/{name}",
            Some(ViewJobs),
            GetWorkflow(n.to_string()),
        ),
        (Method::PUT, ["v1", "workflows", n]) => (
            "PUT /v1/workflows/{name}",
            Some(ManageWorkflows),
            PutWorkflow(n.to_string()),
        ),
        (Method::DELETE, ["v1", "workflows", n]) => (
            "DELETE /v1/workflows/{name}",
            Some(ManageWorkflows),
            DeleteWorkflow(n.to_string()),
        ),
        (Method::POST, ["v1", "workflows", n, "jobs"]) => (
            "POST /v1/workflows/{name}/jobs",
            Some(ManageIngestionJobs),
            Trigger(n.to_string()),
        ),
        (Method::GET, ["v1", "jobs"]) => ("GET /v1/jobs", Some(ViewJobs), ListJobs),
        (Method::GET, ["v1", "jobs", id]) => {
            ("GET /v1/jobs/{id}", Some(ViewJobs), GetJob(id.to_string()))
        }
        (Method::PUT, ["v1", "jobs", id]) => (
            "PUT /v1/jobs/{id}",
            Some(ManageIngestionJobs),
            PutJob(id.to_string()),
        ),
        (Method::GET, ["v1", "jobs", id, "metrics"]) => (
            "GET /v1/jobs/{id}/metrics",
            Some(ViewJobs),
            JobMetrics(id.to_string()),
        ),
        (Method::GET, ["v1", "jobs", id, "files"]) => (
            "GET /v1/jobs/{id}/files",
            Some(ViewJobs),
            JobFiles(id.to_string()),
        ),
        (Method::GET, ["v1", "jobs", id, "logs"]) => (
            "GET /v1/jobs/{id}/logs",
            Some(ViewJobs),
            JobLogs(id.to_string()),
        ),
        (Method::POST, ["v1", "uploads"]) => {
            ("POST /v1/uploads", Some(ManageIngestionJobs), Upload)
        }
        (Method::POST, ["v1", "triggers", n]) => (
            "POST /v1/triggers/{name}",
            Some(ManageIngestionJobs),
            Webhook(n.to_string()),
        ),
        (Method::GET, ["v1", "keys"]) => ("GET /v1/keys", Some(ManageKeys), ListKeys),
        (Method::POST, ["v1", "keys"]) => ("POST /v1/keys", Some(ManageKeys), CreateKey),
        (Method::DELETE, ["v1", "keys", n]) => (
            "DELETE /v1/keys/{name}",
            Some(ManageKeys),
            RevokeKey(n.to_string()),
        ),
        (Method::GET, ["v1", "services"]) => ("GET /v1/services", Some(ViewJobs), ListServices),
        (Method::GET, ["v1", "services", svc, "packages"]) => (
            "GET /v1/services/{service}/packages",
            Some(ViewJobs),
            ListPackages(svc.to_string()),
        ),
        (Method::POST, ["v1", "services", svc, "packages"]) => (
            "POST /v1/services/{service}/packages",
            Some(ManageWorkflows),
            ImportPackage(svc.to_string()),
        ),
        (Method::GET, ["v1", "services", svc, "packages", v]) => (
            "GET /v1/services/{service}/packages/{version}",
            Some(ViewJobs),
            GetPackage(svc.to_string(), v.to_string()),
        ),
        (Method::DELETE, ["v1", "services", svc, "packages", v]) => (
            "DELETE /v1/services/{service}/packages/{version}",
            Some(ManageWorkflows),
            DeletePackage(svc.to_string(), v.to_string()),
        ),
        (Method::GET, ["v1", "services", svc, "packages", v, "download"]) => (
            "GET /v1/services/{service}/packages/{version}/download",
            Some(ViewJobs),
            DownloadPackage(svc.to_string(), v.to_string()),
        ),
        (Method::PUT, ["v1", "node", "services", svc]) => (
            "PUT /v1/node/services/{service}",
            Some(ManageDeployments),
            NodeDeploy(svc.to_string()),
        ),
        (Method::GET, ["v1", "node", "services"]) => {
            ("GET /v1/node/services", Some(ManageDeployments), NodeList)
        }
        (Method::DELETE, ["v1", "node", "services", svc]) => (
            "DELETE /v1/node/services/{service}",
            Some(ManageDeployments),
            NodeUndeploy(svc.to_string()),
        ),
        (Method::POST, ["public", "api", "v1", svc, ep, "predict"]) => (
            "POST /public/api/v1/{service}/{endpoint}/predict",
            None,
            Predict(svc.to_string(), ep.to_string()),
        ),
        (Method::POST, ["public", "api", "v1", svc, ep, "lookup"]) => (
            "POST /public/api/v1/{service}/{endpoint}/lookup",
            None,
            Lookup(svc.to_string(), ep.to_string()),
        ),
        (m, path) if let Some((label, action)) = super::deployments::route(&m, path) => {
            (label, Some(ManageDeployments), Deploy(action))
        }
        (Method::GET, ["public", "api", "v1", svc, "openapi.json"]) => (
            "GET /public/api/v1/{service}/openapi.json",
            None,
            ServiceOpenApi(svc.to_string()),
        ),
        _ => return Ok(None),
    };
    Ok(Some(Route {
        label,
        permission,
        handler,
    }))
}

fn job_id(text: &str) -> Result<Uuid, ApiError> {
    text.parse()
        .map_err(|_| ApiError::not_found(format!("no job `{text}` (job ids are UUIDs)")))
}

/// Runs a matched route (after authentication).
pub async fn handle(app: &Server, route: Route, request: &Request) -> Result<Response, ApiError> {
    use Handler::*;
    match route.handler {
        h @ (NodeDeploy(_) | NodeList | NodeUndeploy(_) | Predict(..) | Lookup(..)
        | ServiceOpenApi(_)) => node_route(app, h, request).await,
        Deploy(action) => super::deployments::handle(app, action, request).await,
        Healthz => Ok(json(StatusCode::OK, &serde_json::json!({ "status": "ok" }))),
        Readyz => match app.ferry.totals().await {
            Ok(_) if !app.draining() => Ok(json(
                StatusCode::OK,
                &serde_json::json!({ "status": "ready" }),
            )),
            Ok(_) => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "draining",
                "the server is shutting down",
            )),
            Err(e) => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                e.to_string(),
            )),
        },
        Metrics => {
            let (counts, rows) = app.ferry.totals().await?;
            let body = app
                .metrics
                .render(&counts, rows, app.ferry.plugin_host().instantiations());
            Ok(text(StatusCode::OK, "text/plain; version=0.0.4", body))
        }
        OpenApi => Ok(json(StatusCode::OK, &super::openapi::document())),
        ListWorkflows => {
            let items: Vec<_> = app
                .registry
                .names()
                .iter()
                .map(|n| app.registry.summary(n))
                .collect();
            Ok(json(StatusCode::OK, &serde_json::json!({ "items": items })))
        }
        GetWorkflow(name) => {
            let text = app.registry.text(&name)?;
            let summary = app.registry.summary(&name);
            let mut value = serde_json::to_value(summary).map_err(ApiError::internal)?;
            value["text"] = text.into();
            Ok(json(StatusCode::OK, &value))
        }
        PutWorkflow(name) => put_workflow(app, &name, request).await,
        DeleteWorkflow(name) => {
            app.registry.delete(&name)?;
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({ "deleted": name }),
            ))
        }
        Trigger(name) => trigger(app, &name, request).await,
        ListJobs => list_jobs(app, request).await,
        GetJob(id) => job(app, job_id(&id)?).await,
        PutJob(id) => put_job(app, job_id(&id)?, request).await,
        JobMetrics(id) => {
            let job = app.ferry.job(job_id(&id)?).await?;
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({ "totals": job.metrics, "files": job.files }),
            ))
        }
        JobFiles(id) => job_files(app, job_id(&id)?, request).await,
        JobLogs(id) => {
            let id = job_id(&id)?;
            let job = app.ferry.job(id).await?;
            let exceptions = app.ferry.parse_exceptions(id).await?;
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({
                    "health": job.health,
                    "failure": job.failure,
                    "parseExceptions": exceptions,
                }),
            ))
        }
        Upload => unreachable!("uploads are streamed before the body is read"),
        Webhook(name) => webhook(app, &name, request).await,
        ListKeys => Ok(json(
            StatusCode::OK,
            &serde_json::json!({ "items": app.ferry.keys().await? }),
        )),
        CreateKey => {
            #[derive(Deserialize, Default)]
            #[serde(deny_unknown_fields)]
            struct NewKey {
                name: String,
                permissions: Vec<Permission>,
                #[serde(default)]
                services: Vec<String>,
            }
            let new: NewKey = request.json()?;
            if new.name.is_empty() {
                return Err(ApiError::bad_request("invalid_key", "`name` is required"));
            }
            let (key, secret) = app
                .ferry
                .create_key(&new.name, &new.permissions, &new.services)
                .await?;
            let mut value = serde_json::to_value(key).map_err(ApiError::internal)?;
            value["key"] = secret.into();
            Ok(json(StatusCode::CREATED, &value))
        }
        RevokeKey(name) => Ok(json(StatusCode::OK, &app.ferry.revoke_key(&name).await?)),
        ListServices => {
            let registry = app.ferry.packages();
            let items: Vec<_> = registry
                .services()
                .into_iter()
                .map(|s| serde_json::json!({ "service": s, "versions": registry.versions(&s) }))
                .collect();
            Ok(json(StatusCode::OK, &serde_json::json!({ "items": items })))
        }
        ListPackages(service) => {
            let registry = app.ferry.packages();
            let items = registry
                .versions(&service)
                .iter()
                .map(|v| registry.info(&service, v))
                .collect::<Result<Vec<_>, _>>()
                .map_err(package_error)?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "items": items })))
        }
        ImportPackage(service) => {
            let limit = app.config.max_upload.0;
            let verified =
                crate::package::Verified::read(&request.body, limit).map_err(package_error)?;
            if verified.manifest.service != service {
                return Err(ApiError::bad_request(
                    "wrong_service",
                    format!(
                        "the package is for service `{}`, not `{service}`",
                        verified.manifest.service
                    ),
                ));
            }
            let registry = app.ferry.packages().with_limit(limit);
            let manifest = registry.import(&request.body).map_err(package_error)?;
            Ok(json(StatusCode::CREATED, &manifest))
        }
        GetPackage(service, version) => {
            let verified = app
                .ferry
                .packages()
                .open(&service, &version)
                .map_err(package_error)?;
            Ok(json(StatusCode::OK, &verified.manifest))
        }
        DeletePackage(service, version) => {
            app.ferry
                .delete_package(&service, &version)
                .await
                .map_err(|e| match e {
                    crate::deploy::DeployError::Package(e) => package_error(e),
                    other => other.into(),
                })?;
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({ "deleted": { "service": service, "version": version } }),
            ))
        }
        DownloadPackage(service, version) => {
            let bytes = app
                .ferry
                .packages()
                .bytes(&service, &version)
                .map_err(package_error)?;
            Ok(http::Response::builder()
                .status(StatusCode::OK)
                .header(http::header::CONTENT_TYPE, "application/zip")
                .header(
                    http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{service}-{version}.zip\""),
                )
                .body(http_body_util::Full::new(bytes::Bytes::from(bytes)))
                .expect("a valid response"))
        }
    }
}

/// The node routes of a static deployment (see [`super::node`]).
async fn node_route(
    app: &Server,
    handler: Handler,
    request: &Request,
) -> Result<Response, ApiError> {
    use Handler::*;
    match handler {
        NodeDeploy(service) => {
            crate::paths::check(crate::paths::NameKind::Service, &service)
                .map_err(|e| ApiError::bad_request("invalid_name", e.to_string()))?;
            let verified = crate::package::Verified::read(&request.body, app.config.max_upload.0)
                .map_err(package_error)?;
            if verified.manifest.service != service {
                return Err(ApiError::bad_request(
                    "wrong_service",
                    format!(
                        "the package is for service `{}`, not `{service}`",
                        verified.manifest.service
                    ),
                ));
            }
            let active = app
                .node
                .deploy(app.ferry.plugin_host(), &app.node_dir(), verified)?;
            app.keep_deployed(&service, &request.body)?;
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({ "service": service, "version": active.manifest.version }),
            ))
        }
        NodeList => Ok(json(
            StatusCode::OK,
            &serde_json::json!({ "items": app.node.list() }),
        )),
        NodeUndeploy(service) => {
            crate::paths::check(crate::paths::NameKind::Service, &service)
                .map_err(|e| ApiError::bad_request("invalid_name", e.to_string()))?;
            // The kept package goes even when it was not loaded (it could not be, at start):
            // a 404 means the node holds nothing of the service, on disk either.
            let undeployed = app.node.undeploy(&service);
            app.forget_deployed(&service)?;
            undeployed?;
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({ "undeployed": service }),
            ))
        }
        Predict(service, endpoint) => {
            admit(app, &service, request).await?;
            let answer = app
                .node
                .predict(app.ferry.plugin_host(), &service, &endpoint, &request.body)
                .await?;
            Ok(json(StatusCode::OK, &answer))
        }
        Lookup(service, endpoint) => {
            admit(app, &service, request).await?;
            Ok(json(
                StatusCode::OK,
                &app.node.lookup(&service, &endpoint, &request.body)?,
            ))
        }
        ServiceOpenApi(service) => Ok(json(StatusCode::OK, &app.node.openapi(&service)?)),
        _ => unreachable!("only node routes come here"),
    }
}

/// The service's own rule for its public endpoints (public, API keys, OAuth2).
async fn admit(app: &Server, service: &str, request: &Request) -> Result<(), ApiError> {
    let (auth, oauth2) = app.node.auth(service)?;
    app.gate
        .admit(&app.ferry, service, auth, oauth2.as_ref(), request)
        .await
}

fn package_error(e: crate::package::PackageError) -> ApiError {
    use crate::package::PackageError;
    match &e {
        PackageError::NotFound { .. } => ApiError::not_found(e.to_string()),
        PackageError::Exists { .. } => {
            ApiError::new(StatusCode::CONFLICT, "package_exists", e.to_string())
        }
        PackageError::TooLarge { .. } => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", e.to_string())
        }
        PackageError::Invalid(_) | PackageError::Name(_) | PackageError::Checksum { .. } => {
            ApiError::bad_request("invalid_package", e.to_string())
        }
        _ => ApiError::internal(e),
    }
}

async fn put_workflow(app: &Server, name: &str, request: &Request) -> Result<Response, ApiError> {
    let text = std::str::from_utf8(&request.body).map_err(|_| {
        ApiError::bad_request("invalid_workflow", "the workflow must be UTF-8 TOML")
    })?;
    // Checked as `ferry validate` would before it replaces anything.
    let workflow = app.registry.parse(name, text)?;
    app.ferry.check(&workflow).await?;
    let existed = app.registry.put(name, text)?;
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json(status, &app.registry.summary(name)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TriggerBody {
    #[serde(default)]
    dry_run: bool,
    file_name: Option<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

async fn trigger(app: &Server, name: &str, request: &Request) -> Result<Response, ApiError> {
    let body: TriggerBody = request.json()?;
    let text = substitute(&app.registry.text(name)?, &body.variables)?;
    let workflow = app.registry.parse(name, &text)?;
    let prepared = app.ferry.check(&workflow).await?;
    if body.dry_run {
        let result = app
            .ferry
            .dry_run(&prepared, body.file_name.as_deref())
            .await?;
        return Ok(json(StatusCode::OK, &result));
    }
    let job = app.ferry.create_job(&prepared).await?;
    let options = RunOptions {
        only_file: body.file_name,
        ..RunOptions::default()
    };
    app.executor.submit(job.id, prepared, options);
    Ok(json(StatusCode::CREATED, &job_view(app, &job)?))
}

/// `POST /v1/triggers/{name}`: an S3 event notification or a GCS Pub/Sub push names the objects
/// that arrived; the job imports exactly those.
async fn webhook(app: &Server, name: &str, request: &Request) -> Result<Response, ApiError> {
    let event: serde_json::Value = serde_json::from_slice(&request.body)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("event body: {e}")))?;
    let keys = event_keys(&event);
    if keys.is_empty() {
        return Err(ApiError::bad_request(
            "no_objects",
            "the event names no objects: expected an S3 event (Records[].s3.object.key) or a GCS Pub/Sub push (message.attributes.objectId)",
        ));
    }
    let workflow = app.registry.load(name)?;
    let prepared = app.ferry.check(&workflow).await?;
    let job = app.ferry.create_job(&prepared).await?;
    let options = RunOptions {
        only_files: Some(keys.clone()),
        ..RunOptions::default()
    };
    app.executor.submit(job.id, prepared, options);
    let mut value = job_view(app, &job)?;
    value["objects"] = keys.into();
    Ok(json(StatusCode::CREATED, &value))
}

/// Object keys of an S3 event (keys URL-encoded, `+` for space) or a GCS Pub/Sub push.
fn event_keys(event: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = event["Records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["s3"]["object"]["key"].as_str())
        .map(|k| {
            url::form_urlencoded::parse(format!("k={k}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .collect();
    if let Some(id) = event["message"]["attributes"]["objectId"].as_str() {
        keys.push(id.to_owned());
    }
    keys.sort();
    keys.dedup();
    keys
}

fn limit(request: &Request) -> Result<u32, ApiError> {
    match request.param("limit") {
        None => Ok(100),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_parameter",
                    format!("parameter `limit`: `{v}` is not 1–{MAX_LIMIT}"),
                )
            }),
    }
}

fn time(request: &Request, name: &str) -> Result<Option<Timestamp>, ApiError> {
    Ok(request.parsed::<Timestamp>(name)?.into_iter().next())
}

async fn list_jobs(app: &Server, request: &Request) -> Result<Response, ApiError> {
    let filter = JobFilter {
        statuses: request.parsed::<ExecutionStatus>("status")?,
        health: request.parsed::<HealthStatus>("healthStatus")?,
        workflows: request
            .params("workflow")
            .into_iter()
            .map(str::to_owned)
            .collect(),
        since: time(request, "since")?,
        until: time(request, "until")?,
    };
    let page = app
        .ferry
        .jobs(&filter, limit(request)?, request.param("cursor"))
        .await?;
    let items = page
        .items
        .iter()
        .map(|j| job_view(app, j))
        .collect::<Result<Vec<_>, _>>()?;
    let page = crate::store::Page {
        items,
        next_cursor: page.next_cursor,
    };
    Ok(json(StatusCode::OK, &page))
}

/// A job as clients see it: its workflow file named relative to the home or to the server's
/// workflows directory, never by the server's absolute path.
fn job_view(app: &Server, job: &crate::store::Job) -> Result<serde_json::Value, ApiError> {
    let mut value = serde_json::to_value(job).map_err(ApiError::internal)?;
    let path = std::path::Path::new(&job.workflow_path);
    let shown = [app.ferry.home(), app.registry.dir()]
        .iter()
        .filter_map(|root| std::path::absolute(root).ok())
        .find_map(|root| path.strip_prefix(&root).ok().map(|p| p.to_owned()))
        .or_else(|| path.file_name().map(std::path::PathBuf::from))
        .unwrap_or_default();
    value["workflowPath"] = shown.display().to_string().into();
    Ok(value)
}

async fn job(app: &Server, id: Uuid) -> Result<Response, ApiError> {
    let job = app.ferry.job(id).await?;
    let mut value = job_view(app, &job)?;
    // Paths relative to the home: a client has no business knowing the server's layout.
    value["tablePath"] = format!("tables/{}", job.table).into();
    Ok(json(StatusCode::OK, &value))
}

async fn put_job(app: &Server, id: Uuid, request: &Request) -> Result<Response, ApiError> {
    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Desired {
        desired_execution_status: Option<String>,
    }
    let desired: Desired = request.json()?;
    let wanted = desired.desired_execution_status.ok_or_else(|| {
        ApiError::bad_request("invalid_request", "`desiredExecutionStatus` is required")
    })?;
    let wanted: DesiredStatus = wanted
        .parse()
        .map_err(|e: String| ApiError::bad_request("invalid_request", e))?;
    if wanted != DesiredStatus::Canceled {
        return Err(ApiError::bad_request(
            "invalid_request",
            "only `canceled` can be set: jobs run when they are created",
        ));
    }
    let job = app.ferry.cancel(id).await?;
    Ok(json(StatusCode::OK, &job_view(app, &job)?))
}

async fn job_files(app: &Server, id: Uuid, request: &Request) -> Result<Response, ApiError> {
    app.ferry.job(id).await?;
    let filter = FileFilter {
        statuses: request.parsed::<FileStatus>("status")?,
        since: time(request, "since")?,
        until: time(request, "until")?,
    };
    let after: u64 = match request.param("cursor") {
        None => 0,
        Some(c) => c
            .parse()
            .map_err(|_| ApiError::bad_request("invalid_cursor", "invalid cursor"))?,
    };
    let limit = limit(request)? as usize;
    let files = app.ferry.job_files(id, &filter).await?;
    let mut page: Vec<_> = files
        .into_iter()
        .filter(|f| f.seq >= after)
        .take(limit + 1)
        .collect();
    let next = (page.len() > limit).then(|| page[limit].seq.to_string());
    page.truncate(limit);
    Ok(json(
        StatusCode::OK,
        &crate::store::Page {
            items: page,
            next_cursor: next,
        },
    ))
}
