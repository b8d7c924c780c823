//! The home's Delta tables over HTTP: what each is, from its log; compaction and vacuum.

use http::{Method, StatusCode};
use serde::Deserialize;

use super::{BodyLimit, Matched};
use crate::server::Server;
use crate::server::http::{ApiError, Request, Response, json};
use crate::store::Permission::{ManageIngestionJobs, ViewJobs};
use crate::units::{ByteSize, HumanDuration};

pub enum Action {
    List,
    Get(String),
    Compact(String),
    Vacuum(String),
    Query,
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
        (&Method::POST, ["v1", "tables", name, "compact"]) => (
            "POST /v1/tables/{name}/compact",
            Some(ManageIngestionJobs),
            BodyLimit::Api,
            Action::Compact((*name).to_owned()),
        ),
        (&Method::POST, ["v1", "tables", name, "vacuum"]) => (
            "POST /v1/tables/{name}/vacuum",
            Some(ManageIngestionJobs),
            BodyLimit::Api,
            Action::Vacuum((*name).to_owned()),
        ),
        (&Method::POST, ["v1", "query"]) => (
            "POST /v1/query",
            Some(ViewJobs),
            BodyLimit::Api,
            Action::Query,
        ),
        _ => return None,
    })
}

/// `POST /v1/query`: one read-only statement over the tables, within the server's limits
/// (`maxRows` may lower the row limit, never raise it).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Query {
    sql: String,
    max_rows: Option<usize>,
}

/// `POST /v1/tables/{name}/compact`; every field optional.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Compact {
    target_file_size: Option<ByteSize>,
}

/// `POST /v1/tables/{name}/vacuum`; every field optional.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Vacuum {
    retain: Option<HumanDuration>,
    #[serde(default)]
    dry_run: bool,
}

pub(super) async fn handle(
    app: &Server,
    action: Action,
    request: &Request,
) -> Result<Response, ApiError> {
    let not_found = |e: crate::engine::EngineError| match e {
        crate::engine::EngineError::NoSuchObject(m) => ApiError::not_found(m),
        e => e.into(),
    };
    match action {
        Action::Query => {
            let body: Query = request.json()?;
            if body.sql.trim().is_empty() {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    "the body must be {\"sql\": \"SELECT …\"}",
                ));
            }
            let defaults = crate::table::QueryLimits::default();
            let limits = crate::table::QueryLimits {
                max_rows: body
                    .max_rows
                    .unwrap_or(defaults.max_rows)
                    .min(defaults.max_rows),
                ..defaults
            };
            match app.ferry.query(&body.sql, &limits).await {
                Ok(answer) => Ok(json(StatusCode::OK, &answer.to_json())),
                Err(e) if e.is_input() => {
                    let code = match e {
                        crate::table::QueryError::NotAQuery(_) => "not_a_query",
                        crate::table::QueryError::TooManyRows { .. }
                        | crate::table::QueryError::Timeout { .. }
                        | crate::table::QueryError::Memory { .. } => "query_limit",
                        _ => "invalid_query",
                    };
                    Err(ApiError::bad_request(code, e.to_string()))
                }
                Err(e) => Err(ApiError::internal(e)),
            }
        }
        Action::List => {
            let items = app.ferry.tables().await?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "items": items })))
        }
        Action::Get(name) => {
            checked(&name)?;
            let info = app.ferry.table(&name).await.map_err(not_found)?;
            Ok(json(StatusCode::OK, &info))
        }
        Action::Compact(name) => {
            checked(&name)?;
            let body: Compact = request.json()?;
            let target = body.target_file_size.map(|s| s.0);
            if target == Some(0) {
                return Err(ApiError::bad_request(
                    "invalid_request",
                    "`targetFileSize` must be at least 1 byte",
                ));
            }
            let report = app
                .ferry
                .compact_table(&name, target)
                .await
                .map_err(not_found)?;
            Ok(json(StatusCode::OK, &report))
        }
        Action::Vacuum(name) => {
            checked(&name)?;
            let body: Vacuum = request.json()?;
            let report = app
                .ferry
                .vacuum_table(&name, body.retain.map(|d| d.0), body.dry_run)
                .await
                .map_err(not_found)?;
            Ok(json(StatusCode::OK, &report))
        }
    }
}

fn checked(name: &str) -> Result<(), ApiError> {
    crate::paths::check(crate::paths::NameKind::Table, name)
        .map(|_| ())
        .map_err(|_| ApiError::bad_request("invalid_name", format!("`{name}` is not a table name")))
}
