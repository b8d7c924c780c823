//! One large object parsed on several cores. Its bytes are cut into ranges at record
//! boundaries, each range is parsed by a parser instance of its own in a task of its own, and
//! the outputs are handed on in order, their row numbers shifted by the rows of the ranges
//! before: what the job sees is what one parse of the whole object would have given.
//!
//! Where a record may end is the format's business, so ferry cuts only for a parser whose
//! grammar it knows ([`Splitting::for_parser`]): its own `parser-ndjson`, where every line
//! break ends a record, and `parser-csv`, where a line break ends a record unless it is inside
//! quotes, which the [`Cutter`] tells by the parity of the quotes before it. Every CSV range
//! but the first starts with the object's header, and every range's parser is told the line
//! its data starts on (`first_line`), so diagnostics and errors name the object's own lines.
//!
//! Parity can be fooled (an escape byte, a quote inside an unquoted field), and the check that
//! catches it is exact: a range starts at a record boundary (the first at the object's start,
//! each next one where the previous ended), so it ends inside a quoted field exactly when its
//! cut was wrong, and its parser then says so at its finish (`unterminated_quote`) before any
//! of its rows were handed on. The object is then parsed on from that range's start by one
//! instance, as without splitting, and the ranges after it are dropped. An object without a
//! record boundary in [`GIVE_UP_BYTES`] goes on in one piece the same way.
//!
//! Memory: `parallel` ranges in flight of about [`RANGE_BYTES`] each with their outputs, and
//! the bytes not yet cut.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use tokio::task::JoinHandle;

use super::download::ObjectChunks;
use super::file::{Emit, FileFailure, Input, PUSH, Plain, Step, inflater, push};
use crate::host::{
    InstanceOptions, LoadedPlugin, ParserInstance, ParserOutput, PluginError, PluginHost,
};

/// A range is cut at the first record boundary after this many bytes. (200 MB CSV on 2 cores:
/// see the README's ingest figures.)
pub const RANGE_BYTES: usize = 2 << 20;

/// Bytes without a record boundary after which the rest of an object is parsed in one piece.
pub const GIVE_UP_BYTES: usize = 4 * RANGE_BYTES;

/// The code a parser gives a quoted field still open at the end of its bytes.
const OPEN_QUOTE: &str = "unterminated_quote";

/// How the objects of a step may be cut into ranges that parse on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Splitting {
    /// ferry's `parser-csv`: records end at line breaks outside `quote`s; with `header`, the
    /// first record names the columns and is repeated at the start of every later range.
    Csv { quote: u8, header: bool },
    /// ferry's `parser-ndjson`: every `\n` ends a record (JSON strings cannot hold one).
    Lines,
}

impl Splitting {
    /// How objects may be split for the parser a step names, given its settings (as the
    /// plugin reads them); `None` for a parser whose grammar ferry does not know, including a
    /// plugin the workflow brings under a built-in name (`custom`).
    pub fn for_parser(
        name: &str,
        custom: bool,
        settings: &BTreeMap<String, String>,
    ) -> Option<Splitting> {
        if custom {
            return None;
        }
        match name {
            "parser-ndjson" => return Some(Splitting::Lines),
            "parser-csv" => {}
            _ => return None,
        }
        let quote = match settings.get("quote").map(String::as_bytes) {
            None => b'"',
            Some([quote]) if quote.is_ascii() => *quote,
            // Anything else is the plugin's to refuse; it is parsed in one piece.
            Some(_) => return None,
        };
        let header = match settings.get("header").map(String::as_str) {
            None | Some("true") => true,
            Some("false") => false,
            Some(_) => return None,
        };
        Some(Splitting::Csv { quote, header })
    }
}

/// A piece of an object that starts at a record boundary.
#[derive(Debug)]
pub struct Range {
    pub bytes: Vec<u8>,
    /// The line its first byte is on.
    pub line: u64,
    /// 0 for the range at the object's start (which holds the header itself).
    pub index: usize,
}

