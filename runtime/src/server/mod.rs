//! `ferry serve`: the HTTP face of the same library the CLI uses. Workflows are triggered over
//! REST (or by a storage event webhook), jobs run in a bounded pool in this process, and every
//! job — triggered here or by `ferry run` — is in the one job store both read.
//!
//! One task per connection (HTTP/1.1 with keep-alive, a header-read timeout against slow
//! clients); each request gets an id that tags its log lines and its `x-request-id` header.
//! SIGTERM or Ctrl-C stops accepting, lets requests in flight finish, gives running jobs a
//! grace period and leaves the rest to resume on the next start.

mod api;
mod auth;
mod config;
mod deployments;
mod executor;
mod http;
mod metrics;
mod node;
mod openapi;
mod registry;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

pub use config::{ConfigFile, ServeConfig};

use self::http::{ApiError, Request, Response, json, query_pairs};
use crate::engine::Ferry;
use executor::Executor;
use metrics::Metrics;
use registry::Registry;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("workflows directory {path}: {source}")]
    Workflows {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
}

/// What every request handler can reach.
pub struct App {
    pub ferry: Arc<Ferry>,
    registry: Registry,
    executor: Executor,
    metrics: Metrics,
    config: ServeConfig,
    draining: AtomicBool,
    node: node::Node,
}

impl App {
    fn draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    fn uploads(&self) -> std::path::PathBuf {
        self.ferry.home.root().join("uploads")
    }

    /// Where this node unpacks the packages it serves.
    fn node_dir(&self) -> std::path::PathBuf {
        self.ferry.home.root().join("node")
    }

    /// The package each service runs, kept so a restarted node serves it again at once.
    fn keep_deployed(&self, service: &str, zip: &[u8]) -> Result<(), ApiError> {
        let dir = self.node_dir().join("active");
        std::fs::create_dir_all(&dir)
            .and_then(|()| write_atomically(&dir.join(format!("{service}.zip")), zip))
            .map_err(ApiError::internal)
    }

    fn forget_deployed(&self, service: &str) {
        let _ = std::fs::remove_file(
            self.node_dir()
                .join("active")
                .join(format!("{service}.zip")),
        );
    }

    fn reload_deployed(&self) {
        // Unpacked versions left by an earlier process; the kept zips are unpacked again.
        if let Ok(entries) = std::fs::read_dir(self.node_dir()) {
            for entry in entries.flatten() {
                if entry.file_name() != "active" && entry.path().is_dir() {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let Ok(entries) = std::fs::read_dir(self.node_dir().join("active")) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "zip") {
                continue;
            }
            let loaded = std::fs::read(&path)
                .map_err(ApiError::internal)
                .and_then(|bytes| {
                    crate::package::Verified::read(&bytes, self.config.max_upload.0)
                        .map_err(ApiError::internal)
                })
                .and_then(|v| self.node.deploy(&self.ferry.host, &self.node_dir(), v));
            if let Err(e) = loaded {
                tracing::warn!(package = %path.display(), "cannot serve a deployed package again: {}", e.message);
            }
        }
    }
}

/// Serves until `stop` resolves; prints the address it listens on (port 0 picks a free one).
pub async fn serve(
    ferry: Arc<Ferry>,
    config: ServeConfig,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), ServerError> {
    let registry =
        Registry::new(config.workflows.clone()).map_err(|source| ServerError::Workflows {
            path: config.workflows.display().to_string(),
            source,
        })?;
    let listener =
        TcpListener::bind(config.listen)
            .await
            .map_err(|source| ServerError::Listen {
                addr: config.listen,
                source,
            })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServerError::Listen {
            addr: config.listen,
            source,
        })?;
    let executor = Executor::new(ferry.clone(), config.max_concurrent_jobs);
    let resumed = executor.take_back_unfinished().await?;
    // Deploy operations a stopped server (or CLI) left RUNNING end as interrupted.
    if let Err(e) = crate::deploy::fail_interrupted(&ferry).await {
        tracing::warn!("cannot check for interrupted deploy operations: {e}");
    }
    let app = Arc::new(App {
        ferry,
        registry,
        executor,
        metrics: Metrics::default(),
        config,
        draining: AtomicBool::new(false),
        node: node::Node::default(),
    });
    app.reload_deployed();
    // Scripts and tests read the address from this line.
    println!("ferry serve listening on http://{addr}");
    tracing::info!(%addr, workflows = %app.registry.dir().display(), resumed, "serving");

    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let mut connections = JoinSet::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let app = app.clone();
                let mut shutdown = shutdown_rx.clone();
                connections.spawn(async move {
                    let service = service_fn(move |req| {
                        let app = app.clone();
                        async move { Ok::<_, Infallible>(app.respond(req).await) }
                    });
                    let conn = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(10))
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service);
                    let mut conn = std::pin::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = shutdown.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                });
                while connections.try_join_next().is_some() {}
            }
            () = &mut stop => break,
        }
    }
    tracing::info!("shutting down: no new connections");
    app.draining.store(true, Ordering::SeqCst);
    drop(listener);
    let _ = shutdown_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    app.executor.stop(app.config.shutdown_grace).await;
    Ok(())
}

