//! The S3 REST calls the plugin makes — ListObjectsV2, HeadObject, ranged GetObject — and what
//! S3's answers mean. The listing and the ranged read themselves, with their checks, are
//! [`ferry_guest::remote::list`] and [`ferry_guest::remote::read`].

use ferry_guest::error;
use ferry_guest::http::{self, Request, Response, Transport};
use ferry_guest::remote::{Page, Pinned, Store};
use ferry_guest::types::Error;

use crate::config::Config;
use crate::xml;

pub struct Bucket<'a> {
    cfg: &'a Config,
    transport: &'a dyn Transport,
}

impl<'a> Bucket<'a> {
    pub fn new(cfg: &'a Config, transport: &'a dyn Transport) -> Self {
        Bucket { cfg, transport }
    }

    /// Path of the bucket itself (`/bucket` path-style, `` virtual-hosted) plus `rest`.
    fn path(&self, rest: &str) -> String {
        if self.cfg.path_style {
            format!("/{}{rest}", http::encode(&self.cfg.bucket, false))
        } else {
            rest.to_owned()
        }
    }

    fn object_path(&self, key: &str) -> String {
        self.path(&format!("/{}", http::encode(key, true)))
    }
}

impl Store for Bucket<'_> {
    const LIST: &'static str = "ListObjectsV2";
    const VERSION_HEADER: &'static str = "etag";
    const VERSION: &'static str = "ETag";

    fn transport(&self) -> &dyn Transport {
        self.transport
    }

    fn bucket(&self) -> &str {
        &self.cfg.bucket
    }

    /// ListObjectsV2, one page.
    fn list_request(&self, prefix: &str, token: Option<&str>) -> Request {
        let mut query = format!(
            "?list-type=2&max-keys={}&prefix={}",
            self.cfg.page_size,
            http::encode(prefix, false)
        );
        if let Some(token) = token {
            query.push_str(&format!(
                "&continuation-token={}",
                http::encode(token, false)
            ));
        }
        Request::get(&self.cfg.endpoint, self.path(&format!("/{query}")))
    }

    fn page(&self, response: &Response) -> Result<Page, String> {
        xml::list_page(&response.text())
    }

    fn list_refused(&self, prefix: &str, response: &Response) -> Error {
        s3_error("list", &self.cfg.bucket, prefix, response)
    }

    /// HeadObject: the size and ETag every range of this read will be pinned to.
    fn stat(&self, key: &str) -> Result<Pinned, Error> {
        let request = Request::head(&self.cfg.endpoint, self.object_path(key));
        let response = self.transport.send(&request)?;
        if response.status != 200 {
            return Err(s3_error("head", &self.cfg.bucket, key, &response));
        }
        let size = response
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| {
                error(
                    "invalid_response",
                    format!("HeadObject `{key}`: no Content-Length"),
                )
            })?;
        let version = response.header("etag").unwrap_or_default().to_owned();
        Ok(Pinned { size, version })
    }

    /// GetObject pinned to the ETag seen first (`If-Match`).
    fn download(&self, key: &str, pinned: &Pinned) -> Request {
        let request = Request::get(&self.cfg.endpoint, self.object_path(key));
        if pinned.version.is_empty() {
            return request;
        }
        request.header("if-match", pinned.version.clone())
    }

    fn refused(&self, key: &str, pinned: &Pinned, _offset: u64, response: &Response) -> Error {
        if response.status == 412 {
            return error(
                "object_changed",
                format!(
                    "object `{key}` in bucket `{}` changed while it was being read (ETag was {})",
                    self.cfg.bucket, pinned.version
                ),
            );
        }
        s3_error("get", &self.cfg.bucket, key, response)
    }
}

/// An S3 error answer as the file's error: the service's code and message.
fn s3_error(operation: &str, bucket: &str, key: &str, response: &Response) -> Error {
    let (code, message) = ferry_guest::s3::error_of(response);
    let what = match operation {
        "list" => format!("listing bucket `{bucket}` under `{key}`"),
        _ if code == "NoSuchKey" => format!(
            "object `{key}` in bucket `{bucket}` does not exist (deleted after it was listed?)"
        ),
        _ => format!("reading object `{key}` in bucket `{bucket}`"),
    };
    let detail = if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    };
    error(
        &code,
        format!("{what}: S3 answered {} {code}{detail}", response.status),
    )
}
