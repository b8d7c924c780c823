//! `/v1/variables`: project variables, `${name}` in every workflow of the home (a trigger's
//! `variables` override them).

use http::{Method, StatusCode};
use serde::Deserialize;

use super::{BodyLimit, Matched};
use crate::server::Server;
use crate::server::http::{ApiError, Request, Response, json};
use crate::store::Permission::{ManageWorkflows, ViewJobs};

pub enum Action {
    List,
    Get(String),
    Put(String),
    Delete(String),
}

pub(super) fn route(method: &Method, s: &[&str]) -> Option<Matched<Action>> {
    Some(match (method, s) {
        (&Method::GET, ["v1", "variables"]) => (
            "GET /v1/variables",
            Some(ViewJobs),
            BodyLimit::Api,
            Action::List,
        ),
        (&Method::GET, ["v1", "variables", name]) => (
            "GET /v1/variables/{name}",
            Some(ViewJobs),
            BodyLimit::Api,
            Action::Get((*name).to_owned()),
        ),
        (&Method::PUT, ["v1", "variables", name]) => (
            "PUT /v1/variables/{name}",
            Some(ManageWorkflows),
            BodyLimit::Api,
            Action::Put((*name).to_owned()),
        ),
        (&Method::DELETE, ["v1", "variables", name]) => (
            "DELETE /v1/variables/{name}",
            Some(ManageWorkflows),
            BodyLimit::Api,
            Action::Delete((*name).to_owned()),
        ),
        _ => return None,
    })
}

/// `PUT /v1/variables/{name}`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PutVariable {
    value: Option<String>,
}

pub(super) async fn handle(
    app: &Server,
    action: Action,
    request: &Request,
) -> Result<Response, ApiError> {
    match action {
        Action::List => {
            let items = app.ferry.variables().await?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "items": items })))
        }
        Action::Get(name) => Ok(json(StatusCode::OK, &app.ferry.variable(&name).await?)),
        Action::Put(name) => {
            let body: PutVariable = request.json()?;
            let value = body.value.ok_or_else(|| {
                ApiError::bad_request("invalid_variable", "the body must give `value` (a string)")
            })?;
            let replaced = app.ferry.set_variable(&name, &value).await?;
            let status = if replaced {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok(json(status, &app.ferry.variable(&name).await?))
        }
        Action::Delete(name) => {
            app.ferry.delete_variable(&name).await?;
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({ "deleted": name }),
            ))
        }
    }
}
