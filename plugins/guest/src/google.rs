//! Google Cloud's error shapes, shared by every plugin that talks to a Google API (GCS,
//! Vertex AI): the JSON error answer `{"error":{"code","message","status","errors":[…]}}`,
//! and the `google.rpc.Status` a failed long-running operation carries (`{"code": 8,
//! "message"}`), whose numeric code has a canonical name.
//!
//! Plugins turn them into their errors with the cloud's message verbatim and the cloud's own
//! code (`NOT_FOUND`, `RESOURCE_EXHAUSTED`), so that a user can search for it.

use serde::Deserialize;

use crate::http::{Response, excerpt};
use crate::types::Error;

/// A JSON API error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status as the body states it (0 when absent).
    pub code: i64,
    /// The canonical status name (`NOT_FOUND`), when the API sends one: Vertex AI does, the
    /// GCS JSON API does not.
    pub status: Option<String>,
    /// The first `errors[].reason` (`notFound`), which the GCS JSON API sends instead.
    pub reason: Option<String>,
    pub message: String,
}

#[derive(Deserialize)]
struct RawError {
    error: RawBody,
}

#[derive(Deserialize)]
struct RawBody {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    errors: Vec<RawItem>,
}

#[derive(Deserialize)]
struct RawItem {
    #[serde(default)]
    reason: Option<String>,
}

impl ApiError {
    /// The error of an answer's body, if it has Google's shape.
    pub fn parse(body: &[u8]) -> Option<ApiError> {
        let raw: RawError = serde_json::from_slice(body).ok()?;
        Some(ApiError {
            code: raw.error.code,
            status: raw.error.status.filter(|s| !s.is_empty()),
            reason: raw.error.errors.into_iter().find_map(|e| e.reason),
            message: raw.error.message,
        })
    }

    /// The most specific name the answer gives: the status, else the reason.
    pub fn name(&self) -> Option<&str> {
        self.status.as_deref().or(self.reason.as_deref())
    }
}

/// A Google API's error answer as a plugin error: `what` failed, `service` answered
/// `status NAME: message`, with the cloud's message verbatim. The code is the cloud's own
/// status or reason name (`NOT_FOUND`, `notFound`), as sources keep S3's `NoSuchKey`, or
/// `http_{status}` when the body is not Google's shape (a proxy's page, or an emulator's
/// unknown route).
pub fn answer_error(service: &str, what: &str, response: &Response) -> Error {
    let (code, detail) = match ApiError::parse(&response.body) {
        Some(e) => match e.name() {
            Some(name) => (name.to_owned(), format!("{name}: {}", e.message)),
            None => (format!("http_{}", response.status), e.message),
        },
        None => (
            format!("http_{}", response.status),
            excerpt(response.text().trim()),
        ),
    };
    crate::error(
        &code,
        format!("{what}: {service} answered {} {detail}", response.status),
    )
}

/// The canonical name of a `google.rpc.Code` (as in a failed operation's `error.code`).
pub fn rpc_code_name(code: i64) -> Option<&'static str> {
    Some(match code {
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vertex_and_gcs_errors() {
        let vertex = ApiError::parse(br#"{"error": {"code": 404, "message": "Resource not found: projects/p/locations/l/endpoints/4", "errors": [{"domain": "global", "message": "x", "reason": "notFound"}], "status": "NOT_FOUND"}}"#).unwrap();
        assert_eq!(vertex.code, 404);
        assert_eq!(vertex.name(), Some("NOT_FOUND"));
        assert_eq!(
            vertex.message,
            "Resource not found: projects/p/locations/l/endpoints/4"
        );
        let gcs = ApiError::parse(br#"{"error":{"code":404,"message":"No such object: b/k","errors":[{"reason":"notFound","message":"No such object"}]}}"#).unwrap();
        assert_eq!(gcs.name(), Some("notFound"));
        let bare =
            ApiError::parse(br#"{"error": {"code": 404, "message": "drongo: no matching route"}}"#)
                .unwrap();
        assert_eq!(
            (bare.name(), bare.message.as_str()),
            (None, "drongo: no matching route")
        );
        assert!(ApiError::parse(b"Not Found").is_none());
    }

    #[test]
    fn answers_become_errors_with_the_clouds_message() {
        let answer = |status, body: &str| Response {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        };
        let e = answer_error(
            "Vertex AI",
            "deploying v2",
            &answer(
                404,
                r#"{"error": {"code": 404, "message": "Resource not found: e/4", "status": "NOT_FOUND"}}"#,
            ),
        );
        assert_eq!(e.code, "NOT_FOUND");
        assert_eq!(
            e.message,
            "deploying v2: Vertex AI answered 404 NOT_FOUND: Resource not found: e/4"
        );
        let e = answer_error(
            "Vertex AI",
            "x",
            &answer(
                404,
                r#"{"error": {"code": 404, "message": "drongo: no matching route"}}"#,
            ),
        );
        assert_eq!(e.code, "http_404");
        assert!(
            e.message
                .ends_with("answered 404 drongo: no matching route")
        );
        let e = answer_error("GCS", "x", &answer(502, "<html>bad gateway</html>\n"));
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("http_502", "x: GCS answered 502 <html>bad gateway</html>")
        );
    }

    #[test]
    fn codes() {
        assert_eq!(rpc_code_name(8), Some("RESOURCE_EXHAUSTED"));
        assert_eq!(rpc_code_name(0), None);
    }
}
