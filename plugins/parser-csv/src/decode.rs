//! CSV bytes in, typed batches and row diagnostics out, whatever the chunk boundaries (inside
//! quotes, inside a UTF-8 sequence, between `\r` and `\n`). csv-core splits and unescapes
//! fields; [`Scanner`] beside it numbers lines and makes quoting strict; [`TextBatch`] types
//! the columns. Free of WIT calls, so it is tested natively.

use std::collections::HashSet;

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};
use ferry_guest::types::{Effect, Error};
use ferry_guest::{Kind, Output, TextBatch, diagnostic, error};

use crate::header;
use crate::scan::{RecordInfo, Scanner};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The code of the row-0 warning (effect `warning`) for a header name that was replaced.
pub const RENAMED: &str = "renamed_column";

#[derive(Debug, Clone)]
pub struct Options {
    pub delimiter: u8,
    pub quote: u8,
    pub escape: Option<u8>,
    /// The first record names the columns; otherwise they are `column_1`, `column_2`, ….
    pub header: bool,
    pub batch_size: usize,
    /// The line number of the first line after the header, when the bytes are a range of a
    /// larger object that starts with its header (`None`: counted from the start).
    pub first_line: Option<u64>,
    /// Declared column types; other columns are inferred per batch.
    pub schema: Vec<(String, Kind)>,
}

impl Options {
    /// Refuses what csv-core would take but cannot mean anything: a line break as a delimiter,
    /// one byte in two roles. (An escape equal to the quote is doubled quotes, always on.)
    pub fn check(&self) -> Result<(), String> {
        let escape = self.escape.filter(|e| *e != self.quote);
        let roles = [
            ("delimiter", Some(self.delimiter)),
            ("quote", Some(self.quote)),
            ("escape", escape),
        ];
        for (i, (name, byte)) in roles.iter().enumerate() {
            let Some(byte) = *byte else { continue };
            if byte == b'\n' || byte == b'\r' {
                return Err(format!("setting `{name}` cannot be a line break"));
            }
            if let Some((other, _)) = roles[..i].iter().find(|(_, b)| *b == Some(byte)) {
                return Err(format!(
                    "settings `{other}` and `{name}` are both `{}`",
                    byte.escape_ascii()
                ));
            }
        }
        Ok(())
    }
}

pub struct Decoder {
    reader: Reader,
    scanner: Scanner,
    record: Record,
    header: bool,
    first_line: Option<u64>,
    /// Names of the declared columns, to say which ones a file lacks.
    declared: Vec<String>,
    /// Fields per record, known once the first record is read.
    width: Option<usize>,
    batch: TextBatch,
    /// Data records read so far, bad ones included.
    row: u64,
    /// Leading bytes held back while they may still be the start of a UTF-8 BOM (csv-core
    /// strips one only when it arrives whole).
    lead: Option<Vec<u8>>,
    warnings: Vec<String>,
}

