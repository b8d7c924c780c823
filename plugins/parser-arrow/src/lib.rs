//! `parser-arrow`: Arrow IPC files and streams into columnar batches, a record batch at a time.
//!
//! The object's first bytes tell the format ([`ipc`]): the file magic `ARROW1` (random access
//! through the footer) or a stream's continuation marker (messages in order; streams written
//! before Arrow 0.15, without the marker, are refused). Each `next` decodes one record batch,
//! of the top-level columns the step asked for, and returns it as WIT batches of at most
//! `batch_size` rows, numbered across the object. Arrow types the WIT lacks are cast to the
//! nearest or refused by [`ferry_guest::arrow_batch`].
//!
//! Failures name the object and, past the schema, the record batch (counted from 0), with its
//! first row as the error's `row`: `invalid_arrow` (neither format, a message that does not decode),
//! `truncated_file` (a file without its footer, a stream cut inside a message; a stream cut
//! exactly between two messages cannot be told from one that ended there), and
//! `unsupported_codec`.
//!
//! Buffer compression: lz4 (pure Rust). Zstandard is the cargo feature `zstd`, off by default:
//! the `zstd` crate is C and needs a C compiler that targets WASI to build for wasm32-wasip2
//! (see `parser-parquet`).
//!
//! Settings ([`SETTINGS`]): `batch_size` (8192).

mod failure;
mod ipc;

use ferry_guest::about::Setting;
use ferry_guest::object::HostObject;
use ferry_guest::types::{Description, Error, SettingType};
use ferry_guest::{Output, Settings, StateCell};

use ipc::IpcBatches;

wit_bindgen::generate!({
    world: "file-parser-plugin",
    path: "../../wit",
    with: {
        "ferry:plugin/types@0.2.0": ferry_guest::types,
        "ferry:plugin/host@0.2.0": ferry_guest::host,
        "ferry:plugin/object@0.2.0": ferry_guest::object,
    },
});

use exports::ferry::plugin::{about, file_parser};

/// Every setting the plugin takes; anything else is refused as a likely typo.
pub const SETTINGS: &[Setting] = &[Setting::with_default(
    "batch_size",
    SettingType::Integer,
    "8192",
    "rows per batch, at most: larger record batches are split",
)];

fn batch_size(settings: &Settings) -> Result<usize, Error> {
    Ok(settings.positive("batch_size")?.unwrap_or(8192))
}

struct Arrow;

impl about::Guest for Arrow {
    fn describe() -> Description {
        ferry_guest::describe!(
            Parser,
            "Arrow IPC files and streams into columnar batches, a record batch at a time",
            SETTINGS
        )
    }
}

impl file_parser::Guest for Arrow {
    type Reader = ArrowReader;
}

/// The `reader` resource: one Arrow IPC object being read.
struct ArrowReader(StateCell<IpcBatches<HostObject>>);

impl file_parser::GuestReader for ArrowReader {
    fn open(
        object_key: String,
        columns: Option<Vec<String>>,
    ) -> Result<file_parser::Reader, Error> {
        let batch_size = batch_size(&Settings::load(SETTINGS)?)?;
        let batches = IpcBatches::open(HostObject, &object_key, columns.as_deref(), batch_size)?;
        Ok(file_parser::Reader::new(ArrowReader(StateCell::new(
            batches,
        ))))
    }

    fn next(&self) -> Result<Option<Output>, Error> {
        self.0.with(|batches| {
            let part = batches.next_batches()?;
            Ok(part.map(|batches| Output {
                batches,
                diagnostics: Vec::new(),
            }))
        })
    }
}

export!(Arrow);

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_guest::types::PluginKind;

    #[test]
    fn the_settings_table_is_what_the_reader_reads() {
        ferry_guest::testing::check_settings(SETTINGS, &[], batch_size);
    }

    #[test]
    fn describes_itself() {
        let d = <Arrow as about::Guest>::describe();
        assert_eq!(
            (d.name.as_str(), d.kind),
            ("parser-arrow", PluginKind::Parser)
        );
        assert_eq!(d.settings.len(), 1);
    }
}
