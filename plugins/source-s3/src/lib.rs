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
//!
//! [`config`] reads the settings, [`bucket`] makes the S3 calls over a
//! [`ferry_guest::http::Transport`] (`wasi:http` here, a script in [`tests`]), and
//! [`ferry_guest::remote`] lists and reads, checking each range.

mod bucket;
mod config;
mod xml;

#[cfg(test)]
mod tests;

use ferry_guest::http::Wasi;
use ferry_guest::remote;
use ferry_guest::types::{Description, Error};

use bucket::Bucket;
use config::Config;

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

struct S3;

impl about::Guest for S3 {
    fn describe() -> Description {
        ferry_guest::describe!(
            Source,
            "objects in an S3 (or S3-compatible) bucket, read in ranges pinned to one ETag",
            config::SETTINGS
        )
    }
}

impl source::Guest for S3 {
    fn list_objects(prefix: String, cursor: Option<String>) -> Result<ListPage, Error> {
        let cfg = Config::load()?;
        let transport = Wasi(cfg.retry);
        let page = remote::list(&Bucket::new(&cfg, &transport), &prefix, cursor.as_deref())?;
        Ok(ListPage {
            objects: page.objects,
            next_cursor: page.next_token,
        })
    }

    fn read(key: String, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        let cfg = Config::load()?;
        remote::read(&Bucket::new(&cfg, &Wasi(cfg.retry)), &key, offset, len)
    }
}

export!(S3);
