//! Listing and reading, natively, against a scripted transport: the requests the plugin
//! sends and what it makes of S3's answers. The component itself runs against moto and
//! s3s-fs in the end-to-end tests (`tests/e2e/remote.rs`).

use ferry_guest::remote;
use ferry_guest::testing::{Script, Step, header};

use crate::bucket::Bucket;
use crate::config::{self, Config};

fn cfg(extra: &[(&str, &str)]) -> Config {
    let mut pairs = vec![("bucket", "logs"), ("endpoint", "http://s3.test")];
    pairs.extend_from_slice(extra);
    config::for_tests(&pairs).unwrap()
}

fn page(contents: &[(&str, u64)], next: Option<&str>) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>logs</Name>"#,
    );
    for (key, size) in contents {
        xml.push_str(&format!(
            "<Contents><Key>{key}</Key><ETag>\"e-{size}\"</ETag><Size>{size}</Size></Contents>"
        ));
    }
    match next {
        Some(token) => xml.push_str(&format!(
            "<IsTruncated>true</IsTruncated><NextContinuationToken>{token}</NextContinuationToken>"
        )),
        None => xml.push_str("<IsTruncated>false</IsTruncated>"),
    }
    xml.push_str("</ListBucketResult>");
    xml
}

#[test]
fn a_listing_goes_page_by_page_without_folder_markers() {
    let cfg = cfg(&[("page_size", "2")]);
    let script = Script::of([
        Step::answer(
            "GET http://s3.test/logs/?list-type=2&max-keys=2&prefix=day%2F",
            200,
            page(&[("day/", 0), ("day/a.csv", 12)], Some("tok/1")),
        ),
        Step::answer(
            "GET http://s3.test/logs/?list-type=2&max-keys=2&prefix=day%2F&continuation-token=tok%2F1",
            200,
            page(&[("day/b.csv", 0)], None),
        ),
    ]);
    let bucket = Bucket::new(&cfg, &script);
    let first = remote::list(&bucket, "day/", None).unwrap();
    let keys: Vec<&str> = first.objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys, ["day/a.csv"]);
    assert_eq!(first.objects[0].etag.as_deref(), Some("\"e-12\""));
    assert_eq!(first.next_token.as_deref(), Some("tok/1"));
    let last = remote::list(&bucket, "day/", first.next_token.as_deref()).unwrap();
    // An empty object is data; only an empty key ending in `/` is a folder marker.
    assert_eq!(last.objects[0].key, "day/b.csv");
    assert_eq!(last.next_token, None);
    script.finished();
}

#[test]
fn virtual_hosted_buckets_are_not_in_the_path() {
    let cfg = config::for_tests(&[("bucket", "logs"), ("region", "eu-west-1")]).unwrap();
    let script = Script::of([Step::answer(
        "GET https://logs.s3.eu-west-1.amazonaws.com/?list-type=2&max-keys=1000&prefix=",
        200,
        page(&[], None),
    )]);
    assert!(
        remote::list(&Bucket::new(&cfg, &script), "", None)
            .unwrap()
            .objects
            .is_empty()
    );
    script.finished();
}

#[test]
fn listing_errors_carry_s3s_code_and_message() {
    let cfg = cfg(&[]);
    let script = Script::of([Step::answer(
        "list-type=2",
        403,
        "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error>",
    )]);
    let e = remote::list(&Bucket::new(&cfg, &script), "day/", None).unwrap_err();
    assert_eq!(e.code, "SignatureDoesNotMatch");
    assert_eq!(
        e.message,
        "listing bucket `logs` under `day/`: S3 answered 403 SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided."
    );
    let script = Script::of([Step::answer("list-type=2", 200, "<Error/>")]);
    let e = remote::list(&Bucket::new(&cfg, &script), "", None).unwrap_err();
    assert_eq!(e.code, "invalid_response");
}

fn head(size: u64, etag: &str) -> Step {
    Step::answer("HEAD http://s3.test/logs/day/a%20b.csv", 200, "")
        .header("Content-Length", &size.to_string())
        .header("ETag", etag)
}

