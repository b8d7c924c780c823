//! One verified ranged read: the bytes `offset..offset+len` of an object, exactly those, of
//! the version pinned at the start of the read — or an error saying why not.
//!
//! Both sources used to carry this themselves and had drifted apart (what a `200` to a ranged
//! request meant, how a wrong length was worded). Here each answer is checked before its
//! bytes count:
//!
//! - the version the store says it sent (S3's `ETag`, GCS's `x-goog-generation`) must be the
//!   pinned one, else `object_changed`: a store that ignores `If-Match` or `generation=` does
//!   not get to mix two versions into one file;
//! - a `206` must be the range asked for (`Content-Range`, when the store sends one; a total
//!   other than the pinned size is `object_changed`) and hold exactly its bytes
//!   (`short_read` when shorter or longer);
//! - a `200` is a store that ignored `Range` and sent the whole object: it must be the whole
//!   pinned object (else `short_read`), and the range is cut from it;
//! - any other answer (a `412`, a `404`, a `416`…) is the store's to explain
//!   ([`Store::refused`]).
//!
//! Retries are the transport's: transport failures, 5xx and 429 are retried before an answer
//! reaches this code.

use crate::error;
use crate::http::Response;
use crate::types::Error;

use super::{Pinned, Store, pinned, range};

/// Up to `len` bytes of `key` from `offset`, of the version pinned when the read began (at
/// offset 0); empty at or past the end.
pub fn read<S: Store>(store: &S, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
    let pinned = pinned(key, offset, || store.stat(key))?;
    let Some((first, last)) = range(offset, len, pinned.size) else {
        return Ok(Vec::new());
    };
    let request = store
        .download(key, &pinned)
        .header("range", format!("bytes={first}-{last}"));
    let response = store.transport().send(&request)?;
    match response.status {
        200 | 206 => {
            let what = store.reading(key);
            verified::<S>(&what, &pinned, (first, last), response)
        }
        _ => Err(store.refused(key, &pinned, offset, &response)),
    }
}

/// The bytes `first..=last` of a 200 or 206 answer, once it is shown to hold them.
fn verified<S: Store>(
    what: &str,
    pinned: &Pinned,
    (first, last): (u64, u64),
    response: Response,
) -> Result<Vec<u8>, Error> {
    if let Some(sent) = response.header(S::VERSION_HEADER)
        && !pinned.version.is_empty()
        && !same_version(sent, &pinned.version)
    {
        return Err(error(
            "object_changed",
            format!(
                "{what}: the object changed while it was being read ({} {} when the read began, now {sent})",
                S::VERSION,
                pinned.version
            ),
        ));
    }
    let body = response.body;
    let got = body.len() as u64;
    if response.status == 200 {
        // The store ignored the Range header and sent the whole object.
        if got != pinned.size {
            return Err(error(
                "short_read",
                format!(
                    "{what}: bytes {first}-{last} were asked for, the store sent the whole object instead but it came back as {got} bytes, expected {}",
                    pinned.size
                ),
            ));
        }
        return Ok(body[first as usize..=last as usize].to_vec());
    }
    if let Some((from, to, total)) = content_range(&response.headers) {
        if let Some(total) = total.filter(|t| *t != pinned.size) {
            return Err(error(
                "object_changed",
                format!(
                    "{what}: the object changed while it was being read ({} bytes when the read began, now {total})",
                    pinned.size
                ),
            ));
        }
        if (from, to) != (first, last) {
            return Err(error(
                "invalid_response",
                format!(
                    "{what}: bytes {first}-{last} were asked for, the store sent bytes {from}-{to}"
                ),
            ));
        }
    }
    let expected = last - first + 1;
    if got != expected {
        return Err(error(
            "short_read",
            format!("{what}: bytes {first}-{last} came back as {got} bytes, expected {expected}"),
        ));
    }
    Ok(body)
}