/// Cuts an object's bytes, as they come, into [`Range`]s of about `target` bytes that end
/// after a line break outside quotes.
#[derive(Debug)]
pub struct Cutter {
    /// `None`: every `\n` ends a record.
    quote: Option<u8>,
    header: bool,
    target: usize,
    give_up: usize,
    /// Bytes not yet cut; they start at a record boundary (an even number of quotes before).
    pending: Vec<u8>,
    /// `pending[..scanned]` was looked at, and it leaves a quoted field open when `quoted`.
    scanned: usize,
    quoted: bool,
    /// The line of `pending[0]`.
    line: u64,
    /// The object's first record (and any blank lines before it), through its line break.
    prefix: Option<Arc<[u8]>>,
    cuts: usize,
    gave_up: bool,
}

impl Cutter {
    pub fn new(splitting: Splitting, target: usize, give_up: usize) -> Self {
        let (quote, header) = match splitting {
            Splitting::Csv { quote, header } => (Some(quote), header),
            Splitting::Lines => (None, false),
        };
        Cutter {
            quote,
            header,
            target,
            give_up,
            pending: Vec::new(),
            scanned: 0,
            quoted: false,
            line: 1,
            prefix: None,
            cuts: 0,
            gave_up: false,
        }
    }

    /// Takes the object's next bytes; returns the ranges they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Range> {
        self.pending.extend_from_slice(bytes);
        let mut ranges = Vec::new();
        if self.gave_up {
            return ranges;
        }
        while let Some(end) = self.next_cut() {
            ranges.push(self.cut(end));
        }
        self.gave_up = self.pending.len() > self.give_up;
        ranges
    }

    /// No record boundary was found for too long: what is left goes in one piece.
    pub fn gave_up(&self) -> bool {
        self.gave_up
    }

    /// What every range but the first starts with: the header (empty without one).
    pub fn prefix(&self) -> Arc<[u8]> {
        self.prefix.clone().unwrap_or_else(|| Arc::from(&[][..]))
    }

    /// Ranges cut so far.
    pub fn cuts(&self) -> usize {
        self.cuts
    }

    /// The bytes not cut, as the object's last range (possibly empty).
    pub fn rest(&mut self) -> Range {
        let index = self.cuts;
        self.cuts += 1;
        self.scanned = 0;
        Range {
            bytes: std::mem::take(&mut self.pending),
            line: self.line,
            index,
        }
    }

    /// The end of the first record boundary at or after `target` bytes, if there is one yet.
    fn next_cut(&mut self) -> Option<usize> {
        let mut from = self.scanned;
        let quote = self.quote.unwrap_or(b'\n');
        while let Some(i) = memchr::memchr2(quote, b'\n', &self.pending[from..]) {
            let at = from + i;
            from = at + 1;
            if self.pending[at] != b'\n' {
                self.quoted = !self.quoted;
                continue;
            }
            if self.quoted {
                continue;
            }
            if self.header && self.prefix.is_none() {
                // Blank lines before the header end no record (csv-core skips them).
                if self.pending[..at]
                    .iter()
                    .all(|b| matches!(b, b'\r' | b'\n'))
                {
                    continue;
                }
                self.prefix = Some(Arc::from(&self.pending[..=at]));
            }
            if at + 1 >= self.target {
                self.scanned = 0;
                return Some(at + 1);
            }
        }
        self.scanned = self.pending.len();
        None
    }

    fn cut(&mut self, end: usize) -> Range {
        let rest = self.pending[end..].to_vec();
        self.pending.truncate(end);
        let bytes = std::mem::replace(&mut self.pending, rest);
        let line = self.line;
        self.line += match self.quote {
            Some(_) => line_breaks(&bytes),
            // parser-ndjson's lines end at `\n` only.
            None => memchr::memchr_iter(b'\n', &bytes).count() as u64,
        };
        let index = self.cuts;
        self.cuts += 1;
        Range { bytes, line, index }
    }
}

/// Line breaks as parser-csv counts lines: `\n`, `\r\n` and a lone `\r` each end one.
fn line_breaks(bytes: &[u8]) -> u64 {
    let lf = memchr::memchr_iter(b'\n', bytes).count();
    let lone_cr = memchr::memchr_iter(b'\r', bytes)
        .filter(|&i| bytes.get(i + 1) != Some(&b'\n'))
        .count();
    (lf + lone_cr) as u64
}

