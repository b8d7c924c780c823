//! `/v1/infras` and `/v1/deployments`: the deployer over HTTP (permission
//! `ManageDeployments`). Changing desired state answers at once; `update` and `delete` start
//! an operation in the background and answer 202 with it, to be polled at
//! `/v1/operations/{id}` until it is DONE or FAILED.

use http::{Method, StatusCode};
use serde::Deserialize;

use super::{BodyLimit, Matched};
use crate::deploy::{DeployError, NewDeployment};
use crate::server::Server;
use crate::server::http::{ApiError, Request, Response, json};
use crate::store::{OperationRecord, Share};

/// A deployer route, matched.
pub enum Action {
    ListInfras,
    GetInfra(String),
    PutInfra(String),
    DeleteInfra(String),
    List,
    Create,
    Get(String),
    SetDesired(String),
    Status(String),
    Update(String),
    Delete(String),
    Operations(String),
    Operation(String),
}

/// The label (for metrics and the OpenAPI document) and action of a deployer path.
pub(super) fn route(method: &Method, segments: &[&str]) -> Option<Matched<Action>> {
    let (label, action) = table(method, segments)?;
    Some((
        label,
        Some(crate::store::Permission::ManageDeployments),
        BodyLimit::Api,
        action,
    ))
}

fn table(method: &Method, segments: &[&str]) -> Option<(&'static str, Action)> {
    use Action::*;
    let s = |x: &str| x.to_owned();
    Some(match (method, segments) {
        (&Method::GET, ["v1", "infras"]) => ("GET /v1/infras", ListInfras),
        (&Method::GET, ["v1", "infras", n]) => ("GET /v1/infras/{name}", GetInfra(s(n))),
        (&Method::PUT, ["v1", "infras", n]) => ("PUT /v1/infras/{name}", PutInfra(s(n))),
        (&Method::DELETE, ["v1", "infras", n]) => ("DELETE /v1/infras/{name}", DeleteInfra(s(n))),
        (&Method::GET, ["v1", "deployments"]) => ("GET /v1/deployments", List),
        (&Method::POST, ["v1", "deployments"]) => ("POST /v1/deployments", Create),
        (&Method::GET, ["v1", "deployments", d]) => ("GET /v1/deployments/{id}", Get(s(d))),
        (&Method::PUT, ["v1", "deployments", d]) => ("PUT /v1/deployments/{id}", SetDesired(s(d))),
        (&Method::DELETE, ["v1", "deployments", d]) => {
            ("DELETE /v1/deployments/{id}", Delete(s(d)))
        }
        (&Method::GET, ["v1", "deployments", d, "status"]) => {
            ("GET /v1/deployments/{id}/status", Status(s(d)))
        }
        (&Method::POST, ["v1", "deployments", d, "update"]) => {
            ("POST /v1/deployments/{id}/update", Update(s(d)))
        }
        (&Method::GET, ["v1", "deployments", d, "operations"]) => {
            ("GET /v1/deployments/{id}/operations", Operations(s(d)))
        }
        (&Method::GET, ["v1", "operations", o]) => ("GET /v1/operations/{id}", Operation(s(o))),
        _ => return None,
    })
}

