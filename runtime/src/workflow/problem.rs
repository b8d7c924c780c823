//! Problems found in a workflow file, each pointing at `file:line:col` so an editor can jump
//! there, with a "did you mean" where a name is close to a known one.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A place in a workflow file. Lines and columns are 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl Location {
    /// Converts a byte offset into `text` to a line and column.
    pub fn at(file: &Path, text: &str, offset: usize) -> Self {
        Self::from_lines(file, text, &line_starts(text), offset)
    }

    /// As [`Location::at`], with the offsets where `text`'s lines start already known, so
    /// placing many problems in a large file stays linear.
    fn from_lines(file: &Path, text: &str, starts: &[usize], offset: usize) -> Self {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = starts.partition_point(|&s| s <= offset).max(1);
        let column = text[starts[line - 1]..offset].chars().count() + 1;
        Location {
            file: file.to_owned(),
            line,
            column,
        }
    }
}

/// Byte offsets where each line of `text` starts (the first is 0).
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// One thing wrong with a workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Why a workflow could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("cannot read workflow {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", display_problems(.0))]
    Invalid(Vec<Problem>),
}

impl WorkflowError {
    pub fn problems(&self) -> &[Problem] {
        match self {
            WorkflowError::Invalid(p) => p,
            WorkflowError::Read { .. } => &[],
        }
    }
}

fn display_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Finds what a source text says about a byte range, for errors that serde gives without one.
pub(crate) struct Source<'a> {
    pub path: &'a Path,
    pub text: &'a str,
    lines: std::cell::OnceCell<Vec<usize>>,
}

impl<'a> Source<'a> {
    pub fn new(path: &'a Path, text: &'a str) -> Self {
        Source {
            path,
            text,
            lines: std::cell::OnceCell::new(),
        }
    }

    pub fn problem(&self, span: Range<usize>, message: impl Into<String>) -> Problem {
        let starts = self.lines.get_or_init(|| line_starts(self.text));
        Problem {
            location: Location::from_lines(self.path, self.text, starts, span.start),
            message: message.into(),
        }
    }

    /// The span of a top-level `key = ...` (written before the first table header).
    pub fn top_key_span(&self, key: &str) -> Option<Range<usize>> {
        let end = self.text.find("\n[").map_or(self.text.len(), |i| i + 1);
        self.key_span(&(0..0), key).filter(|span| span.start < end)
    }

    /// The span of `key = ...` in the step starting at `within` (toml spans an array-of-tables
    /// element by its header only, so the body is taken to run to the next `[[` header).
    pub fn key_span(&self, within: &Range<usize>, key: &str) -> Option<Range<usize>> {
        let start = within.start.min(self.text.len());
        let body_end = self.text[within.end.min(self.text.len())..]
            .find("\n[[")
            .map_or(self.text.len(), |i| within.end + i);
        let section = self.text.get(start..body_end)?;
        let mut offset = start;
        for line in section.split_inclusive('\n') {
            let trimmed = line.trim_start();
            let bare = trimmed
                .strip_prefix('"')
                .and_then(|t| t.strip_prefix(key))
                .and_then(|t| t.strip_prefix('"'));
            if let Some(rest) = trimmed.strip_prefix(key).or(bare)
                && rest.trim_start().starts_with(['=', '.'])
            {
                let at = offset + (line.len() - trimmed.len());
                return Some(at..at + key.len());
            }
            offset += line.len();
        }
        None
    }
}

/// The closest candidate to `word`, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Rewrites serde's "unknown field `x`, expected one of `a`, `b`" into a shorter message with a
/// suggestion, and returns the unknown key so the caller can point at it.
pub(crate) fn explain_unknown_field(message: &str) -> Option<(String, String)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| !s.is_empty())
        .collect();
    let mut text = format!("unknown key `{field}`");
    match did_you_mean(field, expected.iter().copied()) {
        Some(close) => text.push_str(&format!(", did you mean `{close}`?")),
        None if !expected.is_empty() => {
            text.push_str(&format!("; expected one of: {}", expected.join(", ")))
        }
        None => {}
    }
    Some((field.to_owned(), text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_counts_lines_and_columns_from_one() {
        let text = "a = 1\nbb = 2\n";
        let loc = Location::at(Path::new("w.toml"), text, 7);
        assert_eq!((loc.line, loc.column), (2, 2));
        assert_eq!(loc.to_string(), "w.toml:2:2");
    }

    #[test]
    fn unknown_field_gets_a_suggestion() {
        let msg = "unknown field `tabel`, expected one of `name`, `kind`, `input`, `table`, `mode`";
        let (field, text) = explain_unknown_field(msg).unwrap();
        assert_eq!(field, "tabel");
        assert_eq!(text, "unknown key `tabel`, did you mean `table`?");
    }

    #[test]
    fn unrelated_words_get_no_suggestion() {
        assert_eq!(did_you_mean("zzz", ["import", "ingest"]), None);
        assert_eq!(did_you_mean("injest", ["import", "ingest"]), Some("ingest"));
    }
}
