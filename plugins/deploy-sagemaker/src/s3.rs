//! The bucket SageMaker reads model data from: PutObject of each version's `model.tar.gz` and
//! DeleteObject when the model goes. Path-style URLs (`{endpoint}/{bucket}/{key}`), so one
//! host (and one credential grant) covers every bucket, as with moto or any S3-compatible
//! store; the host signs each request for service `s3`.

use ferry_guest::error;
use ferry_guest::http::{self, Endpoint, Method, Request, Response, Transport};
use ferry_guest::types::Error;

pub struct Bucket<'a> {
    name: &'a str,
    endpoint: &'a Endpoint,
    transport: &'a dyn Transport,
}

impl<'a> Bucket<'a> {
    pub fn new(name: &'a str, endpoint: &'a Endpoint, transport: &'a dyn Transport) -> Self {
        Bucket {
            name,
            endpoint,
            transport,
        }
    }

    /// Where SageMaker reads an object: `s3://bucket/key`.
    pub fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.name)
    }

    pub fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), Error> {
        let request = Request::new(Method::Put, self.endpoint, self.path(key))
            .body("application/octet-stream", bytes);
        let response = self.transport.send(&request)?;
        if response.is_success() {
            return Ok(());
        }
        Err(self.error("uploading", key, &response))
    }

    /// DeleteObject; an object that is gone already is fine.
    pub fn delete(&self, key: &str) -> Result<(), Error> {
        let request = Request::new(Method::Delete, self.endpoint, self.path(key));
        let response = self.transport.send(&request)?;
        if response.is_success() || response.status == 404 {
            return Ok(());
        }
        Err(self.error("deleting", key, &response))
    }

    fn path(&self, key: &str) -> String {
        format!(
            "/{}/{}",
            http::encode(self.name, false),
            http::encode(key, true)
        )
    }

    fn error(&self, doing: &str, key: &str, response: &Response) -> Error {
        let (code, message) = ferry_guest::s3::error_of(response);
        error(
            &code,
            format!(
                "{doing} s3://{}/{key}: S3 answered {} {code}: {message}",
                self.name, response.status
            ),
        )
    }
}

/// The key of a version's model data: `{prefix}/{deployment}/{version}/model.tar.gz`.
pub fn model_key(prefix: &str, deployment: &str, version: &str) -> String {
    let prefix = prefix.trim_matches('/');
    let rest = format!("{deployment}/{version}/model.tar.gz");
    if prefix.is_empty() {
        rest
    } else {
        format!("{prefix}/{rest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_paths() {
        assert_eq!(model_key("ferry", "d1", "v2"), "ferry/d1/v2/model.tar.gz");
        assert_eq!(model_key("/a/b/", "d1", "v2"), "a/b/d1/v2/model.tar.gz");
        assert_eq!(model_key("", "d1", "v2"), "d1/v2/model.tar.gz");
        let endpoint = Endpoint::parse("http://127.0.0.1:9000").unwrap();
        let nothing = ferry_guest::testing::Script::default();
        let bucket = Bucket::new("models", &endpoint, &nothing);
        assert_eq!(
            bucket.path("ferry/d 1/v2/model.tar.gz"),
            "/models/ferry/d%201/v2/model.tar.gz"
        );
        assert_eq!(bucket.url("k/model.tar.gz"), "s3://models/k/model.tar.gz");
    }
}
