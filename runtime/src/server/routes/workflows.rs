//! Registered workflows (the server's workflows directory), triggering them, and the
//! storage-event webhook.

use std::collections::BTreeMap;

use http::{Method, StatusCode};
use serde::Deserialize;

use super::jobs::job_view;
use super::{BodyLimit, Matched};
use crate::engine::RunOptions;
use crate::server::Server;
use crate::server::http::{ApiError, Request, Response, json};
use crate::store::Permission::{ManageIngestionJobs, ManageWorkflows, ViewJobs};

pub enum Action {
    List,
    Get(String),
    Put(String),
    Delete(String),
    Trigger(String),
    Webhook(String),
}

pub(super) fn route(method: &Method, s: &[&str]) -> Option<Matched<Action>> {
    use Action::*;
    let (label, permission, action) = match (method, s) {
        (&Method::GET, ["v1", "workflows"]) => ("GET /v1/workflows", ViewJobs, List),
        (&Method::GET, ["v1", "workflows", n]) => {
            ("GET /v1/workflows/{name}", ViewJobs, Get(n.to_string()))
        }
        (&Method::PUT, ["v1", "workflows", n]) => (
            "PUT /v1/workflows/{name}",
            ManageWorkflows,
            Put(n.to_string()),
        ),
        (&Method::DELETE, ["v1", "workflows", n]) => (
            "DELETE /v1/workflows/{name}",
            ManageWorkflows,
            Delete(n.to_string()),
        ),
        (&Method::POST, ["v1", "workflows", n, "jobs"]) => (
            "POST /v1/workflows/{name}/jobs",
            ManageIngestionJobs,
            Trigger(n.to_string()),
        ),
        (&Method::POST, ["v1", "triggers", n]) => (
            "POST /v1/triggers/{name}",
            ManageIngestionJobs,
            Webhook(n.to_string()),
        ),
        _ => return None,
    };
    Some((label, Some(permission), BodyLimit::Api, action))
}

pub(super) async fn handle(
    app: &Server,
    action: Action,
    request: &Request,
) -> Result<Response, ApiError> {
    match action {
        Action::List => {
            let items: Vec<_> = app
                .registry
                .names()
                .iter()
                .map(|n| app.registry.summary(n))
                .collect();
            Ok(json(StatusCode::OK, &serde_json::json!({ "items": items })))
        }
        Action::Get(name) => {
            let text = app.registry.text(&name)?;
            let summary = app.registry.summary(&name);
            let mut value = serde_json::to_value(summary).map_err(ApiError::internal)?;
            value["text"] = text.into();
            Ok(json(StatusCode::OK, &value))
        }
        Action::Put(name) => put_workflow(app, &name, request).await,
        Action::Delete(name) => {
            app.registry.delete(&name)?;
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({ "deleted": name }),
            ))
        }
        Action::Trigger(name) => trigger(app, &name, request).await,
        Action::Webhook(name) => webhook(app, &name, request).await,
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
    let project = app.ferry.variable_values().await?;
    let workflow = app.registry.load_with(name, &project, &body.variables)?;
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
    let project = app.ferry.variable_values().await?;
    let workflow = app.registry.load_with(name, &project, &BTreeMap::new())?;
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
