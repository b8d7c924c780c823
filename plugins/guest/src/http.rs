//! Outbound HTTP for plugins, over `wasi:http` (which the host polices): one request with a
//! whole-body read (and a body of its own, for deployers' uploads and API calls), and retries
//! with capped exponential backoff and full jitter for what is worth retrying — transport
//! failures, timeouts, cut-off bodies, 5xx and 429. Other 4xx answers are returned to the
//! caller, which turns the service's code and message into its error. The plugin never
//! authenticates: the host adds credentials on the way out.
//!
//! Plugins send only through the [`Transport`] trait — [`Wasi`] in the component, a script in
//! their native tests (`ferry_guest::testing`) — so that every call a plugin makes can be
//! tested without a network; the `wasi:http` calls themselves are private to this module.

use std::time::Duration;

use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingBody, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasip2::io::streams::{OutputStream, StreamError};

use crate::types::Error;

/// Where a service lives: `http://127.0.0.1:9000` or `https://storage.googleapis.com/base`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub https: bool,
    /// `host[:port]`.
    pub authority: String,
    /// Path prefix without a trailing `/` (often empty).
    pub base_path: String,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(format!(
                "endpoint `{url}` must start with http:// or https://"
            ));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(format!("endpoint `{url}` has no host"));
        }
        Ok(Endpoint {
            https,
            authority: authority.to_owned(),
            base_path: path.trim_end_matches('/').to_owned(),
        })
    }

    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{}", self.authority, self.base_path)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Put,
    Post,
    Patch,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    fn wasi(self) -> wasip2::http::types::Method {
        use wasip2::http::types::Method as M;
        match self {
            Method::Get => M::Get,
            Method::Head => M::Head,
            Method::Put => M::Put,
            Method::Post => M::Post,
            Method::Patch => M::Patch,
            Method::Delete => M::Delete,
        }
    }
}

/// One request: method, where, headers and body.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub endpoint: Endpoint,
    /// Path (after the endpoint's base path) and query, already percent-encoded.
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    /// Sent with a `content-length`; empty means no body.
    pub body: Vec<u8>,
}

impl Request {
    pub fn new(method: Method, endpoint: &Endpoint, path_and_query: String) -> Self {
        Request {
            method,
            endpoint: endpoint.clone(),
            path_and_query,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn get(endpoint: &Endpoint, path_and_query: String) -> Self {
        Request::new(Method::Get, endpoint, path_and_query)
    }

    pub fn head(endpoint: &Endpoint, path_and_query: String) -> Self {
        Request::new(Method::Head, endpoint, path_and_query)
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.headers
            .push(("content-type".to_owned(), content_type.to_owned()));
        self.body = body;
        self
    }

    /// A JSON body.
    pub fn json(self, value: &serde_json::Value) -> Self {
        let bytes = serde_json::to_vec(value).expect("a JSON value serializes");
        self.body("application/json", bytes)
    }

    pub fn describe(&self) -> String {
        format!(
            "{} {}{}",
            self.method.as_str(),
            self.endpoint.url(),
            self.path_and_query
        )
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON, or an `invalid_response` error naming the request.
    pub fn json(&self, request: &Request) -> Result<serde_json::Value, Error> {
        serde_json::from_slice(&self.body).map_err(|e| {
            crate::error(
                "invalid_response",
                format!(
                    "{}: answer {} is not JSON ({e}): {}",
                    request.describe(),
                    self.status,
                    crate::http::excerpt(&self.text())
                ),
            )
        })
    }
}

/// The start of a long text, for messages.
pub fn excerpt(text: &str) -> String {
    const MAX: usize = 300;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// Why a request got no usable answer.
#[derive(Debug, Clone)]
enum Failure {
    /// The host refused the request: the step does not grant the host.
    Denied,
    /// No answer, or a cut-off one: connection, DNS, timeout, a body that ended early.
    Transport(String),
}

impl Failure {
    fn retryable(&self) -> bool {
        matches!(self, Failure::Transport(_))
    }
}

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(5),
        }
    }
}

impl Retry {
    /// The pause before attempt `n + 1` (n ≥ 1): a random point in [0, min(cap, base·2ⁿ⁻¹)].
    pub fn backoff(&self, n: u32, random: u64) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << (n - 1).min(16))
            .min(self.cap);
        let millis = ceiling.as_millis() as u64;
        Duration::from_millis(if millis == 0 {
            0
        } else {
            random % (millis + 1)
        })
    }
}