/// What parsing ranges takes: the plugin, how to instantiate it, how many ranges at once.
pub struct Ranges<'a> {
    pub host: &'a Arc<PluginHost>,
    pub plugin: &'a Arc<LoadedPlugin>,
    pub options: &'a InstanceOptions,
    pub splitting: Splitting,
    pub parallel: usize,
}

/// A range being parsed in a task of its own; dropping it stops the task.
struct InFlight {
    line: u64,
    index: usize,
    bytes: Arc<Vec<u8>>,
    task: JoinHandle<RangeParse>,
}

/// What the parse of a range gave: its outputs up to where it stopped, and why it stopped
/// early, if it did (a file that fails still says how far it got, as in one piece).
struct RangeParse {
    outputs: Vec<ParserOutput>,
    failed: Option<PluginError>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Parses one object as [`super::file::parse`] does, in ranges on `ranges.parallel` instances
/// at once. `parser` parses an object too small to be cut, as it would without splitting.
pub async fn parse(
    key: &str,
    chunks: &mut ObjectChunks,
    parser: &mut ParserInstance,
    input: &Input,
    ranges: &Ranges<'_>,
    emit: &mut impl Emit,
) -> Result<(), FileFailure> {
    let mut plain = Plain::new(key, chunks, inflater(key, input));
    let mut cutter = Cutter::new(ranges.splitting, RANGE_BYTES, GIVE_UP_BYTES);
    let mut split = Split {
        key,
        ranges,
        flight: VecDeque::new(),
        rows_before: 0,
    };
    // Once set, the rest of the object goes to this one instance, in order.
    let mut tail: Option<ParserInstance> = None;
    while let Some(bytes) = plain.next(emit).await? {
        if let Some(t) = tail.as_mut() {
            split.push_tail(t, &bytes, emit).await?;
            continue;
        }
        for range in cutter.push(&bytes) {
            match tail.as_mut() {
                Some(t) => split.push_tail(t, &range.bytes, emit).await?,
                None => tail = split.add(range, &cutter.prefix(), emit).await?,
            }
        }
        if tail.is_none() && cutter.gave_up() {
            tail = split.settle_all(&cutter.prefix(), false, emit).await?;
            if tail.is_none() {
                let rest = cutter.rest();
                let mut t = split
                    .open_tail(rest.line, rest.index, &cutter.prefix())
                    .await?;
                split.push_tail(&mut t, &rest.bytes, emit).await?;
                tail = Some(t);
            }
        }
        if let Some(t) = tail.as_mut() {
            // What was not cut yet follows the ranges just given to the tail.
            let rest = cutter.rest();
            split.push_tail(t, &rest.bytes, emit).await?;
        }
    }
    if tail.is_none() {
        if cutter.cuts() == 0 {
            // One range only: the object's own instance parses it, with nothing to shift.
            let rest = cutter.rest();
            parser.open(key).await?;
            push(&rest.bytes, parser, emit).await?;
            let decoded = parser.finish().await?;
            return emit.emit(Step::Output(decoded)).await;
        }
        let last = cutter.rest();
        tail = split.add(last, &cutter.prefix(), emit).await?;
    }
    if tail.is_none() {
        tail = split.settle_all(&cutter.prefix(), true, emit).await?;
    }
    match tail {
        None => Ok(()),
        Some(mut t) => {
            let decoded = t
                .finish()
                .await
                .map_err(|e| shifted(e.into(), split.rows_before))?;
            split.hand_on_tail(decoded, emit).await
        }
    }
}

/// The ranges of one object in flight, in order, and the rows handed on so far.
struct Split<'a, 'r> {
    key: &'a str,
    ranges: &'a Ranges<'r>,
    flight: VecDeque<InFlight>,
    rows_before: u64,
}

impl Split<'_, '_> {
    /// An instance for a range whose data starts on `line` (told to it unless it is the
    /// first, which starts at the object's start).
    async fn instance(&self, line: u64, index: usize) -> Result<ParserInstance, PluginError> {
        let mut options = self.ranges.options.clone();
        if index > 0 {
            options
                .sandbox
                .settings
                .insert("first_line".into(), line.to_string());
        }
        self.ranges.host.parser(self.ranges.plugin, &options).await
    }