impl Decoder {
    pub fn new(options: Options) -> Self {
        let reader = ReaderBuilder::new()
            .delimiter(options.delimiter)
            .quote(options.quote)
            .escape(options.escape)
            .double_quote(true)
            .build();
        let mut scanner = Scanner::new(options.delimiter, options.quote, options.escape);
        if let (Some(line), false) = (options.first_line, options.header) {
            scanner.set_line(line);
        }
        Decoder {
            reader,
            scanner,
            record: Record::default(),
            header: options.header,
            first_line: options.first_line,
            declared: options
                .schema
                .iter()
                .map(|(name, _)| name.clone())
                .collect(),
            width: None,
            batch: TextBatch::new(options.batch_size, options.schema),
            row: 0,
            lead: Some(Vec::new()),
            warnings: Vec::new(),
        }
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<Output, Error> {
        let mut out = Output::default();
        match self.lead.as_mut() {
            None => self.feed(chunk, false, &mut out)?,
            Some(lead) => {
                lead.extend_from_slice(chunk);
                if lead.len() >= BOM.len() || !BOM.starts_with(lead) {
                    self.feed_lead(&mut out)?;
                }
            }
        }
        Ok(out)
    }

    /// Ends the object: the last record, the last batch. A quoted field still open fails it.
    pub fn finish(&mut self) -> Result<Output, Error> {
        let mut out = Output::default();
        self.feed_lead(&mut out)?;
        if let Some(line) = self.scanner.open_quote() {
            return Err(Error {
                code: "unterminated_quote".into(),
                message: format!("the quoted field that starts on line {line} is never closed"),
                // The record being read is a data row, unless it is the header.
                row: (self.width.is_some() || !self.header).then_some(self.row + 1),
            });
        }
        self.feed(&[], true, &mut out)?;
        out.batches.extend(self.batch.take());
        Ok(out)
    }

    /// Things an operator may want to know that are no row's problem (for the log).
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn feed_lead(&mut self, out: &mut Output) -> Result<(), Error> {
        let Some(lead) = self.lead.take() else {
            return Ok(());
        };
        self.feed(lead.strip_prefix(BOM).unwrap_or(&lead), false, out)
    }

    /// Runs csv-core over `input`; with `at_end` (and no input), over the end of the data.
    fn feed(&mut self, mut input: &[u8], at_end: bool, out: &mut Output) -> Result<(), Error> {
        loop {
            // csv-core takes an empty input to mean the end of the data.
            if input.is_empty() && !at_end {
                return Ok(());
            }
            let (fields, ends) = self.record.spare();
            let (result, read, written, ended) = self.reader.read_record(input, fields, ends);
            self.scanner.scan(&input[..read]);
            input = &input[read..];
            self.record.advance(written, ended);
            match result {
                ReadRecordResult::InputEmpty | ReadRecordResult::End => return Ok(()),
                ReadRecordResult::OutputFull => self.record.grow_fields(),
                ReadRecordResult::OutputEndsFull => self.record.grow_ends(),
                ReadRecordResult::Record => {
                    let info = self.scanner.end_record();
                    let result = self.take_record(info, out);
                    self.record.clear();
                    result?;
                }
            }
        }
    }

    fn take_record(&mut self, info: RecordInfo, out: &mut Output) -> Result<(), Error> {
        let RecordInfo { line, bad_quote } = info;
        let width = match self.width {
            Some(width) => width,
            None => {
                let names = if self.header {
                    let (names, renamed) = header::unique_names(header_names(&self.record, info)?);
                    for r in renamed {
                        // Row 0 is the header: a warning that skips no row.
                        let d = diagnostic(
                            Effect::Warning,
                            0,
                            Some(line),
                            Some(&r.name),
                            RENAMED,
                            r.message(),
                        );
                        out.diagnostics.push(d);
                    }
                    names
                } else {
                    (1..=self.record.count())
                        .map(|i| format!("column_{i}"))
                        .collect()
                };
                for name in &names {
                    self.batch.column(name);
                }
                let present: HashSet<&str> = names.iter().map(String::as_str).collect();
                for declared in self
                    .declared
                    .iter()
                    .filter(|d| !present.contains(d.as_str()))
                {
                    self.warnings.push(format!(
                        "input_schema declares column `{declared}`, which is not in this file"
                    ));
                }
                self.width = Some(names.len());
                if self.header {
                    if let Some(line) = self.first_line {
                        self.scanner.set_line(line);
                    }
                    return Ok(());
                }
                names.len()
            }
        };
        self.row += 1;
        let row = self.row;
        if bad_quote {
            let message = "text after the closing quote of a quoted field";
            out.diagnostics.push(diagnostic(
                Effect::RowSkipped,
                row,
                Some(line),
                None,
                "bad_quote",
                message,
            ));
            return Ok(());
        }
        if self.record.count() != width {
            let message = format!("expected {width} fields, found {}", self.record.count());
            out.diagnostics.push(diagnostic(
                Effect::RowSkipped,
                row,
                Some(line),
                None,
                "ragged_row",
                message,
            ));
            return Ok(());
        }
        // One UTF-8 check over the whole record; only a record that fails it is gone through
        // field by field, to name the bad field.
        let pushed = match self.record.text() {
            Some((text, ends)) => self.batch.push_fields(row, text, ends),
            None => {
                let (i, e) = self.record.first_invalid_utf8();
                let message = format!("invalid UTF-8 at byte {} of the field", e + 1);
                let column = Some(self.batch.names()[i].as_str());
                out.diagnostics.push(diagnostic(
                    Effect::RowSkipped,
                    row,
                    Some(line),
                    column,
                    "invalid_utf8",
                    message,
                ));
                return Ok(());
            }
        };
        match pushed {
            Ok(()) if self.batch.is_full() => out.batches.extend(self.batch.take()),
            Ok(()) => {}
            Err(invalid) => out.diagnostics.push(invalid.diagnostic(row, Some(line))),
        }
        Ok(())
    }
}

/// Column names from the header record as written; they must be UTF-8 ([`header`] makes
/// empty and repeated ones usable).
fn header_names(record: &Record, info: RecordInfo) -> Result<Vec<String>, Error> {
    let line = info.line;
    if info.bad_quote {
        return Err(error(
            "invalid_header",
            format!("header (line {line}): text after the closing quote of a name"),
        ));
    }
    let mut names: Vec<String> = Vec::with_capacity(record.count());
    for (i, field) in record.fields().enumerate() {
        let position = i + 1;
        let name = std::str::from_utf8(field).map_err(|_| {
            error(
                "invalid_header",
                format!("header (line {line}): name {position} is not valid UTF-8"),
            )
        })?;
        names.push(name.to_owned());
    }
    Ok(names)
}

/// The fields of the record being read, as csv-core writes them: unescaped bytes back to back
/// and the end of each field.
struct Record {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// Bytes written to `bytes` so far.
    written: usize,
    /// Fields ended so far.
    count: usize,
}

impl Default for Record {
    fn default() -> Self {
        Record {
            bytes: vec![0; 4096],
            ends: vec![0; 64],
            written: 0,
            count: 0,
        }
    }
}

impl Record {
    fn spare(&mut self) -> (&mut [u8], &mut [usize]) {
        (
            &mut self.bytes[self.written..],
            &mut self.ends[self.count..],
        )
    }