#[test]
fn an_object_is_read_in_ranges_pinned_to_its_etag() {
    let cfg = cfg(&[]);
    let script = Script::of([
        head(10, "\"e1\""),
        Step::answer("GET http://s3.test/logs/day/a%20b.csv", 206, "0123").header("ETag", "\"e1\""),
        Step::answer("GET http://s3.test/logs/day/a%20b.csv", 206, "456789")
            .header("ETag", "\"e1\""),
    ]);
    let bucket = Bucket::new(&cfg, &script);
    assert_eq!(remote::read(&bucket, "day/a b.csv", 0, 4).unwrap(), b"0123");
    assert_eq!(
        remote::read(&bucket, "day/a b.csv", 4, 8).unwrap(),
        b"456789"
    );
    script.finished();
    let gets: Vec<_> = script.sent().into_iter().skip(1).collect();
    assert_eq!(header(&gets[0], "range"), Some("bytes=0-3"));
    assert_eq!(header(&gets[1], "range"), Some("bytes=4-9"));
    assert!(gets.iter().all(|r| header(r, "if-match") == Some("\"e1\"")));
}

#[test]
fn an_object_overwritten_mid_read_is_object_changed() {
    let cfg = cfg(&[]);
    let script = Script::of([
        head(10, "\"e1\""),
        Step::answer("GET", 206, "0123"),
        Step::answer(
            "GET",
            412,
            "<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>",
        ),
    ]);
    let bucket = Bucket::new(&cfg, &script);
    remote::read(&bucket, "day/a b.csv", 0, 4).unwrap();
    let e = remote::read(&bucket, "day/a b.csv", 4, 4).unwrap_err();
    assert_eq!(e.code, "object_changed");
    assert_eq!(
        e.message,
        "object `day/a b.csv` in bucket `logs` changed while it was being read (ETag was \"e1\")"
    );
}

#[test]
fn an_object_deleted_after_listing_is_no_such_key() {
    let cfg = cfg(&[]);
    // HEAD answers have no body: the code comes from the status.
    let script = Script::of([Step::answer("HEAD", 404, "")]);
    let e = remote::read(&Bucket::new(&cfg, &script), "gone.csv", 0, 4).unwrap_err();
    assert_eq!(e.code, "NoSuchKey");
    assert_eq!(
        e.message,
        "object `gone.csv` in bucket `logs` does not exist (deleted after it was listed?): S3 answered 404 NoSuchKey"
    );
    let script = Script::of([Step::answer("HEAD", 200, "")]);
    let e = remote::read(&Bucket::new(&cfg, &script), "odd.csv", 0, 4).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        (
            "invalid_response",
            "HeadObject `odd.csv`: no Content-Length"
        )
    );
}

#[test]
fn a_store_that_ignores_range_is_read_from_the_whole_object() {
    let cfg = cfg(&[]);
    let script = Script::of([
        head(10, "\"e1\""),
        Step::answer("GET", 200, "0123456789").header("ETag", "\"e1\""),
        Step::answer("GET", 200, "0123456789").header("ETag", "\"e2\""),
    ]);
    let bucket = Bucket::new(&cfg, &script);
    assert_eq!(remote::read(&bucket, "day/a b.csv", 0, 3).unwrap(), b"012");
    // The whole object again, but another version of it: not mixed into this read.
    let e = remote::read(&bucket, "day/a b.csv", 3, 3).unwrap_err();
    assert_eq!(e.code, "object_changed");
    script.finished();
}

#[test]
fn an_object_without_an_etag_is_read_unpinned() {
    let cfg = cfg(&[]);
    let script = Script::of([
        Step::answer("HEAD", 200, "").header("content-length", "3"),
        Step::answer("GET", 206, "abc"),
    ]);
    assert_eq!(
        remote::read(&Bucket::new(&cfg, &script), "k", 0, 8).unwrap(),
        b"abc"
    );
    assert_eq!(header(&script.request("GET"), "if-match"), None);
}

#[test]
fn describes_a_source_and_its_settings() {
    use ferry_guest::types::{PluginKind, SettingType};
    let d = <crate::S3 as crate::about::Guest>::describe();
    assert_eq!((d.name.as_str(), d.kind), ("source-s3", PluginKind::Source));
    let settings: Vec<(&str, SettingType, bool, Option<&str>)> = d
        .settings
        .iter()
        .map(|s| (s.name.as_str(), s.type_, s.required, s.default.as_deref()))
        .collect();
    assert_eq!(
        settings,
        [
            ("bucket", SettingType::String, true, None),
            ("region", SettingType::String, false, Some("\"us-east-1\"")),
            ("endpoint", SettingType::String, false, None),
            ("path_style", SettingType::Boolean, false, None),
            ("page_size", SettingType::Integer, false, Some("1000")),
            ("retries", SettingType::Integer, false, Some("5")),
        ]
    );
}
