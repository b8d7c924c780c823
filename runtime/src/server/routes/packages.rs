//! The service package registry over HTTP: services and versions, manifests, zips.

use http::{Method, StatusCode};

use super::{BodyLimit, Matched};
use crate::server::Server;
use crate::server::http::{ApiError, Request, Response, json, zip_attachment};
use crate::store::Permission::{ManageWorkflows, ViewJobs};

pub enum Action {
    ListServices,
    ListPackages(String),
    ImportPackage(String),
    GetPackage(String, String),
    DeletePackage(String, String),
    DownloadPackage(String, String),
}

pub(super) fn route(method: &Method, s: &[&str]) -> Option<Matched<Action>> {
    use Action::*;
    let o = |x: &str| x.to_owned();
    Some(match (method, s) {
        (&Method::GET, ["v1", "services"]) => (
            "GET /v1/services",
            Some(ViewJobs),
            BodyLimit::Api,
            ListServices,
        ),
        (&Method::GET, ["v1", "services", svc, "packages"]) => (
            "GET /v1/services/{service}/packages",
            Some(ViewJobs),
            BodyLimit::Api,
            ListPackages(o(svc)),
        ),
        (&Method::POST, ["v1", "services", svc, "packages"]) => (
            "POST /v1/services/{service}/packages",
            Some(ManageWorkflows),
            BodyLimit::Package,
            ImportPackage(o(svc)),
        ),
        (&Method::GET, ["v1", "services", svc, "packages", v]) => (
            "GET /v1/services/{service}/packages/{version}",
            Some(ViewJobs),
            BodyLimit::Api,
            GetPackage(o(svc), o(v)),
        ),
        (&Method::DELETE, ["v1", "services", svc, "packages", v]) => (
            "DELETE /v1/services/{service}/packages/{version}",
            Some(ManageWorkflows),
            BodyLimit::Api,
            DeletePackage(o(svc), o(v)),
        ),
        (&Method::GET, ["v1", "services", svc, "packages", v, "download"]) => (
            "GET /v1/services/{service}/packages/{version}/download",
            Some(ViewJobs),
            BodyLimit::Api,
            DownloadPackage(o(svc), o(v)),
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
        Action::ListServices => {
            let registry = app.ferry.packages();
            let items: Vec<_> = registry
                .services()
                .into_iter()
                .map(|s| serde_json::json!({ "service": s, "versions": registry.versions(&s) }))
                .collect();
            Ok(json(StatusCode::OK, &serde_json::json!({ "items": items })))
        }
        Action::ListPackages(service) => {
            let registry = app.ferry.packages();
            let items = registry
                .versions(&service)
                .iter()
                .map(|v| registry.info(&service, v))
                .collect::<Result<Vec<_>, _>>()
                .map_err(package_error)?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "items": items })))
        }
        Action::ImportPackage(service) => {
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
        Action::GetPackage(service, version) => {
            let verified = app
                .ferry
                .packages()
                .open(&service, &version)
                .map_err(package_error)?;
            Ok(json(StatusCode::OK, &verified.manifest))
        }
        Action::DeletePackage(service, version) => {
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
        Action::DownloadPackage(service, version) => {
            let bytes = app
                .ferry
                .packages()
                .bytes(&service, &version)
                .map_err(package_error)?;
            Ok(zip_attachment(&format!("{service}-{version}.zip"), bytes))
        }
    }
}

pub(super) fn package_error(e: crate::package::PackageError) -> ApiError {
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
