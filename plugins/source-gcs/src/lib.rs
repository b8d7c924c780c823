//! `source-gcs`: the objects of a Google Cloud Storage bucket under the step's prefix, read in
//! ranges, over the GCS JSON API through `wasi:http`.
//!
//! The plugin holds no token: the step grants a `gcp` credential for the endpoint's host and
//! ferry's host adds the bearer token to each request on its way out (or grants none, for an
//! emulator).
//!
//! Settings: `bucket` (required); `endpoint` (default `https://storage.googleapis.com`);
//! `page_size` (objects per listing page, at most and by default 1000); `retries` (attempts
//! per request, default 5). An object's ETag, for incremental imports, is its generation.
//!
//! [`config`] reads the settings, [`bucket`] makes the GCS calls over a
//! [`ferry_guest::http::Transport`] (`wasi:http` here, a script in [`tests`]), and
//! [`ferry_guest::remote`] lists and reads, checking each range.

mod bucket;
mod config;
mod json;

#[cfg(test)]
mod tests;

use ferry_guest::http::Wasi;
use ferry_guest::remote;
use ferry_guest::types::{Description, Error};

use bucket::Bucket;

wit_bindgen::generate!({
    world: "source-plugin",
    path: "../../wit",
    with: {
        "ferry:plugin/types@0.2.0": ferry_guest::types,
        "ferry:plugin/host@0.2.0": ferry_guest::host,
    },
});

use exports::ferry::plugin::about;
use exports::ferry::plugin::source::{self, ListPage};

struct Gcs;

impl about::Guest for Gcs {
    fn describe() -> Description {
        ferry_guest::describe!(
            Source,
            "objects in a Google Cloud Storage bucket, read in ranges pinned to one generation",
            config::SETTINGS
        )
    }
}

impl source::Guest for Gcs {
    fn list_objects(prefix: String, cursor: Option<String>) -> Result<ListPage, Error> {
        let cfg = config::load()?;
        let transport = Wasi(cfg.retry);
        let page = remote::list(&Bucket::new(&cfg, &transport), &prefix, cursor.as_deref())?;
        Ok(ListPage {
            objects: page.objects,
            next_cursor: page.next_token,
        })
    }

    fn read(key: String, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        let cfg = config::load()?;
        remote::read(&Bucket::new(&cfg, &Wasi(cfg.retry)), &key, offset, len)
    }
}

export!(Gcs);
