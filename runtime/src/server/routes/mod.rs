//! The HTTP API's routes, one file per resource: each says which paths it answers, with which
//! permission and body limit (the route's label names it in metrics and the OpenAPI
//! document), and handles them. Uploads are the one route whose body is streamed rather than
//! read first; the type of a matched route says which, so no handler can be handed the wrong
//! kind of body.

mod deployments;
mod exports;
mod imports;
mod jobs;
mod keys;
mod node;
mod packages;
mod secrets;
mod system;
mod tables;
mod variables;
mod workflows;

use http::{Method, StatusCode};

use super::Server;
use super::http::{ApiError, Request, Response};
use crate::store::Permission;

/// How much of a request body is read before the handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLimit {
    /// The API's limit (`max_body`).
    Api,
    /// A package zip: the upload limit (`max_upload`).
    Package,
}

/// What a matched route does with the request body.
pub enum Target {
    /// Streamed to disk as it arrives (`POST /v1/uploads`).
    Upload,
    /// Read whole (within the limit), then handled.
    Read { limit: BodyLimit, handler: Handler },
}

/// A matched route: its metric label, the permission it needs (none: open), its target.
pub struct Route {
    pub label: &'static str,
    pub permission: Option<Permission>,
    pub target: Target,
}

/// A read route's handler, by resource.
pub enum Handler {
    System(system::Action),
    Workflows(workflows::Action),
    Jobs(jobs::Action),
    Keys(keys::Action),
    Packages(packages::Action),
    Tables(tables::Action),
    Secrets(secrets::Action),
    Variables(variables::Action),
    Node(node::Action),
    Deployments(deployments::Action),
    Exports(exports::Action),
    Imports(imports::Action),
}

/// What one resource's route table gives for a path it knows.
type Matched<A> = (&'static str, Option<Permission>, BodyLimit, A);

/// Finds the route for a method and path, or the error for none (404, or 405 when the path
/// exists for another method). Job ids and other names are judged by the handlers, after
/// authentication: a caller without a key learns nothing about which ids exist.
pub fn route(method: &Method, segments: &[String]) -> Result<Route, ApiError> {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    if let Some(route) = lookup(method, &s) {
        return Ok(route);
    }
    let path = segments.join("/");
    let other = [Method::GET, Method::PUT, Method::POST, Method::DELETE]
        .iter()
        .any(|m| lookup(m, &s).is_some());
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

fn lookup(method: &Method, s: &[&str]) -> Option<Route> {
    if method == Method::POST && s == ["v1", "uploads"] {
        return Some(Route {
            label: "POST /v1/uploads",
            permission: Some(Permission::ManageIngestionJobs),
            target: Target::Upload,
        });
    }
    fn read<A>(m: Matched<A>, handler: impl FnOnce(A) -> Handler) -> Route {
        let (label, permission, limit, action) = m;
        Route {
            label,
            permission,
            target: Target::Read {
                limit,
                handler: handler(action),
            },
        }
    }
    system::route(method, s)
        .map(|m| read(m, Handler::System))
        .or_else(|| workflows::route(method, s).map(|m| read(m, Handler::Workflows)))
        .or_else(|| jobs::route(method, s).map(|m| read(m, Handler::Jobs)))
        .or_else(|| keys::route(method, s).map(|m| read(m, Handler::Keys)))
        .or_else(|| packages::route(method, s).map(|m| read(m, Handler::Packages)))
        .or_else(|| tables::route(method, s).map(|m| read(m, Handler::Tables)))
        .or_else(|| secrets::route(method, s).map(|m| read(m, Handler::Secrets)))
        .or_else(|| variables::route(method, s).map(|m| read(m, Handler::Variables)))
        .or_else(|| node::route(method, s).map(|m| read(m, Handler::Node)))
        .or_else(|| deployments::route(method, s).map(|m| read(m, Handler::Deployments)))
        .or_else(|| exports::route(method, s).map(|m| read(m, Handler::Exports)))
        .or_else(|| imports::route(method, s).map(|m| read(m, Handler::Imports)))
}

/// Runs a read route's handler (after authentication, with the body read).
pub async fn handle(
    server: &Server,
    handler: Handler,
    request: &Request,
) -> Result<Response, ApiError> {
    match handler {
        Handler::System(a) => system::handle(server, a).await,
        Handler::Workflows(a) => workflows::handle(server, a, request).await,
        Handler::Jobs(a) => jobs::handle(server, a, request).await,
        Handler::Keys(a) => keys::handle(server, a, request).await,
        Handler::Packages(a) => packages::handle(server, a, request).await,
        Handler::Tables(a) => tables::handle(server, a, request).await,
        Handler::Secrets(a) => secrets::handle(server, a, request).await,
        Handler::Variables(a) => variables::handle(server, a, request).await,
        Handler::Node(a) => node::handle(server, a, request).await,
        Handler::Deployments(a) => deployments::handle(server, a, request).await,
        Handler::Exports(a) => exports::handle(server, a, request).await,
        Handler::Imports(a) => imports::handle(server, a, request).await,
    }
}

/// `?status=` of a listing, parsed into the resource's status type (a 400 naming the
/// statuses there are when it is not one).
fn status_filter<T: std::str::FromStr<Err = String>>(
    request: &crate::server::http::Request,
) -> Result<Option<T>, crate::server::http::ApiError> {
    request
        .param("status")
        .map(|s| {
            s.parse().map_err(|e: String| {
                crate::server::http::ApiError::bad_request("invalid_status", e)
            })
        })
        .transpose()
}
