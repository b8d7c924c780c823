//! What plugins' native tests share: [`Script`], a [`Transport`] that answers from a script,
//! so that a source's listing and reads, or a deployer's whole call sequence, run without a
//! network and fail on the first request that is not the one expected; the deployers' test
//! targets with a package on disk; and [`check_settings`], which holds a plugin's settings
//! table to what its code reads.
//!
//! Built for this crate's own tests and, through the `testing` feature, for the plugins'
//! (`ferry-guest = { workspace = true, features = ["testing"] }` under `[dev-dependencies]`),
//! never into a component.

mod table;

pub use table::check_settings;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use crate::deploy::{Target, VersionRef};
use crate::http::{Request, Response, Transport};
use crate::types::Error;

/// One scripted exchange: the request expected (a part of its [`Request::describe`], such as
/// `GET http://s3.test/b/k` or just `:deployModel`) and what the transport gives back.
#[derive(Debug, Clone)]
pub struct Step {
    expect: String,
    /// Headers the request must carry too: what tells apart calls to one URL (SageMaker's
    /// `x-amz-target`).
    with_headers: Vec<(String, String)>,
    answer: Result<Response, Error>,
}

impl Step {
    /// An answer with `body` as it is.
    pub fn answer(expect: &str, status: u16, body: impl Into<Vec<u8>>) -> Step {
        Step {
            expect: expect.to_owned(),
            with_headers: Vec::new(),
            answer: Ok(Response {
                status,
                headers: Vec::new(),
                body: body.into(),
            }),
        }
    }

    /// A JSON answer.
    pub fn json(expect: &str, status: u16, body: &Value) -> Step {
        let bytes = serde_json::to_vec(body).expect("a JSON value serializes");
        Step::answer(expect, status, bytes)
    }

    /// No answer: the transport's error, as `Wasi` gives it once its retries are spent
    /// (`unreachable`) or when the host refuses the request (`host_denied`).
    pub fn fails(expect: &str, code: &str, message: &str) -> Step {
        Step {
            expect: expect.to_owned(),
            with_headers: Vec::new(),
            answer: Err(crate::error(code, message)),
        }
    }

    /// Expects the request to carry the header `name: value` as well.
    pub fn when(mut self, name: &str, value: &str) -> Step {
        self.with_headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The answer with a header added.
    pub fn header(mut self, name: &str, value: &str) -> Step {
        if let Ok(response) = &mut self.answer {
            response
                .headers
                .push((name.to_owned(), value.as_bytes().to_vec()));
        }
        self
    }
}

/// Answers requests from a script, in order, checking each is the one expected, and keeps
/// every request sent for the test to look at.
#[derive(Debug, Default)]
pub struct Script {
    steps: RefCell<VecDeque<Step>>,
    sent: RefCell<Vec<Request>>,
}

impl Script {
    /// A script of JSON answers: `(expected request, status, body)`.
    pub fn new(steps: Vec<(&str, u16, Value)>) -> Script {
        Script::of(
            steps
                .into_iter()
                .map(|(expect, status, body)| Step::json(expect, status, &body)),
        )
    }

    pub fn of(steps: impl IntoIterator<Item = Step>) -> Script {
        Script {
            steps: RefCell::new(steps.into_iter().collect()),
            sent: RefCell::new(Vec::new()),
        }
    }

    /// Every request sent so far, in order.
    pub fn sent(&self) -> Vec<Request> {
        self.sent.borrow().clone()
    }

    /// The first request sent whose description contains `call`.
    pub fn request(&self, call: &str) -> Request {
        let sent = self.sent.borrow();
        let found = sent.iter().find(|r| r.describe().contains(call));
        let described: Vec<String> = sent.iter().map(Request::describe).collect();
        found
            .unwrap_or_else(|| panic!("no {call} in {described:?}"))
            .clone()
    }

    /// The JSON body of [`Script::request`] (`Null` when it has none).
    pub fn body_of(&self, call: &str) -> Value {
        serde_json::from_slice(&self.request(call).body).unwrap_or(Value::Null)
    }

