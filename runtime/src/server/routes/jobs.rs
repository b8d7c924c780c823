//! Jobs: listed, read (with metrics, files and logs), canceled.

use http::{Method, StatusCode};
use serde::Deserialize;
use uuid::Uuid;

use super::{BodyLimit, Matched};
use crate::server::Server;
use crate::server::http::{ApiError, Request, Response, json};
use crate::store::Permission::{ManageIngestionJobs, ViewJobs};
use crate::store::{
    DesiredStatus, ExecutionStatus, FileFilter, FileStatus, HealthStatus, JobFilter, Timestamp,
};

/// Largest page a listing returns.
const MAX_LIMIT: u32 = 1000;

/// Job ids are kept as written until the handler, which runs after authentication.
pub enum Action {
    List,
    Get(String),
    Put(String),
    Metrics(String),
    Files(String),
    Logs(String),
}

pub(super) fn route(method: &Method, s: &[&str]) -> Option<Matched<Action>> {
    use Action::*;
    let (label, permission, action) = match (method, s) {
        (&Method::GET, ["v1", "jobs"]) => ("GET /v1/jobs", ViewJobs, List),
        (&Method::GET, ["v1", "jobs", id]) => ("GET /v1/jobs/{id}", ViewJobs, Get(id.to_string())),
        (&Method::PUT, ["v1", "jobs", id]) => (
            "PUT /v1/jobs/{id}",
            ManageIngestionJobs,
            Put(id.to_string()),
        ),
        (&Method::GET, ["v1", "jobs", id, "metrics"]) => (
            "GET /v1/jobs/{id}/metrics",
            ViewJobs,
            Metrics(id.to_string()),
        ),
        (&Method::GET, ["v1", "jobs", id, "files"]) => {
            ("GET /v1/jobs/{id}/files", ViewJobs, Files(id.to_string()))
        }
        (&Method::GET, ["v1", "jobs", id, "logs"]) => {
            ("GET /v1/jobs/{id}/logs", ViewJobs, Logs(id.to_string()))
        }
        _ => return None,
    };
    Some((label, Some(permission), BodyLimit::Api, action))
}

fn job_id(text: &str) -> Result<Uuid, ApiError> {
    text.parse()
        .map_err(|_| ApiError::not_found(format!("no job `{text}` (job ids are UUIDs)")))
}

pub(super) async fn handle(
    app: &Server,
    action: Action,
    request: &Request,
) -> Result<Response, ApiError> {
    match action {
        Action::List => list_jobs(app, request).await,
        Action::Get(id) => job(app, job_id(&id)?).await,
        Action::Put(id) => put_job(app, job_id(&id)?, request).await,
        Action::Metrics(id) => {
            let job = app.ferry.job(job_id(&id)?).await?;
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({ "totals": job.metrics, "files": job.files }),
            ))
        }
        Action::Files(id) => job_files(app, job_id(&id)?, request).await,
        Action::Logs(id) => {
            let report = app.ferry.job_report(job_id(&id)?).await?;
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({
                    "health": report.job.health,
                    "failure": report.job.failure,
                    "parseExceptions": report.exceptions,
                }),
            ))
        }
    }
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
pub(super) fn job_view(
    app: &Server,
    job: &crate::store::Job,
) -> Result<serde_json::Value, ApiError> {
    let mut value = serde_json::to_value(job).map_err(ApiError::internal)?;
    let path = std::path::Path::new(&job.workflow_path);
    let shown = [app.ferry.home(), app.registry.dir()]
        .iter()
        .filter_map(|root| std::path::absolute(root).ok())
        .find_map(|root| path.strip_prefix(&root).ok().map(|p| p.to_owned()))
        .or_else(|| path.file_name().map(std::path::PathBuf::from))
        .unwrap_or_default();
    value["workflowPath"] = shown.display().to_string().into();
    if let Some(ingestion) = crate::app::Ingestion::of(job) {
        ingestion.add_to(&mut value);
    }
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
