//! `parser-parquet`: Parquet files into columnar batches, a row group at a time.
//!
//! The file is read through the `object` import, never whole: the footer at `open`, then the
//! pages of one row group at a time ([`row_groups`]), of the columns the step asked for
//! (projected by their root name, so `point` brings `point.x` and `point.label`). Each `next`
//! returns one batch of at most `batch_size` rows; a batch never spans two row groups, and its
//! rows are numbered across the whole file. Every column type the WIT carries is read as such
//! (dictionary-encoded columns as their values); the rest are cast or refused by
//! [`ferry_guest::arrow_batch`].
//!
//! Failures name the object and, past the footer, the row group (counted from 0, as Parquet
//! tools count them), with the row group's first row as the error's `row`: `invalid_parquet` (not Parquet, a corrupt footer or page),
//! `truncated_file` (the file ends before its own structure does), `unsupported_codec`,
//! `unsupported_parquet` (a feature parquet-rs does not implement).
//!
//! Codecs: uncompressed, snappy, gzip, lz4 (both Parquet flavours), all pure Rust. Zstandard
//! is the cargo feature `zstd`, off by default: the `zstd` crate is C, and building it for
//! wasm32-wasip2 takes a C compiler that targets WASI (Debian's `clang-14`, `wasi-libc`, with
//! `CC_wasm32_wasip2=clang-14 CFLAGS_wasm32_wasip2=--target=wasm32-wasi`). Brotli and LZO are
//! refused as `unsupported_codec`.
//!
//! Settings ([`SETTINGS`]): `batch_size` (8192).

mod failure;
mod object_chunks;
mod row_groups;

use ferry_guest::about::Setting;
use ferry_guest::object::HostObject;
use ferry_guest::types::{Description, Error, SettingType};
use ferry_guest::{Output, Settings, StateCell};

use object_chunks::ObjectChunks;
use row_groups::RowGroups;

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
    "rows per batch, at most (a batch never spans two row groups)",
)];

fn batch_size(settings: &Settings) -> Result<usize, Error> {
    Ok(settings.positive("batch_size")?.unwrap_or(8192))
}

struct Parquet;

impl about::Guest for Parquet {
    fn describe() -> Description {
        ferry_guest::describe!(
            Parser,
            "Parquet files into columnar batches, a row group at a time",
            SETTINGS
        )
    }
}

impl file_parser::Guest for Parquet {
    type Reader = ParquetReader;
}

/// The `reader` resource: one Parquet object being read.
struct ParquetReader(StateCell<RowGroups<ObjectChunks<HostObject>>>);

impl file_parser::GuestReader for ParquetReader {
    fn open(
        object_key: String,
        columns: Option<Vec<String>>,
    ) -> Result<file_parser::Reader, Error> {
        let batch_size = batch_size(&Settings::load(SETTINGS)?)?;
        let source = ObjectChunks::new(HostObject);
        let groups = RowGroups::open(source, &object_key, columns.as_deref(), batch_size)?;
        Ok(file_parser::Reader::new(ParquetReader(StateCell::new(
            groups,
        ))))
    }

    fn next(&self) -> Result<Option<Output>, Error> {
        self.0.with(|groups| {
            let batch = groups.next_batch()?;
            Ok(batch.map(|batch| Output {
                batches: vec![batch],
                diagnostics: Vec::new(),
            }))
        })
    }
}

export!(Parquet);

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
        let d = <Parquet as about::Guest>::describe();
        assert_eq!(
            (d.name.as_str(), d.kind),
            ("parser-parquet", PluginKind::Parser)
        );
        assert_eq!(d.settings.len(), 1);
        assert_eq!(d.settings[0].default.as_deref(), Some("8192"));
    }
}