    fn advance(&mut self, written: usize, ended: usize) {
        self.written += written;
        self.count += ended;
    }

    fn grow_fields(&mut self) {
        self.bytes.resize(self.bytes.len() * 2, 0);
    }

    fn grow_ends(&mut self) {
        self.ends.resize(self.ends.len() * 2, 0);
    }

    fn clear(&mut self) {
        self.written = 0;
        self.count = 0;
    }

    /// Number of fields.
    fn count(&self) -> usize {
        self.count
    }

    /// The record as one string and the end of each field in it, when it is UTF-8 and every
    /// field is too (a field boundary inside a character is not).
    fn text(&self) -> Option<(&str, &[usize])> {
        let text = std::str::from_utf8(&self.bytes[..self.written]).ok()?;
        let ends = &self.ends[..self.count];
        ends.iter()
            .all(|&end| text.is_char_boundary(end))
            .then_some((text, ends))
    }

    /// The first field that is not UTF-8 and the offset of its first bad byte, for a record
    /// [`Self::text`] refused.
    fn first_invalid_utf8(&self) -> (usize, usize) {
        self.fields()
            .enumerate()
            .find_map(|(i, field)| {
                std::str::from_utf8(field)
                    .err()
                    .map(|e| (i, e.valid_up_to()))
            })
            .unwrap_or((0, 0))
    }

    fn fields(&self) -> impl Iterator<Item = &[u8]> {
        // csv-core's ends count from the start of the record, across calls.
        let ends = &self.ends[..self.count];
        let starts = std::iter::once(0).chain(ends.iter().copied());
        starts
            .zip(ends)
            .map(|(start, &end)| &self.bytes[start..end])
    }
}

#[cfg(test)]
mod tests;
