//! `/v1/secrets`: the home's secret store. A value goes in with `PUT`; nothing answers it back,
//! only whether it is set and when.

use http::{Method, StatusCode};
use serde::Deserialize;

use super::{BodyLimit, Matched};
use crate::app::SecretError;
use crate::credentials::Secret;
use crate::server::Server;
use crate::server::http::{ApiError, Request, Response, json};
use crate::store::Permission::ManageSecrets;

pub enum Action {
    List,
    Get(String, String),
    Put(String, String),
    Delete(String, String),
}

pub(super) fn route(method: &Method, s: &[&str]) -> Option<Matched<Action>> {
    let (label, action) = match (method, s) {
        (&Method::GET, ["v1", "secrets"]) => ("GET /v1/secrets", Action::List),
        (m, ["v1", "secrets", c, f]) => {
            let (c, f) = ((*c).to_owned(), (*f).to_owned());
            match *m {
                Method::GET => ("GET /v1/secrets/{credential}/{field}", Action::Get(c, f)),
                Method::PUT => ("PUT /v1/secrets/{credential}/{field}", Action::Put(c, f)),
                Method::DELETE => (
                    "DELETE /v1/secrets/{credential}/{field}",
                    Action::Delete(c, f),
                ),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some((label, Some(ManageSecrets), BodyLimit::Api, action))
}

/// `PUT /v1/secrets/{credential}/{field}`. Its `Debug` (in any error path) hides the value.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PutSecret {
    value: Option<String>,
}

fn api_error(e: SecretError) -> ApiError {
    match e {
        SecretError::Store(s) => s.into(),
        e if e.is_input() => ApiError::bad_request("invalid_secret", e.to_string()),
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
            let items = app.ferry.secrets().await.map_err(api_error)?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "items": items })))
        }
        Action::Get(credential, field) => {
            let entry = app
                .ferry
                .secret(&credential, &field)
                .await
                .map_err(api_error)?;
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({
                    "credential": credential,
                    "field": field,
                    "set": entry.is_some(),
                    "updatedAt": entry.map(|e| e.updated_at),
                }),
            ))
        }
        Action::Put(credential, field) => {
            // The body is not echoed in errors: serde's message could quote the value.
            let body: PutSecret = request.json().map_err(|_| {
                ApiError::bad_request(
                    "malformed_json",
                    "the body must be JSON {\"value\": \"…\"} (a string)",
                )
            })?;
            let value = body.value.ok_or_else(|| {
                ApiError::bad_request("invalid_secret", "the body must give `value`")
            })?;
            let replaced = app
                .ferry
                .set_secret(&credential, &field, Secret::new(value))
                .await
                .map_err(api_error)?;
            let entry = app
                .ferry
                .secret(&credential, &field)
                .await
                .map_err(api_error)?;
            Ok(json(
                if replaced {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                },
                &serde_json::json!({
                    "credential": credential,
                    "field": field,
                    "set": true,
                    "updatedAt": entry.map(|e| e.updated_at),
                }),
            ))
        }
        Action::Delete(credential, field) => {
            app.ferry
                .delete_secret(&credential, &field)
                .await
                .map_err(api_error)?;
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({ "deleted": { "credential": credential, "field": field } }),
            ))
        }
    }
}
