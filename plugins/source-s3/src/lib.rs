//! `source-s3`: the objects of an S3 bucket (or of an S3-compatible store: MinIO, Ceph, moto)
//! under the step's prefix, read in ranges, over the S3 REST API through `wasi:http`.
//!
//! The plugin never signs anything: the step grants a credential for the endpoint's host and
//! ferry's host signs each request (SigV4) on its way out. The step must also grant the host
//! (`grants.hosts` or the credential's hosts), or every request is refused.
//!
//! Settings: `bucket` (required); `region` (default `us-east-1`); `endpoint` (default
//! `https://s3.<region>.amazonaws.com`); `path_style` (default true with a custom endpoint,
//! else virtual-hosted `https://<bucket>.s3.<region>.amazonaws.com`); `page_size` (keys per
//! listing page, at most 1000); `retries` (attempts per request, default 5).

mod xml;

use ferry_guest::http::{self, Endpoint, Request, Response, Retry};
use ferry_guest::remote::{self, Pinned};
use ferry_guest::types::Error;
use ferry_guest::{Settings, error};

wit_bindgen::generate!({
    world: "source-plugin",
    path: "../../wit",
    with: {
        "ferry:plugin/types@0.1.0": ferry_guest::types,
        "ferry:plugin/host@0.1.0": ferry_guest::host,
    },
});

use exports::ferry::plugin::source::{Guest, ListPage};

struct Bucket {
    name: String,
    endpoint: Endpoint,
    path_style: bool,
    page_size: usize,
    retry: Retry,
}

impl Bucket {
    fn from_settings() -> Result<Bucket, Error> {
        let s = Settings::load(&[
            "bucket",
            "region",
            "endpoint",
            "path_style",
            "page_size",
            "retries",
        ])?;
        let name = s
            .string("bucket")
            .ok_or_else(|| error("invalid_setting", "the `bucket` setting is required"))?
            .to_owned();
        let region = s.string("region").unwrap_or("us-east-1");
        let custom = s.string("endpoint");
        let path_style = s.bool("path_style")?.unwrap_or(custom.is_some());
        let url = match custom {
            Some(url) => url.to_owned(),
            None if path_style => format!("https://s3.{region}.amazonaws.com"),
            None => format!("https://{name}.s3.{region}.amazonaws.com"),
        };
        let endpoint = Endpoint::parse(&url).map_err(|m| error("invalid_setting", m))?;
        let retry = Retry {
            attempts: s.positive("retries")?.unwrap_or(5) as u32,
            ..Retry::default()
        };
        Ok(Bucket {
            name,
            endpoint,
            path_style,
            page_size: s.positive("page_size")?.unwrap_or(1000).min(1000),
            retry,
        })
    }

    /// Path of the bucket itself (`/bucket` path-style, `` virtual-hosted) plus `rest`.
    fn path(&self, rest: &str) -> String {
        if self.path_style {
            format!("/{}{rest}", http::encode(&self.name, false))
        } else {
            rest.to_owned()
        }
    }

    fn send(&self, request: Request) -> Result<Response, Error> {
        http::send_with_retry(&request, &self.retry)
    }

    /// ListObjectsV2, one page.
    fn list(&self, prefix: &str, token: Option<&str>) -> Result<ListPage, Error> {
        let mut query = format!(
            "?list-type=2&max-keys={}&prefix={}",
            self.page_size,
            http::encode(prefix, false)
        );
        if let Some(token) = token {
            query.push_str(&format!(
                "&continuation-token={}",
                http::encode(token, false)
            ));
        }
        let response = self.send(Request::get(
            &self.endpoint,
            self.path(&format!("/{query}")),
        ))?;
        if response.status != 200 {
            return Err(s3_error("list", &self.name, prefix, &response));
        }
        let page = xml::list_page(&response.text()).map_err(|m| {
            error(
                "invalid_response",
                format!("ListObjectsV2 on bucket `{}`: {m}", self.name),
            )
        })?;
        Ok(ListPage {
            objects: page
                .objects
                .into_iter()
                // "Folder" markers some tools create are not data.
                .filter(|o| !(o.key.ends_with('/') && o.size == 0))
                .collect(),
            next_cursor: page.next_token,
        })
    }

    fn object_path(&self, key: &str) -> String {
        self.path(&format!("/{}", http::encode(key, true)))
    }

    /// HeadObject: the size and ETag every range of this read will be pinned to.
    fn head(&self, key: &str) -> Result<Pinned, Error> {
        let response = self.send(Request::head(&self.endpoint, self.object_path(key)))?;
        if response.status != 200 {
            return Err(s3_error("head", &self.name, key, &response));
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

    /// GetObject with a Range, pinned to the ETag seen first.
    fn read(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        let pinned = remote::pinned(key, offset, || self.head(key))?;
        let Some((first, last)) = remote::range(offset, len, pinned.size) else {
            return Ok(Vec::new());
        };
        let mut request = Request::get(&self.endpoint, self.object_path(key))
            .header("range", format!("bytes={first}-{last}"));
        if !pinned.version.is_empty() {
            request = request.header("if-match", pinned.version.clone());
        }
        let response = self.send(request)?;
        match response.status {
            206 | 200 => {
                let expected = (last - first + 1) as usize;
                let mut body = response.body;
                if response.status == 200 {
                    // A store that ignores Range sends the whole object.
                    body = body
                        .get(first as usize..=last as usize)
                        .unwrap_or_default()
                        .to_vec();
                }
                if body.len() != expected {
                    return Err(error(
                        "short_read",
                        format!(
                            "GetObject `{key}` bytes {first}-{last}: got {} bytes, expected {expected}",
                            body.len()
                        ),
                    ));
                }
                Ok(body)
            }
            412 => Err(error(
                "object_changed",
                format!(
                    "object `{key}` in bucket `{}` changed while it was being read (ETag was {})",
                    self.name, pinned.version
                ),
            )),
            _ => Err(s3_error("get", &self.name, key, &response)),
        }
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

struct S3;

impl Guest for S3 {
    fn list_objects(prefix: String, cursor: Option<String>) -> Result<ListPage, Error> {
        Bucket::from_settings()?.list(&prefix, cursor.as_deref())
    }

    fn read(key: String, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        Bucket::from_settings()?.read(&key, offset, len)
    }
}

export!(S3);
