//! The GCS JSON API calls the plugin makes — objects.list, objects.get (metadata) and ranged
//! media downloads — and what GCS's answers mean. The listing and the ranged read themselves,
//! with their checks, are [`ferry_guest::remote::list`] and [`ferry_guest::remote::read`].

use ferry_guest::error;
use ferry_guest::google;
use ferry_guest::http::{self, Request, Response, Transport};
use ferry_guest::remote::{Page, Pinned, Store};
use ferry_guest::types::Error;

use crate::config::Config;
use crate::json;

pub struct Bucket<'a> {
    cfg: &'a Config,
    transport: &'a dyn Transport,
}

impl<'a> Bucket<'a> {
    pub fn new(cfg: &'a Config, transport: &'a dyn Transport) -> Self {
        Bucket { cfg, transport }
    }

    fn objects_path(&self) -> String {
        format!("/storage/v1/b/{}/o", http::encode(&self.cfg.bucket, false))
    }

    fn object_path(&self, key: &str) -> String {
        format!("{}/{}", self.objects_path(), http::encode(key, false))
    }
}

impl Store for Bucket<'_> {
    const LIST: &'static str = "objects.list";
    const VERSION_HEADER: &'static str = "x-goog-generation";
    const VERSION: &'static str = "generation";

    fn transport(&self) -> &dyn Transport {
        self.transport
    }

    fn bucket(&self) -> &str {
        &self.cfg.bucket
    }

    /// objects.list, one page.
    fn list_request(&self, prefix: &str, token: Option<&str>) -> Request {
        let mut query = format!(
            "?prefix={}&maxResults={}",
            http::encode(prefix, false),
            self.cfg.page_size
        );
        if let Some(token) = token {
            query.push_str(&format!("&pageToken={}", http::encode(token, false)));
        }
        Request::get(
            &self.cfg.endpoint,
            format!("{}{query}", self.objects_path()),
        )
    }

    fn page(&self, response: &Response) -> Result<Page, String> {
        json::list_page(&response.body)
    }

    fn list_refused(&self, prefix: &str, response: &Response) -> Error {
        gcs_error(
            &format!("listing bucket `{}` under `{prefix}`", self.cfg.bucket),
            response,
        )
    }

    /// objects.get (metadata): the size and generation every range will be pinned to.
    fn stat(&self, key: &str) -> Result<Pinned, Error> {
        let request = Request::get(&self.cfg.endpoint, self.object_path(key));
        let response = self.transport.send(&request)?;
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

    /// A media download of the pinned generation.
    fn download(&self, key: &str, pinned: &Pinned) -> Request {
        let mut path = format!("{}?alt=media", self.object_path(key));
        if !pinned.version.is_empty() {
            path.push_str(&format!(
                "&generation={}",
                http::encode(&pinned.version, false)
            ));
        }
        Request::get(&self.cfg.endpoint, path)
    }

    /// A generation that is gone after the first range was read: the object was overwritten
    /// or deleted meanwhile (GCS answers 404 for both).
    fn refused(&self, key: &str, pinned: &Pinned, offset: u64, response: &Response) -> Error {
        if response.status == 404 && offset > 0 {
            return error(
                "object_changed",
                format!(
                    "{}: generation {} is gone: the object changed or was deleted while it was being read",
                    self.reading(key),
                    pinned.version
                ),
            );
        }
        gcs_error(&self.reading(key), response)
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