    /// Asserts that every scripted request was sent.
    pub fn finished(&self) {
        let left: Vec<String> = self
            .steps
            .borrow()
            .iter()
            .map(|s| s.expect.clone())
            .collect();
        assert!(left.is_empty(), "not sent: {left:?}");
    }
}

impl Transport for Script {
    fn send(&self, request: &Request) -> Result<Response, Error> {
        let described = request.describe();
        let step = self
            .steps
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| panic!("unexpected {described}"));
        assert!(
            described.contains(&step.expect),
            "sent {described}, expected {}",
            step.expect
        );
        for (name, value) in &step.with_headers {
            assert_eq!(
                header(request, name),
                Some(value.as_str()),
                "{described}: header {name}"
            );
        }
        self.sent.borrow_mut().push(request.clone());
        step.answer
    }
}

/// The value of a request's header (names in any case).
pub fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A deployment `churn` of service `churn` wanting `versions` (`(version, percent)`), with
/// package paths that do not exist; see [`package`] for real ones.
pub fn target(versions: &[(&str, u8)]) -> Target {
    Target {
        deployment: "churn".into(),
        service: "churn".into(),
        stage: "Prod".into(),
        versions: versions
            .iter()
            .map(|(v, p)| VersionRef {
                version: v.to_string(),
                percent: *p,
                archive: format!("/packages/{v}.zip"),
                files: format!("/packages/{v}"),
                sha256: String::new(),
            })
            .collect(),
        state: String::new(),
    }
}

/// A path under the temporary directory that no other call (of this process or another) gets:
/// tests run in parallel, and one writing a file another is reading would make both flaky.
pub fn scratch(tag: &str, name: &str) -> std::path::PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("{tag}-{}-{n}-{name}", std::process::id()))
}

/// An unpacked package of service `churn` at `version` in a temporary directory of its own
/// (`tag` names the plugin whose tests made it): a manifest and one model file.
pub fn package(tag: &str, version: &str) -> String {
    let dir = scratch(tag, version);
    std::fs::create_dir_all(dir.join("model")).unwrap();
    std::fs::write(
        dir.join("manifest.json"),
        format!(r#"{{"service":"churn","version":"{version}"}}"#),
    )
    .unwrap();
    std::fs::write(dir.join("model/weights.json"), "[1,2,3]").unwrap();
    dir.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Endpoint;

    #[test]
    fn a_script_answers_in_order_and_keeps_what_was_sent() {
        let e = Endpoint::parse("http://x.test").unwrap();
        let script = Script::of([
            Step::answer("GET http://x.test/a", 200, "one").header("etag", "\"1\""),
            Step::fails("/b", "unreachable", "refused"),
        ]);
        let r = script
            .send(&Request::get(&e, "/a".into()).header("range", "bytes=0-2"))
            .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"one"[..]));
        assert_eq!(r.header("ETag"), Some("\"1\""));
        let err = script.send(&Request::get(&e, "/b".into())).unwrap_err();
        assert_eq!(err.code, "unreachable");
        script.finished();
        assert_eq!(header(&script.request("/a"), "Range"), Some("bytes=0-2"));
        assert_eq!(script.sent().len(), 2);
    }

    #[test]
    #[should_panic(expected = "sent GET http://x.test/b, expected /a")]
    fn a_request_out_of_turn_fails_the_test() {
        let e = Endpoint::parse("http://x.test").unwrap();
        let script = Script::of([Step::answer("/a", 200, "")]);
        let _ = script.send(&Request::get(&e, "/b".into()));
    }

    #[test]
    #[should_panic(expected = "header x-amz-target")]
    fn a_step_may_ask_for_a_header_too() {
        let e = Endpoint::parse("http://x.test").unwrap();
        let script = Script::of([
            Step::answer("/", 200, "").when("x-amz-target", "SageMaker.A"),
            Step::answer("/", 200, "").when("x-amz-target", "SageMaker.A"),
        ]);
        let a = Request::get(&e, "/".into()).header("X-Amz-Target", "SageMaker.A");
        script.send(&a).unwrap();
        let b = Request::get(&e, "/".into()).header("x-amz-target", "SageMaker.B");
        let _ = script.send(&b);
    }

    #[test]
    #[should_panic(expected = "not sent")]
    fn a_request_never_sent_fails_the_test() {
        Script::of([Step::answer("/a", 200, "")]).finished();
    }
}
