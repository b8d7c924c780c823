//! `parser-csv`: streaming CSV (RFC 4180 quoting, quoted newlines, any chunk boundaries) into
//! typed columnar batches. Each bad row is skipped with a diagnostic naming its row, line and
//! field; an unterminated quote fails the object.

mod decode;

use std::cell::RefCell;

use ferry_guest::types::Error;
use ferry_guest::Settings;

wit_bindgen::generate!({
    world: "parser-plugin",
    path: "../../wit",
    with: {
        "ferry:plugin/types@0.1.0": ferry_guest::types,
        "ferry:plugin/host@0.1.0": ferry_guest::host,
    },
});

use exports::ferry::plugin::parser::{Guest, GuestDecoder, Output};

struct Csv;

/// The WIT resource: one decoder per object. `Err` from construction is kept and reported by
/// the first call, since a WIT constructor cannot fail.
struct CsvDecoder(RefCell<Result<decode::Decoder, Error>>);

fn options() -> Result<decode::Options, Error> {
    let s = Settings::check_known(&["delimiter", "quote", "escape", "header", "batch_size", "input_schema"])?;
    let schema = s.schema("input_schema")?;
    Ok(decode::Options {
        delimiter: s.byte("delimiter", Some(b','))?.unwrap_or(b','),
        quote: s.byte("quote", Some(b'"'))?.unwrap_or(b'"'),
        escape: s.byte("escape", None)?,
        header: s.bool("header", true)?,
        batch_size: s.usize("batch_size", 8192)?,
        schema,
    })
}

impl GuestDecoder for CsvDecoder {
    fn new(_object_key: String) -> Self {
        CsvDecoder(RefCell::new(options().map(decode::Decoder::new)))
    }

    fn push(&self, chunk: Vec<u8>) -> Result<Output, Error> {
        let mut state = self.0.borrow_mut();
        let decoder = state.as_mut().map_err(|e| e.clone())?;
        let mut out = decode::Out::default();
        decoder.push(&chunk, &mut out)?;
        Ok(Output { batches: out.batches, diagnostics: out.diagnostics })
    }

    fn finish(&self) -> Result<Output, Error> {
        let mut state = self.0.borrow_mut();
        let decoder = state.as_mut().map_err(|e| e.clone())?;
        let mut out = decode::Out::default();
        decoder.finish(&mut out)?;
        Ok(Output { batches: out.batches, diagnostics: out.diagnostics })
    }
}

impl Guest for Csv {
    type Decoder = CsvDecoder;
}

// Exported only for the component build; native builds run the unit tests.
#[cfg(target_arch = "wasm32")]
export!(Csv);
