//! The CSV state machine, free of WIT calls so it is tested natively. csv-core splits and
//! unescapes fields; a small quote checker beside it makes quoting strict (text after a
//! closing quote is a bad row; a quote still open at the end fails the object).

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};
use ferry_guest::types::{Batch, Diagnostic, Error};
use ferry_guest::{BatchBuilder, ColumnBuilder, Kind, diagnostic, error, infer};

pub struct Options {
    pub delimiter: u8,
    pub quote: u8,
    pub escape: Option<u8>,
    pub header: bool,
    pub batch_size: usize,
    /// Declared column types; other columns are inferred per batch.
    pub schema: Vec<(String, Kind)>,
}

#[derive(Default)]
pub struct Out {
    pub batches: Vec<Batch>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Where the quote checker is within the current field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    FieldStart,
    Unquoted,
    Quoted,
    Escaped,
    /// Just after a quote inside a quoted field: a closing quote or the first of a pair.
    QuoteSeen,
}

/// Text values of one column for the rows of the pending batch (empty = null).
#[derive(Default)]
struct TextColumn {
    offsets: Vec<usize>,
    bytes: String,
}

impl TextColumn {
    fn push(&mut self, value: &str) {
        self.bytes.push_str(value);
        self.offsets.push(self.bytes.len());
    }

    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.offsets[i - 1] };
        &self.bytes[start..self.offsets[i]]
    }

    fn len(&self) -> usize {
        self.offsets.len()
    }
}

pub struct Decoder {
    opts: Options,
    reader: Reader,
    fields: Vec<u8>,
    ends: Vec<usize>,
    out_len: usize,
    ends_len: usize,
    quote: Quote,
    bad_quote: bool,
    quote_line: u64,
    line: u64,
    record_line: u64,
    record_started: bool,
    names: Option<Vec<String>>,
    row: u64,
    rows: Vec<u64>,
    columns: Vec<TextColumn>,
}

impl Decoder {
    pub fn new(opts: Options) -> Self {
        let reader = ReaderBuilder::new()
            .delimiter(opts.delimiter)
            .quote(opts.quote)
            .escape(opts.escape)
            .double_quote(true)
            .build();
        Decoder {
            opts,
            reader,
            fields: vec![0; 4096],
            ends: vec![0; 64],
            out_len: 0,
            ends_len: 0,
            quote: Quote::FieldStart,
            bad_quote: false,
            quote_line: 1,
            line: 1,
            record_line: 1,
            record_started: false,
            names: None,
            row: 0,
            rows: Vec::new(),
            columns: Vec::new(),
        }
    }

    pub fn push(&mut self, mut input: &[u8], out: &mut Out) -> Result<(), Error> {
        while !input.is_empty() {
            input = self.step(input, out)?;
        }
        Ok(())
    }

    pub fn finish(&mut self, out: &mut Out) -> Result<(), Error> {
        if matches!(self.quote, Quote::Quoted | Quote::Escaped) {
            return Err(ferry_guest::types::Error {
                code: "unterminated_quote".into(),
                message: format!("a quoted field opened on line {} is never closed", self.quote_line),
                row: Some(self.row + 1),
            });
        }
        // An empty input tells csv-core the data ended: it yields the last record, then End.
        self.step(&[], out)?;
        self.flush(out);
        Ok(())
    }

