//! `parser-csv`: streaming CSV into typed columnar batches.
//!
//! Quoted fields may hold delimiters and line breaks, and chunks may end anywhere. Quoting is
//! strict: text after a closing quote skips the row (`bad_quote`) and a quoted field still open
//! at the end fails the object (`unterminated_quote`). Each other bad row is skipped with a
//! diagnostic naming its row, line and field: `ragged_row`, `invalid_utf8`, `invalid_value`
//! (each with effect `row-skipped`).
//!
//! Header names that are empty or repeated (R's `write.csv` writes `""` for its row names) get
//! generated ones, as pandas, DuckDB and Polars do ([`header`]): an empty name becomes
//! `column_<N>` (N its position), a repeat of `x` becomes `x_2`, `x_3`, … (never a name written
//! elsewhere in the header). Each renaming is a `renamed_column` diagnostic on **row 0**, the
//! header, with the header's line and the new name as its column, and effect `warning`: it
//! skips no row, so the job's status still follows its rows (a file whose only problem is its
//! header ends `SUCCESS`) and the renaming shows in its `parseExceptions`. A
//! header name that is not UTF-8 or has text after its closing quote still fails the object
//! (`invalid_header`).
//!
//! Settings ([`SETTINGS`]): `delimiter` (`,`; `\t` for tabs), `quote` (`"`), `escape` (none),
//! `header` (true; else columns are `column_1`…), `batch_size` (8192), `first_line` (the line
//! number after the header, for a range of a larger object: see the host's `engine::split`),
//! `input_schema` (column →
//! type: `utf8`/`string`, `boolean`, `int32`, `int64`, `float32`, `float64`, `date`/`date32`,
//! `timestamp`, `decimal(p,s)`; see [`ferry_guest::typing`]: a date is `YYYY-MM-DD`, a
//! timestamp RFC 3339 with its offset, stored as UTC microseconds, a decimal its exact digits).

mod decode;
mod header;
mod scan;

use ferry_guest::about::Setting;
use ferry_guest::types::{Description, Error, SettingType};
use ferry_guest::{Decode, DecoderState, Output, Settings, error, log};

wit_bindgen::generate!({
    world: "parser-plugin",
    path: "../../wit",
    with: {
        "ferry:plugin/types@0.2.0": ferry_guest::types,
        "ferry:plugin/host@0.2.0": ferry_guest::host,
    },
});

use exports::ferry::plugin::{about, parser};

/// Every setting the plugin takes; anything else is refused as a likely typo.
pub const SETTINGS: &[Setting] = &[
    Setting::with_default(
        "delimiter",
        SettingType::Character,
        ",",
        "the byte between fields; a tab may be written `\\t`",
    ),
    Setting::with_default(
        "quote",
        SettingType::Character,
        "\"",
        "the byte around fields that hold delimiters, quotes or line breaks",
    ),
    Setting::optional(
        "escape",
        SettingType::Character,
        "a byte that escapes the next one inside quotes (default none: quotes are doubled)",
    ),
    Setting::with_default(
        "header",
        SettingType::Boolean,
        "true",
        "the first record names the columns; false: they are column_1, column_2, …",
    ),
    Setting::with_default("batch_size", SettingType::Integer, "8192", "rows per batch"),
    Setting::optional(
        "first_line",
        SettingType::Integer,
        "the line number of the first line after the header (default: lines are counted from \
         the object's start); ferry sets it when it parses one large object in ranges",
    ),
    Setting::optional(
        "input_schema",
        SettingType::Table,
        "column = type (utf8, boolean, int32, int64, float32, float64, date, timestamp, \
         decimal(p,s)); other columns are inferred per batch",
    ),
];

/// The decoder's options from the step's settings.
fn options(settings: &Settings) -> Result<decode::Options, Error> {
    let options = decode::Options {
        delimiter: settings.ascii_char("delimiter")?.unwrap_or(b','),
        quote: settings.ascii_char("quote")?.unwrap_or(b'"'),
        escape: settings.ascii_char("escape")?,
        header: settings.bool("header")?.unwrap_or(true),
        batch_size: settings.positive("batch_size")?.unwrap_or(8192),
        first_line: settings.positive("first_line")?.map(|l| l as u64),
        schema: settings.schema("input_schema")?,
    };
    options
        .check()
        .map_err(|message| error("invalid_setting", message))?;
    Ok(options)
}

