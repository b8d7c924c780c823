//! Lines of a byte stream that arrives in chunks split anywhere, for the line-based formats
//! (NDJSON, logfmt), numbered the way every diagnostic counts them:
//!
//! - `line` is the 1-based physical line, blank ones included;
//! - `row` is the 1-based count of non-blank lines, the data rows;
//! - a line ends at `\n`; a `\r` before it is dropped; a last line without `\n` still counts;
//! - a blank line (empty, or only ASCII whitespace) is skipped and is no row.

use crate::types::{Diagnostic, Effect};

/// Splits chunks into lines, keeping an unfinished line until the chunk that ends it.
#[derive(Debug, Default)]
pub struct Lines {
    partial: Vec<u8>,
    line: u64,
    row: u64,
}

/// One non-blank line, without its line ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    pub row: u64,
    pub line: u64,
    pub bytes: &'a [u8],
}

impl<'a> Line<'a> {
    /// The line as text, or an `invalid_utf8` diagnostic that skips its row.
    pub fn text(&self) -> Result<&'a str, Diagnostic> {
        std::str::from_utf8(self.bytes).map_err(|e| {
            self.skip(
                "invalid_utf8",
                format!("invalid UTF-8 at byte {} of the line", e.valid_up_to() + 1),
            )
        })
    }

    /// A diagnostic that skips this line's row.
    pub fn skip(&self, code: &str, message: impl Into<String>) -> Diagnostic {
        crate::diagnostic(
            Effect::RowSkipped,
            self.row,
            Some(self.line),
            None,
            code,
            message,
        )
    }
}

impl Lines {
    /// Lines numbered from `first` (the bytes are a range of a larger object, see parser-csv's
    /// and parser-ndjson's `first_line`).
    pub fn starting_at(first: u64) -> Self {
        Lines {
            line: first.saturating_sub(1),
            ..Lines::default()
        }
    }

    /// Calls `each` for every line `chunk` completes. Lines wholly inside the chunk are not
    /// copied; only the unfinished tail is kept.
    pub fn push(&mut self, chunk: &[u8], mut each: impl FnMut(Line<'_>)) {
        let mut rest = chunk;
        // memchr finds the line ends 16 bytes a step (SIMD128 in the components).
        while let Some(end) = memchr::memchr(b'\n', rest) {
            if self.partial.is_empty() {
                self.emit(&rest[..end], &mut each);
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(&rest[..end]);
                self.emit(&line, &mut each);
                line.clear();
                self.partial = line;
            }
            rest = &rest[end + 1..];
        }
        self.partial.extend_from_slice(rest);
    }

    /// Calls `each` for a last line that had no `\n`.
    pub fn finish(&mut self, mut each: impl FnMut(Line<'_>)) {
        let line = std::mem::take(&mut self.partial);
        if !line.is_empty() {
            self.emit(&line, &mut each);
        }
    }

    fn emit(&mut self, bytes: &[u8], each: &mut impl FnMut(Line<'_>)) {
        self.line += 1;
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.row += 1;
        each(Line {
            row: self.row,
            line: self.line,
            bytes,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8], size: usize) -> Vec<(u64, u64, Vec<u8>)> {
        let mut lines = Lines::default();
        let mut out = Vec::new();
        for chunk in input.chunks(size) {
            lines.push(chunk, |l| out.push((l.row, l.line, l.bytes.to_vec())));
        }
        lines.finish(|l| out.push((l.row, l.line, l.bytes.to_vec())));
        out
    }

    #[test]
    fn chunks_split_anywhere_give_the_same_lines() {
        let input = "a=1\r\n\n  \r\nb=\"é\"\nlast".as_bytes();
        let expected = vec![
            (1, 1, b"a=1".to_vec()),
            (2, 4, "b=\"é\"".as_bytes().to_vec()),
            (3, 5, b"last".to_vec()),
        ];
        for size in 1..=input.len() {
            assert_eq!(split(input, size), expected, "chunks of {size}");
        }
    }

    #[test]
    fn a_range_numbers_lines_from_its_first() {
        let mut lines = Lines::starting_at(41);
        let mut out = Vec::new();
        lines.push(b"a\n\nb\n", |l| out.push((l.row, l.line)));
        assert_eq!(out, [(1, 41), (2, 43)]);
    }

    #[test]
    fn a_trailing_newline_makes_no_extra_line() {
        assert_eq!(split(b"x\n", 1), [(1, 1, b"x".to_vec())]);
        assert_eq!(split(b"", 1), []);
        assert_eq!(split(b"\n\n", 1), []);
    }

    #[test]
    fn invalid_utf8_skips_the_row() {
        let line = Line {
            row: 2,
            line: 3,
            bytes: b"ab\xffc",
        };
        let d = line.text().unwrap_err();
        assert_eq!(
            (d.row, d.line, d.code.as_str(), d.effect),
            (2, Some(3), "invalid_utf8", Effect::RowSkipped)
        );
        assert_eq!(d.message, "invalid UTF-8 at byte 3 of the line");
    }
}
