//! `parser-csv`: streaming CSV into typed columnar batches.
//!
//! Quoted fields may hold delimiters and line breaks, and chunks may end anywhere. Quoting is
//! strict: text after a closing quote skips the row (`bad_quote`) and a quoted field still open
//! at the end fails the object (`unterminated_quote`). Each other bad row is skipped with a
//! diagnostic naming its row, line and field: `ragged_row`, `invalid_utf8`, `invalid_value`.
//!
//! Header names that are empty or repeated (R's `write.csv` writes `""` for its row names) get
//! generated ones, as pandas, DuckDB and Polars do ([`header`]): an empty name becomes
//! `column_<N>` (N its position), a repeat of `x` becomes `x_2`, `x_3`, … (never a name written
//! elsewhere in the header). Each renaming is a `renamed_column` diagnostic on **row 0**, the
//! header, with the header's line and the new name as its column: the host takes row 0 as a
//! warning that skips no row, so the job's status still follows its rows (a file whose only
//! problem is its header ends `SUCCESS`) and the renaming shows in its `parseExceptions`. A
//! header name that is not UTF-8 or has text after its closing quote still fails the object
//! (`invalid_header`).
//!
//! Settings: `delimiter` (`,`; `\t` for tabs), `quote` (`"`), `escape` (none), `header`
//! (true; else columns are `column_1`…), `batch_size` (8192), `input_schema` (column → type).

mod decode;
mod header;
mod scan;

use ferry_guest::types::Error;
use ferry_guest::{Output, Settings, StateCell, error, log};

wit_bindgen::generate!({
    world: "parser-plugin",
    path: "../../wit",
    with: {
        "ferry:plugin/types@0.1.0": ferry_guest::types,
        "ferry:plugin/host@0.1.0": ferry_guest::host,
        "ferry:plugin/parser@0.1.0/output": ferry_guest::Output,
    },
});

use exports::ferry::plugin::parser::{Guest, GuestDecoder};

const SETTINGS: &[&str] = &[
    "delimiter",
    "quote",
    "escape",
    "header",
    "batch_size",
    "input_schema",
];

fn options() -> Result<decode::Options, Error> {
    let settings = Settings::load(SETTINGS)?;
    let options = decode::Options {
        delimiter: settings.ascii_char("delimiter")?.unwrap_or(b','),
        quote: settings.ascii_char("quote")?.unwrap_or(b'"'),
        escape: settings.ascii_char("escape")?,
        header: settings.bool("header")?.unwrap_or(true),
        batch_size: settings.positive("batch_size")?.unwrap_or(8192),
        schema: settings.schema("input_schema")?,
    };
    options
        .check()
        .map_err(|message| error("invalid_setting", message))?;
    Ok(options)
}

struct Csv;

impl Guest for Csv {
    type Decoder = CsvDecoder;
}

/// One object being decoded. Its key names it in the log.
struct CsvDecoder {
    key: String,
    state: StateCell<decode::Decoder>,
}

impl CsvDecoder {
    fn call(
        &self,
        call: impl FnOnce(&mut decode::Decoder) -> Result<Output, Error>,
    ) -> Result<Output, Error> {
        self.state.with(|decoder| {
            let output = call(decoder);
            for warning in decoder.take_warnings() {
                log::warn(&format!("{}: {warning}", self.key));
            }
            output
        })
    }
}

impl GuestDecoder for CsvDecoder {
    fn new(object_key: String) -> Self {
        CsvDecoder {
            key: object_key,
            state: StateCell::new(options().map(decode::Decoder::new)),
        }
    }

    fn push(&self, chunk: Vec<u8>) -> Result<Output, Error> {
        self.call(|decoder| decoder.push(&chunk))
    }

    fn finish(&self) -> Result<Output, Error> {
        self.call(decode::Decoder::finish)
    }
}

export!(Csv);