struct Csv;

impl about::Guest for Csv {
    fn describe() -> Description {
        ferry_guest::describe!(
            Parser,
            "streaming CSV into typed columnar batches",
            SETTINGS
        )
    }
}

impl parser::Guest for Csv {
    type Decoder = CsvDecoder;
}

/// The `decoder` resource: one object being decoded.
struct CsvDecoder(DecoderState<Logged>);

/// The decoder, with the object's key to name it in the log.
struct Logged {
    key: String,
    decoder: decode::Decoder,
}

impl Logged {
    /// Runs `call`, then logs what the decoder had to say that is no row's problem.
    fn call(
        &mut self,
        call: impl FnOnce(&mut decode::Decoder) -> Result<Output, Error>,
    ) -> Result<Output, Error> {
        let output = call(&mut self.decoder);
        for warning in self.decoder.take_warnings() {
            log::warn(&format!("{}: {warning}", self.key));
        }
        output
    }
}

impl Decode for Logged {
    fn push(&mut self, chunk: &[u8]) -> Result<Output, Error> {
        self.call(|decoder| decoder.push(chunk))
    }

    fn finish(&mut self) -> Result<Output, Error> {
        self.call(decode::Decoder::finish)
    }
}

impl parser::GuestDecoder for CsvDecoder {
    fn open(object_key: String) -> Result<parser::Decoder, Error> {
        let options = options(&Settings::load(SETTINGS)?)?;
        let decoder = decode::Decoder::new(options);
        let state = DecoderState::new(Logged {
            key: object_key,
            decoder,
        });
        Ok(parser::Decoder::new(CsvDecoder(state)))
    }

    fn push(&self, chunk: Vec<u8>) -> Result<Output, Error> {
        self.0.push(&chunk)
    }

    fn finish(&self) -> Result<Output, Error> {
        self.0.finish()
    }
}

export!(Csv);

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_guest::Kind;
    use ferry_guest::types::PluginKind;

    #[test]
    fn the_settings_table_is_what_the_options_read() {
        ferry_guest::testing::check_settings(SETTINGS, &[], options);
    }

    #[test]
    fn describes_every_setting() {
        let d = <Csv as about::Guest>::describe();
        assert_eq!(
            (d.name.as_str(), d.kind),
            ("parser-csv", PluginKind::Parser)
        );
        let settings: Vec<(&str, SettingType, Option<&str>)> = d
            .settings
            .iter()
            .map(|s| (s.name.as_str(), s.type_, s.default.as_deref()))
            .collect();
        assert_eq!(
            settings,
            [
                ("delimiter", SettingType::Character, Some("\",\"")),
                ("quote", SettingType::Character, Some(r#""\"""#)),
                ("escape", SettingType::Character, None),
                ("header", SettingType::Boolean, Some("true")),
                ("batch_size", SettingType::Integer, Some("8192")),
                ("first_line", SettingType::Integer, None),
                ("input_schema", SettingType::Table, None),
            ]
        );
    }

    #[test]
    fn bad_settings_fail_the_open() {
        let settings = |pairs| Settings::from_pairs(SETTINGS, pairs).and_then(|s| options(&s));
        let e = settings(&[("delimiter", "\"")]).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            (
                "invalid_setting",
                "settings `delimiter` and `quote` are both `\\\"`"
            )
        );
        let e = settings(&[("input_schema", r#"{"price":"decimal(39,2)"}"#)]).unwrap_err();
        assert!(
            e.message.contains("decimal(p,s) (p 1 to 38"),
            "{}",
            e.message
        );
        let o = settings(&[("input_schema", r#"{"price":"decimal(10,2)","day":"date"}"#)]).unwrap();
        let mut schema = o.schema;
        schema.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            schema,
            [
                ("day".to_owned(), Kind::Date32),
                (
                    "price".to_owned(),
                    Kind::from_name("decimal(10,2)").unwrap()
                )
            ]
        );
    }
}
