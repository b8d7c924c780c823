//! What object-store sources (`source-s3`, `source-gcs`) share, so that the two read objects
//! the same way: the settings every bucket takes, the listing page with folder markers left
//! out, and reading one object in ranges.
//!
//! An object's size and version are learned once (on the read at offset 0) and every later
//! range asks for exactly that version, so an object overwritten mid-read fails clearly
//! instead of mixing versions; [`read`] checks every answer against that pin before its bytes
//! are handed on (see [`read`] for what it verifies).

mod read;

use std::cell::RefCell;
use std::collections::HashMap;

pub use read::{Store, read};

use crate::Settings;
use crate::http::Retry;
use crate::types::{Error, ObjectInfo};

/// The most keys a listing page holds: S3's ListObjectsV2 and GCS's objects.list both cap
/// their pages there.
pub const MAX_PAGE: usize = 1000;

/// The settings every bucket source takes (each adds its own, `region` and `path_style` for
/// S3); `endpoint` is among them, but its default is each store's own.
pub const SETTINGS: &[&str] = &["bucket", "endpoint", "page_size", "retries"];

/// The settings every bucket source reads the same way.
#[derive(Debug, Clone)]
pub struct BucketSettings {
    pub bucket: String,
    /// Keys per listing page: `page_size`, at most [`MAX_PAGE`] (the default).
    pub page_size: usize,
    /// `retries` attempts per request (default 5).
    pub retry: Retry,
}

impl BucketSettings {
    pub fn from_settings(s: &Settings) -> Result<BucketSettings, Error> {
        Ok(BucketSettings {
            bucket: s.required("bucket", "the bucket to read")?,
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

impl Page {
    /// The page without "folder" markers (empty objects whose key ends in `/`, which the
    /// consoles and some tools create): they are not data.
    pub fn without_folder_markers(mut self) -> Page {
        self.objects.retain(|o| !is_folder_marker(o));
        self
    }
}

pub fn is_folder_marker(object: &ObjectInfo) -> bool {
    object.key.ends_with('/') && object.size == 0
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

    fn object(key: &str, size: u64) -> ObjectInfo {
        ObjectInfo {
            key: key.into(),
            size,
            etag: None,
            last_modified: None,
        }
    }

    #[test]
    fn folder_markers_are_not_listed() {
        let page = Page {
            objects: vec![
                object("logs/", 0),
                object("logs/a.csv", 12),
                object("logs/empty.csv", 0),
                object("logs/odd/", 3),
            ],
            next_token: Some("t".into()),
        };
        let page = page.without_folder_markers();
        let keys: Vec<&str> = page.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, ["logs/a.csv", "logs/empty.csv", "logs/odd/"]);
        assert_eq!(page.next_token.as_deref(), Some("t"));
    }

    fn settings(pairs: &[(&str, &str)]) -> Result<BucketSettings, Error> {
        let s = Settings::new(
            SETTINGS,
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )?;
        BucketSettings::from_settings(&s)
    }

    #[test]
    fn bucket_settings() {
        let s = settings(&[("bucket", "b")]).unwrap();
        assert_eq!(
            (s.bucket.as_str(), s.page_size, s.retry.attempts),
            ("b", 1000, 5)
        );
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
