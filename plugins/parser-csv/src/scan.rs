//! What csv-core does not say about a record: the line it starts on, whether a quoted field is
//! still open (and since which line), and whether a closing quote was followed by more text
//! (`"ab"c`, which csv-core reads leniently as `abc`).
//!
//! The scanner reads exactly the bytes csv-core consumed, in the same order, and follows the
//! same grammar, so the two agree on where fields and records end: csv-core returns a record
//! right after consuming its terminator, and the decoder then calls [`Scanner::end_record`].
//!
//! It reads every byte csv-core reads, so it is built to skip: outside quotes only quotes and
//! line breaks matter (a quote opens a field only right after a delimiter or at the start of a
//! record, which the byte before it tells), inside quotes only quotes, the escape and line
//! breaks. Runs of other bytes are passed over with `memchr3`, which uses wasm SIMD128 (the
//! plugins are built with `+simd128`) and scans 16 bytes per step; only a quoted field with an
//! escape byte, four bytes to look for, falls back to a table lookup per byte.

/// Where the scanner is within the current field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Unquoted,
    Quoted,
    /// After the escape byte inside a quoted field: the next byte is literal.
    Escaped,
    /// After a quote inside a quoted field: either it closed the field or it is the first of a
    /// doubled quote.
    QuoteInQuoted,
}

#[derive(Debug, Clone)]
pub struct Scanner {
    delimiter: u8,
    quote: u8,
    escape: Option<u8>,
    state: State,
    /// The bytes that can change `State::Quoted` when there is an escape byte (quote, escape,
    /// line breaks: one more than `memchr3` takes).
    quoted_special: [bool; 256],
    /// The record's last byte so far; `None` at its start.
    last: Option<u8>,
    /// The physical line of the next byte, 1-based.
    line: u64,
    /// The last byte was `\r`, so a `\n` right after it ends no further line.
    after_cr: bool,
    /// The line of the current record's first byte; `None` between records, where csv-core
    /// skips blank lines.
    record_line: Option<u64>,
    /// The line where the current quoted field opened.
    quote_line: u64,
    bad_quote: bool,
}

/// What the scanner saw of a record csv-core just returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordInfo {
    pub line: u64,
    /// A closing quote was followed by something other than a delimiter or line end.
    pub bad_quote: bool,
}

impl Scanner {
    pub fn new(delimiter: u8, quote: u8, escape: Option<u8>) -> Self {
        // An escape equal to the quote is just doubled quotes, which are always on.
        let escape = escape.filter(|e| *e != quote);
        let mut quoted_special = [false; 256];
        for b in [Some(quote), escape].iter().flatten().chain(b"\r\n") {
            quoted_special[usize::from(*b)] = true;
        }
        Scanner {
            delimiter,
            quote,
            escape,
            state: State::Unquoted,
            quoted_special,
            last: None,
            line: 1,
            after_cr: false,
            record_line: None,
            quote_line: 1,
            bad_quote: false,
        }
    }

    pub fn scan(&mut self, mut bytes: &[u8]) {
        while let Some((&b, rest)) = bytes.split_first() {
            let plain = self.plain_run(bytes);
            if plain > 0 {
                self.last = Some(bytes[plain - 1]);
                self.after_cr = false;
                bytes = &bytes[plain..];
                continue;
            }
            self.step(b);
            bytes = rest;
        }
    }

    /// How many leading bytes of `bytes` cannot change the state, so they may be skipped.
    fn plain_run(&self, bytes: &[u8]) -> usize {
        let found = match (self.state, self.escape) {
            // Between records every byte counts: a line break is a blank line, anything else
            // starts the record.
            (State::Unquoted, _) if self.record_line.is_none() => return 0,
            (State::Unquoted, _) | (State::Quoted, None) => {
                memchr::memchr3(self.quote, b'\r', b'\n', bytes)
            }
            (State::Quoted, Some(_)) => bytes
                .iter()
                .position(|&b| self.quoted_special[usize::from(b)]),
            (State::Escaped | State::QuoteInQuoted, _) => return 0,
        };
        found.unwrap_or(bytes.len())
    }

