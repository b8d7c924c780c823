//! Listing and reading, natively, against a scripted transport: the requests the plugin
//! sends and what it makes of GCS's answers. The component itself runs against
//! fake-gcs-server in the end-to-end tests (`tests/e2e/remote.rs`).

use ferry_guest::remote;
use ferry_guest::testing::{Script, Step, header};
use serde_json::json;

use crate::bucket::Bucket;
use crate::config::{self, Config};

fn cfg(extra: &[(&str, &str)]) -> Config {
    let mut pairs = vec![("bucket", "events"), ("endpoint", "http://gcs.test")];
    pairs.extend_from_slice(extra);
    config::for_tests(&pairs).unwrap()
}

const OBJECTS: &str = "GET http://gcs.test/storage/v1/b/events/o";

#[test]
fn a_listing_goes_page_by_page_without_folder_markers() {
    let cfg = cfg(&[("page_size", "2")]);
    let script = Script::new(vec![
        (
            "GET http://gcs.test/storage/v1/b/events/o?prefix=logs%2F&maxResults=2",
            200,
            json!({"kind": "storage#objects", "items": [
                {"name": "logs/", "size": "0", "generation": "1"},
                {"name": "logs/a.csv", "size": "12", "generation": "1700000000000001", "updated": "2026-01-01T00:00:00Z"},
            ], "nextPageToken": "logs/a.csv"}),
        ),
        (
            "GET http://gcs.test/storage/v1/b/events/o?prefix=logs%2F&maxResults=2&pageToken=logs%2Fa.csv",
            200,
            json!({"kind": "storage#objects", "items": [{"name": "logs/b.csv", "size": "0"}]}),
        ),
    ]);
    let bucket = Bucket::new(&cfg, &script);
    let first = remote::list(&bucket, "logs/", None).unwrap();
    assert_eq!(first.objects.len(), 1);
    assert_eq!(first.objects[0].key, "logs/a.csv");
    assert_eq!(first.objects[0].etag.as_deref(), Some("1700000000000001"));
    assert_eq!(first.next_token.as_deref(), Some("logs/a.csv"));
    let last = remote::list(&bucket, "logs/", first.next_token.as_deref()).unwrap();
    assert_eq!(last.objects[0].key, "logs/b.csv");
    assert_eq!(last.next_token, None);
    script.finished();
}

#[test]
fn a_page_size_above_the_apis_limit_asks_for_the_limit() {
    let cfg = cfg(&[("page_size", "5000")]);
    let script = Script::new(vec![(
        "?prefix=&maxResults=1000",
        200,
        json!({"kind": "storage#objects"}),
    )]);
    remote::list(&Bucket::new(&cfg, &script), "", None).unwrap();
    script.finished();
}

#[test]
fn listing_errors_carry_gcs_reason_and_message() {
    let cfg = cfg(&[]);
    let script = Script::new(vec![(
        OBJECTS,
        404,
        json!({"error": {"code": 404, "message": "The specified bucket does not exist.", "errors": [{"reason": "notFound"}]}}),
    )]);
    let e = remote::list(&Bucket::new(&cfg, &script), "logs/", None).unwrap_err();
    assert_eq!(e.code, "notFound");
    assert_eq!(
        e.message,
        "listing bucket `events` under `logs/` (deleted after it was listed?): GCS answered 404 notFound: The specified bucket does not exist."
    );
    let script = Script::new(vec![(OBJECTS, 200, json!({"items": [{"name": "x"}]}))]);
    let e = remote::list(&Bucket::new(&cfg, &script), "", None).unwrap_err();
    assert_eq!(e.code, "invalid_response");
}

const OBJECT: &str = "GET http://gcs.test/storage/v1/b/events/o/logs%2Fa.csv";

fn metadata(size: u64, generation: &str) -> Step {
    Step::json(
        OBJECT,
        200,
        &json!({"name": "logs/a.csv", "size": size.to_string(), "generation": generation}),
    )
}

fn media(body: &str, generation: &str) -> Step {
    Step::answer(
        &format!("{OBJECT}?alt=media&generation={generation}"),
        206,
        body,
    )
    .header("X-Goog-Generation", generation)
}