/// Whether an answer's status is worth asking again for.
pub fn retryable_status(status: u16) -> bool {
    status == 429 || status >= 500
}

/// What sends a plugin's requests. Plugin code takes a `&dyn Transport`, so that it runs
/// natively too and a source's reads or a deployer's whole call sequence can be tested
/// against a scripted fake or a local peer; in the component it is [`Wasi`].
pub trait Transport {
    fn send(&self, request: &Request) -> Result<Response, Error>;
}

/// `wasi:http` with retries: the transport of a plugin running in the host.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wasi(pub Retry);

impl Transport for Wasi {
    fn send(&self, request: &Request) -> Result<Response, Error> {
        send_with_retry(request, &self.0)
    }
}

/// Sends `request` until it gets an answer that is not retryable, or attempts run out. The
/// last answer (which may be a 5xx) or failure is returned.
fn send_with_retry(request: &Request, retry: &Retry) -> Result<Response, Error> {
    let mut attempt = 1;
    loop {
        let outcome = send(request);
        let again = match &outcome {
            Ok(r) => retryable_status(r.status),
            Err(f) => f.retryable(),
        };
        if !again || attempt >= retry.attempts {
            return outcome.map_err(|f| failure_error(request, &f, attempt));
        }
        let pause = retry.backoff(attempt, wasip2::random::random::get_random_u64());
        crate::log::debug(&format!(
            "{} failed (attempt {attempt}), retrying in {} ms: {}",
            request.describe(),
            pause.as_millis(),
            match &outcome {
                Ok(r) => format!("status {}", r.status),
                Err(f) => format!("{f:?}"),
            }
        ));
        std::thread::sleep(pause);
        attempt += 1;
    }
}

fn failure_error(request: &Request, failure: &Failure, attempts: u32) -> Error {
    match failure {
        Failure::Denied => crate::error(
            "host_denied",
            format!("{}: the host refused the request", request.describe()),
        ),
        Failure::Transport(why) => crate::error(
            "unreachable",
            format!(
                "{}: no complete answer after {attempts} attempt{}: {why}",
                request.describe(),
                if attempts == 1 { "" } else { "s" }
            ),
        ),
    }
}

/// One attempt.
fn send(request: &Request) -> Result<Response, Failure> {
    let mut fields: Vec<(String, Vec<u8>)> = request
        .headers
        .iter()
        .map(|(n, v)| (n.clone(), v.as_bytes().to_vec()))
        .collect();
    let has_length = fields
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-length"));
    if !has_length
        && (!request.body.is_empty()
            || matches!(request.method, Method::Put | Method::Post | Method::Patch))
    {
        fields.push((
            "content-length".to_owned(),
            request.body.len().to_string().into_bytes(),
        ));
    }
    let headers = Fields::from_list(&fields)
        .map_err(|e| Failure::Transport(format!("invalid request header: {e:?}")))?;
    let outgoing = OutgoingRequest::new(headers);
    let method = request.method.wasi();
    let scheme = if request.endpoint.https {
        Scheme::Https
    } else {
        Scheme::Http
    };
    let path = format!("{}{}", request.endpoint.base_path, request.path_and_query);
    let set = outgoing.set_method(&method).is_ok()
        && outgoing.set_scheme(Some(&scheme)).is_ok()
        && outgoing
            .set_authority(Some(&request.endpoint.authority))
            .is_ok()
        && outgoing.set_path_with_query(Some(&path)).is_ok();
    if !set {
        return Err(Failure::Transport(format!(
            "invalid request {}",
            request.describe()
        )));
    }
    let body = outgoing
        .body()
        .map_err(|()| Failure::Transport("the request body was already taken".into()))?;
    let future = outgoing_handler::handle(outgoing, Some(options())).map_err(transport)?;
    // A server may answer before it has read the whole body (a 401, a 413): its answer is
    // what matters then, not that the rest of the body could not be sent.
    let written = write_body(body, &request.body);
    future.subscribe().block();
    let response = match future.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(written.err().unwrap_or_else(|| transport(code))),
        Some(Err(())) | None => {
            return Err(Failure::Transport("the response was already taken".into()));
        }
    };
    let status = response.status();
    let headers = response.headers().entries();
    let body = response
        .consume()
        .map_err(|()| Failure::Transport("the response body was already taken".into()))?;
    let bytes = if request.method == Method::Head {
        Vec::new()
    } else {
        read_body(&body)?
    };
    drop(response);
    let _ = IncomingBody::finish(body);
    Ok(Response {
        status,
        headers,
        body: bytes,
    })
}