    fn step(&mut self, b: u8) {
        let newline = b == b'\n' || b == b'\r';
        if self.record_line.is_none() && !newline {
            self.record_line = Some(self.line);
        }
        if self.record_line.is_some() {
            self.state = match self.state {
                State::Unquoted if b == self.quote && self.at_field_start() => {
                    self.quote_line = self.line;
                    State::Quoted
                }
                State::Unquoted => State::Unquoted,
                State::Quoted if Some(b) == self.escape => State::Escaped,
                State::Quoted if b == self.quote => State::QuoteInQuoted,
                State::Quoted | State::Escaped => State::Quoted,
                State::QuoteInQuoted if b == self.quote => State::Quoted,
                State::QuoteInQuoted if b == self.delimiter || newline => State::Unquoted,
                State::QuoteInQuoted => {
                    self.bad_quote = true;
                    State::Unquoted
                }
            };
            self.last = Some(b);
        }
        if b == b'\r' || (b == b'\n' && !self.after_cr) {
            self.line += 1;
        }
        self.after_cr = b == b'\r';
    }

    /// A quote opens a field only as its first byte.
    fn at_field_start(&self) -> bool {
        self.last.is_none_or(|b| b == self.delimiter)
    }

    /// Numbers the next line `line` (the bytes are a range of a larger object).
    pub fn set_line(&mut self, line: u64) {
        self.line = line;
    }

    /// Closes the record csv-core just returned and starts looking for the next one.
    pub fn end_record(&mut self) -> RecordInfo {
        let info = RecordInfo {
            line: self.record_line.unwrap_or(self.line),
            bad_quote: self.bad_quote,
        };
        self.state = State::Unquoted;
        self.last = None;
        self.record_line = None;
        self.bad_quote = false;
        info
    }

    /// The line where a quoted field opened that is still open.
    pub fn open_quote(&self) -> Option<u64> {
        matches!(self.state, State::Quoted | State::Escaped).then_some(self.quote_line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_lf_crlf_and_cr_once() {
        let mut s = Scanner::new(b',', b'"', None);
        s.scan(b"a\r\n\r\nb\rc\n");
        assert_eq!(s.line, 5);
    }

    #[test]
    fn a_record_starts_after_blank_lines() {
        let mut s = Scanner::new(b',', b'"', None);
        s.scan(b"\n\r\n\"x\ny\",1\n");
        assert_eq!(
            s.end_record(),
            RecordInfo {
                line: 3,
                bad_quote: false
            }
        );
    }

    #[test]
    fn text_after_a_closing_quote_is_bad() {
        let mut s = Scanner::new(b',', b'"', None);
        s.scan(b"\"ab\"c,1\n");
        assert!(s.end_record().bad_quote);
        s.scan(b"\"a\"\"b\",\"\"\n");
        assert!(!s.end_record().bad_quote, "doubled quotes are fine");
    }

    #[test]
    fn a_quote_inside_an_unquoted_field_is_literal() {
        let mut s = Scanner::new(b',', b'"', None);
        s.scan(b"a\"b,\"c\nd");
        assert_eq!(s.open_quote(), Some(1), "the second field opens a quote");
        s.scan(b"\",x\"\n");
        assert_eq!(s.open_quote(), None);
        assert_eq!(
            s.end_record(),
            RecordInfo {
                line: 1,
                bad_quote: false
            }
        );
    }

    #[test]
    fn escapes_keep_a_quoted_field_open() {
        let mut s = Scanner::new(b',', b'"', Some(b'\\'));
        s.scan(b"\"a\\\"");
        assert_eq!(s.open_quote(), Some(1));
        s.scan(b"\"\n");
        assert_eq!(s.open_quote(), None);
        assert!(!s.end_record().bad_quote);
    }
}
