//! `POST /v1/uploads`: files streamed into the upload area (`<home>/uploads`), where workflows
//! of this server may import them from. A raw body is stored as `?name=`; a
//! `multipart/form-data` body stores each file part under its file name (inside `?name=` as a
//! directory, when given).
//!
//! Names follow the relative-path rule of [`crate::paths`] (no `..`, `//`, `./`, NUL, trailing
//! `/`, overlong components): a name is refused rather than normalised, so two spellings never
//! land on one file. An existing file is replaced only with `?overwrite=true` (else 409). Bytes
//! go to a temporary file outside the upload area, so a job never lists a half-written upload,
//! and a file appears under its name only once complete; whatever way an upload ends early (too
//! large, too slow, the client gone) its temporary file is removed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::StatusCode;
use hyper::body::Incoming;
use tokio::io::AsyncWriteExt;

use super::Server;
use super::http::{ApiError, Request, Response, json};
use crate::paths::{self, NameKind};

/// An upload must deliver at least this much in every body-timeout window, so a client
/// trickling a byte a second cannot hold a connection and a file open for ever.
pub const MIN_BYTES_PER_WINDOW: u64 = 1024;

impl Server {
    pub(super) async fn upload(
        &self,
        request: &Request,
        body: Incoming,
    ) -> Result<Response, ApiError> {
        let content_type = request
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let overwrite = match request.param("overwrite") {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ApiError::bad_request(
                    "invalid_parameter",
                    format!("parameter `overwrite`: `{other}` is not true or false"),
                ));
            }
        };
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
                let size = self
                    .store_upload(&target, field, &mut budget, overwrite)
                    .await?;
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
            let size = self
                .store_upload(&target, stream, &mut budget, overwrite)
                .await?;
            stored.push(serde_json::json!({ "name": name, "size": size }));
        }
        let body = if stored.len() == 1 {
            stored.remove(0)
        } else {
            serde_json::json!({ "items": stored })
        };
        Ok(json(StatusCode::CREATED, &body))
    }

    fn upload_target(&self, name: &str) -> Result<PathBuf, ApiError> {
        paths::child(&self.uploads(), NameKind::Upload, name, "")
            .map_err(|e| ApiError::bad_request("invalid_name", e.to_string()))
    }

    /// Where uploads are written before they appear under their names: beside the upload
    /// area on the same file system (so the final step is a rename), but not inside it.
    fn upload_tmp(&self) -> PathBuf {
        self.ferry.home().join("tmp").join("uploads")
    }

    /// Writes `chunks` to `target` through a temporary file, within `budget` bytes.
    async fn store_upload(
        &self,
        target: &Path,
        chunks: impl futures_util::Stream<Item = Result<Bytes, std::io::Error>>,
        budget: &mut u64,
        overwrite: bool,
    ) -> Result<u64, ApiError> {
        let conflict = |message: String| ApiError::new(StatusCode::CONFLICT, "conflict", message);
        if !overwrite && target.exists() {
            return Err(conflict(format!(
                "upload `{}` exists; send `?overwrite=true` to replace it",
                self.shown(target)
            )));
        }
        if target.is_dir() {
            return Err(conflict(format!(
                "upload `{}` is a directory",
                self.shown(target)
            )));
        }
        let tmp_dir = self.upload_tmp();
        tokio::fs::create_dir_all(&tmp_dir)
            .await
            .map_err(ApiError::internal)?;
        let tmp = TempFile(tmp_dir.join(uuid::Uuid::new_v4().simple().to_string()));
        let mut file = tokio::fs::File::create(&tmp.0)
            .await
            .map_err(ApiError::internal)?;
        let size = self.copy_body(chunks, &mut file, *budget).await?;
        file.flush().await.map_err(ApiError::internal)?;
        drop(file);
        let dir = target.parent().expect("a file under the upload area");
        tokio::fs::create_dir_all(dir).await.map_err(|_| {
            conflict(format!(
                "upload `{}`: a file stands where a directory of its name must be",
                self.shown(target)
            ))
        })?;
        let placed = if overwrite {
            std::fs::rename(&tmp.0, target)
        } else {
            // A hard link fails if the name exists: no check-then-write race with another
            // upload of the same name.
            std::fs::hard_link(&tmp.0, target)
        };
        match placed {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(conflict(format!(
                    "upload `{}` exists; send `?overwrite=true` to replace it",
                    self.shown(target)
                )));
            }
            Err(e) => {
                return Err(conflict(format!(
                    "upload `{}` cannot be stored there: {e}",
                    self.shown(target)
                )));
            }
        }
        *budget -= size;
        Ok(size)
    }

    /// Copies the body into `file`, refusing more than `budget` bytes, a stall longer than the
    /// body timeout, and less than [`MIN_BYTES_PER_WINDOW`] in any body-timeout window.
    async fn copy_body(
        &self,
        chunks: impl futures_util::Stream<Item = Result<Bytes, std::io::Error>>,
        file: &mut tokio::fs::File,
        budget: u64,
    ) -> Result<u64, ApiError> {
        let window = self.config.body_timeout;
        let too_slow = |window: Duration| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                format!(
                    "the upload sent less than {MIN_BYTES_PER_WINDOW} bytes in {} s",
                    window.as_secs_f64()
                ),
            )
        };
        let mut chunks = std::pin::pin!(chunks);
        let mut size = 0u64;
        let mut window_end = tokio::time::Instant::now() + window;
        let mut in_window = 0u64;
        loop {
            let next = match tokio::time::timeout_at(window_end, chunks.next()).await {
                Ok(next) => next,
                Err(_) if in_window >= MIN_BYTES_PER_WINDOW => {
                    window_end += window;
                    in_window = 0;
                    continue;
                }
                Err(_) => return Err(too_slow(window)),
            };
            let Some(chunk) = next else { break };
            let chunk = chunk.map_err(|e| ApiError::bad_request("broken_body", e.to_string()))?;
            size += chunk.len() as u64;
            in_window += chunk.len() as u64;
            if size > budget {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    format!("uploads are limited to {}", self.config.max_upload),
                ));
            }
            file.write_all(&chunk).await.map_err(ApiError::internal)?;
            if tokio::time::Instant::now() >= window_end {
                if in_window < MIN_BYTES_PER_WINDOW {
                    return Err(too_slow(window));
                }
                window_end = tokio::time::Instant::now() + window;
                in_window = 0;
            }
        }
        Ok(size)
    }

    /// An upload's path as clients name it.
    fn shown(&self, target: &Path) -> String {
        target
            .strip_prefix(self.uploads())
            .unwrap_or(target)
            .display()
            .to_string()
    }
}

/// A temporary file removed when dropped: on success after it was linked or renamed into
/// place, and on every early end, including a client that went away mid-body (the request's
/// future is then dropped, not finished).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
