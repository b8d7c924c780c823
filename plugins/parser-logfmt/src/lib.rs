//! `parser-logfmt`: the worked example of the README's "Write your own plugin".
//!
//! Each line is `key=value key2="quoted value"`. The columns are the keys in order of first
//! appearance, each typed per batch by ferry-guest's inference (`latency_ms=12` is an int64).
//! A token that is not `key=value` skips its line with an `invalid_pair` diagnostic; a key
//! given twice in a line keeps its last value. No settings.

use ferry_guest::about::Setting;
use ferry_guest::lines::{Line, Lines};
use ferry_guest::types::{Description, Error};
use ferry_guest::{Decode, DecoderState, Output, Settings, TextBatch};

// Bindings for the world this component implements. The shared types (the output record and
// the description among them) and the host functions come from ferry-guest, so its helpers
// build them directly.
wit_bindgen::generate!({
    world: "parser-plugin",
    path: "../../wit",
    with: {
        "ferry:plugin/types@0.2.0": ferry_guest::types,
        "ferry:plugin/host@0.2.0": ferry_guest::host,
    },
});

use exports::ferry::plugin::{about, parser};

/// Every setting the plugin takes: none, so any setting is refused as a likely mistake.
const SETTINGS: &[Setting] = &[];

const BATCH_SIZE: usize = 8192;

struct Logfmt;

impl about::Guest for Logfmt {
    fn describe() -> Description {
        ferry_guest::describe!(
            Parser,
            "logfmt lines (key=value) into typed columnar batches",
            SETTINGS
        )
    }
}

impl parser::Guest for Logfmt {
    type Decoder = LogfmtDecoder;
}

export!(Logfmt);

/// The `decoder` resource, one per object.
struct LogfmtDecoder(DecoderState<Rows>);

impl parser::GuestDecoder for LogfmtDecoder {
    fn open(_object_key: String) -> Result<parser::Decoder, Error> {
        Settings::load(SETTINGS)?;
        Ok(parser::Decoder::new(LogfmtDecoder(DecoderState::new(
            Rows::default(),
        ))))
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
    lines: Lines,
    batch: TextBatch,
}

impl Default for Rows {
    fn default() -> Self {
        Rows {
            lines: Lines::default(),
            batch: TextBatch::new(BATCH_SIZE, Vec::new()),
        }
    }
}

impl Decode for Rows {
    fn push(&mut self, chunk: &[u8]) -> Result<Output, Error> {
        let mut out = Output::default();
        let batch = &mut self.batch;
        self.lines.push(chunk, |line| add(batch, line, &mut out));
        Ok(out)
    }

    fn finish(&mut self) -> Result<Output, Error> {
        let mut out = Output::default();
        let batch = &mut self.batch;
        self.lines.finish(|line| add(batch, line, &mut out));
        out.batches.extend(batch.take());
        Ok(out)
    }
}

/// Adds a line as a row, or its diagnostic; hands over the batch once it is full.
fn add(rows: &mut TextBatch, line: Line<'_>, out: &mut Output) {
    let added = line.text().and_then(|text| {
        let pairs = pairs(text).map_err(|message| line.skip("invalid_pair", message))?;
        let values = pairs.iter().map(|(key, value)| (*key, value.as_str()));
        rows.push_named(line.row, values)
            .map_err(|e| e.diagnostic(line.row, Some(line.line)))
    });
    match added {
        Err(diagnostic) => out.diagnostics.push(diagnostic),
        Ok(()) if rows.is_full() => out.batches.extend(rows.take()),
        Ok(()) => {}
    }
}

/// The `key=value` pairs of a line. A quoted value may hold spaces; `\` escapes its next char.
fn pairs(line: &str) -> Result<Vec<(&str, String)>, String> {
    let mut pairs = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let Some(eq) = rest[..end].find('=').filter(|&eq| eq > 0) else {
            return Err(format!("`{}` is not a key=value pair", &rest[..end]));
        };
        let key = &rest[..eq];
        let (value, next) = match rest[eq + 1..].strip_prefix('"') {
            Some(quoted) => unquote(quoted)
                .ok_or_else(|| format!("the quoted value of `{key}` is never closed"))?,
            None => (rest[eq + 1..end].to_owned(), &rest[end..]),
        };
        pairs.push((key, value));
        rest = next.trim_start();
    }
    Ok(pairs)
}