    /// Feeds csv-core once; returns the input it did not consume.
    fn step<'a>(&mut self, input: &'a [u8], out: &mut Out) -> Result<&'a [u8], Error> {
        loop {
            let (result, nin, nout, nend) =
                self.reader.read_record(input, &mut self.fields[self.out_len..], &mut self.ends[self.ends_len..]);
            self.check_quotes(&input[..nin]);
            self.out_len += nout;
            self.ends_len += nend;
            let rest = &input[nin..];
            match result {
                ReadRecordResult::InputEmpty => return Ok(rest),
                ReadRecordResult::OutputFull => {
                    let len = self.fields.len();
                    self.fields.resize(len * 2, 0);
                    if !rest.is_empty() || nin > 0 {
                        return Ok(rest);
                    }
                }
                ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len();
                    self.ends.resize(len * 2, 0);
                    if !rest.is_empty() || nin > 0 {
                        return Ok(rest);
                    }
                }
                ReadRecordResult::Record => {
                    self.record(out)?;
                    if input.is_empty() {
                        continue;
                    }
                    return Ok(rest);
                }
                ReadRecordResult::End => return Ok(rest),
            }
        }
    }

    fn check_quotes(&mut self, consumed: &[u8]) {
        let (delim, quote, escape) = (self.opts.delimiter, self.opts.quote, self.opts.escape);
        for &b in consumed {
            let newline = b == b'\n' || b == b'\r';
            if !self.record_started && !newline {
                self.record_started = true;
                self.record_line = self.line;
            }
            self.quote = match self.quote {
                Quote::FieldStart if b == quote => {
                    self.quote_line = self.line;
                    Quote::Quoted
                }
                Quote::FieldStart | Quote::Unquoted if b == delim || newline => Quote::FieldStart,
                Quote::FieldStart | Quote::Unquoted => Quote::Unquoted,
                Quote::Quoted if Some(b) == escape && escape != Some(quote) => Quote::Escaped,
                Quote::Quoted if b == quote => Quote::QuoteSeen,
                Quote::Quoted => Quote::Quoted,
                Quote::Escaped => Quote::Quoted,
                Quote::QuoteSeen if b == quote => Quote::Quoted,
                Quote::QuoteSeen if b == delim || newline => Quote::FieldStart,
                Quote::QuoteSeen => {
                    self.bad_quote = true;
                    Quote::Unquoted
                }
            };
            if b == b'\n' {
                self.line += 1;
            }
        }
    }

    /// A complete record is in `fields`/`ends`.
    fn record(&mut self, out: &mut Out) -> Result<(), Error> {
        let (line, bad_quote) = (self.record_line, self.bad_quote);
        // Borrow the buffers apart from `self` while the record is taken in.
        let buf = std::mem::take(&mut self.fields);
        let ends = std::mem::take(&mut self.ends);
        let fields: Vec<&[u8]> = (0..self.ends_len)
            .map(|i| {
                let start = if i == 0 { 0 } else { ends[i - 1] };
                &buf[start..ends[i]]
            })
            .collect();
        let result = self.take_record(&fields, line, bad_quote, out);
        drop(fields);
        self.fields = buf;
        self.ends = ends;
        self.out_len = 0;
        self.ends_len = 0;
        self.bad_quote = false;
        self.record_started = false;
        self.quote = Quote::FieldStart;
        result
    }

    fn take_record(&mut self, fields: &[&[u8]], line: u64, bad_quote: bool, out: &mut Out) -> Result<(), Error> {
        let Some(names) = &self.names else {
            let names = if self.opts.header {
                header(fields, line)?
            } else {
                (1..=fields.len()).map(|i| format!("column_{i}")).collect()
            };
            self.columns = names.iter().map(|_| TextColumn::default()).collect();
            self.names = Some(names);
            if self.opts.header {
                return Ok(());
            }
            return self.take_record(fields, line, bad_quote, out);
        };
        self.row += 1;
        let row = self.row;
        if bad_quote {
            out.diagnostics.push(diagnostic(row, Some(line), None, "bad_quote", "text after a closing quote"));
            return Ok(());
        }
        if fields.len() != names.len() {
            let message = format!("expected {} fields, found {}", names.len(), fields.len());
            out.diagnostics.push(diagnostic(row, Some(line), None, "ragged_row", message));
            return Ok(());
        }
        let mut texts = Vec::with_capacity(fields.len());
        for (field, name) in fields.iter().zip(names) {
            match std::str::from_utf8(field) {
                Ok(text) => texts.push(text),
                Err(e) => {
                    let message = format!("invalid UTF-8 at byte {} of the field", e.valid_up_to());
                    out.diagnostics.push(diagnostic(row, Some(line), Some(name), "invalid_utf8", message));
                    return Ok(());
                }
            }
        }
        for (column, text) in self.columns.iter_mut().zip(texts) {
            column.push(text);
        }
        self.rows.push(row);
        if self.rows.len() >= self.opts.batch_size {
            self.flush(out);
        }
        Ok(())
    }

    /// Types the pending rows and emits them as one batch.
    fn flush(&mut self, out: &mut Out) {
        if self.rows.is_empty() {
            return;
        }
        let names = self.names.as_ref().expect("rows imply a header");
        let n = self.rows.len();
        let kinds: Vec<(Kind, bool)> = names
            .iter()
            .zip(&self.columns)
            .map(|(name, col)| match self.opts.schema.iter().find(|(c, _)| c == name) {
                Some((_, kind)) => (*kind, true),
                None => (infer::infer((0..col.len()).map(|i| Some(col.get(i)))), false),
            })
            .collect();
        // Declared types can reject a value: that row is skipped, with the field named.
        let mut keep = vec![true; n];
        for ((name, col), (kind, declared)) in names.iter().zip(&self.columns).zip(&kinds) {
            if !declared {
                continue;
            }
            for (i, keep) in keep.iter_mut().enumerate() {
                let text = col.get(i);
                if *keep
                    && !text.is_empty()
                    && let Err(message) = infer::parse(*kind, text)
                {
                    *keep = false;
                    out.diagnostics.push(diagnostic(self.rows[i], None, Some(name), "invalid_value", message));
                }
            }
        }
        let mut batch = BatchBuilder::default();
        batch.row_numbers = self.rows.iter().zip(&keep).filter(|(_, k)| **k).map(|(r, _)| *r).collect();
        for ((name, col), (kind, _)) in names.iter().zip(&self.columns).zip(&kinds) {
            let mut builder = ColumnBuilder::new(name.clone(), *kind);
            for (i, _) in keep.iter().enumerate().filter(|(_, k)| **k) {
                builder.push_parsed(Some(col.get(i))).expect("values were checked against their kind");
            }
            batch.columns.push(builder.finish());
        }
        out.batches.push(batch.finish());
        self.rows.clear();
        for col in &mut self.columns {
            *col = TextColumn::default();
        }
    }
}

fn header(fields: &[&[u8]], line: u64) -> Result<Vec<String>, Error> {
    let mut names: Vec<String> = Vec::with_capacity(fields.len());
    for (i, field) in fields.iter().enumerate() {
        let name = std::str::from_utf8(field)
            .map_err(|_| error("invalid_header", format!("header (line {line}) field {} is not UTF-8", i + 1)))?
            .trim()
            .to_owned();
        if name.is_empty() {
            return Err(error("invalid_header", format!("header (line {line}) field {} is empty", i + 1)));
        }
        if names.contains(&name) {
            return Err(error("invalid_header", format!("header (line {line}) names column `{name}` twice")));
        }
        names.push(name);
    }
    Ok(names)
}

#[cfg(test)]
mod tests;
