//! What every ferry plugin shares, so that no plugin copies another.
//!
//! - [`types`] and [`host`]: the bindings of the `ferry:plugin` interfaces every world imports,
//!   and [`Output`], the `parser` interface's `output` record. Plugin crates map them in with
//!   wit-bindgen's `with`, so what the helpers here build is the very type their exports
//!   return:
//!
//!   ```text
//!   wit_bindgen::generate!({
//!       world: "parser-plugin",
//!       path: "../../wit",
//!       with: {
//!           "ferry:plugin/types@0.1.0": ferry_guest::types,
//!           "ferry:plugin/host@0.1.0": ferry_guest::host,
//!           "ferry:plugin/parser@0.1.0/output": ferry_guest::Output,
//!       },
//!   });
//!   ```
//! - [`columns`]: columns in Arrow layout; [`rows`] and [`text_batch`]: rows gathered into
//!   batches of a set size; [`typing`]: one set of rules for typing text values.
//! - `arrow_batch` (feature `arrow`, for the parsers that decode through arrow-rs): arrow-rs
//!   record batches into the WIT `batch`; `batch_json` (feature `testing`): WIT batches read
//!   back as JSON rows, for tests that compare them with a fixture's expected values.
//! - [`lines`]: line splitting across chunk boundaries for line-based formats.
//! - [`http`]: requests over `wasi:http` with retries, behind the [`http::Transport`] trait
//!   every plugin sends through (so that its calls run natively against a script);
//!   [`remote`]: what object-store sources share — bucket settings, listing pages, and the one
//!   verified ranged read, pinned to one version; [`s3`]: S3's error answers; [`google`]:
//!   Google Cloud's error answers and operation status codes.
//! - `testing` (feature `testing`, for plugins' unit tests): a scripted transport and test
//!   deployment targets.
//! - [`deploy`]: the `deployer` interface's records and what deployers share (state, names,
//!   the package manifest).
//! - [`settings`] and [`log`]: the plugin's side of the `host` interface; [`state`]: the state
//!   of a WIT resource whose construction can fail.
//!
//! Everything but [`Settings::load`], [`log`] and the bindings is plain Rust, unit-tested on
//! the native target (the generated import stubs compile there; they are just never called).

#[cfg(feature = "arrow")]
pub mod arrow_batch;
#[cfg(any(test, feature = "testing"))]
pub mod batch_json;
pub mod columns;
pub mod deploy;
pub mod google;
pub mod http;
pub mod lines;
pub mod log;
pub mod remote;
pub mod rows;
pub mod s3;
pub mod settings;
pub mod state;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text_batch;
pub mod typing;

mod bindings {
    wit_bindgen::generate!({
        world: "guest-common",
        path: "../../wit",
        additional_derives: [PartialEq],
    });
}

pub use bindings::ferry::plugin::{host, types};
pub use columns::{ColumnBuilder, batch};
pub use settings::Settings;
pub use state::StateCell;
pub use text_batch::TextBatch;
pub use typing::Kind;

use types::{Batch, Diagnostic, Error};

/// The `output` record of the `parser` interface: what one `push` or `finish` decoded.
///
/// It is defined here rather than generated in each parser so that every parser and the
/// helpers here share one type. A parser maps it in with
/// `with: { "ferry:plugin/parser@0.1.0/output": ferry_guest::Output }`; wit-bindgen then lifts
/// and lowers it field by field, so if the WIT record changed, this would fail to compile
/// rather than mismatch.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Output {
    pub batches: Vec<Batch>,
    pub diagnostics: Vec<Diagnostic>,
}

/// An error for a whole call, with its stable code.
pub fn error(code: &str, message: impl Into<String>) -> Error {
    Error {
        code: code.to_owned(),
        message: message.into(),
        row: None,
    }
}

/// A problem with one row, which the parser skipped.
pub fn diagnostic(
    row: u64,
    line: Option<u64>,
    column: Option<&str>,
    code: &str,
    message: impl Into<String>,
) -> Diagnostic {
    Diagnostic {
        row,
        line,
        column: column.map(str::to_owned),
        code: code.to_owned(),
        message: message.into(),
    }
}
