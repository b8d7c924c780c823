//! What object-store sources (`source-s3`, `source-gcs`) share, so that the two list and
//! read objects the same way: the settings every bucket takes, a listing page with folder
//! markers left out ([`list`]), and reading one object in ranges ([`read`]). Each source says
//! only how its API asks and answers, by implementing [`Store`] for its bucket.
//!
//! An object's size and version are learned once (on the read at offset 0) and every later
//! range asks for exactly that version, so an object overwritten mid-read fails clearly
//! instead of mixing versions; [`read`] checks every answer against that pin before its bytes
//! are handed on (see [`read`] for what it verifies).

#[cfg(test)]
mod fake;
mod list;
mod read;

use std::cell::RefCell;
use std::collections::HashMap;

pub use list::list;
pub use read::read;

use crate::Settings;
use crate::about::Setting;
use crate::http::{Endpoint, Request, Response, Retry, Transport};
use crate::types::{Error, ObjectInfo, SettingType};

/// An object store's bucket as [`list`] and [`read`] need it.
pub trait Store {
    /// The listing call, for messages (`ListObjectsV2`, `objects.list`).
    const LIST: &'static str;
    /// The answer header naming the version a download sent (`etag`, `x-goog-generation`).
    const VERSION_HEADER: &'static str;
    /// What the store calls a version, for messages (`ETag`, `generation`).
    const VERSION: &'static str;

    /// Sends the store's requests.
    fn transport(&self) -> &dyn Transport;

    /// The bucket's name, for messages.
    fn bucket(&self) -> &str;

    /// The listing of the page of `prefix` that `token` names (the first without one).
    fn list_request(&self, prefix: &str, token: Option<&str>) -> Request;

    /// A listing answer's page, or what is wrong with it.
    fn page(&self, response: &Response) -> Result<Page, String>;

    /// The error of a listing answer other than 200: the store's code and message.
    fn list_refused(&self, prefix: &str, response: &Response) -> Error;

    /// The object's size and version (HeadObject, objects.get), which every range of a read
    /// is pinned to.
    fn stat(&self, key: &str) -> Result<Pinned, Error>;

    /// The download of `key` at exactly `pinned.version` (`If-Match`, `generation=`) when
    /// there is one; [`read`] adds the `Range`.
    fn download(&self, key: &str, pinned: &Pinned) -> Request;

    /// The error of an answer other than 200 or 206 to a download at `offset`: the store's
    /// code and message, or `object_changed` where the answer means the pinned version is
    /// gone.
    fn refused(&self, key: &str, pinned: &Pinned, offset: u64, response: &Response) -> Error;

    /// ``reading object `key` in bucket `b` ``, the start of a read's messages.
    fn reading(&self, key: &str) -> String {
        format!("reading object `{key}` in bucket `{}`", self.bucket())
    }
}

/// The most keys a listing page holds: S3's ListObjectsV2 and GCS's objects.list both cap
/// their pages there.
pub const MAX_PAGE: usize = 1000;

/// `bucket`, which every bucket source requires.
pub const BUCKET: Setting = Setting::required("bucket", SettingType::String, "the bucket to read");

/// `page_size`, keys per listing page (at most [`MAX_PAGE`], the default).
pub const PAGE_SIZE: Setting = Setting::with_default(
    "page_size",
    SettingType::Integer,
    "1000",
    "keys per listing page, at most 1000",
);

/// `endpoint`, the store's API, `default` when not given.
pub const fn endpoint(default: &'static str) -> Setting {
    Setting::with_default(
        "endpoint",
        SettingType::String,
        default,
        "the store's API (an emulator's URL, say)",
    )
}

/// `retries` as every bucket source takes it: 5 attempts per request.
pub const RETRIES: Setting = Setting::retries("5");

/// The settings every bucket source reads the same way.
#[derive(Debug, Clone)]
pub struct BucketSettings {
    pub bucket: String,
    /// `endpoint`; its default is each store's own.
    pub endpoint: Endpoint,
    /// Keys per listing page: `page_size`, at most [`MAX_PAGE`] (the default).
    pub page_size: usize,
    /// `retries` attempts per request (default 5).
    pub retry: Retry,
}

