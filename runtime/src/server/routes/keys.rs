//! API keys over HTTP: the same as `ferry keys`.

use http::{Method, StatusCode};
use serde::Deserialize;

use super::{BodyLimit, Matched};
use crate::server::Server;
use crate::server::http::{ApiError, Request, Response, json};
use crate::store::Permission::{self, ManageKeys};

pub enum Action {
    List,
    Create,
    Revoke(String),
}

pub(super) fn route(method: &Method, s: &[&str]) -> Option<Matched<Action>> {
    let (label, action) = match (method, s) {
        (&Method::GET, ["v1", "keys"]) => ("GET /v1/keys", Action::List),
        (&Method::POST, ["v1", "keys"]) => ("POST /v1/keys", Action::Create),
        (&Method::DELETE, ["v1", "keys", n]) => {
            ("DELETE /v1/keys/{name}", Action::Revoke(n.to_string()))
        }
        _ => return None,
    };
    Some((label, Some(ManageKeys), BodyLimit::Api, action))
}

/// `POST /v1/keys`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
    permissions: Vec<Permission>,
    #[serde(default)]
    services: Vec<String>,
}

pub(super) async fn handle(
    app: &Server,
    action: Action,
    request: &Request,
) -> Result<Response, ApiError> {
    match action {
        Action::List => Ok(json(
            StatusCode::OK,
            &serde_json::json!({ "items": app.ferry.keys().await? }),
        )),
        Action::Create => {
            let new: NewKey = request.json()?;
            if new.name.is_empty() {
                return Err(ApiError::bad_request("invalid_key", "`name` is required"));
            }
            let (key, secret) = app
                .ferry
                .create_key(&new.name, &new.permissions, &new.services)
                .await?;
            let mut value = serde_json::to_value(key).map_err(ApiError::internal)?;
            value["key"] = secret.into();
            Ok(json(StatusCode::CREATED, &value))
        }
        Action::Revoke(name) => Ok(json(StatusCode::OK, &app.ferry.revoke_key(&name).await?)),
    }
}
