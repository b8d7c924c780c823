//! `parser-logfmt`: the worked example of the README's "Write your own plugin".
//! Each line is `key=value key2="quoted value"`; columns are the keys in order of first
//! appearance, typed by ferry-guest's inference. A token without `=` skips the line.

use std::cell::RefCell;

use ferry_guest::types::{Diagnostic, Error};
use ferry_guest::{BatchBuilder, ColumnBuilder, Settings, diagnostic, infer};

wit_bindgen::generate!({
    world: "parser-plugin",
    path: "../../wit",
    with: {
        "ferry:plugin/types@0.1.0": ferry_guest::types,
        "ferry:plugin/host@0.1.0": ferry_guest::host,
    },
});

use exports::ferry::plugin::parser::{Guest, GuestDecoder, Output};

/// Lines not yet ended by a newline, and the rows decoded so far.
#[derive(Default)]
struct Logfmt {
    partial: Vec<u8>,
    line: u64,
    rows: Vec<(u64, Vec<(String, String)>)>,
}

impl Logfmt {
    fn line(&mut self, text: &str, diagnostics: &mut Vec<Diagnostic>) {
        self.line += 1;
        if text.trim().is_empty() {
            return;
        }
        match pairs(text) {
            Ok(pairs) => self.rows.push((self.line, pairs)),
            Err(token) => diagnostics.push(diagnostic(self.line, Some(self.line), None, "invalid_pair", format!("`{token}` is not key=value"))),
        }
    }

    /// Everything decoded so far as one batch, typed per column.
    fn batch(&mut self) -> Output {
        let rows = std::mem::take(&mut self.rows);
        let mut keys: Vec<&str> = Vec::new();
        for (_, pairs) in &rows {
            keys.extend(pairs.iter().map(|(k, _)| k.as_str()).filter(|k| !keys.contains(k)).collect::<Vec<_>>());
        }
        let mut batch = BatchBuilder { row_numbers: rows.iter().map(|(n, _)| *n).collect(), columns: Vec::new() };
        for key in keys {
            let kind = infer::infer(rows.iter().map(|(_, p)| value(p, key)));
            let mut column = ColumnBuilder::new(key, kind);
            for (_, pairs) in &rows {
                column.push_parsed(value(pairs, key)).expect("inferred kinds fit every value");
            }
            batch.columns.push(column.finish());
        }
        let batches = if rows.is_empty() { Vec::new() } else { vec![batch.finish()] };
        Output { batches, diagnostics: Vec::new() }
    }
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Splits `a=1 b="x y"` into pairs; returns the offending token on error.
fn pairs(line: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=').ok_or_else(|| rest.split_whitespace().next().unwrap_or(rest).to_owned())?;
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(key.to_owned());
        }
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => quoted.split_once('"').ok_or_else(|| after.to_owned())?,
            None => after.split_once(' ').unwrap_or((after, "")),
        };
        out.push((key.to_owned(), value.to_owned()));
        rest = next.trim_start();
    }
    Ok(out)
}

struct Parser(RefCell<Logfmt>);

impl GuestDecoder for Parser {
    fn new(_object_key: String) -> Self {
        Parser(RefCell::new(Logfmt::default()))
    }

    fn push(&self, chunk: Vec<u8>) -> Result<Output, Error> {
        Settings::check_known(&[])?;
        let mut state = self.0.borrow_mut();
        state.partial.extend_from_slice(&chunk);
        let mut diagnostics = Vec::new();
        // Only whole lines are decoded; a chunk may end mid-line (or mid-character).
        if let Some(end) = state.partial.iter().rposition(|&b| b == b'\n') {
            let complete: Vec<u8> = state.partial.drain(..=end).collect();
            for line in complete[..end].split(|&b| b == b'\n') {
                state.line(&String::from_utf8_lossy(line), &mut diagnostics);
            }
        }
        Ok(Output { batches: Vec::new(), diagnostics })
    }

    fn finish(&self) -> Result<Output, Error> {
        let mut state = self.0.borrow_mut();
        let mut diagnostics = Vec::new();
        let last = std::mem::take(&mut state.partial);
        state.line(&String::from_utf8_lossy(&last), &mut diagnostics);
        let mut output = state.batch();
        output.diagnostics = diagnostics;
        Ok(output)
    }
}

impl Guest for Parser {
    type Decoder = Parser;
}

// Exported only for the component build; native builds run the unit tests.
#[cfg(target_arch = "wasm32")]
export!(Parser);