impl BucketSettings {
    /// The settings, with `default_endpoint(bucket)` when no `endpoint` is given (S3's
    /// virtual-hosted default names the bucket).
    pub fn from_settings(
        s: &Settings,
        default_endpoint: impl FnOnce(&str) -> String,
    ) -> Result<BucketSettings, Error> {
        let bucket = s.required("bucket")?;
        Ok(BucketSettings {
            endpoint: s.endpoint("endpoint", &default_endpoint(&bucket))?,
            bucket,
            page_size: s.positive("page_size")?.unwrap_or(MAX_PAGE).min(MAX_PAGE),
            retry: s.retry(5)?,
        })
    }
}

/// One page of a listing as a store sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub objects: Vec<ObjectInfo>,
    /// Where the next page starts; `None` on the last.
    pub next_token: Option<String>,
}

/// An object as first seen by this reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    pub size: u64,
    /// ETag (S3) or generation (GCS); empty when the store gave none (nothing is pinned then).
    pub version: String,
}

thread_local! {
    static PINNED: RefCell<HashMap<String, Pinned>> = RefCell::new(HashMap::new());
}

/// The pinned version of `key`, looked up with `stat` on the first read (offset 0) or when
/// this instance has not seen the key yet.
pub fn pinned(
    key: &str,
    offset: u64,
    stat: impl FnOnce() -> Result<Pinned, Error>,
) -> Result<Pinned, Error> {
    if offset > 0
        && let Some(p) = PINNED.with(|m| m.borrow().get(key).cloned())
    {
        return Ok(p);
    }
    let p = stat()?;
    PINNED.with(|m| m.borrow_mut().insert(key.to_owned(), p.clone()));
    Ok(p)
}

/// The inclusive byte range to ask for, or `None` at or past the end.
pub fn range(offset: u64, len: u64, size: u64) -> Option<(u64, u64)> {
    if offset >= size || len == 0 {
        return None;
    }
    Some((offset, (offset + len).min(size) - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(range(0, 10, 100), Some((0, 9)));
        assert_eq!(range(95, 10, 100), Some((95, 99)));
        assert_eq!(range(100, 10, 100), None);
        assert_eq!(range(0, 10, 0), None);
    }

    #[test]
    fn a_key_is_looked_up_once_per_read_from_the_start() {
        let p = Pinned {
            size: 5,
            version: "v1".into(),
        };
        assert_eq!(pinned("k", 0, || Ok(p.clone())).unwrap(), p);
        let again = pinned("k", 3, || panic!("looked up again")).unwrap();
        assert_eq!(again, p);
        let fresh = Pinned {
            size: 6,
            version: "v2".into(),
        };
        assert_eq!(pinned("k", 0, || Ok(fresh.clone())).unwrap(), fresh);
    }

    /// What a source's table holds when its endpoint's default depends on the bucket.
    const SETTINGS: &[Setting] = &[
        BUCKET,
        Setting::optional(
            "endpoint",
            SettingType::String,
            "https://<bucket>.store.test",
        ),
        PAGE_SIZE,
        RETRIES,
    ];

    fn settings(pairs: &[(&str, &str)]) -> Result<BucketSettings, Error> {
        let s = Settings::from_pairs(SETTINGS, pairs)?;
        BucketSettings::from_settings(&s, |bucket| format!("https://{bucket}.store.test"))
    }

    #[test]
    fn bucket_settings() {
        let s = settings(&[("bucket", "b")]).unwrap();
        assert_eq!(
            (s.bucket.as_str(), s.page_size, s.retry.attempts),
            ("b", 1000, 5)
        );
        assert_eq!(s.endpoint.url(), "https://b.store.test");
        let s = settings(&[("bucket", "b"), ("endpoint", "http://127.0.0.1:9000")]).unwrap();
        assert_eq!(s.endpoint.url(), "http://127.0.0.1:9000");
        let s = settings(&[("bucket", "b"), ("page_size", "5000"), ("retries", "2")]).unwrap();
        assert_eq!((s.page_size, s.retry.attempts), (1000, 2));
        assert_eq!(
            settings(&[("bucket", "b"), ("page_size", "7")])
                .unwrap()
                .page_size,
            7
        );
        for missing in [&[][..], &[("bucket", " ")][..]] {
            let e = settings(missing).unwrap_err();
            assert_eq!(e.code, "invalid_setting");
            assert_eq!(
                e.message,
                "the `bucket` setting is required (the bucket to read)"
            );
        }
        assert!(settings(&[("bucket", "b"), ("page_size", "0")]).is_err());
    }
}
