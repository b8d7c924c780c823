//! `parser-ndjson`: one JSON object per line, nested objects flattened to `a.b` columns,
//! column types chosen per batch from the JSON values themselves.

mod decode;

use std::cell::RefCell;

use ferry_guest::Settings;
use ferry_guest::types::Error;

wit_bindgen::generate!({
    world: "parser-plugin",
    path: "../../wit",
    with: {
        "ferry:plugin/types@0.1.0": ferry_guest::types,
        "ferry:plugin/host@0.1.0": ferry_guest::host,
    },
});

use exports::ferry::plugin::parser::{Guest, GuestDecoder, Output};

struct Ndjson;

struct NdjsonDecoder(RefCell<Result<decode::Decoder, Error>>);

fn options() -> Result<decode::Options, Error> {
    let s = Settings::check_known(&["batch_size", "flatten"])?;
    Ok(decode::Options {
        batch_size: s.usize("batch_size", 8192)?,
        flatten: s.bool("flatten", true)?,
    })
}

impl GuestDecoder for NdjsonDecoder {
    fn new(_object_key: String) -> Self {
        NdjsonDecoder(RefCell::new(options().map(decode::Decoder::new)))
    }

    fn push(&self, chunk: Vec<u8>) -> Result<Output, Error> {
        let mut state = self.0.borrow_mut();
        let decoder = state.as_mut().map_err(|e| e.clone())?;
        let mut out = Output { batches: Vec::new(), diagnostics: Vec::new() };
        decoder.push(&chunk, &mut out.batches, &mut out.diagnostics);
        Ok(out)
    }

    fn finish(&self) -> Result<Output, Error> {
        let mut state = self.0.borrow_mut();
        let decoder = state.as_mut().map_err(|e| e.clone())?;
        let mut out = Output { batches: Vec::new(), diagnostics: Vec::new() };
        decoder.finish(&mut out.batches, &mut out.diagnostics);
        Ok(out)
    }
}

impl Guest for Ndjson {
    type Decoder = NdjsonDecoder;
}

// Exported only for the component build; native builds run the unit tests.
#[cfg(target_arch = "wasm32")]
export!(Ndjson);
