//! `{{name}}`: a ferry parser. Each line is `name<delimiter>score`; the columns are `name`
//! (text) and `score`, typed per batch by ferry-guest's inference (a number becomes int64 or
//! float64). A line without the delimiter is skipped with a `bad_line` diagnostic naming it.
//!
//! Build and try it: `ferry plugin build`, then
//! `ferry plugin test build/{{module}}.wasm --input sample/scores.txt`.

use ferry_guest::about::Setting;
use ferry_guest::lines::{Line, Lines};
use ferry_guest::types::{Description, Error, SettingType};
use ferry_guest::{Decode, DecoderState, Output, Settings, TextBatch};

// Bindings for the world this component implements (`wit/` holds the WIT package). The shared
// types and host functions come from ferry-guest, so its helpers build them directly.
wit_bindgen::generate!({
    world: "parser-plugin",
    path: "wit",
    with: {
        "ferry:plugin/types@{{wit_version}}": ferry_guest::types,
        "ferry:plugin/host@{{wit_version}}": ferry_guest::host,
    },
});

use exports::ferry::plugin::{about, parser};

/// Every setting the plugin takes; `describe` reports them and `ferry validate` checks a
/// workflow's `parser_settings` against them without running the plugin.
const SETTINGS: &[Setting] = &[Setting::with_default(
    "delimiter",
    SettingType::Character,
    ",",
    "the character between a line's name and its score",
)];

const BATCH_SIZE: usize = 8192;

struct Plugin;

impl about::Guest for Plugin {
    fn describe() -> Description {
        ferry_guest::describe!(Parser, "name<delimiter>score lines into typed columns", SETTINGS)
    }
}

impl parser::Guest for Plugin {
    type Decoder = Decoder;
}

export!(Plugin);

/// The `decoder` resource: one per object.
struct Decoder(DecoderState<Rows>);

impl parser::GuestDecoder for Decoder {
    fn open(_object_key: String) -> Result<parser::Decoder, Error> {
        // Bad settings fail here, before any byte is read.
        let settings = Settings::load(SETTINGS)?;
        let delimiter = settings.ascii_char("delimiter")?.unwrap_or(b',');
        Ok(parser::Decoder::new(Decoder(DecoderState::new(Rows::new(delimiter)))))
    }

    fn push(&self, chunk: Vec<u8>) -> Result<Output, Error> {
        self.0.push(&chunk)
    }

    fn finish(&self) -> Result<Output, Error> {
        self.0.finish()
    }
}

/// One object's decoding: the unfinished last line and the batch being gathered.
struct Rows {
    delimiter: char,
    lines: Lines,
    batch: TextBatch,
}

impl Rows {
    fn new(delimiter: u8) -> Self {
        Rows {
            delimiter: delimiter as char,
            lines: Lines::default(),
            batch: TextBatch::new(BATCH_SIZE, Vec::new()),
        }
    }
}

impl Decode for Rows {
    fn push(&mut self, chunk: &[u8]) -> Result<Output, Error> {
        let mut out = Output::default();
        let (batch, delimiter) = (&mut self.batch, self.delimiter);
        self.lines.push(chunk, |line| add(batch, delimiter, line, &mut out));
        Ok(out)
    }

    fn finish(&mut self) -> Result<Output, Error> {
        let mut out = Output::default();
        let (batch, delimiter) = (&mut self.batch, self.delimiter);
        self.lines.finish(|line| add(batch, delimiter, line, &mut out));
        out.batches.extend(batch.take());
        Ok(out)
    }
}

/// Adds a line as a row, or its diagnostic; hands over the batch once it is full.
fn add(rows: &mut TextBatch, delimiter: char, line: Line<'_>, out: &mut Output) {
    let added = line.text().and_then(|text| {
        let (name, score) = split(text, delimiter).ok_or_else(|| {
            line.skip("bad_line", format!("expected name{delimiter}score, got `{text}`"))
        })?;
        rows.push_named(line.row, [("name", name), ("score", score)])
            .map_err(|e| e.diagnostic(line.row, Some(line.line)))
    });
    match added {
        Err(diagnostic) => out.diagnostics.push(diagnostic),
        Ok(()) if rows.is_full() => out.batches.extend(rows.take()),
        Ok(()) => {}
    }
}

/// `name` and `score` of a line, trimmed; `None` without the delimiter.
fn split(line: &str, delimiter: char) -> Option<(&str, &str)> {
    let (name, score) = line.split_once(delimiter)?;
    Some((name.trim(), score.trim()))
}

// Unit tests of the pure logic run natively: `cargo test`.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_at_the_delimiter() {
        assert_eq!(split("a, 1.5", ','), Some(("a", "1.5")));
        assert_eq!(split("a;2", ';'), Some(("a", "2")));
        assert_eq!(split("no delimiter", ','), None);
    }

    #[test]
    fn a_bad_line_is_skipped_with_its_row() {
        let mut rows = Rows::new(b',');
        let mut out = rows.push(b"a,1.5\nbad\nb,2\n").unwrap();
        let rest = rows.finish().unwrap();
        out.batches.extend(rest.batches);
        assert_eq!(out.batches.iter().map(|b| b.num_rows).sum::<u32>(), 2);
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!((out.diagnostics[0].code.as_str(), out.diagnostics[0].row), ("bad_line", 2));
    }
}
