//! `/v1/imports`: project imports (as UbiOps' imports API). `POST` takes the zip (raw or
//! multipart) or JSON naming an `importLink` or `exportId`, answers 201 `pending`, and scans
//! in the background; `PATCH` is the confirmation, processed before it answers.

use http::{Method, StatusCode};

use super::{BodyLimit, Matched};
use crate::app::ImportSource;
use crate::credentials::Secret;
use crate::imports::{Confirmation, Given, ImportError, LinkPolicy};
use crate::server::Server;
use crate::server::http::{ApiError, Request, Response, json, zip_attachment};
use crate::store::ImportStatus;
use crate::store::Permission::{ManageImports, ManageSecrets};

pub enum Action {
    List,
    Create,
    Get(String),
    Confirm(String),
    Delete(String),
    Download(String),
}

pub(super) fn route(method: &Method, s: &[&str]) -> Option<Matched<Action>> {
    let (label, limit, action) = match (method, s) {
        (&Method::GET, ["v1", "imports"]) => ("GET /v1/imports", BodyLimit::Api, Action::List),
        (&Method::POST, ["v1", "imports"]) => {
            ("POST /v1/imports", BodyLimit::Package, Action::Create)
        }
        (&Method::GET, ["v1", "imports", id]) => (
            "GET /v1/imports/{id}",
            BodyLimit::Api,
            Action::Get((*id).to_owned()),
        ),
        (&Method::PATCH, ["v1", "imports", id]) => (
            "PATCH /v1/imports/{id}",
            BodyLimit::Api,
            Action::Confirm((*id).to_owned()),
        ),
        (&Method::DELETE, ["v1", "imports", id]) => (
            "DELETE /v1/imports/{id}",
            BodyLimit::Api,
            Action::Delete((*id).to_owned()),
        ),
        (&Method::GET, ["v1", "imports", id, "download"]) => (
            "GET /v1/imports/{id}/download",
            BodyLimit::Api,
            Action::Download((*id).to_owned()),
        ),
        _ => return None,
    };
    Some((label, Some(ManageImports), limit, action))
}

/// The link policy of this server: its `import_hosts`, the upload limit, its timeout.
pub fn link_policy(server: &Server) -> Result<LinkPolicy, ImportError> {
    LinkPolicy::new(
        &server.config.import_hosts,
        server.config.max_upload.0,
        server.config.import_timeout,
    )
}

fn malformed(why: impl Into<String>) -> ApiError {
    ApiError::bad_request("malformed_json", why.into())
}

/// A confirmation's choices and its never-recorded values from a JSON object: `objects`,
/// `overrides`, `onConflict`, `enableDeployments`, plus `passphrase` and `secrets`
/// (`{"credential.field": "value"}`). Errors never quote the body: it holds secret values.
fn confirmation(
    mut body: serde_json::Map<String, serde_json::Value>,
) -> Result<(Confirmation, Given), ApiError> {
    let mut given = Given::default();
    match body.remove("passphrase") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::String(p)) => given.passphrase = Some(Secret::new(p)),
        Some(_) => return Err(malformed("`passphrase` must be a string")),
    }
    match body.remove("secrets") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Object(values)) => {
            for (name, value) in values {
                let serde_json::Value::String(value) = value else {
                    return Err(malformed(format!(
                        "secret `{name}`: its value must be a string"
                    )));
                };
                given.secrets.insert(name, Secret::new(value));
            }
        }
        Some(_) => {
            return Err(malformed(
                "`secrets` must be an object of strings by credential.field",
            ));
        }
    }
    let confirmation = serde_json::from_value(body.into()).map_err(|e| {
        malformed(format!(
            "the confirmation is {{objects: [{{kind, name, onConflict?, enabled?}}], overrides, onConflict: skip|replace|rename, enableDeployments, passphrase, secrets}}: {e}"
        ))
    })?;
    Ok((confirmation, given))
}

fn object(bytes: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    if bytes.is_empty() {
        return Ok(serde_json::Map::new());
    }
    serde_json::from_slice(bytes).map_err(|_| malformed("the body must be a JSON object"))
}

/// Secret values or a passphrase in a request need ManageSecrets besides ManageImports.
fn may_write_secrets(request: &Request, given: &Given) -> Result<(), ApiError> {
    let allowed = request
        .caller
        .as_ref()
        .is_none_or(|k| k.permissions.contains(&ManageSecrets));
    if (given.passphrase.is_some() || !given.secrets.is_empty()) && !allowed {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "importing secret values (secrets, passphrase) needs the ManageSecrets permission too",
        ));
    }
    Ok(())
}

