//! `parser-avro`: Avro object container files into columnar batches, a block at a time.
//!
//! The file is read in order through [`ObjectFile`]: its header at `open` (the writer's
//! schema, the codec, the sync marker), then block after block, each checked against the sync
//! marker before its records are used ([`records`]). Each `next` returns one batch of at most
//! `batch_size` records, numbered from 1 across the file.
//!
//! The schema is mapped once, for the top-level fields the step asked for ([`shape`]):
//! `null`, `boolean`, `int`, `long`, `float`, `double`, `bytes`, `string`, `fixed` (as
//! binary), `enum` (its symbols, as text), `array` (a list), `record` (a struct), a union of
//! `null` and one type (that type, nullable); logical types `date`, `timestamp-millis`/
//! `-micros`/`-nanos` (UTC), `local-timestamp-*` (no zone), `decimal` on bytes or fixed (up
//! to 38 digits) and `uuid` (as text). Refused at `open` as `unsupported_type`, naming the
//! field: other unions, `map`, `time-*`, `duration`, `big-decimal`, recursive records, a
//! schema that is not a record. Fields the step does not ask for are never mapped, so they may
//! be of any type.
//!
//! Failures name the object and, past the header, the first record not decoded (also the
//! error's `row`); the records before it are returned first: `invalid_avro` (not Avro, a sync
//! marker that does not match, a block that does not decode), `truncated_file`,
//! `unsupported_codec`.
//!
//! Codecs: null, deflate, snappy, bzip2 (all pure Rust). Zstandard is the cargo feature
//! `zstandard`, off by default (the `zstd` crate is C: see `parser-parquet`); xz is refused
//! (liblzma is C too).
//!
//! Settings ([`SETTINGS`]): `batch_size` (8192).

mod arrays;
mod failure;
mod records;
mod shape;

use ferry_guest::about::Setting;
use ferry_guest::object::ObjectFile;
use ferry_guest::types::{Description, Error, SettingType};
use ferry_guest::{Output, Settings, StateCell};

use records::Records;

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
    "records per batch, at most",
)];

fn batch_size(settings: &Settings) -> Result<usize, Error> {
    Ok(settings.positive("batch_size")?.unwrap_or(8192))
}

struct Avro;

impl about::Guest for Avro {
    fn describe() -> Description {
        ferry_guest::describe!(
            Parser,
            "Avro object container files into columnar batches, a block at a time",
            SETTINGS
        )
    }
}

impl file_parser::Guest for Avro {
    type Reader = AvroReader;
}

/// The `reader` resource: one Avro object being read.
struct AvroReader(StateCell<Records<ObjectFile>>);

impl file_parser::GuestReader for AvroReader {
    fn open(
        object_key: String,
        columns: Option<Vec<String>>,
    ) -> Result<file_parser::Reader, Error> {
        let batch_size = batch_size(&Settings::load(SETTINGS)?)?;
        let records = Records::open(
            ObjectFile::open(),
            &object_key,
            columns.as_deref(),
            batch_size,
        )?;
        Ok(file_parser::Reader::new(AvroReader(StateCell::new(
            records,
        ))))
    }

    fn next(&self) -> Result<Option<Output>, Error> {
        self.0.with(|records| {
            let batch = records.next_batch()?;
            Ok(batch.map(|batch| Output {
                batches: vec![batch],
                diagnostics: Vec::new(),
            }))
        })
    }
}

export!(Avro);

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
        let d = <Avro as about::Guest>::describe();
        assert_eq!(
            (d.name.as_str(), d.kind),
            ("parser-avro", PluginKind::Parser)
        );
        assert_eq!(d.settings.len(), 1);
    }
}