impl From<DeployError> for ApiError {
    fn from(e: DeployError) -> Self {
        let status = match &e {
            DeployError::NotFound(_) | DeployError::UnknownInfra(_) => StatusCode::NOT_FOUND,
            DeployError::Package(crate::package::PackageError::NotFound { .. }) => {
                StatusCode::NOT_FOUND
            }
            DeployError::Invalid(_) | DeployError::Name(_) | DeployError::Package(_) => {
                StatusCode::BAD_REQUEST
            }
            DeployError::Conflict(_) => StatusCode::CONFLICT,
            DeployError::Forbidden(_) => StatusCode::FORBIDDEN,
            DeployError::Failed { .. } => StatusCode::BAD_GATEWAY,
            DeployError::Store(_) => return ApiError::internal(e),
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

/// `POST /v1/deployments`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateBody {
    id: String,
    service: String,
    infra: String,
    #[serde(flatten)]
    versions: VersionsBody,
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

/// One version (`"version": "v2"`) or a split (`"versions": [{"version", "percent"}]`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VersionsBody {
    version: Option<String>,
    versions: Option<Vec<Share>>,
}

impl VersionsBody {
    fn shares(self) -> Result<Option<Vec<Share>>, ApiError> {
        match (self.version, self.versions) {
            (Some(_), Some(_)) => Err(ApiError::bad_request(
                "invalid",
                "give `version` or `versions`, not both",
            )),
            (Some(version), None) => Ok(Some(vec![Share {
                version,
                percent: 100,
            }])),
            (None, versions) => Ok(versions),
        }
    }
}

/// `PUT /v1/deployments/{id}`: desired state, partly.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DesiredBody {
    enabled: Option<bool>,
    version: Option<String>,
    versions: Option<Vec<Share>>,
}

pub(super) async fn handle(
    app: &Server,
    action: Action,
    request: &Request,
) -> Result<Response, ApiError> {
    let ferry = &app.ferry;
    match action {
        Action::ListInfras => Ok(json(
            StatusCode::OK,
            &serde_json::json!({ "items": ferry.infras().await? }),
        )),
        Action::GetInfra(name) => Ok(json(StatusCode::OK, &ferry.infra(&name).await?)),
        Action::PutInfra(name) => {
            let body: serde_json::Value = request.json()?;
            let (record, existed) = ferry.put_infra(&name, &body).await?;
            let status = if existed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok(json(status, &record))
        }
        Action::DeleteInfra(name) => {
            ferry.delete_infra(&name).await?;
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({ "deleted": { "infra": name } }),
            ))
        }
        Action::List => {
            let items = ferry
                .deployments(request.param("service"), request.param("infra"))
                .await?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "items": items })))
        }
        Action::Create => {
            let body: CreateBody = request.json()?;
            let versions = body.versions.shares()?.ok_or_else(|| {
                ApiError::bad_request("invalid", "`version` or `versions` is required")
            })?;
            let d = ferry
                .create_deployment(NewDeployment {
                    id: body.id,
                    service: body.service,
                    infra: body.infra,
                    versions,
                    enabled: body.enabled,
                })
                .await?;
            Ok(json(StatusCode::CREATED, &d))
        }
        Action::Get(id) => Ok(json(StatusCode::OK, &ferry.deployment(&id).await?)),
        Action::SetDesired(id) => {
            let body: DesiredBody = request.json()?;
            let shares = VersionsBody {
                version: body.version,
                versions: body.versions,
            }
            .shares()?;
            if let Some(shares) = shares {
                ferry.set_versions(&id, shares).await?;
            }
            if let Some(enabled) = body.enabled {
                ferry.set_enabled(&id, enabled).await?;
            }
            Ok(json(StatusCode::OK, &ferry.deployment(&id).await?))
        }
        Action::Status(id) => Ok(json(StatusCode::OK, &ferry.observe(&id).await?)),
        Action::Update(id) => {
            let op = ferry.start_update(&id).await?;
            Ok(started(app, op))
        }
        Action::Delete(id) => {
            let disable_first = matches!(request.param("disableFirst"), Some("true" | "1"));
            let op = ferry.start_delete(&id, disable_first).await?;
            Ok(started(app, op))
        }
        Action::Operations(id) => Ok(json(
            StatusCode::OK,
            &serde_json::json!({ "items": ferry.operations(&id).await? }),
        )),
        Action::Operation(id) => match ferry.operation(&id).await? {
            Some(op) => Ok(json(StatusCode::OK, &op)),
            None => Err(ApiError::not_found(format!("no operation `{id}`"))),
        },
    }
}

/// Runs the operation in the background; answers 202 with it and where to poll.
fn started(app: &Server, op: OperationRecord) -> Response {
    app.executor.run_operation(op.clone());
    let mut response = json(StatusCode::ACCEPTED, &op);
    if let Ok(location) = http::HeaderValue::from_str(&format!("/v1/operations/{}", op.id)) {
        response
            .headers_mut()
            .insert(http::header::LOCATION, location);
    }
    response
}