pub(super) fn api_error(e: ImportError) -> ApiError {
    match e {
        ImportError::Store(crate::store::StoreError::Conflict(m)) => {
            ApiError::new(StatusCode::CONFLICT, "conflict", m)
        }
        ImportError::Store(s) => s.into(),
        ImportError::State { .. } => {
            ApiError::new(StatusCode::CONFLICT, "wrong_status", e.to_string())
        }
        ImportError::Export { .. } => ApiError::bad_request("invalid_export", e.to_string()),
        ImportError::TooLarge { .. } => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", e.to_string())
        }
        e if e.is_input() => ApiError::bad_request("invalid_import", e.to_string()),
        e => ApiError::internal(e),
    }
}

/// The zip of a multipart body: its first part with a file name (or named `file`).
async fn multipart_zip(request: &Request, content_type: &str) -> Result<Vec<u8>, ApiError> {
    let bad = |e: multer::Error| ApiError::bad_request("invalid_multipart", e.to_string());
    let boundary = multer::parse_boundary(content_type).map_err(bad)?;
    let body = request.body.clone();
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut parts = multer::Multipart::new(stream, boundary);
    while let Some(field) = parts.next_field().await.map_err(bad)? {
        if field.file_name().is_some() || field.name() == Some("file") {
            return Ok(field.bytes().await.map_err(bad)?.to_vec());
        }
    }
    Err(ApiError::bad_request(
        "invalid_multipart",
        "the multipart body has no file part (send the zip as `file`)",
    ))
}

pub(super) async fn handle(
    app: &Server,
    action: Action,
    request: &Request,
) -> Result<Response, ApiError> {
    let workflows = app.registry.dir().to_owned();
    match action {
        Action::List => {
            let items = app
                .ferry
                .imports(super::status_filter::<ImportStatus>(request)?)
                .await
                .map_err(api_error)?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "items": items })))
        }
        Action::Create => {
            let content_type = request
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_ascii_lowercase();
            let skip_param = request.param("skipConfirmation") == Some("true");
            let policy = link_policy(app).map_err(api_error)?;
            let mut link = None;
            let (record, skip, choices) = if content_type.starts_with("application/json") {
                let mut body = object(&request.body)?;
                let take_string =
                    |body: &mut serde_json::Map<_, _>, key: &str| match body.remove(key) {
                        None | Some(serde_json::Value::Null) => Ok(None),
                        Some(serde_json::Value::String(s)) => Ok(Some(s)),
                        Some(_) => Err(malformed(format!("`{key}` must be a string"))),
                    };
                let import_link = take_string(&mut body, "importLink")?;
                let export_id = take_string(&mut body, "exportId")?;
                let skip = match body.remove("skipConfirmation") {
                    None | Some(serde_json::Value::Null) => skip_param,
                    Some(serde_json::Value::Bool(b)) => b,
                    Some(_) => return Err(malformed("`skipConfirmation` must be true or false")),
                };
                let (confirmation, given) = confirmation(body)?;
                may_write_secrets(request, &given)?;
                let source = match (&import_link, &export_id) {
                    (Some(l), None) => ImportSource::Link(l, &policy),
                    (None, Some(e)) => ImportSource::Export(e),
                    _ => {
                        return Err(malformed(
                            "give one of `importLink` or `exportId` (or send the zip itself as application/zip or multipart)",
                        ));
                    }
                };
                let record = app.ferry.create_import(source).await.map_err(api_error)?;
                link = import_link;
                (record, skip, Some((confirmation, given)))
            } else {
                let zip = if content_type.starts_with("multipart/form-data") {
                    multipart_zip(request, &content_type).await?
                } else {
                    request.body.to_vec()
                };
                if zip.is_empty() {
                    return Err(ApiError::bad_request(
                        "empty_body",
                        "send the export zip (application/zip or multipart), or JSON with importLink or exportId",
                    ));
                }
                let record = app
                    .ferry
                    .create_import(ImportSource::Bytes(&zip))
                    .await
                    .map_err(api_error)?;
                (record, skip_param, None)
            };
            let (confirmation, given) = choices.unwrap_or_default();
            app.executor.run_import(
                record.id.clone(),
                workflows,
                link.map(|l| (l, policy)),
                skip.then_some((confirmation, given)),
            );
            Ok(json(StatusCode::CREATED, &record))
        }
        Action::Get(id) => Ok(json(
            StatusCode::OK,
            &app.ferry.import(&id).await.map_err(api_error)?,
        )),
        Action::Confirm(id) => {
            let (confirmation, given) = confirmation(object(&request.body)?)?;
            may_write_secrets(request, &given)?;
            let record = app
                .ferry
                .confirm_import(&id, &workflows, &confirmation, given)
                .await
                .map_err(api_error)?;
            Ok(json(StatusCode::OK, &record))
        }
        Action::Delete(id) => {
            app.ferry.delete_import(&id).await.map_err(api_error)?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "deleted": id })))
        }
        Action::Download(id) => {
            let path = app.ferry.import_zip(&id).await.map_err(api_error)?;
            let bytes = tokio::fs::read(&path).await.map_err(ApiError::internal)?;
            Ok(zip_attachment(&format!("ferry-import-{id}.zip"), bytes))
        }
    }
}
