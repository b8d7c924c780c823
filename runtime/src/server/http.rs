//! The request and response shapes every handler shares: a read request (path segments,
//! query pairs, body bytes), JSON answers, and errors as `{"error": {"code", "message"}}`.

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::Full;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub type Response = http::Response<Full<Bytes>>;

/// A request with its body already read (within the size limit).
pub struct Request {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The key the request was authenticated with (none on open routes), for handlers whose
    /// answer depends on more than the route's permission.
    pub caller: Option<crate::store::ApiKey>,
}

impl Request {
    /// Path segments after the leading `/`, percent-decoded.
    pub fn segments(&self) -> Vec<String> {
        self.path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            })
            .collect()
    }

    pub fn params(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params(name).into_iter().next()
    }

    /// Every value of `name`, parsed; a bad one is a 400 naming the parameter.
    pub fn parsed<T: std::str::FromStr>(&self, name: &str) -> Result<Vec<T>, ApiError>
    where
        T::Err: std::fmt::Display,
    {
        self.params(name)
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(|v| {
                v.parse().map_err(|e| {
                    ApiError::bad_request("invalid_parameter", format!("parameter `{name}`: {e}"))
                })
            })
            .collect()
    }

    /// The body as JSON of type `T` (unknown fields refused by `T`), or an empty `T` default
    /// when the body is empty.
    pub fn json<T: DeserializeOwned + Default>(&self) -> Result<T, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(T::default());
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            ApiError::bad_request(
                "malformed_json",
                format!(
                    "request body: {} (line {}, column {})",
                    e.to_string().split(" at line").next().unwrap_or_default(),
                    e.line(),
                    e.column()
                ),
            )
        })
    }
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            message.to_string(),
        )
    }

    pub fn response(&self) -> Response {
        json(
            self.status,
            &serde_json::json!({ "error": { "code": self.code, "message": self.message } }),
        )
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match &e {
            StoreError::NotFound(_) | StoreError::Missing(_) => ApiError::not_found(e.to_string()),
            StoreError::InvalidName(_) => ApiError::bad_request("invalid_name", e.to_string()),
            StoreError::Invalid(_) => ApiError::bad_request("invalid_value", e.to_string()),
            StoreError::Terminal { .. } => {
                ApiError::new(StatusCode::CONFLICT, "job_finished", e.to_string())
            }
            StoreError::BadCursor => ApiError::bad_request("invalid_cursor", e.to_string()),
            StoreError::Leased { .. } => ApiError::new(StatusCode::CONFLICT, "busy", e.to_string()),
            StoreError::Conflict(_) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            _ => ApiError::internal(e),
        }
    }
}

impl From<crate::engine::EngineError> for ApiError {
    fn from(e: crate::engine::EngineError) -> Self {
        use crate::engine::EngineError;
        match e {
            EngineError::Store(s) => s.into(),
            e if e.is_config() => ApiError::bad_request("invalid_workflow", e.to_string()),
            EngineError::NoSuchObject(m) => ApiError::bad_request("no_such_object", m),
            e @ EngineError::TableBusy { .. } => {
                ApiError::new(StatusCode::CONFLICT, "busy", e.to_string())
            }
            e @ EngineError::Table(crate::table::TableError::Conflict { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            e => ApiError::internal(e),
        }
    }
}

pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response")
}

pub fn text(status: StatusCode, content_type: &str, body: String) -> Response {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response")
}

/// A zip to download, under `filename` (packages, exports).
pub fn zip_attachment(filename: &str, bytes: Vec<u8>) -> Response {
    http::Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/zip")
        .header(
            http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        )
        .body(Full::new(Bytes::from(bytes)))
        .expect("a valid response")
}

pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}
