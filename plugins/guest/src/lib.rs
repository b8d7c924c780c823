//! What every ferry plugin shares, so that no plugin copies another.
//!
//! - [`types`] and [`host`]: the bindings of the `ferry:plugin@0.2.0` interfaces every world
//!   imports; [`Output`], what a parser's call decoded, and [`types::Description`], what
//!   `describe` returns, are among the shared types. Plugin crates map them in with
//!   wit-bindgen's `with`, so what the helpers here build is the very type their exports
//!   return:
//!
//!   ```text
//!   wit_bindgen::generate!({
//!       world: "parser-plugin",
//!       path: "../../wit",
//!       with: {
//!           "ferry:plugin/types@0.2.0": ferry_guest::types,
//!           "ferry:plugin/host@0.2.0": ferry_guest::host,
//!       },
//!   });
//!   ```
//!
//!   A file parser (world `file-parser-plugin`) maps its `object` import too:
//!   `"ferry:plugin/object@0.2.0": ferry_guest::object`.
//! - [`about`]: a plugin's settings, declared once as a table that both [`Settings::load`]
//!   checks against and `describe` returns ([`describe!`]).
//! - [`columns`]: scalar columns in Arrow layout, of every [`Kind`]; [`nested`]: list and
//!   struct columns, which a batch carries depth-first; [`rows`] and [`text_batch`]: rows
//!   gathered into batches of a set size; [`typing`]: one set of rules for typing text
//!   values; [`calendar`]: days and dates.
//! - `arrow_batch` (feature `arrow`, for the parsers that decode through arrow-rs): arrow-rs
//!   record batches into the WIT `batch`; `batch_json` (feature `testing`): WIT batches read
//!   back as JSON rows, for tests that compare them with a fixture's expected values.
//! - [`decoder`]: what every streaming parser's `decoder` resource does around its format;
//!   [`lines`]: line splitting across chunk boundaries for line-based formats; [`object`]: the
//!   object a file parser reads, as `Read + Seek`.
//! - [`http`]: requests over `wasi:http` with retries, behind the [`http::Transport`] trait
//!   every plugin sends through (so that its calls run natively against a script);
//!   [`remote`]: what object-store sources share — bucket settings, listing pages, and the one
//!   verified ranged read, pinned to one version; [`s3`]: S3's error answers; [`google`]:
//!   Google Cloud's error answers and operation status codes.
//! - `testing` (feature `testing`, for plugins' unit tests): a scripted transport, test
//!   deployment targets, and the check that a settings table says what the code does.
//! - [`deploy`]: the `deployer` interface's records and what deployers share (state, names,
//!   the package manifest).
//! - [`settings`] and [`log`]: the plugin's side of the `host` interface; [`state`]: the state
//!   of a WIT resource, failed for good once a call fails.
//!
//! Everything but [`Settings::load`], [`log`], [`object::HostObject`] and the bindings is plain
//! Rust, unit-tested on the native target (the generated import stubs compile there; they are
//! just never called).

pub mod about;
#[cfg(feature = "arrow")]
pub mod arrow_batch;
#[cfg(any(test, feature = "testing"))]
pub mod batch_json;
pub mod calendar;
pub mod columns;
pub mod decoder;
pub mod deploy;
pub mod google;
pub mod http;
pub mod lines;
pub mod log;
pub mod nested;
pub mod object;
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
pub use decoder::{Decode, DecoderState};
pub use settings::Settings;
pub use state::StateCell;
pub use text_batch::TextBatch;
/// What one call of a parser decoded: batches, and the diagnostics of the rows it skipped or
/// changed. The `output` record of `types`, so every parser and the helpers here share it.
pub use types::Output;
pub use typing::Kind;

use types::{Diagnostic, Effect, Error};

/// Nothing decoded (yet): what a call adds its batches and diagnostics to.
impl Default for Output {
    fn default() -> Self {
        Output {
            batches: Vec::new(),
            diagnostics: Vec::new(),
        }
    }
}

/// An error for a whole call, with its stable code.
pub fn error(code: &str, message: impl Into<String>) -> Error {
    Error {
        code: code.to_owned(),
        message: message.into(),
        row: None,
    }
}

/// A problem with one row, and what it did to the row: [`Effect::RowSkipped`] for a row left
/// out, [`Effect::ValueNulled`] for a value stored as null in a row kept,
/// [`Effect::Warning`] for what changed nothing (on row 0, a header name made up).
pub fn diagnostic(
    effect: Effect,
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
        effect,
    }
}
