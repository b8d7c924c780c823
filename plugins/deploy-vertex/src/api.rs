//! The Vertex AI REST calls the plugin makes (`/v1/…` under the `endpoint` setting). Each
//! names what it was doing in its error, with the cloud's status and message verbatim; the
//! bodies and what the answers mean are in [`crate::resources`].

use ferry_guest::error;
use ferry_guest::google;
use ferry_guest::http::{self, Method, Request, Transport};
use ferry_guest::types::Error;
use serde_json::{Value, json};

use crate::config::Config;
use crate::operation::Lro;
use crate::split::Split;

/// The code of a Vertex AI answer for a resource that does not exist.
pub const NOT_FOUND: &str = "NOT_FOUND";
/// The code of an answer to a create whose id is taken.
pub const ALREADY_EXISTS: &str = "ALREADY_EXISTS";

pub struct Vertex<'a> {
    cfg: &'a Config,
    transport: &'a dyn Transport,
}

impl<'a> Vertex<'a> {
    pub fn new(cfg: &'a Config, transport: &'a dyn Transport) -> Self {
        Vertex { cfg, transport }
    }

    /// `POST …/models:upload`.
    pub fn upload_model(&self, what: &str, body: &Value) -> Result<Lro, Error> {
        let path = format!("/v1/{}/models:upload", self.cfg.parent());
        self.operation_call(&format!("{what} (models:upload)"), self.post(path, body))
    }

    /// `POST …/endpoints?endpointId=…`.
    pub fn create_endpoint(&self, what: &str, id: &str, body: &Value) -> Result<Lro, Error> {
        let path = format!(
            "/v1/{}/endpoints?endpointId={}",
            self.cfg.parent(),
            http::encode(id, false)
        );
        self.operation_call(&format!("{what} (endpoints.create)"), self.post(path, body))
    }

    /// `POST {endpoint}:deployModel` or `:undeployModel`.
    pub fn endpoint_call(
        &self,
        what: &str,
        endpoint: &str,
        verb: &str,
        body: &Value,
    ) -> Result<Lro, Error> {
        let path = format!("/v1/{endpoint}:{verb}");
        self.operation_call(
            &format!("{what} ({endpoint}:{verb})"),
            self.post(path, body),
        )
    }

    /// `PATCH {endpoint}?updateMask=trafficSplit`: answers the endpoint, not an operation.
    pub fn set_traffic(&self, what: &str, endpoint: &str, split: &Split) -> Result<(), Error> {
        let request = Request::new(
            Method::Patch,
            &self.cfg.api,
            format!("/v1/{endpoint}?updateMask=trafficSplit"),
        )
        .json(&json!({ "trafficSplit": split }));
        self.call(&format!("{what} ({endpoint} patch)"), request)
            .map(drop)
    }

    /// `DELETE /v1/{name}`; `None` when it is gone already.
    pub fn delete(&self, what: &str, name: &str) -> Result<Option<Lro>, Error> {
        let request = Request::new(Method::Delete, &self.cfg.api, format!("/v1/{name}"));
        match self.operation_call(&format!("{what} (DELETE {name})"), request) {
            Err(e) if e.code == NOT_FOUND => Ok(None),
            other => other.map(Some),
        }
    }

    /// `GET /v1/{operation}`.
    pub fn operation(&self, what: &str, name: &str) -> Result<Lro, Error> {
        let request = Request::get(&self.cfg.api, format!("/v1/{name}"));
        self.operation_call(&format!("{what} (polling {name})"), request)
    }

    /// `GET /v1/{name}`; `None` when it does not exist.
    pub fn get(&self, what: &str, name: &str) -> Result<Option<Value>, Error> {
        let request = Request::get(&self.cfg.api, format!("/v1/{name}"));
        match self.call(&format!("{what} (GET {name})"), request) {
            Err(e) if e.code == NOT_FOUND => Ok(None),
            other => other.map(Some),
        }
    }

    /// Every model or endpoint (`collection`) with this display name, all pages. The filter
    /// narrows the listing on Vertex AI; callers still match the name, for servers that
    /// ignore it (drongo).
    pub fn list_named(
        &self,
        what: &str,
        collection: &str,
        display_name: &str,
    ) -> Result<Vec<Value>, Error> {
        let filter = http::encode(&format!("display_name=\"{display_name}\""), false);
        let mut items = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let mut path = format!("/v1/{}/{collection}?filter={filter}", self.cfg.parent());
            if let Some(token) = &page_token {
                path.push_str(&format!("&pageToken={}", http::encode(token, false)));
            }
            let what = format!("{what} (listing {collection})");
            let page = self.call(&what, Request::get(&self.cfg.api, path))?;
            items.extend(page[collection].as_array().cloned().unwrap_or_default());
            page_token = page["nextPageToken"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            if page_token.is_none() {
                return Ok(items);
            }
        }
    }

    /// Where clients send predictions.
    pub fn predict_url(&self, endpoint: &str) -> String {
        format!("{}/v1/{endpoint}:predict", self.cfg.api.url())
    }

    fn post(&self, path: String, body: &Value) -> Request {
        Request::new(Method::Post, &self.cfg.api, path).json(body)
    }

    fn operation_call(&self, what: &str, request: Request) -> Result<Lro, Error> {
        let body = self.call(what, request)?;
        Lro::parse(&body).map_err(|m| error("invalid_response", format!("{what}: {m}")))
    }

    /// One call: the answer's JSON on success, the cloud's error otherwise.
    fn call(&self, what: &str, request: Request) -> Result<Value, Error> {
        let response = self.transport.send(&request)?;
        if !response.is_success() {
            return Err(google::answer_error("Vertex AI", what, &response));
        }
        if response.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        response.json(&request)
    }
}
