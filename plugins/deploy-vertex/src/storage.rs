//! The model artifacts in GCS: Vertex AI's serving container reads a model from its
//! `artifactUri`, so each version's package files are uploaded there first (one media upload
//! per file), and deleted with the model.

use ferry_guest::google;
use ferry_guest::http::{self, Method, Request, Transport};
use ferry_guest::types::Error;

use crate::config::Config;

pub struct Bucket<'a> {
    cfg: &'a Config,
    transport: &'a dyn Transport,
}

impl<'a> Bucket<'a> {
    pub fn new(cfg: &'a Config, transport: &'a dyn Transport) -> Self {
        Bucket { cfg, transport }
    }

    /// `POST /upload/storage/v1/b/{bucket}/o?uploadType=media&name=…`, overwriting.
    pub fn upload(&self, name: &str, bytes: Vec<u8>) -> Result<(), Error> {
        let path = format!(
            "/upload/storage/v1/b/{}/o?uploadType=media&name={}",
            http::encode(&self.cfg.bucket, false),
            http::encode(name, false)
        );
        let request =
            Request::new(Method::Post, &self.cfg.gcs, path).body("application/octet-stream", bytes);
        let response = self.transport.send(&request)?;
        if response.is_success() {
            return Ok(());
        }
        Err(google::answer_error(
            "GCS",
            &self.describe("uploading", name),
            &response,
        ))
    }

    /// `DELETE /storage/v1/b/{bucket}/o/{name}`; an object already gone is fine.
    pub fn delete(&self, name: &str) -> Result<(), Error> {
        let path = format!(
            "/storage/v1/b/{}/o/{}",
            http::encode(&self.cfg.bucket, false),
            http::encode(name, false)
        );
        let response = self
            .transport
            .send(&Request::new(Method::Delete, &self.cfg.gcs, path))?;
        if response.is_success() || response.status == 404 {
            return Ok(());
        }
        Err(google::answer_error(
            "GCS",
            &self.describe("deleting", name),
            &response,
        ))
    }

    fn describe(&self, doing: &str, name: &str) -> String {
        format!("{doing} gs://{}/{name}", self.cfg.bucket)
    }
}