    /// Starts parsing `range` once there is room, handing on the ranges before it as they
    /// end. Returns the tail instead when one of them shows its cut was wrong (with this
    /// range already given to it).
    async fn add(
        &mut self,
        range: Range,
        prefix: &Arc<[u8]>,
        emit: &mut impl Emit,
    ) -> Result<Option<ParserInstance>, FileFailure> {
        while self.flight.len() >= self.ranges.parallel.max(1) {
            if let Some(mut tail) = self.settle_front(prefix, false, emit).await? {
                self.push_tail(&mut tail, &range.bytes, emit).await?;
                return Ok(Some(tail));
            }
        }
        let mut parser = self.instance(range.line, range.index).await?;
        let key = self.key.to_owned();
        let bytes = Arc::new(range.bytes);
        let prefix = (range.index > 0 && !prefix.is_empty()).then(|| prefix.clone());
        let task = tokio::spawn({
            let bytes = bytes.clone();
            async move {
                let mut outputs = Vec::new();
                let parsed = async {
                    parser.open(&key).await?;
                    if let Some(prefix) = prefix {
                        outputs.push(parser.push(&prefix).await?);
                    }
                    for piece in bytes.chunks(PUSH) {
                        outputs.push(parser.push(piece).await?);
                    }
                    outputs.push(parser.finish().await?);
                    Ok::<(), PluginError>(())
                };
                let failed = parsed.await.err();
                RangeParse { outputs, failed }
            }
        });
        self.flight.push_back(InFlight {
            line: range.line,
            index: range.index,
            bytes,
            task,
        });
        Ok(None)
    }

    /// Hands on every range in flight, in order; with `to_the_end`, the last of them is the
    /// object's last.
    async fn settle_all(
        &mut self,
        prefix: &Arc<[u8]>,
        to_the_end: bool,
        emit: &mut impl Emit,
    ) -> Result<Option<ParserInstance>, FileFailure> {
        while !self.flight.is_empty() {
            let is_last = to_the_end && self.flight.len() == 1;
            if let Some(tail) = self.settle_front(prefix, is_last, emit).await? {
                return Ok(Some(tail));
            }
        }
        Ok(None)
    }

    /// Waits for the first range in flight and hands its outputs on. When it ends inside a
    /// quoted field and is not the object's last, its cut was wrong: the ranges after it are
    /// dropped and the object goes on in one piece from its start, on the instance returned.
    async fn settle_front(
        &mut self,
        prefix: &Arc<[u8]>,
        is_last: bool,
        emit: &mut impl Emit,
    ) -> Result<Option<ParserInstance>, FileFailure> {
        let mut front = self.flight.pop_front().expect("a range in flight");
        let RangeParse { outputs, failed } = match (&mut front.task).await {
            Ok(parsed) => parsed,
            // Tasks are aborted only when dropped; one that panicked is told as the file's.
            Err(e) => RangeParse {
                outputs: Vec::new(),
                failed: Some(PluginError::Reported {
                    plugin: self.ranges.plugin.name.clone(),
                    code: "parse_stopped".into(),
                    message: format!("{}: the parse of a range stopped: {e}", self.key),
                    row: None,
                }),
            },
        };
        match failed {
            Some(e) if e.code() == OPEN_QUOTE && !is_last => {
                tracing::debug!(
                    key = self.key,
                    line = front.line,
                    "a range ended inside quotes; parsing on in one piece"
                );
                let mut tail = self.open_tail(front.line, front.index, prefix).await?;
                self.push_tail(&mut tail, &front.bytes, emit).await?;
                for later in std::mem::take(&mut self.flight) {
                    later.task.abort();
                    self.push_tail(&mut tail, &later.bytes, emit).await?;
                }
                Ok(Some(tail))
            }
            failed => {
                let before = self.rows_before;
                self.hand_on(outputs, front.index, emit).await?;
                match failed {
                    None => Ok(None),
                    Some(e) => Err(shifted(e.into(), before)),
                }
            }
        }
    }