impl App {
    async fn respond(self: Arc<Self>, req: hyper::Request<Incoming>) -> Response {
        let started = Instant::now();
        let request_id = uuid::Uuid::now_v7();
        let span = tracing::info_span!("request", id = %request_id, method = %req.method(), path = %req.uri().path());
        let _enter = span.enter();
        let (label, response) = match self.dispatch(req).await {
            Ok((label, response)) => (label, response),
            Err((label, e)) => (label, e.response()),
        };
        let mut response = response;
        let status = response.status().as_u16();
        if let Ok(v) = ::http::HeaderValue::from_str(&request_id.to_string()) {
            response.headers_mut().insert("x-request-id", v);
        }
        self.metrics.observe(label, status, started.elapsed());
        tracing::debug!(
            status,
            route = label,
            micros = started.elapsed().as_micros() as u64,
            "answered"
        );
        response
    }

    async fn dispatch(
        &self,
        req: hyper::Request<Incoming>,
    ) -> Result<(&'static str, Response), (&'static str, ApiError)> {
        let (parts, body) = req.into_parts();
        let mut request = Request {
            method: parts.method,
            path: parts.uri.path().to_owned(),
            query: query_pairs(parts.uri.query()),
            headers: parts.headers,
            body: Bytes::new(),
        };
        let route =
            api::route(&request.method, &request.segments()).map_err(|e| ("unmatched", e))?;
        let label = route.label;
        let fail = |e: ApiError| (label, e);
        if let Some(permission) = route.permission {
            auth::require(&self.ferry.store, &request, permission)
                .await
                .map_err(fail)?;
        }
        if label == "POST /v1/uploads" {
            return self
                .upload(&request, body)
                .await
                .map(|r| (label, r))
                .map_err(fail);
        }
        // A package import is a zip: it gets the upload limit, other bodies the API's.
        let limit = if label == "POST /v1/services/{service}/packages"
            || label == "PUT /v1/node/services/{service}"
        {
            self.config.max_upload.0
        } else {
            self.config.max_body.0
        };
        request.body = read_body(body, limit as usize).await.map_err(fail)?;
        api::handle(self, route, &request)
            .await
            .map(|r| (label, r))
            .map_err(fail)
    }

