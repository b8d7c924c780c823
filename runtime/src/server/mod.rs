//! `ferry serve`: the HTTP face of the same library the CLI uses. Workflows are triggered over
//! REST (or by a storage event webhook), jobs run in a bounded pool in this process, and every
//! job — triggered here or by `ferry run` — is in the one job store both read.
//!
//! One task per connection (HTTP/1.1 with keep-alive, a header-read timeout against slow
//! clients); each request gets an id that tags its log lines and its `x-request-id` header.
//! SIGTERM or Ctrl-C stops accepting, lets requests in flight finish, gives running jobs a
//! grace period and leaves the rest to resume on the next start.

mod auth;
mod canned;
mod config;
mod executor;
mod http;
mod metrics;
mod node;
mod openapi;
mod registry;
mod routes;
mod service_auth;
mod upload;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tracing::Instrument;

pub use config::{ConfigError, ConfigFile, ServeConfig};

use self::http::{ApiError, Request, Response, query_pairs};
use crate::app::App;
use executor::Executor;
use metrics::Metrics;
use registry::WorkflowDir;

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
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// What every request handler can reach.
pub struct Server {
    pub ferry: App,
    registry: WorkflowDir,
    executor: Executor,
    metrics: Metrics,
    config: ServeConfig,
    draining: AtomicBool,
    node: node::Node,
    gate: service_auth::ServiceGate,
}

impl Server {
    fn draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    fn uploads(&self) -> std::path::PathBuf {
        self.ferry.home().join("uploads")
    }

    /// Where this node unpacks the packages it serves.
    fn node_dir(&self) -> std::path::PathBuf {
        self.ferry.home().join("node")
    }

    /// Where the package service `service` runs is kept (`node/active/<service>.zip`).
    fn kept_package(&self, service: &str) -> Result<std::path::PathBuf, ApiError> {
        crate::paths::child(
            &self.node_dir().join("active"),
            crate::paths::NameKind::Service,
            service,
            ".zip",
        )
        .map_err(|e| ApiError::bad_request("invalid_name", e.to_string()))
    }

    /// The package each service runs, kept so a restarted node serves it again at once.
    fn keep_deployed(&self, service: &str, zip: &[u8]) -> Result<(), ApiError> {
        let path = self.kept_package(service)?;
        std::fs::create_dir_all(path.parent().expect("the active directory"))
            .and_then(|()| write_atomically(&path, zip))
            .map_err(ApiError::internal)
    }

    fn forget_deployed(&self, service: &str) -> Result<(), ApiError> {
        match std::fs::remove_file(self.kept_package(service)?) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ApiError::internal(e)),
            _ => Ok(()),
        }
    }

    async fn reload_deployed(&self) {
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
            let verified = std::fs::read(&path)
                .map_err(ApiError::internal)
                .and_then(|bytes| {
                    crate::package::Verified::read(&bytes, self.config.max_upload.0)
                        .map_err(ApiError::internal)
                });
            let loaded = match verified {
                Ok(v) => {
                    self.node
                        .deploy(self.ferry.plugin_host(), &self.node_dir(), v)
                        .await
                }
                Err(e) => Err(e),
            };
            if let Err(e) = loaded {
                tracing::warn!(package = %path.display(), "cannot serve a deployed package again: {}", e.message);
            }
        }
    }
}

/// Serves until `stop` resolves; prints the address it listens on (port 0 picks a free one).
pub async fn serve(
    ferry: App,
    config: ServeConfig,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), ServerError> {
    let registry =
        WorkflowDir::new(config.workflows.clone()).map_err(|source| ServerError::Workflows {
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
    // Exports a stopped server (or CLI) left unfinished end as failed.
    if let Err(e) = ferry.fail_unfinished_exports().await {
        tracing::warn!("cannot check for unfinished exports: {e}");
    }
    // Imports a stopped server (or CLI) left unfinished end as failed, what a killed
    // processing placed undone.
    if let Err(e) = ferry.recover_imports(true).await {
        tracing::warn!("cannot check for unfinished imports: {e}");
    }
    // Deploy operations a stopped server (or CLI) left RUNNING end as interrupted.
    if let Err(e) = ferry.fail_interrupted().await {
        tracing::warn!("cannot check for interrupted deploy operations: {e}");
    }
    let app = Arc::new(Server {
        ferry,
        registry,
        executor,
        metrics: Metrics::default(),
        config,
        draining: AtomicBool::new(false),
        node: node::Node::default(),
        gate: service_auth::ServiceGate::default(),
    });
    app.reload_deployed().await;
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
                        .serve_connection(TokioIo::new(canned::JsonErrors::new(stream)), service);
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

impl Server {
    async fn respond(self: Arc<Self>, req: hyper::Request<Incoming>) -> Response {
        let started = Instant::now();
        let request_id = uuid::Uuid::now_v7();
        let span = tracing::info_span!("request", id = %request_id, method = %req.method(), path = %req.uri().path());
        // The span is attached to the future, not entered across an `.await`: an entered guard
        // held over a suspension point is exited on another task's turn, and under load
        // tracing-subscriber then panicked cloning a span that had already closed.
        let (label, response) = match self.dispatch(req).instrument(span.clone()).await {
            Ok((label, response)) => (label, response),
            Err((label, e)) => (label, e.response()),
        };
        let mut response = response;
        let status = response.status().as_u16();
        if let Ok(v) = ::http::HeaderValue::from_str(&request_id.to_string()) {
            response.headers_mut().insert("x-request-id", v);
        }
        self.metrics.observe(label, status, started.elapsed());
        let _enter = span.enter();
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
            caller: None,
        };
        let route =
            routes::route(&request.method, &request.segments()).map_err(|e| ("unmatched", e))?;
        let label = route.label;
        let fail = |e: ApiError| (label, e);
        if let Some(permission) = route.permission {
            let key = auth::require(&self.ferry, &request, permission)
                .await
                .map_err(fail)?;
            request.caller = Some(key);
        }
        let (limit, handler) = match route.target {
            routes::Target::Upload => {
                return self
                    .upload(&request, body)
                    .await
                    .map(|r| (label, r))
                    .map_err(fail);
            }
            routes::Target::Read { limit, handler } => (limit, handler),
        };
        let limit = match limit {
            routes::BodyLimit::Api => self.config.max_body.0,
            routes::BodyLimit::Package => self.config.max_upload.0,
        };
        request.body = read_body(body, limit as usize, self.config.body_timeout)
            .await
            .map_err(fail)?;
        routes::handle(self, handler, &request)
            .await
            .map(|r| (label, r))
            .map_err(fail)
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

async fn read_body(body: Incoming, limit: usize, deadline: Duration) -> Result<Bytes, ApiError> {
    let collected = tokio::time::timeout(deadline, Limited::new(body, limit).collect())
        .await
        .map_err(|_| {
            ApiError::new(
                ::http::StatusCode::REQUEST_TIMEOUT,
                "timeout",
                format!(
                    "the request body did not arrive within {} s",
                    deadline.as_secs_f64()
                ),
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
