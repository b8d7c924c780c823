//! Talking to one API node over its node API (`/v1/node/services`): a request through the
//! plugin's transport (with its retries), and what came back — a JSON answer, no answer (the
//! node is down), or the node's own error.

use ferry_guest::deploy::Target;
use ferry_guest::error;
use ferry_guest::http::{self, Endpoint, Request, Transport};
use ferry_guest::types::Error;

/// What one node said.
#[derive(Debug)]
pub enum Reply {
    Ok(serde_json::Value),
    /// Down or not answering: DEGRADED, not failed.
    Unreachable(String),
}

/// Sends `request` to its node. An error answer becomes an error with the node's own code and
/// message; a 404 always has the code `not_found` (for a service: it is not there). A host
/// that is not granted is the error `host_denied`.
pub fn call(transport: &dyn Transport, request: Request) -> Result<Reply, Error> {
    let node = &request.endpoint;
    let response = match transport.send(&request) {
        Ok(r) => r,
        Err(e) if e.code == "unreachable" => return Ok(Reply::Unreachable(e.message)),
        Err(e) => return Err(e),
    };
    if response.is_success() {
        return Ok(Reply::Ok(
            serde_json::from_slice(&response.body).unwrap_or_default(),
        ));
    }
    // The node's own error: {"error":{"code","message"}}.
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap_or_default();
    let code = match response.status {
        404 => "not_found",
        _ => body["error"]["code"].as_str().unwrap_or("node_error"),
    };
    let message = body["error"]["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| http::excerpt(&response.text()));
    Err(error(
        code,
        format!(
            "node {} answered {}: {message}",
            node.url(),
            response.status
        ),
    ))
}

/// `/v1/node/services/{service}`: where a node takes, and drops, the service's package.
pub fn service_path(target: &Target) -> String {
    format!("/v1/node/services/{}", http::encode(&target.service, false))
}

/// Where a node serves the service's public endpoints.
pub fn public_url(node: &Endpoint, service: &str) -> String {
    format!(
        "{}/public/api/v1/{}/",
        node.url(),
        http::encode(service, false)
    )
}