    /// An instance that parses the rest of the object from the range that starts on `line`.
    async fn open_tail(
        &self,
        line: u64,
        index: usize,
        prefix: &Arc<[u8]>,
    ) -> Result<ParserInstance, FileFailure> {
        let mut tail = self.instance(line, index).await?;
        tail.open(self.key).await?;
        if index > 0 && !prefix.is_empty() {
            // The header again: no rows, and nothing the first range did not already say.
            tail.push(prefix).await?;
        }
        Ok(tail)
    }

    async fn push_tail(
        &mut self,
        tail: &mut ParserInstance,
        bytes: &[u8],
        emit: &mut impl Emit,
    ) -> Result<(), FileFailure> {
        for piece in bytes.chunks(PUSH) {
            let decoded = tail
                .push(piece)
                .await
                .map_err(|e| shifted(e.into(), self.rows_before))?;
            self.hand_on_tail(decoded, emit).await?;
        }
        Ok(())
    }

    /// Hands a range's outputs on with their rows shifted, and counts the rows it ends at.
    async fn hand_on(
        &mut self,
        outputs: Vec<ParserOutput>,
        index: usize,
        emit: &mut impl Emit,
    ) -> Result<(), FileFailure> {
        let before = self.rows_before;
        let mut last = 0;
        for mut output in outputs {
            last = last.max(last_row(&output));
            shift(&mut output, before, index > 0);
            emit.emit(Step::Output(output)).await?;
        }
        self.rows_before = before + last;
        Ok(())
    }

