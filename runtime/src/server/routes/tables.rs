//! The home's Delta tables over HTTP: what each is, from its log.

use http::{Method, StatusCode};

use super::{BodyLimit, Matched};
use crate::server::Server;
use crate::server::http::{ApiError, Response, json};
use crate::store::Permission::ViewJobs;

pub enum Action {
    List,
    Get(String),
}

pub(super) fn route(method: &Method, s: &[&str]) -> Option<Matched<Action>> {
    Some(match (method, s) {
        (&Method::GET, ["v1", "tables"]) => (
            "GET /v1/tables",
            Some(ViewJobs),
            BodyLimit::Api,
            Action::List,
        ),
        (&Method::GET, ["v1", "tables", name]) => (
            "GET /v1/tables/{name}",
            Some(ViewJobs),
            BodyLimit::Api,
            Action::Get((*name).to_owned()),
        ),
        _ => return None,
    })
}

pub(super) async fn handle(app: &Server, action: Action) -> Result<Response, ApiError> {
    match action {
        Action::List => {
            let items = app.ferry.tables().await?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "items": items })))
        }
        Action::Get(name) => {
            if crate::paths::check(crate::paths::NameKind::Table, &name).is_err() {
                return Err(ApiError::bad_request(
                    "invalid_name",
                    format!("`{name}` is not a table name"),
                ));
            }
            match app.ferry.table(&name).await {
                Ok(info) => Ok(json(StatusCode::OK, &info)),
                Err(crate::engine::EngineError::NoSuchObject(m)) => Err(ApiError::not_found(m)),
                Err(e) => Err(e.into()),
            }
        }
    }
}
