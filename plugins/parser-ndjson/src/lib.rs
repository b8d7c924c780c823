//! `parser-ndjson`: newline-delimited JSON, one object per line, into typed columnar batches.
//! A line that is not a JSON object is skipped with a diagnostic (effect `row-skipped`):
//! `invalid_json`, `not_an_object`, `invalid_utf8`.
//!
//! Nested objects become `outer.inner` columns (`flatten = true`, the default) or struct
//! columns (`flatten = false`); arrays whose items are all booleans, all integers, all numbers
//! or all strings become lists of them; any other value a column cannot type (kinds mixed
//! within a column, arrays of arrays or objects) is kept as JSON text in a utf8 column, with
//! no diagnostic ([`shape`] has the rules).
//!
//! Settings ([`SETTINGS`]): `batch_size` (8192), `first_line` (1: the number of the first line,
//! for a range of a larger object), `flatten` (true).

mod decode;
mod shape;

use ferry_guest::about::Setting;
use ferry_guest::types::{Description, Error, SettingType};
use ferry_guest::{DecoderState, Output, Settings};

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
    Setting::with_default("batch_size", SettingType::Integer, "8192", "rows per batch"),
    Setting::optional(
        "first_line",
        SettingType::Integer,
        "the line number of the first line (default 1); ferry sets it when it parses one large \
         object in ranges",
    ),
    Setting::with_default(
        "flatten",
        SettingType::Boolean,
        "true",
        "nested objects become `outer.inner` columns; false: struct columns",
    ),
];

fn options(settings: &Settings) -> Result<decode::Options, Error> {
    Ok(decode::Options {
        batch_size: settings.positive("batch_size")?.unwrap_or(8192),
        first_line: settings.positive("first_line")?.map_or(1, |l| l as u64),
        flatten: settings.bool("flatten")?.unwrap_or(true),
    })
}

struct Ndjson;

impl about::Guest for Ndjson {
    fn describe() -> Description {
        ferry_guest::describe!(
            Parser,
            "newline-delimited JSON objects into typed columnar batches",
            SETTINGS
        )
    }
}

impl parser::Guest for Ndjson {
    type Decoder = NdjsonDecoder;
}

/// The `decoder` resource: one object being decoded.
struct NdjsonDecoder(DecoderState<decode::Decoder>);

impl parser::GuestDecoder for NdjsonDecoder {
    fn open(_object_key: String) -> Result<parser::Decoder, Error> {
        let options = options(&Settings::load(SETTINGS)?)?;
        let state = DecoderState::new(decode::Decoder::new(options));
        Ok(parser::Decoder::new(NdjsonDecoder(state)))
    }

    fn push(&self, chunk: Vec<u8>) -> Result<Output, Error> {
        self.0.push(&chunk)
    }

    fn finish(&self) -> Result<Output, Error> {
        self.0.finish()
    }
}

export!(Ndjson);

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_guest::types::PluginKind;

    #[test]
    fn the_settings_table_is_what_the_options_read() {
        ferry_guest::testing::check_settings(SETTINGS, &[], options);
    }

    #[test]
    fn describes_both_settings() {
        let d = <Ndjson as about::Guest>::describe();
        assert_eq!(
            (d.name.as_str(), d.kind),
            ("parser-ndjson", PluginKind::Parser)
        );
        let settings: Vec<(&str, SettingType, Option<&str>)> = d
            .settings
            .iter()
            .map(|s| (s.name.as_str(), s.type_, s.default.as_deref()))
            .collect();
        assert_eq!(
            settings,
            [
                ("batch_size", SettingType::Integer, Some("8192")),
                ("first_line", SettingType::Integer, None),
                ("flatten", SettingType::Boolean, Some("true")),
            ]
        );
    }

    #[test]
    fn bad_settings_fail_the_open() {
        let e = Settings::from_pairs(SETTINGS, &[("flatten", "no")])
            .and_then(|s| options(&s))
            .unwrap_err();
        assert_eq!(
            e.message,
            "setting `flatten` = `no`: expected true or false"
        );
    }
}
