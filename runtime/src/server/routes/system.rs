//! Liveness, readiness, Prometheus metrics and the API's OpenAPI document: open to all.

use http::{Method, StatusCode};

use super::{BodyLimit, Matched};
use crate::server::Server;
use crate::server::http::{ApiError, Response, json, text};

pub enum Action {
    Healthz,
    Readyz,
    Metrics,
    OpenApi,
}

pub(super) fn route(method: &Method, s: &[&str]) -> Option<Matched<Action>> {
    use Action::*;
    let (label, action) = match (method, s) {
        (&Method::GET, ["healthz"]) => ("GET /healthz", Healthz),
        (&Method::GET, ["readyz"]) => ("GET /readyz", Readyz),
        (&Method::GET, ["metrics"]) => ("GET /metrics", Metrics),
        (&Method::GET, ["v1", "openapi.json"]) => ("GET /v1/openapi.json", OpenApi),
        _ => return None,
    };
    Some((label, None, BodyLimit::Api, action))
}

pub(super) async fn handle(app: &Server, action: Action) -> Result<Response, ApiError> {
    match action {
        Action::Healthz => Ok(json(StatusCode::OK, &serde_json::json!({ "status": "ok" }))),
        Action::Readyz => match app.ferry.totals().await {
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
        Action::Metrics => {
            let (counts, rows) = app.ferry.totals().await?;
            let body = app
                .metrics
                .render(&counts, rows, app.ferry.plugin_host().instantiations());
            Ok(text(StatusCode::OK, "text/plain; version=0.0.4", body))
        }
        Action::OpenApi => Ok(json(StatusCode::OK, &crate::server::openapi::document())),
    }
}
