//! `parser-ndjson`: newline-delimited JSON, one object per line, into typed columnar batches.
//! Nested objects become `outer.inner` columns, arrays JSON text. A line that is not a JSON
//! object is skipped with a diagnostic: `invalid_json`, `not_an_object`, `invalid_utf8`.
//!
//! Settings: `batch_size` (8192), `flatten` (true).

mod decode;

use ferry_guest::types::Error;
use ferry_guest::{Output, Settings, StateCell};

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

fn options() -> Result<decode::Options, Error> {
    let settings = Settings::load(&["batch_size", "flatten"])?;
    Ok(decode::Options {
        batch_size: settings.positive("batch_size")?.unwrap_or(8192),
        flatten: settings.bool("flatten")?.unwrap_or(true),
    })
}

struct Ndjson;

impl Guest for Ndjson {
    type Decoder = NdjsonDecoder;
}

/// One object being decoded.
struct NdjsonDecoder(StateCell<decode::Decoder>);

impl GuestDecoder for NdjsonDecoder {
    fn new(_object_key: String) -> Self {
        NdjsonDecoder(StateCell::new(options().map(decode::Decoder::new)))
    }

    fn push(&self, chunk: Vec<u8>) -> Result<Output, Error> {
        self.0.with(|decoder| Ok(decoder.push(&chunk)))
    }

    fn finish(&self) -> Result<Output, Error> {
        self.0.with(|decoder| Ok(decoder.finish()))
    }
}

export!(Ndjson);