#[test]
fn an_object_is_read_in_ranges_of_its_generation() {
    let cfg = cfg(&[]);
    let script = Script::of([
        metadata(10, "17"),
        media("0123", "17"),
        media("456789", "17"),
    ]);
    let bucket = Bucket::new(&cfg, &script);
    assert_eq!(remote::read(&bucket, "logs/a.csv", 0, 4).unwrap(), b"0123");
    assert_eq!(
        remote::read(&bucket, "logs/a.csv", 4, 8).unwrap(),
        b"456789"
    );
    script.finished();
    let ranges: Vec<_> = script
        .sent()
        .iter()
        .skip(1)
        .map(|r| header(r, "range").unwrap().to_owned())
        .collect();
    assert_eq!(ranges, ["bytes=0-3", "bytes=4-9"]);
}

#[test]
fn a_generation_gone_mid_read_is_object_changed() {
    let cfg = cfg(&[]);
    let not_found = json!({"error": {"code": 404, "message": "No such object: events/logs/a.csv", "errors": [{"reason": "notFound"}]}});
    let script = Script::of([
        metadata(10, "17"),
        media("0123", "17"),
        Step::json(OBJECT, 404, &not_found),
    ]);
    let bucket = Bucket::new(&cfg, &script);
    remote::read(&bucket, "logs/a.csv", 0, 4).unwrap();
    let e = remote::read(&bucket, "logs/a.csv", 4, 4).unwrap_err();
    assert_eq!(e.code, "object_changed");
    assert_eq!(
        e.message,
        "reading object `logs/a.csv` in bucket `events`: generation 17 is gone: the object changed or was deleted while it was being read"
    );

    // Gone before the first byte: GCS's own answer.
    let script = Script::of([Step::json(OBJECT, 404, &not_found)]);
    let e = remote::read(&Bucket::new(&cfg, &script), "logs/a.csv", 0, 4).unwrap_err();
    assert_eq!(e.code, "notFound");
    assert_eq!(
        e.message,
        "reading object `logs/a.csv` in bucket `events` (deleted after it was listed?): GCS answered 404 notFound: No such object: events/logs/a.csv"
    );
}

#[test]
fn a_server_that_ignores_the_generation_is_caught_by_the_one_it_sends() {
    let cfg = cfg(&[]);
    let script = Script::of([
        metadata(10, "17"),
        media("0123", "17"),
        Step::answer(&format!("{OBJECT}?alt=media&generation=17"), 206, "4567")
            .header("X-Goog-Generation", "18")
            .header("Content-Range", "bytes 4-7/10"),
    ]);
    let bucket = Bucket::new(&cfg, &script);
    remote::read(&bucket, "logs/a.csv", 0, 4).unwrap();
    // Asked for generation 17 (the request names it), sent 18.
    let e = remote::read(&bucket, "logs/a.csv", 4, 4).unwrap_err();
    assert_eq!(e.code, "object_changed");
    assert_eq!(
        e.message,
        "reading object `logs/a.csv` in bucket `events`: the object changed while it was being read (generation 17 when the read began, now 18)"
    );
}

#[test]
fn a_server_that_ignores_range_is_read_from_the_whole_object() {
    let cfg = cfg(&[]);
    let script = Script::of([
        metadata(10, "17"),
        Step::answer(OBJECT, 200, "0123456789"),
        Step::answer(OBJECT, 200, "0123"),
    ]);
    let bucket = Bucket::new(&cfg, &script);
    assert_eq!(remote::read(&bucket, "logs/a.csv", 0, 4).unwrap(), b"0123");
    let e = remote::read(&bucket, "logs/a.csv", 4, 4).unwrap_err();
    assert_eq!(e.code, "short_read");
    script.finished();
}

#[test]
fn describes_a_source_and_its_settings() {
    use ferry_guest::types::{PluginKind, SettingType};
    let d = <crate::Gcs as crate::about::Guest>::describe();
    assert_eq!(
        (d.name.as_str(), d.kind),
        ("source-gcs", PluginKind::Source)
    );
    let settings: Vec<(&str, SettingType, bool, Option<&str>)> = d
        .settings
        .iter()
        .map(|s| (s.name.as_str(), s.type_, s.required, s.default.as_deref()))
        .collect();
    assert_eq!(
        settings,
        [
            ("bucket", SettingType::String, true, None),
            (
                "endpoint",
                SettingType::String,
                false,
                Some("\"https://storage.googleapis.com\"")
            ),
            ("page_size", SettingType::Integer, false, Some("1000")),
            ("retries", SettingType::Integer, false, Some("5")),
        ]
    );
}