fn options() -> RequestOptions {
    let options = RequestOptions::new();
    const SECOND: u64 = 1_000_000_000;
    let _ = options.set_connect_timeout(Some(10 * SECOND));
    let _ = options.set_first_byte_timeout(Some(60 * SECOND));
    let _ = options.set_between_bytes_timeout(Some(30 * SECOND));
    options
}

/// Writes all of `bytes` as the request body, as fast as the host takes them, and ends it.
/// Without bytes the stream is not touched: the host may already have sent the request and
/// closed it.
fn write_body(body: OutgoingBody, bytes: &[u8]) -> Result<(), Failure> {
    let broken = |e: StreamError| Failure::Transport(format!("sending the request body: {e:?}"));
    if !bytes.is_empty() {
        let stream: OutputStream = body
            .write()
            .map_err(|()| Failure::Transport("the request body stream was already taken".into()))?;
        let mut rest = bytes;
        while !rest.is_empty() {
            let room = stream.check_write().map_err(broken)?;
            if room == 0 {
                stream.subscribe().block();
                continue;
            }
            let n = rest.len().min(room as usize);
            stream.write(&rest[..n]).map_err(broken)?;
            rest = &rest[n..];
        }
        stream.blocking_flush().map_err(broken)?;
    }
    OutgoingBody::finish(body, None).map_err(transport)
}

fn read_body(body: &IncomingBody) -> Result<Vec<u8>, Failure> {
    let stream = body
        .stream()
        .map_err(|()| Failure::Transport("the response body stream was already taken".into()))?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(1 << 20) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => return Ok(bytes),
            Err(StreamError::LastOperationFailed(e)) => {
                let why = match wasip2::http::types::http_error_code(&e) {
                    Some(code) => format!("{code:?}"),
                    None => e.to_debug_string(),
                };
                return Err(Failure::Transport(format!(
                    "the body broke off after {} bytes: {why}",
                    bytes.len()
                )));
            }
        }
    }
}

fn transport(code: ErrorCode) -> Failure {
    match code {
        ErrorCode::HttpRequestDenied => Failure::Denied,
        other => Failure::Transport(format!("{other:?}")),
    }
}

/// Percent-encodes `s` for a URL path or query: everything but unreserved characters, and
/// `/` too unless `keep_slash`.
pub fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let e = Endpoint::parse("http://127.0.0.1:9000/").unwrap();
        assert_eq!(
            (e.https, e.authority.as_str(), e.base_path.as_str()),
            (false, "127.0.0.1:9000", "")
        );
        let e = Endpoint::parse("https://storage.googleapis.com/storage/v1").unwrap();
        assert_eq!(e.base_path, "/storage/v1");
        assert!(Endpoint::parse("storage.googleapis.com").is_err());
        assert!(Endpoint::parse("http:///x").is_err());
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        let r = Retry::default();
        assert_eq!(
            r.backoff(1, u64::MAX),
            Duration::from_millis(u64::MAX % 201)
        );
        for n in 1..30 {
            assert!(r.backoff(n, u64::MAX - 7) <= r.cap);
        }
        assert_eq!(r.backoff(3, 0), Duration::ZERO);
    }

    #[test]
    fn what_is_retried() {
        assert!(retryable_status(500) && retryable_status(503) && retryable_status(429));
        assert!(!retryable_status(403) && !retryable_status(404) && !retryable_status(416));
        assert!(Failure::Transport("reset".into()).retryable());
        assert!(!Failure::Denied.retryable());
    }

    #[test]
    fn encoding() {
        assert_eq!(encode("a b/c+d.csv", true), "a%20b/c%2Bd.csv");
        assert_eq!(encode("a b/c", false), "a%20b%2Fc");
        assert_eq!(encode("é", true), "%C3%A9");
    }
}