/// Whether two ETags (or generations) name one version: quotes and a weak `W/` aside, which
/// stores do not all write alike.
fn same_version(a: &str, b: &str) -> bool {
    let bare = |v: &str| {
        let v = v.trim();
        v.strip_prefix("W/")
            .unwrap_or(v)
            .trim_matches('"')
            .to_owned()
    };
    bare(a) == bare(b)
}

/// `Content-Range: bytes FROM-TO/TOTAL` (`TOTAL` may be `*`); `None` when absent or not of
/// that form, which is then not held against the answer.
fn content_range(headers: &[(String, Vec<u8>)]) -> Option<(u64, u64, Option<u64>)> {
    let (_, value) = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-range"))?;
    let value = std::str::from_utf8(value).ok()?.trim();
    let (span, total) = value.strip_prefix("bytes ")?.split_once('/')?;
    let (from, to) = span.split_once('-')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((from.trim().parse().ok()?, to.trim().parse().ok()?, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::fake::{Fake, OBJECT};
    use crate::testing::{Script, Step, header};

    fn partial(first: usize, last: usize) -> Step {
        Step::answer("GET http://store.test/b/", 206, &OBJECT[first..=last])
            .header("Content-Range", &format!("bytes {first}-{last}/16"))
            .header("ETag", "\"v1\"")
    }

    #[test]
    fn ranges_are_asked_for_pinned_and_handed_on_as_sent() {
        let script = Script::of([partial(0, 3), partial(4, 7), partial(12, 15)]);
        let store = Fake::new(&script);
        assert_eq!(read(&store, "k1", 0, 4).unwrap(), b"0123");
        assert_eq!(read(&store, "k1", 4, 4).unwrap(), b"4567");
        // The last range is cut at the object's end; past it nothing is asked for.
        assert_eq!(read(&store, "k1", 12, 100).unwrap(), b"cdef");
        assert_eq!(read(&store, "k1", 16, 4).unwrap(), b"");
        script.finished();
        assert_eq!(store.stats.get(), 1, "pinned once, at offset 0");
        let sent = script.sent();
        let ranges: Vec<_> = sent.iter().map(|r| header(r, "range").unwrap()).collect();
        assert_eq!(ranges, ["bytes=0-3", "bytes=4-7", "bytes=12-15"]);
        assert!(sent.iter().all(|r| header(r, "if-match") == Some("\"v1\"")));
    }

    #[test]
    fn a_store_that_ignores_range_sends_the_whole_object_and_the_range_is_cut_from_it() {
        let script = Script::of([
            Step::answer("/b/k2", 206, &OBJECT[..4]),
            Step::answer("/b/k2", 200, OBJECT),
        ]);
        let store = Fake::new(&script);
        assert_eq!(read(&store, "k2", 0, 4).unwrap(), b"0123");
        assert_eq!(read(&store, "k2", 6, 3).unwrap(), b"678");
        script.finished();
    }

    #[test]
    fn a_whole_object_of_another_size_is_not_cut() {
        // 200 with only the range's bytes: not the whole object, so not the object.
        let script = Script::of([
            Step::answer("/b/k3", 206, &OBJECT[..4]),
            Step::answer("/b/k3", 200, &OBJECT[6..9]),
        ]);
        let store = Fake::new(&script);
        read(&store, "k3", 0, 4).unwrap();
        let e = read(&store, "k3", 6, 3).unwrap_err();
        assert_eq!(e.code, "short_read");
        assert_eq!(
            e.message,
            "reading object `k3` in bucket `b`: bytes 6-8 were asked for, the store sent the whole object instead but it came back as 3 bytes, expected 16"
        );
    }

    #[test]
    fn a_short_body_or_a_longer_one_is_a_short_read() {
        let script = Script::of([
            Step::answer("/b/k4", 206, &OBJECT[..3]),
            Step::answer("/b/k4", 206, &OBJECT[..6]),
        ]);
        let store = Fake::new(&script);
        let e = read(&store, "k4", 0, 4).unwrap_err();
        assert_eq!(e.code, "short_read");
        assert_eq!(
            e.message,
            "reading object `k4` in bucket `b`: bytes 0-3 came back as 3 bytes, expected 4"
        );
        let e = read(&store, "k4", 0, 4).unwrap_err();
        assert_eq!(e.code, "short_read");
        assert!(e.message.ends_with("came back as 6 bytes, expected 4"));
        script.finished();
    }

    #[test]
    fn other_bytes_than_asked_for_are_refused() {
        let script = Script::of([partial(0, 3), partial(0, 3)]);
        let store = Fake::new(&script);
        read(&store, "k5", 0, 4).unwrap();
        let e = read(&store, "k5", 4, 4).unwrap_err();
        assert_eq!(e.code, "invalid_response");
        assert_eq!(
            e.message,
            "reading object `k5` in bucket `b`: bytes 4-7 were asked for, the store sent bytes 0-3"
        );
    }

    #[test]
    fn a_416_is_the_stores_error_not_data() {
        let script = Script::of([
            partial(0, 3),
            Step::answer("/b/k6", 416, "<Error><Code>InvalidRange</Code></Error>"),
        ]);
        let store = Fake::new(&script);
        read(&store, "k6", 0, 4).unwrap();
        let e = read(&store, "k6", 4, 4).unwrap_err();
        assert_eq!(e.code, "refused_416");
        assert!(e.message.contains("InvalidRange"));
        script.finished();
    }

    #[test]
    fn a_content_range_of_another_total_is_object_changed() {
        // Without a version header the total still tells.
        let script = Script::of([
            partial(0, 3),
            Step::answer("/b/k7", 206, &OBJECT[4..8]).header("content-range", "bytes 4-7/20"),
        ]);
        let store = Fake::new(&script);
        read(&store, "k7", 0, 4).unwrap();
        let e = read(&store, "k7", 4, 4).unwrap_err();
        assert_eq!(e.code, "object_changed");
        assert_eq!(
            e.message,
            "reading object `k7` in bucket `b`: the object changed while it was being read (16 bytes when the read began, now 20)"
        );
        script.finished();
    }

    #[test]
    fn another_etag_than_the_pinned_one_is_object_changed() {
        let script = Script::of([
            partial(0, 3),
            Step::answer("/b/k8", 206, &OBJECT[4..8]).header("ETag", "\"v2\""),
            // A weak or unquoted spelling of the same ETag is the same version.
            Step::answer("/b/k8", 206, &OBJECT[8..12]).header("ETag", "W/v1"),
        ]);
        let store = Fake::new(&script);
        read(&store, "k8", 0, 4).unwrap();
        let e = read(&store, "k8", 4, 4).unwrap_err();
        assert_eq!(e.code, "object_changed");
        assert_eq!(
            e.message,
            "reading object `k8` in bucket `b`: the object changed while it was being read (ETag \"v1\" when the read began, now \"v2\")"
        );
        assert_eq!(read(&store, "k8", 8, 4).unwrap(), b"89ab");
        script.finished();
    }

    #[test]
    fn a_transport_failure_is_the_reads_error() {
        let script = Script::of([Step::fails("/b/k9", "unreachable", "no answer")]);
        let e = read(&Fake::new(&script), "k9", 0, 4).unwrap_err();
        assert_eq!(e.code, "unreachable");
    }

    #[test]
    fn content_ranges() {
        let h = |v: &str| vec![("Content-Range".to_owned(), v.as_bytes().to_vec())];
        assert_eq!(content_range(&h("bytes 2-5/16")), Some((2, 5, Some(16))));
        assert_eq!(content_range(&h("bytes 2-5/*")), Some((2, 5, None)));
        assert_eq!(content_range(&h("bytes */16")), None);
        assert_eq!(content_range(&[]), None);
        assert!(same_version("\"abc\"", "abc") && !same_version("\"abc\"", "\"abd\""));
    }
}
