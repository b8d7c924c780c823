//! `/v1/exports`: project exports (as UbiOps' exports API). `POST` checks the selection and
//! answers 201 with the export `pending`; it is written in the background, then downloaded.

use http::{Method, StatusCode};

use super::{BodyLimit, Matched};
use crate::credentials::Secret;
use crate::exports::{ExportError, Selection};
use crate::server::Server;
use crate::server::http::{ApiError, Request, Response, json, zip_attachment};
use crate::store::ExportStatus;
use crate::store::Permission::{ManageExports, ManageSecrets};

pub enum Action {
    List,
    Create,
    Get(String),
    Delete(String),
    Download(String),
}

pub(super) fn route(method: &Method, s: &[&str]) -> Option<Matched<Action>> {
    let (label, action) = match (method, s) {
        (&Method::GET, ["v1", "exports"]) => ("GET /v1/exports", Action::List),
        (&Method::POST, ["v1", "exports"]) => ("POST /v1/exports", Action::Create),
        (&Method::GET, ["v1", "exports", id]) => {
            ("GET /v1/exports/{id}", Action::Get((*id).to_owned()))
        }
        (&Method::DELETE, ["v1", "exports", id]) => {
            ("DELETE /v1/exports/{id}", Action::Delete((*id).to_owned()))
        }
        (&Method::GET, ["v1", "exports", id, "download"]) => (
            "GET /v1/exports/{id}/download",
            Action::Download((*id).to_owned()),
        ),
        _ => return None,
    };
    Some((label, Some(ManageExports), BodyLimit::Api, action))
}

/// `POST /v1/exports`: the selection (every kind optional; none at all for everything) and,
/// when a secret's value is asked for, the `passphrase` it is encrypted to. Errors never quote
/// the body: serde's message could hold the passphrase.
fn create_body(request: &Request) -> Result<(Selection, Option<Secret>), ApiError> {
    if request.body.is_empty() {
        return Ok((Selection::default(), None));
    }
    let malformed = |why: &str| ApiError::bad_request("malformed_json", why.to_owned());
    let mut body: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&request.body)
            .map_err(|_| malformed("the body must be a JSON object"))?;
    let passphrase = match body.remove("passphrase") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(p)) => Some(Secret::new(p)),
        Some(_) => return Err(malformed("`passphrase` must be a string")),
    };
    let selection = serde_json::from_value(body.into()).map_err(|e| {
        ApiError::bad_request(
            "malformed_json",
            format!(
                "the body must be a selection {{workflows, services, infras, deployments, plugins, variables, secrets}}, each an object by name: {e}"
            ),
        )
    })?;
    Ok((selection, passphrase))
}

fn api_error(e: ExportError) -> ApiError {
    match e {
        ExportError::Store(s) => s.into(),
        ExportError::NotCompleted { .. } => {
            ApiError::new(StatusCode::CONFLICT, "not_completed", e.to_string())
        }
        e if e.is_input() => ApiError::bad_request("invalid_export", e.to_string()),
        e => ApiError::internal(e),
    }
}

pub(super) async fn handle(
    app: &Server,
    action: Action,
    request: &Request,
) -> Result<Response, ApiError> {
    match action {
        Action::List => {
            let items = app
                .ferry
                .exports(super::status_filter::<ExportStatus>(request)?)
                .await
                .map_err(api_error)?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "items": items })))
        }
        Action::Create => {
            let (selection, passphrase) = create_body(request)?;
            if selection.wants_values()
                && !request
                    .caller
                    .as_ref()
                    .is_some_and(|k| k.permissions.contains(&ManageSecrets))
            {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "exporting secret values (includeValue) needs the ManageSecrets permission too",
                ));
            }
            let workflows = app.registry.dir().to_owned();
            let record = app
                .ferry
                .create_export(&workflows, &selection, passphrase.as_ref())
                .await
                .map_err(api_error)?;
            app.executor
                .run_export(record.id.clone(), workflows, passphrase);
            Ok(json(StatusCode::CREATED, &record))
        }
        Action::Get(id) => Ok(json(
            StatusCode::OK,
            &app.ferry.export(&id).await.map_err(api_error)?,
        )),
        Action::Delete(id) => {
            app.ferry.delete_export(&id).await.map_err(api_error)?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "deleted": id })))
        }
        Action::Download(id) => {
            let path = app.ferry.export_zip(&id).await.map_err(api_error)?;
            let bytes = tokio::fs::read(&path).await.map_err(ApiError::internal)?;
            Ok(zip_attachment(&format!("ferry-export-{id}.zip"), bytes))
        }
    }
}
