//! A store for this module's tests: bucket `b` at `http://store.test`, every object `OBJECT`
//! at version `"v1"`, listed from JSON pages `{"keys": [[key, size]…], "next": token}`; an
//! answer it does not expect is the error `refused_<status>`.

use std::cell::Cell;

use crate::error;
use crate::http::{Endpoint, Request, Response, Transport};
use crate::testing::Script;
use crate::types::{Error, ObjectInfo};

use super::{Page, Pinned, Store};

pub const OBJECT: &[u8] = b"0123456789abcdef";

pub struct Fake<'a> {
    script: &'a Script,
    endpoint: Endpoint,
    /// How many times an object was looked up.
    pub stats: Cell<u32>,
}

impl<'a> Fake<'a> {
    pub fn new(script: &'a Script) -> Fake<'a> {
        Fake {
            script,
            endpoint: Endpoint::parse("http://store.test").unwrap(),
            stats: Cell::new(0),
        }
    }
}

impl Store for Fake<'_> {
    const LIST: &'static str = "list";
    const VERSION_HEADER: &'static str = "etag";
    const VERSION: &'static str = "ETag";

    fn transport(&self) -> &dyn Transport {
        self.script
    }

    fn bucket(&self) -> &str {
        "b"
    }

    fn list_request(&self, prefix: &str, token: Option<&str>) -> Request {
        let token = token.map(|t| format!("&token={t}")).unwrap_or_default();
        Request::get(&self.endpoint, format!("/b?prefix={prefix}{token}"))
    }

    fn page(&self, response: &Response) -> Result<Page, String> {
        let page: serde_json::Value =
            serde_json::from_slice(&response.body).map_err(|e| e.to_string())?;
        let keys = page["keys"].as_array().ok_or("no keys")?;
        Ok(Page {
            objects: keys
                .iter()
                .map(|k| ObjectInfo {
                    key: k[0].as_str().unwrap_or_default().to_owned(),
                    size: k[1].as_u64().unwrap_or_default(),
                    etag: None,
                    last_modified: None,
                })
                .collect(),
            next_token: page["next"].as_str().map(str::to_owned),
        })
    }

    fn list_refused(&self, prefix: &str, response: &Response) -> Error {
        error(
            &format!("refused_{}", response.status),
            format!("listing `{prefix}`"),
        )
    }

    fn stat(&self, _key: &str) -> Result<Pinned, Error> {
        self.stats.set(self.stats.get() + 1);
        Ok(Pinned {
            size: OBJECT.len() as u64,
            version: "\"v1\"".into(),
        })
    }

    fn download(&self, key: &str, pinned: &Pinned) -> Request {
        Request::get(&self.endpoint, format!("/b/{key}")).header("if-match", pinned.version.clone())
    }

    fn refused(&self, _key: &str, _p: &Pinned, _offset: u64, r: &Response) -> Error {
        error(&format!("refused_{}", r.status), r.text())
    }
}