    /// [`Self::hand_on`] for the tail, whose rows all count from the same offset.
    async fn hand_on_tail(
        &mut self,
        mut output: ParserOutput,
        emit: &mut impl Emit,
    ) -> Result<(), FileFailure> {
        shift(&mut output, self.rows_before, self.rows_before > 0);
        emit.emit(Step::Output(output)).await
    }
}

/// A failure of a range whose rows count from `before`, with its row counted from the
/// object's start.
fn shifted(failure: FileFailure, before: u64) -> FileFailure {
    match failure {
        FileFailure::File(mut info) => {
            info.row = info.row.map(|r| r + before);
            FileFailure::File(info)
        }
        other => other,
    }
}

/// The last row number an output names (every record a parser reads is a row or a
/// diagnostic, so this counts the records up to its end).
fn last_row(output: &ParserOutput) -> u64 {
    let rows = output.batches.iter().filter_map(|b| b.rows.last().copied());
    let diagnosed = output.diagnostics.iter().map(|d| d.row);
    rows.chain(diagnosed).max().unwrap_or(0)
}

/// Rows renumbered from `before`. A later range's header warnings (row 0) were given by the
/// first range already, so they go.
fn shift(output: &mut ParserOutput, before: u64, later: bool) {
    if later {
        output.diagnostics.retain(|d| d.row > 0);
    }
    if before == 0 {
        return;
    }
    for batch in &mut output.batches {
        for row in &mut batch.rows {
            *row += before;
        }
    }
    for d in &mut output.diagnostics {
        d.row += before;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut_all(splitting: Splitting, input: &[u8], target: usize, piece: usize) -> Vec<Range> {
        let mut cutter = Cutter::new(splitting, target, 1 << 20);
        let mut ranges = Vec::new();
        for chunk in input.chunks(piece) {
            ranges.extend(cutter.push(chunk));
        }
        ranges.push(cutter.rest());
        ranges
    }

    const CSV: Splitting = Splitting::Csv {
        quote: b'"',
        header: true,
    };

    #[test]
    fn ranges_end_at_line_breaks_outside_quotes() {
        let input = b"id,note\n1,\"a\nb\"\n2,x\r\n3,\"\"\"\n\"\n4,y\n";
        for piece in [1, 3, 64] {
            let ranges = cut_all(CSV, input, 1, piece);
            let texts: Vec<&[u8]> = ranges.iter().map(|r| &r.bytes[..]).collect();
            assert_eq!(
                texts,
                [
                    &b"id,note\n"[..],
                    b"1,\"a\nb\"\n",
                    b"2,x\r\n",
                    b"3,\"\"\"\n\"\n",
                    b"4,y\n",
                    b""
                ],
                "pieces of {piece}"
            );
            let lines: Vec<u64> = ranges.iter().map(|r| r.line).collect();
            assert_eq!(lines, [1, 2, 4, 5, 7, 8]);
            let indexes: Vec<usize> = ranges.iter().map(|r| r.index).collect();
            assert_eq!(indexes, [0, 1, 2, 3, 4, 5]);
        }
    }

    #[test]
    fn the_prefix_is_the_header_after_blank_lines() {
        let mut cutter = Cutter::new(CSV, 1, 1 << 20);
        let ranges = cutter.push(b"\r\n\n\"a\nb\",c\n1,2\n");
        assert_eq!(&*cutter.prefix(), b"\r\n\n\"a\nb\",c\n");
        assert_eq!(ranges[0].bytes, b"\r\n\n\"a\nb\",c\n");
        assert_eq!(ranges[1].line, 5);
        let headless = Splitting::Csv {
            quote: b'"',
            header: false,
        };
        let mut cutter = Cutter::new(headless, 1, 1 << 20);
        cutter.push(b"1,2\n3,4\n");
        assert!(cutter.prefix().is_empty());
    }

    #[test]
    fn ranges_are_about_the_target_size() {
        let row = b"12345,\"quoted, with a comma\",x\n";
        let input: Vec<u8> = row.iter().copied().cycle().take(row.len() * 1000).collect();
        let ranges = cut_all(CSV, &input, 4096, 1000);
        assert!(ranges.len() > 5, "{} ranges", ranges.len());
        for r in &ranges[..ranges.len() - 1] {
            assert!(r.bytes.len() >= 4096 && r.bytes.len() < 4096 + row.len());
            assert!(r.bytes.ends_with(b"\n"));
        }
        let joined: Vec<u8> = ranges.iter().flat_map(|r| r.bytes.clone()).collect();
        assert_eq!(joined, input, "nothing lost or repeated");
    }

    #[test]
    fn an_unbalanced_quote_gives_up_cutting() {
        let mut cutter = Cutter::new(CSV, 8, 64);
        let mut ranges = cutter.push(b"a,b\n1,\"open\n");
        for _ in 0..10 {
            ranges.extend(cutter.push(b"2,more text\n"));
        }
        assert!(ranges.is_empty(), "no boundary outside quotes");
        assert!(cutter.gave_up());
        assert_eq!(cutter.rest().bytes.len(), 12 + 10 * 12);
    }

    #[test]
    fn only_ferrys_own_csv_parser_is_split() {
        let settings = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(
            Splitting::for_parser("parser-csv", false, &settings(&[])),
            Some(CSV)
        );
        assert_eq!(
            Splitting::for_parser(
                "parser-csv",
                false,
                &settings(&[("quote", "'"), ("header", "false")])
            ),
            Some(Splitting::Csv {
                quote: b'\'',
                header: false
            })
        );
        assert_eq!(
            Splitting::for_parser("parser-csv", true, &settings(&[])),
            None
        );
        assert_eq!(Splitting::for_parser("my-csv", false, &settings(&[])), None);
        assert_eq!(
            Splitting::for_parser("parser-ndjson", false, &settings(&[])),
            Some(Splitting::Lines)
        );
    }

    #[test]
    fn ndjson_is_cut_at_any_line_break_and_counts_only_lf() {
        let input = b"{\"a\":\"x\\\"y\"}\r\n\n{\"a\":1}\r{\"a\":2}\n{\"a\":3}\n";
        let ranges = cut_all(Splitting::Lines, input, 1, 5);
        let texts: Vec<&[u8]> = ranges.iter().map(|r| &r.bytes[..]).collect();
        assert_eq!(
            texts,
            [
                &b"{\"a\":\"x\\\"y\"}\r\n"[..],
                b"\n",
                b"{\"a\":1}\r{\"a\":2}\n",
                b"{\"a\":3}\n",
                b""
            ]
        );
        let lines: Vec<u64> = ranges.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 2, 3, 4, 5]);
    }

    #[test]
    fn line_breaks_count_as_the_parser_counts_lines() {
        assert_eq!(line_breaks(b"a\r\nb\rc\n\n"), 4);
        assert_eq!(line_breaks(b"abc"), 0);
    }
}