    /// Streams an upload into the upload area: a raw body stored as `?name=`, or a
    /// `multipart/form-data` body whose file parts are stored under their file names (inside
    /// `?name=` as a directory, when given). Each file appears under its name only once
    /// complete; past the size limit nothing is kept.
    async fn upload(&self, request: &Request, body: Incoming) -> Result<Response, ApiError> {
        let content_type = request
            .headers
            .get(::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let stream = http_body_util::BodyStream::new(body).filter_map(|frame| async move {
            match frame {
                Ok(frame) => frame.into_data().ok().map(Ok),
                Err(e) => Some(Err(std::io::Error::other(e))),
            }
        });
        let mut stored = Vec::new();
        let mut budget = self.config.max_upload.0;
        if content_type.starts_with("multipart/form-data") {
            let boundary = multer::parse_boundary(&content_type)
                .map_err(|e| ApiError::bad_request("invalid_multipart", e.to_string()))?;
            let mut parts = multer::Multipart::new(stream, boundary);
            let dir = request.param("name").unwrap_or_default().to_owned();
            let bad = |e: multer::Error| ApiError::bad_request("invalid_multipart", e.to_string());
            while let Some(field) = parts.next_field().await.map_err(bad)? {
                let Some(file) = field.file_name().map(str::to_owned) else {
                    continue;
                };
                let name = if dir.is_empty() {
                    file
                } else {
                    format!("{dir}/{file}")
                };
                let target = self.upload_target(&name)?;
                let field = field.map(|chunk| chunk.map_err(std::io::Error::other));
                let size = self.store_upload(&target, field, &mut budget).await?;
                stored.push(serde_json::json!({ "name": name, "size": size }));
            }
            if stored.is_empty() {
                return Err(ApiError::bad_request(
                    "invalid_multipart",
                    "the form holds no file part",
                ));
            }
        } else {
            let name = request
                .param("name")
                .ok_or_else(|| {
                    ApiError::bad_request("invalid_parameter", "parameter `name` is required")
                })?
                .to_owned();
            let target = self.upload_target(&name)?;
            let size = self.store_upload(&target, stream, &mut budget).await?;
            stored.push(serde_json::json!({ "name": name, "size": size }));
        }
        let body = if stored.len() == 1 {
            stored.remove(0)
        } else {
            serde_json::json!({ "items": stored })
        };
        Ok(json(::http::StatusCode::CREATED, &body))
    }

    fn upload_target(&self, name: &str) -> Result<std::path::PathBuf, ApiError> {
        if !crate::paths::is_plain_relative(name) {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                format!("upload name `{name}` must be a relative path without `..`"),
            ));
        }
        Ok(self.uploads().join(name))
    }

    /// Writes `chunks` to `target` through a temporary file, within `budget` bytes.
    async fn store_upload(
        &self,
        target: &std::path::Path,
        chunks: impl futures_util::Stream<Item = Result<Bytes, std::io::Error>>,
        budget: &mut u64,
    ) -> Result<u64, ApiError> {
        let dir = target.parent().expect("a file under the upload area");
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(ApiError::internal)?;
        let tmp = dir.join(format!(".upload-{}", uuid::Uuid::new_v4()));
        let mut file = tokio::fs::File::create(&tmp)
            .await
            .map_err(ApiError::internal)?;
        let mut chunks = std::pin::pin!(chunks);
        let mut size = 0u64;
        let result: Result<(), ApiError> = async {
            loop {
                let next = tokio::time::timeout(Duration::from_secs(30), chunks.next())
                    .await
                    .map_err(|_| {
                        ApiError::new(
                            ::http::StatusCode::REQUEST_TIMEOUT,
                            "timeout",
                            "the upload stalled for 30 s",
                        )
                    })?;
                let Some(chunk) = next else { break };
                let chunk =
                    chunk.map_err(|e| ApiError::bad_request("broken_body", e.to_string()))?;
                size += chunk.len() as u64;
                if size > *budget {
                    return Err(ApiError::new(
                        ::http::StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        format!("uploads are limited to {}", self.config.max_upload),
                    ));
                }
                file.write_all(&chunk).await.map_err(ApiError::internal)?;
            }
            file.flush().await.map_err(ApiError::internal)?;
            Ok(())
        }
        .await;
        if let Err(e) = result {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e);
        }
        *budget -= size;
        tokio::fs::rename(&tmp, target)
            .await
            .map_err(ApiError::internal)?;
        Ok(size)
    }
}

/// Writes `bytes` to `path` so that readers see the old content or the new, never a part.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
}

async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, ApiError> {
    let collected =
        tokio::time::timeout(Duration::from_secs(30), Limited::new(body, limit).collect())
            .await
            .map_err(|_| {
                ApiError::new(
                    ::http::StatusCode::REQUEST_TIMEOUT,
                    "timeout",
                    "the request body stalled for 30 s",
                )
            })?;
    match collected {
        Ok(c) => Ok(c.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(ApiError::new(
                ::http::StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("request bodies are limited to {limit} bytes"),
            ))
        }
        Err(e) => Err(ApiError::bad_request("broken_body", e.to_string())),
    }
}