/// A quoted value whose opening quote was read: the value, and what follows its closing quote.
fn unquote(quoted: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &quoted[i + 1..])),
            '\\' => value.push(chars.next()?.1),
            c => value.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_guest::types::{ColumnValues, Effect, PluginKind};

    #[test]
    fn pairs_take_quoted_and_bare_values() {
        let got = pairs(r#" level=warn msg="scored \"request\" 7" latency_ms=12 empty= "#).unwrap();
        let want = [
            ("level", "warn"),
            ("msg", "scored \"request\" 7"),
            ("latency_ms", "12"),
            ("empty", ""),
        ];
        assert_eq!(got, want.map(|(k, v)| (k, v.to_owned())));
        assert_eq!(
            pairs("a=1 oops b=2").unwrap_err(),
            "`oops` is not a key=value pair"
        );
        assert_eq!(pairs("=1").unwrap_err(), "`=1` is not a key=value pair");
        assert_eq!(
            pairs(r#"msg="open"#).unwrap_err(),
            "the quoted value of `msg` is never closed"
        );
    }

    #[test]
    fn describes_a_parser_with_no_settings() {
        let d = <Logfmt as about::Guest>::describe();
        assert_eq!(
            (d.name.as_str(), d.kind),
            ("parser-logfmt", PluginKind::Parser)
        );
        assert!(d.settings.is_empty());
        assert_eq!(
            Settings::from_pairs(SETTINGS, &[("batch_size", "10")])
                .unwrap_err()
                .message,
            "unknown setting `batch_size`; this plugin takes no settings"
        );
    }

    #[test]
    fn chunks_split_anywhere_decode_the_same() {
        let input = b"a=1 msg=\"x y\"\nbad\na=2.5\n";
        let whole = {
            let mut rows = Rows::default();
            let mut out = rows.push(input).unwrap();
            out.batches.extend(rows.finish().unwrap().batches);
            out
        };
        assert_eq!(whole.batches[0].row_numbers, [1, 3]);
        for size in 1..input.len() {
            let mut rows = Rows::default();
            let mut out = Output::default();
            for chunk in input.chunks(size) {
                let more = rows.push(chunk).unwrap();
                out.batches.extend(more.batches);
                out.diagnostics.extend(more.diagnostics);
            }
            out.batches.extend(rows.finish().unwrap().batches);
            assert_eq!(out, whole, "chunks of {size}");
        }
    }

    #[test]
    fn lines_become_typed_rows() {
        let (mut lines, mut rows, mut out) = (
            Lines::default(),
            TextBatch::new(2, Vec::new()),
            Output::default(),
        );
        lines.push(b"a=1 b=x\n\nbad\na=2 c=true\na=x", |line| {
            add(&mut rows, line, &mut out)
        });
        lines.finish(|line| add(&mut rows, line, &mut out));
        out.batches.extend(rows.take());
        let d = &out.diagnostics[0];
        assert_eq!(
            (d.row, d.line, d.code.as_str(), d.effect),
            (2, Some(3), "invalid_pair", Effect::RowSkipped)
        );
        let first = &out.batches[0];
        assert_eq!(first.row_numbers, [1, 3]);
        let names: Vec<&str> = first.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(first.columns[0].values, ColumnValues::Int64(vec![1, 2]));
        assert_eq!(
            first.columns[2].values,
            ColumnValues::Boolean(vec![false, true])
        );
        assert_eq!(out.batches[1].row_numbers, [4]);
        assert!(matches!(
            out.batches[1].columns[0].values,
            ColumnValues::Utf8(_)
        ));
    }
}
