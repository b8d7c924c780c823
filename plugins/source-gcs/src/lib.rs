//! `source-gcs`: the objects of a Google Cloud Storage bucket under the step's prefix, read in
//! ranges, over the GCS JSON API through `wasi:http`.
//!
//! The plugin holds no token: the step grants a `gcp` credential for the endpoint's host and
//! ferry's host adds the bearer token to each request on its way out (or grants none, for an
//! emulator).
//!
//! Settings: `bucket` (required); `endpoint` (default `https://storage.googleapis.com`);
//! `page_size` (objects per listing page, default 1000); `retries` (attempts per request,
//! default 5). An object's ETag, for incremental imports, is its generation.

mod json;

use ferry_guest::google;
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
    page_size: usize,
    retry: Retry,
}

impl Bucket {
    fn from_settings() -> Result<Bucket, Error> {
        let s = Settings::load(&["bucket", "endpoint", "page_size", "retries"])?;
        let name = s
            .string("bucket")
            .ok_or_else(|| error("invalid_setting", "the `bucket` setting is required"))?
            .to_owned();
        let url = s
            .string("endpoint")
            .unwrap_or("https://storage.googleapis.com");
        let endpoint = Endpoint::parse(url).map_err(|m| error("invalid_setting", m))?;
        Ok(Bucket {
            name,
            endpoint,
            page_size: s.positive("page_size")?.unwrap_or(1000),
            retry: Retry {
                attempts: s.positive("retries")?.unwrap_or(5) as u32,
                ..Retry::default()
            },
        })
    }

    fn objects_path(&self) -> String {
        format!("/storage/v1/b/{}/o", http::encode(&self.name, false))
    }

    fn object_path(&self, key: &str) -> String {
        format!("{}/{}", self.objects_path(), http::encode(key, false))
    }

    fn send(&self, request: Request) -> Result<Response, Error> {
        http::send_with_retry(&request, &self.retry)
    }

    fn list(&self, prefix: &str, token: Option<&str>) -> Result<ListPage, Error> {
        let mut query = format!(
            "?prefix={}&maxResults={}",
            http::encode(prefix, false),
            self.page_size
        );
        if let Some(token) = token {
            query.push_str(&format!("&pageToken={}", http::encode(token, false)));
        }
        let response = self.send(Request::get(
            &self.endpoint,
            format!("{}{query}", self.objects_path()),
        ))?;
        if response.status != 200 {
            return Err(gcs_error(
                &format!("listing bucket `{}` under `{prefix}`", self.name),
                &response,
            ));
        }
        let page = json::list_page(&response.body).map_err(|m| {
            error(
                "invalid_response",
                format!("objects.list on bucket `{}`: {m}", self.name),
            )
        })?;
        Ok(ListPage {
            objects: page
                .objects
                .into_iter()
                .filter(|o| !(o.key.ends_with('/') && o.size == 0))
                .collect(),
            next_cursor: page.next_token,
        })
    }

    /// objects.get (metadata): the size and generation every range will be pinned to.
    fn stat(&self, key: &str) -> Result<Pinned, Error> {
        let response = self.send(Request::get(&self.endpoint, self.object_path(key)))?;
        if response.status != 200 {
            return Err(gcs_error(&self.reading(key), &response));
        }
        let object = json::object(&response.body)
            .map_err(|m| error("invalid_response", format!("objects.get `{key}`: {m}")))?;
        Ok(Pinned {
            size: object.size,
            version: object.etag.unwrap_or_default(),
        })
    }

    fn reading(&self, key: &str) -> String {
        format!("reading object `{key}` in bucket `{}`", self.name)
    }

    /// A media download of one range of the pinned generation.
    fn read(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        let pinned = remote::pinned(key, offset, || self.stat(key))?;
        let Some((first, last)) = remote::range(offset, len, pinned.size) else {
            return Ok(Vec::new());
        };
        let mut path = format!("{}?alt=media", self.object_path(key));
        if !pinned.version.is_empty() {
            path.push_str(&format!(
                "&generation={}",
                http::encode(&pinned.version, false)
            ));
        }
        let response = self.send(
            Request::get(&self.endpoint, path).header("range", format!("bytes={first}-{last}")),
        )?;
        match response.status {
            200 | 206 => {
                let mut body = response.body;
                if response.status == 200
                    && body.len() as u64 == pinned.size
                    && pinned.size > last - first + 1
                {
                    // The server ignored the Range header and sent the whole object.
                    body = body[first as usize..=last as usize].to_vec();
                }
                let expected = (last - first + 1) as usize;
                if body.len() != expected {
                    return Err(error(
                        "short_read",
                        format!(
                            "{}: bytes {first}-{last} came back as {} bytes, expected {expected}",
                            self.reading(key),
                            body.len()
                        ),
                    ));
                }
                Ok(body)
            }
            404 if offset > 0 => Err(error(
                "object_changed",
                format!(
                    "{}: generation {} is gone: the object changed or was deleted while it was being read",
                    self.reading(key),
                    pinned.version
                ),
            )),
            _ => Err(gcs_error(&self.reading(key), &response)),
        }
    }
}

/// A GCS error answer as the file's error: the service's reason and message.
fn gcs_error(what: &str, response: &Response) -> Error {
    let hint = if response.status == 404 {
        " (deleted after it was listed?)"
    } else {
        ""
    };
    google::answer_error("GCS", &format!("{what}{hint}"), response)
}

struct Gcs;

impl Guest for Gcs {
    fn list_objects(prefix: String, cursor: Option<String>) -> Result<ListPage, Error> {
        Bucket::from_settings()?.list(&prefix, cursor.as_deref())
    }

    fn read(key: String, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        Bucket::from_settings()?.read(&key, offset, len)
    }
}

export!(Gcs);
