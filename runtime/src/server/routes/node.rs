//! An API node's routes: packages pushed by the static deployer (`/v1/node/services`, admin
//! key) and the public endpoints of what it serves, gated by each service's own `auth`.

use http::{Method, StatusCode};

use super::packages::package_error;
use super::{BodyLimit, Matched};
use crate::server::Server;
use crate::server::http::{ApiError, Request, Response, json};
use crate::store::Permission::ManageDeployments;

pub enum Action {
    NodeDeploy(String),
    NodeList,
    NodeUndeploy(String),
    Predict(String, String),
    Lookup(String, String),
    Query(String, String),
    ServiceOpenApi(String),
}

pub(super) fn route(method: &Method, s: &[&str]) -> Option<Matched<Action>> {
    use Action::*;
    let o = |x: &str| x.to_owned();
    Some(match (method, s) {
        (&Method::PUT, ["v1", "node", "services", svc]) => (
            "PUT /v1/node/services/{service}",
            Some(ManageDeployments),
            BodyLimit::Package,
            NodeDeploy(o(svc)),
        ),
        (&Method::GET, ["v1", "node", "services"]) => (
            "GET /v1/node/services",
            Some(ManageDeployments),
            BodyLimit::Api,
            NodeList,
        ),
        (&Method::DELETE, ["v1", "node", "services", svc]) => (
            "DELETE /v1/node/services/{service}",
            Some(ManageDeployments),
            BodyLimit::Api,
            NodeUndeploy(o(svc)),
        ),
        (&Method::POST, ["public", "api", "v1", svc, ep, "predict"]) => (
            "POST /public/api/v1/{service}/{endpoint}/predict",
            None,
            BodyLimit::Api,
            Predict(o(svc), o(ep)),
        ),
        (&Method::POST, ["public", "api", "v1", svc, ep, "lookup"]) => (
            "POST /public/api/v1/{service}/{endpoint}/lookup",
            None,
            BodyLimit::Api,
            Lookup(o(svc), o(ep)),
        ),
        (&Method::POST, ["public", "api", "v1", svc, ep, "query"]) => (
            "POST /public/api/v1/{service}/{endpoint}/query",
            None,
            BodyLimit::Api,
            Query(o(svc), o(ep)),
        ),
        (&Method::GET, ["public", "api", "v1", svc, "openapi.json"]) => (
            "GET /public/api/v1/{service}/openapi.json",
            None,
            BodyLimit::Api,
            ServiceOpenApi(o(svc)),
        ),
        _ => return None,
    })
}

pub(super) async fn handle(
    app: &Server,
    action: Action,
    request: &Request,
) -> Result<Response, ApiError> {
    match action {
        Action::NodeDeploy(service) => {
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
                .deploy(app.ferry.plugin_host(), &app.node_dir(), verified)
                .await?;
            app.keep_deployed(&service, &request.body)?;
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({ "service": service, "version": active.manifest.version }),
            ))
        }
        Action::NodeList => Ok(json(
            StatusCode::OK,
            &serde_json::json!({ "items": app.node.list() }),
        )),
        Action::NodeUndeploy(service) => {
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
        Action::Predict(service, endpoint) => {
            admit(app, &service, request).await?;
            let answer = app
                .node
                .predict(app.ferry.plugin_host(), &service, &endpoint, &request.body)
                .await?;
            Ok(json(StatusCode::OK, &answer))
        }
        Action::Lookup(service, endpoint) => {
            admit(app, &service, request).await?;
            Ok(json(
                StatusCode::OK,
                &app.node.lookup(&service, &endpoint, &request.body)?,
            ))
        }
        Action::Query(service, endpoint) => {
            admit(app, &service, request).await?;
            let answer = app.node.query(&service, &endpoint, &request.body).await?;
            Ok(json(StatusCode::OK, &answer))
        }
        Action::ServiceOpenApi(service) => Ok(json(StatusCode::OK, &app.node.openapi(&service)?)),
    }
}

/// The service's own rule for its public endpoints (public, API keys, OAuth2).
async fn admit(app: &Server, service: &str, request: &Request) -> Result<(), ApiError> {
    let (auth, oauth2) = app.node.auth(service)?;
    app.gate
        .admit(&app.ferry, service, auth, oauth2.as_ref(), request)
        .await
}
